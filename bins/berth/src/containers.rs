//! Container commands: run, create, start, stop, kill, restart, rm, ps, logs,
//! inspect, wait, exec, attach, rename, pause/unpause.

use std::collections::BTreeMap;
use std::time::Duration;

use api_client::{Body, Client, HttpMethod as Method};
use serde_json::{json, Map, Value};

use crate::cli::*;
use crate::fmtutil::{self, go_quote};
use crate::stream::{self, ResizeTarget};
use crate::{tty, CmdResult, Failure};

// ------------------------------------------------------------------ helpers

/// Docker-style error for `run`/`create`: "berth: <msg>" + help hint.
fn run_error(cmd: &str, msg: &str, code: i32) -> Failure {
    Failure::new(
        code,
        format!("berth: {msg}\n\nRun 'berth {cmd} --help' for more information"),
    )
}

/// A flag value docker rejects while parsing flags (message, usage, hint; 125).
fn flag_error(cmd: &str, value: &str, flag: &str, err: &str) -> Failure {
    let usage = format!("{cmd} [OPTIONS] IMAGE [COMMAND] [ARG...]");
    crate::network::flag_error(&usage, value, flag, err)
}

/// Parses an integer flag value, failing with Go's strconv wording as docker does.
fn int_flag(cmd: &str, value: &str, flag: &str) -> Result<i64, Failure> {
    value.parse().map_err(|_| {
        flag_error(
            cmd,
            value,
            flag,
            &format!(
                "strconv.ParseInt: parsing {}: invalid syntax",
                go_quote(value)
            ),
        )
    })
}

/// Exit status for a failed container start, like docker's runStartContainerErr.
fn start_error_code(msg: &str) -> i32 {
    if msg.contains("executable file not found")
        || msg.contains("no such file or directory")
        || msg.contains("system cannot find the file specified")
    {
        127
    } else if msg.contains("permission denied") || msg.contains("is a directory") {
        126
    } else {
        125
    }
}

fn read_env_file(path: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("open {path}: {}", io_msg(&e)))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            if k.is_empty() {
                return Err(format!("invalid environment variable: {l}"));
            }
            out.push(format!("{k}={v}"));
        } else {
            out.push(expand_env(l.trim_end()));
        }
    }
    Ok(out)
}

fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `-e VAR` without a value takes it from the local environment.
fn expand_env(v: &str) -> String {
    if v.contains('=') {
        return v.to_string();
    }
    match std::env::var(v) {
        Ok(val) => format!("{v}={val}"),
        Err(_) => v.to_string(),
    }
}

fn env_list(env: &[String], env_files: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in env_files {
        out.extend(read_env_file(f)?);
    }
    for e in env {
        out.push(expand_env(e));
    }
    Ok(out)
}

/// Build the `POST /containers/create` body from the flags.
/// The networking part of a create body, as the docker CLI's `parse`
/// builds it: HostConfig fields, `Config.ExposedPorts` and
/// `NetworkingConfig.EndpointsConfig`.
struct NetConfig {
    host: Map<String, Value>,
    exposed: Value,
    endpoints: Map<String, Value>,
}

fn network_config(cmd: &str, o: &ContainerOpts, api: &str) -> Result<NetConfig, Failure> {
    use crate::netopts as n;
    // Checked while parsing flags, before anything else.
    let each = |vals: &[String], flag: &str, f: fn(&str) -> Result<String, String>| {
        vals.iter()
            .map(|v| f(v).map_err(|e| flag_error(cmd, v, flag, &e)))
            .collect::<Result<Vec<String>, Failure>>()
    };
    let extra_hosts = each(&o.add_host, "--add-host", n::validate_extra_host)?;
    let dns = each(&o.dns, "--dns", n::validate_ip)?;
    let dns_search = each(&o.dns_search, "--dns-search", n::validate_dns_search)?;
    let links = each(&o.link, "--link", n::validate_link)?;
    let networks = o
        .network
        .iter()
        .map(|v| n::parse_attachment(v).map_err(|e| flag_error(cmd, v, "--network", &e)))
        .collect::<Result<Vec<_>, Failure>>()?;

    let mac = o.mac_address.as_deref().unwrap_or_default();
    if !mac.is_empty() && !n::valid_mac(mac) {
        return Err(run_error(
            cmd,
            &format!("{mac} is not a valid mac address"),
            125,
        ));
    }
    let ports = n::parse_ports(&o.publish, &o.expose).map_err(|e| run_error(cmd, &e, 125))?;
    let flags = n::EndpointFlags {
        aliases: &o.network_alias,
        links: &o.link,
        ipv4: o.ip.as_deref().unwrap_or_default(),
        ipv6: o.ip6.as_deref().unwrap_or_default(),
        mac,
        link_local_ips: &o.link_local_ip,
    };
    let endpoints = n::endpoints_config(&networks, &flags).map_err(|e| run_error(cmd, &e, 125))?;
    let old_api = api_client::compare_versions(api, "1.44") == std::cmp::Ordering::Less;
    if old_api
        && endpoints
            .values()
            .any(|e| e["MacAddress"].as_str().is_some_and(|m| !m.is_empty()))
    {
        let msg = format!("\"specify mac-address per network\" requires API version 1.44, but the Docker daemon API version is {api}");
        return Err(if cmd == "create" {
            Failure::new(1, msg)
        } else {
            run_error(cmd, &msg, 125)
        });
    }
    let list = |v: &[String]| if v.is_empty() { Value::Null } else { json!(v) };
    let mut host = Map::new();
    host.insert(
        "NetworkMode".into(),
        json!(networks.first().map_or("default", |a| a.target.as_str())),
    );
    host.insert("PortBindings".into(), ports.bindings_json());
    host.insert("PublishAllPorts".into(), json!(o.publish_all));
    host.insert("Links".into(), list(&links));
    host.insert("Dns".into(), json!(dns));
    host.insert("DnsOptions".into(), json!(o.dns_option));
    host.insert("DnsSearch".into(), json!(dns_search));
    host.insert("ExtraHosts".into(), list(&extra_hosts));
    Ok(NetConfig {
        host,
        exposed: ports.exposed_json(),
        endpoints,
    })
}

/// The storage part of a create body, where the docker CLI puts it:
/// `HostConfig.Binds`, `Mounts`, `Tmpfs`, `VolumesFrom`, `VolumeDriver`
/// and the anonymous volumes in `Config.Volumes`.
struct StorageConfig {
    host: Map<String, Value>,
    volumes: Value,
}

fn storage_config(cmd: &str, o: &ContainerOpts, api: &str) -> Result<StorageConfig, Failure> {
    use crate::mountopts as m;
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    // --mount is checked while parsing flags, before anything else.
    let mounts = o
        .mount
        .iter()
        .map(|v| m::parse_mount(v, &cwd).map_err(|e| flag_error(cmd, v, "--mount", &e)))
        .collect::<Result<Vec<Value>, Failure>>()?;
    let (binds, volumes) =
        m::binds_and_volumes(&o.volume, &cwd).map_err(|e| run_error(cmd, &e, 125))?;
    // The docker client's own refusal, as for other API-version checks.
    m::check_mounts_api(&mounts, api).map_err(|e| {
        if cmd == "create" {
            Failure::new(1, e)
        } else {
            run_error(cmd, &e, 125)
        }
    })?;
    let mut host = Map::new();
    host.insert(
        "Binds".into(),
        if binds.is_empty() {
            Value::Null
        } else {
            json!(binds)
        },
    );
    host.insert(
        "VolumeDriver".into(),
        json!(o.volume_driver.clone().unwrap_or_default()),
    );
    host.insert(
        "VolumesFrom".into(),
        if o.volumes_from.is_empty() {
            Value::Null
        } else {
            json!(o.volumes_from)
        },
    );
    let tmpfs = m::tmpfs_map(&o.tmpfs);
    if !tmpfs.is_empty() {
        host.insert("Tmpfs".into(), json!(tmpfs));
    }
    if !mounts.is_empty() {
        host.insert("Mounts".into(), Value::Array(mounts));
    }
    let volumes = Value::Object(volumes.into_keys().map(|k| (k, json!({}))).collect());
    Ok(StorageConfig { host, volumes })
}

fn build_config(
    cmd: &str,
    o: &ContainerOpts,
    detach: bool,
    api: &str,
) -> Result<(Value, String), Failure> {
    let net = network_config(cmd, o, api)?;
    let image = o.args[0].clone();
    let command: Vec<String> = o.args[1..].to_vec();
    let env = env_list(&o.env, &o.env_file).map_err(|e| run_error(cmd, &e, 125))?;
    let mut labels = Map::new();
    for l in &o.label {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut host = Map::new();
    if let Some(m) = &o.memory {
        let bytes = fmtutil::ram_in_bytes(m).map_err(|e| flag_error(cmd, m, "-m, --memory", &e))?;
        host.insert("Memory".into(), json!(bytes));
    }
    if let Some(m) = &o.memory_swap {
        let bytes = if m == "-1" {
            -1
        } else {
            fmtutil::ram_in_bytes(m).map_err(|e| flag_error(cmd, m, "--memory-swap", &e))?
        };
        host.insert("MemorySwap".into(), json!(bytes));
    }
    if let Some(c) = &o.cpus {
        let v: f64 = c
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                flag_error(
                    cmd,
                    c,
                    "--cpus",
                    &format!("failed to parse {c} as a rational number"),
                )
            })?;
        host.insert("NanoCpus".into(), json!((v * 1e9).round() as i64));
    }
    if let Some(c) = &o.cpu_shares {
        host.insert(
            "CpuShares".into(),
            json!(int_flag(cmd, c, "-c, --cpu-shares")?),
        );
    }
    if let Some(p) = &o.pids_limit {
        host.insert("PidsLimit".into(), json!(int_flag(cmd, p, "--pids-limit")?));
    }
    let stop_timeout = o
        .stop_timeout
        .as_deref()
        .map(|t| int_flag(cmd, t, "--stop-timeout"))
        .transpose()?;
    if o.rm {
        host.insert("AutoRemove".into(), json!(true));
    }
    let storage = storage_config(cmd, o, api)?;
    host.extend(storage.host);
    host.extend(net.host);
    if let Some(r) = &o.restart {
        host.insert("RestartPolicy".into(), restart_policy(r));
    }
    if o.privileged {
        host.insert("Privileged".into(), json!(true));
    }
    if o.read_only {
        host.insert("ReadonlyRootfs".into(), json!(true));
    }
    if o.init {
        host.insert("Init".into(), json!(true));
    }
    if o.log_driver.is_some() || !o.log_opt.is_empty() {
        let mut opts = serde_json::Map::new();
        for kv in &o.log_opt {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| flag_error(cmd, kv, "--log-opt", "invalid log opt format"))?;
            opts.insert(k.into(), json!(v));
        }
        host.insert(
            "LogConfig".into(),
            json!({"Type": o.log_driver.clone().unwrap_or_default(), "Config": opts}),
        );
    }
    if !o.cap_add.is_empty() {
        host.insert("CapAdd".into(), json!(o.cap_add));
    }
    if !o.cap_drop.is_empty() {
        host.insert("CapDrop".into(), json!(o.cap_drop));
    }
    if !o.group_add.is_empty() {
        host.insert("GroupAdd".into(), json!(o.group_add));
    }
    if !o.security_opt.is_empty() {
        host.insert("SecurityOpt".into(), json!(o.security_opt));
    }
    if !o.device.is_empty() {
        let devs: Vec<Value> = o
            .device
            .iter()
            .map(|d| {
                let mut p = d.splitn(3, ':');
                let host_path = p.next().unwrap_or_default();
                let second = p.next();
                let (inside, perms) = match (second, p.next()) {
                    // `/dev/x:rw`: permissions only.
                    (Some(s), None) if !s.starts_with('/') => (host_path, s),
                    (Some(s), perms) => (s, perms.unwrap_or("rwm")),
                    (None, _) => (host_path, "rwm"),
                };
                json!({"PathOnHost": host_path, "PathInContainer": inside, "CgroupPermissions": perms})
            })
            .collect();
        host.insert("Devices".into(), json!(devs));
    }
    if !o.sysctl.is_empty() {
        let mut m = serde_json::Map::new();
        for kv in &o.sysctl {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                flag_error(
                    cmd,
                    kv,
                    "--sysctl",
                    &format!("sysctl '{kv}' is not allowed"),
                )
            })?;
            m.insert(k.into(), json!(v));
        }
        host.insert("Sysctls".into(), Value::Object(m));
    }
    for (k, v) in [
        ("PidMode", &o.pid),
        ("IpcMode", &o.ipc),
        ("UTSMode", &o.uts),
    ] {
        if let Some(v) = v {
            host.insert(k.into(), json!(v));
        }
    }
    if let Some(n) = o.oom_score_adj {
        host.insert("OomScoreAdj".into(), json!(n));
    }
    if let Some(c) = &o.cpuset_cpus {
        host.insert("CpusetCpus".into(), json!(c));
    }
    if let Some(m) = &o.cpuset_mems {
        host.insert("CpusetMems".into(), json!(m));
    }
    if let Some(s) = &o.shm_size {
        let n = fmtutil::ram_in_bytes(s).map_err(|e| flag_error(cmd, s, "--shm-size", &e))?;
        host.insert("ShmSize".into(), json!(n));
    }
    if !o.ulimit.is_empty() {
        let mut list = Vec::new();
        for u in &o.ulimit {
            let bad = || flag_error(cmd, u, "--ulimit", "invalid ulimit argument");
            let (name, vals) = u.split_once('=').ok_or_else(bad)?;
            let (soft, hard) = match vals.split_once(':') {
                Some((s, h)) => (
                    s.parse::<i64>().map_err(|_| bad())?,
                    h.parse::<i64>().map_err(|_| bad())?,
                ),
                None => {
                    let v = vals.parse::<i64>().map_err(|_| bad())?;
                    (v, v)
                }
            };
            list.push(json!({"Name": name, "Soft": soft, "Hard": hard}));
        }
        host.insert("Ulimits".into(), json!(list));
    }
    let dur = |v: &Option<String>, flag: &str| -> Result<i64, Failure> {
        v.as_deref()
            .map(|d| {
                fmtutil::parse_go_duration(d)
                    .map(|d| d.as_nanos() as i64)
                    .ok_or_else(|| {
                        flag_error(
                            cmd,
                            d,
                            flag,
                            &format!("time: invalid duration {}", go_quote(d)),
                        )
                    })
            })
            .transpose()
            .map(|d| d.unwrap_or(0))
    };
    let health = if o.no_healthcheck {
        Some(json!({"Test": ["NONE"]}))
    } else if o.health_cmd.is_some()
        || o.health_interval.is_some()
        || o.health_timeout.is_some()
        || o.health_retries.is_some()
        || o.health_start_period.is_some()
        || o.health_start_interval.is_some()
    {
        let test = o
            .health_cmd
            .as_ref()
            .map(|c| json!(["CMD-SHELL", c]))
            .unwrap_or(json!([]));
        Some(json!({
            "Test": test,
            "Interval": dur(&o.health_interval, "--health-interval")?,
            "Timeout": dur(&o.health_timeout, "--health-timeout")?,
            "StartPeriod": dur(&o.health_start_period, "--health-start-period")?,
            "StartInterval": dur(&o.health_start_interval, "--health-start-interval")?,
            "Retries": o.health_retries.unwrap_or(0),
        }))
    } else {
        None
    };

    let attach_stdin = o.interactive && !detach;
    let mut cfg = json!({
        "Hostname": o.hostname.clone().unwrap_or_default(),
        "Domainname": o.domainname.clone().unwrap_or_default(),
        "User": o.user.clone().unwrap_or_default(),
        "AttachStdin": attach_stdin,
        "AttachStdout": !detach,
        "AttachStderr": !detach,
        "Tty": o.tty,
        "OpenStdin": o.interactive,
        "StdinOnce": attach_stdin,
        "Env": env,
        "Cmd": if command.is_empty() { Value::Null } else { json!(command) },
        "Image": image,
        "WorkingDir": o.workdir.clone().unwrap_or_default(),
        "Entrypoint": match &o.entrypoint { Some(e) if e.is_empty() => json!([""]), Some(e) => json!([e]), None => Value::Null },
        "Labels": labels,
        "HostConfig": host,
    });
    if let Some(s) = &o.stop_signal {
        cfg["StopSignal"] = json!(s);
    }
    if let Some(t) = stop_timeout {
        cfg["StopTimeout"] = json!(t);
    }
    if net.exposed.as_object().is_some_and(|e| !e.is_empty()) {
        cfg["ExposedPorts"] = net.exposed;
    }
    if let Some(h) = health {
        cfg["Healthcheck"] = h;
    }
    cfg["NetworkingConfig"] = json!({ "EndpointsConfig": net.endpoints });
    cfg["Volumes"] = storage.volumes;
    Ok((cfg, image))
}

/// Create the container, pulling the image when missing (per `--pull`).
/// Returns the container ID. Failures carry docker's exit code 125.
async fn create_container(
    client: &Client,
    cmd: &str,
    o: &ContainerOpts,
    detach: bool,
) -> Result<String, Failure> {
    let api = client.api_version().await?;
    let (cfg, image) = build_config(cmd, o, detach, &api)?;
    let reference = crate::refs::Reference::parse(&image);
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(n) = &o.name {
        query.push(("name", n));
    }
    if let Some(p) = &o.platform {
        query.push(("platform", p));
    }
    let pull = o.pull.as_str();
    if !matches!(pull, "always" | "missing" | "never") {
        return Err(run_error(cmd, &format!("invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\""), 125));
    }
    let pull_target = if o.quiet {
        crate::progress::Target::Discard
    } else {
        crate::progress::Target::Stderr
    };
    if pull == "always" {
        let named = crate::refs::Named::parse(&image).map_err(|e| run_error(cmd, &e, 125))?;
        crate::transfer::pull_image(client, &named, false, o.platform.as_deref(), pull_target)
            .await
            .map_err(|e| run_error(cmd, &e, 125))?;
    }
    let mut attempt = 0;
    let resp: Value = loop {
        match client
            .post_json::<Value>("/containers/create", &query, Some(&cfg))
            .await
        {
            Ok(v) => break v,
            Err(e) if e.is_not_found() && pull == "missing" && attempt == 0 => {
                eprintln!(
                    "Unable to find image '{}' locally",
                    reference.familiar_tagged()
                );
                let named =
                    crate::refs::Named::parse(&image).map_err(|e| run_error(cmd, &e, 125))?;
                crate::transfer::pull_image(
                    client,
                    &named,
                    false,
                    o.platform.as_deref(),
                    pull_target,
                )
                .await
                .map_err(|e| run_error(cmd, &e, 125))?;
                attempt += 1;
            }
            // docker create prints a daemon's refusal as is (status 1).
            Err(e) if cmd == "create" => return Err(Failure::new(1, e.to_string())),
            Err(e) => return Err(run_error(cmd, &e.to_string(), 125)),
        }
    };
    if let Some(w) = resp.get("Warnings").and_then(|w| w.as_array()) {
        for w in w.iter().filter_map(|w| w.as_str()) {
            eprintln!("WARNING: {w}");
        }
    }
    // The docker CLI's own warning, after the daemon's.
    let loopback_dns = cfg["HostConfig"]["Dns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str()?.parse::<std::net::IpAddr>().ok())
        .find(|ip| ip.is_loopback());
    if let Some(ip) = loopback_dns {
        eprintln!("WARNING: Localhost DNS ({ip}) may fail in containers.");
    }
    resp.get("Id")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| run_error(cmd, "daemon returned no container ID", 125))
}

/// Start a `POST .../wait?condition=` request, returning once the daemon has
/// sent the headers (or after a short grace period), and a task yielding
/// the exit status.
async fn wait_before_start(
    client: &Client,
    id: &str,
    condition: &str,
) -> Result<tokio::task::JoinHandle<Result<i32, String>>, String> {
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let client = client.clone();
    let path = format!("/containers/{id}/wait");
    let condition = condition.to_string();
    let handle = tokio::spawn(async move {
        match client
            .stream(
                Method::POST,
                &path,
                &[("condition", &condition)],
                Body::empty(),
            )
            .await
        {
            Ok(resp) => {
                let _ = tx.send(Ok(()));
                let v: Value = resp.json().await.map_err(|e| e.to_string())?;
                if let Some(msg) = v.pointer("/Error/Message").and_then(|m| m.as_str()) {
                    if !msg.is_empty() {
                        return Err(format!("Error waiting for container: {msg}"));
                    }
                }
                Ok(v.get("StatusCode").and_then(|s| s.as_i64()).unwrap_or(0) as i32)
            }
            Err(e) => {
                let msg = e.to_string();
                let _ = tx.send(Err(msg.clone()));
                Err(msg)
            }
        }
    });
    match tokio::time::timeout(Duration::from_secs(2), rx).await {
        Ok(Ok(Err(msg))) => Err(msg),
        _ => Ok(handle),
    }
}

fn stdin_tty_check(tty: bool, interactive: bool) -> Result<(), Failure> {
    if tty && interactive && !tty::stdin_is_tty() {
        return Err(Failure::new(1, "the input device is not a TTY"));
    }
    Ok(())
}

async fn inspect_container(client: &Client, id: &str) -> Result<Value, api_client::Error> {
    client
        .get_json(&format!("/containers/{id}/json"), &[])
        .await
}

// ------------------------------------------------------------------ run / create / start

pub async fn run(client: &Client, a: RunArgs) -> CmdResult {
    let o = &a.opts;
    if !a.detach {
        stdin_tty_check(o.tty, o.interactive)?;
    }
    let id = create_container(client, "run", o, a.detach).await?;

    if a.detach {
        if let Err(e) = client
            .post(&format!("/containers/{id}/start"), &[], None)
            .await
        {
            let msg = e.to_string();
            return Err(run_error("run", &msg, start_error_code(&msg)));
        }
        println!("{id}");
        return Ok(0);
    }

    let sig_task =
        (a.sig_proxy && !o.tty).then(|| stream::forward_signals(client.clone(), id.clone()));

    let mut path = format!("/containers/{id}/attach?stream=1&stdout=1&stderr=1");
    if o.interactive {
        path.push_str("&stdin=1");
    }
    if let Some(k) = &a.detach_keys {
        path.push_str(&format!(
            "&detachKeys={}",
            api_client::encode_query(&[("", k)]).trim_start_matches('=')
        ));
    }
    let conn = client
        .hijack(Method::POST, &path, None)
        .await
        .map_err(|e| run_error("run", &e.to_string(), 125))?;

    let condition = if o.rm { "removed" } else { "next-exit" };
    let wait = wait_before_start(client, &id, condition)
        .await
        .map_err(|e| run_error("run", &e, 125))?;

    let raw = if o.tty && o.interactive {
        tty::RawGuard::stdin()
    } else {
        None
    };
    let detach_keys = detach_key_bytes(a.detach_keys.as_deref());
    let io = tokio::spawn(stream::pump(
        conn,
        o.tty,
        o.interactive,
        o.tty.then_some(detach_keys),
    ));

    if let Err(e) = client
        .post(&format!("/containers/{id}/start"), &[], None)
        .await
    {
        io.abort();
        drop(raw);
        if o.rm {
            let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
        }
        let msg = e.to_string();
        return Err(run_error("run", &msg, start_error_code(&msg)));
    }
    let resize = (o.tty && tty::stdout_is_tty())
        .then(|| stream::monitor_tty_size(client.clone(), ResizeTarget::Container(id.clone())));

    let io_res = io.await;
    if let Some(r) = resize {
        r.abort();
    }
    drop(raw);
    match io_res {
        Ok(Ok(stream::PumpEnd::Detached)) => return Ok(0),
        Ok(Ok(stream::PumpEnd::Done)) => {}
        Ok(Err(e)) => eprintln!("{e}"),
        Err(_) => {}
    }
    let status = match wait.await {
        Ok(Ok(code)) => code,
        Ok(Err(msg)) => {
            eprintln!("{msg}");
            125
        }
        Err(_) => 125,
    };
    if let Some(s) = sig_task {
        s.abort();
    }
    Ok(status)
}

pub async fn create(client: &Client, a: CreateArgs) -> CmdResult {
    let id = create_container(client, "create", &a.opts, false).await?;
    println!("{id}");
    Ok(0)
}

pub fn detach_key_bytes(spec: Option<&str>) -> Vec<u8> {
    let spec = spec.unwrap_or("ctrl-p,ctrl-q");
    let mut out = Vec::new();
    for part in spec.split(',') {
        let p = part.trim();
        if let Some(k) = p.strip_prefix("ctrl-") {
            let c = k.chars().next().unwrap_or('@').to_ascii_lowercase();
            let b = match c {
                'a'..='z' => c as u8 - b'a' + 1,
                '@' => 0,
                '[' => 27,
                '\\' => 28,
                ']' => 29,
                '^' => 30,
                '_' => 31,
                _ => continue,
            };
            out.push(b);
        } else if p.len() == 1 {
            out.push(p.as_bytes()[0]);
        }
    }
    if out.is_empty() {
        vec![16, 17]
    } else {
        out
    }
}

pub async fn start(client: &Client, a: StartArgs) -> CmdResult {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            return Err(Failure::new(
                1,
                "you cannot start and attach multiple containers at once",
            ));
        }
        let name = &a.containers[0];
        let info = inspect_container(client, name).await?;
        let id = info["Id"].as_str().unwrap_or(name).to_string();
        let tty = info
            .pointer("/Config/Tty")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let open_stdin = info
            .pointer("/Config/OpenStdin")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let auto_remove = info
            .pointer("/HostConfig/AutoRemove")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let with_stdin = a.interactive && open_stdin;
        stdin_tty_check(tty, with_stdin)?;
        let sig_task = (!tty).then(|| stream::forward_signals(client.clone(), id.clone()));
        let mut path = format!("/containers/{id}/attach?stream=1&stdout=1&stderr=1");
        if with_stdin {
            path.push_str("&stdin=1");
        }
        let conn = client.hijack(Method::POST, &path, None).await?;
        let wait = wait_before_start(
            client,
            &id,
            if auto_remove { "removed" } else { "next-exit" },
        )
        .await
        .map_err(|e| Failure::new(1, e))?;
        let raw = if tty && with_stdin {
            tty::RawGuard::stdin()
        } else {
            None
        };
        let keys = detach_key_bytes(a.detach_keys.as_deref());
        let io = tokio::spawn(stream::pump(conn, tty, with_stdin, tty.then_some(keys)));
        if let Err(e) = client
            .post(&format!("/containers/{id}/start"), &[], None)
            .await
        {
            io.abort();
            drop(raw);
            return Err(e.into());
        }
        let resize = (tty && tty::stdout_is_tty())
            .then(|| stream::monitor_tty_size(client.clone(), ResizeTarget::Container(id.clone())));
        let io_res = io.await;
        if let Some(r) = resize {
            r.abort();
        }
        drop(raw);
        if let Some(s) = sig_task {
            s.abort();
        }
        match io_res {
            Ok(Ok(stream::PumpEnd::Detached)) => return Ok(0),
            Ok(Err(e)) => eprintln!("{e}"),
            _ => {}
        }
        return match wait.await {
            Ok(Ok(code)) => Ok(code),
            Ok(Err(msg)) => Err(Failure::new(1, msg)),
            Err(_) => Ok(1),
        };
    }
    let mut failed = Vec::new();
    for c in &a.containers {
        match client
            .post(&format!("/containers/{c}/start"), &[], None)
            .await
        {
            Ok(()) => println!("{c}"),
            Err(e) => {
                eprintln!("{e}");
                failed.push(c.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(
            1,
            format!("Error: failed to start containers: {}", failed.join(", ")),
        ))
    }
}

// ------------------------------------------------------------------ simple per-container commands

async fn for_each<F, Fut>(names: &[String], f: F) -> CmdResult
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, api_client::Error>>,
{
    let mut failed = false;
    for n in names {
        match f(n.clone()).await {
            Ok(Some(out)) => println!("{out}"),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

pub async fn stop(client: &Client, a: StopArgs, action: &str) -> CmdResult {
    let t = a.time.map(|t| t.to_string());
    for_each(&a.containers, |c| {
        let client = client.clone();
        let t = t.clone();
        let sig = a.signal.clone();
        async move {
            let mut q: Vec<(&str, &str)> = Vec::new();
            if let Some(t) = &t {
                q.push(("t", t));
            }
            if let Some(s) = &sig {
                q.push(("signal", s));
            }
            client
                .post(&format!("/containers/{c}/{action}"), &q, None)
                .await?;
            Ok(Some(c))
        }
    })
    .await
}

pub async fn kill(client: &Client, a: KillArgs) -> CmdResult {
    for_each(&a.containers, |c| {
        let client = client.clone();
        let sig = a.signal.clone();
        async move {
            let mut q: Vec<(&str, &str)> = Vec::new();
            if let Some(s) = &sig {
                q.push(("signal", s));
            }
            client
                .post(&format!("/containers/{c}/kill"), &q, None)
                .await?;
            Ok(Some(c))
        }
    })
    .await
}

pub async fn simple_each(client: &Client, a: NamesArgs, action: &str) -> CmdResult {
    for_each(&a.containers, |c| {
        let client = client.clone();
        async move {
            client
                .post(&format!("/containers/{c}/{action}"), &[], None)
                .await?;
            Ok(Some(c))
        }
    })
    .await
}

pub async fn rm(client: &Client, a: RmArgs) -> CmdResult {
    let mut failed = false;
    for c in &a.containers {
        let c = c.trim_matches('/');
        if c.is_empty() {
            eprintln!("Container name cannot be empty");
            failed = true;
            continue;
        }
        let mut q: Vec<(&str, &str)> = Vec::new();
        if a.force {
            q.push(("force", "1"));
        }
        if a.volumes {
            q.push(("v", "1"));
        }
        if a.link {
            q.push(("link", "1"));
        }
        match client.delete(&format!("/containers/{c}"), &q).await {
            Ok(()) => println!("{c}"),
            Err(e) => {
                eprintln!("{e}");
                if !(a.force && e.is_not_found()) {
                    failed = true;
                }
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

pub async fn wait(client: &Client, a: NamesArgs) -> CmdResult {
    for_each(&a.containers, |c| {
        let client = client.clone();
        async move {
            let v: Value = client
                .post_json(&format!("/containers/{c}/wait"), &[], None)
                .await?;
            if let Some(msg) = v
                .pointer("/Error/Message")
                .and_then(|m| m.as_str())
                .filter(|m| !m.is_empty())
            {
                return Err(api_client::Error::Api {
                    status: 500,
                    message: msg.to_string(),
                });
            }
            Ok(Some(
                v.get("StatusCode")
                    .and_then(|s| s.as_i64())
                    .unwrap_or(0)
                    .to_string(),
            ))
        }
    })
    .await
}

/// `docker container prune`.
pub async fn prune(client: &Client, a: ContainerPruneArgs) -> CmdResult {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &a.filter {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            Failure::new(
                125,
                format!("invalid argument \"{f}\" for \"--filter\" flag: bad format of filter (expected name=value)"),
            )
        })?;
        filters
            .entry(k.trim().to_lowercase())
            .or_default()
            .push(v.trim().to_string());
    }
    if !a.force
        && !crate::images::confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
        )
    {
        return Ok(0);
    }
    let filters = serde_json::to_string(&filters).unwrap_or_default();
    let report: Value = client
        .post_json("/containers/prune", &[("filters", &filters)], None)
        .await?;
    let deleted = report["ContainersDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        for d in &deleted {
            println!("{}", d.as_str().unwrap_or_default());
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        fmtutil::human_size(report["SpaceReclaimed"].as_f64().unwrap_or(0.0))
    );
    Ok(0)
}

/// One row of `docker stats`, from two samples of a container (the docker
/// CLI's arithmetic: CPU % from the cpu and system deltas times the CPUs,
/// memory without the inactive file cache).
fn stats_row(pre: &Value, cur: &Value, no_trunc: bool) -> Value {
    let u = |v: &Value| v.as_f64().unwrap_or(0.0);
    let cpu = &cur["cpu_stats"];
    let cpu_delta =
        u(&cpu["cpu_usage"]["total_usage"]) - u(&pre["cpu_stats"]["cpu_usage"]["total_usage"]);
    let sys_delta = u(&cpu["system_cpu_usage"]) - u(&pre["cpu_stats"]["system_cpu_usage"]);
    let cpus = match u(&cpu["online_cpus"]) {
        0.0 => cpu["cpu_usage"]["percpu_usage"]
            .as_array()
            .map_or(1.0, |a| a.len().max(1) as f64),
        n => n,
    };
    let cpu_pct = if cpu_delta > 0.0 && sys_delta > 0.0 {
        cpu_delta / sys_delta * cpus * 100.0
    } else {
        0.0
    };
    let mem = &cur["memory_stats"];
    let stats = &mem["stats"];
    let cache = ["total_inactive_file", "inactive_file"]
        .iter()
        .map(|k| u(&stats[*k]))
        .find(|v| *v > 0.0)
        .unwrap_or(0.0);
    let usage = (u(&mem["usage"]) - cache).max(0.0);
    let limit = u(&mem["limit"]);
    let mem_pct = if limit > 0.0 {
        usage / limit * 100.0
    } else {
        0.0
    };
    // Summed over the container's interfaces, as the docker CLI does.
    let (mut rx, mut tx) = (0.0, 0.0);
    for n in cur["networks"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        rx += u(&n["rx_bytes"]);
        tx += u(&n["tx_bytes"]);
    }
    let id = fmtutil::display_id(cur["id"].as_str().unwrap_or_default(), !no_trunc);
    json!({
        "ID": id,
        "Container": id,
        "Name": cur["name"].as_str().unwrap_or_default().trim_start_matches('/'),
        "CPUPerc": format!("{cpu_pct:.2}%"),
        "MemUsage": format!("{} / {}", fmtutil::bytes_size(usage), fmtutil::bytes_size(limit)),
        "MemPerc": format!("{mem_pct:.2}%"),
        "NetIO": format!(
            "{} / {}",
            fmtutil::human_size_prec(rx, 3),
            fmtutil::human_size_prec(tx, 3)
        ),
        "BlockIO": "0B / 0B",
        "PIDs": cur["pids_stats"]["current"].as_u64().unwrap_or(0).to_string(),
    })
}

/// `docker stats`: a table of the containers' resource use, refreshed every
/// second (or once, with `--no-stream`).
pub async fn stats(client: &Client, a: StatsArgs) -> CmdResult {
    let names: Vec<String> = if a.containers.is_empty() {
        let q: Vec<(&str, &str)> = if a.all { vec![("all", "1")] } else { vec![] };
        let list: Vec<Value> = client.get_json("/containers/json", &q).await?;
        list.iter()
            .filter_map(|c| c["Id"].as_str().map(str::to_string))
            .collect()
    } else {
        a.containers.clone()
    };
    let one = |name: String| async move {
        client
            .get_json::<Value>(
                &format!("/containers/{name}/stats"),
                &[("stream", "false"), ("one-shot", "true")],
            )
            .await
    };
    let headers = json!({
        "ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
        "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
        "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
    });
    let format = a.format.clone().unwrap_or_else(|| {
        "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}".into()
    });
    let mut pre: Vec<Value> = Vec::new();
    for n in &names {
        pre.push(one(n.clone()).await?);
    }
    // Bounded by the user: the stream goes on until interrupted.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut rows = Vec::new();
        let mut cur = Vec::new();
        for (n, p) in names.iter().zip(&pre) {
            let s = one(n.clone()).await?;
            rows.push(stats_row(p, &s, a.no_trunc));
            cur.push(s);
        }
        let out = render_format(&format, &rows, &headers)?;
        if a.no_stream {
            print!("{out}");
            return Ok(0);
        }
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            print!("\x1b[2J\x1b[H");
        }
        print!("{out}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        pre = cur;
    }
}

/// One event as the docker CLI prints it without `--format`:
/// `TIME TYPE ACTION ID (k=v, ...)`, attributes sorted by key.
fn event_line(e: &Value) -> String {
    let nanos = e["timeNano"].as_i64().unwrap_or(0);
    let t = chrono::DateTime::<chrono::Local>::from(
        std::time::UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64),
    );
    let mut time = t.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string();
    if time.ends_with("+00:00") {
        time.truncate(time.len() - 6);
        time.push('Z');
    }
    let mut line = format!(
        "{time} {} {} {}",
        e["Type"].as_str().unwrap_or_default(),
        e["Action"].as_str().unwrap_or_default(),
        e["Actor"]["ID"].as_str().unwrap_or_default()
    );
    if let Some(attrs) = e["Actor"]["Attributes"]
        .as_object()
        .filter(|a| !a.is_empty())
    {
        let mut kv: Vec<String> = attrs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        kv.sort();
        line.push_str(&format!(" ({})", kv.join(", ")));
    }
    line
}

/// `docker events`: the daemon's events, since and until the given times.
pub async fn events(client: &Client, a: EventsArgs) -> CmdResult {
    let time = |v: &Option<String>| -> Result<Option<String>, Failure> {
        v.as_deref()
            .map(|s| fmtutil::api_timestamp(s).map_err(|e| Failure::new(1, e)))
            .transpose()
    };
    let (since, until) = (time(&a.since)?, time(&a.until)?);
    let filters = parse_filters(&a.filter)?;
    let mut q: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = &since {
        q.push(("since", s));
    }
    if let Some(u) = &until {
        q.push(("until", u));
    }
    if let Some(f) = &filters {
        q.push(("filters", f));
    }
    let tmpl = match a.format.as_deref() {
        None | Some("") => None,
        Some("json") => {
            Some(crate::template::Template::parse("{{json .}}").map_err(|e| Failure::new(1, e))?)
        }
        Some(f) => Some(crate::template::Template::parse(f).map_err(|e| Failure::new(1, e))?),
    };
    let mut resp = client
        .stream(Method::GET, "/events", &q, Body::empty())
        .await?;
    use std::io::Write as _;
    while let Some(e) = resp.next_json::<Value>().await? {
        let line = match &tmpl {
            Some(t) => t.render(&e).map_err(|e| Failure::new(1, e))?,
            None => event_line(&e),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(0)
}

/// `docker top`: the container's processes as the host's ps shows them.
pub async fn top(client: &Client, a: TopArgs) -> CmdResult {
    let ps_args = a.ps_args.join(" ");
    let mut q = Vec::new();
    if !ps_args.is_empty() {
        q.push(("ps_args", ps_args.as_str()));
    }
    let v: Value = client
        .get_json(&format!("/containers/{}/top", a.container), &q)
        .await?;
    let cells = |row: &Value| -> String {
        row.as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\t")
    };
    let mut text = cells(&v["Titles"]);
    text.push('\n');
    for p in v["Processes"].as_array().into_iter().flatten() {
        text.push_str(&cells(p));
        text.push('\n');
    }
    print!("{}", fmtutil::TabWriter::new(20, 3).format(&text));
    Ok(0)
}

/// `docker diff`: `C`, `A` or `D` and the path, one change a line.
pub async fn diff(client: &Client, a: DiffArgs) -> CmdResult {
    let v: Value = client
        .get_json(&format!("/containers/{}/changes", a.container), &[])
        .await?;
    for c in v.as_array().into_iter().flatten() {
        let kind = match c["Kind"].as_u64() {
            Some(0) => "C",
            Some(1) => "A",
            Some(2) => "D",
            _ => "?",
        };
        println!("{kind} {}", c["Path"].as_str().unwrap_or_default());
    }
    Ok(0)
}

/// `--restart name[:count]` as a `RestartPolicy`.
fn restart_policy(r: &str) -> Value {
    let (name, count) = match r.split_once(':') {
        Some((n, c)) => (n, c.parse::<i64>().unwrap_or(0)),
        None => (r, 0),
    };
    json!({"Name": name, "MaximumRetryCount": count})
}

/// `berth update`: the body of `POST /containers/{id}/update`, sent to
/// each container, whose name is printed back (as the docker CLI).
pub async fn update(client: &Client, a: crate::cli::UpdateArgs) -> CmdResult {
    let bytes = |v: &Option<String>, flag: &str| -> Result<Option<i64>, Failure> {
        v.as_deref()
            .map(|s| {
                crate::network::bytes_flag("update [OPTIONS] CONTAINER [CONTAINER...]", s, flag)
            })
            .transpose()
    };
    let mut body = serde_json::Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    };
    put("Memory", bytes(&a.memory, "--memory")?.map(|n| json!(n)));
    put(
        "MemorySwap",
        bytes(&a.memory_swap, "--memory-swap")?.map(|n| json!(n)),
    );
    put(
        "MemoryReservation",
        bytes(&a.memory_reservation, "--memory-reservation")?.map(|n| json!(n)),
    );
    put("NanoCpus", a.cpus.map(|c| json!((c * 1e9) as i64)));
    put("CpuShares", a.cpu_shares.map(|n| json!(n)));
    put("CpuPeriod", a.cpu_period.map(|n| json!(n)));
    put("CpuQuota", a.cpu_quota.map(|n| json!(n)));
    put("CpusetCpus", a.cpuset_cpus.clone().map(|n| json!(n)));
    put("CpusetMems", a.cpuset_mems.clone().map(|n| json!(n)));
    put("PidsLimit", a.pids_limit.map(|n| json!(n)));
    put("BlkioWeight", a.blkio_weight.map(|n| json!(n)));
    put("RestartPolicy", a.restart.as_deref().map(restart_policy));
    let body = Value::Object(body);
    let mut failed = Vec::new();
    for c in &a.containers {
        match client
            .post(&format!("/containers/{c}/update"), &[], Some(&body))
            .await
        {
            Ok(_) => println!("{c}"),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, failed.join("\n")))
    }
}

pub async fn rename(client: &Client, a: RenameArgs) -> CmdResult {
    let new = a.new_name.trim();
    if new.is_empty() || a.container.trim().is_empty() {
        return Err(Failure::new(
            1,
            "Error: neither old nor new names may be empty",
        ));
    }
    client
        .post(
            &format!("/containers/{}/rename", a.container),
            &[("name", new)],
            None,
        )
        .await?;
    Ok(0)
}

// ------------------------------------------------------------------ ps

pub fn parse_filters(filters: &[String]) -> Result<Option<String>, Failure> {
    if filters.is_empty() {
        return Ok(None);
    }
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| Failure::new(125, format!("invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)")))?;
        map.entry(k.trim().to_lowercase())
            .or_default()
            .push(v.to_string());
    }
    Ok(Some(serde_json::to_string(&map).unwrap_or_default()))
}

/// The `ps --format` context for one container (field names as docker's).
pub fn ps_context(c: &Value, trunc: bool) -> Value {
    let id = c["Id"].as_str().unwrap_or("");
    let mut command = c["Command"].as_str().unwrap_or("").to_string();
    if trunc {
        command = fmtutil::ellipsis(&command, 20);
    }
    let image = {
        let img = c["Image"].as_str().unwrap_or("");
        if img.is_empty() {
            "<no image>".to_string()
        } else if trunc && img.starts_with("sha256:") {
            fmtutil::truncate_id(img)
        } else if trunc {
            img.split('@').next().unwrap_or(img).to_string()
        } else {
            img.to_string()
        }
    };
    let mut names: Vec<String> = Vec::new();
    for n in c["Names"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
    {
        let stripped = n.strip_prefix('/').unwrap_or(n);
        if trunc && stripped.contains('/') {
            continue; // link names
        }
        names.push(stripped.to_string());
    }
    let created = c["Created"].as_i64().unwrap_or(0);
    let mut labels: Vec<(String, String)> = c["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    let labels_str = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let mounts: Vec<String> = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let name = m["Name"]
                .as_str()
                .filter(|s| !s.is_empty())
                .or(m["Source"].as_str())
                .unwrap_or("");
            if trunc {
                fmtutil::ellipsis(name, 15)
            } else {
                name.to_string()
            }
        })
        .collect();
    let local_volumes = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["Driver"].as_str() == Some("local"))
        .count();
    let mut networks: Vec<String> = c
        .pointer("/NetworkSettings/Networks")
        .and_then(|n| n.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    let size = {
        let rw = c["SizeRw"].as_i64().unwrap_or(0) as f64;
        let root = c["SizeRootFs"].as_i64().unwrap_or(0) as f64;
        let mut s = fmtutil::human_size_prec(rw, 3);
        if root > 0.0 {
            s.push_str(&format!(" (virtual {})", fmtutil::human_size_prec(root, 3)));
        }
        s
    };
    let mut m = Map::new();
    m.insert("Command".into(), json!(go_quote(&command)));
    m.insert("CreatedAt".into(), json!(fmtutil::go_time_string(created)));
    m.insert("ID".into(), json!(fmtutil::display_id(id, trunc)));
    m.insert("Image".into(), json!(image));
    m.insert("Labels".into(), json!(labels_str));
    m.insert("LocalVolumes".into(), json!(local_volumes.to_string()));
    m.insert("Mounts".into(), json!(mounts.join(",")));
    m.insert("Names".into(), json!(names.join(",")));
    m.insert("Networks".into(), json!(networks.join(",")));
    m.insert("Platform".into(), Value::Null);
    m.insert(
        "Ports".into(),
        json!(crate::netopts::displayable_ports(&c["Ports"])),
    );
    m.insert("RunningFor".into(), json!(fmtutil::since_unix(created)));
    m.insert("Size".into(), json!(size));
    m.insert("State".into(), json!(c["State"].as_str().unwrap_or("")));
    m.insert("Status".into(), json!(c["Status"].as_str().unwrap_or("")));
    m.insert(crate::template::hidden_key("Label"), c["Labels"].clone());
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn ps_headers() -> Value {
    json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
        "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
        "LocalVolumes": "LOCAL VOLUMES", "Platform": "PLATFORM",
        crate::template::hidden_key("Label"): crate::template::HEADER_LABEL,
    })
}

/// Render rows with a docker `--format` string (`table ...`, `json`, template).
pub fn render_format(format: &str, rows: &[Value], headers: &Value) -> Result<String, Failure> {
    let format = if format == "json" {
        "{{json .}}"
    } else {
        format
    };
    let (is_table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest.trim()),
        None => (false, format),
    };
    let body = body.replace("\\t", "\t").replace("\\n", "\n");
    let tmpl = crate::template::Template::parse(&body).map_err(|e| Failure::new(1, e))?;
    let mut out = String::new();
    if is_table {
        let h = tmpl.render(headers).map_err(|e| Failure::new(1, e))?;
        out.push_str(&h);
        out.push('\n');
    }
    for r in rows {
        out.push_str(&tmpl.render(r).map_err(|e| Failure::new(1, e))?);
        out.push('\n');
    }
    Ok(if is_table { fmtutil::table(&out) } else { out })
}

pub async fn ps(client: &Client, a: PsArgs) -> CmdResult {
    let filters = parse_filters(&a.filter)?;
    let mut limit = a.last;
    if a.latest {
        limit = 1;
    }
    let all = a.all || limit > 0;
    let mut format = match &a.format {
        Some(f) if !f.is_empty() && f != "table" => f.clone(),
        _ => {
            let mut f = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}".to_string();
            if a.size {
                f.push_str("\t{{.Size}}");
            }
            f
        }
    };
    if a.quiet {
        format = "{{.ID}}".into();
    }
    let want_size = a.size || (!a.quiet && (format.contains(".Size") || format.contains("json .")));
    let limit_s = limit.to_string();
    let mut q: Vec<(&str, &str)> = Vec::new();
    if all {
        q.push(("all", "1"));
    }
    if limit > 0 {
        q.push(("limit", &limit_s));
    }
    if want_size {
        q.push(("size", "1"));
    }
    if let Some(f) = &filters {
        q.push(("filters", f));
    }
    let list: Vec<Value> = client.get_json("/containers/json", &q).await?;
    let rows: Vec<Value> = list.iter().map(|c| ps_context(c, !a.no_trunc)).collect();
    print!("{}", render_format(&format, &rows, &ps_headers())?);
    Ok(0)
}

// ------------------------------------------------------------------ logs

pub async fn logs(client: &Client, a: LogsArgs) -> CmdResult {
    let info = inspect_container(client, &a.container).await?;
    let tty = info
        .pointer("/Config/Tty")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let since = match &a.since {
        Some(s) => Some(fmtutil::api_timestamp(s).map_err(|e| Failure::new(1, e))?),
        None => None,
    };
    let until = match &a.until {
        Some(s) => Some(fmtutil::api_timestamp(s).map_err(|e| Failure::new(1, e))?),
        None => None,
    };
    let mut q: Vec<(&str, &str)> = vec![("stdout", "1"), ("stderr", "1"), ("tail", &a.tail)];
    if a.follow {
        q.push(("follow", "1"));
    }
    if a.timestamps {
        q.push(("timestamps", "1"));
    }
    if a.details {
        q.push(("details", "1"));
    }
    if let Some(s) = &since {
        q.push(("since", s));
    }
    if let Some(u) = &until {
        q.push(("until", u));
    }
    let mut resp = client
        .stream(
            Method::GET,
            &format!("/containers/{}/logs", a.container),
            &q,
            Body::empty(),
        )
        .await?;
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    use tokio::io::AsyncWriteExt;
    if tty {
        while let Some(chunk) = resp.chunk().await? {
            stdout.write_all(&chunk).await?;
            stdout.flush().await?;
        }
    } else {
        api_client::demux_to(&mut resp, &mut stdout, &mut stderr)
            .await
            .map_err(|e| Failure::new(1, e.to_string()))?;
    }
    stdout.flush().await?;
    Ok(0)
}

// ------------------------------------------------------------------ inspect

/// JSON as docker prints it: 4-space indent, `<>&` escaped like Go.
pub fn docker_json_pretty(v: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let _ = v.serialize(&mut ser);
    String::from_utf8_lossy(&buf)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A container for templates, read as the docker CLI's typed structs:
/// mount points' fields the daemon omits when empty (`Name`, `Driver` of a
/// bind or tmpfs) read as "", and the storage fields' nil slices and maps
/// print `[]` and `map[]`.
fn with_zero_fields(v: &Value) -> Value {
    use crate::template::{zero_key, NIL_MAP, NIL_SLICE};
    let mut v = v.clone();
    // Typed nil slices and maps print `[]` and `map[]` in docker.
    for (obj, fields) in [
        (
            "HostConfig",
            &[
                ("Binds", NIL_SLICE),
                ("VolumesFrom", NIL_SLICE),
                ("Mounts", NIL_SLICE),
                ("Tmpfs", NIL_MAP),
            ][..],
        ),
        ("Config", &[("Volumes", NIL_MAP)][..]),
    ] {
        if let Some(o) = v.get_mut(obj).and_then(Value::as_object_mut) {
            for (k, zero) in fields {
                o.insert(zero_key(k), json!(zero));
            }
        }
    }
    if let Some(mounts) = v.get_mut("Mounts").and_then(Value::as_array_mut) {
        for m in mounts.iter_mut().filter_map(Value::as_object_mut) {
            for k in ["Name", "Driver"] {
                m.insert(crate::template::zero_key(k), json!(""));
            }
        }
    }
    v
}

/// The object kinds `berth inspect` looks for, in the docker CLI's order
/// (the swarm kinds aside), with the path of each.
const INSPECT_KINDS: [(&str, &str); 4] = [
    ("container", "/containers/{}/json"),
    ("image", "/images/{}/json"),
    ("network", "/networks/{}"),
    ("volume", "/volumes/{}"),
];

/// A network or volume for templates: its nil maps print `map[]`.
fn with_nil_maps(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["Labels", "Options"] {
            o.insert(
                crate::template::zero_key(k),
                json!(crate::template::NIL_MAP),
            );
        }
    }
    v
}

pub async fn inspect(client: &Client, a: InspectArgs, kind: Option<&str>) -> CmdResult {
    let kind = a.kind.as_deref().or(kind);
    if let Some(k) = kind {
        const DOCKER_KINDS: [&str; 10] = [
            "config",
            "container",
            "image",
            "network",
            "node",
            "plugin",
            "secret",
            "service",
            "task",
            "volume",
        ];
        if !DOCKER_KINDS.contains(&k) {
            let all: Vec<String> = DOCKER_KINDS.iter().map(|k| format!("\"{k}\"")).collect();
            return Err(Failure::new(
                1,
                format!("unknown type: \"{k}\": must be one of {}", all.join(", ")),
            ));
        }
        if !INSPECT_KINDS.iter().any(|(name, _)| *name == k) {
            return Err(Failure::new(
                1,
                format!("inspect --type {k} is not supported by berth"),
            ));
        }
    }
    let tmpl = match &a.format {
        Some(f) if !f.is_empty() && f != "json" => {
            let f = f.replace("\\t", "\t").replace("\\n", "\n");
            Some(crate::template::Template::parse(&f).map_err(|e| Failure::new(1, e))?)
        }
        _ => None,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let size_q: Vec<(&str, &str)> = if a.size { vec![("size", "1")] } else { vec![] };
    for name in &a.names {
        let mut found = None;
        let mut err = None;
        for (k, path) in INSPECT_KINDS {
            if kind.is_some_and(|want| want != k) {
                continue;
            }
            let q: &[(&str, &str)] = if k == "container" { &size_q } else { &[] };
            match client.get_json::<Value>(&path.replace("{}", name), q).await {
                Ok(v) => {
                    found = Some((k, v));
                    break;
                }
                Err(e) if e.is_not_found() => err = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        match found {
            Some(v) => results.push(v),
            // With --type, the daemon's own answer; without, docker's summary.
            None => errors.push(match (kind, err) {
                (Some(_), Some(e)) => e.to_string(),
                _ => format!("Error: No such object: {name}"),
            }),
        }
    }
    match &tmpl {
        Some(t) => {
            let mut out = String::new();
            for (k, r) in &results {
                let r = match *k {
                    "container" => with_zero_fields(r),
                    "network" | "volume" => with_nil_maps(r),
                    _ => r.clone(),
                };
                out.push_str(&t.render(&r).map_err(|e| Failure::new(1, e))?);
                out.push('\n');
            }
            // docker prints an empty line when nothing was found.
            if out.is_empty() {
                out.push('\n');
            }
            print!("{out}");
        }
        None => {
            let all: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
            println!("{}", docker_json_pretty(&Value::Array(all)));
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

// ------------------------------------------------------------------ exec / attach

pub async fn exec(client: &Client, a: ExecArgs) -> CmdResult {
    let container = &a.args[0];
    let cmd: Vec<String> = a.args[1..].to_vec();
    if !a.detach {
        stdin_tty_check(a.tty, a.interactive)?;
    }
    let env = env_list(&a.env, &a.env_file).map_err(|e| Failure::new(125, e))?;
    let mut body = json!({
        "User": a.user.clone().unwrap_or_default(),
        "Privileged": a.privileged,
        "Tty": a.tty,
        "AttachStdin": a.interactive && !a.detach,
        "AttachStdout": !a.detach,
        "AttachStderr": !a.detach,
        "Detach": a.detach,
        "Env": env,
        "WorkingDir": a.workdir.clone().unwrap_or_default(),
        "Cmd": cmd,
    });
    if let Some(k) = &a.detach_keys {
        body["DetachKeys"] = json!(k);
    }
    if let Some((h, w)) = (a.tty && tty::stdout_is_tty())
        .then(tty::window_size)
        .flatten()
    {
        body["ConsoleSize"] = json!([h, w]);
    }
    let created: Value = client
        .post_json(&format!("/containers/{container}/exec"), &[], Some(&body))
        .await?;
    let exec_id = created["Id"].as_str().unwrap_or_default().to_string();
    let start_body = json!({"Detach": a.detach, "Tty": a.tty});
    if a.detach {
        client
            .post(&format!("/exec/{exec_id}/start"), &[], Some(&start_body))
            .await?;
        return Ok(0);
    }
    let conn = client
        .hijack(
            Method::POST,
            &format!("/exec/{exec_id}/start"),
            Some(&start_body),
        )
        .await?;
    let raw = if a.tty && a.interactive {
        tty::RawGuard::stdin()
    } else {
        None
    };
    let resize = (a.tty && tty::stdout_is_tty())
        .then(|| stream::monitor_tty_size(client.clone(), ResizeTarget::Exec(exec_id.clone())));
    let keys = detach_key_bytes(a.detach_keys.as_deref());
    let res = stream::pump(conn, a.tty, a.interactive, a.tty.then_some(keys)).await;
    if let Some(r) = resize {
        r.abort();
    }
    drop(raw);
    match res {
        Ok(stream::PumpEnd::Detached) => return Ok(0),
        Ok(stream::PumpEnd::Done) => {}
        Err(e) => eprintln!("{e}"),
    }
    // The exit code may be recorded a moment after the stream closes.
    for _ in 0..50 {
        let v: Value = client
            .get_json(&format!("/exec/{exec_id}/json"), &[])
            .await?;
        if v["Running"].as_bool() != Some(true) {
            return Ok(v["ExitCode"].as_i64().unwrap_or(0) as i32);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(0)
}

pub async fn attach(client: &Client, a: AttachArgs) -> CmdResult {
    let info = inspect_container(client, &a.container).await?;
    let id = info["Id"].as_str().unwrap_or(&a.container).to_string();
    if info.pointer("/State/Running").and_then(|v| v.as_bool()) != Some(true) {
        return Err(Failure::new(
            1,
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if info.pointer("/State/Paused").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Failure::new(
            1,
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    let tty = info
        .pointer("/Config/Tty")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let open_stdin = info
        .pointer("/Config/OpenStdin")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let with_stdin = !a.no_stdin && open_stdin;
    stdin_tty_check(tty, with_stdin)?;
    let mut path = format!("/containers/{id}/attach?stream=1&stdout=1&stderr=1");
    if with_stdin {
        path.push_str("&stdin=1");
    }
    let conn = client.hijack(Method::POST, &path, None).await?;
    let sig_task =
        (a.sig_proxy && !tty).then(|| stream::forward_signals(client.clone(), id.clone()));
    let raw = if tty && with_stdin {
        tty::RawGuard::stdin()
    } else {
        None
    };
    let resize = (tty && tty::stdout_is_tty())
        .then(|| stream::monitor_tty_size(client.clone(), ResizeTarget::Container(id.clone())));
    let keys = detach_key_bytes(a.detach_keys.as_deref());
    let res = stream::pump(conn, tty, with_stdin, with_stdin.then_some(keys)).await;
    if let Some(r) = resize {
        r.abort();
    }
    drop(raw);
    if let Some(s) = sig_task {
        s.abort();
    }
    match res {
        Ok(stream::PumpEnd::Detached) => return Ok(0),
        Ok(stream::PumpEnd::Done) => {}
        Err(e) => eprintln!("{e}"),
    }
    let v: Value = client
        .post_json(&format!("/containers/{id}/wait"), &[], None)
        .await?;
    Ok(v["StatusCode"].as_i64().unwrap_or(0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_row_and_table() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let c = json!({
            "Id": "52c964614251a6d9d90800f648aa56373ef5f2dfbbf338f26138d7d8985f076c",
            "Names": ["/t1"], "Image": "busybox", "Command": "sleep 300", "Created": now - 130,
            "State": "running", "Status": "Up 2 minutes", "Ports": [], "Labels": {"a": "1"},
        });
        let row = ps_context(&c, true);
        assert_eq!(row["ID"], "52c964614251");
        assert_eq!(row["Command"], "\"sleep 300\"");
        assert_eq!(row["RunningFor"], "2 minutes ago");
        let out = render_format(
            "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
            std::slice::from_ref(&row),
            &ps_headers(),
        )
        .unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     NAMES\n\
             52c964614251   busybox   \"sleep 300\"   2 minutes ago   Up 2 minutes             t1\n"
        );
        assert_eq!(
            render_format("{{.Names}}", std::slice::from_ref(&row), &ps_headers()).unwrap(),
            "t1\n"
        );
        assert_eq!(
            render_format(
                "{{.Label \"a\"}}",
                std::slice::from_ref(&row),
                &ps_headers()
            )
            .unwrap(),
            "1\n"
        );
        let j = render_format("json", &[row], &ps_headers()).unwrap();
        assert!(j.starts_with("{\"Command\":\"\\\"sleep 300\\\"\""), "{j}");
        assert!(!j.contains("Label\""), "{j}");
    }

    #[test]
    fn long_commands_are_truncated() {
        let c = json!({"Id": "x", "Command": "sh -c 'while true; do echo hi; done'", "Created": 0});
        assert_eq!(ps_context(&c, true)["Command"], "\"sh -c 'while true; …\"");
        assert_eq!(
            ps_context(&c, false)["Command"],
            "\"sh -c 'while true; do echo hi; done'\""
        );
    }

    #[test]
    fn ports_and_filters() {
        let p = json!([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}, {"PrivatePort": 53, "Type": "udp"}]);
        assert_eq!(
            crate::netopts::displayable_ports(&p),
            "53/udp, 0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            parse_filters(&[
                "status=running".into(),
                "name=x".into(),
                "status=exited".into()
            ])
            .unwrap()
            .unwrap(),
            r#"{"name":["x"],"status":["running","exited"]}"#
        );
        assert!(parse_filters(&["bad".into()]).is_err());
    }

    #[test]
    fn config_building() {
        let o = ContainerOpts {
            args: vec!["busybox".into(), "echo".into(), "hi".into()],
            memory: Some("64m".into()),
            cpus: Some("1.5".into()),
            label: vec!["a=b".into(), "c".into()],
            entrypoint: Some("".into()),
            publish: vec!["8080:80".into()],
            pull: "missing".into(),
            interactive: true,
            ..Default::default()
        };
        let (cfg, image) = build_config("run", &o, false, "1.50").unwrap();
        assert_eq!(image, "busybox");
        assert_eq!(cfg["Cmd"], json!(["echo", "hi"]));
        assert_eq!(cfg["HostConfig"]["Memory"], json!(64 * 1024 * 1024));
        assert_eq!(cfg["HostConfig"]["NanoCpus"], json!(1_500_000_000i64));
        assert_eq!(cfg["Labels"], json!({"a": "b", "c": ""}));
        assert_eq!(cfg["Entrypoint"], json!([""]));
        assert_eq!(cfg["AttachStdin"], json!(true));
        assert_eq!(cfg["StdinOnce"], json!(true));
        assert_eq!(
            cfg["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
            "8080"
        );
        let bad = ContainerOpts {
            args: vec!["busybox".into()],
            memory: Some("12q".into()),
            ..Default::default()
        };
        let e = build_config("run", &bad, false, "1.50").unwrap_err();
        assert_eq!(e.code, 125);
        assert!(
            e.msg.starts_with(
                "invalid argument \"12q\" for \"-m, --memory\" flag: invalid suffix: 'q'\n\nUsage:  berth run [OPTIONS]"
            ),
            "{}",
            e.msg
        );
    }

    #[test]
    fn start_error_codes() {
        assert_eq!(
            start_error_code("exec: \"nosuch\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_error_code("exec /x: permission denied"), 126);
        assert_eq!(start_error_code("something else"), 125);
        assert_eq!(detach_key_bytes(None), vec![16, 17]);
        assert_eq!(detach_key_bytes(Some("ctrl-a,x")), vec![1, b'x']);
    }

    #[test]
    fn pretty_json_like_docker() {
        assert_eq!(
            docker_json_pretty(&json!([{"a": "<x>", "b": []}])),
            "[\n    {\n        \"a\": \"\\u003cx\\u003e\",\n        \"b\": []\n    }\n]"
        );
    }
}
