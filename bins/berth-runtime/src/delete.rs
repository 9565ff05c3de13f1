//! `delete`: remove a container's cgroup and state (killing it first when
//! it is only created, or with `--force`).

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
    container
        .delete(args.force)
        .with_context(|| format!("delete container {:?}", args.id))
}
