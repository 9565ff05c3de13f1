//! Error type returned by every [`crate::Client`] call.

use std::io;

/// Errors returned by the API client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The daemon answered with a non-success status. `message` is the
    /// `message` field of Docker's `{"message": "..."}` error body (or the
    /// raw body text when it is not JSON).
    #[error("Error response from daemon: {message}")]
    Api {
        /// HTTP status code (e.g. 404, 409, 500).
        status: u16,
        /// Daemon-supplied message, without the "Error response from daemon:" prefix.
        message: String,
    },
    /// Could not connect to the daemon socket / address.
    #[error("Cannot connect to the daemon at {host}. Is the daemon running? ({source})")]
    Connect {
        /// The host string as given (e.g. `unix:///run/berth/berth.sock`).
        host: String,
        /// Underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The host string could not be parsed.
    #[error("invalid host {0:?}: expected unix:///path or tcp://host:port")]
    InvalidHost(String),
    /// TLS material that cannot be used, or a handshake that failed.
    #[error("{0}")]
    Tls(String),
    /// HTTP protocol error (malformed response, connection closed mid-request, ...).
    #[error("error during connect to {host}: {message}")]
    Protocol {
        /// The host string.
        host: String,
        /// Description of the failure.
        message: String,
    },
    /// The response body could not be decoded as the requested JSON type.
    #[error("error decoding response from daemon: {0}")]
    Json(#[from] serde_json::Error),
    /// I/O error while streaming a body.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// HTTP status for [`Error::Api`], `None` otherwise.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for `Error::Api` with status 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The daemon message for [`Error::Api`], or the full display string otherwise.
    pub fn message(&self) -> String {
        match self {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// Build an [`Error::Api`] from a status and a raw error body, parsing
    /// Docker's `{"message": "..."}` JSON when present.
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        let message = parse_error_message(status, body);
        Error::Api { status, message }
    }
}

/// Extract the message from a Docker error body.
pub(crate) fn parse_error_message(status: u16, body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    let text = String::from_utf8_lossy(body).trim().to_string();
    if text.is_empty() {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        format!("{status} {reason}").trim().to_string()
    } else {
        text
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_message() {
        let e = Error::from_response(404, br#"{"message":"No such container: x"}"#);
        assert_eq!(
            e.to_string(),
            "Error response from daemon: No such container: x"
        );
        assert!(e.is_not_found());
        assert_eq!(e.message(), "No such container: x");
    }

    #[test]
    fn plain_text_and_empty_bodies() {
        assert_eq!(parse_error_message(500, b"boom\n"), "boom");
        assert_eq!(parse_error_message(404, b""), "404 Not Found");
        assert_eq!(parse_error_message(400, b"{\"other\":1}"), "{\"other\":1}");
    }
}
