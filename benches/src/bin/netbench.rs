// Whole on purpose (about 940 lines): one benchmark binary, each subcommand a self-contained workload beside the others it is compared with.
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
//! netbench http_server ferrio|hyper|ferrio-mt|hyper-mt|ferrio-reuseport|hyper-reuseport ADDR [workers=N]
//!                                            a small body over keep-alive, plain HTTP
//!                                            (`/slow`: after 5 ms of CPU; `/block`:
//!                                            after blocking its thread 100 ms)
//! netbench latency_client ADDR conns=C seconds=S [slow_every=K] [block_every_ms=M]
//!                                            C keep-alive connections, one thread each,
//!                                            a GET at a time: the latency percentiles
//!                                            of the plain GETs; every K-th GET is
//!                                            `/slow` instead, and an extra connection
//!                                            GETs `/block` every M ms
//! ```
//!
//! Each prints a `RESULT {...}` line (servers print `READY` once listening).
//! The servers run on one thread each (ferrio's runtime with one worker,
//! whatever `FERRIO_WORKERS` says; tokio current-thread), except the `-mt`
//! peers and `tokio_echo_server ... workers=N`: ferrio's `workers(N)`, tokio's
//! multi-thread runtime with N workers (`workers=N`, default 2, as `bench`'s
//! `-mt` runtimes); the `-reuseport` peers run N threads, each with its own
//! one-thread runtime (ferrio's one worker, tokio's current-thread) and its
//! own listener on the same port (`SO_REUSEPORT`: the kernel spreads the
//! connections), as actix does.

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
            "ferrio-reuseport" => reuseport_servers(arg(2), workers.unwrap_or(2), |l| {
                ferrio_http_server_on(ferrio_runtime(1)?, Listen::Std(l))
            }),
            "hyper-reuseport" => reuseport_servers(arg(2), workers.unwrap_or(2), |l| {
                hyper_http_server_on(tokio_runtime(None)?, Listen::Std(l))
            }),
            other => Err(format!("unknown server {other:?}")),
        },
        "latency_client" => latency_client(arg(1), &args),
        _ => Err(
            "usage: netbench tokio_echo_server ADDR [workers=N] | idle_client ADDR N | \
                  http_get ferrio|reqwest URL N C [CA_PEM] | fetch_posts BASE_URL POSTS LIMIT | \
                  limit_get ferrio|reqwest BASE_URL N LIMIT | \
                  tls_server ADDR CA_PEM_OUT keepalive|close | \
                  http_server ferrio|hyper|ferrio-mt|hyper-mt|ferrio-reuseport|hyper-reuseport \
                  ADDR [workers=N] | \
                  latency_client ADDR conns=C seconds=S [slow_every=K] [block_every_ms=M]"
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

/// What `/slow` and `/block` cost the server before it answers (the
/// latency workloads): 5 ms of CPU, or 100 ms of a blocked thread (a
/// blocking call in a handler). Any other path costs nothing.
fn stall(path: &str) {
    match path {
        "/slow" => {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(5) {
                std::hint::spin_loop();
            }
        }
        "/block" => std::thread::sleep(Duration::from_millis(100)),
        _ => {}
    }
}

/// hyper's answer to every request: 200 with [`SMALL_BODY`] as JSON (after
/// [`stall`]).
async fn hyper_small(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, std::convert::Infallible> {
    stall(req.uri().path());
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
    hyper_http_server_on(tokio_runtime(workers)?, Listen::Bind(addr))
}

/// Where a server listens: an address it binds, or a listener made with
/// `SO_REUSEPORT` by [`reuseport_servers`].
enum Listen<'a> {
    Bind(&'a str),
    Std(std::net::TcpListener),
}

fn hyper_http_server_on(rt: tokio::runtime::Runtime, listen: Listen<'_>) -> Result<(), String> {
    rt.block_on(async move {
        let listener = match listen {
            Listen::Bind(addr) => tokio::net::TcpListener::bind(addr).await,
            Listen::Std(l) => tokio::net::TcpListener::from_std(l),
        }
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
    ferrio_http_server_on(ferrio_runtime(workers)?, Listen::Bind(addr))
}

fn ferrio_http_server_on(mut rt: ferrio::Runtime, listen: Listen<'_>) -> Result<(), String> {
    use ferrio::http::server::{self, ServerRequest, ServerResponse};
    async fn small(req: ServerRequest) -> ServerResponse {
        stall(req.uri().path());
        let mut response = ServerResponse::new(SMALL_BODY.to_vec());
        response.headers_mut().insert(
            ferrio::http::header::CONTENT_TYPE,
            ferrio::http::HeaderValue::from_static("application/json"),
        );
        response
    }
    rt.block_on(async move {
        let server = match listen {
            Listen::Bind(addr) => server::bind(addr).await,
            Listen::Std(l) => ferrio::net::TcpListener::from_std(l)
                .and_then(|l| server::Builder::new().listener(l)),
        }
        .map_err(|e| e.to_string())?
        .spawn(small);
        println!("READY {}", server.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// `n` threads, each serving with `serve` on its own listener of `addr`'s
/// port, made with `SO_REUSEPORT` (the first binds `addr`, port 0 picking
/// one; the others bind the port it got). Each thread prints its `READY`.
fn reuseport_servers(
    addr: &str,
    n: usize,
    serve: fn(std::net::TcpListener) -> Result<(), String>,
) -> Result<(), String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let listen = |addr: std::net::SocketAddr| -> Result<std::net::TcpListener, String> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(|e| e.to_string())?;
        socket.set_reuse_address(true).map_err(|e| e.to_string())?;
        socket.set_reuse_port(true).map_err(|e| e.to_string())?;
        socket.set_nonblocking(true).map_err(|e| e.to_string())?;
        socket.bind(&addr.into()).map_err(|e| e.to_string())?;
        socket.listen(1024).map_err(|e| e.to_string())?;
        Ok(socket.into())
    };
    let first = listen(addr.parse().map_err(|e| format!("{addr}: {e}"))?)?;
    let bound = first.local_addr().map_err(|e| e.to_string())?;
    let mut listeners = vec![first];
    for _ in 1..n {
        listeners.push(listen(bound)?);
    }
    // Every listener is bound and listening before a thread starts: the
    // kernel queues connections for each from the first `READY` on.
    let threads: Vec<_> = listeners
        .into_iter()
        .map(|l| std::thread::spawn(move || serve(l)))
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| "a server thread panicked".to_owned())??;
    }
    Ok(())
}

/// `latency_client ADDR conns=C seconds=S [slow_every=K] [block_every_ms=M]`:
/// C threads, each with one keep-alive connection and blocking I/O (the
/// same load whatever the server), send `GET /` and wait for the answer, in
/// a loop for S seconds. Every K-th GET of all (counted together) asks for
/// `/slow` instead (5 ms of the server's CPU); with M, one more connection
/// asks for `/block` (100 ms of a blocked server thread) every M ms. Reports
/// the percentiles of the plain GETs only: what the other requests do to
/// them.
fn latency_client(addr: &str, args: &[String]) -> Result<(), String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let param = |name: &str, default: Option<u64>| -> Result<u64, String> {
        match args
            .iter()
            .find_map(|a| a.strip_prefix(&format!("{name}=")))
        {
            Some(v) => v.parse().map_err(|_| format!("{name}={v}: not a number")),
            None => default.ok_or(format!("latency_client needs {name}=")),
        }
    };
    let conns = param("conns", None)? as usize;
    let seconds = param("seconds", None)?;
    let slow_every = param("slow_every", Some(0))?;
    let block_every_ms = param("block_every_ms", Some(0))?;
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let issued = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_time();

    let connect = move || -> Result<std::net::TcpStream, String> {
        let s = std::net::TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        Ok(s)
    };
    let clients: Vec<_> = (0..conns)
        .map(|_| {
            let issued = issued.clone();
            std::thread::spawn(move || -> Result<(Vec<u32>, u64), String> {
                let mut conn = connect()?;
                let mut buf = Vec::with_capacity(1024);
                let (mut plain, mut slow) = (Vec::new(), 0);
                while Instant::now() < end {
                    let n = issued.fetch_add(1, Ordering::Relaxed) + 1;
                    let is_slow = slow_every > 0 && n % slow_every == 0;
                    let sent = Instant::now();
                    http_exchange(&mut conn, if is_slow { "/slow" } else { "/" }, &mut buf)?;
                    if is_slow {
                        slow += 1;
                    } else {
                        plain.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                }
                Ok((plain, slow))
            })
        })
        .collect();
    let blocker = (block_every_ms > 0).then(|| {
        std::thread::spawn(move || -> Result<u64, String> {
            let mut conn = connect()?;
            let mut buf = Vec::new();
            let mut blocks = 0;
            loop {
                std::thread::sleep(Duration::from_millis(block_every_ms));
                if Instant::now() + Duration::from_millis(100) >= end {
                    return Ok(blocks);
                }
                http_exchange(&mut conn, "/block", &mut buf)?;
                blocks += 1;
            }
        })
    });
    let mut plain = Vec::new();
    let mut slow = 0;
    for c in clients {
        let (p, s) = c.join().map_err(|_| "a client thread panicked")??;
        plain.extend(p);
        slow += s;
    }
    let blocks = match blocker {
        Some(b) => b.join().map_err(|_| "the blocking client panicked")??,
        None => 0,
    };
    let elapsed = secs(start);
    let cpu = cpu_time() - cpu0;
    if plain.is_empty() {
        return Err("no request completed".into());
    }
    plain.sort_unstable();
    let pct = |p: f64| plain[((plain.len() as f64 * p) as usize).min(plain.len() - 1)];
    println!(
        "RESULT {{\"requests\": {}, \"req_per_sec\": {:.1}, \"p50_us\": {}, \"p99_us\": {}, \
         \"p999_us\": {}, \"max_us\": {}, \"slow\": {slow}, \"blocks\": {blocks}, \
         \"client_cpu_s\": {:.3}}}",
        plain.len(),
        (plain.len() as u64 + slow) as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(0.999),
        plain[plain.len() - 1],
        cpu.as_secs_f64()
    );
    Ok(())
}

/// One keep-alive GET of `path` on `conn` and its whole answer read (the
/// head up to its blank line, then `Content-Length` bytes of body).
fn http_exchange(
    conn: &mut std::net::TcpStream,
    path: &str,
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    let mut need: Option<usize> = None;
    loop {
        if need.is_none() {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..end]).map_err(|_| "a head not UTF-8")?;
                if !head.starts_with("HTTP/1.1 200") {
                    return Err(format!("answer: {}", head.lines().next().unwrap_or("")));
                }
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .ok_or("an answer without Content-Length")?;
                need = Some(end + 4 + len);
            }
        }
        if let Some(n) = need {
            if buf.len() >= n {
                return Ok(());
            }
        }
        let got = conn.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if got == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..got]);
    }
}
