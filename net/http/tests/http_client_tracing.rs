//! The `tracing` feature through the facade, as a user of tracing-subscriber
//! sees it: a layer that records every span (name, fields as created and as
//! recorded later, parent, how often it was entered) and every event, and
//! checks the spans of a task, of HTTP GETs to a loopback server (plain and
//! HTTPS) and of a GET that fails.
//!
//! The layer is the process's global subscriber, installed once: a task of a
//! runtime of several workers (FERRIO_WORKERS=2) is polled on other threads,
//! which a thread-local subscriber would not see. The tests of this file run
//! at once, so each looks only at its own spans (its task's name, its URL).

mod http_client_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use ferrio::http::server::{self, ServerRequest, ServerResponse};
use ferrio::http::{Certificate, Client, ErrorKind};
use http_client_support::run;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span as the layer saw it.
#[derive(Debug, Clone)]
struct SpanSeen {
    name: &'static str,
    target: String,
    fields: BTreeMap<&'static str, String>,
    /// Index of the parent span in `Seen::spans`.
    parent: Option<usize>,
    enters: usize,
    closed: bool,
}

/// An event as the layer saw it.
#[derive(Debug, Clone)]
struct EventSeen {
    fields: BTreeMap<&'static str, String>,
    /// Index of the span it happened in.
    span: Option<usize>,
}

#[derive(Default)]
struct Seen {
    spans: Vec<SpanSeen>,
    events: Vec<EventSeen>,
    /// Live span ids to their index (the registry reuses the ids of closed
    /// spans).
    live: HashMap<Id, usize>,
}

/// Field values as text: `%` and `?` values as they format, strings bare.
struct Fields<'a>(&'a mut BTreeMap<&'static str, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }
}

struct Recorder(Arc<Mutex<Seen>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .and_then(|parent| seen.live.get(&parent.id()).copied());
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let index = seen.spans.len();
        seen.spans.push(SpanSeen {
            name: attrs.metadata().name(),
            target: attrs.metadata().target().to_owned(),
            fields,
            parent,
            enters: 0,
            closed: false,
        });
        seen.live.insert(id.clone(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let index = seen.live[id];
        values.record(&mut Fields(&mut seen.spans[index].fields));
    }

    fn on_enter(&self, id: &Id, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let index = seen.live[id];
        seen.spans[index].enters += 1;
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        let span = ctx
            .event_span(event)
            .and_then(|span| seen.live.get(&span.id()).copied());
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        seen.events.push(EventSeen { fields, span });
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(index) = seen.live.remove(&id) {
            seen.spans[index].closed = true;
        }
    }
}

/// The global recorder, installed by the first test that asks.
fn recorder() -> &'static Arc<Mutex<Seen>> {
    static SEEN: OnceLock<Arc<Mutex<Seen>>> = OnceLock::new();
    SEEN.get_or_init(|| {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let subscriber = tracing_subscriber::registry().with(Recorder(seen.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        seen
    })
}

/// A copy of what was seen so far.
fn snapshot() -> (Vec<SpanSeen>, Vec<EventSeen>) {
    let seen = recorder().lock().unwrap();
    (seen.spans.clone(), seen.events.clone())
}

/// The indexes of the spans named `name` whose field `field` is `value`.
fn find(spans: &[SpanSeen], name: &str, field: &str, value: &str) -> Vec<usize> {
    (0..spans.len())
        .filter(|&i| {
            spans[i].name == name && spans[i].fields.get(field).map(String::as_str) == Some(value)
        })
        .collect()
}

/// The messages of the events inside span `index`, in order.
fn messages_in(events: &[EventSeen], index: usize) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.span == Some(index))
        .map(|e| e.fields["message"].clone())
        .collect()
}

fn field(span: &SpanSeen, name: &str) -> u64 {
    span.fields
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}: {span:?}", span.name))
        .parse()
        .unwrap_or_else(|_| panic!("{name} of {} is not a number: {span:?}", span.name))
}

#[test]
fn a_task_has_a_span_with_its_name_id_and_spawn_site_entered_on_each_poll() {
    recorder();
    let (id, spawned_at) = run(async {
        // A span of the caller's: the task's span is made inside it.
        let outer = tracing::info_span!("caller", test = "task span");
        let builder = ferrio::task::Builder::new().name("traced worker");
        let task = outer.in_scope(|| builder.spawn(worker()));
        let spawned_at = line!() - 1;
        let id = task.id();
        // Woken by the worker finishing after its three yields.
        assert_eq!(task.await.unwrap(), 7);
        (id, spawned_at)
    });
    async fn worker() -> u32 {
        for _ in 0..3 {
            ferrio::yield_now().await;
        }
        tracing::info!(inside = true, "worker done");
        7
    }

    let (spans, events) = snapshot();
    let found = find(&spans, "task", "task.name", "traced worker");
    assert_eq!(found.len(), 1, "one span for the task: {spans:#?}");
    let task = &spans[found[0]];
    assert_eq!(task.target, "ferrio::task");
    assert_eq!(field(task, "task.id"), id);
    assert!(
        task.fields["code.filepath"].ends_with("http_client_tracing.rs"),
        "{task:?}"
    );
    assert_eq!(field(task, "code.lineno"), u64::from(spawned_at));
    assert!(task.fields.contains_key("code.column"), "{task:?}");
    // Three polls that yielded, one that finished.
    assert_eq!(task.enters, 4, "{task:?}");
    let parent = &spans[task.parent.expect("the caller's span is its parent")];
    assert_eq!(parent.fields["test"], "task span");
    // What the task logged is inside its span.
    assert_eq!(messages_in(&events, found[0]), ["worker done"]);
}

#[test]
fn an_http_get_has_a_request_span_with_a_connect_span_and_the_hooks_timings() {
    recorder();
    async fn hello(_: ServerRequest) -> ServerResponse {
        ServerResponse::new(b"hello".to_vec())
    }
    let (url, addr) = run(async {
        let server = server::bind("127.0.0.1:0").await.unwrap().spawn(hello);
        let addr = server.local_addr();
        let url = format!("http://{addr}/traced?n=1");
        let client = Client::new();
        for _ in 0..2 {
            // The second GET reuses the first one's kept-alive connection.
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.text().await.unwrap(), "hello");
        }
        server.shutdown().await;
        (url, addr)
    });

    let (spans, events) = snapshot();
    let requests = find(&spans, "http.request", "url.full", &url);
    assert_eq!(requests.len(), 2, "two request spans: {spans:#?}");
    for &r in &requests {
        let request = &spans[r];
        assert_eq!(request.target, "ferrio::http");
        assert_eq!(request.fields["http.request.method"], "GET");
        assert_eq!(field(request, "http.response.status_code"), 200);
        let (head, total) = (
            field(request, "time.head_us"),
            field(request, "time.total_us"),
        );
        assert!(head <= total, "the head before the end: {request:?}");
        assert!(!request.fields.contains_key("error"), "{request:?}");
        assert!(request.closed, "closed when send returned: {request:?}");
    }

    // The first request opened the connection: its span is inside it.
    let connects: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].name == "http.connect" && spans[i].parent == Some(requests[0]))
        .collect();
    assert_eq!(connects.len(), 1, "{spans:#?}");
    let connect = &spans[connects[0]];
    assert_eq!(connect.fields["server.address"], "127.0.0.1");
    assert_eq!(field(connect, "server.port"), u64::from(addr.port()));
    assert_eq!(connect.fields["url.scheme"], "http");
    assert_eq!(connect.fields["network.peer.address"], addr.to_string());
    assert!(field(connect, "time.dns_us") <= field(connect, "time.connect_us"));
    assert!(field(connect, "time.connect_us") <= field(&spans[requests[0]], "time.total_us"));
    assert!(connect.enters >= 1);
    assert_eq!(messages_in(&events, connects[0]), ["dns resolved"]);

    // The hook's steps, as events inside each request's span.
    assert_eq!(
        messages_in(&events, requests[0]),
        [
            "request start",
            "connection created",
            "response head",
            "request end"
        ]
    );
    assert_eq!(
        messages_in(&events, requests[1]),
        [
            "request start",
            "connection reused",
            "response head",
            "request end"
        ]
    );
    assert!(
        !spans
            .iter()
            .any(|s| s.name == "http.connect" && s.parent == Some(requests[1])),
        "no new connection for the second GET"
    );
    let end = events
        .iter()
        .find(|e| e.span == Some(requests[1]) && e.fields["message"] == "request end")
        .unwrap();
    assert_eq!(end.fields["http.response.status_code"], "200");
    assert!(
        end.fields["elapsed_us"].parse::<u64>().unwrap()
            <= field(&spans[requests[1]], "time.total_us")
    );
}

#[test]
fn a_refused_get_records_its_error_on_the_request_and_connect_spans() {
    recorder();
    let url = run(async {
        // A port nobody listens on: bound, then closed.
        let port = ferrio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/refused");
        let err = Client::new().get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect);
        url
    });

    let (spans, events) = snapshot();
    let requests = find(&spans, "http.request", "url.full", &url);
    assert_eq!(requests.len(), 1, "{spans:#?}");
    let request = &spans[requests[0]];
    assert!(request.fields["error"].contains("refused"), "{request:?}");
    assert!(!request.fields.contains_key("http.response.status_code"));
    field(request, "time.total_us");
    let connect = spans
        .iter()
        .find(|s| s.name == "http.connect" && s.parent == Some(requests[0]))
        .expect("a connect span");
    assert!(connect.fields["error"].contains("refused"), "{connect:?}");
    assert!(
        !connect.fields.contains_key("time.connect_us"),
        "{connect:?}"
    );
    assert_eq!(
        messages_in(&events, requests[0]),
        ["request start", "request error"]
    );
}

#[test]
fn an_https_get_has_a_tls_handshake_span_inside_its_connect_span() {
    recorder();
    let url = run(async {
        let pki = tls_support::pki(&["localhost"]);
        let server = tls_support::https_server(&pki, None, "secret").await;
        let url = server.url("localhost", "/tls");
        let ca = Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
        let client = Client::builder().add_root_certificate(ca).build().unwrap();
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(body.starts_with("secret"), "{body}");
        url
    });

    let (spans, _) = snapshot();
    let requests = find(&spans, "http.request", "url.full", &url);
    assert_eq!(requests.len(), 1, "{spans:#?}");
    let connect = (0..spans.len())
        .find(|&i| spans[i].name == "http.connect" && spans[i].parent == Some(requests[0]))
        .expect("a connect span");
    assert_eq!(spans[connect].fields["url.scheme"], "https");
    assert_eq!(spans[connect].fields["server.address"], "localhost");
    let tls = spans
        .iter()
        .find(|s| s.name == "tls.handshake" && s.parent == Some(connect))
        .expect("a handshake span inside the connect span");
    assert_eq!(tls.fields["server.address"], "localhost");
    assert!(
        tls.fields["tls.protocol.version"].starts_with("TLSv1_"),
        "{tls:?}"
    );
    assert_eq!(field(&spans[requests[0]], "http.response.status_code"), 200);
}
