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

// ------------------------------------------------------------------ system df

/// One row of the `system df` summary (docker's disk usage contexts).
fn df_row(
    kind: &str,
    total: usize,
    active: usize,
    size: i64,
    reclaimable: i64,
    pct: bool,
) -> Value {
    let hs = |n: i64| fmtutil::human_size(n as f64);
    let reclaim = if pct && size > 0 {
        format!("{} ({}%)", hs(reclaimable), reclaimable * 100 / size)
    } else {
        hs(reclaimable)
    };
    let mut m = serde_json::Map::new();
    m.insert("Active".into(), json!(active.to_string()));
    m.insert("Reclaimable".into(), json!(reclaim));
    m.insert("Size".into(), json!(hs(size)));
    m.insert("TotalCount".into(), json!(total.to_string()));
    m.insert("Type".into(), json!(kind));
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn list<'a>(du: &'a Value, key: &str) -> Vec<&'a Value> {
    du[key].as_array().into_iter().flatten().collect()
}

fn int(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or(0)
}

/// The four summary rows, computed as docker 28 does from `GET /system/df`.
fn df_summary(du: &Value) -> Vec<Value> {
    let images = list(du, "Images");
    let layers = int(du, "LayersSize");
    let used: i64 = images
        .iter()
        .filter(|i| int(i, "Containers") != 0)
        .filter(|i| int(i, "Size") != -1 && int(i, "SharedSize") != -1)
        .map(|i| int(i, "Size") - int(i, "SharedSize"))
        .sum();
    let active_images = images.iter().filter(|i| int(i, "Containers") > 0).count();

    let containers = list(du, "Containers");
    let is_active = |c: &Value| {
        matches!(
            c["State"].as_str().unwrap_or(""),
            "running" | "paused" | "restarting"
        )
    };
    let c_size: i64 = containers.iter().map(|c| int(c, "SizeRw")).sum();
    let c_reclaim: i64 = containers
        .iter()
        .filter(|c| !is_active(c))
        .map(|c| int(c, "SizeRw"))
        .sum();

    let volumes = list(du, "Volumes");
    let usage = |v: &Value, k: &str| v["UsageData"][k].as_i64().unwrap_or(-1);
    let v_size: i64 = volumes
        .iter()
        .filter(|v| usage(v, "Size") != -1)
        .map(|v| usage(v, "Size"))
        .sum();
    let v_reclaim: i64 = volumes
        .iter()
        .filter(|v| usage(v, "Size") != -1 && usage(v, "RefCount") == 0)
        .map(|v| usage(v, "Size"))
        .sum();

    let cache = list(du, "BuildCache");
    let b = |v: &Value, k: &str| v[k].as_bool().unwrap_or(false);
    let builder: i64 = cache
        .iter()
        .filter(|c| !b(c, "Shared"))
        .map(|c| int(c, "Size"))
        .sum();
    let in_use: i64 = cache
        .iter()
        .filter(|c| b(c, "InUse") && !b(c, "Shared"))
        .map(|c| int(c, "Size"))
        .sum();
    vec![
        df_row(
            "Images",
            images.len(),
            active_images,
            layers,
            layers - used,
            true,
        ),
        df_row(
            "Containers",
            containers.len(),
            containers.iter().filter(|c| is_active(c)).count(),
            c_size,
            c_reclaim,
            true,
        ),
        df_row(
            "Local Volumes",
            volumes.len(),
            volumes.iter().filter(|v| usage(v, "RefCount") > 0).count(),
            v_size,
            v_reclaim,
            true,
        ),
        df_row(
            "Build Cache",
            cache.len(),
            cache.iter().filter(|c| b(c, "InUse")).count(),
            builder,
            builder - in_use,
            false,
        ),
    ]
}

/// Rows of the verbose view: images, containers, volumes, build cache.
fn df_verbose_rows(du: &Value, trunc: bool) -> [Vec<Value>; 4] {
    let images = list(du, "Images")
        .into_iter()
        .filter_map(|i| {
            let first = i["RepoTags"]
                .as_array()
                .and_then(|t| t.first())
                .and_then(Value::as_str);
            let dangling = matches!(first, None | Some("<none>:<none>"));
            let (mut repo, mut tag) = ("<none>".to_string(), "<none>".to_string());
            if let (false, Some(t)) = (dangling, first) {
                // docker skips images whose first tag does not parse.
                let n = crate::refs::Named::parse(t).ok()?;
                if let Some(t) = n.tag.clone() {
                    repo = n.familiar_name();
                    tag = t;
                }
            }
            Some(crate::images::image_context(i, &repo, &tag, "", trunc))
        })
        .collect();
    let containers = list(du, "Containers")
        .into_iter()
        .map(|c| {
            let mut c = c.clone();
            c["SizeRootFs"] = json!(0);
            crate::containers::ps_context(&c, trunc)
        })
        .collect();
    let volumes = list(du, "Volumes")
        .into_iter()
        .map(|v| {
            let usage = |k: &str| match v["UsageData"].get(k).and_then(Value::as_i64) {
                Some(n) if k == "Size" => fmtutil::human_size(n as f64),
                Some(n) => n.to_string(),
                None => "N/A".into(),
            };
            json!({"Links": usage("RefCount"), "Name": v["Name"].as_str().unwrap_or(""), "Size": usage("Size")})
        })
        .collect();
    let cache = list(du, "BuildCache")
        .into_iter()
        .map(|c| {
            let id = c["ID"].as_str().unwrap_or("");
            let mut id = if trunc {
                fmtutil::truncate_id(id)
            } else {
                id.to_string()
            };
            if c["InUse"].as_bool() == Some(true) {
                id.push('*');
            }
            let since = |k: &str| {
                c[k].as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| fmtutil::since_unix(t.timestamp()))
                    .unwrap_or_default()
            };
            json!({
                "CacheType": c["Type"].as_str().unwrap_or(""),
                "CreatedSince": since("CreatedAt"),
                "ID": id,
                "LastUsedSince": since("LastUsedAt"),
                "Shared": c["Shared"].as_bool().unwrap_or(false).to_string(),
                "Size": fmtutil::human_size_prec(int(c, "Size") as f64, 3),
                "UsageCount": int(c, "UsageCount").to_string(),
            })
        })
        .collect();
    [images, containers, volumes, cache]
}

const DF_IMAGES: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
const DF_CONTAINERS: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
const DF_VOLUMES: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
const DF_CACHE: &str = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}";

fn df_headers() -> Value {
    json!({
        "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE",
        "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
        "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS",
    })
}

/// `system df` output for a `GET /system/df` response.
fn df_render(du: &Value, verbose: bool, format: Option<&str>) -> Result<String, Failure> {
    use crate::containers::render_format;
    let format = format.filter(|f| !f.is_empty()).unwrap_or("table");
    if !verbose {
        let format = match format {
            "table" => "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
            "raw" => "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n",
            f => f,
        };
        return render_format(format, &df_summary(du), &df_headers());
    }
    let [images, containers, volumes, cache] =
        df_verbose_rows(du, format == "table" || format.starts_with("table"));
    if format != "table" {
        // A custom template sees all four lists at once, rendered once.
        let tmpl = if format == "json" {
            "{{json .}}"
        } else {
            format
        };
        let tmpl = tmpl.replace("\\t", "\t").replace("\\n", "\n");
        let mut data = json!({"Images": images, "Containers": containers, "Volumes": volumes, "BuildCache": cache});
        data[crate::template::hidden_key(crate::template::ESCAPE_HTML)] = Value::Bool(true);
        return crate::template::render(tmpl.trim(), &data).map_err(|e| Failure::new(1, e));
    }
    let ps_h = json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
        "Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES",
    });
    let vol_h = json!({"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"});
    let cache_h = json!({
        "ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
        "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED",
    });
    let builder: i64 = list(du, "BuildCache")
        .iter()
        .filter(|c| c["Shared"].as_bool() != Some(true))
        .map(|c| int(c, "Size"))
        .sum();
    let mut out = String::from("Images space usage:\n\n");
    out.push_str(&render_format(DF_IMAGES, &images, &df_headers())?);
    out.push_str("\nContainers space usage:\n\n");
    out.push_str(&render_format(DF_CONTAINERS, &containers, &ps_h)?);
    out.push_str("\nLocal Volumes space usage:\n\n");
    out.push_str(&render_format(DF_VOLUMES, &volumes, &vol_h)?);
    out.push_str(&format!(
        "\nBuild cache usage: {}\n\n",
        fmtutil::human_size(builder as f64)
    ));
    out.push_str(&render_format(DF_CACHE, &cache, &cache_h)?);
    Ok(out)
}

pub async fn df(client: &Client, a: crate::cli::DfArgs) -> CmdResult {
    let du: Value = client.get_json("/system/df", &[]).await?;
    print!("{}", df_render(&du, a.verbose, a.format.as_deref())?);
    Ok(0)
}

/// `berth system dial-stdio`: copies stdin to the daemon's socket and the
/// socket to stdout, as `docker system dial-stdio` (the remote end of an
/// `ssh://` host). The end of stdin half-closes the socket.
pub async fn dial_stdio(client: &Client) -> CmdResult {
    use tokio::io::AsyncWriteExt;
    let stream = client.dial().await?;
    let (mut from, mut to) = tokio::io::split(stream);
    let upstream = async {
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut to).await;
        let _ = to.shutdown().await;
    };
    let downstream = async {
        let mut out = tokio::io::stdout();
        let _ = tokio::io::copy(&mut from, &mut out).await;
        let _ = out.flush().await;
    };
    // The daemon's side decides the end: once it has closed, the client
    // has everything (its stdin may stay open, as a `run` without -i keeps
    // it); stdin ending first only half-closes.
    tokio::pin!(upstream);
    tokio::pin!(downstream);
    tokio::select! {
        _ = &mut downstream => {}
        _ = &mut upstream => downstream.await,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /system/df` from dockerd 20.10 with busybox and one created container.
    fn sample() -> Value {
        json!({
            "LayersSize": 1984234,
            "Images": [{"Containers": 1, "Created": 1700000000, "Id": "sha256:c09c5047069c61b4ad8016c5a2934354575d4d4921ba3ce85895148e558c9756",
                "Labels": null, "ParentId": "", "RepoDigests": ["127.0.0.1:15000/x/y@sha256:1e9a"], "RepoTags": ["127.0.0.1:15000/x/y:v1", "busybox:latest"],
                "SharedSize": 0, "Size": 1984234, "VirtualSize": 1984234}],
            "Containers": [{"Id": "e710d3415aa2dadea502d683798532e4574d6d133eacac006febbee0a2f7f5f0", "Names": ["/c1"], "Image": "busybox",
                "Command": "sh", "Created": 1700000000, "State": "created", "Status": "Created", "SizeRw": 0, "SizeRootFs": 1984234, "Mounts": []}],
            "Volumes": [],
            "BuildCache": []
        })
    }

    #[test]
    fn df_summary_table() {
        let out = df_render(&sample(), false, None).unwrap();
        assert_eq!(
            out,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          1         1         1.984MB   0B (0%)\n\
             Containers      1         0         0B        0B\n\
             Local Volumes   0         0         0B        0B\n\
             Build Cache     0         0         0B        0B\n"
        );
        let json = df_render(&sample(), false, Some("{{json .}}")).unwrap();
        assert_eq!(
            json.lines().next().unwrap(),
            r#"{"Active":"1","Reclaimable":"0B (0%)","Size":"1.984MB","TotalCount":"1","Type":"Images"}"#
        );
        // An unused image is reclaimable.
        let mut du = sample();
        du["Images"][0]["Containers"] = json!(0);
        let rows = df_summary(&du);
        assert_eq!(rows[0]["Reclaimable"], "1.984MB (100%)");
        assert_eq!(rows[0]["Active"], "0");
    }

    #[test]
    fn df_verbose_tables() {
        let out = df_render(&sample(), true, None).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Images space usage:");
        assert!(
            lines[2].starts_with("REPOSITORY            TAG       IMAGE ID       CREATED"),
            "{out}"
        );
        assert!(
            lines[2].ends_with("SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS"),
            "{out}"
        );
        assert!(
            lines[3].starts_with("127.0.0.1:15000/x/y   v1        c09c5047069c   "),
            "{out}"
        );
        assert!(
            lines[3].ends_with("1.98MB    0B            1.984MB       1"),
            "{out}"
        );
        assert_eq!(lines[5], "Containers space usage:");
        assert!(
            lines[7].starts_with(
                "CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED"
            ),
            "{out}"
        );
        assert!(
            lines[8].starts_with("e710d3415aa2   busybox   \"sh\"      0               0B        "),
            "{out}"
        );
        assert!(lines[8].ends_with("Created   c1"), "{out}");
        assert_eq!(lines[10], "Local Volumes space usage:");
        assert_eq!(lines[12], "VOLUME NAME   LINKS     SIZE");
        assert_eq!(lines[14], "Build cache usage: 0B");
        assert_eq!(
            lines[16],
            "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED"
        );
        assert_eq!(lines.len(), 17);
    }
}
