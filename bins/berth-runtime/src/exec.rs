//! `exec`: run another process in a running container's namespaces and
//! cgroup.
//!
//! The process is described either by `--process FILE` (an OCI process
//! object, as shims pass it) or by the container's own process with the
//! command line's overrides (args, `--tty`, `--cwd`, `--env`, `--user`, ...),
//! as runc does. Either way it goes to libcontainer as a process file.
//!
//! With `--detach` we exit once the process runs and it is reparented to the
//! caller (a child subreaper); otherwise we wait for it and exit with its
//! exit code.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::ContainerStatus;
use libcontainer::syscall::syscall::SyscallType;
use nix::unistd::Pid;
use serde_json::Value;

use libcontainer::oci_spec::runtime::LinuxSeccomp;

use crate::executor::{BerthExecutor, LoadSeccomp};
use crate::tty::ConsoleListener;
use crate::{common, spec, state, tty, GlobalOpts};

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// JSON file describing the process (overrides the other options).
    #[arg(long, short = 'p')]
    pub process: Option<PathBuf>,
    /// Write the process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Don't wait for the process; exit once it runs.
    #[arg(long, short = 'd', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub detach: bool,
    /// Unix socket to send the pty master to when the process has a terminal.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Allocate a pseudo-terminal.
    #[arg(long, short = 't', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub tty: bool,
    /// Working directory inside the container.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set an environment variable (KEY=VALUE); repeatable.
    #[arg(long, short = 'e')]
    pub env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Additional group id; repeatable.
    #[arg(long, short = 'g')]
    pub additional_gids: Vec<u32>,
    /// Add a capability (CAP_...); repeatable.
    #[arg(long, short = 'c')]
    pub cap: Vec<String>,
    /// Set no_new_privileges for the process.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_new_privs: bool,
    /// AppArmor profile for the process.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Pass N extra file descriptors (from fd 3 on) to the process.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: i32,
    /// Accepted for runc compatibility.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub ignore_paused: bool,
    /// Container id.
    pub id: String,
    /// Command and arguments (when --process is not given).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Removes the temporary process file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn set_env(env: &mut Vec<Value>, entry: &str) {
    let key = entry.split('=').next().unwrap_or(entry);
    env.retain(|e| {
        e.as_str()
            .map(|s| s.split('=').next().unwrap_or(s) != key)
            .unwrap_or(true)
    });
    env.push(Value::String(entry.to_string()));
}

/// Builds the process object from the container's process and the options.
fn process_from_args(args: &ExecArgs, bundle: &Path) -> Result<Value> {
    if args.args.is_empty() {
        bail!("exec: no command given (pass args or --process)");
    }
    let config_path = bundle.join("config.json");
    let config: Value = serde_json::from_slice(
        &std::fs::read(&config_path).with_context(|| format!("read {}", config_path.display()))?,
    )
    .with_context(|| format!("parse {}", config_path.display()))?;
    let mut p = config
        .get("process")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| serde_json::json!({"cwd": "/", "user": {"uid": 0, "gid": 0}}));

    p["args"] = serde_json::json!(args.args);
    p["terminal"] = Value::Bool(args.tty);
    if let Some(obj) = p.as_object_mut() {
        obj.remove("consoleSize");
    }
    if let Some(cwd) = &args.cwd {
        p["cwd"] = Value::String(cwd.to_string_lossy().into_owned());
    }
    if !args.env.is_empty() {
        let mut env = p
            .get("env")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for e in &args.env {
            set_env(&mut env, e);
        }
        p["env"] = Value::Array(env);
    }
    if let Some(user) = &args.user {
        let (uid, gid) = match user.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (user.as_str(), None),
        };
        let uid: u32 = uid
            .parse()
            .with_context(|| format!("--user {user:?}: uid must be numeric"))?;
        p["user"]["uid"] = uid.into();
        if let Some(g) = gid {
            let gid: u32 = g
                .parse()
                .with_context(|| format!("--user {user:?}: gid must be numeric"))?;
            p["user"]["gid"] = gid.into();
        }
    }
    if !args.additional_gids.is_empty() {
        p["user"]["additionalGids"] = serde_json::json!(args.additional_gids);
    }
    if !args.cap.is_empty() {
        for set in ["bounding", "effective", "permitted"] {
            let mut caps = p
                .pointer(&format!("/capabilities/{set}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for c in &args.cap {
                let c = c.to_ascii_uppercase();
                let c = if c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                };
                if !caps.iter().any(|v| v.as_str() == Some(&c)) {
                    caps.push(Value::String(c));
                }
            }
            p["capabilities"][set] = Value::Array(caps);
        }
    }
    if args.no_new_privs {
        p["noNewPrivileges"] = Value::Bool(true);
    }
    if let Some(profile) = &args.apparmor {
        p["apparmorProfile"] = Value::String(profile.clone());
    }
    Ok(p)
}

/// The container's seccomp profile for an exec (libcontainer leaves it out
/// of an exec's spec; the executor loads it, compiled ahead): the one kept
/// beside the adjusted spec, or the spec's own. Unless the process has
/// no_new_privs, loading it takes CAP_SYS_ADMIN, and dropping that from
/// the bounding set CAP_SETPCAP: both are added to the process's sets here
/// and its own are restored once the profile is loaded.
fn container_seccomp(
    root: &Path,
    bundle: &Path,
    process: &mut Value,
) -> Result<Option<LoadSeccomp>> {
    let kept = bundle.join(spec::SECCOMP_FILE);
    let profile: LinuxSeccomp = match std::fs::read(&kept) {
        Ok(data) => {
            serde_json::from_slice(&data).with_context(|| format!("read {}", kept.display()))?
        }
        Err(_) => {
            let config = bundle.join("config.json");
            let spec = libcontainer::oci_spec::runtime::Spec::load(&config)
                .with_context(|| format!("read {}", config.display()))?;
            match spec.linux().as_ref().and_then(|l| l.seccomp().clone()) {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    if !crate::seccomp::cacheable(&profile) {
        bail!(
            "exec in a container whose seccomp profile notifies (SCMP_ACT_NOTIFY) is not supported"
        );
    }
    let compiled = crate::seccomp::compiled(root, &profile)?;
    let restore = spec::widen_for_seccomp(process)?;
    Ok(Some(LoadSeccomp { compiled, restore }))
}

pub fn exec(global: &GlobalOpts, args: ExecArgs) -> Result<i32> {
    let root = common::root_dir(global)?;
    let pid_file = args.pid_file.as_deref().map(common::absolute).transpose()?;
    let console_socket = args
        .console_socket
        .as_deref()
        .map(common::absolute)
        .transpose()?;
    if args.preserve_fds < 0 {
        bail!("--preserve-fds must not be negative");
    }

    let container = common::load_container(&root, &args.id)?;
    match container.status() {
        ContainerStatus::Running => {}
        ContainerStatus::Stopped => bail!("cannot exec in a stopped container"),
        s => bail!(
            "cannot exec in a container that is {}",
            state::status_str(s)
        ),
    }

    let mut process = match &args.process {
        Some(path) => {
            let data = std::fs::read(path)
                .with_context(|| format!("read process file {}", path.display()))?;
            serde_json::from_slice::<Value>(&data)
                .with_context(|| format!("parse process file {}", path.display()))?
        }
        None => process_from_args(&args, container.bundle())?,
    };
    if !process.is_object() {
        bail!("process must be a JSON object");
    }
    spec::clamp_rlimits(&mut process);
    let terminal = process
        .get("terminal")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    // Who receives the pty master: the caller's socket, or (attached with
    // no socket) our own proxy.
    let mut own_console = None;
    let console_path = match (terminal, &console_socket) {
        (false, Some(_)) => {
            bail!("--console-socket given but the process has no terminal")
        }
        (false, None) => None,
        (true, Some(p)) => Some(p.clone()),
        (true, None) if args.detach => {
            bail!("cannot allocate a terminal in detached mode without --console-socket")
        }
        (true, None) => {
            let l = ConsoleListener::bind(&container.root)?;
            let p = l.path().to_path_buf();
            own_console = Some(l);
            Some(p)
        }
    };

    let seccomp = container_seccomp(&root, container.bundle(), &mut process)?;
    let process_file = TempFile(
        container
            .root
            .join(format!("exec-{}.process.json", std::process::id())),
    );
    common::atomic_write(&process_file.0, &serde_json::to_vec(&process)?)?;

    let executor = BerthExecutor { seccomp };
    let pid = ContainerBuilder::new(args.id.clone(), SyscallType::default())
        .with_executor(executor)
        .with_root_path(&root)?
        .with_console_socket(console_path.as_ref())
        .with_preserved_fds(args.preserve_fds)
        .validate_id()?
        .as_tenant()
        // libcontainer only uses this to insist on a console socket for a
        // terminal; we always hand it one in that case.
        .with_detach(terminal)
        .with_process(Some(&process_file.0))
        .build()
        .map_err(|e| {
            // libcontainer words every failure as one to create a container.
            let msg = common::error_message(&e.into());
            anyhow::anyhow!(
                "exec failed: {}",
                msg.trim_start_matches("failed to create container: ")
            )
        })?;
    let pid = Pid::from_raw(pid.as_raw());
    drop(process_file);

    if let Some(path) = &pid_file {
        common::write_pid_file(path, pid)?;
    }
    if args.detach {
        return Ok(0);
    }
    match own_console {
        Some(listener) => {
            let master = listener.receive_master()?;
            drop(listener);
            tty::proxy_and_wait(master, pid)
        }
        None => common::wait_forwarding(pid, None),
    }
}
