//! Seccomp profiles compiled once and loaded from a cache.
//!
//! libseccomp takes about 15 ms to turn Docker's default profile (some 350
//! rules on three architectures) into BPF, and libcontainer does it inside
//! every container's init process, on the start path. Here the BPF is
//! compiled the way libcontainer compiles it (same actions, architectures,
//! rules and argument comparisons, names libseccomp cannot resolve skipped),
//! kept under `<root>/.seccomp/<sha256 of the profile>.bpf`, and loaded by
//! the executor with the `seccomp(2)` call libseccomp itself makes, with the
//! same flags. A profile that notifies (`SCMP_ACT_NOTIFY`) needs
//! libseccomp's listener fd and is left to libcontainer.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use libcontainer::oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use sha2::Digest;

/// A compiled profile: the BPF program and the `seccomp(2)` flags.
#[derive(Clone, Debug)]
pub struct Compiled {
    bpf: Vec<u8>,
    flags: libc::c_uint,
}

/// Whether the profile can be compiled ahead (it does not notify).
pub fn cacheable(profile: &LinuxSeccomp) -> bool {
    !libcontainer::seccomp::is_notify(profile)
        && profile.default_action() != LinuxSeccompAction::ScmpActNotify
}

/// The compiled profile, from the cache under `root` or compiled now (and
/// kept).
pub fn compiled(root: &Path, profile: &LinuxSeccomp) -> Result<Compiled> {
    let json = serde_json::to_vec(profile)?;
    let key = hex::encode(sha2::Sha256::digest(&json));
    let dir = root.join(".seccomp");
    let path = dir.join(format!("{key}.bpf"));
    let flags = flags(profile);
    if let Ok(bpf) = std::fs::read(&path) {
        if !bpf.is_empty() && bpf.len().is_multiple_of(8) {
            return Ok(Compiled { bpf, flags });
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let ctx = filter(profile)?;
    let tmp = dir.join(format!(".{key}.{}", std::process::id()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
    let written = ctx
        .export_bpf(&file)
        .context("compile the seccomp profile")
        .and_then(|()| Ok(std::fs::read(&tmp)?));
    let bpf = match written {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    drop(file);
    // Another runtime may have written the same file meanwhile: the
    // rename is atomic and either copy is the same program.
    std::fs::rename(&tmp, &path).with_context(|| format!("keep {}", path.display()))?;
    Ok(Compiled { bpf, flags })
}

/// Loads the program into the calling thread (as libseccomp's load does,
/// with no_new_privs left as it is).
pub fn load(c: &Compiled) -> Result<()> {
    let mut filter = c.bpf.clone();
    let prog = libc::sock_fprog {
        len: (filter.len() / 8) as libc::c_ushort,
        filter: filter.as_mut_ptr().cast::<libc::sock_filter>(),
    };
    // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER) reads `prog`, which points
    // at `filter`, alive for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            c.flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        bail!(
            "load the seccomp profile: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

fn flags(profile: &LinuxSeccomp) -> libc::c_uint {
    let mut f = 0;
    for flag in profile.flags().iter().flatten() {
        f |= match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            // Only meaningful with a listener, which is never cached.
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => 0,
        } as libc::c_uint;
    }
    f
}

/// The filter as libcontainer builds it (see its `initialize_seccomp`).
fn filter(profile: &LinuxSeccomp) -> Result<ScmpFilterContext> {
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default)?;
    for arch in profile.architectures().iter().flatten() {
        ctx.add_arch(scmp_arch(*arch))?;
    }
    ctx.set_ctl_nnp(false)?;
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default {
            continue;
        }
        for name in rule.names() {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                continue;
            };
            match rule.args() {
                Some(args) => {
                    let cmps: Vec<ScmpArgCompare> = args
                        .iter()
                        .map(|a| {
                            ScmpArgCompare::new(
                                a.index() as u32,
                                op(a.op(), a.value_two()),
                                a.value(),
                            )
                        })
                        .collect();
                    let mut seen = HashSet::new();
                    let dup = args.iter().any(|a| !seen.insert(a.index()));
                    if dup {
                        for c in &cmps {
                            ctx.add_rule_conditional(act, sc, std::slice::from_ref(c))?;
                        }
                    } else {
                        ctx.add_rule_conditional(act, sc, &cmps)?;
                    }
                }
                None => {
                    ctx.add_rule(act, sc)?;
                }
            }
        }
    }
    Ok(ctx)
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction> {
    let errno = errno.map(|e| e as i32).unwrap_or(libc::EPERM);
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActTrace => {
            ScmpAction::Trace(u16::try_from(errno).context("seccomp trace errno")?)
        }
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActNotify => {
            bail!("a notifying seccomp profile is not compiled ahead")
        }
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
    })
}

fn op(o: LinuxSeccompOperator, b: Option<u64>) -> ScmpCompareOp {
    match o {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(b.unwrap_or(0)),
    }
}

fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_compiles_once_and_is_read_back() {
        let profile: LinuxSeccomp = serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["read", "write", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
            ]
        }))
        .unwrap();
        let root = std::env::temp_dir().join(format!("berth-seccomp-{}", std::process::id()));
        let first = compiled(&root, &profile).unwrap();
        assert!(!first.bpf.is_empty() && first.bpf.len().is_multiple_of(8));
        let files: Vec<_> = std::fs::read_dir(root.join(".seccomp")).unwrap().collect();
        assert_eq!(files.len(), 1, "one program kept, no temporary file left");
        let again = compiled(&root, &profile).unwrap();
        assert_eq!(again.bpf, first.bpf);
        let _ = std::fs::remove_dir_all(&root);
        let mut other = profile.clone();
        other.set_default_errno_ret(Some(13));
        let root2 = root.with_extension("2");
        assert_ne!(compiled(&root2, &other).unwrap().bpf, first.bpf);
        let _ = std::fs::remove_dir_all(&root2);
    }
}
