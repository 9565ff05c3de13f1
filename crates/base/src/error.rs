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
        if let Some(why) = host_failure(&err) {
            return Error::internal(format!("{context}: {why}"));
        }
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

/// The host's own trouble behind an I/O error, worded as Docker (Go) words
/// it: a full disk, a quota, a read-only or failing filesystem, no memory or
/// no descriptors left. Looks through wrapped errors (the tar crate wraps
/// the error a write hit). `None` for anything else, which may well be the
/// input's fault.
pub fn host_failure(err: &std::io::Error) -> Option<&'static str> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    // Bounded: a chain of wrapped errors is short.
    for _ in 0..16 {
        let Some(e) = cur else { break };
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(code) = io.raw_os_error() {
                // Linux errno values.
                return match code {
                    28 => Some("no space left on device"),
                    122 => Some("disk quota exceeded"),
                    30 => Some("read-only file system"),
                    5 => Some("input/output error"),
                    12 => Some("cannot allocate memory"),
                    24 => Some("too many open files"),
                    23 => Some("too many open files in system"),
                    _ => None,
                };
            }
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = e.source();
    }
    None
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

    /// An error that wraps another, as the tar crate's does.
    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("failed to unpack `f`")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn host_failures_are_found_through_wrappers() {
        let enospc = std::io::Error::from_raw_os_error(28);
        assert_eq!(host_failure(&enospc), Some("no space left on device"));
        let wrapped = std::io::Error::other(Wrapped(std::io::Error::from_raw_os_error(28)));
        assert_eq!(host_failure(&wrapped), Some("no space left on device"));
        let e = Error::io("write /data/x", wrapped);
        assert_eq!(e.kind, ErrorKind::Internal);
        assert_eq!(e.message, "write /data/x: no space left on device");
        // The input's faults are not the host's.
        let bad = std::io::Error::other(Wrapped(std::io::Error::from(
            std::io::ErrorKind::InvalidData,
        )));
        assert_eq!(host_failure(&bad), None);
        assert_eq!(host_failure(&std::io::Error::from_raw_os_error(2)), None);
    }
}
