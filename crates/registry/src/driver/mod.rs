//! Storage drivers: they only move bytes. Everything that knows what a blob,
//! a tag or an upload is lives above, in [`crate::paths`] and
//! [`crate::repo`].
//!
//! A driver addresses files by slash-separated relative paths
//! (`blobs/sha256/ab/ab12…/data`); directories exist implicitly while they
//! hold a file. The contract, checked for every driver by the shared suite in
//! `suite.rs`:
//! - `put_content` replaces a file atomically: readers see the old or the
//!   new content, never a mix, and it is durable when it returns.
//! - a [`FileWriter`] appends; `commit` makes what was written durable, after
//!   which `rename` moves it into place atomically (the crash-safety rule:
//!   an upload becomes visible only through that rename).
//! - `NotFound` is reported as [`DriverError::NotFound`] by every call.
//!
//! One real use, pushing a blob: the repository layer opens
//! `writer("repositories/r/_uploads/<id>/data")`, writes the request body
//! while hashing it, `commit`s, checks the digest, then
//! `rename`s the data to `blobs/sha256/<xx>/<hex>/data` and
//! `put_content`s the repository's link. An S3 driver would map the writer to
//! a multipart upload and `rename` to copy-then-delete.

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::time::SystemTime;

pub mod fs;
pub mod memory;
#[cfg(test)]
mod suite;

pub use fs::FsDriver;
pub use memory::MemoryDriver;

/// A stream of file content.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// What a driver call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("path not found: {0}")]
    NotFound(String),
    #[error("invalid storage path {0:?}")]
    InvalidPath(String),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl DriverError {
    pub(crate) fn io(op: &'static str, path: &str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            DriverError::NotFound(path.to_string())
        } else {
            DriverError::Io {
                op,
                path: path.to_string(),
                source,
            }
        }
    }

    /// True for a missing path.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DriverError::NotFound(_))
    }
}

pub type Result<T, E = DriverError> = std::result::Result<T, E>;

/// What `stat` tells about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub size: u64,
    pub is_dir: bool,
    pub modified: SystemTime,
}

/// A backend that stores files by path.
#[async_trait]
pub trait StorageDriver: Send + Sync + std::fmt::Debug + 'static {
    /// Short name for logs (`filesystem`, `inmemory`).
    fn name(&self) -> &'static str;
    /// Reads a whole (small) file.
    async fn get_content(&self, path: &str) -> Result<Bytes>;
    /// Writes a whole (small) file atomically and durably, creating parents.
    async fn put_content(&self, path: &str, content: Bytes) -> Result<()>;
    /// Streams the file from `offset`, `len` bytes or to its end.
    async fn read(&self, path: &str, offset: u64, len: Option<u64>) -> Result<ByteStream>;
    /// Opens a writer appending to `path` (created if missing, with parents).
    async fn writer(&self, path: &str) -> Result<Box<dyn FileWriter>>;
    /// Size, kind and modification time.
    async fn stat(&self, path: &str) -> Result<FileInfo>;
    /// Names of the direct children of a directory, sorted.
    async fn list(&self, path: &str) -> Result<Vec<String>>;
    /// Moves a file atomically, replacing `to` and creating its parents.
    async fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Deletes a file or a whole directory tree.
    async fn delete(&self, path: &str) -> Result<()>;
}

/// An appending writer from [`StorageDriver::writer`].
#[async_trait]
pub trait FileWriter: Send {
    /// Appends bytes (possibly buffered).
    async fn write(&mut self, data: Bytes) -> Result<()>;
    /// Bytes in the file, including buffered ones.
    fn size(&self) -> u64;
    /// Pushes buffered bytes to the file so `read`/`stat` see them.
    async fn flush(&mut self) -> Result<()>;
    /// Flushes and makes the content durable (fsync).
    async fn commit(&mut self) -> Result<()>;
}

/// Checks a driver path: relative, no empty, `.` or `..` components.
pub(crate) fn check_path(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    if ok {
        Ok(())
    } else {
        Err(DriverError::InvalidPath(path.to_string()))
    }
}
