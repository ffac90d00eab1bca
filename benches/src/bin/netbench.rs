//! The network workloads' Rust programs, one per subcommand:
//!
//! ```text
//! netbench tokio_echo_server ADDR [workers=N] tokio's echo server (current-thread;
//!                                            with workers=N, multi-thread, N workers)
//! netbench lean_echo_server ferrio|tokio ADDR an echo server with no buffer while idle
//! netbench idle_client ADDR N                N connections that echo 1 byte, then idle
//! netbench http_get ferrio|reqwest URL N C [CA_PEM]
//!                                            N GETs by C workers (HTTPS: trust CA_PEM)
//! netbench fetch_posts BASE_URL POSTS LIMIT  seed 004's async half on ferrio
//! netbench limit_get ferrio|reqwest BASE_URL N LIMIT
//!                                            N GETs at once through a limit of LIMIT
//! netbench tls_server ADDR CA_PEM_OUT keepalive|close
//!                                            hyper over rustls, its own CA (rcgen)
//! netbench http_server ferrio|hyper|ferrio-mt|hyper-mt ADDR [workers=N]
//!                                            a small body over keep-alive, plain HTTP
//! ```
//!
//! Each prints a `RESULT {...}` line (servers print `READY` once listening).
//! The servers run on one thread each (ferrio's runtime with one worker,
//! whatever `FERRIO_WORKERS` says; tokio current-thread), except the `-mt`
//! peers and `tokio_echo_server ... workers=N`: ferrio's `workers(N)`, tokio's
//! multi-thread runtime with N workers (`workers=N`, default 2, as `bench`'s
//! `-mt` runtimes).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrio_benches::{cpu_time, secs, Report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| {
        arg(i)
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("argument {i} must be a number"))
    };
    // `workers=N` anywhere after the subcommand: the threads of the -mt peers.
    let workers = match args.iter().find_map(|a| a.strip_prefix("workers=")) {
        None => None,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                eprintln!("netbench: workers={n}: a number of at least 1");
                return ExitCode::FAILURE;
            }
        },
    };
    let result = match arg(0) {
        "tokio_echo_server" => tokio_echo_server(arg(1), workers),
        "lean_echo_server" => match arg(1) {
            "ferrio" => ferrio_lean_echo_server(arg(2)),
            "tokio" => tokio_lean_echo_server(arg(2)),
            other => Err(format!("unknown runtime {other:?}")),
        },
        "idle_client" => idle_client(arg(1), num(2)),
        "http_get" => {
            let ca = (!arg(5).is_empty()).then(|| arg(5).to_owned());
            match arg(1) {
                "ferrio" => ferrio_http_get(arg(2).to_owned(), num(3), num(4), ca),
                "reqwest" => reqwest_http_get(arg(2).to_owned(), num(3), num(4), ca),
                other => Err(format!("unknown client {other:?}")),
            }
        }
        "fetch_posts" => fetch_posts(arg(1).to_owned(), num(2) as u64, num(3)),
        "limit_get" => match arg(1) {
            "ferrio" => ferrio_limit_get(arg(2).to_owned(), num(3), num(4)),
            "reqwest" => reqwest_limit_get(arg(2).to_owned(), num(3), num(4)),
            other => Err(format!("unknown client {other:?}")),
        },
        "tls_server" => match arg(3) {
            "keepalive" => tls_server(arg(1), arg(2), true),
            "close" => tls_server(arg(1), arg(2), false),
            other => Err(format!("tls_server: keepalive or close, not {other:?}")),
        },
        "http_server" => match arg(1) {
            "ferrio" => ferrio_http_server(arg(2), 1),
            "hyper" => hyper_http_server(arg(2), None),
            "ferrio-mt" => ferrio_http_server(arg(2), workers.unwrap_or(2)),
            "hyper-mt" => hyper_http_server(arg(2), Some(workers.unwrap_or(2))),
            other => Err(format!("unknown server {other:?}")),
        },
        _ => Err(
            "usage: netbench tokio_echo_server ADDR [workers=N] | idle_client ADDR N | \
                  http_get ferrio|reqwest URL N C [CA_PEM] | fetch_posts BASE_URL POSTS LIMIT | \
                  limit_get ferrio|reqwest BASE_URL N LIMIT | \
                  tls_server ADDR CA_PEM_OUT keepalive|close | \
                  http_server ferrio|hyper|ferrio-mt|hyper-mt ADDR [workers=N]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netbench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// tokio's current-thread runtime (`workers` None), or its multi-thread one
/// with `n` workers (`block_on` then polls the main future, here the accept
/// loop, on the calling thread beside the `n` workers, as `bench`'s tokio-mt).
fn tokio_runtime(workers: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = match workers {
        None => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    builder.enable_all().build().map_err(|e| e.to_string())
}

/// ferrio's runtime with `workers` workers, whatever `FERRIO_WORKERS` says
/// (the `block_on` thread is one of them), as `bench`'s ferrio and ferrio-mt.
fn ferrio_runtime(workers: usize) -> Result<ferrio::Runtime, String> {
    let rt = ferrio::Runtime::builder()
        .workers(workers)
        .build()
        .map_err(|e| e.to_string())?;
    if rt.workers() != workers {
        return Err(format!(
            "ferrio started {} workers, not {workers}",
            rt.workers()
        ));
    }
    Ok(rt)
}

/// The tokio peer of `examples/echo_server.rs`: one task per connection on a
/// current-thread runtime (with `workers`, a multi-thread one), `set_nodelay`,
/// then `tokio::io::copy` of the read half into the write half.
fn tokio_echo_server(addr: &str, workers: Option<usize>) -> Result<(), String> {
    let rt = tokio_runtime(workers)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "READY {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let (mut stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let (mut rd, mut wr) = stream.split();
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
            });
        }
    })
}

/// An echo loop that holds no buffer while the connection is idle: it awaits
/// readiness, then reads into a stack buffer and writes straight back with
/// `try_read` / `try_write` (no await in between, so the buffer is not part of
/// the task's state). Only bytes the socket would not take are kept, on the
/// heap, until it is writable. The same code for ferrio and tokio: what an
/// idle connection costs is then the runtime's own (task + registration).
macro_rules! lean_echo {
    ($stream:expr) => {{
        let stream = $stream;
        let _ = stream.set_nodelay(true);
        loop {
            if stream.readable().await.is_err() {
                break;
            }
            let mut unsent: Vec<u8> = Vec::new();
            let eof = {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.try_read(&mut buf) {
                        Ok(0) => break true,
                        Ok(n) => {
                            let mut off = 0;
                            while off < n {
                                match stream.try_write(&buf[off..n]) {
                                    Ok(k) => off += k,
                                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                        unsent.extend_from_slice(&buf[off..n]);
                                        break;
                                    }
                                    Err(_) => return,
                                }
                            }
                            if !unsent.is_empty() {
                                break false;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
                        Err(_) => break true,
                    }
                }
            };
            while !unsent.is_empty() {
                if stream.writable().await.is_err() {
                    return;
                }
                match stream.try_write(&unsent) {
                    Ok(k) => drop(unsent.drain(..k)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
            if eof {
                break;
            }
        }
    }};
}

fn ferrio_lean_echo_server(addr: &str) -> Result<(), String> {
    ferrio_runtime(1)?.block_on(async {
        let listener = ferrio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "READY {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            match listener.accept().await {
                Ok((stream, _)) => drop(ferrio::spawn(async move { lean_echo!(stream) })),
                Err(e) => {
                    eprintln!("accept: {e}");
                    ferrio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
}

fn tokio_lean_echo_server(addr: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "READY {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            match listener.accept().await {
                Ok((stream, _)) => drop(tokio::spawn(async move { lean_echo!(stream) })),
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
}

/// Opens `n` connections with blocking std sockets; on each, sends one byte
/// and reads its echo (so the server has accepted it and its task or thread
/// is running), then prints `READY` and holds them until stdin closes.
/// Closes with SO_LINGER 0 (a reset, no TIME_WAIT left behind).
fn idle_client(addr: &str, n: usize) -> Result<(), String> {
    let start = Instant::now();
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        let mut s =
            std::net::TcpStream::connect(addr).map_err(|e| format!("connection {i}: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        s.write_all(b"x")
            .map_err(|e| format!("connection {i}: {e}"))?;
        let mut b = [0u8; 1];
        s.read_exact(&mut b)
            .map_err(|e| format!("connection {i}: {e}"))?;
        streams.push(s);
    }
    println!("READY {n} connections in {:.3} s", secs(start));
    std::io::stdout().flush().ok();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    for s in &streams {
        reset_on_close(s);
    }
    Ok(())
}

fn reset_on_close(s: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn report_http(client: &str, requests: usize, elapsed: f64, cpu: Duration, bytes: usize) {
    Report::new()
        .text("client", client)
        .num("secs", elapsed)
        .num("cpu_us_per_req", cpu.as_secs_f64() * 1e6 / requests as f64)
        .num("req_per_sec", requests as f64 / elapsed)
        .num("body_bytes", bytes as f64)
        .print();
}

/// `requests` GETs of `url` by `conns` tasks, each sending its share one
/// after another, through one `ferrio::http::Client` with `limit(conns)`.
/// With `ca` (a PEM file), the client also trusts that root (for HTTPS to the
/// local `tls_server`).
fn ferrio_http_get(
    url: String,
    requests: usize,
    conns: usize,
    ca: Option<String>,
) -> Result<(), String> {
    ferrio::run(async move {
        let mut builder = ferrio::http::Client::builder().limit(conns);
        if let Some(path) = ca {
            let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
            builder = builder.add_root_certificate(
                ferrio::http::Certificate::from_pem(&pem).map_err(|e| e.to_string())?,
            );
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let start = Instant::now();
        let cpu0 = cpu_time();
        let workers: Vec<_> = (0..conns)
            .map(|w| {
                let (client, url) = (client.clone(), url.clone());
                let share = requests / conns + usize::from(w < requests % conns);
                ferrio::spawn(async move {
                    let mut bytes = 0;
                    for _ in 0..share {
                        let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                        if response.status() != 200 {
                            return Err(format!("status {}", response.status()));
                        }
                        bytes += response.bytes().await.map_err(|e| e.to_string())?.len();
                    }
                    Ok::<_, String>(bytes)
                })
            })
            .collect();
        let mut bytes = 0;
        for w in ferrio::gather(workers).await {
            bytes += w.map_err(|e| e.to_string())??;
        }
        report_http("ferrio", requests, secs(start), cpu_time() - cpu0, bytes);
        Ok(())
    })
}

/// The reqwest peer of `ferrio_http_get`: the same shape, on tokio's
/// current-thread runtime, with up to `conns` idle connections kept per host.
fn reqwest_http_get(
    url: String,
    requests: usize,
    conns: usize,
    ca: Option<String>,
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(conns);
        if let Some(path) = ca {
            let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
            builder = builder.add_root_certificate(
                reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?,
            );
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let start = Instant::now();
        let cpu0 = cpu_time();
        let workers: Vec<_> = (0..conns)
            .map(|w| {
                let (client, url) = (client.clone(), url.clone());
                let share = requests / conns + usize::from(w < requests % conns);
                tokio::spawn(async move {
                    let mut bytes = 0;
                    for _ in 0..share {
                        let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                        if response.status() != 200 {
                            return Err(format!("status {}", response.status()));
                        }
                        bytes += response.bytes().await.map_err(|e| e.to_string())?.len();
                    }
                    Ok::<_, String>(bytes)
                })
            })
            .collect();
        let mut bytes = 0;
        for w in workers {
            bytes += w.await.map_err(|e| e.to_string())??;
        }
        report_http("reqwest", requests, secs(start), cpu_time() - cpu0, bytes);
        Ok(())
    })
}

/// Seed 004's asynchronous half on ferrio (what `examples/fetch_posts.rs`
/// runs): posts 1..=POSTS fetched at once with `gather`, through a client
/// limited to LIMIT connections, each body read whole.
fn fetch_posts(base_url: String, posts: u64, limit: usize) -> Result<(), String> {
    ferrio::run(async move {
        let client = ferrio::http::Client::builder()
            .limit(limit)
            .build()
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        let fetches = (1..=posts).map(|post| {
            let (client, url) = (&client, format!("{base_url}/posts/{post}"));
            async move {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                if response.status() != 200 {
                    return Err(format!("post {post}: status {}", response.status()));
                }
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                if body.is_empty() {
                    return Err(format!("post {post}: empty body"));
                }
                Ok::<_, String>(())
            }
        });
        for r in ferrio::gather(fetches).await {
            r?;
        }
        Report::new()
            .text("client", "ferrio")
            .num("secs", secs(start))
            .num("posts", posts as f64)
            .print();
        Ok(())
    })
}

/// The path of the `i`-th GET of `limit_get`: the hundred posts in turn.
fn post_url(base_url: &str, i: usize) -> String {
    format!("{base_url}/posts/{}", i % 100 + 1)
}

fn report_limit(client: &str, requests: usize, elapsed: f64, cpu: Duration) {
    Report::new()
        .text("client", client)
        .num("secs", elapsed)
        .num("cpu_secs", cpu.as_secs_f64())
        .num("cpu_us_per_req", cpu.as_secs_f64() * 1e6 / requests as f64)
        .print();
}

/// `requests` GETs started at once (`gather`), through one client with
/// `limit(limit)`: the client's pool is what keeps at most `limit` in flight.
fn ferrio_limit_get(base_url: String, requests: usize, limit: usize) -> Result<(), String> {
    ferrio::run(async move {
        let client = ferrio::http::Client::builder()
            .limit(limit)
            .build()
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        let cpu0 = cpu_time();
        let gets = (0..requests).map(|i| {
            let (client, url) = (&client, post_url(&base_url, i));
            async move {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                if response.status() != 200 {
                    return Err(format!("GET {i}: status {}", response.status()));
                }
                response.bytes().await.map_err(|e| e.to_string())?;
                Ok::<_, String>(())
            }
        });
        for r in ferrio::gather(gets).await {
            r?;
        }
        report_limit("ferrio", requests, secs(start), cpu_time() - cpu0);
        Ok(())
    })
}

/// The reqwest peer of `ferrio_limit_get` (reqwest has no connection limit):
/// a task per GET, each holding a permit of a `tokio::sync::Semaphore` of
/// `limit` while it sends and reads, and a pool of up to `limit` idle
/// connections, on tokio's current-thread runtime.
fn reqwest_limit_get(base_url: String, requests: usize, limit: usize) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(limit)
            .build()
            .map_err(|e| e.to_string())?;
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(limit));
        let start = Instant::now();
        let cpu0 = cpu_time();
        let tasks: Vec<_> = (0..requests)
            .map(|i| {
                let (client, permits, url) =
                    (client.clone(), permits.clone(), post_url(&base_url, i));
                tokio::spawn(async move {
                    let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
                    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                    if response.status() != 200 {
                        return Err(format!("GET {i}: status {}", response.status()));
                    }
                    response.bytes().await.map_err(|e| e.to_string())?;
                    Ok::<_, String>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        report_limit("reqwest", requests, secs(start), cpu_time() - cpu0);
        Ok(())
    })
}

/// The body every benchmark server answers with: the 129 B JSON object that
/// nginx serves in the http_client and http_server workloads (harness.py).
const SMALL_BODY: &[u8] = br#"{"userId": 1, "id": 1, "title": "sunt aut facere repellat provident occaecati excepturi optio reprehenderit", "completed": false}"#;

/// hyper's answer to every request: 200 with [`SMALL_BODY`] as JSON.
async fn hyper_small(
    _req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, std::convert::Infallible> {
    let mut response = hyper::Response::new(http_body_util::Full::new(
        hyper::body::Bytes::from_static(SMALL_BODY),
    ));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A CA made here (rcgen) and a certificate it signs for `localhost` and
/// 127.0.0.1; writes the CA's PEM to `ca_out` and returns rustls's server
/// configuration (ring, HTTP/1.1 by ALPN, rustls's default session cache).
fn tls_config(ca_out: &str) -> Result<rustls::ServerConfig, String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let err = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ferrio benches CA");
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().map_err(err)?;
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(err)?;
    let cert = params.signed_by(&key, &issuer).map_err(err)?;
    std::fs::write(ca_out, ca_cert.pem()).map_err(|e| format!("{ca_out}: {e}"))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The HTTPS server of the https workloads: hyper's HTTP/1.1 over
/// tokio-rustls on tokio's current-thread runtime, answering every GET with
/// [`SMALL_BODY`]; with `keep_alive` false every response closes its
/// connection (a new TLS connection per request).
fn tls_server(addr: &str, ca_out: &str, keep_alive: bool) -> Result<(), String> {
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(tls_config(ca_out)?));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "READY {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(keep_alive)
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(tls),
                        hyper::service::service_fn(hyper_small),
                    )
                    .await;
            });
        }
    })
}

/// hyper's HTTP/1.1 server on tokio's current-thread runtime (with
/// `workers`, the multi-thread one: the accept loop on the `block_on`
/// thread, the connections' tasks on the workers), plain TCP, keep-alive,
/// [`SMALL_BODY`] for every request: the peer of `ferrio_http_server`.
fn hyper_http_server(addr: &str, workers: Option<usize>) -> Result<(), String> {
    let rt = tokio_runtime(workers)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "READY {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper::service::service_fn(hyper_small),
                    )
                    .await;
            });
        }
    })
}

/// `ferrio::http::server` with its default limits and timeouts, answering
/// every request with [`SMALL_BODY`], on a runtime of `workers` workers (the
/// accept loop and every connection are tasks; the main future only waits);
/// runs until killed.
fn ferrio_http_server(addr: &str, workers: usize) -> Result<(), String> {
    use ferrio::http::server::{self, ServerRequest, ServerResponse};
    async fn small(_req: ServerRequest) -> ServerResponse {
        let mut response = ServerResponse::new(SMALL_BODY.to_vec());
        response.headers_mut().insert(
            ferrio::http::header::CONTENT_TYPE,
            ferrio::http::HeaderValue::from_static("application/json"),
        );
        response
    }
    ferrio_runtime(workers)?.block_on(async move {
        let server = server::bind(addr)
            .await
            .map_err(|e| e.to_string())?
            .spawn(small);
        println!("READY {}", server.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
