//! The network service: networks (records in the metadata database, with
//! their bridges), endpoints of running containers (also records, so a
//! restarted daemon knows which addresses and ports are taken), IPAM,
//! published ports, the firewall table and the embedded DNS.

use crate::dns::{self, Resolver};
use crate::firewall;
use crate::ipam::{self, Pool, Subnet};
use crate::kernel::{self, Interface};
use crate::ports::{self, Published, Reservation};
use api_types::network::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, Network, NetworkContainer,
    NetworkCreateRequest, PortMap,
};
use api_types::Labels;
use base::{Error, Result};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use store::metadata::{Metadata, Table};

/// Endpoint driver options (`--network name=...,driver-opt=...`) that
/// dockerd's bridge driver applies and berth does not yet.
const APPLIED_ENDPOINT_OPTS: [&str; 2] = [
    "com.docker.network.endpoint.sysctls",
    "com.docker.network.endpoint.ifname",
];

/// Settings of the network service (dockerd's `bridge`, `bip`,
/// `default-address-pools`, `iptables`, `ip-forward`, `ip-masq`, `dns`...).
#[derive(Debug, Clone)]
pub struct Config {
    pub exec_root: PathBuf,
    /// The default bridge interface (`berth0`), or `none` for no default network.
    pub bridge: String,
    /// The default bridge's address and prefix (`bip`); None: 172.17.0.1/16
    /// or the first free pool.
    pub bip: Option<Ipv4Net>,
    pub pools: Vec<Pool>,
    pub firewall: firewall::Settings,
    /// Upstream servers for the embedded DNS and the default bridge's resolv.conf.
    pub dns: Vec<Ipv4Addr>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// Forward names the embedded DNS does not know to the upstream servers.
    pub dns_forward: bool,
    /// Containers on the default bridge may talk to one another (dockerd's
    /// `icc`); false isolates their bridge ports.
    pub icc: bool,
    /// Serve ports published on IPv6 addresses (and `[::]` for ports on
    /// every address) with a TCP proxy in the daemon; IPv4 always takes the
    /// kernel path.
    pub userland_proxy: bool,
}

/// A network as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    pub created: String,
    pub internal: bool,
    pub attachable: bool,
    pub labels: Labels,
    pub options: BTreeMap<String, String>,
    pub ipam: Ipam,
    /// The bridge interface (bridge driver only).
    pub bridge: String,
}

impl NetworkRecord {
    /// Whether its containers may talk to one another
    /// (`com.docker.network.bridge.enable_icc`, true unless set false).
    pub fn icc(&self) -> bool {
        self.options
            .get("com.docker.network.bridge.enable_icc")
            .is_none_or(|v| v.parse().unwrap_or(true))
    }
}

/// A running container's endpoint on a network, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointRecord {
    pub id: String,
    pub network_id: String,
    pub container_id: String,
    pub container_name: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    pub iface: String,
    pub host_veth: String,
    pub aliases: Vec<String>,
    pub dns_names: Vec<String>,
    pub ipam_config: Option<EndpointIpamConfig>,
    #[serde(default)]
    pub ports: Vec<Published>,
}

struct Net {
    rec: NetworkRecord,
    subnet: Option<Subnet>,
}

#[derive(Default)]
struct State {
    nets: BTreeMap<String, Net>,
    /// (network id, container id) → endpoint
    endpoints: BTreeMap<(String, String), EndpointRecord>,
    /// (proto, host ip, port) → held socket
    reservations: HashMap<(String, Option<IpAddr>, u16), Reservation>,
}

/// What a container asks of the network at start.
pub struct AttachRequest<'a> {
    pub container_id: &'a str,
    pub name: &'a str,
    /// Network name or id → the endpoint settings asked for (aliases, `--ip`).
    pub networks: &'a BTreeMap<String, EndpointSettings>,
    pub port_bindings: Option<&'a PortMap>,
    pub publish_all: bool,
    /// Exposed ports (`80/tcp`) of the image and the config.
    pub exposed: &'a [String],
    pub mac_address: Option<&'a str>,
    /// The container's `--dns` servers: the embedded DNS forwards to them.
    pub dns: &'a [String],
    /// The network of `NetworkMode`: it comes first (eth0, the default
    /// route and the published ports), the others after it by name.
    pub primary: &'a str,
    /// Links: (alias, linked container: its id, or the name it was linked
    /// by on a user-defined network), resolved by the
    /// embedded DNS for this container alone.
    pub links: &'a [(String, String)],
}

/// What a started container got: its namespace, its endpoints and ports.
#[derive(Debug, Clone)]
pub struct Attached {
    pub netns: PathBuf,
    /// Network name → settings as inspect shows them.
    pub endpoints: BTreeMap<String, EndpointSettings>,
    /// Whether the embedded DNS serves it (any user-defined network).
    pub embedded_dns: bool,
}

pub struct NetworkService {
    cfg: Config,
    meta: Arc<Metadata>,
    state: Mutex<State>,
    resolver: Arc<Resolver>,
    dns_tasks: Mutex<HashMap<String, Vec<tokio::task::JoinHandle<()>>>>,
    /// Serializes firewall applies so the last state always wins.
    fw: Mutex<()>,
}

const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn net_key(net: &str, cid: &str) -> String {
    format!("{net}/{cid}")
}

/// Docker's default bridge options, shown by `network inspect bridge`.
fn default_bridge_options(name: &str, icc: bool) -> BTreeMap<String, String> {
    [
        ("com.docker.network.bridge.default_bridge", "true"),
        (
            "com.docker.network.bridge.enable_icc",
            if icc { "true" } else { "false" },
        ),
        ("com.docker.network.bridge.enable_ip_masquerade", "true"),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        ("com.docker.network.bridge.name", name),
        ("com.docker.network.driver.mtu", "1500"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The host's resolvers (`/etc/resolv.conf`).
pub fn host_resolv() -> (Vec<String>, Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let (mut ns, mut search, mut opts) = (vec![], vec![], vec![]);
    for l in text.lines() {
        let mut f = l.split_whitespace();
        match f.next() {
            Some("nameserver") => ns.extend(f.next().map(String::from)),
            Some("search") | Some("domain") => search = f.map(String::from).collect(),
            Some("options") => opts.extend(f.map(String::from)),
            _ => {}
        }
    }
    (ns, search, opts)
}

impl NetworkService {
    /// Loads networks and endpoints, makes the predefined networks and the
    /// bridges, and applies the firewall. Endpoints of containers that are
    /// no longer running are dropped later by [`NetworkService::recover`].
    pub fn open(cfg: Config, meta: Arc<Metadata>) -> Result<Arc<NetworkService>> {
        let mut upstreams: Vec<SocketAddr> = cfg
            .dns
            .iter()
            .map(|ip| SocketAddr::new((*ip).into(), 53))
            .collect();
        if upstreams.is_empty() {
            upstreams = host_resolv()
                .0
                .iter()
                .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, 53))
                .collect();
        }
        let svc = Arc::new(NetworkService {
            resolver: Arc::new(Resolver::new(upstreams, cfg.dns_forward)),
            cfg,
            meta,
            state: Mutex::new(State::default()),
            dns_tasks: Mutex::new(HashMap::new()),
            fw: Mutex::new(()),
        });
        svc.load()?;
        Ok(svc)
    }

    fn load(&self) -> Result<()> {
        let mut records: Vec<NetworkRecord> = self
            .meta
            .list::<NetworkRecord>(Table::Networks)?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        for name in PREDEFINED {
            let wanted = name != "bridge" || self.cfg.bridge != "none";
            let have = records.iter().position(|r| r.name == name);
            match (wanted, have) {
                (true, None) => {
                    let rec = self.predefined(name, &records)?;
                    self.meta.put(Table::Networks, &rec.id, &rec)?;
                    records.push(rec);
                }
                (true, Some(i))
                    if name == "bridge" && !self.default_bridge_matches(&records[i]) =>
                {
                    // The daemon's bridge settings changed: renew the network.
                    let old = records.remove(i);
                    let mut rec = self.predefined(name, &records)?;
                    rec.id = old.id;
                    self.meta.put(Table::Networks, &rec.id, &rec)?;
                    records.push(rec);
                }
                (false, Some(i)) => {
                    let old = records.remove(i);
                    self.meta.delete(Table::Networks, &old.id)?;
                }
                _ => {}
            }
        }
        let mut st = self.state.lock().unwrap();
        for rec in records {
            let subnet = match rec.ipam.config.as_ref().and_then(|c| c.first()) {
                Some(c) if rec.driver == "bridge" => Some(ipam_subnet(c)?),
                _ => None,
            };
            if let Some(s) = &subnet {
                kernel::ensure_bridge(
                    &rec.bridge,
                    s.gateway,
                    s.net.prefix_len(),
                    self.bridge_forwarding(),
                )?;
            }
            if rec.driver == "bridge" {
                self.resolver.set_network(&rec.id, &rec.name, rec.internal);
            }
            st.nets.insert(rec.id.clone(), Net { rec, subnet });
        }
        let mut eps: BTreeMap<(String, String), EndpointRecord> = self
            .meta
            .list::<EndpointRecord>(Table::Endpoints)?
            .into_iter()
            .map(|(_, e)| ((e.network_id.clone(), e.container_id.clone()), e))
            .collect();
        // A container's runtime file is newer than the database when the
        // daemon was killed before a group commit reached the disk.
        let dir = self.cfg.exec_root.join("netns");
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(cid) = name.strip_suffix(".json") else {
                continue;
            };
            let Ok(list) = std::fs::read(f.path())
                .map_err(|_| ())
                .and_then(|b| serde_json::from_slice::<Vec<EndpointRecord>>(&b).map_err(|_| ()))
            else {
                continue;
            };
            eps.retain(|(_, c), _| c != cid);
            for e in list {
                eps.insert((e.network_id.clone(), e.container_id.clone()), e);
            }
        }
        for (_, ep) in eps {
            if let Some(n) = st.nets.get_mut(&ep.network_id) {
                if let Some(s) = n.subnet.as_mut() {
                    s.mark(ep.ip);
                }
            }
            st.endpoints
                .insert((ep.network_id.clone(), ep.container_id.clone()), ep);
        }
        Ok(())
    }

    fn default_bridge_matches(&self, rec: &NetworkRecord) -> bool {
        rec.bridge == self.cfg.bridge
            && rec.icc() == self.cfg.icc
            && match self.cfg.bip {
                Some(bip) => rec
                    .ipam
                    .config
                    .as_ref()
                    .and_then(|c| c.first())
                    .is_some_and(|c| {
                        c.subnet == bip.trunc().to_string() && c.gateway == bip.addr().to_string()
                    }),
                None => true,
            }
    }

    fn predefined(&self, name: &str, others: &[NetworkRecord]) -> Result<NetworkRecord> {
        let mut rec = NetworkRecord {
            id: base::id::random_id(),
            name: name.into(),
            driver: match name {
                "bridge" => "bridge",
                "host" => "host",
                _ => "null",
            }
            .into(),
            created: now(),
            internal: false,
            attachable: false,
            labels: Labels::new(),
            options: BTreeMap::new(),
            ipam: Ipam {
                driver: "default".into(),
                options: None,
                config: Some(vec![]),
            },
            bridge: String::new(),
        };
        if name == "bridge" {
            let (subnet, gw) = match self.cfg.bip {
                Some(bip) => (bip.trunc(), bip.addr()),
                None => {
                    let mut used = kernel::host_routes();
                    used.extend(others.iter().filter_map(subnet_of));
                    let mine = kernel::link_exists(&self.cfg.bridge);
                    let default: Ipv4Net = "172.17.0.0/16".parse().unwrap();
                    let s = if mine || !used.iter().any(|u| ipam::overlaps(u, &default)) {
                        default
                    } else {
                        ipam::pick_subnet(&self.cfg.pools, &used).ok_or_else(|| {
                            Error::internal(
                                "could not find a free address pool for the default bridge",
                            )
                        })?
                    };
                    (s, Ipv4Addr::from(u32::from(s.network()) + 1))
                }
            };
            rec.bridge = self.cfg.bridge.clone();
            rec.options = default_bridge_options(&self.cfg.bridge, self.cfg.icc);
            rec.ipam.config = Some(vec![IpamConfig {
                subnet: subnet.to_string(),
                gateway: gw.to_string(),
                ..Default::default()
            }]);
        }
        Ok(rec)
    }

    /// After the containers were recovered: endpoints of containers that are
    /// not running are released; running ones get their ports and DNS back.
    pub fn recover(&self, running: &[(String, String)]) -> Result<()> {
        let stale: Vec<EndpointRecord> = {
            let st = self.state.lock().unwrap();
            st.endpoints
                .values()
                .filter(|e| !running.iter().any(|(id, _)| *id == e.container_id))
                .cloned()
                .collect()
        };
        for ep in stale {
            self.release_endpoint(&ep)?;
            self.remove_sandbox(&ep.container_id);
        }
        let eps: Vec<EndpointRecord> = self
            .state
            .lock()
            .unwrap()
            .endpoints
            .values()
            .cloned()
            .collect();
        let mut dns_containers = Vec::new();
        let kernel = self.cfg.firewall.enabled;
        for ep in &eps {
            {
                let mut st = self.state.lock().unwrap();
                for p in &ep.ports {
                    let target = SocketAddrV4::new(ep.ip, p.container_port);
                    if let Ok((r, _)) =
                        ports::reserve(&p.proto, p.host_ip, p.host_port, target, kernel)
                    {
                        st.reservations
                            .insert((p.proto.clone(), p.host_ip, p.host_port), r);
                    } else {
                        tracing::warn!(
                            port = p.host_port,
                            "published port taken while the daemon was away"
                        );
                    }
                }
            }
            if let Some(net) = self.user_network(&ep.network_id) {
                self.resolver
                    .add(&ep.container_id, &net, &ep.dns_names, ep.ip);
                if !dns_containers.contains(&ep.container_id) {
                    dns_containers.push(ep.container_id.clone());
                }
            }
        }
        for cid in dns_containers {
            let path = kernel::netns_path(&self.cfg.exec_root, &cid);
            match kernel::dns_sockets(&path) {
                Ok(s) => self.serve_dns(&cid, s),
                Err(e) => tracing::warn!(container = %cid, error = %e, "embedded DNS"),
            }
        }
        if !self.cfg.firewall.enabled {
            // Turned off since the last start: berth's old table goes (best
            // effort: nft may be absent too).
            let _ = firewall::remove(&self.cfg.firewall.table);
        }
        self.apply_firewall()
    }

    /// The id of a user-defined bridge network (one with embedded DNS).
    fn user_network(&self, id: &str) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.nets
            .get(id)
            .filter(|n| n.rec.driver == "bridge" && n.rec.name != "bridge")
            .map(|n| n.rec.id.clone())
    }

    fn serve_dns(&self, cid: &str, socks: kernel::DnsSockets) {
        match dns::serve(self.resolver.clone(), cid.to_string(), socks) {
            Ok(tasks) => {
                if let Some(old) = self
                    .dns_tasks
                    .lock()
                    .unwrap()
                    .insert(cid.to_string(), tasks)
                {
                    old.iter().for_each(|t| t.abort());
                }
            }
            Err(e) => tracing::warn!(container = %cid, error = %e, "embedded DNS"),
        }
    }

    /// Rebuilds and applies berth's firewall table from the current state.
    fn apply_firewall(&self) -> Result<()> {
        if !self.cfg.firewall.enabled {
            return Ok(());
        }
        let _g = self.fw.lock().unwrap();
        let (bridges, dnats) = {
            let st = self.state.lock().unwrap();
            let bridges: Vec<firewall::Bridge> = st
                .nets
                .values()
                .filter_map(|n| {
                    Some(firewall::Bridge {
                        name: n.rec.bridge.clone(),
                        subnet: n.subnet.as_ref()?.net,
                        internal: n.rec.internal,
                    })
                })
                .collect();
            let dnats: Vec<firewall::Dnat> = st
                .endpoints
                .values()
                .flat_map(|e| {
                    e.ports.iter().filter_map(|p| {
                        let (host_ip, v4) = p.ipv4();
                        v4.then(|| firewall::Dnat {
                            proto: p.proto.clone(),
                            host_ip,
                            host_port: p.host_port,
                            container_ip: e.ip,
                            container_port: p.container_port,
                        })
                    })
                })
                .collect();
            (bridges, dnats)
        };
        firewall::apply(&firewall::render(&self.cfg.firewall, &bridges, &dnats))
    }

    /// Finds a network by full id, name, or unique id prefix.
    fn find_in<'a>(st: &'a State, key: &str) -> Result<&'a Net> {
        if let Some(n) = st.nets.get(key) {
            return Ok(n);
        }
        if let Some(n) = st.nets.values().find(|n| n.rec.name == key) {
            return Ok(n);
        }
        let hits: Vec<&Net> = st
            .nets
            .values()
            .filter(|n| n.rec.id.starts_with(key))
            .collect();
        match hits.len() {
            1 => Ok(hits[0]),
            0 => Err(Error::not_found(format!("network {key} not found"))),
            _ => Err(Error::invalid(format!(
                "network {key} is ambiguous ({} matches found based on ID prefix)",
                hits.len()
            ))),
        }
    }

    /// The record of a network (by name, id or id prefix).
    pub fn get(&self, key: &str) -> Result<NetworkRecord> {
        let st = self.state.lock().unwrap();
        Self::find_in(&st, key).map(|n| n.rec.clone())
    }

    fn view(&self, st: &State, n: &Net, names: &dyn Fn(&str) -> Option<String>) -> Network {
        let containers = st
            .endpoints
            .values()
            .filter(|e| e.network_id == n.rec.id)
            .map(|e| {
                (
                    e.container_id.clone(),
                    NetworkContainer {
                        name: names(&e.container_id).unwrap_or_else(|| e.container_name.clone()),
                        endpoint_id: e.id.clone(),
                        mac_address: e.mac.clone(),
                        ipv4_address: format!("{}/{}", e.ip, e.prefix),
                        ipv6_address: String::new(),
                    },
                )
            })
            .collect();
        Network {
            name: n.rec.name.clone(),
            id: n.rec.id.clone(),
            created: n.rec.created.clone(),
            scope: "local".into(),
            driver: n.rec.driver.clone(),
            enable_ipv4: true,
            enable_ipv6: false,
            ipam: n.rec.ipam.clone(),
            internal: n.rec.internal,
            attachable: n.rec.attachable,
            ingress: false,
            config_from: Default::default(),
            config_only: false,
            containers,
            options: n.rec.options.clone(),
            labels: n.rec.labels.clone(),
        }
    }

    /// `GET /networks/{id}`; `names` gives a container's current name.
    pub fn inspect(&self, key: &str, names: &dyn Fn(&str) -> Option<String>) -> Result<Network> {
        let st = self.state.lock().unwrap();
        let n = Self::find_in(&st, key)?;
        Ok(self.view(&st, n, names))
    }

    /// `GET /networks`, with Docker's filters (`name`, `id`, `driver`,
    /// `label`, `type`, `scope`, `dangling`).
    pub fn list(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
        names: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<Network>> {
        for k in filters.keys() {
            if !matches!(
                k.as_str(),
                "name" | "id" | "driver" | "label" | "type" | "scope" | "dangling"
            ) {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
        }
        let st = self.state.lock().unwrap();
        let mut out = Vec::new();
        for n in st.nets.values() {
            let r = &n.rec;
            let in_use = st.endpoints.values().any(|e| e.network_id == r.id);
            let ok = filters
                .get("name")
                .is_none_or(|v| v.iter().any(|x| r.name.contains(x.as_str())))
                && filters
                    .get("id")
                    .is_none_or(|v| v.iter().any(|x| r.id.starts_with(x.as_str())))
                && filters.get("driver").is_none_or(|v| v.contains(&r.driver))
                && filters
                    .get("scope")
                    .is_none_or(|v| v.iter().any(|x| x == "local"))
                && crate::labels_match(filters.get("label"), &r.labels)
                && filters.get("type").is_none_or(|v| {
                    v.iter().any(|t| match t.as_str() {
                        "builtin" => PREDEFINED.contains(&r.name.as_str()),
                        "custom" => !PREDEFINED.contains(&r.name.as_str()),
                        _ => false,
                    })
                })
                && filters.get("dangling").is_none_or(|v| {
                    v.iter().any(|d| {
                        let want = d == "true" || d == "1";
                        want == (!in_use && !PREDEFINED.contains(&r.name.as_str()))
                    })
                });
            if ok {
                let mut v = self.view(&st, n, names);
                // As dockerd: the list shows no containers.
                v.containers.clear();
                out.push(v);
            }
        }
        Ok(out)
    }

    /// `POST /networks/create`.
    pub fn create(&self, req: NetworkCreateRequest) -> Result<Network> {
        let driver = if req.driver.is_empty() {
            "bridge".to_string()
        } else {
            req.driver.clone()
        };
        // Any name but an empty one, as dockerd (spaces included).
        if req.name.trim().is_empty() {
            return Err(Error::invalid("invalid name: name is empty"));
        }
        if PREDEFINED.contains(&req.name.as_str()) {
            return Err(Error::forbidden(format!(
                "{} is a pre-defined network and cannot be created",
                req.name
            )));
        }
        match driver.as_str() {
            "bridge" => {}
            "host" | "null" => {
                return Err(Error::forbidden(format!(
                    "only one instance of \"{driver}\" network is allowed"
                )))
            }
            other => return Err(Error::not_found(format!("plugin \"{other}\" not found"))),
        }
        if req.enable_ipv6 == Some(true) {
            return Err(Error::invalid(
                "IPv6 networks are not supported by berth yet",
            ));
        }
        if req.config_only
            || req
                .config_from
                .as_ref()
                .is_some_and(|c| !c.network.is_empty())
            || req.ingress
        {
            return Err(Error::invalid(
                "config-only, config-from and ingress networks are not supported by berth",
            ));
        }
        for (k, v) in &req.options {
            match k.as_str() {
                "com.docker.network.bridge.name"
                | "com.docker.network.driver.mtu"
                | "com.docker.network.bridge.enable_icc"
                | "com.docker.network.bridge.enable_ip_masquerade"
                | "com.docker.network.bridge.host_binding_ipv4" => {}
                // The generic form of --ipv6, as dockerd's bridge reads it.
                "com.docker.network.enable_ipv6" if v.parse::<bool>().unwrap_or(v == "1") => {
                    return Err(Error::invalid(
                        "IPv6 networks are not supported by berth yet",
                    ));
                }
                "com.docker.network.enable_ipv6" => {}
                // Docker's own options that berth does not apply yet.
                k if k.starts_with("com.docker.network.") => {
                    return Err(Error::invalid(format!("unsupported network option: {k}")))
                }
                // dockerd's bridge driver ignores keys it does not know and
                // keeps them in the network's Options; so does berth.
                _ => {}
            }
        }
        if let Some(v) = req.options.get("com.docker.network.driver.mtu") {
            if v != "1500" {
                return Err(Error::invalid(
                    "a network MTU other than 1500 is not supported by berth yet",
                ));
            }
        }
        if let Some(v) = req.options.get("com.docker.network.bridge.enable_icc") {
            v.parse::<bool>().map_err(|_| {
                Error::invalid(format!(
                    "invalid value for com.docker.network.bridge.enable_icc: {v}"
                ))
            })?;
        }
        // Per-network settings berth applies daemon-wide: only their
        // defaults are accepted, anything else is refused, never ignored.
        for (k, default) in [
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        ] {
            if req.options.get(k).is_some_and(|v| v != default) {
                return Err(Error::invalid(format!(
                    "{k}={} is not supported by berth yet",
                    req.options[k]
                )));
            }
        }
        if !matches!(req.scope.as_str(), "" | "local") {
            return Err(Error::invalid(format!(
                "scope {:?} needs swarm mode, which berth does not have",
                req.scope
            )));
        }
        if req.enable_ipv4 == Some(false) {
            return Err(Error::invalid(
                "networks without IPv4 are not supported by berth yet",
            ));
        }
        let ipam_in = req.ipam.clone().unwrap_or_default();
        if !ipam_in.driver.is_empty() && ipam_in.driver != "default" {
            return Err(Error::not_found(format!(
                "plugin \"{}\" not found",
                ipam_in.driver
            )));
        }
        // IPAM options: dockerd's default IPAM driver reads none of them
        // and shows them as given; so does berth.
        let configs = ipam_in.config.clone().unwrap_or_default();
        if configs.iter().any(|c| c.subnet.contains(':')) {
            return Err(Error::invalid(
                "IPv6 subnets are not supported by berth yet",
            ));
        }
        if configs.len() > 1 {
            return Err(Error::invalid(
                "more than one subnet per network is not supported by berth yet",
            ));
        }
        let id = base::id::random_id();
        let bridge = req
            .options
            .get("com.docker.network.bridge.name")
            .cloned()
            .unwrap_or_else(|| format!("br-{}", &id[..12]));
        if bridge.len() > 15 {
            return Err(Error::invalid(format!(
                "bridge name {bridge} is longer than 15 characters"
            )));
        }
        let mut st = self.state.lock().unwrap();
        if st.nets.values().any(|n| n.rec.name == req.name) {
            return Err(Error::conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        if st.nets.values().any(|n| n.rec.bridge == bridge) {
            return Err(Error::conflict(format!(
                "bridge name {bridge} is in use by another network"
            )));
        }
        let used: Vec<Ipv4Net> = st
            .nets
            .values()
            .filter_map(|n| n.subnet.as_ref().map(|s| s.net))
            .collect();
        let subnet = match configs.first().filter(|c| !c.subnet.is_empty()) {
            Some(c) => {
                let s = ipam_subnet(c)?;
                if let Some(o) = used.iter().find(|u| ipam::overlaps(u, &s.net)) {
                    return Err(Error::forbidden(format!(
                        "invalid pool request: Pool overlaps with other one on this address space ({o})"
                    )));
                }
                s
            }
            None => {
                if configs
                    .first()
                    .is_some_and(|c| !c.gateway.is_empty() || !c.ip_range.is_empty())
                {
                    return Err(Error::invalid("a gateway or IP range needs a subnet"));
                }
                let mut all = used.clone();
                all.extend(kernel::host_routes());
                let net = ipam::pick_subnet(&self.cfg.pools, &all).ok_or_else(|| {
                    Error::forbidden("all predefined address pools have been fully subnetted")
                })?;
                Subnet::new(&net.to_string(), "", "")?
            }
        };
        let mut cfg = IpamConfig {
            subnet: subnet.net.to_string(),
            gateway: subnet.gateway.to_string(),
            ..Default::default()
        };
        if let Some(c) = configs.first() {
            cfg.ip_range = c.ip_range.clone();
            cfg.auxiliary_addresses = c.auxiliary_addresses.clone().filter(|a| !a.is_empty());
        }
        let rec = NetworkRecord {
            id: id.clone(),
            name: req.name.clone(),
            driver,
            created: now(),
            internal: req.internal,
            attachable: req.attachable,
            labels: req.labels.clone(),
            options: req.options.clone(),
            ipam: Ipam {
                driver: "default".into(),
                // As asked: dockerd shows null for none, {} for {}.
                options: ipam_in.options.clone(),
                config: Some(vec![cfg]),
            },
            bridge: bridge.clone(),
        };
        if let Err(e) = kernel::ensure_bridge(
            &bridge,
            subnet.gateway,
            subnet.net.prefix_len(),
            self.bridge_forwarding(),
        ) {
            let _ = kernel::delete_link(&bridge);
            return Err(e);
        }
        if let Err(e) = self.meta.put(Table::Networks, &id, &rec) {
            let _ = kernel::delete_link(&bridge);
            return Err(e);
        }
        self.resolver.set_network(&id, &rec.name, rec.internal);
        st.nets.insert(
            id.clone(),
            Net {
                rec,
                subnet: Some(subnet),
            },
        );
        let v = self.view(&st, st.nets.get(&id).unwrap(), &|_| None);
        drop(st);
        if let Err(e) = self.apply_firewall() {
            let net = self.state.lock().unwrap().nets.remove(&id);
            if let Some(net) = net {
                let _ = self.destroy(net);
            }
            return Err(e);
        }
        Ok(v)
    }

    /// `DELETE /networks/{id}`: refused for predefined networks and while
    /// running containers have endpoints on it (checked and removed under
    /// one lock, so no endpoint can join in between).
    pub fn remove_checked(&self, key: &str) -> Result<NetworkRecord> {
        let net = {
            let mut st = self.state.lock().unwrap();
            let rec = Self::find_in(&st, key)?.rec.clone();
            if PREDEFINED.contains(&rec.name.as_str()) {
                return Err(Error::forbidden(format!(
                    "{} is a pre-defined network and cannot be removed",
                    rec.name
                )));
            }
            let active: Vec<String> = st
                .endpoints
                .values()
                .filter(|e| e.network_id == rec.id)
                .map(|e| e.container_name.clone())
                .collect();
            if !active.is_empty() {
                return Err(Error::forbidden(format!(
                    "error while removing network: network {} has active endpoints (name:{:?} id:{:?})",
                    rec.name,
                    active.join(","),
                    &rec.id[..12]
                )));
            }
            st.nets.remove(&rec.id)
        };
        let Some(net) = net else {
            return Err(Error::not_found(format!("network {key} not found")));
        };
        self.destroy(net)
    }

    /// Removes a network taken out of the state: its record, names, bridge
    /// and rules.
    fn destroy(&self, net: Net) -> Result<NetworkRecord> {
        let id = net.rec.id.clone();
        self.meta.delete(Table::Networks, &id)?;
        self.resolver.remove_network(&id);
        if !net.rec.bridge.is_empty() {
            kernel::delete_link(&net.rec.bridge)?;
        }
        self.apply_firewall()?;
        Ok(net.rec)
    }

    /// `POST /networks/prune`: removes user-defined networks no container
    /// uses that match `label`, `label!` and `until`.
    pub fn prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
        until: Option<f64>,
    ) -> Result<Vec<String>> {
        let candidates: Vec<NetworkRecord> = {
            let st = self.state.lock().unwrap();
            st.nets
                .values()
                .map(|n| n.rec.clone())
                .filter(|r| !PREDEFINED.contains(&r.name.as_str()))
                .filter(|r| crate::labels_match(filters.get("label"), &r.labels))
                .filter(|r| {
                    !filters.get("label!").is_some_and(|not| {
                        not.iter()
                            .any(|f| crate::labels_match(Some(&vec![f.clone()]), &r.labels))
                    })
                })
                .filter(|r| {
                    until.is_none_or(|u| {
                        chrono::DateTime::parse_from_rfc3339(&r.created)
                            .map(|t| (t.timestamp() as f64) < u)
                            .unwrap_or(false)
                    })
                })
                .collect()
        };
        let mut deleted = Vec::new();
        for r in candidates {
            if self.remove_checked(&r.id).is_ok() {
                deleted.push(r.name);
            }
        }
        Ok(deleted)
    }

    /// Checks a container's network settings at create: the networks exist,
    /// and what only user-defined networks allow. Returns the records.
    pub fn validate(
        &self,
        networks: &BTreeMap<String, EndpointSettings>,
    ) -> Result<Vec<NetworkRecord>> {
        let mut out = Vec::new();
        for (key, es) in networks {
            let rec = self.get(key)?;
            let user = rec.driver == "bridge" && rec.name != "bridge";
            let ip = es
                .ipam_config
                .as_ref()
                .map(|c| c.ipv4_address.as_str())
                .unwrap_or("");
            if !user {
                if !ip.is_empty() {
                    return Err(Error::invalid(
                        "user specified IP address is supported on user defined networks only",
                    ));
                }
                if es.aliases.as_ref().is_some_and(|a| !a.is_empty()) {
                    return Err(Error::invalid("network-scoped alias is supported only for containers in user defined networks"));
                }
            }
            if es
                .ipam_config
                .as_ref()
                .is_some_and(|c| !c.ipv6_address.is_empty())
            {
                return Err(Error::invalid(
                    "IPv6 addresses are not supported by berth yet",
                ));
            }
            link_local_ips(es)?;
            // The endpoint options dockerd's bridge driver applies; it
            // ignores other keys (kept for inspect), as berth does.
            for key in APPLIED_ENDPOINT_OPTS {
                if es.driver_opts.as_ref().is_some_and(|o| o.contains_key(key)) {
                    return Err(Error::invalid(format!(
                        "berth does not support the endpoint option {key} yet"
                    )));
                }
            }
            if es.gw_priority != 0 {
                return Err(Error::invalid(
                    "gateway priorities (--gw-priority) are not supported by berth yet",
                ));
            }
            if !ip.is_empty() {
                let addr: Ipv4Addr = ip
                    .parse()
                    .map_err(|_| Error::invalid(format!("invalid IPv4 address: {ip}")))?;
                let st = self.state.lock().unwrap();
                let n = st.nets.get(&rec.id).unwrap();
                if let Some(s) = &n.subnet {
                    if !s.net.contains(&addr) {
                        return Err(Error::invalid(format!(
                            "Invalid address {addr}: It does not belong to any of this network's subnets"
                        )));
                    }
                }
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// Makes the namespace of a starting container and plugs it into its
    /// bridge networks: addresses, published ports, DNS. On error nothing
    /// is left behind.
    pub fn attach(&self, req: &AttachRequest) -> Result<Attached> {
        let netns = kernel::netns_path(&self.cfg.exec_root, req.container_id);
        self.remove_sandbox(req.container_id);
        let mut done: Vec<EndpointRecord> = Vec::new();
        let r = self.attach_inner(req, &netns, &mut done);
        match r {
            Ok(a) => Ok(a),
            Err(e) => {
                let mut held = Vec::new();
                for ep in &done {
                    held.extend(self.release_endpoint(ep).unwrap_or_default());
                }
                self.stop_dns(req.container_id);
                self.remove_sandbox(req.container_id);
                if done.iter().any(|e| !e.ports.is_empty()) {
                    let _ = self.apply_firewall();
                }
                drop(held);
                Err(e)
            }
        }
    }

    fn attach_inner(
        &self,
        req: &AttachRequest,
        netns: &Path,
        done: &mut Vec<EndpointRecord>,
    ) -> Result<Attached> {
        let mut ifs = Vec::new();
        let mut endpoints = BTreeMap::new();
        let mut embedded_dns = false;
        let port_reqs = ports::requests(req.port_bindings, req.publish_all, req.exposed)?;
        if !self.cfg.firewall.enabled && !self.cfg.userland_proxy && !port_reqs.is_empty() {
            return Err(Error::invalid(
                "publishing ports needs the firewall (iptables) or the userland proxy, and both are off",
            ));
        }
        let mut ordered: Vec<(&String, &EndpointSettings)> = req.networks.iter().collect();
        ordered.sort_by_key(|(k, _)| k.as_str() != req.primary);
        for (i, (key, es)) in ordered.into_iter().enumerate() {
            let first = i == 0;
            let mac = match (
                first,
                req.mac_address.filter(|m| !m.is_empty()),
                es.mac_address.as_str(),
            ) {
                (_, _, m) if !m.is_empty() => Some(ipam::parse_mac(m)?),
                (true, Some(m), _) => Some(ipam::parse_mac(m)?),
                _ => None,
            };
            let ep = self.new_endpoint(
                req,
                key,
                es,
                mac,
                if first { &port_reqs[..] } else { &[] },
                done.len(),
            )?;
            done.push(ep.clone());
            let net = self.get(&ep.network_id)?;
            let user = net.name != "bridge";
            // dockerd opens the linked ports between containers on a default
            // bridge without icc; berth isolates its ports entirely.
            if !user && !net.icc() && !req.links.is_empty() {
                return Err(Error::invalid(
                    "berth does not support --link on the default bridge with icc disabled yet",
                ));
            }
            embedded_dns |= user;
            ifs.push(Interface {
                bridge: net.bridge.clone(),
                host_name: ep.host_veth.clone(),
                name: ep.iface.clone(),
                addr: ep.ip,
                prefix: ep.prefix,
                mac: ipam::parse_mac(&ep.mac)?,
                gateway: (first && !net.internal).then_some(ep.gateway),
                extra: link_local_ips(es)?,
                isolated: !net.icc(),
            });
            endpoints.insert(net.name.clone(), self.endpoint_view(&ep, es));
        }
        let socks = kernel::create_sandbox(netns, &ifs, embedded_dns)?;
        if let Some(s) = socks {
            self.serve_dns(req.container_id, s);
        }
        self.set_dns_servers(req.container_id, req.dns);
        self.resolver
            .set_links(req.container_id, req.links.to_vec());
        // Names resolve from now on, before start returns.
        for ep in done.iter() {
            if self.user_network(&ep.network_id).is_some() {
                self.resolver
                    .add(&ep.container_id, &ep.network_id, &ep.dns_names, ep.ip);
            }
        }
        self.record_endpoints(req.container_id, done)?;
        if done.iter().any(|e| !e.ports.is_empty()) {
            self.apply_firewall()?;
        }
        Ok(Attached {
            netns: netns.to_path_buf(),
            endpoints,
            embedded_dns,
        })
    }

    /// A container's legacy links (alias, linked container id) for the
    /// embedded DNS (after a daemon restart; `attach` sets them at start).
    pub fn set_links(&self, cid: &str, links: Vec<(String, String)>) {
        self.resolver.set_links(cid, links);
    }

    /// A container's `--dns` servers, which the embedded DNS forwards its
    /// unknown names to (at start, and again after a daemon restart).
    pub fn set_dns_servers(&self, cid: &str, dns: &[String]) {
        let servers = dns
            .iter()
            .filter_map(|s| s.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
            .collect();
        self.resolver.set_servers(cid, servers);
    }

    /// Records a container's endpoints: in the database with a group commit
    /// (durable a moment later, off the start path), and first in a runtime
    /// file beside its namespace, which survives a daemon killed within that
    /// moment (a plain write; only a machine crash loses it, and with it the
    /// container). `load` takes endpoints from these files that the
    /// database lacks, so no address or port is handed out twice.
    fn record_endpoints(&self, cid: &str, eps: &[EndpointRecord]) -> Result<()> {
        let all: Vec<EndpointRecord> = {
            let st = self.state.lock().unwrap();
            st.endpoints
                .values()
                .filter(|e| e.container_id == cid)
                .cloned()
                .collect()
        };
        let file = runtime_file(&self.cfg.exec_root, cid);
        std::fs::write(&file, serde_json::to_vec(&all).unwrap_or_default())
            .map_err(|e| Error::internal(format!("write {}: {e}", file.display())))?;
        self.meta.update_grouped(|tx| {
            for ep in eps {
                tx.put(
                    Table::Endpoints,
                    &net_key(&ep.network_id, &ep.container_id),
                    ep,
                )?;
            }
            Ok(())
        })
    }

    /// Allocates an endpoint: address, MAC, interface name, host ports.
    fn new_endpoint(
        &self,
        req: &AttachRequest,
        key: &str,
        es: &EndpointSettings,
        mac: Option<[u8; 6]>,
        port_reqs: &[ports::Request],
        index: usize,
    ) -> Result<EndpointRecord> {
        let mut st = self.state.lock().unwrap();
        let net_id = Self::find_in(&st, key)?.rec.id.clone();
        if st
            .endpoints
            .contains_key(&(net_id.clone(), req.container_id.to_string()))
        {
            return Err(Error::forbidden(format!(
                "endpoint with name {} already exists in network {}",
                req.name, st.nets[&net_id].rec.name
            )));
        }
        let want = es
            .ipam_config
            .as_ref()
            .map(|c| c.ipv4_address.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Ipv4Addr>()
                    .map_err(|_| Error::invalid(format!("invalid IPv4 address: {s}")))
            })
            .transpose()?;
        let n = st.nets.get_mut(&net_id).unwrap();
        let user = n.rec.name != "bridge";
        let subnet = n
            .subnet
            .as_mut()
            .ok_or_else(|| Error::invalid(format!("network {} has no address pool", n.rec.name)))?;
        let ip = subnet.allocate(want)?;
        let (prefix, gateway) = (subnet.net.prefix_len(), subnet.gateway);
        let mut aliases = es.aliases.clone().unwrap_or_default();
        aliases.retain(|a| !a.is_empty());
        let short = req.container_id[..12].to_string();
        // Names only where the embedded DNS answers (as dockerd: none on
        // the default bridge).
        let mut dns_names = Vec::new();
        if user {
            dns_names.push(req.name.to_string());
            dns_names.extend(aliases.iter().cloned());
            dns_names.push(short.clone());
        }
        let mut ep = EndpointRecord {
            id: base::id::random_id(),
            network_id: net_id.clone(),
            container_id: req.container_id.to_string(),
            container_name: req.name.to_string(),
            ip,
            prefix,
            gateway,
            mac: ipam::mac_string(&mac.unwrap_or_else(|| ipam::mac_for(ip))),
            iface: format!("eth{index}"),
            host_veth: format!("veth{}", &base::id::random_id()[..7]),
            aliases,
            dns_names,
            ipam_config: es.ipam_config.clone(),
            ports: vec![],
        };
        // Host ports: held by sockets (or the IPv6 proxy); Docker's message
        // when one is taken.
        let mut held: Vec<(String, Option<IpAddr>, u16)> = Vec::new();
        let userland_proxy = self.cfg.userland_proxy;
        // Without berth's firewall no DNAT carries IPv4 ports: the proxy does.
        let kernel = self.cfg.firewall.enabled;

        let result = (|| -> std::result::Result<(), String> {
            for pr in port_reqs {
                let target = SocketAddrV4::new(ip, pr.container_port);
                if matches!(pr.host_ip, Some(IpAddr::V6(_))) && !userland_proxy {
                    return Err(format!(
                        "publishing on IPv6 address {} needs the userland proxy (userland-proxy is off)",
                        pr.host_ip.unwrap()
                    ));
                }
                // A port on every address is also served on [::] by the proxy
                // (TCP), on the same port number.
                let also_v6 = pr.host_ip.is_none() && userland_proxy && pr.proto == "tcp";
                let candidates: Vec<u16> = if pr.host_ports.0 == 0 {
                    vec![0; 8]
                } else {
                    (pr.host_ports.0..=pr.host_ports.1).collect()
                };
                let mut got = None;
                let mut last_err = ports::already_allocated(pr.host_ip, pr.host_ports.0);
                for want in candidates {
                    let (r4, port) =
                        match ports::reserve(&pr.proto, pr.host_ip, want, target, kernel) {
                            Ok(x) => x,
                            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                                return Err(e.to_string())
                            }
                            Err(_) => continue,
                        };
                    if !also_v6 {
                        got = Some((port, r4, None));
                        break;
                    }
                    let any6 = Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
                    match ports::reserve(&pr.proto, any6, port, target, kernel) {
                        Ok((r6, _)) => {
                            got = Some((port, r4, Some(r6)));
                            break;
                        }
                        Err(e) if ports::no_ipv6(&e) => {
                            got = Some((port, r4, None));
                            break;
                        }
                        Err(_) => last_err = ports::already_allocated(any6, port),
                    }
                }
                let Some((port, r4, r6)) = got else {
                    return Err(last_err);
                };
                st.reservations
                    .insert((pr.proto.clone(), pr.host_ip, port), r4);
                held.push((pr.proto.clone(), pr.host_ip, port));
                ep.ports.push(Published {
                    proto: pr.proto.clone(),
                    container_port: pr.container_port,
                    host_ip: pr.host_ip,
                    host_port: port,
                });
                if let Some(r6) = r6 {
                    let any6 = Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
                    st.reservations.insert((pr.proto.clone(), any6, port), r6);
                    held.push((pr.proto.clone(), any6, port));
                    ep.ports.push(Published {
                        proto: pr.proto.clone(),
                        container_port: pr.container_port,
                        host_ip: any6,
                        host_port: port,
                    });
                }
            }
            Ok(())
        })();
        if let Err(msg) = result {
            for h in held {
                st.reservations.remove(&h);
            }
            if let Some(s) = st.nets.get_mut(&net_id).and_then(|n| n.subnet.as_mut()) {
                s.release(ip);
            }
            return Err(Error::internal(format!(
                "failed to set up container networking: driver failed programming external connectivity on endpoint {} ({}): {msg}",
                req.name, ep.id
            )));
        }
        st.endpoints
            .insert((net_id, req.container_id.to_string()), ep.clone());
        Ok(ep)
    }

    fn endpoint_view(&self, ep: &EndpointRecord, asked: &EndpointSettings) -> EndpointSettings {
        EndpointSettings {
            ipam_config: asked.ipam_config.clone(),
            links: asked.links.clone(),
            mac_address: ep.mac.clone(),
            aliases: asked.aliases.clone(),
            driver_opts: asked.driver_opts.clone(),
            gw_priority: asked.gw_priority,
            network_id: ep.network_id.clone(),
            endpoint_id: ep.id.clone(),
            gateway: ep.gateway.to_string(),
            ip_address: ep.ip.to_string(),
            ip_prefix_len: ep.prefix,
            ipv6_gateway: String::new(),
            global_ipv6_address: String::new(),
            global_ipv6_prefix_len: 0,
            dns_names: (!ep.dns_names.is_empty()).then(|| ep.dns_names.clone()),
        }
    }

    /// The live endpoints of a container: network name → settings.
    pub fn endpoints_of(&self, cid: &str) -> BTreeMap<String, (EndpointRecord, String)> {
        let st = self.state.lock().unwrap();
        st.endpoints
            .values()
            .filter(|e| e.container_id == cid)
            .filter_map(|e| {
                let n = st.nets.get(&e.network_id)?;
                Some((n.rec.name.clone(), (e.clone(), n.rec.bridge.clone())))
            })
            .collect()
    }

    /// Settings as inspect shows them for a live endpoint.
    pub fn settings(
        &self,
        ep: &EndpointRecord,
        asked: Option<&EndpointSettings>,
    ) -> EndpointSettings {
        self.endpoint_view(ep, asked.unwrap_or(&EndpointSettings::default()))
    }

    /// Forgets an endpoint and frees its address; returns its host ports,
    /// to be dropped once the firewall no longer forwards them.
    fn release_endpoint(&self, ep: &EndpointRecord) -> Result<Vec<Reservation>> {
        let held = {
            let mut st = self.state.lock().unwrap();
            st.endpoints
                .remove(&(ep.network_id.clone(), ep.container_id.clone()));
            if let Some(s) = st
                .nets
                .get_mut(&ep.network_id)
                .and_then(|n| n.subnet.as_mut())
            {
                s.release(ep.ip);
            }
            ep.ports
                .iter()
                .filter_map(|p| {
                    st.reservations
                        .remove(&(p.proto.clone(), p.host_ip, p.host_port))
                })
                .collect()
        };
        self.resolver.remove(&ep.container_id, Some(&ep.network_id));
        self.meta.update_lazy(|tx| {
            tx.delete(Table::Endpoints, &net_key(&ep.network_id, &ep.container_id))
                .map(|_| ())
        })?;
        Ok(held)
    }

    /// Removes a container's namespace and its runtime file (best effort).
    fn remove_sandbox(&self, cid: &str) {
        let _ = kernel::remove_netns(&kernel::netns_path(&self.cfg.exec_root, cid));
        let _ = std::fs::remove_file(runtime_file(&self.cfg.exec_root, cid));
    }

    fn stop_dns(&self, cid: &str) {
        if let Some(t) = self.dns_tasks.lock().unwrap().remove(cid) {
            t.iter().for_each(|t| t.abort());
        }
    }

    /// A stopped container leaves its networks: addresses and ports are
    /// released, names forgotten, the namespace removed.
    pub fn detach(&self, cid: &str) -> Result<()> {
        let eps: Vec<EndpointRecord> = {
            let st = self.state.lock().unwrap();
            st.endpoints
                .values()
                .filter(|e| e.container_id == cid)
                .cloned()
                .collect()
        };
        self.stop_dns(cid);
        self.resolver.remove(cid, None);
        let had_ports = eps.iter().any(|e| !e.ports.is_empty());
        let mut held = Vec::new();
        for ep in &eps {
            held.extend(self.release_endpoint(ep)?);
        }
        kernel::remove_netns(&kernel::netns_path(&self.cfg.exec_root, cid))?;
        let _ = std::fs::remove_file(runtime_file(&self.cfg.exec_root, cid));
        if had_ports {
            self.apply_firewall()?;
        }
        drop(held);
        Ok(())
    }

    /// `network connect` of a running container: a new interface in its
    /// namespace.
    pub fn connect_running(
        &self,
        req: &AttachRequest,
        key: &str,
        es: &EndpointSettings,
    ) -> Result<EndpointSettings> {
        let netns = kernel::netns_path(&self.cfg.exec_root, req.container_id);
        let index = self.endpoints_of(req.container_id).len();
        let ep = self.new_endpoint(req, key, es, None, &[], index)?;
        let net = self.get(&ep.network_id)?;
        let iface = Interface {
            bridge: net.bridge.clone(),
            host_name: ep.host_veth.clone(),
            name: ep.iface.clone(),
            addr: ep.ip,
            prefix: ep.prefix,
            mac: ipam::parse_mac(&ep.mac)?,
            gateway: None,
            extra: link_local_ips(es)?,
            isolated: !net.icc(),
        };
        let need_dns = net.name != "bridge"
            && !self
                .dns_tasks
                .lock()
                .unwrap()
                .contains_key(req.container_id);
        match kernel::plug(&netns, &[iface], need_dns) {
            Ok(Some(s)) => self.serve_dns(req.container_id, s),
            Ok(None) => {}
            Err(e) => {
                let _ = self.release_endpoint(&ep);
                return Err(e);
            }
        }
        if net.name != "bridge" {
            self.resolver
                .add(&ep.container_id, &ep.network_id, &ep.dns_names, ep.ip);
        }
        // The links of the new endpoint with the others'.
        self.resolver
            .set_links(req.container_id, req.links.to_vec());
        self.record_endpoints(req.container_id, std::slice::from_ref(&ep))?;
        Ok(self.endpoint_view(&ep, es))
    }

    /// `network disconnect` of a running container.
    pub fn disconnect_running(&self, cid: &str, net_id: &str) -> Result<()> {
        let ep = {
            let st = self.state.lock().unwrap();
            st.endpoints
                .get(&(net_id.to_string(), cid.to_string()))
                .cloned()
        };
        let Some(ep) = ep else { return Ok(()) };
        let netns = kernel::netns_path(&self.cfg.exec_root, cid);
        kernel::unplug(&netns, &ep.iface)?;
        let held = self.release_endpoint(&ep)?;
        self.record_endpoints(cid, &[])?;
        if !ep.ports.is_empty() {
            self.apply_firewall()?;
        }
        drop(held);
        Ok(())
    }

    /// A running container was renamed: its endpoints answer to the new
    /// name (and no longer to the old one), as dockerd's DNS does.
    pub fn rename(&self, cid: &str, old: &str, new: &str) -> Result<()> {
        let eps: Vec<EndpointRecord> = {
            let mut st = self.state.lock().unwrap();
            st.endpoints
                .values_mut()
                .filter(|e| e.container_id == cid)
                .map(|e| {
                    e.container_name = new.to_string();
                    for n in e.dns_names.iter_mut().filter(|n| n.as_str() == old) {
                        *n = new.to_string();
                    }
                    e.clone()
                })
                .collect()
        };
        if eps.is_empty() {
            return Ok(());
        }
        for ep in &eps {
            if self.user_network(&ep.network_id).is_some() {
                self.resolver
                    .add(&ep.container_id, &ep.network_id, &ep.dns_names, ep.ip);
            }
        }
        self.record_endpoints(cid, &eps)
    }

    /// Whether bridges forward: with ip-forward on, or when berth's firewall
    /// is there to keep forwarded traffic on its bridge. Never otherwise,
    /// so nothing is routed off the machine with both off.
    fn bridge_forwarding(&self) -> bool {
        self.cfg.firewall.ip_forward || self.cfg.firewall.enabled
    }

    /// The default bridge's gateway (`host-gateway` of `--add-host`).
    pub fn host_gateway(&self) -> Option<Ipv4Addr> {
        let st = self.state.lock().unwrap();
        st.nets
            .values()
            .find(|n| n.rec.name == "bridge")
            .and_then(|n| n.subnet.as_ref().map(|s| s.gateway))
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
}

/// An endpoint's `--link-local-ip` addresses (IPv4, 169.254.0.0/16), added
/// to its interface beside its address, as dockerd does.
fn link_local_ips(es: &EndpointSettings) -> Result<Vec<(Ipv4Addr, u8)>> {
    let mut out = Vec::new();
    for s in es.ipam_config.iter().flat_map(|c| c.link_local_ips.iter()) {
        match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) if ip.is_link_local() => out.push((ip, 16)),
            Ok(IpAddr::V4(_)) => {
                return Err(Error::invalid(format!(
                    "invalid link-local IP address: {s}"
                )))
            }
            Ok(IpAddr::V6(_)) => {
                return Err(Error::invalid(
                    "IPv6 link-local addresses are not supported by berth yet",
                ))
            }
            Err(_) => {
                return Err(Error::invalid(format!(
                    "invalid link-local IP address: {s}"
                )))
            }
        }
    }
    Ok(out)
}

/// A network's subnet from its IPAM config, its auxiliary addresses (kept
/// from containers, as dockerd) taken.
fn ipam_subnet(c: &IpamConfig) -> Result<Subnet> {
    let mut s = Subnet::new(&c.subnet, &c.ip_range, &c.gateway)?;
    for (name, a) in c.auxiliary_addresses.iter().flatten() {
        let ip: Ipv4Addr = a
            .parse()
            .map_err(|_| Error::invalid(format!("invalid auxiliary address {name}: {a}")))?;
        if !s.net.contains(&ip) {
            return Err(Error::invalid(format!(
                "invalid auxiliary address {name}: {ip} is not in subnet {}",
                s.net
            )));
        }
        s.mark(ip);
    }
    Ok(s)
}

/// A running container's endpoints, beside its namespace file.
fn runtime_file(exec_root: &Path, cid: &str) -> PathBuf {
    exec_root.join("netns").join(format!("{cid}.json"))
}

fn subnet_of(r: &NetworkRecord) -> Option<Ipv4Net> {
    r.ipam.config.as_ref()?.first()?.subnet.parse().ok()
}
