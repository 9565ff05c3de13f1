//! `list`: the containers under the state root.

use anyhow::{Context, Result};
use clap::Args;

use crate::state::StateOutput;
use crate::{common, GlobalOpts};

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Print only the ids.
    #[arg(long, short = 'q', num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub quiet: bool,
}

pub fn list(global: &GlobalOpts, args: ListArgs) -> Result<()> {
    let root = common::root_dir(global)?;
    let mut states = Vec::new();
    if root.exists() {
        let entries =
            std::fs::read_dir(&root).with_context(|| format!("read {}", root.display()))?;
        let mut ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        ids.sort();
        for id in ids {
            // Skip entries that vanish or are not containers.
            if let Ok(c) = common::load_container(&root, &id) {
                states.push(StateOutput::from_container(&c));
            }
        }
    }

    if args.quiet {
        for s in &states {
            println!("{}", s.id);
        }
    } else if args.format == "json" {
        println!("{}", serde_json::to_string(&states)?);
    } else {
        println!(
            "{:<20} {:<8} {:<10} {:<40} {:<32} OWNER",
            "ID", "PID", "STATUS", "BUNDLE", "CREATED"
        );
        for s in &states {
            println!(
                "{:<20} {:<8} {:<10} {:<40} {:<32} {}",
                s.id,
                s.pid,
                s.status,
                s.bundle.display(),
                s.created,
                s.owner
            );
        }
    }
    Ok(())
}
