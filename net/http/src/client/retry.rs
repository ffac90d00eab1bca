//! The rule for sending a request again on a new connection.

use http::Method;

/// Methods that can be sent twice with the effect of once (RFC 9110, 9.2.2).
pub(super) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}
