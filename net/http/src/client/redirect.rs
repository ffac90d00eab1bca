//! The rules of redirects.

use std::time::Duration;

use http::header::HeaderValue;
use http::StatusCode;
use url::Url;

use super::connect::key_of;
use crate::error::{Error, ErrorKind};

/// The most of a redirect response's body read (and dropped) to keep its
/// connection; a longer one closes the connection instead.
pub(super) const REDIRECT_DRAIN: usize = 64 * 1024;
/// How long that reading may take.
pub(super) const REDIRECT_DRAIN_TIME: Duration = Duration::from_secs(1);

/// Where a redirect from `url` with `location` goes: `location` resolved
/// against `url` (RFC 9110, 10.2.2), which must be an `http` or `https` URL
/// with a host.
pub(crate) fn redirect_target(url: &Url, location: &HeaderValue) -> Result<Url, Error> {
    location
        .to_str()
        .ok()
        .and_then(|l| url.join(l).ok())
        .filter(|next| key_of(next).is_ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Redirect,
                format!("invalid Location {location:?}"),
            )
        })
}

pub(super) fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}
