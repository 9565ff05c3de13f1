//! TLS to a daemon's TCP socket, as the docker CLI's `--tls` and
//! `--tlsverify`: with verification, the daemon's certificate must chain to
//! the CA given (`ca.pem`); without it (`--tls` alone) any certificate is
//! taken, as the docker CLI does. A client certificate and key are offered
//! when given (a daemon with `--tlsverify` requires them).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// What a client knows of TLS: the docker CLI's flags and environment, or
/// a context's endpoint (`ca` absent: the system's roots).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Verify the daemon's certificate against `ca`.
    pub verify: bool,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

fn bad(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Tls(format!("could not read {}: {e}", path.display()))
}

/// Takes any certificate: `--tls` without `--tlsverify`.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A rustls client configuration for these options.
pub fn client_config(o: &TlsOptions) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = if o.verify {
        let mut roots = rustls::RootCertStore::empty();
        match o.ca.as_deref() {
            Some(ca) => {
                for c in CertificateDer::pem_file_iter(ca).map_err(|e| bad(ca, e))? {
                    roots
                        .add(c.map_err(|e| bad(ca, e))?)
                        .map_err(|e| bad(ca, e))?;
                }
            }
            // A context with TLS material but no ca.pem: the system's
            // roots, as Go's TLS client takes them.
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    };
    let mut cfg = match (&o.cert, &o.key) {
        (Some(cert), Some(key)) if cert.exists() && key.exists() => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad(cert, e))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(cert, e))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Tls(e.to_string()))?
        }
        _ => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Checks a context's TLS material as the docker CLI does before it stores
/// it (`docker context create --docker ca=...,cert=...,key=...`), with its
/// messages: the CA must hold a certificate, and a certificate and key
/// given together must both parse.
pub fn check_material(
    ca: Option<&[u8]>,
    cert: Option<&[u8]>,
    key: Option<&[u8]>,
) -> std::result::Result<(), String> {
    if let Some(ca) = ca {
        let any = CertificateDer::pem_slice_iter(ca).any(|c| c.is_ok());
        if !any {
            return Err("failed to retrieve context tls info: ca.pem seems invalid".into());
        }
    }
    if let (Some(cert), Some(key)) = (cert, key) {
        let text = String::from_utf8_lossy(key);
        if !text.contains("-----BEGIN ") {
            return Err("no valid private key found".into());
        }
        if text.contains("ENCRYPTED") {
            return Err("private key is encrypted - support for encrypted private keys has been removed, see https://docs.docker.com/go/deprecated/".into());
        }
        let chain: Vec<_> = CertificateDer::pem_slice_iter(cert)
            .filter_map(|c| c.ok())
            .collect();
        if chain.is_empty() {
            return Err("failed to retrieve context tls info: tls: failed to find any PEM data in certificate input".into());
        }
        if PrivateKeyDer::from_pem_slice(key).is_err() {
            return Err("failed to retrieve context tls info: tls: failed to find any PEM data in key input".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_checks() {
        assert_eq!(
            check_material(Some(b"not a pem"), None, None).unwrap_err(),
            "failed to retrieve context tls info: ca.pem seems invalid"
        );
        assert_eq!(
            check_material(None, Some(b"x"), Some(b"y")).unwrap_err(),
            "no valid private key found"
        );
        // A certificate without its key (or a key alone) is not checked.
        assert!(check_material(None, Some(b"x"), None).is_ok());
        assert!(check_material(None, None, None).is_ok());
    }
}
