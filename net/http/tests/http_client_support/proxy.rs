//! An HTTP proxy for the client tests: forwards absolute-form requests to
//! their origin (one request per connection) and opens `CONNECT` tunnels,
//! or refuses as told; logs each request line with its
//! `Proxy-Authorization`. Included with `#[path]` by the tests that use it.
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};

/// What the proxy does with a request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// Forwards and tunnels.
    Open,
    /// Forwards and tunnels only with this `Proxy-Authorization`; else 407.
    RequireAuth(&'static str),
    /// Answers every request with this status.
    Refuse(u16),
    /// Answers with bytes that are not HTTP.
    Garbage,
}

/// Request lines seen, each with its `Proxy-Authorization`.
pub(crate) type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

pub(crate) struct Proxy {
    pub addr: SocketAddr,
    pub log: Log,
}

impl Proxy {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }
}

pub(crate) async fn proxy(mode: Mode) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    let task_log = log.clone();
    ferrio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            ferrio::spawn(serve(stream, mode, task_log.clone()));
        }
    });
    Proxy { addr, log }
}

async fn serve(mut client: TcpStream, mode: Mode, log: Log) {
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut piece = [0u8; 4096];
        match client.read(&mut piece).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end..].to_vec();
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default().to_owned();
    let fields: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let auth = fields
        .iter()
        .find(|(n, _)| n == "proxy-authorization")
        .map(|(_, v)| v.clone());
    log.lock().unwrap().push((line.clone(), auth.clone()));
    let refuse = match mode {
        Mode::Refuse(code) => Some(code),
        Mode::RequireAuth(expected) if auth.as_deref() != Some(expected) => Some(407),
        Mode::Garbage => {
            let _ = client.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            return;
        }
        _ => None,
    };
    if let Some(code) = refuse {
        let reply = format!(
            "HTTP/1.1 {code} No\r\nproxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n"
        );
        let _ = client.write_all(reply.as_bytes()).await;
        return;
    }
    let mut parts = line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if method == "CONNECT" {
        let Ok(upstream) = TcpStream::connect(target).await else {
            let _ = client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        pipe(client, upstream, Vec::new()).await;
        return;
    }
    // Absolute form: to the origin in origin form, without the proxy's field.
    let url = ferrio::http::Url::parse(target).expect("an absolute-form target");
    let origin = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let Ok(upstream) = TcpStream::connect(origin.as_str()).await else {
        return;
    };
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path = format!("{path}?{q}");
    }
    let mut forwarded = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in fields.iter().filter(|(n, _)| n != "proxy-authorization") {
        forwarded.push_str(&format!("{name}: {value}\r\n"));
    }
    forwarded.push_str("\r\n");
    let mut first = forwarded.into_bytes();
    first.extend_from_slice(&rest);
    pipe(client, upstream, first).await;
}

/// Copies both ways until the upstream closes (then closes the client's
/// side) or the client does; `first` goes upstream first.
async fn pipe(client: TcpStream, upstream: TcpStream, first: Vec<u8>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut up_read, mut up_write) = upstream.into_split();
    if up_write.write_all(&first).await.is_err() {
        return;
    }
    ferrio::spawn(async move {
        let _ = ferrio::io::copy(&mut up_read, &mut client_write).await;
        let _ = client_write.close().await;
    });
    let _ = ferrio::io::copy(&mut client_read, &mut up_write).await;
}
