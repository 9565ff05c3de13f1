//! Images of another CPU architecture, run through QEMU's user mode: the
//! daemon registers the interpreters of Debian's `qemu-user-static` (its
//! `binfmt.d` entries) with binfmt_misc at start, with the `F` flag, so the
//! kernel opens the interpreter once, at registration, and it works in
//! every container's mount namespace. Registration is idempotent and
//! leaves entries registered by others alone; daemon.json's `emulation:
//! false` turns it off.
//!
//! It lives in the daemon (not a `berth` subcommand) because it must hold
//! before any container starts, including the ones a restart policy brings
//! back when the daemon starts, and Docker Desktop users expect no step of
//! their own.

use base::{Error, Result};
use std::path::{Path, PathBuf};

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// Where the packages' registrations are described.
const CONF_DIRS: [&str; 2] = ["/usr/lib/binfmt.d", "/etc/binfmt.d"];

/// QEMU's names for the architectures, as OCI platforms.
const PLATFORMS: [(&str, &str); 10] = [
    ("aarch64", "linux/arm64"),
    ("arm", "linux/arm/v7"),
    ("riscv64", "linux/riscv64"),
    ("ppc64le", "linux/ppc64le"),
    ("s390x", "linux/s390x"),
    ("mips64el", "linux/mips64le"),
    ("i386", "linux/386"),
    ("x86_64", "linux/amd64"),
    ("loongarch64", "linux/loong64"),
    ("mipsel", "linux/mipsle"),
];

/// One `binfmt.d` line: `:name:type:offset:magic:mask:interpreter:flags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub interpreter: PathBuf,
    /// The line to write to `register`, with the `F` flag.
    pub line: String,
}

impl Entry {
    pub fn parse(line: &str) -> Option<Entry> {
        let line = line.trim();
        let sep = line.chars().next()?;
        let f: Vec<&str> = line[1..].split(sep).collect();
        if f.len() < 6 || f[0].is_empty() {
            return None;
        }
        let mut flags = f.get(6).copied().unwrap_or("").to_string();
        if !flags.contains('F') {
            flags.push('F');
        }
        let mut fields: Vec<String> = f[..6].iter().map(|s| s.to_string()).collect();
        fields.push(flags);
        Some(Entry {
            name: f[0].to_string(),
            interpreter: PathBuf::from(f[5]),
            line: format!("{sep}{}", fields.join(&sep.to_string())),
        })
    }

    /// The OCI platform this entry emulates (`qemu-aarch64` → linux/arm64).
    pub fn platform(&self) -> Option<&'static str> {
        let arch = self.name.strip_prefix("qemu-")?;
        PLATFORMS.iter().find(|(q, _)| *q == arch).map(|(_, p)| *p)
    }
}

/// The QEMU entries the installed packages describe.
pub fn described() -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for dir in CONF_DIRS {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if !name.starts_with("qemu-") || !name.ends_with(".conf") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for l in text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                if let Some(e) = Entry::parse(l) {
                    if e.platform().is_some() && !out.iter().any(|o| o.name == e.name) {
                        out.push(e);
                    }
                }
            }
        }
    }
    out
}

/// Whether binfmt_misc runs the entry `name` now.
fn enabled(name: &str) -> bool {
    std::fs::read_to_string(Path::new(BINFMT).join(name))
        .is_ok_and(|t| t.lines().next() == Some("enabled"))
}

/// Mounts binfmt_misc where it is not mounted yet.
fn mount_binfmt() -> Result<()> {
    if Path::new(BINFMT).join("register").exists() {
        return Ok(());
    }
    nix::mount::mount(
        Some("binfmt_misc"),
        BINFMT,
        Some("binfmt_misc"),
        nix::mount::MsFlags::MS_NOSUID
            | nix::mount::MsFlags::MS_NODEV
            | nix::mount::MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| Error::internal(format!("mount binfmt_misc on {BINFMT}: {e}")))
}

/// Registers the described entries that are not registered yet (when
/// `register`), and returns the foreign platforms binfmt_misc emulates.
pub fn setup(register: bool) -> Vec<String> {
    let entries = described();
    if register && !entries.is_empty() {
        match mount_binfmt() {
            Ok(()) => {
                for e in &entries {
                    if Path::new(BINFMT).join(&e.name).exists() || !e.interpreter.exists() {
                        continue;
                    }
                    if let Err(err) = std::fs::write(Path::new(BINFMT).join("register"), &e.line) {
                        tracing::warn!(entry = %e.name, error = %err, "binfmt_misc registration failed");
                    } else {
                        tracing::info!(entry = %e.name, "registered an emulator with binfmt_misc");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "no emulation of other architectures"),
        }
    }
    emulated()
}

/// The foreign platforms binfmt_misc emulates now (registered by berthd or
/// anyone else).
pub fn emulated() -> Vec<String> {
    let mut out: Vec<String> = described()
        .iter()
        .filter(|e| enabled(&e.name))
        .filter_map(|e| e.platform())
        .filter(|p| {
            // The host's own platform needs no emulation.
            distribution::Platform::parse(p)
                .is_ok_and(|p| distribution::Platform::host().match_rank(&p).is_none())
        })
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_lines_parse_and_get_the_fix_binary_flag() {
        let l = r":qemu-aarch64:M::\x7f\x45\x4c\x46\x02:\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF";
        let e = Entry::parse(l).unwrap();
        assert_eq!(e.name, "qemu-aarch64");
        assert_eq!(
            e.interpreter,
            Path::new("/usr/libexec/qemu-binfmt/aarch64-binfmt-P")
        );
        assert_eq!(e.line, l);
        assert_eq!(e.platform(), Some("linux/arm64"));
        let e = Entry::parse(":qemu-arm:M::\\x7f:\\xff:/usr/bin/qemu-arm-static:OP").unwrap();
        assert!(e.line.ends_with(":OPF"), "{}", e.line);
        assert_eq!(e.platform(), Some("linux/arm/v7"));
        assert_eq!(Entry::parse(":x:"), None);
        assert_eq!(
            Entry::parse(":qemu-foo:M::a:b:/x:F").unwrap().platform(),
            None
        );
    }
}
