//! Request hooks (aiohttp's `TraceConfig`): one callback, set with
//! [`ClientBuilder::on_event`](super::ClientBuilder::on_event), told of each
//! step of every request with the time since the request started.
//!
//! With the `tracing` feature, the same steps also go to `tracing`: a span
//! per request, one per new connection and one per TLS handshake, and an
//! event per step inside them ([`spans`]).
//!
//! Not here: metrics or logging built on the events (that is the callback's
//! business), or events for the body (it is read by the caller, who knows).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use url::Url;

use super::error::Error;

/// One step of a request, as told to the
/// [`on_event`](super::ClientBuilder::on_event) callback.
///
/// In order, a request that follows one redirect and opens one connection
/// sees `RequestStart`, `DnsResolved`, `ConnectionCreated`, `ResponseHead`
/// (the 3xx), `Redirect`, `ConnectionReused` (or `DnsResolved` and
/// `ConnectionCreated` for another host), `ResponseHead`, `RequestEnd`; a
/// request that fails ends with `RequestError` instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// [`send`](super::RequestBuilder::send) was called (aiohttp's
    /// `on_request_start`).
    RequestStart {
        /// The request's method.
        method: &'a Method,
        /// The request's URL.
        url: &'a Url,
    },
    /// A host name was resolved for a new connection (`on_dns_resolvehost_end`).
    DnsResolved {
        /// The name (or address, as text) looked up.
        host: &'a str,
        /// What it resolved to.
        addrs: &'a [SocketAddr],
        /// How long the lookup took.
        took: Duration,
    },
    /// A new connection was opened: TCP, and TLS for HTTPS
    /// (`on_connection_create_end`).
    ConnectionCreated {
        /// The URL it was opened for.
        url: &'a Url,
        /// How long opening it took, DNS included.
        took: Duration,
    },
    /// A pooled keep-alive connection was taken (`on_connection_reuseconn`).
    ConnectionReused {
        /// The URL it is used for.
        url: &'a Url,
    },
    /// A response head arrived (`on_response_chunk_received` for the first bytes).
    ResponseHead {
        /// The URL it answers.
        url: &'a Url,
        /// Its status.
        status: StatusCode,
    },
    /// A redirect is being followed (`on_request_redirect`).
    Redirect {
        /// The URL that answered with the redirect.
        from: &'a Url,
        /// Where it leads.
        to: &'a Url,
        /// The redirect's status.
        status: StatusCode,
    },
    /// `send` is returning a response (`on_request_end`); its body is yet to
    /// be read.
    RequestEnd {
        /// The final URL.
        url: &'a Url,
        /// The final status.
        status: StatusCode,
    },
    /// `send` is returning an error (`on_request_exception`).
    RequestError {
        /// The URL of the request.
        url: &'a Url,
        /// What went wrong.
        error: &'a Error,
    },
}

/// The callback: an event, and the time since the request's `send`.
pub(crate) type Hook = Arc<dyn Fn(&Event<'_>, Duration) + Send + Sync>;

/// One request's view of the hook: the callback, if there is one, and when
/// the request started. Costs nothing but a branch when there is no hook.
#[derive(Clone, Copy)]
pub(crate) struct Tracer<'a> {
    on: Option<(&'a Hook, Instant)>,
    /// The `tracing` feature: the request's span, if a subscriber wants it,
    /// and when the request started.
    #[cfg(feature = "tracing")]
    span: Option<(&'a tracing::Span, Instant)>,
}

impl<'a> Tracer<'a> {
    /// A tracer for a request starting now.
    pub(crate) fn start(hook: Option<&'a Hook>) -> Tracer<'a> {
        Tracer {
            on: hook.map(|hook| (hook, Instant::now())),
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// The same tracer, also telling each step to the request's `span`
    /// ([`spans::request`]) unless no subscriber wants it.
    #[cfg(feature = "tracing")]
    pub(crate) fn with_span(self, span: &'a tracing::Span) -> Tracer<'a> {
        Tracer {
            span: (!span.is_disabled()).then(|| (span, Instant::now())),
            ..self
        }
    }

    /// Whether anyone listens (to skip measuring for no one).
    pub(crate) fn is_on(&self) -> bool {
        #[cfg(feature = "tracing")]
        if self.span.is_some() {
            return true;
        }
        self.on.is_some()
    }

    /// Tells the hook of the event `make` builds (only built if there is one).
    pub(crate) fn emit<'e>(&self, make: impl FnOnce() -> Event<'e>) {
        #[cfg(feature = "tracing")]
        if let Some((span, started)) = self.span {
            let event = make();
            spans::record(span, &event, started.elapsed());
            if let Some((hook, started)) = self.on {
                hook(&event, started.elapsed());
            }
            return;
        }
        if let Some((hook, started)) = self.on {
            hook(&make(), started.elapsed());
        }
    }
}

/// The `tracing` feature's spans and events, all with the target
/// `ferrio::http` and OpenTelemetry's field names where it has one; times are
/// whole microseconds, `elapsed_us` since `send` as the hook's `Duration`:
///
/// - `http.request` (info): one `send`, until it returns the response head
///   or an error (the body is read after it, as for the hook). Fields
///   `http.request.method`, `url.full`; recorded at the end
///   `http.response.status_code` (the final one), `time.head_us` (the last
///   response head), `time.total_us`, and `error` if it failed. Inside it, a
///   debug event per [`Event`] (`request start`, `connection reused`,
///   `connection created`, `response head`, `redirect`, `request end`,
///   `request error`) with `elapsed_us` and the event's own fields.
/// - `http.connect` (debug): opening a connection, DNS, TCP, a proxy tunnel
///   and TLS under the connect timeout. Fields `server.address`,
///   `server.port`, `url.scheme`; recorded `time.dns_us`,
///   `network.peer.address` (the address TCP connected to),
///   `time.connect_us`, and `error` if it failed. The `dns resolved` event
///   is inside it.
/// - `tls.handshake` (debug), inside `http.connect` for https: field
///   `server.address`; recorded `tls.protocol.version`.
#[cfg(feature = "tracing")]
pub(crate) mod spans {
    use std::fmt::Display;
    use std::time::Duration;

    use http::Method;
    use tracing::field::{display, Empty};
    use tracing::Span;
    use url::Url;

    use super::Event;
    use crate::pool::Key;

    /// A request's span, made when `send` is called.
    pub(crate) fn request(method: &Method, url: &Url) -> Span {
        tracing::info_span!(
            target: "ferrio::http",
            "http.request",
            http.request.method = %method,
            url.full = %url,
            http.response.status_code = Empty,
            time.head_us = Empty,
            time.total_us = Empty,
            error = Empty,
        )
    }

    /// The span of opening a connection for `key`.
    pub(crate) fn connect(key: &Key) -> Span {
        tracing::debug_span!(
            target: "ferrio::http",
            "http.connect",
            server.address = %key.host,
            server.port = key.port,
            url.scheme = if key.https { "https" } else { "http" },
            network.peer.address = Empty,
            time.dns_us = Empty,
            time.connect_us = Empty,
            error = Empty,
        )
    }

    /// The span of a TLS handshake with `host`.
    pub(crate) fn tls(host: &dyn Display) -> Span {
        tracing::debug_span!(
            target: "ferrio::http",
            "tls.handshake",
            server.address = %host,
            tls.protocol.version = Empty,
        )
    }

    /// Whole microseconds, for a field.
    pub(crate) fn micros(d: Duration) -> u64 {
        u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
    }

    /// Tells `event` to the request's `span`: fields recorded on it (or, for
    /// the DNS lookup, on the connection's span, current while it runs) and
    /// a debug event inside it.
    pub(crate) fn record(span: &Span, event: &Event<'_>, elapsed: Duration) {
        let elapsed_us = micros(elapsed);
        match *event {
            Event::RequestStart { .. } => {
                tracing::debug!(target: "ferrio::http", parent: span, elapsed_us, "request start");
            }
            Event::DnsResolved { host, addrs, took } => {
                // Inside `http.connect`, which is current while it connects.
                Span::current().record("time.dns_us", micros(took));
                tracing::debug!(
                    target: "ferrio::http",
                    elapsed_us,
                    host,
                    addrs = ?addrs,
                    took_us = micros(took),
                    "dns resolved"
                );
            }
            Event::ConnectionCreated { url, took } => {
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    url.full = %url,
                    took_us = micros(took),
                    "connection created"
                );
            }
            Event::ConnectionReused { url } => {
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    url.full = %url,
                    "connection reused"
                );
            }
            Event::ResponseHead { url, status } => {
                span.record("time.head_us", elapsed_us);
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    url.full = %url,
                    http.response.status_code = status.as_u16(),
                    "response head"
                );
            }
            Event::Redirect { from, to, status } => {
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    from = %from,
                    to = %to,
                    http.response.status_code = status.as_u16(),
                    "redirect"
                );
            }
            Event::RequestEnd { url, status } => {
                span.record("http.response.status_code", status.as_u16());
                span.record("time.total_us", elapsed_us);
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    url.full = %url,
                    http.response.status_code = status.as_u16(),
                    "request end"
                );
            }
            Event::RequestError { url, error } => {
                span.record("error", display(error));
                span.record("time.total_us", elapsed_us);
                tracing::debug!(
                    target: "ferrio::http",
                    parent: span,
                    elapsed_us,
                    url.full = %url,
                    error = %error,
                    "request error"
                );
            }
        }
    }
}

impl fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer").field("on", &self.is_on()).finish()
    }
}
