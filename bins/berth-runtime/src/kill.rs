//! `kill`: send a signal to the container's init process, or with `--all`
//! to every process in its cgroup.
//!
//! Unlike libcontainer's `Container::kill`, this does not record the
//! container as stopped: the status is always derived from the init process
//! (a signal that is caught or ignored must not make a container "stopped").

use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use libcgroups::common::{CgroupConfig, CgroupManager, FreezerState};
use libcontainer::container::{Container, ContainerStatus};

use crate::{common, GlobalOpts};

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal every process in the container's cgroup.
    #[arg(long, short = 'a', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub all: bool,
    /// Container id.
    pub id: String,
    /// Signal name (TERM, SIGTERM, KILL, RTMIN+1, ...) or number.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

/// Parses a signal as runc does: a number, or a name with or without "SIG",
/// in any case.
pub fn parse_signal(s: &str) -> Result<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        if (1..=libc::SIGRTMAX()).contains(&n) {
            return Ok(n);
        }
        bail!("invalid signal number {n}");
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rest) = name.strip_prefix("RTMIN") {
        let off = parse_offset(rest, '+').ok_or_else(|| anyhow!("invalid signal {s:?}"))?;
        let n = libc::SIGRTMIN() + off;
        if n <= libc::SIGRTMAX() {
            return Ok(n);
        }
        bail!("invalid signal {s:?}");
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        let off = parse_offset(rest, '-').ok_or_else(|| anyhow!("invalid signal {s:?}"))?;
        let n = libc::SIGRTMAX() - off;
        if n >= libc::SIGRTMIN() {
            return Ok(n);
        }
        bail!("invalid signal {s:?}");
    }
    nix::sys::signal::Signal::from_str(&format!("SIG{name}"))
        .map(|sig| sig as i32)
        .map_err(|_| anyhow!("unknown signal {s:?}"))
}

fn parse_offset(rest: &str, sign: char) -> Option<i32> {
    if rest.is_empty() {
        return Some(0);
    }
    rest.strip_prefix(sign)?.parse().ok()
}

fn send(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        // Already gone.
        return Ok(());
    }
    Err(err)
}

/// Signals every process in the container's cgroup, freezing it meanwhile
/// so that nothing forks past the signal.
pub fn signal_all(container: &Container, sig: i32) -> Result<()> {
    let config = container.spec().context("load container config")?;
    let manager = libcgroups::common::create_cgroup_manager(CgroupConfig {
        cgroup_path: config.cgroup_path,
        systemd_cgroup: container.systemd(),
        container_name: container.id().to_string(),
    })
    .context("open container cgroup")?;
    let frozen = manager.freeze(FreezerState::Frozen).is_ok();
    let result = (|| -> Result<()> {
        let pids = manager.get_all_pids().context("list container processes")?;
        for pid in pids {
            send(pid.as_raw(), sig).with_context(|| format!("signal process {pid}"))?;
        }
        Ok(())
    })();
    if frozen {
        let _ = manager.freeze(FreezerState::Thawed);
    }
    result
}

pub fn kill(global: &GlobalOpts, args: KillArgs) -> Result<()> {
    let sig = parse_signal(&args.signal)?;
    let root = common::root_dir(global)?;
    let container = common::load_container(&root, &args.id)?;
    if args.all {
        return signal_all(&container, sig);
    }
    match container.status() {
        ContainerStatus::Created | ContainerStatus::Running | ContainerStatus::Paused => {}
        _ => bail!("container not running"),
    }
    let pid = container
        .pid()
        .context("container has no init pid")?
        .as_raw();
    send(pid, sig).with_context(|| format!("signal init process {pid}"))
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("RTMIN+2").unwrap(), libc::SIGRTMIN() + 2);
        assert_eq!(parse_signal("SIGRTMAX").unwrap(), libc::SIGRTMAX());
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
    }
}
