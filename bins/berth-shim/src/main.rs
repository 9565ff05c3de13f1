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
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().is_some_and(|c| c.starts_with("archive-")) {
        // docker cp: one chrooted archive operation, then exit.
        std::process::exit(shim::archive::main(&argv));
    }
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
