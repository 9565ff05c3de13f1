//! `create`: set up the container and leave its init process waiting for
//! `start`.
//!
//! The init process is forked from this process and inherits our stdin,
//! stdout and stderr (unless the spec asks for a terminal, in which case the
//! pty master goes to `--console-socket`). When we exit, it is reparented to
//! the nearest child subreaper, normally the shim that ran us.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use nix::unistd::Pid;

use crate::common::{self, Meta};
use crate::executor::{BerthExecutor, LoadSeccomp};
use crate::{spec, GlobalOpts};

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Path to the bundle directory (holding config.json).
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to send the pty master to when process.terminal is true.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Use chroot instead of pivot_root.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_pivot: bool,
    /// Accepted for runc compatibility (no session keyring is created).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_new_keyring: bool,
    /// Pass N extra file descriptors (from fd 3 on) to the container.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: i32,
    /// Container id.
    pub id: String,
}

pub fn create(global: &GlobalOpts, args: CreateArgs) -> Result<()> {
    create_container(
        global,
        &CreateOptions {
            id: &args.id,
            bundle: &args.bundle,
            pid_file: args.pid_file.as_deref(),
            console_socket: args.console_socket.as_deref(),
            no_pivot: args.no_pivot,
            preserve_fds: args.preserve_fds,
        },
    )
    .map(|_| ())
}

pub struct CreateOptions<'a> {
    pub id: &'a str,
    pub bundle: &'a Path,
    pub pid_file: Option<&'a Path>,
    pub console_socket: Option<&'a Path>,
    pub no_pivot: bool,
    pub preserve_fds: i32,
}

/// Creates the container and returns the pid of its init process.
pub fn create_container(global: &GlobalOpts, opts: &CreateOptions) -> Result<Pid> {
    let id = opts.id;
    let root = common::root_dir(global)?;
    let dir = common::container_dir(&root, id)?;
    // Resolve every path before libcontainer starts changing directories.
    let bundle = std::fs::canonicalize(opts.bundle)
        .with_context(|| format!("bundle {}", opts.bundle.display()))?;
    let pid_file = opts.pid_file.map(common::absolute).transpose()?;
    let console_socket = opts.console_socket.map(common::absolute).transpose()?;
    if opts.preserve_fds < 0 {
        bail!("--preserve-fds must not be negative");
    }

    common::ensure_root(&root)?;
    if dir.exists() {
        bail!("container with id {id:?} already exists");
    }

    let shadow_dir = root.join(format!(".{id}.bundle"));
    let prepared = spec::prepare(&bundle, id, &shadow_dir)?;
    // On success the shadow bundle has moved into the container's state
    // directory by the time this drops; on any failure it goes away.
    let _shadow_guard = RemoveDirOnDrop(shadow_dir);
    let terminal_error = match (prepared.terminal, console_socket.is_some()) {
        (true, false) => {
            Some("process.terminal is true: --console-socket is required to receive the pty")
        }
        (false, true) => Some("--console-socket given but process.terminal is false"),
        _ => None,
    };
    if let Some(msg) = terminal_error {
        bail!(msg);
    }

    // Relative paths in the spec (mount sources, hooks) are relative to the
    // bundle, as with runc.
    std::env::set_current_dir(&bundle)
        .with_context(|| format!("change directory to {}", bundle.display()))?;

    // The seccomp profile, compiled once for all containers that share it
    // (libseccomp takes ~15 ms for Docker's default); the executor loads it.
    let seccomp = match &prepared.seccomp {
        Some(profile) => Some(LoadSeccomp {
            compiled: crate::seccomp::compiled(&root, profile)?,
            restore: prepared.restore_caps.clone(),
        }),
        None => None,
    };
    let mut container = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(BerthExecutor { seccomp })
        .with_root_path(&root)?
        .with_console_socket(console_socket.as_ref())
        .with_preserved_fds(opts.preserve_fds)
        .validate_id()?
        .as_init(&prepared.bundle)
        .with_systemd(false)
        .with_detach(true)
        .with_no_pivot(opts.no_pivot)
        .build()
        .map_err(|e| explain(e.into(), &prepared))?;

    match finish(&mut container, &bundle, &prepared, pid_file.as_deref()) {
        Ok(pid) => Ok(pid),
        Err(e) => {
            // Don't leave a half-recorded container behind.
            let _ = container.delete(true);
            Err(e)
        }
    }
}

/// The failure of the container's setup in runc's terms: the step, what it
/// worked on and the OS error.
fn explain(e: anyhow::Error, prepared: &spec::Prepared) -> anyhow::Error {
    let mut msg = common::error_message(&e);
    let why = spec::missing_sysctl(&prepared.sysctls).or_else(|| {
        let detail = crate::logging::failure_detail()?;
        Some(match detail.strip_prefix("failed to chdir") {
            Some(rest) => format!(
                "chdir to cwd ({:?}) set in config.json failed{rest}",
                prepared.cwd
            ),
            None => detail,
        })
    });
    if let Some(why) = why {
        if !msg.contains(&why) {
            msg = format!("{msg}: {why}");
        }
    }
    anyhow::anyhow!(msg)
}

struct RemoveDirOnDrop(PathBuf);

impl Drop for RemoveDirOnDrop {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Records what libcontainer does not and writes the pid file.
fn finish(
    container: &mut Container,
    bundle: &Path,
    prepared: &spec::Prepared,
    pid_file: Option<&Path>,
) -> Result<Pid> {
    if let Some(shadow) = &prepared.shadow {
        // Keep the adjusted spec with the container's state, where `exec`
        // reads it from and `delete` removes it.
        let inside = container.root.join("bundle");
        std::fs::rename(shadow, &inside)
            .with_context(|| format!("move {} into the state directory", shadow.display()))?;
        container.state.bundle = inside;
        container.save()?;
    }
    common::write_meta(
        &container.root,
        &Meta {
            bundle: bundle.to_path_buf(),
            rootfs: prepared.rootfs.clone(),
            oci_version: prepared.oci_version.clone(),
        },
    )?;
    let pid = container
        .pid()
        .map(|p| Pid::from_raw(p.as_raw()))
        .context("libcontainer recorded no init pid")?;
    if prepared.disable_oom_killer {
        spec::disable_oom_killer(&container.spec()?.cgroup_path)?;
    }
    crate::network::bring_up_loopback(pid)?;
    if let Some(path) = pid_file {
        common::write_pid_file(path, pid)?;
    }
    Ok(pid)
}
