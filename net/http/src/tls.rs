//! HTTPS: the rustls client configuration (ring provider, Mozilla's roots from
//! webpki-roots plus any [`Certificate`] the user adds, ALPN `http/1.1`, and
//! a client certificate, an [`Identity`], for servers that ask for one).
//!
//! Not here: the handshake itself (`conn.rs`, through futures-rustls).

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

/// A client certificate chain and its private key, for servers that ask the
/// client to prove who it is (mutual TLS); see
/// [`ClientBuilder::identity`](super::ClientBuilder::identity).
///
/// ```
/// # let key = rcgen::KeyPair::generate().unwrap();
/// # let cert = rcgen::CertificateParams::new(vec!["me".into()]).unwrap().self_signed(&key).unwrap();
/// # let (chain_pem, key_pem) = (cert.pem(), key.serialize_pem());
/// use ferrio::http::{Client, Identity};
/// // PEM files' contents, e.g. from std::fs::read("client.pem") and ("client.key").
/// let identity = Identity::from_pem(chain_pem.as_bytes(), key_pem.as_bytes()).unwrap();
/// let client = Client::builder().identity(identity).build().unwrap();
/// # drop(client);
/// ```
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// From PEM: `chain` holds the client's certificate first, then any
    /// intermediates; `key` its private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Tls`] when `chain` holds no certificate or `key` no key.
    /// That the key matches the certificate is checked when the client is built.
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<Identity, Error> {
        let chain = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::with_source(ErrorKind::Tls, "client certificate PEM", e))?;
        if chain.is_empty() {
            return Err(Error::new(
                ErrorKind::Tls,
                "no certificate in the client chain PEM",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| Error::with_source(ErrorKind::Tls, "no private key in PEM", e))?;
        Ok(Identity { chain, key })
    }
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a secret.
        f.debug_struct("Identity")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The client configuration: webpki roots plus `extra_roots`, and `identity`
/// for servers that ask for a client certificate.
pub(crate) fn client_config(
    extra_roots: &[Certificate],
    identity: Option<&Identity>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        roots
            .add(cert.der.clone())
            .map_err(|e| Error::with_source(ErrorKind::Tls, "invalid root certificate", e))?;
    }
    // rustls 0.23.48 deprecates ring's provider (no post-quantum key
    // exchange); ring stays, as aws-lc-rs would add a C and CMake build.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::with_source(ErrorKind::Tls, "protocol versions", e))?
        .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|e| Error::with_source(ErrorKind::Tls, "client certificate and key", e))?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_the_builtin_roots() {
        let config = client_config(&[], None).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn garbage_root_is_a_tls_error() {
        let err = client_config(&[Certificate::from_der(b"not DER".to_vec())], None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
        assert_eq!(
            Certificate::from_pem(b"nothing here").unwrap_err().kind(),
            ErrorKind::Tls
        );
    }

    #[test]
    fn an_identity_needs_a_certificate_and_a_matching_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["me".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (chain, key_pem) = (cert.pem(), key.serialize_pem());
        let identity = Identity::from_pem(chain.as_bytes(), key_pem.as_bytes()).unwrap();
        assert!(client_config(&[], Some(&identity)).is_ok());
        assert!(format!("{identity:?}").contains("chain_len: 1"));
        let no_cert = Identity::from_pem(b"", key_pem.as_bytes()).unwrap_err();
        assert_eq!(no_cert.kind(), ErrorKind::Tls);
        let no_key = Identity::from_pem(chain.as_bytes(), b"").unwrap_err();
        assert_eq!(no_key.kind(), ErrorKind::Tls);
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let mismatched = Identity::from_pem(chain.as_bytes(), other.as_bytes()).unwrap();
        let err = client_config(&[], Some(&mismatched)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
    }
}
