//! `berth-shim`: the per-container supervisor. See the `shim` crate.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "berth-shim", about = "per-container supervisor for berthd")]
struct Args {
    #[arg(long)]
    id: String,
    #[arg(long)]
    bundle: PathBuf,
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long)]
    runtime: PathBuf,
    #[arg(long)]
    runtime_root: Option<PathBuf>,
    #[arg(long)]
    log_path: PathBuf,
    #[arg(long)]
    tty: bool,
    #[arg(long)]
    stdin: bool,
}

fn main() {
    let a = Args::parse();
    std::process::exit(shim::server::run(shim::server::Options {
        id: a.id,
        bundle: a.bundle,
        state_dir: a.state_dir,
        runtime: a.runtime,
        runtime_root: a.runtime_root,
        log_path: a.log_path,
        tty: a.tty,
        stdin: a.stdin,
    }));
}
