//! A small HTTPS server for the client's tests (cargo feature `tls`): a
//! private CA made with rcgen, a certificate it signed for the names a test
//! asks for (valid now, or expired), and a server on a ferrio `TcpListener`
//! with futures-rustls's server side that answers each request with the bytes
//! the test's closure makes of it.
//!
//! The cases the client must tell apart come from the parts: a client that
//! was not given [`Pki::ca_pem`] meets an unknown issuer; a URL naming a host
//! that is not among the certificate's names meets the wrong name; a
//! [`Pki::expired`] certificate is expired.
//!
//! Not here: HTTP/2, or anything of HTTP past reading a request head and
//! skipping a `Content-Length` body.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrio_executor::JoinHandle;
use ferrio_net::TcpListener;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The most of a request head the server reads before it gives up on the
/// connection.
const MAX_HEAD: usize = 64 * 1024;

/// A private CA, and a certificate it signed for some names (with its key).
pub struct Pki {
    /// The CA's certificate as PEM, for `Certificate::from_pem`.
    pub ca_pem: String,
    /// The CA's certificate as DER.
    pub ca_der: CertificateDer<'static>,
    /// The server's chain: its leaf certificate.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The leaf as PEM, as a user would have it in a file.
    pub chain_pem: String,
    /// The leaf's key as PEM.
    pub key_pem: String,
}

impl Pki {
    /// A fresh CA and a leaf for `names` (DNS names or IP addresses), valid
    /// from 1975 to 4096 (rcgen's defaults).
    pub fn new(names: &[&str]) -> Pki {
        Pki::make(names, |_| {})
    }

    /// As [`Pki::new`], but the leaf expired at the end of 2020.
    pub fn expired(names: &[&str]) -> Pki {
        Pki::make(names, |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        })
    }

    fn make(names: &[&str], leaf: impl FnOnce(&mut CertificateParams)) -> Pki {
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).expect("no names cannot be invalid");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Each CA its own name: a verifier finds an issuer by name, so two
        // CAs with one name would make a stranger's certificate a bad
        // signature rather than an unknown issuer.
        static CAS: AtomicUsize = AtomicUsize::new(0);
        let n = CAS.fetch_add(1, Ordering::Relaxed);
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("ferrio-testkit CA {} {n}", std::process::id()),
        );
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a key"))
            .expect("a self-signed CA");
        let key = KeyPair::generate().expect("a key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        leaf(&mut params);
        let cert = params.signed_by(&key, &ca).expect("a leaf the CA signed");
        Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }

    /// A server configuration with this certificate, no client
    /// authentication, ring's provider, TLS 1.2 and 1.3.
    ///
    /// # Panics
    ///
    /// If rustls refuses rcgen's certificate and key (it does not).
    pub fn server_config(&self) -> rustls::ServerConfig {
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .expect("rcgen's key matches its certificate")
    }
}

/// ring's crypto provider, the one the client uses.
// rustls 0.23.48 deprecates ring's provider (no post-quantum key exchange);
// ring stays, as aws-lc-rs would add a C and CMake build.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// One request head as the server read it (its body, if any, skipped).
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, such as `/path?query`.
    pub target: String,
    /// The header fields in order, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first field named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse(head: &[u8]) -> Option<Request> {
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split("\r\n");
        let mut start = lines.next()?.split(' ');
        let (method, target) = (start.next()?.to_owned(), start.next()?.to_owned());
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some(Request {
            method,
            target,
            headers,
        })
    }
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret, even a test's.
        f.debug_struct("Pki")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// A running HTTPS server on loopback; it stops accepting when dropped, and
/// each connection ends when its client closes it.
///
/// ```
/// use ferrio_testkit::tls::{Pki, TlsServer};
/// ferrio::run(async {
///     let pki = Pki::new(&["localhost"]);
///     let server = TlsServer::bind(&pki, |_request| {
///         b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()
///     })
///     .await
///     .unwrap();
///     assert!(server.url("localhost", "/").starts_with("https://localhost:"));
/// });
/// ```
#[derive(Debug)]
pub struct TlsServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl TlsServer {
    /// Serves on 127.0.0.1 with `pki`'s certificate; `answer` makes the
    /// whole response (status line, fields, body) for each request.
    ///
    /// # Errors
    ///
    /// Binding failed.
    pub async fn bind(
        pki: &Pki,
        answer: impl Fn(&Request) -> Vec<u8> + Send + Sync + 'static,
    ) -> io::Result<TlsServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Ok(TlsServer::serve(
            listener,
            pki.server_config(),
            move |request, _| answer(request),
        ))
    }

    /// Serves on `listener` with `config`; `answer` also sees the
    /// connection's TLS state (ALPN, the client's certificate).
    ///
    /// # Panics
    ///
    /// If `listener` has no local address (a bound one has).
    pub fn serve(
        listener: TcpListener,
        config: rustls::ServerConfig,
        answer: impl Fn(&Request, &rustls::ServerConnection) -> Vec<u8> + Send + Sync + 'static,
    ) -> TlsServer {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(config));
        let answer = Arc::new(answer);
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let accepting = ferrio_executor::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (acceptor, answer) = (acceptor.clone(), answer.clone());
                drop(ferrio_executor::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            let mut chunk = [0u8; 4096];
                            match tls.read(&mut chunk).await {
                                Ok(n) if n > 0 && buf.len() < MAX_HEAD => {
                                    buf.extend_from_slice(&chunk[..n])
                                }
                                _ => return,
                            }
                            continue;
                        };
                        let Some(request) = Request::parse(&buf[..end]) else {
                            return;
                        };
                        buf.drain(..end + 4);
                        let length = request
                            .header("content-length")
                            .and_then(|l| l.parse::<usize>().ok())
                            .unwrap_or(0);
                        while buf.len() < length {
                            let mut chunk = [0u8; 4096];
                            match tls.read(&mut chunk).await {
                                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                                _ => return,
                            }
                        }
                        buf.drain(..length);
                        let reply = answer(&request, tls.get_ref().1);
                        if tls.write_all(&reply).await.is_err() || tls.flush().await.is_err() {
                            return;
                        }
                    }
                }));
            }
        });
        TlsServer {
            addr,
            accepted,
            accepting,
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://<host>:<port><path>`: `host` is the name the client puts in
    /// the URL (and checks the certificate against).
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
