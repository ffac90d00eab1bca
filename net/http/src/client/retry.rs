//! The rule for sending a request again on a new connection, as a pure
//! function of plain values: [`may_retry`].

use http::Method;

use super::exchange::Phase;
use crate::error::ErrorKind;

/// Whether a request whose exchange failed with an `error` of this kind in
/// `phase` is sent once more, on a new connection: when its `method` is
/// idempotent (RFC 9110, 9.2.2), the connection was a `reused` keep-alive
/// one (which the server may have closed while it was idle), its body was
/// not `streamed` (which cannot be read again), and the connection failed
/// before any byte of a response came, so the server may never have seen
/// the request.
pub(super) fn may_retry(
    method: &Method,
    reused: bool,
    streamed: bool,
    phase: Phase,
    error: ErrorKind,
) -> bool {
    reused && !streamed && is_idempotent(method) && before_response(phase, error)
}

/// Whether a failure of this kind in `phase` is the connection failing
/// (not a timeout or a bad response) before any byte of a response came.
fn before_response(phase: Phase, error: ErrorKind) -> bool {
    let nothing_came = match phase {
        Phase::Writing => true,
        // Part of a streamed body may have been taken in: not retried anyway.
        Phase::Streaming => false,
        Phase::Reading { received } => !received,
    };
    nothing_came && error == ErrorKind::Io
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
    use crate::error::TimeoutKind;

    /// A reused connection that failed before any response byte came.
    const STALE: (Phase, ErrorKind) = (Phase::Reading { received: false }, ErrorKind::Io);

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
        let (phase, error) = STALE;
        for (method, retried) in table {
            assert_eq!(
                may_retry(&method, true, false, phase, error),
                retried,
                "{method}"
            );
        }
    }

    #[test]
    fn only_a_stale_connection_with_a_replayable_body_is_retried() {
        let (phase, error) = STALE;
        // (reused connection, streamed body, retried)
        let table = [
            (true, false, true),
            (false, false, false),
            (true, true, false),
            (false, true, false),
        ];
        for (reused, streamed, retried) in table {
            assert_eq!(
                may_retry(&Method::GET, reused, streamed, phase, error),
                retried,
                "reused={reused} streamed={streamed}"
            );
        }
    }

    #[test]
    fn only_the_connection_failing_before_a_response_is_retried() {
        use ErrorKind as K;
        let reading = Phase::Reading { received: false };
        let received = Phase::Reading { received: true };
        // (how far the exchange got, the error's kind, retried)
        let table = [
            (Phase::Writing, K::Io, true),
            (reading, K::Io, true),
            (received, K::Io, false),
            (Phase::Streaming, K::Io, false),
            (Phase::Writing, K::Timeout(TimeoutKind::Total), false),
            (reading, K::Timeout(TimeoutKind::Read), false),
            (received, K::MalformedResponse, false),
            (reading, K::TooLarge, false),
        ];
        for (phase, error, retried) in table {
            assert_eq!(
                may_retry(&Method::GET, true, false, phase, error),
                retried,
                "{phase:?} {error:?}"
            );
        }
    }
}
