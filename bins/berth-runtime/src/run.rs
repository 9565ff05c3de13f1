//! `run`: `create` + `start`, then (unless `--detach`) wait for the
//! container's init process, pass signals on to it, delete the container
//! and exit with the init's exit code.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use libcontainer::container::ContainerStatus;

use crate::create::{create_container, CreateOptions};
use crate::tty::ConsoleListener;
use crate::{common, tty, GlobalOpts};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Path to the bundle directory (holding config.json).
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to send the pty master to when process.terminal is true.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Exit after starting the container instead of waiting for it.
    #[arg(long, short = 'd', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub keep: bool,
    /// Use chroot instead of pivot_root.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_new_keyring: bool,
    /// Pass N extra file descriptors (from fd 3 on) to the container.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: i32,
    /// Container id.
    pub id: String,
}

fn wants_terminal(bundle: &std::path::Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
        .and_then(|v| v.pointer("/process/terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}

pub fn run(global: &GlobalOpts, args: RunArgs) -> Result<i32> {
    let root = common::root_dir(global)?;
    let bundle = common::absolute(&args.bundle)?;
    let terminal = wants_terminal(&bundle);
    if terminal && args.detach && args.console_socket.is_none() {
        bail!("cannot allocate a terminal in detached mode without --console-socket");
    }
    let own_console = if terminal && args.console_socket.is_none() {
        common::ensure_root(&root)?;
        Some(ConsoleListener::bind(&root)?)
    } else {
        None
    };
    let console_socket = match &own_console {
        Some(l) => Some(l.path().to_path_buf()),
        None => args.console_socket.clone(),
    };

    let pid = create_container(
        global,
        &CreateOptions {
            id: &args.id,
            bundle: &bundle,
            pid_file: args.pid_file.as_deref(),
            console_socket: console_socket.as_deref(),
            no_pivot: args.no_pivot,
            preserve_fds: args.preserve_fds,
        },
    )?;
    let master = own_console.as_ref().map(|l| l.receive_master()).transpose();

    let mut container = common::load_container(&root, &args.id)?;
    let started = master.and_then(|m| {
        container
            .start()
            .with_context(|| format!("start container {:?}", args.id))?;
        Ok(m)
    });
    let master = match started {
        Ok(m) => m,
        Err(e) => {
            let _ = container.delete(true);
            return Err(e);
        }
    };
    drop(own_console);
    if args.detach {
        return Ok(0);
    }

    let code = match master {
        Some(m) => tty::proxy_and_wait(m, pid)?,
        None => common::wait_forwarding(pid, None)?,
    };
    if !args.keep {
        let mut container = common::load_container(&root, &args.id)?;
        if container.status() != ContainerStatus::Stopped {
            tracing::warn!("container init exited but state is not stopped");
        }
        container
            .delete(true)
            .with_context(|| format!("delete container {:?}", args.id))?;
    }
    Ok(code)
}
