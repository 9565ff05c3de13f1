//! The daemon's stores, each owning its own data under the data root:
//! content (blobs by digest), snapshots (overlay layers and container
//! upper dirs) and metadata (the embedded database).
//!
//! **Architecture Invariant:** stores know nothing of HTTP or of the Docker
//! API; they take and return plain values and [`base::Error`]s.

pub mod content;
pub mod dirs;
pub mod metadata;
pub mod snapshot;
