//! [`RequestBuilder`]: a request being built, and `send`.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use serde::Serialize;
use url::Url;

use super::Client;
#[cfg(doc)]
use super::ClientBuilder;
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, TimeoutKind};
use crate::hooks::{Event, Tracer};
#[cfg(feature = "multipart")]
use crate::multipart::Form;
use crate::response::Response;
use crate::upload::Body;

pub(super) struct Request {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<Bytes>,
    /// A body read as it is sent, instead of `body`.
    pub(super) stream: Option<Body>,
    pub(super) timeout: Option<Duration>,
}

/// A request being built; from [`Client::get`] and friends. Nothing is sent
/// until [`send`](RequestBuilder::send); an invalid URL or header is reported
/// there.
///
/// ```
/// use std::time::Duration;
/// use ferrio::http::Client;
/// let request = Client::new()
///     .post("http://127.0.0.1:8080/posts")
///     .query([("draft", "true")])
///     .header("x-request-id", "42")
///     .json(&serde_json::json!({"title": "hello"}))
///     .timeout(Duration::from_secs(5));
/// # drop(request);
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    pub(super) client: Client,
    pub(super) request: Result<Request, Error>,
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<(), Error>) -> RequestBuilder {
        if let Ok(request) = &mut self.request {
            if let Err(e) = f(request) {
                self.request = Err(e);
            }
        }
        self
    }

    /// Adds a header field (replacing the client's default of that name).
    pub fn header<K, V>(self, name: K, value: V) -> RequestBuilder
    where
        K: TryInto<HeaderName>,
        K::Error: std::error::Error + Send + Sync + 'static,
        V: TryInto<HeaderValue>,
        V::Error: std::error::Error + Send + Sync + 'static,
    {
        self.map(|request| {
            let name = name.try_into().map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "invalid header name", e)
            })?;
            let value = value.try_into().map_err(|e| {
                Error::with_source(
                    ErrorKind::InvalidRequest,
                    format!("invalid value for {name}"),
                    e,
                )
            })?;
            request.headers.append(name, value);
            Ok(())
        })
    }

    /// Adds every field of `headers`.
    pub fn headers(self, headers: HeaderMap) -> RequestBuilder {
        self.map(|request| {
            for (name, value) in &headers {
                request.headers.append(name.clone(), value.clone());
            }
            Ok(())
        })
    }

    /// Appends `value` to the URL's query, percent-encoded: anything that
    /// serialises with `serde_urlencoded`, as with reqwest, such as a slice,
    /// array or vector of `(name, value)` pairs, a map, or a struct with
    /// named fields.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// let client = ferrio::http::Client::new();
    /// let url = "http://127.0.0.1:8080/comments";
    /// let request = client.get(url).query(&[("postId", "1")]);
    /// let request = client.get(url).query([("postId", "1")]);
    /// let request = client.get(url).query(&vec![("postId", 1)]);
    /// let request = client.get(url).query(&BTreeMap::from([("postId", 1)]));
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// `value` does not serialise as a query (a bare number or string, a
    /// nested struct, a sequence of other than pairs).
    pub fn query<T: Serialize>(self, value: T) -> RequestBuilder {
        self.map(|request| {
            let mut pairs = request.url.query_pairs_mut();
            let result = value
                .serialize(serde_urlencoded::Serializer::new(&mut pairs))
                .map(|_| ());
            drop(pairs);
            // Nothing to add (an empty list) must leave no bare `?` behind.
            if request.url.query() == Some("") {
                request.url.set_query(None);
            }
            result.map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "serialising the query", e)
            })
        })
    }

    /// The request body.
    pub fn body(self, body: impl Into<Bytes>) -> RequestBuilder {
        self.map(|request| {
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// A body read as it is sent, from a `Stream` or an `AsyncRead` (see
    /// [`Body`]): chunked, unless the request sets a `Content-Length` (then
    /// the body must be exactly that long). It is read once, so the request
    /// is not retried on a stale keep-alive connection, and a 307 or 308
    /// redirect is returned as the response instead of being followed.
    ///
    /// ```
    /// use ferrio::http::{Body, Client};
    /// let file_like = &b"a body that could be gigabytes"[..];
    /// let request = Client::new()
    ///     .put("http://127.0.0.1:8080/upload")
    ///     .body_stream(Body::from_async_read(file_like));
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// the stream fails, or gives other than the `Content-Length` it was
    /// given.
    pub fn body_stream(self, body: Body) -> RequestBuilder {
        self.map(|request| {
            request.body = None;
            request.stream = Some(body);
            Ok(())
        })
    }

    /// `value` as a JSON body, with `Content-Type: application/json` unless
    /// one is set.
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::Json`] if `value` does
    /// not serialise.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        self.map(|request| {
            let body = serde_json::to_vec(value)
                .map_err(|e| Error::with_source(ErrorKind::Json, "serialising the body", e))?;
            if !request.headers.contains_key(CONTENT_TYPE) {
                request
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// Sends `Authorization: Basic` with `user` and `password` (aiohttp's
    /// `BasicAuth`). The field is marked sensitive, and dropped on a redirect
    /// to another host.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .get("http://127.0.0.1:8080/private")
    ///     .basic_auth("alice", Some("s3cret"));
    /// # drop(request);
    /// ```
    pub fn basic_auth(
        self,
        user: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> RequestBuilder {
        use base64::Engine;
        let pair = match password {
            Some(password) => format!("{user}:{password}"),
            None => format!("{user}:"),
        };
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        self.authorization(format!("Basic {token}"))
    }

    /// Sends `Authorization: Bearer <token>`. The field is marked sensitive,
    /// and dropped on a redirect to another host.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .get("http://127.0.0.1:8080/me")
    ///     .bearer_auth("eyJhbGciOi...");
    /// # drop(request);
    /// ```
    pub fn bearer_auth(self, token: impl fmt::Display) -> RequestBuilder {
        self.authorization(format!("Bearer {token}"))
    }

    fn authorization(self, value: String) -> RequestBuilder {
        self.map(|request| {
            let mut value = HeaderValue::from_str(&value).map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "invalid credentials", e)
            })?;
            value.set_sensitive(true);
            request.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// `value` as an `application/x-www-form-urlencoded` body (aiohttp's
    /// `data={...}`), with that `Content-Type` unless one is set. As with
    /// reqwest, `value` is anything that serialises with `serde_urlencoded`:
    /// a slice, array or vector of `(name, value)` pairs, a map, a struct.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .post("http://127.0.0.1:8080/login")
    ///     .form(&[("user", "alice"), ("next", "/home?tab=1")]);
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// `value` does not serialise as a form.
    pub fn form<T: Serialize>(self, value: T) -> RequestBuilder {
        self.map(|request| {
            let body = serde_urlencoded::to_string(value).map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "serialising the form", e)
            })?;
            if !request.headers.contains_key(CONTENT_TYPE) {
                request.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// `form` as a `multipart/form-data` body (aiohttp's `FormData`), with
    /// its `Content-Type` and boundary.
    ///
    /// ```
    /// use ferrio::http::multipart::Form;
    /// let form = Form::new().text("title", "notes").file("upload", "notes.txt", "remember the milk");
    /// let request = ferrio::http::Client::new().post("http://127.0.0.1:8080/upload").multipart(form);
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] for a
    /// part whose content type has control characters.
    ///
    /// Needs the cargo feature `multipart`.
    #[cfg(feature = "multipart")]
    pub fn multipart(self, form: Form) -> RequestBuilder {
        self.map(|request| {
            let (body, content_type) = form.encode()?;
            request.headers.insert(CONTENT_TYPE, content_type);
            request.body = Some(body);
            Ok(())
        })
    }

    /// The whole-request timeout for this request, instead of the client's
    /// [`timeout`](ClientBuilder::timeout).
    pub fn timeout(self, d: Duration) -> RequestBuilder {
        self.map(|request| {
            request.timeout = Some(d);
            Ok(())
        })
    }

    /// Sends the request and waits for the response head (the body is read
    /// from the [`Response`]).
    ///
    /// # Errors
    ///
    /// Any [`ErrorKind`]; a status such as 404 or 500 is a response, not an
    /// error, unless the client was built with
    /// [`raise_for_status`](ClientBuilder::raise_for_status).
    pub async fn send(self) -> Result<Response, Error> {
        let request = self.request?;
        let timeout = request.timeout.or(self.client.inner.timeout);
        let deadline = Deadline::after(timeout, TimeoutKind::Total);
        let url = request.url.clone();
        let inner = &self.client.inner;
        #[cfg(feature = "tracing")]
        let span = crate::hooks::spans::request(&request.method, &url);
        let tracer = Tracer::start(inner.hook.as_ref());
        #[cfg(feature = "tracing")]
        let tracer = tracer.with_span(&span);
        tracer.emit(|| Event::RequestStart {
            method: &request.method,
            url: &url,
        });
        // Pinned where it is made, so that only a pointer to it moves into
        // the deadline's future (the exchange is this request's biggest).
        let exchange = std::pin::pin!(inner.execute(request, deadline, tracer));
        // The request's span is entered while the exchange is polled, so
        // that the connection's span and the events are inside it.
        #[cfg(feature = "tracing")]
        let exchange = tracing::Instrument::instrument(exchange, span.clone());
        let result = deadline
            .run(exchange)
            .await
            .unwrap_or_else(|kind| Err(Error::timeout(kind).at(&url)));
        let result = match result {
            Ok(response) if inner.raise_for_status => response.error_for_status(),
            other => other,
        };
        match &result {
            Ok(response) => tracer.emit(|| Event::RequestEnd {
                url: response.url(),
                status: response.status(),
            }),
            Err(error) => tracer.emit(|| Event::RequestError {
                url: error.url().unwrap_or(&url),
                error,
            }),
        }
        result
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request {
            Ok(r) => f
                .debug_struct("RequestBuilder")
                .field("method", &r.method)
                .field("url", &r.url.as_str())
                .field("headers", &r.headers)
                .finish_non_exhaustive(),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_header_is_reported_at_send() {
        let builder = Client::new().get("http://h/").header("bad name", "v");
        assert!(matches!(&builder.request, Err(e) if e.kind() == ErrorKind::InvalidRequest));
        let builder = Client::new().get("http://h/").header("x", "bad\nvalue");
        assert!(matches!(&builder.request, Err(e) if e.kind() == ErrorKind::InvalidRequest));
    }
}
