//! HTTPS: the rustls client configuration (ring provider, Mozilla's roots from
//! webpki-roots plus any [`Certificate`] the user adds, ALPN `http/1.1`).
//!
//! Not here: the handshake itself (`conn.rs`, through futures-rustls).

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::error::{Error, ErrorKind};

/// A certificate to trust as a root, in addition to the built-in ones (see
/// [`ClientBuilder::add_root_certificate`](super::ClientBuilder::add_root_certificate)).
///
/// ```
/// # let pem = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap().cert.pem();
/// use ferrio::http::{Certificate, Client};
/// // `pem` is a PEM file's contents, e.g. from std::fs::read("ca.pem").
/// let ca = Certificate::from_pem(pem.as_bytes()).unwrap();
/// let client = Client::builder().add_root_certificate(ca).build().unwrap();
/// ```
#[derive(Clone)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// A certificate in DER (binary) form. It is checked when the client is built.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Certificate {
        Certificate {
            der: CertificateDer::from(der.into()),
        }
    }

    /// The first certificate in a PEM file's contents.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Tls`] when `pem` holds no certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        CertificateDer::from_pem_slice(pem)
            .map(|der| Certificate { der })
            .map_err(|e| Error::with_source(ErrorKind::Tls, "no certificate in PEM", e))
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// The client configuration: webpki roots plus `extra_roots`.
pub(crate) fn client_config(
    extra_roots: &[Certificate],
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        roots
            .add(cert.der.clone())
            .map_err(|e| Error::with_source(ErrorKind::Tls, "invalid root certificate", e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::with_source(ErrorKind::Tls, "protocol versions", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_the_builtin_roots() {
        let config = client_config(&[]).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn garbage_root_is_a_tls_error() {
        let err = client_config(&[Certificate::from_der(b"not DER".to_vec())]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
        assert_eq!(
            Certificate::from_pem(b"nothing here").unwrap_err().kind(),
            ErrorKind::Tls
        );
    }
}
