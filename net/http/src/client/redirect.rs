//! The rules of redirects, as a pure function of plain values: [`next_hop`]
//! says whether a response is the answer or sends the request on, and with
//! which method, body and header fields. `send.rs` does what it says.

use std::time::Duration;

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    LOCATION, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::{Method, StatusCode};
use url::Url;

use super::connect::key_of;
use crate::error::{Error, ErrorKind};

/// The most of a redirect response's body read (and dropped) to keep its
/// connection; a longer one closes the connection instead.
pub(super) const REDIRECT_DRAIN: usize = 64 * 1024;
/// How long that reading may take.
pub(super) const REDIRECT_DRAIN_TIME: Duration = Duration::from_secs(1);

/// The fields that describe a body, dropped with it when a redirect turns
/// the request into a GET.
const BODY_FIELDS: &[HeaderName] = &[CONTENT_TYPE, CONTENT_LENGTH, TRANSFER_ENCODING];

/// The credentials, which stay behind when a redirect leaves the origin
/// (scheme, host and port).
const CREDENTIAL_FIELDS: &[HeaderName] = &[AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE];

/// What a response means for the request that got it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Hop {
    /// The response is the answer: returned as it is.
    Answer,
    /// The request goes on, to another URL.
    Follow(Follow),
}

/// The next request of a redirect.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Follow {
    /// Where it goes.
    pub(super) to: Url,
    /// It becomes a GET without a body (303, or 301 and 302 after POST:
    /// RFC 9110, 15.4).
    pub(super) as_get: bool,
    /// It leaves the origin: the credentials are not sent on.
    pub(super) cross_origin: bool,
}

impl Follow {
    /// The request's header fields that the next request does not carry.
    pub(super) fn dropped_fields(&self) -> impl Iterator<Item = &'static HeaderName> {
        let body: &[HeaderName] = if self.as_get { BODY_FIELDS } else { &[] };
        let credentials: &[HeaderName] = if self.cross_origin {
            CREDENTIAL_FIELDS
        } else {
            &[]
        };
        body.iter().chain(credentials)
    }
}

/// What a response with `status` and `headers` to `method` at `from` means:
/// the answer, or a redirect to follow.
///
/// A 301, 302, 303, 307 or 308 with a `Location` is followed, unless
/// `max_redirects` is 0, or it is a 307 or 308 (which keep the method and
/// body) of a `streamed` body, which was spent on the first request.
/// `visited` holds the URLs requested before `from`.
///
/// # Errors
///
/// [`ErrorKind::Redirect`] for a `Location` that is not an `http` or `https`
/// URL, a redirect back to a URL already requested, or more than
/// `max_redirects` redirects.
#[inline]
pub(super) fn next_hop(
    status: StatusCode,
    method: &Method,
    streamed: bool,
    from: &Url,
    headers: &HeaderMap,
    visited: &[Url],
    max_redirects: usize,
) -> Result<Hop, Error> {
    if max_redirects == 0 || !is_redirect(status) {
        return Ok(Hop::Answer);
    }
    redirect_hop(
        status,
        method,
        streamed,
        from,
        headers,
        visited,
        max_redirects,
    )
}

/// [`next_hop`] for a redirect status: out of line, so that the answer most
/// responses are costs the request path two comparisons, not a call.
#[inline(never)]
fn redirect_hop(
    status: StatusCode,
    method: &Method,
    streamed: bool,
    from: &Url,
    headers: &HeaderMap,
    visited: &[Url],
    max_redirects: usize,
) -> Result<Hop, Error> {
    let keeps_method = matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    );
    if streamed && keeps_method {
        // The streamed body is spent: it cannot go to the new URL.
        return Ok(Hop::Answer);
    }
    let Some(location) = headers.get(LOCATION) else {
        return Ok(Hop::Answer);
    };
    let to = redirect_target(from, location)?;
    if *from == to || visited.contains(&to) {
        return Err(Error::new(
            ErrorKind::Redirect,
            format!("redirect loop back to {to}"),
        ));
    }
    if visited.len() + 1 > max_redirects {
        return Err(Error::new(
            ErrorKind::Redirect,
            format!("more than {max_redirects} redirects"),
        ));
    }
    let as_get = status == StatusCode::SEE_OTHER && *method != Method::HEAD
        || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
            && *method == Method::POST;
    let cross_origin = key_of(from).ok() != key_of(&to).ok();
    Ok(Hop::Follow(Follow {
        to,
        as_get,
        cross_origin,
    }))
}

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

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn located(location: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        headers
    }

    /// `next_hop` from `http://a.test/p` with no hops before and 10 allowed.
    fn hop(status: u16, method: &Method, streamed: bool, location: Option<&str>) -> Hop {
        let headers = location.map(located).unwrap_or_default();
        next_hop(
            StatusCode::from_u16(status).unwrap(),
            method,
            streamed,
            &url("http://a.test/p"),
            &headers,
            &[],
            10,
        )
        .unwrap()
    }

    #[test]
    fn which_responses_are_followed() {
        let (get, post) = (&Method::GET, &Method::POST);
        // (status, method, streamed body, Location, followed)
        let table = [
            (200, get, false, Some("/q"), false),
            (204, get, false, None, false),
            (300, get, false, Some("/q"), false),
            (304, get, false, Some("/q"), false),
            (305, get, false, Some("/q"), false),
            (404, get, false, Some("/q"), false),
            (301, get, false, None, false),
            (301, get, false, Some("/q"), true),
            (302, get, false, Some("/q"), true),
            (303, get, false, Some("/q"), true),
            (307, get, false, Some("/q"), true),
            (308, get, false, Some("/q"), true),
            // A streamed body cannot be sent again: 307 and 308 would need it.
            (307, post, true, Some("/q"), false),
            (308, post, true, Some("/q"), false),
            // 301, 302 and 303 after POST drop the body, so it is not needed.
            (301, post, true, Some("/q"), true),
            (303, post, true, Some("/q"), true),
        ];
        for (status, method, streamed, location, followed) in table {
            let got = hop(status, method, streamed, location);
            assert_eq!(
                matches!(got, Hop::Follow(_)),
                followed,
                "{status} {method} streamed={streamed} {location:?}: {got:?}"
            );
        }
    }

    #[test]
    fn which_redirects_become_get() {
        use Method as M;
        // (status, method, becomes a GET without a body)
        let table = [
            (301, M::GET, false),
            (301, M::POST, true),
            (301, M::PUT, false),
            (302, M::POST, true),
            (302, M::DELETE, false),
            (303, M::GET, true),
            (303, M::POST, true),
            (303, M::PUT, true),
            (303, M::HEAD, false),
            (307, M::POST, false),
            (308, M::PUT, false),
        ];
        for (status, method, as_get) in table {
            let Hop::Follow(follow) = hop(status, &method, false, Some("/q")) else {
                panic!("{status} {method} not followed");
            };
            assert_eq!(follow.as_get, as_get, "{status} {method}");
            let dropped: Vec<_> = follow.dropped_fields().collect();
            assert_eq!(
                dropped.contains(&&CONTENT_TYPE),
                as_get,
                "{status} {method}"
            );
            assert_eq!(
                dropped.contains(&&CONTENT_LENGTH),
                as_get,
                "{status} {method}"
            );
            assert_eq!(
                dropped.contains(&&TRANSFER_ENCODING),
                as_get,
                "{status} {method}"
            );
        }
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        // (Location from http://a.test/p, where it goes, leaves the origin)
        let table = [
            ("/q", "http://a.test/q", false),
            ("q?x=1", "http://a.test/q?x=1", false),
            ("http://A.TEST:80/r", "http://a.test/r", false),
            ("http://a.test:8080/p", "http://a.test:8080/p", true),
            ("https://a.test/p", "https://a.test/p", true),
            ("http://b.test/p", "http://b.test/p", true),
            ("//sub.a.test/p", "http://sub.a.test/p", true),
        ];
        for (location, to, cross_origin) in table {
            let Hop::Follow(follow) = hop(302, &Method::GET, false, Some(location)) else {
                panic!("{location} not followed");
            };
            assert_eq!(follow.to.as_str(), to, "{location}");
            assert_eq!(follow.cross_origin, cross_origin, "{location}");
            let dropped: Vec<_> = follow.dropped_fields().collect();
            for name in [&AUTHORIZATION, &PROXY_AUTHORIZATION, &COOKIE] {
                assert_eq!(dropped.contains(&name), cross_origin, "{location}: {name}");
            }
            assert!(!dropped.contains(&&CONTENT_TYPE), "{location}");
        }
    }

    #[test]
    fn bad_locations_loops_and_too_many_hops_are_errors() {
        let from = url("http://a.test/p");
        let before = [url("http://a.test/0"), url("http://a.test/1")];
        // (Location, URLs requested before, most redirects, an error)
        let table: [(&str, &[Url], usize, bool); 9] = [
            ("ftp://a.test/f", &[], 10, true),
            ("file:///etc/passwd", &[], 10, true),
            ("http://", &[], 10, true),
            ("/p", &[], 10, true),
            ("/0", &before, 10, true),
            ("/2", &before, 10, false),
            ("/2", &before, 3, false),
            ("/2", &before, 2, true),
            ("/2", &[], 1, false),
        ];
        for (location, visited, max, error) in table {
            let got = next_hop(
                StatusCode::FOUND,
                &Method::GET,
                false,
                &from,
                &located(location),
                visited,
                max,
            );
            match got {
                Err(e) => {
                    assert!(error, "{location} {max}: {e}");
                    assert_eq!(e.kind(), ErrorKind::Redirect);
                }
                Ok(hop) => assert!(!error, "{location} {max}: {hop:?}"),
            }
        }
        // max_redirects 0: every response is the answer, and nothing fails.
        let got = next_hop(
            StatusCode::FOUND,
            &Method::GET,
            false,
            &from,
            &located("ftp://x"),
            &[],
            0,
        );
        assert_eq!(got.unwrap(), Hop::Answer);
    }
}
