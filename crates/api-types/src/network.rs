//! Networking shapes of the Engine API: networks, endpoints, IPAM and
//! published ports (swagger `Network`, `EndpointSettings`, `IPAM`,
//! `NetworkSettings`, `PortBinding`, ...), field for field.

use super::{null_as_default, Labels};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `"80/tcp"` → the host bindings of that port (`null` when exposed only).
pub type PortMap = BTreeMap<String, Option<Vec<PortBinding>>>;

/// One host binding of a container port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    #[serde(deserialize_with = "null_as_default")]
    pub host_ip: String,
    #[serde(deserialize_with = "null_as_default")]
    pub host_port: String,
}

/// A port in `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(rename = "PublicPort", skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub typ: String,
}

/// `IPAMConfig` of an endpoint: the addresses asked for (`--ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointIpamConfig {
    #[serde(
        rename = "IPv4Address",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub ipv4_address: String,
    #[serde(
        rename = "IPv6Address",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub ipv6_address: String,
    #[serde(
        rename = "LinkLocalIPs",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub link_local_ips: Vec<String>,
}

/// A container's endpoint on one network (create's `EndpointsConfig`,
/// inspect's `NetworkSettings.Networks.<name>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    pub links: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub mac_address: String,
    pub aliases: Option<Vec<String>>,
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub gw_priority: i64,
    #[serde(rename = "NetworkID", deserialize_with = "null_as_default")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "null_as_default")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub gateway: String,
    #[serde(rename = "IPAddress", deserialize_with = "null_as_default")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway", deserialize_with = "null_as_default")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "null_as_default")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// `NetworkingConfig` of container create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub endpoints_config: BTreeMap<String, EndpointSettings>,
}

/// `NetworkSettings` of container inspect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    #[serde(deserialize_with = "null_as_default")]
    pub bridge: String,
    #[serde(rename = "SandboxID", deserialize_with = "null_as_default")]
    pub sandbox_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub sandbox_key: String,
    pub hairpin_mode: bool,
    #[serde(rename = "LinkLocalIPv6Address", deserialize_with = "null_as_default")]
    pub link_local_ipv6_address: String,
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    pub link_local_ipv6_prefix_len: u8,
    pub ports: PortMap,
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<String>>,
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<String>>,
    #[serde(rename = "EndpointID", deserialize_with = "null_as_default")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub gateway: String,
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "null_as_default")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    #[serde(rename = "IPAddress", deserialize_with = "null_as_default")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway", deserialize_with = "null_as_default")]
    pub ipv6_gateway: String,
    #[serde(deserialize_with = "null_as_default")]
    pub mac_address: String,
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// One subnet of a network's IPAM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub subnet: String,
    #[serde(
        rename = "IPRange",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub ip_range: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub gateway: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// A network's address management.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    pub options: Option<BTreeMap<String, String>>,
    pub config: Option<Vec<IpamConfig>>,
}

/// A container in network inspect's `Containers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(rename = "EndpointID", deserialize_with = "null_as_default")]
    pub endpoint_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub mac_address: String,
    #[serde(rename = "IPv4Address", deserialize_with = "null_as_default")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address", deserialize_with = "null_as_default")]
    pub ipv6_address: String,
}

/// `ConfigFrom` of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReference {
    #[serde(deserialize_with = "null_as_default")]
    pub network: String,
}

/// A network, as `GET /networks` and `GET /networks/{id}` return it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created: String,
    #[serde(deserialize_with = "null_as_default")]
    pub scope: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: ConfigReference,
    pub config_only: bool,
    pub containers: BTreeMap<String, NetworkContainer>,
    pub options: BTreeMap<String, String>,
    pub labels: Labels,
}

/// `POST /networks/create` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    #[serde(deserialize_with = "null_as_default")]
    pub scope: String,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_only: bool,
    pub config_from: Option<ConfigReference>,
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: Option<bool>,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    pub labels: Labels,
    /// Before API 1.44: refuse a duplicate name (always done now).
    pub check_duplicate: Option<bool>,
}

/// `POST /networks/create` reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub warning: String,
}

/// `POST /networks/{id}/connect` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    #[serde(deserialize_with = "null_as_default")]
    pub container: String,
    pub endpoint_config: Option<EndpointSettings>,
}

/// `POST /networks/{id}/disconnect` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnectRequest {
    #[serde(deserialize_with = "null_as_default")]
    pub container: String,
    pub force: bool,
}

/// `POST /networks/prune` reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneResponse {
    pub networks_deleted: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_in_nested_fields_are_unset_as_in_go() {
        // What docker-py's IPAMPool(subnet=...) sends.
        let r: NetworkCreateRequest = serde_json::from_str(
            r#"{"Name":"n","Driver":null,"IPAM":{"Driver":"default","Config":[{"Subnet":"10.1.0.0/16","IPRange":null,"Gateway":null,"AuxiliaryAddresses":null}]}}"#,
        )
        .unwrap();
        let c = &r.ipam.unwrap().config.unwrap()[0];
        assert_eq!(
            (c.subnet.as_str(), c.ip_range.as_str(), c.gateway.as_str()),
            ("10.1.0.0/16", "", "")
        );
        assert_eq!(r.driver, "");
    }
}
