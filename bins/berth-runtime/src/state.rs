//! `state`: print a container's state in runc's JSON shape.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use libcontainer::container::{Container, ContainerStatus};
use serde::Serialize;

use crate::{common, GlobalOpts};

#[derive(Args, Debug)]
pub struct StateArgs {
    /// Container id.
    pub id: String,
}

/// runc's `state` output.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct StateOutput {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: &'static str,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<HashMap<String, String>>,
}

pub fn status_str(status: ContainerStatus) -> &'static str {
    match status {
        ContainerStatus::Creating => "creating",
        ContainerStatus::Created => "created",
        ContainerStatus::Running => "running",
        ContainerStatus::Stopped => "stopped",
        ContainerStatus::Paused => "paused",
    }
}

impl StateOutput {
    pub fn from_container(container: &Container) -> Self {
        let state = &container.state;
        let meta = common::read_meta(&container.root);
        let status = container.status();
        let (bundle, rootfs, oci_version) = match meta {
            Some(m) => (m.bundle, m.rootfs, m.oci_version),
            None => (
                state.bundle.clone(),
                state.bundle.join("rootfs"),
                state.oci_version.clone(),
            ),
        };
        StateOutput {
            oci_version,
            id: state.id.clone(),
            // As runc: no pid once the process is gone.
            pid: if status == ContainerStatus::Stopped {
                0
            } else {
                state.pid.unwrap_or(0)
            },
            status: status_str(status),
            bundle,
            rootfs,
            created: state
                .created
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
                .unwrap_or_default(),
            owner: container
                .creator()
                .map(|o| o.to_string_lossy().into_owned())
                .unwrap_or_default(),
            annotations: state.annotations.clone().filter(|a| !a.is_empty()),
        }
    }
}

pub fn state(global: &GlobalOpts, args: StateArgs) -> Result<()> {
    let root = common::root_dir(global)?;
    let container = common::load_container(&root, &args.id)?;
    let out = StateOutput::from_container(&container);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
