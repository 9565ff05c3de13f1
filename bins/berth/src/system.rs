//! `version` and `info`.

use api_client::Client;
use serde_json::{json, Value};

use crate::cli::{InfoArgs, VersionArgs};
use crate::fmtutil::{self, TabWriter};
use crate::{CmdResult, Failure};

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => crate::template::to_go_string(other),
    }
}

fn os_arch() -> (String, String) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    (std::env::consts::OS.to_string(), arch.to_string())
}

pub async fn version(client: &Client, a: VersionArgs) -> CmdResult {
    let (os, arch) = os_arch();
    let server: Result<Value, api_client::Error> = client.get_json("/version", &[]).await;
    let api = client
        .api_version()
        .await
        .unwrap_or_else(|_| api_client::MAX_API_VERSION.to_string());
    let client_info = json!({
        "Platform": {"Name": ""},
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": api,
        "DefaultAPIVersion": api_client::MAX_API_VERSION,
        "GitCommit": option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown"),
        "GoVersion": "",
        "Os": os,
        "Arch": arch,
        "BuildTime": "",
        "Context": "default",
    });

    if let Some(f) = &a.format {
        let data = json!({"Client": client_info, "Server": server.as_ref().ok().cloned().unwrap_or(Value::Null)});
        let f = f.replace("\\t", "\t").replace("\\n", "\n");
        let out = crate::template::render(&f, &data).map_err(|e| Failure::new(1, e))?;
        println!("{out}");
        return match server {
            Ok(_) => Ok(0),
            Err(e) => Err(e.into()),
        };
    }

    let mut text = String::new();
    text.push_str("Client:\n");
    text.push_str(&format!(" Version:\t{}\n", s(&client_info, "Version")));
    let downgraded = if api != api_client::MAX_API_VERSION {
        format!(" (downgraded from {})", api_client::MAX_API_VERSION)
    } else {
        String::new()
    };
    text.push_str(&format!(" API version:\t{api}{downgraded}\n"));
    text.push_str(&format!(" Git commit:\t{}\n", s(&client_info, "GitCommit")));
    text.push_str(&format!(
        " OS/Arch:\t{}/{}\n",
        s(&client_info, "Os"),
        s(&client_info, "Arch")
    ));
    text.push_str(" Context:\tdefault\n");

    let srv = match server {
        Ok(v) => v,
        Err(e) => {
            print!("{}", TabWriter::new(20, 1).format(&text));
            return Err(e.into());
        }
    };
    text.push_str("\nServer:");
    if let Some(name) = srv
        .pointer("/Platform/Name")
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
    {
        text.push(' ');
        text.push_str(name);
    }
    text.push('\n');
    let mut components: Vec<Value> = srv
        .get("Components")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    if components.is_empty() {
        components.push(json!({"Name": "Engine", "Version": s(&srv, "Version"), "Details": {
            "ApiVersion": s(&srv, "ApiVersion"), "MinAPIVersion": s(&srv, "MinAPIVersion"), "GoVersion": s(&srv, "GoVersion"),
            "GitCommit": s(&srv, "GitCommit"), "BuildTime": s(&srv, "BuildTime"), "Os": s(&srv, "Os"), "Arch": s(&srv, "Arch"),
            "Experimental": s(&srv, "Experimental"),
        }}));
    }
    for c in &components {
        let name = s(c, "Name");
        let details = c.get("Details").cloned().unwrap_or(json!({}));
        text.push_str(&format!(" {name}:\n"));
        if name == "Engine" {
            text.push_str(&format!("  Version:\t{}\n", s(c, "Version")));
            text.push_str(&format!(
                "  API version:\t{} (minimum version {})\n",
                s(&details, "ApiVersion"),
                s(&details, "MinAPIVersion")
            ));
            let go = s(&details, "GoVersion");
            if !go.is_empty() {
                text.push_str(&format!("  Go version:\t{go}\n"));
            }
            text.push_str(&format!("  Git commit:\t{}\n", s(&details, "GitCommit")));
            text.push_str(&format!(
                "  Built:\t{}\n",
                ansic_time(&s(&details, "BuildTime"))
            ));
            text.push_str(&format!(
                "  OS/Arch:\t{}/{}\n",
                s(&details, "Os"),
                s(&details, "Arch")
            ));
            text.push_str(&format!(
                "  Experimental:\t{}\n",
                s(&details, "Experimental")
            ));
        } else {
            text.push_str(&format!("  Version:\t{}\n", s(c, "Version")));
            if let Some(m) = details.as_object() {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    text.push_str(&format!("  {k}:\t{}\n", s(&details, k)));
                }
            }
        }
    }
    print!("{}", TabWriter::new(20, 1).format(&text));
    Ok(0)
}

pub async fn info(client: &Client, a: InfoArgs) -> CmdResult {
    let (os, arch) = os_arch();
    let client_info = json!({"Version": env!("CARGO_PKG_VERSION"), "Context": "default", "Debug": false, "Os": os, "Arch": arch});
    let info: Result<Value, api_client::Error> = client.get_json("/info", &[]).await;
    if let Some(f) = &a.format {
        let mut data = info.as_ref().ok().cloned().unwrap_or(json!({}));
        data["ClientInfo"] = client_info;
        let f = f.replace("\\t", "\t").replace("\\n", "\n");
        let out = crate::template::render(&f, &data).map_err(|e| Failure::new(1, e))?;
        println!("{out}");
        return info.map(|_| 0).map_err(Into::into);
    }
    let mut out = String::new();
    out.push_str("Client:\n");
    out.push_str(&format!(" Version:    {}\n", env!("CARGO_PKG_VERSION")));
    out.push_str(" Context:    default\n");
    out.push_str(" Debug Mode: false\n");
    let i = match info {
        Ok(i) => i,
        Err(e) => {
            print!("{out}");
            println!();
            println!("Server:");
            return Err(Failure::new(
                1,
                format!("ERROR: {e}\nerrors pretty printing info"),
            ));
        }
    };
    let g = |k: &str| s(&i, k);
    out.push_str("\nServer:\n");
    out.push_str(&format!(" Containers: {}\n", g("Containers")));
    out.push_str(&format!("  Running: {}\n", g("ContainersRunning")));
    out.push_str(&format!("  Paused: {}\n", g("ContainersPaused")));
    out.push_str(&format!("  Stopped: {}\n", g("ContainersStopped")));
    out.push_str(&format!(" Images: {}\n", g("Images")));
    out.push_str(&format!(" Server Version: {}\n", g("ServerVersion")));
    out.push_str(&format!(" Storage Driver: {}\n", g("Driver")));
    if let Some(status) = i.get("DriverStatus").and_then(|d| d.as_array()) {
        for pair in status {
            if let Some([k, v]) = pair.as_array().map(|a| a.as_slice()) {
                out.push_str(&format!(
                    "  {}: {}\n",
                    k.as_str().unwrap_or(""),
                    v.as_str().unwrap_or("")
                ));
            }
        }
    }
    out.push_str(&format!(" Logging Driver: {}\n", g("LoggingDriver")));
    out.push_str(&format!(" Cgroup Driver: {}\n", g("CgroupDriver")));
    out.push_str(&format!(" Cgroup Version: {}\n", g("CgroupVersion")));
    let runtimes: Vec<String> = i
        .get("Runtimes")
        .and_then(|r| r.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if !runtimes.is_empty() {
        out.push_str(&format!(" Runtimes: {}\n", runtimes.join(" ")));
    }
    out.push_str(&format!(" Default Runtime: {}\n", g("DefaultRuntime")));
    out.push_str(&format!(" Kernel Version: {}\n", g("KernelVersion")));
    out.push_str(&format!(" Operating System: {}\n", g("OperatingSystem")));
    out.push_str(&format!(" OSType: {}\n", g("OSType")));
    out.push_str(&format!(" Architecture: {}\n", g("Architecture")));
    out.push_str(&format!(" CPUs: {}\n", g("NCPU")));
    let mem = i.get("MemTotal").and_then(|m| m.as_f64()).unwrap_or(0.0);
    out.push_str(&format!(" Total Memory: {}\n", fmtutil::bytes_size(mem)));
    out.push_str(&format!(" Name: {}\n", g("Name")));
    out.push_str(&format!(" ID: {}\n", g("ID")));
    out.push_str(&format!(" Docker Root Dir: {}\n", g("DockerRootDir")));
    out.push_str(&format!(" Debug Mode: {}\n", g("Debug")));
    out.push_str(&format!(" Experimental: {}\n", g("ExperimentalBuild")));
    out.push_str(&format!(
        " Live Restore Enabled: {}\n",
        g("LiveRestoreEnabled")
    ));
    print!("{out}");
    if let Some(w) = i.get("Warnings").and_then(|w| w.as_array()) {
        for w in w.iter().filter_map(|w| w.as_str()) {
            eprintln!("{w}");
        }
    }
    Ok(0)
}

/// docker prints RFC 3339 build times in Go's ANSIC layout ("Mon Jan  2 15:04:05 2006").
fn ansic_time(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d.format("%a %b %e %H:%M:%S %Y").to_string(),
        Err(_) => t.to_string(),
    }
}
