//! A scripted HTTP/1.1 server for the client tests: it reads requests off a
//! ferrio `TcpListener` on 127.0.0.1:0 and answers each with whatever bytes
//! the test's script says (well-formed or not), counting connections open at
//! once. Independent of `ferrio::http::server` on purpose: the client is
//! tested against bytes it does not share code with.
#![allow(dead_code)] // each test file uses a different part

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};

/// GETs `url` and returns the body as text, failing the test on any error.
pub(crate) async fn get_text(client: &ferrio::http::Client, url: impl AsRef<str>) -> String {
    let url = url.as_ref();
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("body of {url}: {e}"))
}

/// Runs a test body in a runtime, failing it if it takes more than 20 s.
pub(crate) fn run<F: Future + 'static>(test: F) -> F::Output {
    ferrio::run(async move {
        ferrio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("test timed out")
    })
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub target: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection (0 = the first accepted).
    pub conn: usize,
    /// Which request on its connection (0 = the first).
    pub nth: usize,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
pub(crate) enum Action {
    /// Writes the bytes and waits for the next request.
    Reply(Vec<u8>),
    /// Writes the bytes and closes.
    ReplyClose(Vec<u8>),
    /// Closes without answering.
    Close,
    /// Writes the bytes, then holds the connection open without reading for
    /// the duration, then closes.
    Stall(Vec<u8>, Duration),
    /// Writes the bytes one at a time, this far apart, then closes.
    Trickle(Vec<u8>, Duration),
    /// Waits, then acts.
    Delay(Duration, Box<Action>),
}

/// Connection counts, possibly shared by several servers.
#[derive(Default, Debug)]
pub(crate) struct Stats {
    pub accepted: AtomicUsize,
    pub open: AtomicUsize,
    pub max_open: AtomicUsize,
    pub requests: Mutex<Vec<Request>>,
}

impl Stats {
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now (their server task has not ended).
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Waits (up to `patience`) until no connection is open; whether it got there.
    pub(crate) async fn all_closed_within(&self, patience: Duration) -> bool {
        let started = std::time::Instant::now();
        while self.open() > 0 {
            if started.elapsed() > patience {
                return false;
            }
            ferrio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    pub(crate) fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Decrements `open` when a connection task ends, however it ends.
struct OpenGuard(Arc<Stats>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) struct Server {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
}

impl Server {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

type Script = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

/// Starts a server that answers each request with `script(request)`.
pub(crate) async fn serve(script: impl Fn(&Request) -> Action + Send + Sync + 'static) -> Server {
    serve_counted(script, Arc::default()).await
}

/// Like [`serve`], counting into `stats` (shared by several servers).
pub(crate) async fn serve_counted(
    script: impl Fn(&Request) -> Action + Send + Sync + 'static,
    stats: Arc<Stats>,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script: Script = Arc::new(script);
    let server_stats = stats.clone();
    ferrio::spawn(async move {
        let stats = server_stats;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let conn = stats.accepted.fetch_add(1, Ordering::SeqCst);
            let open = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
            stats.max_open.fetch_max(open, Ordering::SeqCst);
            let guard = OpenGuard(stats.clone());
            let (script, stats) = (script.clone(), stats.clone());
            ferrio::spawn(async move {
                let _guard = guard;
                connection(stream, conn, script, stats).await;
            });
        }
    });
    Server { addr, stats }
}

async fn connection(mut stream: TcpStream, conn: usize, script: Script, stats: Arc<Stats>) {
    let mut buf = Vec::new();
    for nth in 0.. {
        let Some(request) = read_request(&mut stream, &mut buf, conn, nth).await else {
            return;
        };
        stats.requests.lock().unwrap().push(request.clone());
        let mut action = script(&request);
        loop {
            match action {
                Action::Delay(d, then) => {
                    ferrio::time::sleep(d).await;
                    action = *then;
                }
                Action::Reply(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                    break;
                }
                Action::ReplyClose(bytes) => {
                    let _ = stream.write_all(&bytes).await;
                    return;
                }
                Action::Close => return,
                Action::Stall(bytes, d) => {
                    let _ = stream.write_all(&bytes).await;
                    ferrio::time::sleep(d).await;
                    return;
                }
                Action::Trickle(bytes, d) => {
                    for b in bytes {
                        if stream.write_all(&[b]).await.is_err() {
                            return;
                        }
                        ferrio::time::sleep(d).await;
                    }
                    return;
                }
            }
        }
    }
}

/// Reads one request (head and Content-Length body); `None` at EOF or garbage.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    conn: usize,
    nth: usize,
) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end);
    while buf.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..length).collect();
    Some(Request {
        method,
        target,
        headers,
        body,
        conn,
        nth,
    })
}

/// A 200 response with `body` and a Content-Length.
pub(crate) fn ok(body: impl AsRef<[u8]>) -> Vec<u8> {
    response("200 OK", &[], body)
}

/// A response with a status line, extra header lines and a Content-Length body.
pub(crate) fn response(status: &str, headers: &[&str], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Raw bytes (for heads the helpers cannot make: no length, bad syntax).
pub(crate) fn raw(text: impl AsRef<[u8]>) -> Vec<u8> {
    text.as_ref().to_vec()
}

/// `data` gzip-compressed.
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}
