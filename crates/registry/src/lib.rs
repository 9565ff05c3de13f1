//! berth-registry: an OCI Distribution Spec 1.1 registry server.
//!
//! Layers, top to bottom: [`http`] (routes, auth, errors → status),
//! [`repo::Registry`] (blobs, uploads, manifests, tags, referrers, catalog,
//! in the layout of [`paths`]), and a [`driver::StorageDriver`] that only
//! moves bytes (filesystem, in-memory). [`gc`] collects unreferenced blobs.

pub mod auth;
pub mod config;
pub mod driver;
pub mod error;
pub mod gc;
pub mod http;
pub mod manifest;
pub mod names;
pub mod paths;
pub mod repo;
pub mod tls;

pub use config::Config;
pub use error::{Error, Result};
pub use repo::Registry;

use std::sync::Arc;

/// Opens the storage a configuration names.
pub async fn open_registry(cfg: &Config) -> Result<Registry> {
    let driver: Arc<dyn driver::StorageDriver> = match cfg.storage.driver.as_str() {
        "inmemory" => Arc::new(driver::MemoryDriver::new()),
        _ => Arc::new(driver::FsDriver::new(&cfg.storage.root)?),
    };
    let opts = repo::Options {
        delete_enabled: cfg.storage.delete_enabled,
        max_manifest_size: cfg.storage.max_manifest_size,
    };
    Registry::open(driver, opts).await
}

/// A registry ready to serve: state, routes and TLS settings.
pub struct Server {
    pub state: Arc<http::AppState>,
    pub app: axum::Router,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    purge_after: std::time::Duration,
}

/// Why a server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("storage: {0}")]
    Storage(#[from] Error),
    #[error("auth: {0}")]
    Auth(#[from] auth::AuthSetupError),
    #[error("tls: {0}")]
    Tls(#[from] tls::TlsError),
}

impl Server {
    /// Builds the server a configuration describes.
    pub async fn new(cfg: &Config) -> std::result::Result<Server, SetupError> {
        let registry = open_registry(cfg).await?;
        let auth = auth::Auth::from_config(&cfg.auth)?;
        let tls = cfg
            .http
            .tls
            .as_ref()
            .map(|t| tls::server_config(&t.cert, &t.key))
            .transpose()?;
        let state = Arc::new(http::AppState::new(registry, auth, tls.is_some()));
        let app = http::router(state.clone(), cfg.http.metrics);
        Ok(Server {
            state,
            app,
            tls,
            purge_after: std::time::Duration::from_secs(cfg.storage.upload_purge_after_secs),
        })
    }

    /// Serves on `listener` until `shutdown`, purging stale uploads hourly.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let purge_after = self.purge_after;
        let purger = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                match state.registry.purge_uploads(purge_after).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "stale uploads removed"),
                    Err(e) => tracing::warn!(error = %e, "purging uploads"),
                }
            }
        });
        let res = http::serve(listener, self.app, self.tls, shutdown).await;
        purger.abort();
        res
    }
}
