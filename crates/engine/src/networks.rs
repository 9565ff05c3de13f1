//! The network API of the engine: the network service's operations, run off
//! the async workers (they talk to the kernel), with the container
//! service's names and Docker's network events.

use crate::containers::Filters;
use crate::Engine;
use api_types::network::{
    Network, NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse,
};
use base::{Error, Result};
use serde_json::{Map, Value};
use std::sync::Arc;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("network task: {e}")))?
}

fn attrs(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

impl Engine {
    fn names(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |id| self.containers.container_name(id)
    }

    /// `GET /networks`.
    pub fn network_list(&self, filters: &Filters) -> Result<Vec<Network>> {
        self.networks.list(filters, &self.names())
    }

    /// `GET /networks/{id}`.
    pub fn network_inspect(&self, id: &str) -> Result<Network> {
        self.networks.inspect(id, &self.names())
    }

    /// `POST /networks/create`.
    pub async fn network_create(
        self: &Arc<Self>,
        req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse> {
        let nets = self.networks.clone();
        let n = blocking(move || nets.create(req)).await?;
        self.images.events().publish(
            "network",
            "create",
            &n.id,
            attrs(&[("name", &n.name), ("type", &n.driver)]),
        );
        Ok(NetworkCreateResponse {
            id: n.id,
            warning: String::new(),
        })
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(self: &Arc<Self>, id: &str) -> Result<()> {
        let (nets, id) = (self.networks.clone(), id.to_string());
        let r = blocking(move || nets.remove_checked(&id)).await?;
        self.images.events().publish(
            "network",
            "destroy",
            &r.id,
            attrs(&[("name", &r.name), ("type", &r.driver)]),
        );
        Ok(())
    }

    /// `POST /networks/prune`.
    pub async fn network_prune(
        self: &Arc<Self>,
        filters: &Filters,
    ) -> Result<NetworkPruneResponse> {
        for k in filters.keys() {
            if !matches!(k.as_str(), "label" | "label!" | "until") {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
        }
        let until = match filters.get("until").and_then(|v| v.last()) {
            Some(u) => Some(crate::containers::parse_until(u).ok_or_else(|| {
                Error::invalid(format!("failed to parse value {u:?} of filter \"until\""))
            })?),
            None => None,
        };
        let (nets, f) = (self.networks.clone(), filters.clone());
        let deleted = blocking(move || nets.prune(&f, until)).await?;
        Ok(NetworkPruneResponse {
            networks_deleted: (!deleted.is_empty()).then_some(deleted),
        })
    }
}
