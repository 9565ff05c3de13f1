//! Registry errors. Each variant is one of the distribution spec's error
//! codes; `http::error` maps them to a status and JSON body in one place.

use crate::driver::DriverError;
use base::Digest;

/// A registry operation failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("blob unknown to registry: {0}")]
    BlobUnknown(Digest),
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    #[error("blob upload unknown to registry: {0}")]
    BlobUploadUnknown(String),
    #[error("chunk out of order: upload {id} has {size} bytes, chunk starts at {start}")]
    RangeInvalid { id: String, size: u64, start: u64 },
    #[error("requested range not satisfiable (blob has {size} bytes)")]
    RangeNotSatisfiable { size: u64 },
    #[error("provided digest did not match uploaded content: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("invalid digest {0:?}")]
    DigestInvalid(String),
    #[error("manifest references a manifest or blob unknown to registry: {0}")]
    ManifestBlobUnknown(Digest),
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    #[error("manifest unknown to registry: {0}")]
    ManifestUnknown(String),
    #[error("manifest too large: {size} bytes, the limit is {limit}")]
    ManifestTooLarge { size: u64, limit: u64 },
    #[error("invalid repository name {0:?}")]
    NameInvalid(String),
    #[error("repository name not known to registry: {0}")]
    NameUnknown(String),
    #[error("invalid tag {0:?}")]
    TagInvalid(String),
    #[error("provided length did not match content length: {0}")]
    SizeInvalid(String),
    #[error("no such endpoint: {0}")]
    RouteUnknown(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("{0} is disabled on this registry")]
    Disabled(&'static str),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("authentication required")]
    Unauthorized {
        /// The `WWW-Authenticate` challenge to send.
        challenge: String,
        /// What was requested, for the error detail.
        scope: Option<String>,
    },
    #[error("requested access to the resource is denied")]
    Denied,
    #[error("reading request body: {0}")]
    Body(String),
    #[error("storage: {0}")]
    Storage(#[from] DriverError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
