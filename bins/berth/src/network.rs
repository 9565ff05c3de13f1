//! `berth network create|ls|inspect|rm|prune|connect|disconnect` and
//! `berth port`, with the docker CLI's request bodies and output.

use std::collections::BTreeMap;
use std::net::IpAddr;

use api_client::Client;
use serde_json::{json, Map, Value};

use crate::cli::*;
use crate::containers::{docker_json_pretty, render_format};
use crate::netopts::{self, natural_cmp, natural_sort};
use crate::{fmtutil, CmdResult, Failure};

/// A flag value the docker CLI rejects while parsing flags (pflag quotes
/// the value as Go's `%q`): its message,
/// the usage line and the help hint, exit status 125.
pub fn flag_error(usage: &str, value: &str, flag: &str, err: &str) -> Failure {
    let cmd = usage.split(" [").next().unwrap_or(usage);
    Failure::new(
        125,
        format!(
            "invalid argument {} for \"{flag}\" flag: {err}\n\nUsage:  berth {usage}\n\nRun 'berth {cmd} --help' for more information",
            fmtutil::go_quote(value)
        ),
    )
}

/// A byte-size flag value (`64m`; `-1` for unlimited), failing as docker
/// does.
pub fn bytes_flag(usage: &str, value: &str, flag: &str) -> Result<i64, Failure> {
    if value == "-1" {
        return Ok(-1);
    }
    fmtutil::ram_in_bytes(value).map_err(|e| flag_error(usage, value, flag, &e))
}

const CREATE_USAGE: &str = "network create [OPTIONS] NETWORK";

/// How many positional arguments a command takes (cobra's argument checks).
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
    AtMost(usize),
    Range(usize, usize),
    None,
}

/// Checks the positional arguments as cobra does, failing with docker's
/// message (`'berth network create' requires 1 argument`), status 1.
pub fn check_args(args: &[String], arity: Arity, usage: &str) -> Result<(), Failure> {
    let cmd = usage
        .split(' ')
        .take_while(|w| !w.starts_with('[') && !w.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(" ");
    let n = args.len();
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    let (bad, what, hint) = match arity {
        Arity::Exactly(k) => (n != k, format!("requires {k} {}", plural(k)), "Run"),
        Arity::AtLeast(k) => (n < k, format!("requires at least {k} {}", plural(k)), "See"),
        // "SRun" is the docker CLI's own spelling (cli/required.go).
        Arity::AtMost(k) => (n > k, format!("requires at most {k} {}", plural(k)), "SRun"),
        Arity::Range(lo, hi) => (
            n < lo || n > hi,
            format!("requires at least {lo} and at most {hi} {}", plural(hi)),
            "Run",
        ),
        Arity::None => (n > 0, "accepts no arguments".to_string(), "Run"),
    };
    if !bad {
        return Ok(());
    }
    Err(Failure::new(
        1,
        format!(
            "berth: 'berth {cmd}' {what}\n\nUsage:  berth {usage}\n\n{hint} 'berth {cmd} --help' for more information"
        ),
    ))
}

/// `--filter` values in the encoding the docker client sends
/// (`{"name":{"value":true}}`), or None without filters.
pub fn filters_query(filters: &BTreeMap<String, Vec<String>>) -> Option<String> {
    if filters.is_empty() {
        return None;
    }
    let m: BTreeMap<&String, BTreeMap<&String, bool>> = filters
        .iter()
        .map(|(k, vs)| (k, vs.iter().map(|v| (v, true)).collect()))
        .collect();
    serde_json::to_string(&m).ok()
}

/// docker's `FilterOpt`: `name=value` pairs (name lowercased, both trimmed).
pub fn parse_filter_flags(
    values: &[String],
    usage: &str,
    flag: &str,
) -> Result<BTreeMap<String, Vec<String>>, Failure> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in values.iter().filter(|f| !f.is_empty()) {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            flag_error(usage, f, flag, "bad format of filter (expected name=value)")
        })?;
        let vals = map.entry(k.trim().to_lowercase()).or_default();
        if !vals.iter().any(|x| x == v.trim()) {
            vals.push(v.trim().to_string());
        }
    }
    Ok(map)
}

/// Go's `net.ParseCIDR`: the network address and prefix length.
fn parse_cidr(s: &str) -> Result<(IpAddr, u32), String> {
    let err = || format!("invalid CIDR address: {s}");
    let (ip, len) = s.split_once('/').ok_or_else(err)?;
    let ip: IpAddr = ip.parse().map_err(|_| err())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let len: u32 = len.parse().map_err(|_| err())?;
    if len > max {
        return Err(err());
    }
    Ok((ip, len))
}

fn ip_bits(ip: IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u32::from(v4) as u128, 32),
            None => (u128::from(v6), 128),
        },
    }
}

/// The docker CLI's `subnetMatches`: whether `data` (an address or CIDR)
/// lies in `subnet`.
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let (net, len) = parse_cidr(subnet).map_err(|e| format!("invalid subnet: {e}"))?;
    let ip = if data.contains('/') {
        Some(parse_cidr(data)?.0)
    } else {
        data.parse::<IpAddr>().ok()
    };
    let Some(ip) = ip else { return Ok(false) };
    let ((n, nbits), (a, abits)) = (ip_bits(net), ip_bits(ip));
    if nbits != abits {
        return Ok(false);
    }
    let shift = nbits - len;
    Ok(shift >= 128 || (n >> shift) == (a >> shift))
}

/// The docker CLI's `createIPAMConfig`: one IPAM config per subnet, with
/// the ranges, gateways and auxiliary addresses that fall into it.
fn ipam_config(a: &NetworkCreateArgs) -> Result<Value, String> {
    if a.subnet.len() < a.ip_range.len() || a.subnet.len() < a.gateway.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    struct Cfg {
        subnet: String,
        range: String,
        gateway: String,
        aux: BTreeMap<String, String>,
    }
    let mut cfgs: Vec<Cfg> = Vec::new();
    for s in &a.subnet {
        for c in &cfgs {
            if subnet_matches(s, &c.subnet)? || subnet_matches(&c.subnet, s)? {
                return Err("multiple overlapping subnet configuration is not supported".into());
            }
        }
        cfgs.push(Cfg {
            subnet: s.clone(),
            range: String::new(),
            gateway: String::new(),
            aux: BTreeMap::new(),
        });
    }
    for r in &a.ip_range {
        let mut matched = false;
        for c in cfgs.iter_mut() {
            parse_cidr(r)?;
            if !subnet_matches(&c.subnet, r)? {
                continue;
            }
            if !c.range.is_empty() {
                return Err(format!(
                    "cannot configure multiple ranges ({r}, {}) on the same subnet ({})",
                    c.range, c.subnet
                ));
            }
            c.range = r.clone();
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for range {r}"));
        }
    }
    for g in &a.gateway {
        let mut matched = false;
        for c in cfgs.iter_mut() {
            if !subnet_matches(&c.subnet, g)? {
                continue;
            }
            if !c.gateway.is_empty() {
                return Err(format!(
                    "cannot configure multiple gateways ({g}, {}) for the same subnet ({})",
                    c.gateway, c.subnet
                ));
            }
            c.gateway = g.clone();
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for gateway {g}"));
        }
    }
    for (key, addr) in netopts::kv_map(&a.aux_address) {
        let addr = addr.as_str().unwrap_or_default().to_string();
        let mut matched = false;
        for c in cfgs.iter_mut() {
            if subnet_matches(&c.subnet, &addr)? {
                c.aux.insert(key.clone(), addr.clone());
                matched = true;
            }
        }
        if !matched {
            return Err(format!("no matching subnet for aux-address {addr}"));
        }
    }
    let config: Vec<Value> = cfgs
        .into_iter()
        .map(|c| {
            let mut m = Map::new();
            for (k, v) in [
                ("Subnet", c.subnet),
                ("IPRange", c.range),
                ("Gateway", c.gateway),
            ] {
                if !v.is_empty() {
                    m.insert(k.into(), json!(v));
                }
            }
            if !c.aux.is_empty() {
                m.insert("AuxiliaryAddresses".into(), json!(c.aux));
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "Driver": a.ipam_driver,
        "Config": config,
        "Options": netopts::kv_map(&a.ipam_opt),
    }))
}

/// Whether the negotiated API version is below `v`.
pub async fn api_below(client: &Client, v: &str) -> Result<bool, Failure> {
    let cur = client.api_version().await?;
    Ok(api_client::compare_versions(&cur, v) == std::cmp::Ordering::Less)
}

/// The `POST /networks/create` body the docker CLI sends.
fn create_body(a: &NetworkCreateArgs, old_api: bool) -> Result<Value, Failure> {
    check_args(&a.args, Arity::Exactly(1), CREATE_USAGE)?;
    for l in &a.label {
        netopts::validate_label(l).map_err(|e| flag_error(CREATE_USAGE, l, "--label", &e))?;
    }
    let ipam = ipam_config(a).map_err(|e| Failure::new(1, e))?;
    let mut body = Map::new();
    body.insert("Driver".into(), json!(a.driver));
    body.insert("Scope".into(), json!(a.scope.clone().unwrap_or_default()));
    if let Some(v) = a.ipv4 {
        body.insert("EnableIPv4".into(), json!(v));
    }
    if let Some(v) = a.ipv6 {
        body.insert("EnableIPv6".into(), json!(v));
    }
    body.insert("IPAM".into(), ipam);
    body.insert("Internal".into(), json!(a.internal));
    body.insert("Attachable".into(), json!(a.attachable));
    body.insert("Ingress".into(), json!(a.ingress));
    body.insert("ConfigOnly".into(), json!(a.config_only));
    body.insert(
        "ConfigFrom".into(),
        match a.config_from.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => json!({ "Network": c }),
            None => Value::Null,
        },
    );
    body.insert("Options".into(), Value::Object(netopts::kv_map(&a.opt)));
    body.insert("Labels".into(), Value::Object(netopts::kv_map(&a.label)));
    body.insert("Name".into(), json!(a.args[0]));
    if old_api {
        // The docker client asks daemons before API 1.44 to refuse duplicates.
        body.insert("CheckDuplicate".into(), json!(true));
    }
    Ok(Value::Object(body))
}

pub async fn create(client: &Client, a: NetworkCreateArgs) -> CmdResult {
    check_args(&a.args, Arity::Exactly(1), CREATE_USAGE)?;
    let old = api_below(client, "1.44").await?;
    let body = create_body(&a, old)?;
    let resp: Value = client
        .post_json("/networks/create", &[], Some(&body))
        .await?;
    println!("{}", resp["Id"].as_str().unwrap_or_default());
    Ok(0)
}

/// Go's `time.Time.String()` of an RFC 3339 timestamp as the daemon sends it.
fn go_time(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return "0001-01-01 00:00:00 +0000 UTC".into();
    };
    let mut frac = format!("{:09}", t.timestamp_subsec_nanos());
    while frac.ends_with('0') {
        frac.pop();
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let off = t.format("%z").to_string();
    let zone = if off == "+0000" {
        "UTC".to_string()
    } else {
        off.clone()
    };
    format!("{}{frac} {off} {zone}", t.format("%Y-%m-%d %H:%M:%S"))
}

/// The `network ls --format` context of one network (docker's field names).
fn ls_context(n: &Value, trunc: bool) -> Value {
    let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
    let b = |k: &str| n[k].as_bool().unwrap_or(false).to_string();
    let mut labels: Vec<String> = n["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    labels.sort();
    let mut m = Map::new();
    m.insert("CreatedAt".into(), json!(go_time(&s("Created"))));
    m.insert("Driver".into(), json!(s("Driver")));
    m.insert("ID".into(), json!(fmtutil::display_id(&s("Id"), trunc)));
    m.insert("IPv4".into(), json!(b("EnableIPv4")));
    m.insert("IPv6".into(), json!(b("EnableIPv6")));
    m.insert("Internal".into(), json!(b("Internal")));
    m.insert("Labels".into(), json!(labels.join(",")));
    m.insert("Name".into(), json!(s("Name")));
    m.insert("Scope".into(), json!(s("Scope")));
    m.insert(crate::template::hidden_key("Label"), n["Labels"].clone());
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn ls_headers() -> Value {
    json!({
        "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
        "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
        "CreatedAt": "CREATED AT",
        crate::template::hidden_key("Label"): crate::template::HEADER_LABEL,
    })
}

pub async fn ls(client: &Client, a: NetworkLsArgs) -> CmdResult {
    const USAGE: &str = "network ls [OPTIONS]";
    check_args(&a.extra, Arity::None, USAGE)?;
    let filters = filters_query(&parse_filter_flags(&a.filter, USAGE, "-f, --filter")?);
    let mut q: Vec<(&str, &str)> = Vec::new();
    if let Some(f) = &filters {
        q.push(("filters", f));
    }
    let mut list: Vec<Value> = client.get_json("/networks", &q).await?;
    list.sort_by(|x, y| {
        natural_cmp(
            x["Name"].as_str().unwrap_or_default(),
            y["Name"].as_str().unwrap_or_default(),
        )
    });
    let format = match a.format.as_deref().unwrap_or("") {
        "" | "table" if a.quiet => "{{.ID}}".to_string(),
        "" | "table" => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}".to_string(),
        "raw" if a.quiet => "network_id: {{.ID}}".to_string(),
        "raw" => "network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n"
            .to_string(),
        f => f.to_string(),
    };
    let rows: Vec<Value> = list.iter().map(|n| ls_context(n, !a.no_trunc)).collect();
    print!("{}", render_format(&format, &rows, &ls_headers())?);
    Ok(0)
}

/// JSON as `--format json` prints it: compact, `<>&` escaped like Go.
pub fn compact_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The docker CLI's `inspect.Inspect` output for fetched objects: indented
/// JSON, compact JSON (`json`) or a template per object.
pub fn print_inspect(format: Option<&str>, results: &[Value]) -> Result<(), Failure> {
    match format.unwrap_or("") {
        "" => println!("{}", docker_json_pretty(&Value::Array(results.to_vec()))),
        "json" => println!("{}", compact_json(&Value::Array(results.to_vec()))),
        f => {
            let f = f.replace("\\t", "\t").replace("\\n", "\n");
            let t = crate::template::Template::parse(&f)
                .map_err(|e| Failure::new(64, format!("template parsing error: {e}")))?;
            let mut out = String::new();
            for r in results {
                out.push_str(&t.render(r).map_err(|e| Failure::new(1, e))?);
                out.push('\n');
            }
            if out.is_empty() {
                out.push('\n');
            }
            print!("{out}");
        }
    }
    Ok(())
}

pub async fn inspect(client: &Client, a: NetworkInspectArgs) -> CmdResult {
    check_args(
        &a.names,
        Arity::AtLeast(1),
        "network inspect [OPTIONS] NETWORK [NETWORK...]",
    )?;
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let q: Vec<(&str, &str)> = if a.verbose {
        vec![("verbose", "true")]
    } else {
        vec![]
    };
    for name in &a.names {
        match client
            .get_json::<Value>(&format!("/networks/{name}"), &q)
            .await
        {
            Ok(v) => results.push(v),
            Err(e) => errors.push(e.to_string()),
        }
    }
    print_inspect(a.format.as_deref(), &results)?;
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

const INGRESS_WARNING: &str = "WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?";

pub async fn rm(client: &Client, a: NetworkRmArgs) -> CmdResult {
    check_args(
        &a.names,
        Arity::AtLeast(1),
        "network rm NETWORK [NETWORK...]",
    )?;
    let mut failed = false;
    for name in &a.names {
        // Like the docker CLI: look first, and ask before removing an ingress network.
        if let Ok(n) = client
            .get_json::<Value>(&format!("/networks/{name}"), &[])
            .await
        {
            if n["Ingress"].as_bool() == Some(true) && !crate::images::confirm(INGRESS_WARNING) {
                continue;
            }
        }
        match client.delete(&format!("/networks/{name}"), &[]).await {
            Ok(()) => println!("{name}"),
            Err(e) if a.force && e.is_not_found() => {}
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(Failure::new(1, "exit status 1"))
    } else {
        Ok(0)
    }
}

pub async fn prune(client: &Client, a: NetworkPruneArgs) -> CmdResult {
    const USAGE: &str = "network prune [OPTIONS]";
    check_args(&a.extra, Arity::None, USAGE)?;
    parse_filter_flags(&a.filter, USAGE, "--filter")?;
    let cfg = crate::auth::ConfigFile::load();
    let filters = crate::images::prune_filters(&a.filter, None, &cfg.prune_filters())?;
    if !a.force
        && !crate::images::confirm(
            "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?",
        )
    {
        return Ok(0);
    }
    let filters = filters_query(&filters);
    let q: Vec<(&str, &str)> = filters.iter().map(|f| ("filters", f.as_str())).collect();
    let report: Value = client.post_json("/networks/prune", &q, None).await?;
    let deleted: Vec<&str> = report["NetworksDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str())
        .collect();
    if !deleted.is_empty() {
        println!("Deleted Networks:");
        for d in deleted {
            println!("{d}");
        }
        println!();
    }
    Ok(0)
}

pub async fn connect(client: &Client, a: NetworkConnectArgs) -> CmdResult {
    const USAGE: &str = "network connect [OPTIONS] NETWORK CONTAINER";
    check_args(&a.args, Arity::Exactly(2), USAGE)?;
    let (network, container) = (&a.args[0], &a.args[1]);
    for l in &a.link {
        netopts::validate_link(l).map_err(|e| flag_error(USAGE, l, "--link", &e))?;
    }
    let mut driver_opts = BTreeMap::new();
    for o in &a.driver_opt {
        match o.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                driver_opts.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => {
                return Err(Failure::new(
                    1,
                    "invalid key/value pair format in driver options",
                ))
            }
        }
    }
    let ipam = netopts::ipam_json(
        a.ip.as_deref().unwrap_or_default(),
        a.ip6.as_deref().unwrap_or_default(),
        &a.link_local_ip,
    );
    let links = if a.link.is_empty() {
        Value::Null
    } else {
        json!(a.link)
    };
    let endpoint = netopts::endpoint_json(
        ipam,
        links,
        json!(a.alias),
        "",
        json!(driver_opts),
        a.gw_priority,
    );
    let body = json!({"Container": container, "EndpointConfig": endpoint});
    client
        .post(&format!("/networks/{network}/connect"), &[], Some(&body))
        .await?;
    Ok(0)
}

pub async fn disconnect(client: &Client, a: NetworkDisconnectArgs) -> CmdResult {
    check_args(
        &a.args,
        Arity::Exactly(2),
        "network disconnect [OPTIONS] NETWORK CONTAINER",
    )?;
    let body = json!({"Container": a.args[1], "Force": a.force});
    client
        .post(
            &format!("/networks/{}/disconnect", a.args[0]),
            &[],
            Some(&body),
        )
        .await?;
    Ok(0)
}

// ------------------------------------------------------------------ port

/// `docker port` lines from a container's `NetworkSettings.Ports`, sorted
/// naturally; with `port`, only that port's host addresses.
fn port_lines(ports: &Value, port: Option<&str>, container: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let addr = |b: &Value| {
        netopts::join_host_port(
            b["HostIp"].as_str().unwrap_or_default(),
            b["HostPort"].as_str().unwrap_or_default(),
        )
    };
    match port {
        Some(spec) => {
            let (p, proto) = spec.split_once('/').unwrap_or((spec, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            let syntax = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if !syntax || p.parse::<u16>().is_err() {
                let kind = if syntax {
                    "value out of range"
                } else {
                    "invalid syntax"
                };
                return Err(format!(
                    "Error: invalid port ({p}): strconv.ParseUint: parsing {}: {kind}",
                    fmtutil::go_quote(p)
                ));
            }
            let frontends = ports[format!("{p}/{proto}")]
                .as_array()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| {
                    format!("Error: No public port '{spec}' published for {container}")
                })?;
            out.extend(frontends.iter().map(addr));
        }
        None => {
            for (from, frontends) in ports.as_object().into_iter().flatten() {
                for f in frontends.as_array().into_iter().flatten() {
                    out.push(format!("{from} -> {}", addr(f)));
                }
            }
        }
    }
    natural_sort(&mut out);
    Ok(out)
}

pub async fn port(client: &Client, a: PortArgs, cmd: &str) -> CmdResult {
    check_args(
        &a.args,
        Arity::Range(1, 2),
        &format!("{cmd} CONTAINER [PRIVATE_PORT[/PROTO]]"),
    )?;
    let container = &a.args[0];
    let info: Value = client
        .get_json(&format!("/containers/{container}/json"), &[])
        .await?;
    let lines = port_lines(
        &info["NetworkSettings"]["Ports"],
        a.args.get(1).map(String::as_str),
        container,
    )
    .map_err(|e| Failure::new(1, e))?;
    if !lines.is_empty() {
        println!("{}", lines.join("\n"));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn create_args(args: &[&str]) -> NetworkCreateArgs {
        let mut argv = vec!["berth", "network", "create"];
        argv.extend_from_slice(args);
        match crate::cli::Cli::try_parse_from(argv).unwrap().cmd {
            Some(Cmd::Network(NetworkCmd::Create(a))) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn create_bodies() {
        let a = create_args(&[
            "--subnet",
            "10.1.0.0/16",
            "--subnet",
            "fd00::/64",
            "--gateway",
            "fd00::1",
            "--ip-range",
            "10.1.2.0/24",
            "--aux-address",
            "x=10.1.0.3",
            "--ipam-opt",
            "a=b",
            "-o",
            "k=v",
            "--label",
            "l=1",
            "--ipv6",
            "--internal",
            "n1",
        ]);
        let body = create_body(&a, true).unwrap();
        assert_eq!(
            body,
            json!({
                "Driver": "bridge", "Scope": "", "EnableIPv6": true,
                "IPAM": {"Driver": "default", "Options": {"a": "b"}, "Config": [
                    {"Subnet": "10.1.0.0/16", "IPRange": "10.1.2.0/24", "AuxiliaryAddresses": {"x": "10.1.0.3"}},
                    {"Subnet": "fd00::/64", "Gateway": "fd00::1"}]},
                "Internal": true, "Attachable": false, "Ingress": false, "ConfigOnly": false,
                "ConfigFrom": null, "Options": {"k": "v"}, "Labels": {"l": "1"}, "Name": "n1",
                "CheckDuplicate": true,
            })
        );
        let plain = create_body(&create_args(&["n2"]), false).unwrap();
        assert!(plain.get("CheckDuplicate").is_none());
        assert!(plain.get("EnableIPv6").is_none());
        assert_eq!(plain["IPAM"]["Config"], json!([]));
        let off = create_body(&create_args(&["--ipv6=false", "--ipv4", "n3"]), false).unwrap();
        assert_eq!(
            (off["EnableIPv6"].clone(), off["EnableIPv4"].clone()),
            (json!(false), json!(true))
        );

        let errs = [
            (
                vec!["--gateway", "10.0.0.1", "n"],
                "every ip-range or gateway must have a corresponding subnet",
            ),
            (
                vec!["--subnet", "10.0.0.0/8", "--subnet", "10.1.0.0/16", "n"],
                "multiple overlapping subnet configuration is not supported",
            ),
            (
                vec!["--subnet", "10.0.0.0/8", "--gateway", "11.0.0.1", "n"],
                "no matching subnet for gateway 11.0.0.1",
            ),
            (
                vec!["--subnet", "10.0.0.0/8", "--ip-range", "11.0.0.0/24", "n"],
                "no matching subnet for range 11.0.0.0/24",
            ),
            (
                vec!["--subnet", "10.0.0.0/8", "--aux-address", "a=11.0.0.1", "n"],
                "no matching subnet for aux-address 11.0.0.1",
            ),
            (
                vec!["--subnet", "bad", "--gateway", "1.2.3.4", "n"],
                "invalid subnet: invalid CIDR address: bad",
            ),
        ];
        for (args, want) in errs {
            let e = create_body(&create_args(&args), false).unwrap_err();
            assert_eq!((e.code, e.msg.as_str()), (1, want), "{args:?}");
        }
        let e = create_body(&create_args(&["--label", "=x", "n"]), false).unwrap_err();
        assert_eq!(e.code, 125);
        assert!(e.msg.starts_with("invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name\n\nUsage:  berth network create [OPTIONS] NETWORK\n\nRun 'berth network create --help'"), "{}", e.msg);
    }

    #[test]
    fn ls_rows() {
        let n = json!({"Name": "b", "Id": "0123456789abcdef", "Created": "2026-12-03T09:20:25.76025445Z",
            "Scope": "local", "Driver": "bridge", "Labels": {"z": "", "a": "1"}});
        let row = ls_context(&n, true);
        let out = render_format(
            "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
            std::slice::from_ref(&row),
            &ls_headers(),
        )
        .unwrap();
        assert_eq!(
            out,
            "NETWORK ID     NAME      DRIVER    SCOPE\n0123456789ab   b         bridge    local\n"
        );
        assert_eq!(row["CreatedAt"], "2026-12-03 09:20:25.76025445 +0000 UTC");
        // A label column is headed by the label's last dotted part.
        let out = render_format(
            "table {{.Name}}\t{{.Label \"a\"}}\t{{.Label \"com.x.foo-bar_z\"}}",
            std::slice::from_ref(&row),
            &ls_headers(),
        )
        .unwrap();
        assert_eq!(out, "NAME      a         foo bar z\nb         1         \n");
        assert_eq!(row["Labels"], "a=1,z=");
        let j = render_format("json", &[row], &ls_headers()).unwrap();
        assert_eq!(
            j,
            "{\"CreatedAt\":\"2026-12-03 09:20:25.76025445 +0000 UTC\",\"Driver\":\"bridge\",\"ID\":\"0123456789ab\",\"IPv4\":\"false\",\"IPv6\":\"false\",\"Internal\":\"false\",\"Labels\":\"a=1,z=\",\"Name\":\"b\",\"Scope\":\"local\"}\n"
        );
    }

    #[test]
    fn port_output() {
        let ports = json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
            "9/udp": [{"HostIp": "0.0.0.0", "HostPort": "9000"}],
            "443/tcp": null,
        });
        assert_eq!(
            port_lines(&ports, None, "c").unwrap(),
            [
                "9/udp -> 0.0.0.0:9000",
                "80/tcp -> 0.0.0.0:8080",
                "80/tcp -> [::]:8080"
            ]
        );
        assert_eq!(
            port_lines(&ports, Some("80"), "c").unwrap(),
            ["0.0.0.0:8080", "[::]:8080"]
        );
        assert_eq!(
            port_lines(&ports, Some("443"), "c").unwrap_err(),
            "Error: No public port '443' published for c"
        );
        assert_eq!(
            port_lines(&ports, Some("81/tcp"), "c").unwrap_err(),
            "Error: No public port '81/tcp' published for c"
        );
        assert_eq!(
            port_lines(&ports, Some("x"), "c").unwrap_err(),
            "Error: invalid port (x): strconv.ParseUint: parsing \"x\": invalid syntax"
        );
    }

    #[test]
    fn cidr_matching() {
        assert!(subnet_matches("10.0.0.0/8", "10.2.3.4").unwrap());
        assert!(!subnet_matches("10.0.0.0/8", "11.2.3.4").unwrap());
        assert!(subnet_matches("fd00::/64", "fd00::1").unwrap());
        assert!(!subnet_matches("10.0.0.0/8", "fd00::1").unwrap());
        assert!(subnet_matches("10.0.0.0/8", "10.1.0.0/16").unwrap());
        assert!(subnet_matches("0.0.0.0/0", "1.2.3.4").unwrap());
        assert_eq!(
            subnet_matches("10.0.0.0/33", "1.2.3.4").unwrap_err(),
            "invalid subnet: invalid CIDR address: 10.0.0.0/33"
        );
    }
}
