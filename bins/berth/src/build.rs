//! `berth build`: the context (honouring `.dockerignore` as the docker CLI
//! does) sent to the legacy `POST /build`, and its stream shown.

use crate::cli::BuildArgs;
use crate::progress::{self, Target};
use crate::{CmdResult, Failure};
use api_client::{Body, Client, HttpMethod as Method};
use builder::dockerignore::{DirMatch, Patterns};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(1, msg)
}

/// The context directory as a tar, without what `.dockerignore` excludes
/// (the Dockerfile and `.dockerignore` are always sent).
fn context_tar(dir: &Path, dockerfile: &str) -> Result<Vec<u8>, Failure> {
    let mut patterns = match std::fs::read_to_string(dir.join(".dockerignore")) {
        Ok(t) => Patterns::parse(&t)
            .map_err(|e| fail(format!("error checking context: {}", e.message)))?,
        Err(_) => Patterns::parse("").map_err(|e| fail(e.message))?,
    };
    patterns.keep_build_files(dockerfile, false);
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    fn walk(
        b: &mut tar::Builder<Vec<u8>>,
        dir: &Path,
        rel: &Path,
        p: &Patterns,
        parent: &DirMatch,
    ) -> std::io::Result<()> {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(rel))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for n in names {
            let r = rel.join(&n);
            let rs = r.to_string_lossy().into_owned();
            let (excluded, m) = p.walk_excluded(&rs, parent);
            let full = dir.join(&r);
            let meta = std::fs::symlink_metadata(&full)?;
            if meta.is_dir() {
                if !excluded {
                    b.append_path_with_name(&full, &r)?;
                }
                if !excluded || p.needs_walk_into(&rs) {
                    walk(b, dir, &r, p, &m)?;
                }
            } else if !excluded {
                b.append_path_with_name(&full, &r)?;
            }
        }
        Ok(())
    }
    walk(&mut b, dir, Path::new(""), &patterns, &DirMatch::default())
        .map_err(|e| fail(format!("error checking context: {e}")))?;
    b.into_inner().map_err(|e| fail(e.to_string()))
}

/// A Dockerfile read from stdin, alone in a context.
fn stdin_context() -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    std::io::stdin()
        .read_to_end(&mut data)
        .map_err(|e| fail(e.to_string()))?;
    if data.len() > 262 && &data[257..262] == b"ustar" {
        return Ok(data);
    }
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_data(&mut h, "Dockerfile", data.as_slice())
        .map_err(|e| fail(e.to_string()))?;
    b.into_inner().map_err(|e| fail(e.to_string()))
}

pub async fn build(client: &Client, a: BuildArgs) -> CmdResult {
    let (tar, dockerfile) = if a.path == "-" {
        (stdin_context()?, "Dockerfile".to_string())
    } else {
        let dir = PathBuf::from(&a.path);
        if !dir.is_dir() {
            return Err(fail(format!(
                "unable to prepare context: path {:?} not found",
                a.path
            )));
        }
        let file = a.file.clone().unwrap_or_else(|| "Dockerfile".into());
        let rel = match Path::new(&file).strip_prefix(&dir) {
            Ok(r) => r.to_path_buf(),
            Err(_) if Path::new(&file).is_absolute() => {
                return Err(fail(
                    "berth build: a Dockerfile outside the context is not supported yet",
                ))
            }
            Err(_) => PathBuf::from(&file),
        };
        let rel = rel.to_string_lossy().into_owned();
        if !dir.join(&rel).is_file() {
            return Err(fail(format!(
                "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: no such file or directory",
                dir.join(&rel).display()
            )));
        }
        (context_tar(&dir, &rel)?, rel)
    };
    let mut args = serde_json::Map::new();
    for kv in &a.build_arg {
        match kv.split_once('=') {
            Some((k, v)) => args.insert(k.into(), v.into()),
            // `--build-arg NAME` takes the value from the environment.
            None => args.insert(kv.clone(), std::env::var(kv).ok().into()),
        };
    }
    let mut labels = serde_json::Map::new();
    for kv in &a.label {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        labels.insert(k.into(), v.into());
    }
    let args = serde_json::Value::Object(args).to_string();
    let labels = serde_json::Value::Object(labels).to_string();
    let mut q: Vec<(&str, &str)> = vec![
        ("dockerfile", &dockerfile),
        ("buildargs", &args),
        ("labels", &labels),
        ("rm", if a.rm { "1" } else { "0" }),
        ("forcerm", if a.force_rm { "1" } else { "0" }),
        ("nocache", if a.no_cache { "1" } else { "0" }),
        ("q", if a.quiet { "1" } else { "0" }),
    ];
    for t in &a.tag {
        q.push(("t", t));
    }
    if let Some(t) = &a.target {
        q.push(("target", t));
    }
    if a.pull {
        q.push(("pull", "1"));
    }
    if let Some(n) = &a.network {
        q.push(("networkmode", n));
    }
    if let Some(p) = &a.platform {
        q.push(("platform", p));
    }
    let bytes = |v: &Option<String>, flag: &str| -> Result<Option<String>, Failure> {
        v.as_deref()
            .map(|s| {
                crate::network::bytes_flag("build [OPTIONS] PATH | URL | -", s, flag)
                    .map(|n| n.to_string())
            })
            .transpose()
    };
    let numbers = [
        ("memory", bytes(&a.memory, "-m, --memory")?),
        ("memswap", bytes(&a.memory_swap, "--memory-swap")?),
        ("shmsize", bytes(&a.shm_size, "--shm-size")?),
        ("cpushares", a.cpu_shares.map(|n| n.to_string())),
        ("cpuperiod", a.cpu_period.map(|n| n.to_string())),
        ("cpuquota", a.cpu_quota.map(|n| n.to_string())),
        ("cpusetcpus", a.cpuset_cpus.clone()),
    ];
    for (k, v) in &numbers {
        if let Some(v) = v {
            q.push((k, v));
        }
    }
    for h in &a.add_host {
        q.push(("extrahosts", h));
    }
    let cache_from = serde_json::to_string(&a.cache_from).unwrap_or_default();
    if !a.cache_from.is_empty() {
        q.push(("cachefrom", &cache_from));
    }
    if !a.quiet {
        let size = crate::fmtutil::human_size(tar.len() as f64);
        let mut o = std::io::stdout().lock();
        let _ = write!(o, "Sending build context to Docker daemon  {size}\r\r\n");
    }
    let resp = client
        .stream(
            Method::POST,
            "/build",
            &q,
            Body::bytes(tar, "application/x-tar"),
        )
        .await?;
    let target = if a.quiet {
        Target::Discard
    } else {
        Target::Stdout
    };
    let msgs = progress::consume(resp, target).await.map_err(fail)?;
    let id = msgs
        .iter()
        .rev()
        .find_map(|m| m["aux"]["ID"].as_str().map(String::from))
        .unwrap_or_default();
    if a.quiet && !id.is_empty() {
        println!("{id}");
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, &id)
            .map_err(|e| fail(format!("failed to write the image ID file: {e}")))?;
    }
    Ok(0)
}
