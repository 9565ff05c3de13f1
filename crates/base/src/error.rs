//! Error kinds shared by every layer. The API server maps a kind to an HTTP
//! status in one place; libraries only say what went wrong.

use std::fmt;

/// What kind of failure an error is; decides the HTTP status at the API edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    InvalidArgument,
    Conflict,
    NotModified,
    Unauthorized,
    Forbidden,
    Unavailable,
    NotImplemented,
    Internal,
}

/// An error with a kind and a lowercase, human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! ctor {
    ($name:ident, $kind:ident) => {
        #[doc = concat!("An error of kind `", stringify!($kind), "`.")]
        pub fn $name(message: impl Into<String>) -> Self {
            Error {
                kind: ErrorKind::$kind,
                message: message.into(),
            }
        }
    };
}

impl Error {
    ctor!(not_found, NotFound);
    ctor!(invalid, InvalidArgument);
    ctor!(conflict, Conflict);
    ctor!(not_modified, NotModified);
    ctor!(unauthorized, Unauthorized);
    ctor!(forbidden, Forbidden);
    ctor!(unavailable, Unavailable);
    ctor!(not_implemented, NotImplemented);
    ctor!(internal, Internal);

    /// Wraps an I/O error with what was being done, as an internal error.
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Internal,
        };
        Error {
            kind,
            message: format!("{context}: {err}"),
        }
    }

    /// Prefixes the message with context, keeping the kind.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

/// Adds context to results from std.
pub trait IoContext<T> {
    fn ctx(self, context: impl fmt::Display) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn ctx(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::io(context, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_not_found_keeps_kind() {
        let e = Error::io(
            "open /x",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.starts_with("open /x: "));
    }
}
