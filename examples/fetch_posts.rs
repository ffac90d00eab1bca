//! Seed 004, ported: fetch jsonplaceholder posts one at a time with blocking
//! sockets (urllib's way), then all at once with ferrio's HTTP client limited
//! to 10 connections (aiohttp's `TCPConnector(limit=10)` and
//! `asyncio.gather`), and compare the wall times.
//!
//! ```text
//! $ cargo run --release --example fetch_posts
//! $ cargo run --release --example fetch_posts -- --local --posts 100 --limit 10
//! ```
//!
//! Options: `--posts N` (default 10), `--limit M` (connections at once in the
//! async run, default 10), `--base-url URL` (default
//! https://jsonplaceholder.typicode.com), `--local` (the embedded
//! jsonplaceholder, on 127.0.0.1), `--latency-ms MS` (the embedded server's
//! per-request latency, default 100, like a real network), `--trace PATH`
//! (write a Chrome trace-event file of the run to PATH, for
//! https://ui.perfetto.dev: both halves then run on the traced runtime, the
//! synchronous one as a single poll that blocks the loop; see
//! docs/observability.md).
//!
//! When the default host cannot be reached (no DNS or no route within a few
//! seconds), it says so in one line and uses the embedded server instead, so
//! the command works on any machine, online or not.
//!
//! Both runs print what the seed prints ("Fetching post i, " and
//! "Fetched post i, " on one line, then "Finished in Xs"); then come the
//! titles, the speedup, and a timeline with one bar per request on a shared
//! time axis, where the async requests overlap.
//!
//! The logic is in [`run`], which `tests/fetch_posts.rs` includes with
//! `#[path]` and calls with `--local`: the test runs this very code, with no
//! binary to build or find.

// This file is also a module of tests/fetch_posts.rs (through `#[path]`), which
// reads the `pub` items and fields that this binary does not.
#![allow(unreachable_pub)]

use std::cell::RefCell;
use std::error::Error;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use ferrio::http::Client;
use ferrio_testkit::jsonplaceholder;

/// The real site, as the seed uses it.
pub const DEFAULT_BASE_URL: &str = "https://jsonplaceholder.typicode.com";

/// How long the reachability check of the default host may take (DNS, then
/// a TCP connect) before the embedded server is used instead.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connect, read and write timeouts of the synchronous requests.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10);

/// Columns of the timeline's time axis.
const TIMELINE_WIDTH: usize = 60;

const USAGE: &str =
    "usage: fetch_posts [--posts N] [--limit M] [--base-url URL] [--local] [--latency-ms MS] [--trace PATH]";

type BoxError = Box<dyn Error + Send + Sync>;

/// What to fetch, from where, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Posts 1..=posts are fetched (the seed's `POSTS`).
    pub posts: u64,
    /// Connections the async client may open at once (`MAX_CONNECTIONS`).
    pub limit: usize,
    /// Where to fetch from (`/posts/{i}` is appended).
    pub base_url: String,
    /// Use the embedded jsonplaceholder instead of `base_url`.
    pub local: bool,
    /// Use the embedded jsonplaceholder if `base_url` cannot be reached.
    pub fallback: bool,
    /// The embedded server's latency per request.
    pub latency: Duration,
    /// Write a Chrome trace-event file of the run here.
    pub trace: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            posts: 10,
            limit: 10,
            base_url: DEFAULT_BASE_URL.to_owned(),
            local: false,
            fallback: true,
            latency: jsonplaceholder::DEFAULT_LATENCY,
            trace: None,
        }
    }
}

impl Options {
    /// Parses the command line (without the program name). Falling back to
    /// the embedded server is on only while the base URL is the default one.
    ///
    /// # Errors
    ///
    /// A message ending in the usage text: for `-h` or `--help` (the usage
    /// alone), an unknown argument, a flag without its value, a number or URL
    /// that does not parse, or a `--posts` or `--limit` of 0.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Options, String> {
        let mut args = pico_args::Arguments::from_vec(args.into_iter().map(Into::into).collect());
        let usage = |e: &dyn std::fmt::Display| format!("{e}\n{USAGE}");
        // pico-args' errors, in the words the usage text uses.
        let flag_error = |flag: &str, e: pico_args::Error| match e {
            pico_args::Error::OptionWithoutAValue(_) => usage(&format!("{flag} needs a value")),
            pico_args::Error::Utf8ArgumentParsingFailed { value, .. } => {
                usage(&format!("{flag}: not a number: {value:?}"))
            }
            other => usage(&format!("{flag}: {other}")),
        };
        if args.contains(["-h", "--help"]) {
            return Err(USAGE.to_owned());
        }
        let mut options = Options::default();
        let mut number = |flag: &'static str| -> Result<Option<u64>, String> {
            args.opt_value_from_str(flag)
                .map_err(|e| flag_error(flag, e))
        };
        options.posts = number("--posts")?.unwrap_or(options.posts);
        if let Some(limit) = number("--limit")? {
            options.limit = usize::try_from(limit).unwrap_or(usize::MAX);
        }
        if let Some(ms) = number("--latency-ms")? {
            options.latency = Duration::from_millis(ms);
        }
        let base_url: Option<url::Url> = args
            .opt_value_from_str("--base-url")
            .map_err(|e| usage(&e))?;
        if let Some(url) = base_url {
            options.base_url = url.as_str().trim_end_matches('/').to_owned();
            options.fallback = false;
        }
        options.local = args.contains("--local");
        options.trace = args
            .opt_value_from_str("--trace")
            .map_err(|e| flag_error("--trace", e))?;
        if let Some(extra) = args.finish().first() {
            return Err(usage(&format!("unknown argument {extra:?}")));
        }
        if options.posts == 0 || options.limit == 0 {
            return Err(usage(&"--posts and --limit must be at least 1"));
        }
        Ok(options)
    }
}

/// One post, as much of it as the example shows.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Post {
    /// The post's id (1 to 100).
    pub id: u64,
    /// Its title.
    pub title: String,
}

/// When one request started and ended, from the start of its run.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// The post fetched.
    pub post: u64,
    /// When its request started.
    pub start: Duration,
    /// When its body was read.
    pub end: Duration,
}

/// One run: its wall time, its requests' spans (in the order they finished)
/// and the posts (in post order).
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run's wall time.
    pub elapsed: Duration,
    /// Each request's span, in the order they finished.
    pub spans: Vec<Span>,
    /// The posts, in post order.
    pub posts: Vec<Post>,
}

/// Both runs, and where they fetched from.
#[derive(Debug, Clone)]
pub struct Report {
    /// The base URL that was fetched from in the end.
    pub base_url: String,
    /// The embedded server was used because the base URL was unreachable.
    pub fell_back: bool,
    /// The one-at-a-time run.
    pub sync: RunReport,
    /// The concurrent run, through the connection limit.
    pub concurrent: RunReport,
    /// The most connections the embedded server saw open at once during the
    /// async run (`None` against a remote host).
    pub max_open_connections: Option<usize>,
}

impl Report {
    /// How many times faster the async run was.
    pub fn speedup(&self) -> f64 {
        self.sync.elapsed.as_secs_f64() / self.concurrent.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs both versions as `options` say, printing to `out` as it goes.
///
/// # Errors
///
/// When the base URL cannot be reached and falling back is off; when the
/// embedded server or the runtime cannot be started; when a request fails
/// (no connection, a timeout, a status that is not a success) or its body is
/// not a post in JSON; when writing to `out` fails.
///
/// # Panics
///
/// If called from within a ferrio runtime: it runs its own.
#[track_caller]
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Report, BoxError> {
    let mut embedded = None;
    let mut fell_back = false;
    let base_url = if options.local {
        let server = Embedded::start(options.latency)?;
        writeln!(
            out,
            "Using the embedded jsonplaceholder at {} ({} ms latency per request)",
            server.base_url,
            options.latency.as_millis()
        )?;
        embedded.insert(server).base_url.clone()
    } else {
        match probe(&options.base_url) {
            Ok(()) => options.base_url.clone(),
            Err(why) if options.fallback => {
                let server = Embedded::start(options.latency)?;
                writeln!(
                    out,
                    "Cannot reach {} ({why}); using the embedded jsonplaceholder at {} instead ({} ms latency per request).",
                    options.base_url,
                    server.base_url,
                    options.latency.as_millis()
                )?;
                fell_back = true;
                embedded.insert(server).base_url.clone()
            }
            Err(why) => return Err(format!("cannot reach {}: {why}", options.base_url).into()),
        }
    };

    let mut runtime = ferrio::Runtime::builder();
    if let Some(path) = &options.trace {
        runtime = runtime.trace(path);
    }
    let mut runtime = runtime.build()?;

    writeln!(
        out,
        "\nSynchronous: one request at a time, blocking std::net sockets"
    )?;
    let sync = if options.trace.is_some() {
        // In the trace: one poll of the main future that holds the loop for
        // the whole run, which is what blocking calls in async code do.
        runtime.block_on(async { fetch_all_sync(&base_url, options.posts, out) })?
    } else {
        fetch_all_sync(&base_url, options.posts, out)?
    };

    writeln!(
        out,
        "\nAsynchronous: ferrio::http::Client with limit({}) and ferrio::gather",
        options.limit
    )?;
    if let Some(server) = &embedded {
        // The server may not have seen the last synchronous connection close
        // yet; counted, it would make the async run look one over its limit.
        let patience = Instant::now() + Duration::from_secs(2);
        while server.api.open_connections() > 0 && Instant::now() < patience {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.api.reset_max_open_connections();
    }
    let concurrent = runtime.block_on(fetch_all_async(
        &base_url,
        options.posts,
        options.limit,
        out,
    ))?;
    // Dropping the runtime writes the trace.
    drop(runtime);
    if let Some(path) = &options.trace {
        writeln!(out, "Trace written to {}", path.display())?;
    }
    let max_open_connections = embedded.as_ref().map(|s| s.api.max_open_connections());

    let report = Report {
        base_url,
        fell_back,
        sync,
        concurrent,
        max_open_connections,
    };
    print_summary(&report, options, out)?;
    Ok(report)
}

// ---- The synchronous version: urllib.request.urlopen, one at a time --------

fn fetch_all_sync(base_url: &str, posts: u64, out: &mut dyn Write) -> Result<RunReport, BoxError> {
    let target = Target::parse(base_url)?;
    let tls = target.https.then(tls_config);
    let start = Instant::now();
    let mut spans = Vec::new();
    let mut fetched = Vec::new();
    for post in 1..=posts {
        write!(out, "Fetching post {post}, ")?;
        out.flush()?;
        let began = start.elapsed();
        let body = get_blocking(&target, &format!("/posts/{post}"), tls.as_ref())?;
        let parsed: Post =
            serde_json::from_slice(&body).map_err(|e| format!("post {post}: {e}"))?;
        spans.push(Span {
            post,
            start: began,
            end: start.elapsed(),
        });
        fetched.push(parsed);
        write!(out, "Fetched post {post}, ")?;
        out.flush()?;
    }
    let elapsed = start.elapsed();
    writeln!(out, "\nFinished in {}s", elapsed.as_secs_f64())?;
    Ok(RunReport {
        elapsed,
        spans,
        posts: fetched,
    })
}

/// The scheme, host, port and path prefix of a base URL.
struct Target {
    https: bool,
    host: String,
    port: u16,
    prefix: String,
}

impl Target {
    fn parse(base_url: &str) -> Result<Target, BoxError> {
        let url = url::Url::parse(base_url).map_err(|e| format!("{base_url}: {e}"))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => {
                return Err(
                    format!("{base_url}: only http:// and https:// URLs are supported").into(),
                )
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(format!("{base_url}: no host").into()),
        };
        Ok(Target {
            https,
            host,
            port: url
                .port_or_known_default()
                .unwrap_or(if https { 443 } else { 80 }),
            prefix: url.path().trim_end_matches('/').to_owned(),
        })
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // rustls 0.23.48 deprecates ring's provider (no post-quantum key
    // exchange); ring stays, as aws-lc-rs would add a C and CMake build.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// One blocking GET, as urllib does it: a new connection, the request, the
/// whole response until the server closes. HTTP/1.0, so the body is never
/// chunked; the status must be 200.
fn get_blocking(
    target: &Target,
    path: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Vec<u8>, BoxError> {
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{}: no address", target.host))?;
    let tcp = TcpStream::connect_timeout(&addr, SYNC_TIMEOUT)?;
    tcp.set_read_timeout(Some(SYNC_TIMEOUT))?;
    tcp.set_write_timeout(Some(SYNC_TIMEOUT))?;
    let request = format!(
        "GET {}{path} HTTP/1.0\r\nHost: {}\r\nUser-Agent: ferrio-fetch-posts\r\nAccept: application/json\r\n\r\n",
        target.prefix, target.host
    );
    let mut response = Vec::new();
    match tls {
        None => {
            let mut tcp = tcp;
            tcp.write_all(request.as_bytes())?;
            tcp.read_to_end(&mut response)?;
        }
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())?;
            let conn = rustls::ClientConnection::new(config.clone(), name)?;
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            tls.write_all(request.as_bytes())?;
            match tls.read_to_end(&mut response) {
                // Servers that close without a TLS close_notify: the body is
                // checked against Content-Length below.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
                other => drop(other?),
            }
        }
    }

    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(&response)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Err(format!("GET {path}: truncated response").into()),
    };
    if parsed.code != Some(200) {
        return Err(format!("GET {path}: status {:?}", parsed.code).into());
    }
    let length = parsed
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        });
    let mut body = response.split_off(head_len);
    if let Some(length) = length {
        if body.len() < length {
            return Err(format!("GET {path}: body shorter than its Content-Length").into());
        }
        body.truncate(length);
    }
    Ok(body)
}

// ---- The asynchronous version: aiohttp with TCPConnector(limit) and gather ----

async fn fetch_all_async(
    base_url: &str,
    posts: u64,
    limit: usize,
    out: &mut dyn Write,
) -> Result<RunReport, BoxError> {
    let client = Client::builder().limit(limit).build()?;
    let start = Instant::now();
    let spans = Rc::new(RefCell::new(Vec::new()));
    // Progress lines travel from the tasks to this future, which prints them.
    let progress = ferrio::sync::Queue::<Option<String>>::new();
    let fetches: Vec<_> = (1..=posts)
        .map(|post| {
            let (client, spans, progress) = (client.clone(), spans.clone(), progress.clone());
            let url = format!("{base_url}/posts/{post}");
            // One named task per request, as `create_task(..., name=)` would.
            ferrio::task::Builder::new()
                .name(format!("fetch post {post}"))
                .spawn_local(async move {
                    let _ = progress.put_nowait(Some(format!("Fetching post {post}, ")));
                    let began = start.elapsed();
                    let response = client.get(url).send().await?;
                    if !response.status().is_success() {
                        return Err(
                            format!("GET /posts/{post}: status {}", response.status()).into()
                        );
                    }
                    let fetched: Post = response.json().await?;
                    spans.borrow_mut().push(Span {
                        post,
                        start: began,
                        end: start.elapsed(),
                    });
                    let _ = progress.put_nowait(Some(format!("Fetched post {post}, ")));
                    Ok::<_, BoxError>(fetched)
                })
        })
        .collect();
    let out = RefCell::new(out);
    let (results, ()) = {
        let all_fetched = async {
            let results = ferrio::gather(fetches).await;
            let _ = progress.put_nowait(None);
            results
        };
        let printer = async {
            while let Ok(Some(text)) = progress.get().await {
                print_now(&out, format_args!("{text}"));
            }
        };
        ferrio::join!(all_fetched, printer)
    };
    let elapsed = start.elapsed();
    let out = out.into_inner();
    writeln!(out, "\nFinished in {}s", elapsed.as_secs_f64())?;
    let mut posts = Vec::with_capacity(results.len());
    for result in results {
        posts.push(result.map_err(|e| format!("a fetch task failed: {e}"))??);
    }
    let spans = Rc::try_unwrap(spans).map_or_else(|rc| rc.borrow().clone(), RefCell::into_inner);
    Ok(RunReport {
        elapsed,
        spans,
        posts,
    })
}

/// Prints without a newline and flushes, so progress shows as it happens.
fn print_now(out: &RefCell<&mut dyn Write>, text: std::fmt::Arguments<'_>) {
    let mut out = out.borrow_mut();
    // Progress output is best effort: a closed stdout must not fail a fetch.
    let _ = out.write_fmt(text).and_then(|()| out.flush());
}

// ---- The summary: titles, speedup, timeline ---------------------------------

fn print_summary(report: &Report, options: &Options, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nTitles:")?;
    for post in &report.concurrent.posts {
        writeln!(out, "  {:>3}  {}", post.id, post.title)?;
    }
    if report.sync.posts != report.concurrent.posts {
        writeln!(out, "  (the two runs fetched different posts!)")?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "Synchronous:  {:>8.3} s",
        report.sync.elapsed.as_secs_f64()
    )?;
    writeln!(
        out,
        "Asynchronous: {:>8.3} s  (limit {})",
        report.concurrent.elapsed.as_secs_f64(),
        options.limit
    )?;
    writeln!(out, "Speedup:      {:>8.1}x", report.speedup())?;
    if let Some(max) = report.max_open_connections {
        writeln!(
            out,
            "The server saw at most {max} connection(s) open at once during the async run."
        )?;
    }

    let axis = report.sync.elapsed.max(report.concurrent.elapsed);
    writeln!(
        out,
        "\nTimeline: one bar per request, {TIMELINE_WIDTH} columns = {:.3} s ({:.1} ms per column)",
        axis.as_secs_f64(),
        axis.as_secs_f64() * 1000.0 / TIMELINE_WIDTH as f64
    )?;
    for (name, run) in [("sync ", &report.sync), ("async", &report.concurrent)] {
        let mut spans = run.spans.clone();
        spans.sort_by_key(|s| s.post);
        for span in spans {
            writeln!(
                out,
                "{name} post {:>3} |{}| {:>6.3} -> {:.3} s",
                span.post,
                bar(span, axis),
                span.start.as_secs_f64(),
                span.end.as_secs_f64()
            )?;
        }
    }
    Ok(())
}

/// A span drawn on a `TIMELINE_WIDTH`-column axis of `axis` seconds: at least
/// one column, so even the shortest request shows.
fn bar(span: Span, axis: Duration) -> String {
    let col = |t: Duration| t.as_secs_f64() / axis.as_secs_f64().max(1e-9) * TIMELINE_WIDTH as f64;
    // Rounded, so that back-to-back requests get back-to-back bars.
    let first = (col(span.start).round() as usize).min(TIMELINE_WIDTH - 1);
    let last = (col(span.end).round() as usize).clamp(first + 1, TIMELINE_WIDTH);
    let mut line = String::with_capacity(TIMELINE_WIDTH * 3);
    for i in 0..TIMELINE_WIDTH {
        line.push(if (first..last).contains(&i) {
            '█'
        } else {
            '·'
        });
    }
    line
}

// ---- Where to fetch from ----------------------------------------------------

/// Checks that the base URL's host resolves and accepts a TCP connection
/// within `PROBE_TIMEOUT`; says why not otherwise.
fn probe(base_url: &str) -> Result<(), String> {
    let target = Target::parse(base_url).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    // getaddrinfo cannot be cancelled: it runs in a thread that is left
    // behind if it takes too long.
    let (tx, rx) = mpsc::channel();
    let (host, port) = (target.host.clone(), target.port);
    thread::spawn(move || {
        let _ = tx.send((host.as_str(), port).to_socket_addrs().map(Vec::from_iter));
    });
    let addrs: Vec<SocketAddr> = match rx.recv_timeout(PROBE_TIMEOUT) {
        Ok(Ok(addrs)) if !addrs.is_empty() => addrs,
        Ok(Ok(_)) => return Err(format!("{} has no address", target.host)),
        Ok(Err(e)) => return Err(format!("DNS lookup of {} failed: {e}", target.host)),
        Err(_) => {
            return Err(format!(
                "DNS lookup of {} took over {PROBE_TIMEOUT:?}",
                target.host
            ))
        }
    };
    let mut last = String::new();
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("connecting to {addr} failed: {e}"),
        }
    }
    if last.is_empty() {
        let _ = write!(last, "no connection within {PROBE_TIMEOUT:?}");
    }
    Err(last)
}

/// The embedded jsonplaceholder on a thread of its own with its own ferrio
/// runtime, so the blocking version (which stalls this thread on every
/// request) can use it too. Dropping it shuts the server down.
struct Embedded {
    api: jsonplaceholder::Server,
    base_url: String,
    stop: Option<ferrio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Embedded {
    fn start(latency: Duration) -> Result<Embedded, BoxError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = ferrio::sync::oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("jsonplaceholder".into())
            .spawn(move || {
                ferrio::run(async move {
                    let bound = jsonplaceholder::Server::builder()
                        .latency(latency)
                        .bind("127.0.0.1:0")
                        .await;
                    let server = match bound {
                        Ok(server) => server,
                        Err(e) => return drop(ready_tx.send(Err(e))),
                    };
                    let _ = ready_tx.send(Ok(server.clone()));
                    // Runs until told to stop, or until the example is gone.
                    let _ = stop_rx.await;
                    server.shutdown().await;
                })
            })?;
        let api = ready_rx
            .recv()
            .map_err(|_| "the embedded server's thread died")??;
        let base_url = api.base_url();
        Ok(Embedded {
            api,
            base_url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn main() {
    env_logger::init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options, &mut io::stdout()) {
        eprintln!("\nfetch_posts: {e}");
        std::process::exit(1);
    }
}
