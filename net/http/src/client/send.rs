//! One request across its redirects, and one pass of it: a pooled or new
//! connection, the exchange, one retry on a stale keep-alive connection.

use std::borrow::Cow;

use bytes::Bytes;
#[cfg(feature = "cookies")]
use http::header::COOKIE;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_LENGTH, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::Method;
use url::Url;

use super::connect::key_of;
use super::exchange::COALESCE_BODY;
use super::redirect::{next_hop, Hop, REDIRECT_DRAIN, REDIRECT_DRAIN_TIME};
use super::request::Request;
use super::retry::may_retry;
use super::Inner;
use crate::codec::{self};
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind};
use crate::hooks::{Event, Tracer};
use crate::proxy::{Proxy, Route};
use crate::response::{BodyOptions, Response};
use crate::upload::Body;

/// Rewrites an encoded request head for a forward proxy: the target in
/// absolute form (`GET http://host:port/path HTTP/1.1`), and the proxy's
/// credentials unless the request has its own `Proxy-Authorization`.
fn to_absolute_form(
    head: &mut Vec<u8>,
    method: &Method,
    url: &Url,
    proxy: &Proxy,
    headers: &HeaderMap,
) {
    // The head starts "METHOD /path": the origin goes before the path.
    let at = method.as_str().len() + 1;
    let origin = url.origin().ascii_serialization();
    head.splice(at..at, origin.bytes());
    if let (Some(auth), false) = (
        &proxy.authorization,
        headers.contains_key(PROXY_AUTHORIZATION),
    ) {
        let line_end = head
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head.len(), |i| i + 2);
        let mut field = b"proxy-authorization: ".to_vec();
        field.extend_from_slice(auth.as_bytes());
        field.extend_from_slice(b"\r\n");
        head.splice(line_end..line_end, field);
    }
}

/// What one pass of a request (one hop of its redirects) carries besides
/// the request itself.
#[derive(Clone, Copy)]
struct Pass<'t> {
    /// Whether a compressed body is decoded.
    decompress: bool,
    /// The request's total deadline.
    deadline: Deadline,
    tracer: Tracer<'t>,
}

/// A streamed body and how it is framed.
pub(super) struct Upload {
    pub(super) body: Body,
    /// Sent with `Transfer-Encoding: chunked` (no length was given).
    pub(super) chunked: bool,
    /// The `Content-Length` the request gave, which the body must match.
    pub(super) length: Option<u64>,
}

impl Upload {
    /// Frames `body` by the request's `headers`: its own `Content-Length`,
    /// else chunked (added to `headers`).
    fn new(body: Body, headers: &mut HeaderMap) -> Upload {
        let length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        if length.is_none() && !headers.contains_key(TRANSFER_ENCODING) {
            headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        let chunked = length.is_none();
        Upload {
            body,
            chunked,
            length,
        }
    }
}

impl Inner {
    /// Sends `request`, following redirects.
    pub(super) async fn execute(
        &self,
        request: Request,
        deadline: Deadline,
        tracer: Tracer<'_>,
    ) -> Result<Response, Error> {
        let Request {
            mut method,
            mut url,
            headers,
            mut body,
            stream,
            ..
        } = request;
        let mut headers = self.merged_headers(headers);
        let mut upload = stream.map(|body| Upload::new(body, headers.to_mut()));
        let decompress =
            self.decompress && headers.get(ACCEPT_ENCODING) == self.headers.get(ACCEPT_ENCODING);
        let mut visited: Vec<Url> = Vec::new();
        loop {
            let with_cookies = self.with_cookies(&headers, &url);
            let response = self
                .send_once(
                    &method,
                    &url,
                    with_cookies.as_ref().unwrap_or(&headers),
                    body.as_ref(),
                    upload.as_mut(),
                    Pass {
                        decompress,
                        deadline,
                        tracer,
                    },
                )
                .await
                .map_err(|e| e.at(&url))?;
            tracer.emit(|| Event::ResponseHead {
                url: &url,
                status: response.status(),
            });
            #[cfg(feature = "cookies")]
            if let Some(jar) = &self.jar {
                jar.store_from(response.headers(), &url);
            }
            let status = response.status();
            let hop = next_hop(
                status,
                &method,
                upload.is_some(),
                &url,
                response.headers(),
                &visited,
                self.max_redirects,
            )
            .map_err(|e| e.at(&url))?;
            let Hop::Follow(follow) = hop else {
                return Ok(response);
            };
            log::debug!("{status} redirect from {url} to {}", follow.to);
            tracer.emit(|| Event::Redirect {
                from: &url,
                to: &follow.to,
                status,
            });
            // Boxed: only redirects drain, and the draining future (the
            // response and a timeout) would otherwise be part of every
            // request's future.
            Box::pin(response.discard(REDIRECT_DRAIN, REDIRECT_DRAIN_TIME)).await;
            if follow.as_get {
                method = Method::GET;
                body = None;
                upload = None;
            }
            if follow.as_get || follow.cross_origin {
                let headers = headers.to_mut();
                for name in follow.dropped_fields() {
                    headers.remove(name);
                }
            }
            visited.push(std::mem::replace(&mut url, follow.to));
        }
    }

    /// `headers` and the jar's `Cookie` field for `url`, if the client has a
    /// jar, the request no `Cookie` of its own, and a cookie matches.
    #[cfg(feature = "cookies")]
    fn with_cookies(&self, headers: &HeaderMap, url: &Url) -> Option<HeaderMap> {
        if headers.contains_key(COOKIE) {
            return None;
        }
        let cookie = self.jar.as_ref()?.header_for(url)?;
        let mut headers = headers.clone();
        headers.insert(COOKIE, cookie);
        Some(headers)
    }

    /// No jar without the `cookies` feature: the request's fields as they are.
    #[cfg(not(feature = "cookies"))]
    fn with_cookies(&self, _: &HeaderMap, _: &Url) -> Option<HeaderMap> {
        None
    }

    /// The client's default fields under the request's own: the defaults
    /// themselves, not a copy, for a request with no fields of its own.
    pub(super) fn merged_headers(&self, own: HeaderMap) -> Cow<'_, HeaderMap> {
        if own.is_empty() {
            return Cow::Borrowed(&self.headers);
        }
        let mut headers = self.headers.clone();
        for name in own.keys() {
            headers.remove(name);
            for value in own.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        Cow::Owned(headers)
    }

    /// One request and its response head, with no redirect following.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        mut upload: Option<&mut Upload>,
        pass: Pass<'_>,
    ) -> Result<Response, Error> {
        let Pass {
            decompress,
            deadline,
            tracer,
        } = pass;
        let key = key_of(url)?;
        let mut head = self.encode_head(method, url, headers, body);
        if let Route::Forward(proxy) = self.proxies.route(&key, false) {
            to_absolute_form(&mut head, method, url, proxy, headers);
        }
        let acquire = std::pin::pin!(self.pool.acquire(key.clone()));
        let checkout = match self.pool_timeout {
            None => acquire.await,
            Some(d) => Deadline::after(d, ()).run(acquire).await.map_err(|()| {
                Error::new(
                    ErrorKind::PoolTimeout,
                    format!("no connection free after {d:?}"),
                )
            })?,
        };
        let permit = checkout.permit;
        let reusable = checkout
            .idle
            .and_then(|mut idle| idle.is_alive().then_some(idle));
        let mut conn = match reusable {
            Some(idle) => {
                tracer.emit(|| Event::ConnectionReused { url });
                idle
            }
            None => self.connect_traced(&key, url, tracer).await?,
        };
        loop {
            match self
                .exchange(
                    &mut conn,
                    &head,
                    body,
                    upload.as_deref_mut(),
                    method,
                    deadline,
                )
                .await
            {
                Ok((head_in, decoder, keep_alive)) => {
                    let options = BodyOptions {
                        keep_alive,
                        decompress,
                        read_timeout: self.read_timeout,
                        deadline,
                        max_body_bytes: self.max_body_bytes,
                    };
                    return Ok(Response::new(
                        head_in,
                        url.clone(),
                        conn,
                        permit,
                        decoder,
                        options,
                    ));
                }
                Err(failed)
                    if may_retry(
                        method,
                        conn.is_reused(),
                        upload.is_some(),
                        failed.phase,
                        failed.error.kind(),
                    ) =>
                {
                    log::debug!(
                        "kept-alive connection to {key} failed before a response ({}); retrying on a new one",
                        failed.error
                    );
                    // The same slot, a new connection.
                    conn = self.connect_traced(&key, url, tracer).await?;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    pub(super) fn encode_head(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
    ) -> Vec<u8> {
        let mut headers = Cow::Borrowed(headers);
        let framed =
            headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
        let length = match body {
            Some(body) => Some(body.len()),
            None if matches!(*method, Method::POST | Method::PUT | Method::PATCH) => Some(0),
            None => None,
        };
        if let (false, Some(length)) = (framed, length) {
            headers
                .to_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        let mut out = Vec::with_capacity(256);
        codec::encode_request_head(method, url, &headers, &mut out);
        if let Some(body) = body.filter(|b| b.len() <= COALESCE_BODY) {
            out.extend_from_slice(body);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decompress;
    use crate::Client;
    use http::header::USER_AGENT;

    #[test]
    fn request_headers_replace_defaults_of_the_same_name() {
        let client = Client::builder().user_agent("a/1").build().unwrap();
        let mut own = HeaderMap::new();
        own.append(USER_AGENT, HeaderValue::from_static("b/2"));
        own.append("x-many", HeaderValue::from_static("1"));
        own.append("x-many", HeaderValue::from_static("2"));
        let merged = client.inner.merged_headers(own);
        assert_eq!(merged[USER_AGENT], "b/2");
        assert_eq!(merged.get_all("x-many").iter().count(), 2);
        assert_eq!(merged[ACCEPT_ENCODING], decompress::accept_encoding());
    }

    #[test]
    fn bodies_get_a_content_length() {
        let client = Client::new();
        let url = Url::parse("http://h/p").unwrap();
        let head = client
            .inner
            .encode_head(&Method::POST, &url, &HeaderMap::new(), None);
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.starts_with("POST /p HTTP/1.1\r\nhost: h\r\n"),
            "{text}"
        );
        assert!(text.contains("content-length: 0\r\n"), "{text}");
        let body = Bytes::from_static(b"abc");
        let head = client
            .inner
            .encode_head(&Method::PUT, &url, &HeaderMap::new(), Some(&body));
        assert!(head.ends_with(b"content-length: 3\r\n\r\nabc"));
        let head = client
            .inner
            .encode_head(&Method::GET, &url, &HeaderMap::new(), None);
        assert!(!String::from_utf8(head).unwrap().contains("content-length"));
    }
}
