//! `hook-relay` (hidden): runs an OCI hook with the state it is given on
//! stdin, its `bundle` set to the caller's bundle directory.
//!
//! When berth-runtime has to adjust a spec (a default cgroupsPath, rlimits
//! above the hard limit), libcontainer runs the container from an adjusted
//! copy of the bundle, and would tell the hooks that copy's path. The
//! copy's hooks are routed through this verb instead, so hooks see the
//! bundle their caller gave, as with runc.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct HookRelayArgs {
    /// The caller's bundle directory.
    #[arg(long)]
    pub bundle: PathBuf,
    /// The hook's path and its args (args[0] first).
    #[arg(last = true, required = true)]
    pub hook: Vec<String>,
}

/// The exit code is the hook's.
pub fn relay(a: HookRelayArgs) -> Result<i32> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let mut state: serde_json::Value = serde_json::from_str(&input).unwrap_or_default();
    if state.is_object() {
        state["bundle"] = serde_json::json!(a.bundle);
    }
    let (path, args) = a.hook.split_first().context("no hook given")?;
    let st = run_with_state(path, args, None, &state, None)?;
    Ok(st.code().unwrap_or(1))
}

/// Runs a hook: `path` with `args` (args[0] as its argv[0]), `env` when
/// given (else ours), the state on its stdin, killed after `timeout`
/// seconds.
pub fn run_with_state(
    path: &str,
    args: &[String],
    env: Option<&[String]>,
    state: &serde_json::Value,
    timeout: Option<u64>,
) -> Result<std::process::ExitStatus> {
    let mut cmd = std::process::Command::new(path);
    if let Some((arg0, rest)) = args.split_first() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, arg0);
        cmd.args(rest);
    }
    if let Some(env) = env {
        cmd.env_clear();
        for e in env {
            if let Some((k, v)) = e.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("start hook {path}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    let deadline = timeout.map(|s| std::time::Instant::now() + std::time::Duration::from_secs(s));
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("{path}: timed out");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A hook of the spec, routed through `hook-relay` with `bundle`.
pub fn wrap(
    hook: &serde_json::Value,
    relay: &std::path::Path,
    bundle: &std::path::Path,
) -> serde_json::Value {
    let mut out = hook.clone();
    let path = hook["path"].as_str().unwrap_or_default().to_string();
    let args: Vec<serde_json::Value> = hook["args"].as_array().cloned().unwrap_or_default();
    let mut argv = vec![
        serde_json::json!("berth-runtime"),
        serde_json::json!("hook-relay"),
        serde_json::json!("--bundle"),
        serde_json::json!(bundle),
        serde_json::json!("--"),
        serde_json::json!(path),
    ];
    if args.is_empty() {
        argv.push(serde_json::json!(path));
    } else {
        argv.extend(args);
    }
    out["path"] = serde_json::json!(relay);
    out["args"] = serde_json::Value::Array(argv);
    out
}
