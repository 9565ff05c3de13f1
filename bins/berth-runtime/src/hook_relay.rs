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
    let mut cmd = std::process::Command::new(path);
    if let Some((arg0, rest)) = args.split_first() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, arg0);
        cmd.args(rest);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("start hook {path}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    let st = child.wait()?;
    Ok(st.code().unwrap_or(1))
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
