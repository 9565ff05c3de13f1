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
    /// Rotate the json-file log at this size (0: never).
    #[arg(long, default_value_t = 0)]
    log_max_size: u64,
    /// How many log files to keep, the current one included.
    #[arg(long, default_value_t = 1)]
    log_max_file: u32,
    /// gzip the rotated log files (`<log>.1.gz`, ...).
    #[arg(long)]
    log_compress: bool,
    /// Keep no log at all (`--log-driver none`).
    #[arg(long)]
    no_log: bool,
    #[arg(long)]
    tty: bool,
    #[arg(long)]
    stdin: bool,
    /// Create the container at the daemon's `start`, with the start, in
    /// one runtime `run --detach` (not with `--tty`).
    #[arg(long)]
    create_at_start: bool,
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
        log_max_size: a.log_max_size,
        log_max_file: a.log_max_file.max(1),
        log_compress: a.log_compress,
        no_log: a.no_log,
        tty: a.tty,
        stdin: a.stdin,
        create_at_start: a.create_at_start,
    }));
}
