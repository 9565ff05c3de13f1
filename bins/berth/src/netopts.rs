//! The networking flags of `run`/`create` (and `network create`/`connect`),
//! parsed and validated the way the docker CLI does: port specs
//! (`[ip:][hostPort:]containerPort[/proto]`, ranges, `[ipv6]`), `--expose`,
//! `--add-host`, `--dns*`, `--mac-address`, `--link`, `--network` (with its
//! `name=...,alias=...` form), the endpoint settings the CLI sends, and the
//! `PORTS` column of `ps`. Error texts are docker's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::fmtutil::go_quote;

// ------------------------------------------------------------------ ports

/// Go's `strconv.ParseUint(s, 10, 16)`, with its error text.
fn parse_u16(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseUint: parsing {}: invalid syntax",
            go_quote(s)
        ));
    }
    match s.parse::<u64>() {
        Ok(v) if v <= 65535 => Ok(v),
        _ => Err(format!(
            "strconv.ParseUint: parsing {}: value out of range",
            go_quote(s)
        )),
    }
}

/// go-connections `nat.ParsePortRange`: "80" or "8000-8010".
pub fn parse_port_range(ports: &str) -> Result<(u64, u64), String> {
    if ports.is_empty() {
        return Err("empty string specified for ports".into());
    }
    if !ports.contains('-') {
        let p = parse_u16(ports)?;
        return Ok((p, p));
    }
    let parts: Vec<&str> = ports.split('-').collect();
    let start = parse_u16(parts[0])?;
    let end = parse_u16(parts[1])?;
    if end < start {
        return Err(format!("invalid range specified for port: {ports}"));
    }
    Ok((start, end))
}

/// go-connections `nat.SplitProtoPort`: "80/udp" -> ("udp", "80").
pub fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    if parts.len() == 1 {
        return ("tcp".into(), raw.into());
    }
    if parts[1].is_empty() {
        return ("tcp".into(), parts[0].into());
    }
    (parts[1].into(), parts[0].into())
}

/// `ip:hostPort:containerPort`, the IP possibly holding colons.
fn split_parts(raw: &str) -> (String, String, String) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1].to_string();
    match n {
        1 => (String::new(), String::new(), container),
        2 => (String::new(), parts[0].into(), container),
        3 => (parts[0].into(), parts[1].into(), container),
        _ => (parts[..n - 2].join(":"), parts[n - 2].into(), container),
    }
}

/// One container port ("80/tcp") and the host binding requested for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub port: String,
    pub host_ip: String,
    pub host_port: String,
}

/// go-connections `nat.ParsePortSpec`: one `-p` value, expanded per port.
pub fn parse_port_spec(raw: &str) -> Result<Vec<PortMapping>, String> {
    let (mut ip, host_port, container) = split_parts(raw);
    let (proto, container) = split_proto_port(&container);
    if ip.starts_with('[') {
        // net.SplitHostPort(ip + ":") strips the brackets of an IPv6 address.
        match ip[1..].split_once(']') {
            Some((inner, "")) if !inner.contains('[') => ip = inner.to_string(),
            Some(_) => {
                return Err(format!(
                    "invalid IP address {ip}: address {ip}:: missing port in address"
                ))
            }
            None => {
                return Err(format!(
                    "invalid IP address {ip}: address {ip}:: missing ']' in address"
                ))
            }
        }
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        parse_port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (mut hstart, mut hend) = (0, 0);
    if !host_port.is_empty() {
        (hstart, hend) =
            parse_port_range(&host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?;
    }
    if !host_port.is_empty() && end - start != hend - hstart && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let lower = proto.to_ascii_lowercase();
    if !matches!(lower.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut hp = if host_port.is_empty() {
            String::new()
        } else {
            (hstart + i).to_string()
        };
        // A single container port with a host range: the range is where
        // the daemon picks a free host port.
        if start == end && hstart != hend {
            hp = format!("{hp}-{hend}");
        }
        out.push(PortMapping {
            port: format!("{}/{lower}", start + i),
            host_ip: ip.clone(),
            host_port: hp,
        });
    }
    Ok(out)
}

/// The docker CLI's `convertToStandardNotation`: `-p target=80,published=8080`
/// is rewritten as `8080:80/tcp`.
fn standard_notation(spec: &str) -> Result<String, String> {
    if !spec.contains('=') {
        return Ok(spec.to_string());
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in spec.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => {
                return Err(format!(
                    "invalid publish opts format (should be name=value but got '{param}')"
                ))
            }
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or("");
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}

/// `ExposedPorts` and `PortBindings` of a create body, both keyed by
/// "port/proto" (sorted, as Go marshals maps).
#[derive(Debug, Default, PartialEq)]
pub struct Ports {
    pub exposed: BTreeMap<String, ()>,
    pub bindings: BTreeMap<String, Vec<(String, String)>>,
}

impl Ports {
    pub fn exposed_json(&self) -> Value {
        Value::Object(
            self.exposed
                .keys()
                .map(|k| (k.clone(), json!({})))
                .collect(),
        )
    }

    pub fn bindings_json(&self) -> Value {
        Value::Object(
            self.bindings
                .iter()
                .map(|(k, v)| {
                    let list = v
                        .iter()
                        .map(|(ip, port)| json!({"HostIp": ip, "HostPort": port}))
                        .collect();
                    (k.clone(), Value::Array(list))
                })
                .collect(),
        )
    }
}

/// `-p` and `--expose` values, as the docker CLI's `parse` merges them.
pub fn parse_ports(publish: &[String], expose: &[String]) -> Result<Ports, String> {
    let mut ports = Ports::default();
    for spec in publish {
        let spec = standard_notation(spec)?;
        for m in parse_port_spec(&spec)? {
            ports.exposed.insert(m.port.clone(), ());
            ports
                .bindings
                .entry(m.port)
                .or_default()
                .push((m.host_ip, m.host_port));
        }
    }
    for e in expose {
        if e.contains(':') {
            return Err(format!("invalid port format for --expose: {e}"));
        }
        let (proto, port) = split_proto_port(e);
        let (start, end) = parse_port_range(&port)
            .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
        for p in start..=end {
            ports.exposed.insert(format!("{p}/{proto}"), ());
        }
    }
    Ok(ports)
}

// ------------------------------------------------------------------ flag validators

/// Go's `net.IP.String()` of a parsed address (IPv4-mapped IPv6 prints as IPv4).
fn canonical_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// docker's `opts.ValidateIPAddress` (`--dns`): the address in canonical form.
pub fn validate_ip(val: &str) -> Result<String, String> {
    val.trim()
        .parse::<IpAddr>()
        .map(canonical_ip)
        .map_err(|_| format!("IP address is not correctly formatted: {val}"))
}

/// docker's `opts.ValidateExtraHost` (`--add-host host:ip`, `host=ip`,
/// `host:host-gateway`, `host=[::1]`): the `host:ip` form the API takes.
pub fn validate_extra_host(val: &str) -> Result<String, String> {
    let (k, v) = match val.split_once('=') {
        Some(kv) => kv,
        None => val.split_once(':').unwrap_or((val, "")),
    };
    if !val.contains('=') && !val.contains(':') || k.is_empty() || k.contains(':') {
        return Err(format!("bad format for add-host: {}", go_quote(val)));
    }
    let mut v = v;
    if v != "host-gateway" {
        if v.len() > 2 && v.starts_with('[') && v.ends_with(']') {
            v = &v[1..v.len() - 1];
        }
        if validate_ip(v).is_err() {
            return Err(format!("invalid IP address in add-host: {}", go_quote(v)));
        }
    }
    Ok(format!("{k}:{v}"))
}

/// One label of a domain as docker's (lenient) `domainRegexp` accepts it:
/// up to two leading colons, then an alphanumeric label with inner dashes.
fn domain_label_ok(label: &str) -> bool {
    let l = label.trim_start_matches(':');
    if label.len() - l.len() > 2 || l.is_empty() {
        return false;
    }
    let b = l.as_bytes();
    b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// docker's `opts.ValidateDNSSearch` (`--dns-search`): the domain without
/// its trailing dot, or "." for an empty search list.
pub fn validate_dns_search(val: &str) -> Result<String, String> {
    let val = val.trim_matches(' ');
    if val == "." {
        return Ok(val.into());
    }
    let bad = || format!("{val} is not a valid domain");
    if !val.bytes().any(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let trimmed = val.trim_end();
    let domain = trimmed.strip_suffix('.').unwrap_or(trimmed);
    // Labels are separated by '.', each separator optionally preceded by a colon.
    let parts: Vec<&str> = domain.split('.').collect();
    let ok = !domain.is_empty()
        && parts.iter().enumerate().all(|(i, part)| {
            let label = if i + 1 < parts.len() {
                part.strip_suffix(':').unwrap_or(part)
            } else {
                part
            };
            domain_label_ok(label)
        });
    if ok && domain.len() < 255 {
        Ok(domain.to_string())
    } else {
        Err(bad())
    }
}

/// Go's `net.ParseMAC`: 6, 8 or 20 octets as `xx:xx…`, `xx-xx…` or `xxxx.xxxx…`.
pub fn valid_mac(s: &str) -> bool {
    let s = s.trim();
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|c| c.is_ascii_hexdigit());
    let octets = if s.contains('.') {
        let parts: Vec<&str> = s.split('.').collect();
        if !parts.iter().all(|p| hex(p, 4)) {
            return false;
        }
        parts.len() * 2
    } else {
        let sep = if s.contains('-') { '-' } else { ':' };
        let parts: Vec<&str> = s.split(sep).collect();
        if !parts.iter().all(|p| hex(p, 2)) {
            return false;
        }
        parts.len()
    };
    matches!(octets, 6 | 8 | 20)
}

/// docker's `opts.ValidateLink` (`--link name[:alias]`).
pub fn validate_link(val: &str) -> Result<String, String> {
    if val.is_empty() {
        return Err("empty string specified for links".into());
    }
    if val.splitn(3, ':').count() > 2 {
        return Err(format!("bad format for links: {val}"));
    }
    Ok(val.to_string())
}

/// docker's `opts.ValidateLabel` (`--label` of `network create`).
pub fn validate_label(val: &str) -> Result<String, String> {
    let key = val.split_once('=').map_or(val, |(k, _)| k);
    let key = key.trim_start_matches([' ', '\t']);
    if key.is_empty() {
        return Err(format!("invalid label '{val}': empty name"));
    }
    if key.contains([' ', '\t']) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(val.to_string())
}

/// `k=v` values into a map (docker's `ConvertKVStringsToMap`; `k` alone maps to "").
pub fn kv_map(values: &[String]) -> Map<String, Value> {
    let mut sorted: BTreeMap<String, String> = BTreeMap::new();
    for v in values {
        let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
        sorted.insert(k.to_string(), val.to_string());
    }
    sorted
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

// ------------------------------------------------------------------ --network

/// One `--network` value: a name, or `name=n,alias=a,ip=…,driver-opt=k=v,…`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attachment {
    pub target: String,
    pub aliases: Vec<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub links: Vec<String>,
    pub ipv4: String,
    pub ipv6: String,
    pub link_local_ips: Vec<String>,
    pub mac: String,
    pub gw_priority: i64,
}

/// Fields of a CSV record (Go's encoding/csv, one line).
pub(crate) fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => quoted = true,
            '"' => {
                return Err("parse error on line 1, column 1: bare \" in non-quoted field".into())
            }
            ',' => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            c => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("record on line 1; parse error on line 2, column 0: extraneous or missing \" in quoted-field".into());
    }
    fields.push(cur);
    Ok(fields)
}

/// Whether `s` contains `\w+=\w+` (docker's test for the long syntax,
/// an unanchored match).
fn looks_long(s: &str) -> bool {
    let b = s.as_bytes();
    let w = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    (1..b.len().saturating_sub(1)).any(|i| b[i] == b'=' && w(b[i - 1]) && w(b[i + 1]))
}

/// docker's `NetworkOpt.Set`.
pub fn parse_attachment(value: &str) -> Result<Attachment, String> {
    if !looks_long(value) {
        return Ok(Attachment {
            target: value.to_string(),
            ..Default::default()
        });
    }
    let mut a = Attachment::default();
    for field in csv_fields(value)? {
        let lower = field.to_lowercase();
        let (key, val) = match lower.split_once('=') {
            Some((k, v)) if !k.is_empty() => (k.trim(), v.trim()),
            _ => return Err(format!("invalid field {field}")),
        };
        match key {
            "name" => a.target = val.into(),
            "alias" => a.aliases.push(val.into()),
            "ip" => a.ipv4 = val.into(),
            "ip6" => a.ipv6 = val.into(),
            "mac-address" => a.mac = val.into(),
            "link-local-ip" => a.link_local_ips.push(val.into()),
            "driver-opt" => match val.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    a.driver_opts.insert(k.trim().into(), v.trim().into());
                }
                _ => return Err("invalid key value pair format in driver options".into()),
            },
            "gw-priority" => {
                a.gw_priority = val
                    .parse()
                    .map_err(|_| format!("invalid gw-priority ({val}): invalid syntax"))?
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    if a.target.is_empty() {
        return Err("network name/id is not specified".into());
    }
    Ok(a)
}

/// Docker's `NetworkMode.IsUserDefined`.
pub fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none")
        && mode.split_once(':').map(|(k, _)| k) != Some("container")
        && mode != "container"
}

/// The endpoint-level flags of `run`/`create` (`--network-alias`, `--link`,
/// `--ip`, `--ip6`, `--mac-address`, `--link-local-ip`).
#[derive(Debug, Default)]
pub struct EndpointFlags<'a> {
    pub aliases: &'a [String],
    pub links: &'a [String],
    pub ipv4: &'a str,
    pub ipv6: &'a str,
    pub mac: &'a str,
    pub link_local_ips: &'a [String],
}

/// An `EndpointSettings` as the docker CLI marshals it (every field).
pub fn endpoint_json(
    ipam: Value,
    links: Value,
    aliases: Value,
    mac: &str,
    driver_opts: Value,
    gw_priority: i64,
) -> Value {
    json!({
        "IPAMConfig": ipam,
        "Links": links,
        "Aliases": aliases,
        "MacAddress": mac,
        "DriverOpts": driver_opts,
        "GwPriority": gw_priority,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": null,
    })
}

/// `EndpointIPAMConfig` (its fields are `omitempty`).
pub fn ipam_json(ipv4: &str, ipv6: &str, link_local: &[String]) -> Value {
    let mut m = Map::new();
    if !ipv4.is_empty() {
        m.insert("IPv4Address".into(), json!(ipv4));
    }
    if !ipv6.is_empty() {
        m.insert("IPv6Address".into(), json!(ipv6));
    }
    if !link_local.is_empty() {
        m.insert("LinkLocalIPs".into(), json!(link_local));
    }
    Value::Object(m)
}

fn list_or_null(v: &[String]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        json!(v)
    }
}

fn conflict(what: &str) -> String {
    format!("conflicting options: cannot specify both {what}")
}

/// docker's `applyContainerOptions`: the plain flags apply to the first network.
fn apply_flags(n: &mut Attachment, f: &EndpointFlags) -> Result<(), String> {
    if !n.aliases.is_empty() && !f.aliases.is_empty() {
        return Err(conflict("--network-alias and per-network alias"));
    }
    if !n.links.is_empty() && !f.links.is_empty() {
        return Err(conflict("--link and per-network links"));
    }
    if !n.ipv4.is_empty() && !f.ipv4.is_empty() {
        return Err(conflict("--ip and per-network IPv4 address"));
    }
    if !n.ipv6.is_empty() && !f.ipv6.is_empty() {
        return Err(conflict("--ip6 and per-network IPv6 address"));
    }
    if !n.mac.is_empty() && !f.mac.is_empty() {
        return Err(conflict("--mac-address and per-network MAC address"));
    }
    if !n.link_local_ips.is_empty() && !f.link_local_ips.is_empty() {
        return Err(conflict(
            "--link-local-ip and per-network link-local IP addresses",
        ));
    }
    if !f.aliases.is_empty() {
        n.aliases = f.aliases.to_vec();
    }
    // On a user-defined network a link is an endpoint option (an alias);
    // on the default bridge it is a legacy link (HostConfig.Links).
    if is_user_defined(&n.target) && !f.links.is_empty() {
        n.links = f.links.to_vec();
    }
    if !f.ipv4.is_empty() {
        n.ipv4 = f.ipv4.into();
    }
    if !f.ipv6.is_empty() {
        n.ipv6 = f.ipv6.into();
    }
    if !f.mac.is_empty() {
        n.mac = f.mac.into();
    }
    if !f.link_local_ips.is_empty() {
        n.link_local_ips = f.link_local_ips.to_vec();
    }
    Ok(())
}

/// docker's `parseNetworkAttachmentOpt`: the endpoint, or None when it
/// holds nothing (a zero `EndpointSettings`).
fn attachment_endpoint(ep: &Attachment) -> Result<(Value, bool), String> {
    if ep.target.trim().is_empty() {
        return Err("no name set for network".into());
    }
    if !is_user_defined(&ep.target) {
        if !ep.aliases.is_empty() {
            return Err(
                "network-scoped aliases are only supported for user-defined networks".into(),
            );
        }
        if !ep.links.is_empty() {
            return Err("links are only supported for user-defined networks".into());
        }
    }
    let has_ipam = !ep.ipv4.is_empty() || !ep.ipv6.is_empty() || !ep.link_local_ips.is_empty();
    let ipam = if has_ipam {
        ipam_json(&ep.ipv4, &ep.ipv6, &ep.link_local_ips)
    } else {
        Value::Null
    };
    if !ep.mac.is_empty() && !valid_mac(&ep.mac) {
        return Err(format!("{} is not a valid mac address", ep.mac));
    }
    let driver_opts = if ep.driver_opts.is_empty() {
        Value::Null
    } else {
        json!(ep.driver_opts)
    };
    let empty = !has_ipam
        && ep.aliases.is_empty()
        && ep.links.is_empty()
        && ep.driver_opts.is_empty()
        && ep.mac.is_empty()
        && ep.gw_priority == 0;
    let v = endpoint_json(
        ipam,
        list_or_null(&ep.links),
        list_or_null(&ep.aliases),
        &ep.mac,
        driver_opts,
        ep.gw_priority,
    );
    Ok((v, empty))
}

/// docker's `parseNetworkOpts`: `NetworkingConfig.EndpointsConfig` for the
/// `--network` values and the endpoint flags.
pub fn endpoints_config(
    networks: &[Attachment],
    flags: &EndpointFlags,
) -> Result<Map<String, Value>, String> {
    let mut endpoints = Map::new();
    if networks.is_empty() {
        let mut n = Attachment {
            target: "default".into(),
            ..Default::default()
        };
        apply_flags(&mut n, flags)?;
        endpoints.insert("default".into(), attachment_endpoint(&n)?.0);
    }
    let (mut user, mut other) = (false, false);
    for (i, n) in networks.iter().enumerate() {
        let mut n = n.clone();
        if is_user_defined(&n.target) {
            user = true;
        } else {
            other = true;
        }
        if i == 0 {
            apply_flags(&mut n, flags)?;
        }
        let (ep, empty) = attachment_endpoint(&n)?;
        if endpoints.contains_key(&n.target) {
            return Err(format!(
                "network {} is specified multiple times",
                go_quote(&n.target)
            ));
        }
        // A single network without options: the daemon makes the endpoint.
        if i == 0 && networks.len() == 1 && empty {
            continue;
        }
        endpoints.insert(n.target.clone(), ep);
    }
    if user && other {
        return Err(
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
                .into(),
        );
    }
    Ok(endpoints)
}

// ------------------------------------------------------------------ display

/// Go's `net.JoinHostPort`.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// fvbommel/sortorder `NaturalLess`: digit runs compare as numbers and
/// sort before other characters.
pub fn natural_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return da;
        }
        if !da {
            if a[i] != b[j] {
                return a[i] < b[j];
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (nz_a, nz_b) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (na, nb) = (&a[nz_a..i], &b[nz_b..j]);
        if na.len() != nb.len() {
            return na.len() < nb.len();
        }
        if na != nb {
            return na < nb;
        }
        if nz_a != nz_b {
            return nz_a < nz_b;
        }
    }
    a.len() < b.len()
}

/// [`natural_less`] as an ordering, for `sort_by`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if natural_less(a, b) {
        std::cmp::Ordering::Less
    } else if natural_less(b, a) {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

/// Sorts strings with [`natural_less`].
pub fn natural_sort(v: &mut [String]) {
    v.sort_by(|x, y| natural_cmp(x, y));
}

/// One entry of a container summary's `Ports`.
#[derive(Debug, Clone, PartialEq)]
struct SummaryPort {
    ip: String,
    private: u64,
    public: u64,
    kind: String,
}

/// docker's `DisplayablePorts`: the `PORTS` column of `ps`, consecutive
/// ports collapsed into ranges (`0.0.0.0:8000-8002->8000-8002/tcp`).
pub fn displayable_ports(ports: &Value) -> String {
    let mut ports: Vec<SummaryPort> = ports
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| SummaryPort {
            ip: p["IP"].as_str().unwrap_or_default().to_string(),
            private: p["PrivatePort"].as_u64().unwrap_or(0),
            public: p["PublicPort"].as_u64().unwrap_or(0),
            kind: p["Type"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    ports.sort_by(|i, j| {
        (i.private, &i.ip, i.public, &i.kind).cmp(&(j.private, &j.ip, j.public, &j.kind))
    });
    let form_group = |key: &str, first: u64, last: u64| {
        let (ip, kind) = match key.split_once('/') {
            Some((ip, kind)) => (ip, kind),
            None => ("", key),
        };
        let mut group = first.to_string();
        if first != last {
            group = format!("{group}-{last}");
        }
        if !ip.is_empty() {
            group = format!("{}->{group}", join_host_port(ip, &group));
        }
        format!("{group}/{kind}")
    };
    let mut groups: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for p in &ports {
        let mut key = p.kind.clone();
        if !p.ip.is_empty() {
            if p.public != p.private {
                host_mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&p.ip, &p.public.to_string()),
                    p.private,
                    p.kind
                ));
                continue;
            }
            key = format!("{}/{}", p.ip, p.kind);
        }
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (p.private, p.private));
                order.push(key);
            }
            Some(g) if p.private == g.1 + 1 => g.1 = p.private,
            Some(g) => {
                result.push(form_group(&key, g.0, g.1));
                *g = (p.private, p.private);
            }
        }
    }
    for key in &order {
        let g = groups[key];
        result.push(form_group(key, g.0, g.1));
    }
    result.extend(host_mappings);
    result.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn port_specs() {
        // (spec, [(port, host ip, host port)])
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str, &'a str)]);
        let ok: &[Case] = &[
            ("80", &[("80/tcp", "", "")]),
            ("8080:80", &[("80/tcp", "", "8080")]),
            ("127.0.0.1:8080:80/udp", &[("80/udp", "127.0.0.1", "8080")]),
            ("0.0.0.0::80", &[("80/tcp", "0.0.0.0", "")]),
            ("[::1]:8080:80", &[("80/tcp", "::1", "8080")]),
            ("::1:8080:80", &[("80/tcp", "::1", "8080")]),
            ("80/SCTP", &[("80/sctp", "", "")]),
            (
                "8000-8001:80-81",
                &[("80/tcp", "", "8000"), ("81/tcp", "", "8001")],
            ),
            ("8000-8010:80", &[("80/tcp", "", "8000-8010")]),
            ("80-81", &[("80/tcp", "", ""), ("81/tcp", "", "")]),
        ];
        for (spec, want) in ok {
            let got = parse_port_spec(spec).unwrap();
            let got: Vec<(&str, &str, &str)> = got
                .iter()
                .map(|m| (m.port.as_str(), m.host_ip.as_str(), m.host_port.as_str()))
                .collect();
            assert_eq!(&got, want, "{spec}");
        }
        let bad = [
            ("80/xyz", "invalid proto: xyz"),
            ("abc", "invalid containerPort: abc"),
            ("70000", "invalid containerPort: 70000"),
            ("80-70", "invalid containerPort: 80-70"),
            ("1.2.3:80:80", "invalid IP address: 1.2.3"),
            ("1:2:3:4", "invalid IP address: 1:2"),
            ("x:80", "invalid hostPort: x"),
            (":", "no port specified: :<empty>"),
            (
                "8000-8010:80-85",
                "invalid ranges specified for container and host Ports: 80-85 and 8000-8010",
            ),
        ];
        for (spec, want) in bad {
            assert_eq!(parse_port_spec(spec).unwrap_err(), want, "{spec}");
        }
    }

    #[test]
    fn publish_and_expose() {
        let p = parse_ports(
            &s(&[
                "8080:80",
                "127.0.0.1:8081:80",
                "target=53,published=5353,protocol=udp",
            ]),
            &s(&["90-91/udp", "80"]),
        )
        .unwrap();
        assert_eq!(
            p.exposed.keys().collect::<Vec<_>>(),
            ["53/udp", "80/tcp", "90/udp", "91/udp"]
        );
        assert_eq!(
            p.bindings_json(),
            json!({
                "53/udp": [{"HostIp": "", "HostPort": "5353"}],
                "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "8081"}],
            })
        );
        let bad = [
            (s(&[]), s(&["1:2"]), "invalid port format for --expose: 1:2"),
            (
                s(&[]),
                s(&["80-70"]),
                "invalid range format for --expose: 80-70, error: invalid range specified for port: 80-70",
            ),
            (
                s(&[]),
                s(&["abc"]),
                "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax",
            ),
            (
                s(&["published=80"]),
                s(&[]),
                "no port specified: 80:/tcp<empty>",
            ),
            (
                s(&["a=1,b"]),
                s(&[]),
                "invalid publish opts format (should be name=value but got 'b')",
            ),
        ];
        for (publish, expose, want) in bad {
            assert_eq!(parse_ports(&publish, &expose).unwrap_err(), want);
        }
    }

    #[test]
    fn validators() {
        let hosts = [
            ("foo:1.2.3.4", Ok("foo:1.2.3.4")),
            ("foo=1.2.3.4", Ok("foo:1.2.3.4")),
            ("foo:::1", Ok("foo:::1")),
            ("foo=[::1]", Ok("foo:::1")),
            ("gw:host-gateway", Ok("gw:host-gateway")),
            ("foo", Err("bad format for add-host: \"foo\"")),
            ("=1.2.3.4", Err("bad format for add-host: \"=1.2.3.4\"")),
            ("foo:bar", Err("invalid IP address in add-host: \"bar\"")),
        ];
        for (v, want) in hosts {
            assert_eq!(
                validate_extra_host(v),
                want.map(str::to_string).map_err(str::to_string),
                "{v}"
            );
        }
        assert_eq!(validate_ip("0:0::1").unwrap(), "::1");
        assert_eq!(validate_ip(" 8.8.8.8").unwrap(), "8.8.8.8");
        assert_eq!(
            validate_ip("1.2.3").unwrap_err(),
            "IP address is not correctly formatted: 1.2.3"
        );
        for (v, want) in [
            ("example.com", Some("example.com")),
            ("example.com.", Some("example.com")),
            (".", Some(".")),
            ("a-b.c", Some("a-b.c")),
            ("bad..x", None),
            ("123", None),
            ("-a.com", None),
        ] {
            assert_eq!(validate_dns_search(v).ok().as_deref(), want, "{v}");
        }
        assert!(valid_mac("02:42:ac:11:00:02"));
        assert!(valid_mac("02-42-ac-11-00-02"));
        assert!(valid_mac("0242.ac11.0002"));
        assert!(!valid_mac("zz"));
        assert!(!valid_mac("02:42:ac:11:00"));
        assert_eq!(validate_link("a:b").unwrap(), "a:b");
        assert_eq!(
            validate_link("a:b:c").unwrap_err(),
            "bad format for links: a:b:c"
        );
        assert_eq!(
            validate_label("=x").unwrap_err(),
            "invalid label '=x': empty name"
        );
        assert_eq!(
            validate_label("a b=x").unwrap_err(),
            "label 'a b' contains whitespaces"
        );
    }

    #[test]
    fn network_attachments() {
        assert_eq!(parse_attachment("net1").unwrap().target, "net1");
        let a = parse_attachment("name=N1,alias=web,ip=10.0.0.5,driver-opt=k=v").unwrap();
        assert_eq!(a.target, "n1");
        assert_eq!(a.aliases, ["web"]);
        assert_eq!(a.ipv4, "10.0.0.5");
        assert_eq!(a.driver_opts["k"], "v");
        assert_eq!(
            parse_attachment("alias=x").unwrap_err(),
            "network name/id is not specified"
        );
        assert_eq!(
            parse_attachment("name=x,foo=y").unwrap_err(),
            "invalid field key foo"
        );
        assert!(is_user_defined("mynet"));
        for m in ["default", "bridge", "host", "none", "container:x"] {
            assert!(!is_user_defined(m), "{m}");
        }
    }

    #[test]
    fn endpoints() {
        let none = EndpointFlags::default();
        let eps = endpoints_config(&[], &none).unwrap();
        assert_eq!(eps["default"]["Aliases"], Value::Null);
        assert_eq!(eps["default"]["IPAMConfig"], Value::Null);
        let user = [parse_attachment("mynet").unwrap()];
        assert!(endpoints_config(&user, &none).unwrap().is_empty());
        let aliases = s(&["a1"]);
        let links = s(&["c:d"]);
        let flags = EndpointFlags {
            aliases: &aliases,
            links: &links,
            ipv4: "10.0.0.5",
            ..Default::default()
        };
        let eps = endpoints_config(&user, &flags).unwrap();
        assert_eq!(eps["mynet"]["Aliases"], json!(["a1"]));
        assert_eq!(eps["mynet"]["Links"], json!(["c:d"]));
        assert_eq!(
            eps["mynet"]["IPAMConfig"],
            json!({"IPv4Address": "10.0.0.5"})
        );
        let host = [parse_attachment("host").unwrap()];
        assert_eq!(
            endpoints_config(&host, &flags).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        let both = [
            parse_attachment("a").unwrap(),
            parse_attachment("host").unwrap(),
        ];
        assert_eq!(
            endpoints_config(&both, &none).unwrap_err(),
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
        );
        let bad_mac = EndpointFlags {
            mac: "zz",
            ..Default::default()
        };
        assert_eq!(
            endpoints_config(&user, &bad_mac).unwrap_err(),
            "zz is not a valid mac address"
        );
    }

    #[test]
    fn ps_ports_column() {
        let p = |ip: &str, private: u64, public: u64, t: &str| {
            let mut v = json!({"PrivatePort": private, "Type": t});
            if !ip.is_empty() {
                v["IP"] = json!(ip);
                v["PublicPort"] = json!(public);
            }
            v
        };
        let cases = [
            (vec![], ""),
            (vec![p("", 80, 0, "tcp")], "80/tcp"),
            (vec![p("0.0.0.0", 80, 8080, "tcp")], "0.0.0.0:8080->80/tcp"),
            (vec![p("::", 80, 8080, "tcp")], "[::]:8080->80/tcp"),
            (
                vec![
                    p("0.0.0.0", 8001, 8001, "tcp"),
                    p("0.0.0.0", 8000, 8000, "tcp"),
                    p("0.0.0.0", 8002, 8002, "tcp"),
                ],
                "0.0.0.0:8000-8002->8000-8002/tcp",
            ),
            (
                vec![
                    p("", 90, 0, "udp"),
                    p("", 91, 0, "udp"),
                    p("", 93, 0, "udp"),
                ],
                "90-91/udp, 93/udp",
            ),
            (
                vec![
                    p("0.0.0.0", 80, 8080, "tcp"),
                    p("::", 80, 8080, "tcp"),
                    p("", 53, 0, "udp"),
                ],
                "53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp",
            ),
        ];
        for (ports, want) in cases {
            assert_eq!(displayable_ports(&Value::Array(ports)), want);
        }
    }

    #[test]
    fn natural_order() {
        let mut v = s(&[
            "80/tcp -> 0.0.0.0:8080",
            "8080/tcp -> x",
            "9/tcp -> y",
            "a10",
            "a9",
        ]);
        natural_sort(&mut v);
        assert_eq!(
            v,
            [
                "9/tcp -> y",
                "80/tcp -> 0.0.0.0:8080",
                "8080/tcp -> x",
                "a9",
                "a10"
            ]
        );
    }
}
