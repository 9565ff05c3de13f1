//! The volume API of the engine: the volume service's operations that
//! touch the disk, off the async workers, with Docker's volume events.

use crate::Engine;
use api_types::volume::{Volume, VolumeCreateOptions, VolumePruneResponse};
use base::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Engine {
    /// `POST /volumes/create`.
    pub async fn volume_create(self: &Arc<Self>, req: VolumeCreateOptions) -> Result<Volume> {
        let vols = self.volumes.clone();
        let existed = !req.name.is_empty() && vols.get(&req.name).is_some();
        let v = tokio::task::spawn_blocking(move || vols.create(req))
            .await
            .map_err(|e| Error::internal(format!("volume task: {e}")))??;
        if !existed {
            self.volume_event("create", &v.name);
        }
        Ok(v)
    }

    /// `DELETE /volumes/{name}`.
    pub async fn volume_remove(self: &Arc<Self>, name: &str, force: bool) -> Result<()> {
        let (vols, n) = (self.volumes.clone(), name.to_string());
        let existed = vols.get(name).is_some();
        tokio::task::spawn_blocking(move || vols.remove(&n, force))
            .await
            .map_err(|e| Error::internal(format!("volume task: {e}")))??;
        if existed {
            self.volume_event("destroy", name);
        }
        Ok(())
    }

    /// `POST /volumes/prune`.
    pub async fn volume_prune(
        self: &Arc<Self>,
        filters: BTreeMap<String, Vec<String>>,
        all: bool,
    ) -> Result<VolumePruneResponse> {
        let vols = self.volumes.clone();
        let r = tokio::task::spawn_blocking(move || vols.prune(&filters, all))
            .await
            .map_err(|e| Error::internal(format!("volume task: {e}")))??;
        for n in r.volumes_deleted.iter().flatten() {
            self.volume_event("destroy", n);
        }
        Ok(r)
    }

    fn volume_event(&self, action: &str, name: &str) {
        let attrs = serde_json::Map::from_iter([(
            "driver".to_string(),
            serde_json::Value::String("local".into()),
        )]);
        self.images.events().publish("volume", action, name, attrs);
    }
}
