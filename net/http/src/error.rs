//! The one error type of the HTTP client: what went wrong ([`ErrorKind`]), for
//! which URL, and the underlying cause.
//!
//! Not here: the wire parser's own error ([`super::codec::ProtoError`]), which
//! becomes an [`Error`] with the URL of the request it broke.

use std::fmt;
use std::io;

use http::StatusCode;
use url::Url;

/// Which timeout fired; see [`ErrorKind::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// [`connect_timeout`](super::ClientBuilder::connect_timeout): DNS, TCP
    /// connect and TLS handshake of one new connection.
    Connect,
    /// [`read_timeout`](super::ClientBuilder::read_timeout): one read from the
    /// server took too long.
    Read,
    /// [`timeout`](super::ClientBuilder::timeout) (or
    /// [`RequestBuilder::timeout`](super::RequestBuilder::timeout)): the whole
    /// request, body included.
    Total,
}

/// Why a TLS handshake refused the server; see [`Error::tls_failure`].
///
/// The certificate cases are told apart because they call for different
/// fixes: an unknown issuer wants the CA added
/// ([`add_root_certificate`](super::ClientBuilder::add_root_certificate)), a
/// wrong name the right URL, an expired certificate a renewal on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's chain does not lead to a trusted root (a private CA the
    /// client was not given, a self-signed certificate).
    UnknownIssuer,
    /// The certificate is valid, but not for the host name of the URL.
    WrongName,
    /// The certificate's `notAfter` has passed.
    Expired,
    /// The certificate's `notBefore` has not come yet.
    NotYetValid,
    /// The certificate has been revoked.
    Revoked,
    /// Anything else: a bad signature, an unsupported algorithm, no protocol
    /// version or cipher in common, an alert from the server (such as one
    /// asking for a client certificate).
    Other,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFailure::UnknownIssuer => "certificate from an unknown issuer",
            TlsFailure::WrongName => "certificate for another name",
            TlsFailure::Expired => "certificate expired",
            TlsFailure::NotYetValid => "certificate not valid yet",
            TlsFailure::Revoked => "certificate revoked",
            TlsFailure::Other => "handshake failed",
        })
    }
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL could not be parsed, or is not `http`/`https` with a host.
    InvalidUrl,
    /// The request could not be built: an invalid header name or value, or a
    /// body that failed to serialise.
    InvalidRequest,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection could be made to any address of the host.
    Connect,
    /// TLS failed: the handshake (certificate not trusted, wrong name,
    /// expired, ...; [`Error::tls_failure`] says which), or a certificate or
    /// key given to the builder did not parse.
    Tls,
    /// A timeout fired; which one says which limit was hit.
    Timeout(TimeoutKind),
    /// No connection became free within
    /// [`pool_timeout`](super::ClientBuilder::pool_timeout).
    PoolTimeout,
    /// The connection failed while the request was under way (reset, closed
    /// early, broken pipe).
    Io,
    /// The server's response broke HTTP/1.1: bad status line, bad header,
    /// bad chunk size, a body shorter than its `Content-Length`, ...
    MalformedResponse,
    /// The response head was over
    /// [`max_header_bytes`](super::ClientBuilder::max_header_bytes) or its body
    /// over [`max_body_bytes`](super::ClientBuilder::max_body_bytes).
    TooLarge,
    /// A redirect loop, too many redirects, or a redirect without a usable
    /// `Location`.
    Redirect,
    /// The body could not be decoded: invalid gzip, text that is not valid in
    /// its charset, an unknown charset.
    BodyDecode,
    /// JSON that did not (de)serialise.
    Json,
    /// The server answered with a 4xx or 5xx status, and the caller asked for
    /// that to be an error ([`Response::error_for_status`](super::Response::error_for_status)
    /// or [`ClientBuilder::raise_for_status`](super::ClientBuilder::raise_for_status)).
    /// [`Error::status`] has the code.
    Status,
    /// A WebSocket failed: the server refused the upgrade (then
    /// [`Error::status`] has its status), or broke the protocol (a bad frame,
    /// text that is not UTF-8, a message on a closed socket).
    WebSocket,
    /// The proxy refused a `CONNECT` tunnel (then [`Error::status`] has its
    /// status, such as 407 or 403) or did not answer in HTTP.
    Proxy,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::InvalidUrl => "invalid URL",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Dns => "DNS lookup failed",
            ErrorKind::Connect => "connect failed",
            ErrorKind::Tls => "TLS handshake failed",
            ErrorKind::Timeout(TimeoutKind::Connect) => "connect timed out",
            ErrorKind::Timeout(TimeoutKind::Read) => "read timed out",
            ErrorKind::Timeout(TimeoutKind::Total) => "request timed out",
            ErrorKind::PoolTimeout => "timed out waiting for a free connection",
            ErrorKind::Io => "connection error",
            ErrorKind::MalformedResponse => "malformed response",
            ErrorKind::TooLarge => "response too large",
            ErrorKind::Redirect => "redirect error",
            ErrorKind::BodyDecode => "body decode error",
            ErrorKind::Json => "JSON error",
            ErrorKind::Status => "error status",
            ErrorKind::WebSocket => "WebSocket error",
            ErrorKind::Proxy => "proxy error",
        })
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An HTTP client error: its [`kind`](Error::kind), the [`url`](Error::url)
/// of the request, a message, and the underlying [`source`](std::error::Error::source).
///
/// ```
/// use ferrio::http::{Client, ErrorKind};
/// ferrio::run(async {
///     let err = Client::new().get("not a url").send().await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::InvalidUrl);
///     assert!(err.to_string().starts_with("invalid URL"));
/// });
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    url: Option<Url>,
    message: String,
    source: Option<Source>,
    /// The response's status, for [`ErrorKind::Status`].
    status: Option<StatusCode>,
    /// Why the handshake failed, for a handshake's [`ErrorKind::Tls`].
    tls: Option<TlsFailure>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                url: None,
                message: message.into(),
                source: None,
                status: None,
                tls: None,
            }),
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Error {
        let mut err = Error::new(kind, message);
        err.inner.source = Some(source.into());
        err
    }

    pub(crate) fn timeout(which: TimeoutKind) -> Error {
        Error::new(ErrorKind::Timeout(which), "")
    }

    /// A 4xx or 5xx `status` turned into an error.
    pub(crate) fn status_code(status: StatusCode) -> Error {
        Error::new(ErrorKind::Status, status.to_string()).with_status(status)
    }

    /// Records the status of the response that made this error.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Error {
        self.inner.status = Some(status);
        self
    }

    /// A failed TLS handshake, and why.
    pub(crate) fn tls_handshake(
        failure: TlsFailure,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Error {
        let mut err = Error::with_source(ErrorKind::Tls, message, source);
        err.inner.tls = Some(failure);
        err
    }

    /// An I/O failure on an established connection.
    pub(crate) fn io(err: io::Error) -> Error {
        Error::with_source(ErrorKind::Io, "", err)
    }

    /// Sets the URL if none is set yet (the innermost context wins).
    pub(crate) fn at(mut self, url: &Url) -> Error {
        if self.inner.url.is_none() {
            self.inner.url = Some(url.clone());
        }
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The URL of the request that failed (after redirects, the one being
    /// fetched when it failed), if the error came from a request.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// The status code of an [`ErrorKind::Status`] error (or of a refused
    /// WebSocket upgrade).
    ///
    /// ```
    /// use ferrio::http::{Client, ErrorKind, StatusCode};
    /// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = listener.local_addr().unwrap();
    ///     # ferrio::spawn(async move {
    ///     #     let (mut s, _) = listener.accept().await.unwrap();
    ///     #     let mut buf = [0; 1024];
    ///     #     let _ = s.read(&mut buf).await;
    ///     #     s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await.unwrap();
    ///     # });
    ///     let client = Client::builder().raise_for_status(true).build().unwrap();
    ///     let err = client.get(format!("http://{addr}/missing")).send().await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Status);
    ///     assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    ///     assert_eq!(err.url().unwrap().path(), "/missing");
    /// });
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// Why the TLS handshake failed, for an [`ErrorKind::Tls`] error from a
    /// handshake; `None` for any other error (and for a certificate or key
    /// the builder could not parse).
    ///
    /// ```no_run
    /// use ferrio::http::{Client, ErrorKind, TlsFailure};
    /// ferrio::run(async {
    ///     let err = Client::new().get("https://expired.badssl.com/").send().await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Tls);
    ///     assert_eq!(err.tls_failure(), Some(TlsFailure::Expired));
    /// });
    /// ```
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        self.inner.tls
    }

    /// Whether any timeout (connect, read, total or pool) fired.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Timeout(_) | ErrorKind::PoolTimeout
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.kind)?;
        if let Some(url) = &self.inner.url {
            write!(f, " for {url}")?;
        }
        if !self.inner.message.is_empty() {
            write!(f, ": {}", self.inner.message)?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(url) = &self.inner.url {
            d.field("url", &url.as_str());
        }
        if !self.inner.message.is_empty() {
            d.field("message", &self.inner.message);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match err.kind() {
            ErrorKind::Timeout(_) | ErrorKind::PoolTimeout => io::ErrorKind::TimedOut,
            ErrorKind::Connect => io::ErrorKind::ConnectionRefused,
            ErrorKind::MalformedResponse | ErrorKind::BodyDecode | ErrorKind::Json => {
                io::ErrorKind::InvalidData
            }
            ErrorKind::InvalidUrl | ErrorKind::InvalidRequest => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_url_message_and_source() {
        let url = Url::parse("http://example.com/a").unwrap();
        let err = Error::with_source(
            ErrorKind::Io,
            "while reading the head",
            io::Error::new(io::ErrorKind::ConnectionReset, "reset"),
        )
        .at(&url);
        assert_eq!(
            err.to_string(),
            "connection error for http://example.com/a: while reading the head: reset"
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn the_first_url_set_is_kept() {
        let a = Url::parse("http://a.example/").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        let err = Error::timeout(TimeoutKind::Read).at(&a).at(&b);
        assert_eq!(err.url(), Some(&a));
        assert!(err.is_timeout());
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read));
    }

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
