//! `start`: let a created container's init process exec its program.

use anyhow::{bail, Context, Result};
use clap::Args;
use libcontainer::container::ContainerStatus;

use crate::{common, GlobalOpts};

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Container id.
    pub id: String,
}

pub fn start(global: &GlobalOpts, args: StartArgs) -> Result<()> {
    let root = common::root_dir(global)?;
    let mut container = common::load_container(&root, &args.id)?;
    match container.status() {
        ContainerStatus::Created => {}
        ContainerStatus::Stopped => bail!("cannot start a container that has stopped"),
        ContainerStatus::Running => bail!("cannot start an already running container"),
        other => bail!(
            "cannot start a container in the {} state",
            crate::state::status_str(other)
        ),
    }
    container
        .start()
        .with_context(|| format!("start container {:?}", args.id))
}
