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

use base::filters::labels_match;
