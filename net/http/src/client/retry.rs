//! The rule for sending a request again on a new connection, as a pure
//! function of plain values: [`may_retry`].

use http::Method;

/// Whether a request whose exchange failed is sent once more, on a new
/// connection: when its `method` is idempotent (RFC 9110, 9.2.2), the
/// connection was a `reused` keep-alive one (which the server may have
/// closed while it was idle), its body was not `streamed` (which cannot be
/// read again), and the connection failed `before_response`: before any
/// byte of a response came, so the server may never have seen the request.
pub(super) fn may_retry(
    method: &Method,
    reused: bool,
    streamed: bool,
    before_response: bool,
) -> bool {
    before_response && reused && !streamed && is_idempotent(method)
}

/// Methods that can be sent twice with the effect of once (RFC 9110, 9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idempotent_methods_are_sent_twice() {
        let patch = Method::from_bytes(b"PATCH").unwrap();
        let custom = Method::from_bytes(b"PURGE").unwrap();
        // (method, retried after a reused connection failed before a response)
        let table = [
            (Method::GET, true),
            (Method::HEAD, true),
            (Method::PUT, true),
            (Method::DELETE, true),
            (Method::OPTIONS, true),
            (Method::TRACE, true),
            (Method::POST, false),
            (Method::CONNECT, false),
            (patch, false),
            (custom, false),
        ];
        for (method, retried) in table {
            assert_eq!(may_retry(&method, true, false, true), retried, "{method}");
        }
    }

    #[test]
    fn only_a_stale_connection_before_a_response_is_retried() {
        // (reused connection, streamed body, failed before a response, retried)
        let table = [
            (true, false, true, true),
            (false, false, true, false),
            (true, true, true, false),
            (true, false, false, false),
            (false, true, false, false),
        ];
        for (reused, streamed, before_response, retried) in table {
            assert_eq!(
                may_retry(&Method::GET, reused, streamed, before_response),
                retried,
                "reused={reused} streamed={streamed} before_response={before_response}"
            );
        }
    }
}
