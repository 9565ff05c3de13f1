//! A container's place on the network: its network mode at create, its
//! namespace and endpoints at start (through the network service), its
//! `/etc/hosts` and `/etc/resolv.conf`, `NetworkSettings` for inspect, and
//! `network connect|disconnect`.

use super::{ContainerRecord, ContainerService};
use api_types::network::{EndpointSettings, NetworkSettings, Port, PortMap};
use base::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How a container is networked, from `HostConfig.NetworkMode`.
pub(super) enum Mode<'a> {
    /// Its own namespace on bridge networks.
    Bridge,
    Host,
    None,
    /// Another container's namespace.
    Container(&'a str),
}

pub(super) fn mode(network_mode: &str) -> Mode<'_> {
    match network_mode {
        "host" => Mode::Host,
        "none" => Mode::None,
        m => match m.strip_prefix("container:") {
            Some(c) => Mode::Container(c),
            None => Mode::Bridge,
        },
    }
}

/// What start needs from the network: the namespace to join (None: a new
/// one of the runtime's, or the host's for `host`) and where the
/// container's hosts/resolv.conf/hostname come from.
pub(super) struct StartNet {
    pub netns: Option<PathBuf>,
    pub host_network: bool,
    /// `container:` mode: the other container's directory (its etc files).
    pub etc_from: Option<PathBuf>,
    pub hostname: Option<String>,
}

impl ContainerService {
    /// Normalizes and checks the network settings of a create request:
    /// `NetworkMode` (default `bridge`), the endpoints of bridge networks,
    /// and Docker's conflicts. Returns warnings.
    pub(super) fn prepare_network(
        &self,
        config: &mut api_types::ContainerConfig,
        host: &mut api_types::HostConfig,
        endpoints: BTreeMap<String, EndpointSettings>,
    ) -> Result<(BTreeMap<String, EndpointSettings>, Vec<String>)> {
        let mut warnings = Vec::new();
        let mut endpoints = endpoints;
        if let Some(es) = endpoints.remove("default") {
            endpoints.insert(
                if self.networks.config().bridge == "none" {
                    "none"
                } else {
                    "bridge"
                }
                .to_string(),
                es,
            );
        }
        if host.network_mode.is_empty() || host.network_mode == "default" {
            host.network_mode = if self.networks.config().bridge == "none" {
                "none".into()
            } else {
                "bridge".into()
            };
        }
        // On a user-defined network a link is a name the linking container
        // resolves (the linked one need not exist yet): dockerd keeps
        // `--link` in the network's endpoint, not in HostConfig.Links.
        if matches!(mode(&host.network_mode), Mode::Bridge) && host.network_mode != "bridge" {
            if let Some(links) = host.links.take().filter(|l| !l.is_empty()) {
                // The docker CLI sends them in both places.
                let ep = endpoints
                    .entry(host.network_mode.clone())
                    .or_default()
                    .links
                    .get_or_insert_with(Vec::new);
                for l in links {
                    if !ep.contains(&l) {
                        ep.push(l);
                    }
                }
            }
        }
        // Legacy links (the default bridge) need their container (400, not
        // a 404 the CLI would take for a missing image).
        let all_links = host.links.iter().flatten().chain(
            endpoints
                .get("bridge")
                .into_iter()
                .flat_map(|e| e.links.iter().flatten()),
        );
        for l in all_links {
            let (name, _) = parse_link(l);
            self.find(name)
                .map_err(|_| Error::invalid(format!("could not get container for {name}")))?;
        }
        let publishes = host.publish_all_ports
            || host.port_bindings.as_ref().is_some_and(|p| {
                p.values()
                    .any(|b| b.as_ref().is_some_and(|b| !b.is_empty()))
            });
        let mut out = BTreeMap::new();
        match mode(&host.network_mode) {
            Mode::Container(other) => {
                // 400, not 404: the docker CLI would take a 404 for a missing image.
                self.find(other).map_err(|e| Error::invalid(e.message))?;
                if publishes {
                    return Err(Error::invalid(
                        "conflicting options: port publishing and the container type network mode",
                    ));
                }
                if !config.hostname.is_empty() {
                    return Err(Error::invalid(
                        "conflicting options: hostname and the network mode",
                    ));
                }
                if !host.dns.is_empty()
                    || !host.dns_search.is_empty()
                    || !host.dns_options.is_empty()
                {
                    return Err(Error::invalid(
                        "conflicting options: dns and the network mode",
                    ));
                }
                if !host.extra_hosts.is_empty() {
                    return Err(Error::invalid(
                        "conflicting options: custom host-to-IP mapping and the network mode",
                    ));
                }
                if !endpoints.is_empty() {
                    return Err(Error::invalid("container sharing network namespace with another container or host cannot be connected to any other network"));
                }
            }
            Mode::Host | Mode::None => {
                if publishes {
                    warnings.push(
                        "Published ports are discarded when using host network mode".to_string(),
                    );
                }
                if endpoints.keys().any(|k| *k != host.network_mode) {
                    return Err(Error::invalid("container sharing network namespace with another container or host cannot be connected to any other network"));
                }
                if matches!(mode(&host.network_mode), Mode::None) && publishes {
                    warnings.pop();
                    return Err(Error::invalid(
                        "conflicting options: port publishing and the container type network mode",
                    ));
                }
            }
            Mode::Bridge => {
                // At create an unknown network is bad input (a 404 would make
                // the docker CLI try to pull the image).
                let invalid = |e: Error| match e.kind {
                    base::ErrorKind::NotFound => Error::invalid(e.message),
                    _ => e,
                };
                let primary = host.network_mode.clone();
                let mut eps = endpoints;
                let first = eps.remove(&primary).unwrap_or_default();
                // The mode's network first (it gets eth0 and the default route).
                let recs = self
                    .networks
                    .validate(&BTreeMap::from([(primary.clone(), first.clone())]))
                    .map_err(invalid)?;
                out.insert(recs[0].name.clone(), first);
                for (k, v) in eps {
                    let r = self
                        .networks
                        .validate(&BTreeMap::from([(k, v.clone())]))
                        .map_err(invalid)?;
                    out.insert(r[0].name.clone(), v);
                }
                if let Some(m) = config
                    .extra
                    .get("MacAddress")
                    .and_then(|v| v.as_str())
                    .filter(|m| !m.is_empty())
                {
                    network::ipam::parse_mac(m)?;
                }
            }
        }
        Ok((out, warnings))
    }

    /// Sets up the network of a starting container.
    pub(super) fn start_network(&self, rec: &ContainerRecord) -> Result<StartNet> {
        match mode(&rec.host_config.network_mode) {
            Mode::Host => Ok(StartNet {
                netns: None,
                host_network: true,
                etc_from: None,
                hostname: None,
            }),
            Mode::None => Ok(StartNet {
                netns: None,
                host_network: false,
                etc_from: None,
                hostname: None,
            }),
            Mode::Container(other) => {
                let h = self.find(other)?;
                let o = h.rec.lock().unwrap().clone();
                if !h.running() {
                    return Err(Error::conflict(format!(
                        "cannot join network namespace of a non running container: {}",
                        o.id
                    )));
                }
                let host_network = matches!(mode(&o.host_config.network_mode), Mode::Host);
                Ok(StartNet {
                    netns: (!host_network)
                        .then(|| PathBuf::from(format!("/proc/{}/ns/net", o.state.pid))),
                    host_network,
                    etc_from: Some(self.container_dir(&o.id)),
                    hostname: Some(o.config.hostname.clone()),
                })
            }
            Mode::Bridge => {
                let exposed = network::ports::exposed_keys(rec.config.exposed_ports.as_ref());
                let mac = rec.config.extra.get("MacAddress").and_then(|v| v.as_str());
                // NetworkMode may name the network by id; the endpoints are by name.
                let primary = self
                    .networks
                    .get(&rec.host_config.network_mode)
                    .map(|n| n.name)
                    .unwrap_or_default();
                let att = self.networks.attach(&network::AttachRequest {
                    container_id: &rec.id,
                    name: &rec.name,
                    networks: &rec.networks,
                    port_bindings: rec.host_config.port_bindings.as_ref(),
                    publish_all: rec.host_config.publish_all_ports,
                    exposed: &exposed,
                    mac_address: mac,
                    dns: &rec.host_config.dns,
                    primary: &primary,
                    links: &self.link_targets(rec)?,
                })?;
                Ok(StartNet {
                    netns: Some(att.netns),
                    host_network: false,
                    etc_from: None,
                    hostname: None,
                })
            }
        }
    }

    /// `/etc/hosts` and `/etc/resolv.conf` as Docker writes them.
    pub(super) fn etc_files(&self, rec: &ContainerRecord) -> Result<(String, String)> {
        let h = &rec.config.hostname;
        let m = mode(&rec.host_config.network_mode);
        if matches!(m, Mode::Host) {
            let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
            let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            return Ok((hosts, resolv));
        }
        let mut hosts = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        for e in &rec.host_config.extra_hosts {
            let (name, ip) = e
                .split_once(':')
                .or_else(|| e.split_once('='))
                .ok_or_else(|| {
                    Error::invalid(format!("invalid argument \"{e}\" for \"--add-host\" flag"))
                })?;
            let ip = if ip == "host-gateway" {
                self.networks
                    .host_gateway()
                    .map(|g| g.to_string())
                    .ok_or_else(|| {
                        Error::invalid("unable to derive the IP value for host-gateway")
                    })?
            } else {
                ip.trim_start_matches('[').trim_end_matches(']').to_string()
            };
            hosts.push_str(&format!("{ip}\t{name}\n"));
        }
        let eps = self.networks.endpoints_of(&rec.id);
        let user = eps.keys().any(|n| n != "bridge");
        // Legacy links on the default bridge are host entries, as dockerd.
        if eps.contains_key("bridge") {
            for (alias, target) in self.link_targets(rec)? {
                let Some(other) = self.by_id.read().unwrap().get(&target).cloned() else {
                    continue;
                };
                let o = other.rec.lock().unwrap().clone();
                if let Some((ep, _)) = self.networks.endpoints_of(&o.id).get("bridge") {
                    hosts.push_str(&format!(
                        "{}\t{alias} {} {}\n",
                        ep.ip, o.config.hostname, o.name
                    ));
                }
            }
        }
        let own = self
            .networks
            .get(&rec.host_config.network_mode)
            .ok()
            .and_then(|n| eps.get(&n.name))
            .or_else(|| eps.values().next());
        match own {
            Some((ep, _)) => hosts.push_str(&format!("{}\t{h}\n", ep.ip)),
            None => hosts.push_str(&format!("127.0.1.1\t{h}\n")),
        }
        let (host_ns, host_search, host_opts) = network::host_resolv();
        let cfg = self.networks.config();
        let search = if !rec.host_config.dns_search.is_empty() {
            rec.host_config.dns_search.clone()
        } else if !cfg.dns_search.is_empty() {
            cfg.dns_search.clone()
        } else {
            host_search
        };
        let mut opts = if !rec.host_config.dns_options.is_empty() {
            rec.host_config.dns_options.clone()
        } else if !cfg.dns_options.is_empty() {
            cfg.dns_options.clone()
        } else {
            host_opts
        };
        let mut resolv = String::from("# Generated by berth.\n");
        if user {
            resolv.push_str("nameserver 127.0.0.11\n");
            if !opts.iter().any(|o| o.starts_with("ndots:")) {
                opts.insert(0, "ndots:0".into());
            }
        } else {
            let servers: Vec<String> = if !rec.host_config.dns.is_empty() {
                rec.host_config.dns.clone()
            } else if !cfg.dns.is_empty() {
                cfg.dns.iter().map(|d| d.to_string()).collect()
            } else {
                // The host's loopback resolvers are not reachable from a container.
                host_ns
                    .into_iter()
                    .filter(|s| !s.starts_with("127.") && s != "::1")
                    .collect()
            };
            for s in servers {
                resolv.push_str(&format!("nameserver {s}\n"));
            }
        }
        if !search.is_empty() {
            resolv.push_str(&format!("search {}\n", search.join(" ")));
        }
        if !opts.is_empty() {
            resolv.push_str(&format!("options {}\n", opts.join(" ")));
        }
        Ok((hosts, resolv))
    }

    /// `NetworkSettings` of inspect: live endpoints while running, the
    /// configured networks (without addresses) otherwise.
    pub(super) fn network_settings(&self, rec: &ContainerRecord, running: bool) -> NetworkSettings {
        let mut ns = NetworkSettings::default();
        let exposed = network::ports::exposed_keys(rec.config.exposed_ports.as_ref());
        let live = if running {
            self.networks.endpoints_of(&rec.id)
        } else {
            BTreeMap::new()
        };
        let published: Vec<network::ports::Published> =
            live.values().flat_map(|(e, _)| e.ports.clone()).collect();
        ns.ports = if running {
            network::ports::port_map(&exposed, &published)
        } else {
            PortMap::new()
        };
        if running && matches!(mode(&rec.host_config.network_mode), Mode::Bridge) {
            ns.sandbox_key = network::kernel::netns_path(&self.cfg.exec_root, &rec.id)
                .display()
                .to_string();
            ns.sandbox_id = rec.id.clone();
        }
        match mode(&rec.host_config.network_mode) {
            Mode::Bridge => {
                for (name, asked) in &rec.networks {
                    let es = match live.get(name) {
                        Some((ep, bridge)) => {
                            if name == "bridge" {
                                ns.bridge = bridge.clone();
                            }
                            self.networks.settings(ep, Some(asked))
                        }
                        None => EndpointSettings {
                            network_id: self.networks.get(name).map(|n| n.id).unwrap_or_default(),
                            ..asked.clone()
                        },
                    };
                    if name == "bridge" {
                        ns.endpoint_id = es.endpoint_id.clone();
                        ns.gateway = es.gateway.clone();
                        ns.ip_address = es.ip_address.clone();
                        ns.ip_prefix_len = es.ip_prefix_len;
                        ns.mac_address = es.mac_address.clone();
                    }
                    ns.networks.insert(name.clone(), es);
                }
            }
            Mode::Host | Mode::None => {
                let name = rec.host_config.network_mode.clone();
                ns.networks.insert(
                    name.clone(),
                    EndpointSettings {
                        network_id: self.networks.get(&name).map(|n| n.id).unwrap_or_default(),
                        ..Default::default()
                    },
                );
            }
            Mode::Container(_) => {}
        }
        ns
    }

    /// `Ports` of `GET /containers/json`.
    pub(super) fn summary_ports(&self, rec: &ContainerRecord, running: bool) -> Vec<Port> {
        let exposed = network::ports::exposed_keys(rec.config.exposed_ports.as_ref());
        let mut out = Vec::new();
        let live = if running {
            self.networks.endpoints_of(&rec.id)
        } else {
            BTreeMap::new()
        };
        let published: Vec<network::ports::Published> =
            live.values().flat_map(|(e, _)| e.ports.clone()).collect();
        for p in &published {
            out.push(Port {
                ip: Some(
                    p.host_ip
                        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into())
                        .to_string(),
                ),
                private_port: p.container_port,
                public_port: Some(p.host_port),
                typ: p.proto.clone(),
            });
        }
        for k in exposed {
            if let Ok((port, proto)) = network::ports::parse_key(&k) {
                if !published
                    .iter()
                    .any(|p| p.container_port == port && p.proto == proto)
                {
                    out.push(Port {
                        ip: None,
                        private_port: port,
                        public_port: None,
                        typ: proto,
                    });
                }
            }
        }
        out
    }

    /// `POST /networks/{id}/connect`.
    pub async fn network_connect(
        &self,
        net: &str,
        container: &str,
        es: Option<EndpointSettings>,
    ) -> Result<()> {
        let h = self.find(container)?;
        let _op = h.op.lock().await;
        let rec = h.rec.lock().unwrap().clone();
        let netrec = self.networks.get(net)?;
        if !matches!(mode(&rec.host_config.network_mode), Mode::Bridge) || netrec.driver != "bridge"
        {
            return Err(Error::forbidden("container sharing network namespace with another container or host cannot be connected to any other network"));
        }
        if rec.networks.contains_key(&netrec.name) {
            return Err(Error::forbidden(format!(
                "endpoint with name {} already exists in network {}",
                rec.name, netrec.name
            )));
        }
        let es = es.unwrap_or_default();
        self.networks
            .validate(&BTreeMap::from([(netrec.name.clone(), es.clone())]))?;
        let mut joined = rec.clone();
        joined.networks.insert(netrec.name.clone(), es.clone());
        if h.running() {
            let exposed = Vec::new();
            self.networks.connect_running(
                &network::AttachRequest {
                    container_id: &rec.id,
                    name: &rec.name,
                    networks: &BTreeMap::new(),
                    port_bindings: None,
                    publish_all: false,
                    exposed: &exposed,
                    mac_address: None,
                    dns: &rec.host_config.dns,
                    primary: "",
                    links: &self.link_targets(&joined)?,
                },
                &netrec.id,
                &es,
            )?;
        }
        let mut r = h.rec.lock().unwrap();
        r.networks.insert(netrec.name.clone(), es);
        self.save(&r)?;
        self.network_event("connect", &netrec, &r.id);
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub async fn network_disconnect(&self, net: &str, container: &str, force: bool) -> Result<()> {
        let netrec = self.networks.get(net)?;
        // `force` is for endpoints whose container is gone; berth removes a
        // container's endpoints with it, so there are none to force.
        let _ = force;
        let h = self.find(container)?;
        let _op = h.op.lock().await;
        let rec = h.rec.lock().unwrap().clone();
        if !rec.networks.contains_key(&netrec.name) {
            if matches!(mode(&rec.host_config.network_mode), Mode::Host) && netrec.name == "host" {
                return Err(Error::forbidden("container cannot be disconnected from host network or connected to host network"));
            }
            return Err(Error::forbidden(format!(
                "container {} is not connected to network {}",
                rec.id, netrec.name
            )));
        }
        if h.running() {
            self.networks.disconnect_running(&rec.id, &netrec.id)?;
        }
        let mut r = h.rec.lock().unwrap();
        r.networks.remove(&netrec.name);
        self.save(&r)?;
        self.network_event("disconnect", &netrec, &r.id);
        Ok(())
    }

    /// dockerd's network `connect`/`disconnect` event.
    fn network_event(&self, action: &str, net: &network::NetworkRecord, container: &str) {
        let attrs = [
            ("container", container),
            ("name", &net.name),
            ("type", "bridge"),
        ]
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())));
        self.images.events().publish(
            "network",
            action,
            &net.id,
            serde_json::Map::from_iter(attrs),
        );
    }

    /// A container's links as (alias, linked container): legacy links
    /// (`HostConfig.Links`, the default bridge's endpoint) by the linked
    /// container's id, which must be running, as dockerd requires; the
    /// links of user-defined networks' endpoints by name, resolved when
    /// asked (the linked container may come later, as with dockerd).
    pub(super) fn link_targets(&self, rec: &ContainerRecord) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (net, es) in &rec.networks {
            if net == "bridge" {
                continue;
            }
            for l in es.links.iter().flatten() {
                let (name, alias) = parse_link(l);
                if !out.iter().any(|(a, n)| a == alias && n == name) {
                    out.push((alias.to_string(), name.to_string()));
                }
            }
        }
        let links = rec.host_config.links.iter().flatten().chain(
            rec.networks
                .get("bridge")
                .into_iter()
                .flat_map(|e| e.links.iter().flatten()),
        );
        for l in links {
            let (name, alias) = parse_link(l);
            let h = self
                .find(name)
                .map_err(|_| Error::invalid(format!("could not get container for {name}")))?;
            if !h.running() {
                return Err(Error::conflict(format!(
                    "Cannot link to a non running container: /{} AS /{}/{alias}",
                    h.rec.lock().unwrap().name,
                    rec.name
                )));
            }
            let id = h.id();
            if !out.iter().any(|(a, i)| *a == alias && *i == id) {
                out.push((alias.to_string(), id));
            }
        }
        Ok(out)
    }

    /// The environment legacy links give on the default bridge, as dockerd:
    /// `ALIAS_NAME`, `ALIAS_PORT[_p_PROTO[_ADDR|_PORT|_PROTO]]`, `ALIAS_ENV_*`.
    pub(super) fn link_env(&self, rec: &ContainerRecord) -> Result<Vec<String>> {
        let mut env = Vec::new();
        if !self.networks.endpoints_of(&rec.id).contains_key("bridge") {
            return Ok(env);
        }
        for (alias, target) in self.link_targets(rec)? {
            let Some(other) = self.by_id.read().unwrap().get(&target).cloned() else {
                continue;
            };
            let o = other.rec.lock().unwrap().clone();
            let Some((ep, _)) = self.networks.endpoints_of(&o.id).get("bridge").cloned() else {
                continue;
            };
            let p: String = alias
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            env.push(format!("{p}_NAME=/{}/{alias}", rec.name));
            let mut ports: Vec<(u16, String)> =
                network::ports::exposed_keys(o.config.exposed_ports.as_ref())
                    .iter()
                    .filter_map(|k| network::ports::parse_key(k).ok())
                    .collect();
            ports.sort();
            if let Some((port, proto)) = ports.first() {
                env.push(format!("{p}_PORT={proto}://{}:{port}", ep.ip));
            }
            for (port, proto) in &ports {
                let up = proto.to_ascii_uppercase();
                env.push(format!("{p}_PORT_{port}_{up}={proto}://{}:{port}", ep.ip));
                env.push(format!("{p}_PORT_{port}_{up}_ADDR={}", ep.ip));
                env.push(format!("{p}_PORT_{port}_{up}_PORT={port}"));
                env.push(format!("{p}_PORT_{port}_{up}_PROTO={proto}"));
            }
            for e in &o.config.env {
                if let Some((k, v)) = e.split_once('=') {
                    if !matches!(k, "HOME" | "PATH" | "HOSTNAME") {
                        env.push(format!("{p}_ENV_{k}={v}"));
                    }
                }
            }
        }
        Ok(env)
    }

    /// Names of containers by id (for network inspect).
    pub fn container_name(&self, id: &str) -> Option<String> {
        self.by_id
            .read()
            .unwrap()
            .get(id)
            .map(|h| h.rec.lock().unwrap().name.clone())
    }

    /// Ids of running containers and their names (for the network service's recovery).
    pub(super) fn running_ids(&self) -> Vec<(String, String)> {
        self.by_id
            .read()
            .unwrap()
            .values()
            .filter(|h| h.running())
            .map(|h| {
                let r = h.rec.lock().unwrap();
                (r.id.clone(), r.name.clone())
            })
            .collect()
    }
}

impl ContainerService {
    /// `DELETE /containers/{parent}/{alias}?link=1`: drops the legacy link
    /// `alias` of `parent`, as dockerd does (the name stops resolving from
    /// the parent; its environment and /etc/hosts keep it until the next
    /// start, as with dockerd).
    pub async fn remove_link(&self, parent: &str, alias: &str) -> Result<()> {
        let missing = || Error::not_found(format!("No such container: {parent}/{alias}"));
        let h = self.find(parent).map_err(|_| missing())?;
        let _op = h.op.lock().await;
        let rec = {
            let mut r = h.rec.lock().unwrap();
            let keep = |l: &String| parse_link(l).1 != alias;
            let mut removed = false;
            if let Some(links) = r.host_config.links.as_mut() {
                let n = links.len();
                links.retain(keep);
                removed |= links.len() != n;
            }
            for e in r.networks.values_mut() {
                if let Some(links) = e.links.as_mut() {
                    let n = links.len();
                    links.retain(keep);
                    removed |= links.len() != n;
                }
            }
            if !removed {
                return Err(missing());
            }
            self.save(&r)?;
            r.clone()
        };
        if h.running() {
            self.networks
                .set_links(&rec.id, self.link_targets(&rec).unwrap_or_default());
        }
        Ok(())
    }
}

/// `name[:alias]` of a link; dockerd's stored form `/name:/me/alias` too.
fn parse_link(l: &str) -> (&str, &str) {
    let (name, alias) = l.split_once(':').unwrap_or((l, l));
    let name = name.trim_start_matches('/');
    let alias = alias.rsplit('/').next().unwrap_or(alias);
    (name, if alias.is_empty() { name } else { alias })
}
