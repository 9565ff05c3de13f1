//! Errors of the distribution client. Each variant carries its context
//! (registry, repository, digest) and maps to a [`base::ErrorKind`] through
//! [`Error::kind`]; messages follow Docker's where one exists.

use base::{Digest, ErrorKind};
use serde::Deserialize;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `errors` array of a registry's JSON error body, as the distribution
/// spec defines it; displayed like Docker's errcode (`manifest unknown: manifest unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryErrors {
    /// HTTP status of the response.
    pub status: u16,
    /// The registry's error entries (empty when the body was not JSON).
    pub errors: Vec<RegistryError>,
}

/// One entry of a registry error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RegistryError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl RegistryErrors {
    /// Parses a body such as `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`.
    pub fn parse(status: u16, body: &[u8]) -> RegistryErrors {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            errors: Vec<RegistryError>,
        }
        let errors = serde_json::from_slice::<Body>(body)
            .map(|b| b.errors)
            .unwrap_or_default();
        RegistryErrors { status, errors }
    }

    /// Whether any entry has this code (e.g. `MANIFEST_UNKNOWN`).
    pub fn has_code(&self, code: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.code.eq_ignore_ascii_case(code))
    }

    fn first_code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.code.as_str())
    }
}

impl fmt::Display for RegistryErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |f: &mut fmt::Formatter<'_>, e: &RegistryError| {
            let code = e.code.to_lowercase().replace('_', " ");
            match (code.is_empty(), e.message.is_empty()) {
                (false, false) => write!(f, "{code}: {}", e.message),
                (false, true) => f.write_str(&code),
                _ => f.write_str(&e.message),
            }
        };
        match self.errors.as_slice() {
            // HEAD answers have no body; say what the status means, as Docker does.
            [] if self.status == 401 => f.write_str("unauthorized: authentication required"),
            [] if self.status == 403 => {
                f.write_str("denied: requested access to the resource is denied")
            }
            [] => write!(
                f,
                "received unexpected HTTP status: {} {}",
                self.status,
                http::StatusCode::from_u16(self.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
            ),
            [e] => one(f, e),
            many => {
                f.write_str("errors:")?;
                for e in many {
                    f.write_str("\n")?;
                    one(f, e)?;
                }
                Ok(())
            }
        }
    }
}

/// An error of the distribution client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tag or digest does not exist (404 / `MANIFEST_UNKNOWN`).
    #[error("manifest for {reference} not found: {detail}")]
    ManifestNotFound {
        /// Familiar reference, e.g. `127.0.0.1:5000/x:y`.
        reference: String,
        detail: RegistryErrors,
    },
    /// The repository does not exist (`NAME_UNKNOWN`).
    #[error("repository {repository} not found: {detail}")]
    RepositoryNotFound {
        repository: String,
        detail: RegistryErrors,
    },
    /// An anonymous pull was refused (Docker reports this as not found).
    #[error("pull access denied for {repository}, repository does not exist or may require 'docker login': {detail}")]
    PullAccessDenied {
        repository: String,
        detail: RegistryErrors,
    },
    /// A blob the manifest names is not in the registry.
    #[error("blob {digest} not found in {registry}/{repository}: {detail}")]
    BlobNotFound {
        registry: String,
        repository: String,
        digest: Digest,
        detail: RegistryErrors,
    },
    /// Credentials were missing or rejected (401, or 403 with credentials).
    #[error("{message}")]
    Unauthorized {
        registry: String,
        repository: Option<String>,
        message: String,
    },
    /// Any other error status from the registry.
    #[error("{request}: {detail}")]
    Registry {
        registry: String,
        repository: Option<String>,
        /// Method and URL (without query), e.g. `PUT "http://r/v2/x/manifests/1"`.
        request: String,
        detail: RegistryErrors,
    },
    /// Content did not hash to the digest it was fetched or pushed by.
    #[error("digest mismatch for {registry}/{repository}: expected {expected}, got {actual}")]
    DigestMismatch {
        registry: String,
        repository: String,
        expected: Digest,
        actual: Digest,
    },
    /// Content was longer or shorter than its descriptor says.
    #[error("size mismatch for {registry}/{repository}@{digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        registry: String,
        repository: String,
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    /// A manifest or index that cannot be used.
    #[error("invalid manifest {reference}: {reason}")]
    InvalidManifest { reference: String, reason: String },
    /// No entry of an index matches the requested platform.
    #[error(
        "no matching manifest for {wanted} in the manifest list entries (available: {available})"
    )]
    NoMatchingPlatform {
        reference: String,
        wanted: String,
        available: String,
    },
    /// The registry could not be reached, or the connection broke.
    #[error("{request}: {}", root_cause(source))]
    Connection {
        registry: String,
        /// Method and URL (without query), e.g. `GET "https://r/v2/"`.
        request: String,
        #[source]
        source: reqwest::Error,
    },
    /// A caller-supplied value is malformed (auth header, platform, config).
    #[error("{0}")]
    InvalidArgument(String),
    /// The registry answered in a way the protocol does not allow.
    #[error("{registry}: {message}")]
    Protocol { registry: String, message: String },
    /// Reading the caller's data (upload source, certificate files) failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// TLS setup for a registry failed (bad `certs.d` files).
    #[error("tls configuration for {registry}: {message}")]
    Tls { registry: String, message: String },
}

impl Error {
    /// The kind the API layer maps to an HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ManifestNotFound { .. }
            | Error::RepositoryNotFound { .. }
            | Error::PullAccessDenied { .. }
            | Error::BlobNotFound { .. }
            | Error::NoMatchingPlatform { .. } => ErrorKind::NotFound,
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::Registry { detail, .. } => match detail.status {
                404 => ErrorKind::NotFound,
                401 | 403 => ErrorKind::Unauthorized,
                400 if detail.first_code() == Some("DIGEST_INVALID") => ErrorKind::InvalidArgument,
                400 | 413 | 414 => ErrorKind::InvalidArgument,
                405 => ErrorKind::NotImplemented,
                429 | 502 | 503 | 504 => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            },
            Error::DigestMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::InvalidManifest { .. }
            | Error::InvalidArgument(_)
            | Error::Tls { .. } => ErrorKind::InvalidArgument,
            Error::Connection { .. } => ErrorKind::Unavailable,
            Error::Protocol { .. } | Error::Io { .. } => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(context: impl fmt::Display, source: std::io::Error) -> Error {
        Error::Io {
            context: context.to_string(),
            source,
        }
    }
}

/// The innermost error of a chain (e.g. `Connection refused (os error 111)`
/// under reqwest's generic "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `METHOD "url"` as Go's net/http prints a request in errors.
pub(crate) fn request(method: impl fmt::Display, url: impl fmt::Display) -> String {
    format!("{method} \"{url}\"")
}

impl From<Error> for base::Error {
    fn from(e: Error) -> base::Error {
        base::Error {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcode_display() {
        let cases: [(&[u8], &str); 4] = [
            (
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"y"}}]}"#,
                "manifest unknown: manifest unknown",
            ),
            (
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"},{"code":"DENIED","message":"no"}]}"#,
                "errors:\nunauthorized: authentication required\ndenied: no",
            ),
            (b"<html>oops</html>", "received unexpected HTTP status: 500 Internal Server Error"),
            (br#"{"errors":[{"code":"","message":"plain"}]}"#, "plain"),
        ];
        for (body, want) in cases {
            let status = if want.contains("500") { 500 } else { 404 };
            assert_eq!(RegistryErrors::parse(status, body).to_string(), want);
        }
    }

    #[test]
    fn docker_messages_and_kinds() {
        let detail = RegistryErrors::parse(
            404,
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
        let e = Error::ManifestNotFound {
            reference: "127.0.0.1:5000/x:y".into(),
            detail: detail.clone(),
        };
        assert_eq!(
            e.to_string(),
            "manifest for 127.0.0.1:5000/x:y not found: manifest unknown: manifest unknown"
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = Error::PullAccessDenied {
            repository: "x".into(),
            detail: RegistryErrors::parse(
                401,
                br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
        };
        assert_eq!(e.to_string(), "pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
        let b: base::Error = e.into();
        assert_eq!(b.kind, ErrorKind::NotFound);
        let e = Error::Registry {
            registry: "r".into(),
            repository: None,
            request: "GET \"http://r/v2/\"".into(),
            detail: RegistryErrors {
                status: 503,
                errors: vec![],
            },
        };
        assert_eq!(e.kind(), ErrorKind::Unavailable);
    }
}
