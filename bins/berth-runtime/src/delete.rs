//! `delete`: remove a container's cgroup and state (killing it first when
//! it is only created, or with `--force`), then run the poststop hooks.
//!
//! As the runtime spec asks (and runc does), a failing poststop hook is a
//! warning: the container is gone all the same. libcontainer would run the
//! hooks before removing the state and stop at a failure, so a container
//! with a failing poststop hook could never be deleted; berth-runtime takes
//! the hooks out of libcontainer's hands and runs them itself afterwards,
//! with the state's `bundle` the caller's bundle directory.

use anyhow::{bail, Context, Result};
use clap::Args;
use libcontainer::container::ContainerStatus;

use crate::{common, state, GlobalOpts};

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Kill the container first if it is still running.
    #[arg(long, short = 'f', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    /// Container id.
    pub id: String,
}

pub fn delete(global: &GlobalOpts, args: DeleteArgs) -> Result<()> {
    let root = common::root_dir(global)?;
    let dir = common::container_dir(&root, &args.id)?;
    // A failed create can leave a shadow bundle without a container.
    let _ = std::fs::remove_dir_all(root.join(format!(".{}.bundle", args.id)));
    if !dir.exists() {
        if args.force {
            return Ok(());
        }
        bail!("container {:?} does not exist", args.id);
    }
    if !dir.join("state.json").exists() {
        // Left over by a create that died before recording anything.
        return std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()));
    }
    let mut container = common::load_container(&root, &args.id)?;
    match container.status() {
        ContainerStatus::Stopped | ContainerStatus::Created => {}
        s if args.force => {
            tracing::debug!(status = state::status_str(s), "force-deleting container");
        }
        s => bail!(
            "cannot delete container {:?} that is not stopped: {}",
            args.id,
            state::status_str(s)
        ),
    }
    let poststop = take_poststop_hooks(&dir)?;
    let mut state = serde_json::to_value(&container.state).unwrap_or_default();
    if let Some(meta) = common::read_meta(&dir) {
        state["bundle"] = serde_json::json!(meta.bundle);
    }
    state["status"] = "stopped".into();
    container
        .delete(args.force)
        .with_context(|| format!("delete container {:?}", args.id))?;
    for hook in poststop {
        if let Err(e) = run_hook(&hook, &state) {
            crate::logging::warn(&format!("poststop hook failed: {e}"));
        }
    }
    Ok(())
}

/// Removes the poststop hooks from libcontainer's saved config (so its
/// delete does not run them) and returns them.
fn take_poststop_hooks(dir: &std::path::Path) -> Result<Vec<serde_json::Value>> {
    let path = dir.join("youki_config.json");
    let Ok(data) = std::fs::read(&path) else {
        return Ok(vec![]);
    };
    let mut cfg: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
    let hooks = cfg
        .pointer_mut("/hooks/poststop")
        .map(serde_json::Value::take)
        .and_then(|h| h.as_array().cloned())
        .unwrap_or_default();
    if !hooks.is_empty() {
        common::atomic_write(&path, &serde_json::to_vec(&cfg)?)?;
    }
    Ok(hooks)
}

/// Runs one OCI hook (`path`, `args`, `env`, `timeout`) with the state on
/// its stdin.
fn run_hook(hook: &serde_json::Value, state: &serde_json::Value) -> Result<()> {
    let path = hook["path"].as_str().context("a hook without a path")?;
    let strings = |v: &serde_json::Value| -> Option<Vec<String>> {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
    };
    let args = strings(&hook["args"]).unwrap_or_default();
    let env = strings(&hook["env"]);
    let st = crate::hook_relay::run_with_state(
        path,
        &args,
        env.as_deref(),
        state,
        hook["timeout"].as_u64(),
    )?;
    if !st.success() {
        bail!("{path}: {st}");
    }
    Ok(())
}
