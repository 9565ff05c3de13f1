//! OCI Distribution client: what berthd uses to pull from and push to
//! registries (the CNCF registry, Docker Hub, berth-registry, any OCI
//! registry).
//!
//! - [`Client`]: one per daemon. Holds the HTTP connection pools (one
//!   `reqwest` client, plus one per registry with a `certs.d` directory), the
//!   auth challenge and token caches, and the mirror and insecure-registry
//!   configuration ([`Config`]).
//! - [`Repository`]: a repository plus the caller's credentials
//!   ([`AuthConfig`], decoded from `X-Registry-Auth`). Every pull and push
//!   operation is a method on it; it is cheap to clone into parallel tasks.
//!
//! Pull: resolve, pick the platform, fetch the config, stream the layers
//! (in parallel: each [`BlobStream`] is independent and verifies itself).
//!
//! ```no_run
//! # async fn pull() -> Result<(), distribution::Error> {
//! use distribution::{AuthConfig, Client, Config, Platform, Progress, manifest_reference};
//! use futures_util::StreamExt;
//!
//! let client = Client::new(Config::default())?;
//! let reference = base::Reference::parse_tagged("127.0.0.1:5000/app:1").unwrap();
//! let auth = AuthConfig::from_header("")?; // X-Registry-Auth
//! let repo = client.repository(&reference, &auth)?;
//! let resolved = repo
//!     .resolve(&manifest_reference(&reference), &Platform::host())
//!     .await?;
//! let config = repo.fetch_blob_bytes(&resolved.image.config).await?;
//! let (progress, mut events) = Progress::channel(); // -> Docker's JSON progress
//! for layer in &resolved.image.layers {
//!     let mut blob = repo.fetch_blob(layer, &progress).await?;
//!     while let Some(chunk) = blob.next().await {
//!         let chunk = chunk?; // the last item is an error if the digest is wrong
//!         // write/decompress/extract `chunk`
//! #       let _ = chunk;
//!     }
//!     // clean end of stream: size and digest verified; commit the layer
//! }
//! // `resolved.digest()` is the repo digest (the index's when there is one).
//! # let _ = (config, events.try_recv());
//! # Ok(()) }
//! ```
//!
//! Push: blobs first (each skipped, mounted or uploaded), then the manifest
//! under its tag.
//!
//! ```no_run
//! # async fn push(layer_file: tokio::fs::File, layer: distribution::Descriptor,
//! #   config: bytes::Bytes, manifest: bytes::Bytes) -> Result<(), distribution::Error> {
//! use distribution::{media_type, AuthConfig, Client, Config, Descriptor, Progress};
//!
//! let client = Client::new(Config::default())?;
//! let reference = base::Reference::parse_tagged("127.0.0.1:5000/app:1").unwrap();
//! let repo = client.repository(&reference, &AuthConfig::basic("user", "pass"))?;
//! let progress = Progress::new(|e| println!("{}: {} {}/{}", e.id(), e.status, e.current, e.total));
//! // Mount candidates: repositories of this registry known to have the blob.
//! repo.push_blob(&layer, layer_file, &["library/base".to_string()], &progress).await?;
//! repo.push_blob_bytes(&Descriptor::of(media_type::OCI_CONFIG, &config), config).await?;
//! let digest = repo.put_manifest("1", media_type::OCI_MANIFEST, manifest).await?;
//! # let _ = digest; Ok(()) }
//! ```
//!
//! Errors carry their context and a [`base::ErrorKind`] ([`Error::kind`]);
//! `base::Error: From<Error>`.

mod auth;
mod client;
mod endpoint;
mod error;
pub mod manifest;
mod platform;
mod progress;
mod pull;
mod push;
mod tls;

pub use auth::{parse_challenges, AuthConfig, Challenge};
pub use client::{search_target, Client, Config, LoginOutcome, Repository, SearchResult};
pub use endpoint::{normalize_registry, Endpoint, InsecureRegistries, DOCKER_HUB, DOCKER_HUB_HOST};
pub use error::{Error, RegistryError, RegistryErrors, Result};
pub use manifest::{
    media_type, Compression, Descriptor, ImageIndex, ImageManifest, Manifest, ManifestContent,
};
pub use platform::Platform;
pub use progress::{Event, Progress, Status};
pub use pull::{manifest_reference, BlobStream, Resolved, MAX_IN_MEMORY_BLOB};
pub use push::{MountOutcome, PushedBlob, Upload};
