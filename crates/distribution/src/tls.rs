//! TLS: the system's trust roots plus Docker-style per-registry files in a
//! `certs.d` directory:
//!
//! ```text
//! <certs_dir>/<host[:port]>/
//!   *.crt                  extra CA certificates for this registry
//!   <name>.cert <name>.key client certificate and its key
//! ```

use crate::error::{Error, Result};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// The system's trust roots (rustls-native-certs reads the distribution's
/// bundle; `SSL_CERT_FILE`/`SSL_CERT_DIR` override it).
pub(crate) fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "loading system certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    tracing::debug!(added, ignored, "system trust roots");
    roots
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(registry: &str, message: impl Into<String>) -> Error {
    Error::Tls {
        registry: registry.to_string(),
        message: message.into(),
    }
}

/// A rustls client configuration for `host`: `roots` plus what
/// `<certs_dir>/<host>/` holds. Returns `Ok(None)` when that directory does
/// not exist (the shared default configuration then applies).
pub(crate) fn host_config(
    roots: &RootCertStore,
    certs_dir: Option<&Path>,
    host: &str,
) -> Result<Option<rustls::ClientConfig>> {
    let Some(dir) = certs_dir.map(|d| d.join(host)) else {
        return Ok(None);
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("read {}", dir.display()), e)),
    };
    let mut roots = roots.clone();
    let mut client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> = None;
    let mut names: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "crt" => {
                let certs = CertificateDer::pem_file_iter(&path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| tls_err(host, format!("{}: {e}", path.display())))?;
                for c in certs {
                    roots
                        .add(c)
                        .map_err(|e| tls_err(host, format!("{}: {e}", path.display())))?;
                }
            }
            "cert" => {
                let key_path = path.with_extension("key");
                if !key_path.exists() {
                    return Err(tls_err(
                        host,
                        format!(
                            "missing key {} for client certificate {}",
                            key_path.display(),
                            path.display()
                        ),
                    ));
                }
                let chain = CertificateDer::pem_file_iter(&path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| tls_err(host, format!("{}: {e}", path.display())))?;
                let key = PrivateKeyDer::from_pem_file(&key_path)
                    .map_err(|e| tls_err(host, format!("{}: {e}", key_path.display())))?;
                client = Some((chain, key));
            }
            "key" if !path.with_extension("cert").exists() => {
                return Err(tls_err(
                    host,
                    format!("missing client certificate for key {}", path.display()),
                ));
            }
            _ => {}
        }
    }
    Ok(Some(build(host, roots, client)?))
}

/// The configuration for registries without a `certs.d` directory.
pub(crate) fn default_config(roots: RootCertStore) -> Result<rustls::ClientConfig> {
    build("default", roots, None)
}

fn build(
    host: &str,
    roots: RootCertStore,
    client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<rustls::ClientConfig> {
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(host, e.to_string()))?
        .with_root_certificates(roots);
    match client {
        Some((chain, key)) => b
            .with_client_auth_cert(chain, key)
            .map_err(|e| tls_err(host, e.to_string())),
        None => Ok(b.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certs_dir_handling() {
        let tmp = tempfile::Builder::new()
            .prefix("berth-dist")
            .tempdir()
            .unwrap();
        let roots = RootCertStore::empty();
        // No directory at all, or none for this host: the default applies.
        assert!(host_config(&roots, None, "r:5000").unwrap().is_none());
        assert!(host_config(&roots, Some(tmp.path()), "r:5000")
            .unwrap()
            .is_none());
        // An empty host directory still yields a config.
        std::fs::create_dir(tmp.path().join("r:5000")).unwrap();
        assert!(host_config(&roots, Some(tmp.path()), "r:5000")
            .unwrap()
            .is_some());
        // A client certificate without its key is refused, as dockerd does.
        std::fs::write(tmp.path().join("r:5000/client.cert"), "x").unwrap();
        let e = host_config(&roots, Some(tmp.path()), "r:5000").unwrap_err();
        assert!(e.to_string().contains("missing key"), "{e}");
        std::fs::remove_file(tmp.path().join("r:5000/client.cert")).unwrap();
        // A CA file that is not PEM is an error naming the file.
        std::fs::write(tmp.path().join("r:5000/ca.crt"), "garbage").unwrap();
        let r = host_config(&roots, Some(tmp.path()), "r:5000");
        // pki-types skips non-PEM text, so an empty bundle is accepted.
        assert!(r.is_ok(), "{:?}", r.err());
    }
}
