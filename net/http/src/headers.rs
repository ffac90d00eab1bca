//! Header semantics both sides of HTTP/1.1 agree on: the one `Content-Length`
//! and the `Connection` tokens that decide keep-alive (RFC 9110, RFC 9112).
//! Shared by the client's response parser and the server's request parser.
//!
//! Not here: parsing header bytes (httparse does that) or body framing.

use http::header::{CONNECTION, CONTENT_LENGTH};
use http::{HeaderMap, Version};

/// Why the `Content-Length` fields cannot give one length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentLengthError {
    /// Not a list of decimal digits.
    Invalid,
    /// Several values that disagree.
    Conflicting,
    /// More than `u64::MAX`.
    TooLarge,
}

/// The one `Content-Length`, which may be repeated (in several fields or a
/// comma list) only with the same value; `None` without the header.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ContentLengthError> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let part = part.trim_ascii();
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(ContentLengthError::Invalid);
            }
            let n = part.iter().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            });
            let n = n.ok_or(ContentLengthError::TooLarge)?;
            if length.is_some_and(|l| l != n) {
                return Err(ContentLengthError::Conflicting);
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// Whether `headers` list `token` in `Connection` (case-insensitively).
pub(crate) fn has_connection_token(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// HTTP/1.1 keeps a connection open unless told `close`; HTTP/1.0 closes it
/// unless told `keep-alive`.
pub(crate) fn keep_alive(version: Version, headers: &HeaderMap) -> bool {
    if has_connection_token(headers, "close") {
        return false;
    }
    version == Version::HTTP_11 || has_connection_token(headers, "keep-alive")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn content_length_is_one_number_repeated_only_with_the_same_value() {
        let cl = |values: &[&str]| {
            let pairs: Vec<_> = values.iter().map(|v| ("content-length", *v)).collect();
            content_length(&headers(&pairs))
        };
        assert_eq!(cl(&[]), Ok(None));
        assert_eq!(cl(&["42"]), Ok(Some(42)));
        assert_eq!(cl(&["42, 42", "42"]), Ok(Some(42)));
        assert_eq!(cl(&["42", "43"]), Err(ContentLengthError::Conflicting));
        assert_eq!(cl(&["-1"]), Err(ContentLengthError::Invalid));
        assert_eq!(cl(&["4 2"]), Err(ContentLengthError::Invalid));
        assert_eq!(cl(&["0x10"]), Err(ContentLengthError::Invalid));
        assert_eq!(cl(&["42,"]), Err(ContentLengthError::Invalid));
        assert_eq!(cl(&["18446744073709551615"]), Ok(Some(u64::MAX)));
        assert_eq!(
            cl(&["18446744073709551616"]),
            Err(ContentLengthError::TooLarge)
        );
        assert_eq!(
            cl(&["99999999999999999999999"]),
            Err(ContentLengthError::TooLarge)
        );
    }

    #[test]
    fn keep_alive_follows_the_version_and_the_connection_tokens() {
        let h = |v: &str| headers(&[("connection", v)]);
        assert!(keep_alive(Version::HTTP_11, &HeaderMap::new()));
        assert!(!keep_alive(Version::HTTP_11, &h("Upgrade, Close")));
        assert!(!keep_alive(Version::HTTP_10, &HeaderMap::new()));
        assert!(keep_alive(Version::HTTP_10, &h("keep-alive")));
        assert!(!keep_alive(Version::HTTP_10, &h("keep-alive, close")));
    }
}
