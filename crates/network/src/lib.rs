//! berth's networking: networks and their bridges, IPAM, container
//! endpoints (veth pairs into a persistent namespace per container),
//! published ports through the kernel (nftables DNAT), the firewall table
//! and the embedded DNS of user-defined networks. Knows nothing of HTTP;
//! the engine composes it with the container service.

pub mod dns;
pub mod firewall;
pub mod ipam;
pub mod kernel;
pub mod ports;
mod service;

pub use service::{
    host_resolv, AttachRequest, Attached, Config, EndpointRecord, NetworkRecord, NetworkService,
};

/// Whether `labels` satisfy every `key` or `key=value` filter.
pub fn labels_match(want: Option<&Vec<String>>, labels: &api_types::Labels) -> bool {
    want.is_none_or(|w| {
        w.iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
            None => labels.contains_key(f),
        })
    })
}
