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

/// What a client knows of TLS: the docker CLI's flags and environment.
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
        let ca = o
            .ca
            .as_deref()
            .ok_or_else(|| Error::Tls("--tlsverify needs a CA certificate (--tlscacert)".into()))?;
        for c in CertificateDer::pem_file_iter(ca).map_err(|e| bad(ca, e))? {
            roots
                .add(c.map_err(|e| bad(ca, e))?)
                .map_err(|e| bad(ca, e))?;
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
