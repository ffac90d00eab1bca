//! Request hooks (aiohttp's `TraceConfig`): one callback, set with
//! [`ClientBuilder::on_event`](super::ClientBuilder::on_event), told of each
//! step of every request with the time since the request started.
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
}

impl<'a> Tracer<'a> {
    /// A tracer for a request starting now.
    pub(crate) fn start(hook: Option<&'a Hook>) -> Tracer<'a> {
        Tracer {
            on: hook.map(|hook| (hook, Instant::now())),
        }
    }

    /// Whether anyone listens (to skip measuring for no one).
    pub(crate) fn is_on(&self) -> bool {
        self.on.is_some()
    }

    /// Tells the hook of the event `make` builds (only built if there is one).
    pub(crate) fn emit<'e>(&self, make: impl FnOnce() -> Event<'e>) {
        if let Some((hook, started)) = self.on {
            hook(&make(), started.elapsed());
        }
    }
}

impl fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer").field("on", &self.is_on()).finish()
    }
}
