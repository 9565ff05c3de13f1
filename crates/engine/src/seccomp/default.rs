//! berth's default seccomp profile: Docker's default profile (moby's
//! `profiles/seccomp`, as Docker 28.2 ships it), rule for rule. It allows
//! what containers need, refuses everything else with EPERM, and lets a
//! container's capabilities, the host's architecture and the kernel
//! version open more, as Docker's does. `docker-default.json` beside this
//! file is Docker's published profile; a test holds the two equal.

use super::{ArchMap, Arg, Filter, KernelVersion, Profile, Syscall};

/// The syscalls every container may make. Names that do not exist on an
/// architecture (`chown32` on x86-64) are skipped by the runtime.
#[rustfmt::skip]
const ALLOWED: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
    "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
    "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
    "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
    "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
    "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
    "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
    "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
    "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
    "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
];

/// Allowed from kernel 4.8 on, where a traced process can no longer bypass
/// seccomp; before, only with CAP_SYS_PTRACE.
const PTRACE_SINCE_4_8: &[&str] = &["process_vm_readv", "process_vm_writev", "ptrace"];

/// `socket(2)` of any family but AF_VSOCK (40): vsock reaches the host.
const AF_VSOCK: u64 = 40;

/// The `personality(2)` values allowed: PER_LINUX, PER_LINUX32,
/// UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (query the current one).
const PERSONAS: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Syscalls of some architectures only (libseccomp's architecture names).
const BY_ARCH: &[(&[&str], &[&str])] = &[
    (&["sync_file_range2", "swapcontext"], &["ppc64le"]),
    (
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        &["arm", "arm64"],
    ),
    (&["arch_prctl"], &["amd64", "x32"]),
    (&["modify_ldt"], &["amd64", "x32", "x86"]),
    (
        &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
        &["s390", "s390x"],
    ),
    (&["riscv_flush_icache"], &["riscv64"]),
];

/// Syscalls a capability opens. The clone rules (below) come right after
/// CAP_SYS_ADMIN's, as in Docker's profile.
const BY_CAP: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// The clone(2) flags that make namespaces (CLONE_NEWNS, NEWCGROUP,
/// NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET): without CAP_SYS_ADMIN, clone
/// is allowed only with none of them.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// clone3's flags are in memory, out of seccomp's sight: without
/// CAP_SYS_ADMIN it fails with ENOSYS, so that libcs fall back to clone.
const ENOSYS: u32 = 38;

/// The architectures a filter covers on each native one (the kernels of
/// x86-64 also run x86 and x32 programs, arm64's arm ones, …).
const ARCH_MAP: &[(&str, &[&str])] = &[
    ("SCMP_ARCH_X86_64", &["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
    ("SCMP_ARCH_AARCH64", &["SCMP_ARCH_ARM"]),
    (
        "SCMP_ARCH_MIPS64",
        &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
    ),
    (
        "SCMP_ARCH_MIPS64N32",
        &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
    ),
    (
        "SCMP_ARCH_MIPSEL64",
        &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
    ),
    (
        "SCMP_ARCH_MIPSEL64N32",
        &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
    ),
    ("SCMP_ARCH_S390X", &["SCMP_ARCH_S390"]),
    ("SCMP_ARCH_RISCV64", &[]),
];

const ALLOW: &str = "SCMP_ACT_ALLOW";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn allow(names: &[&str]) -> Syscall {
    Syscall {
        names: strings(names),
        action: ALLOW.into(),
        ..Default::default()
    }
}

fn only_if(f: Filter) -> Option<Filter> {
    Some(f)
}

fn caps(c: &[&str]) -> Filter {
    Filter {
        caps: strings(c),
        ..Default::default()
    }
}

fn arches(a: &[&str]) -> Filter {
    Filter {
        arches: strings(a),
        ..Default::default()
    }
}

fn arg(index: u32, value: u64, op: &'static str) -> Vec<Arg> {
    vec![Arg {
        index,
        value,
        value_two: 0,
        op,
    }]
}

/// clone without namespace flags; s390's clone has the flags second.
fn clone_rules() -> Vec<Syscall> {
    vec![
        Syscall {
            args: arg(0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ"),
            excludes: only_if(Filter {
                caps: strings(&["CAP_SYS_ADMIN"]),
                arches: strings(&["s390", "s390x"]),
                min_kernel: None,
            }),
            ..allow(&["clone"])
        },
        Syscall {
            args: arg(1, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ"),
            comment: "s390 parameter ordering for clone is different".into(),
            includes: only_if(arches(&["s390", "s390x"])),
            excludes: only_if(caps(&["CAP_SYS_ADMIN"])),
            ..allow(&["clone"])
        },
        Syscall {
            names: strings(&["clone3"]),
            action: "SCMP_ACT_ERRNO".into(),
            errno_ret: Some(ENOSYS),
            excludes: only_if(caps(&["CAP_SYS_ADMIN"])),
            ..Default::default()
        },
    ]
}

/// The default profile, in Docker's order of rules.
pub fn default_profile() -> Profile {
    let mut rules = vec![
        allow(ALLOWED),
        Syscall {
            includes: only_if(Filter {
                min_kernel: Some(KernelVersion(4, 8)),
                ..Default::default()
            }),
            ..allow(PTRACE_SINCE_4_8)
        },
        Syscall {
            args: arg(0, AF_VSOCK, "SCMP_CMP_NE"),
            ..allow(&["socket"])
        },
    ];
    rules.extend(PERSONAS.iter().map(|p| Syscall {
        args: arg(0, *p, "SCMP_CMP_EQ"),
        ..allow(&["personality"])
    }));
    rules.extend(BY_ARCH.iter().map(|(names, a)| Syscall {
        includes: only_if(arches(a)),
        ..allow(names)
    }));
    for (cap, names) in BY_CAP {
        rules.push(Syscall {
            includes: only_if(caps(&[cap])),
            ..allow(names)
        });
        if *cap == "CAP_SYS_ADMIN" {
            rules.extend(clone_rules());
        }
    }
    Profile {
        default_action: "SCMP_ACT_ERRNO".into(),
        default_errno_ret: Some(1),
        arch_map: ARCH_MAP
            .iter()
            .map(|(a, subs)| ArchMap {
                architecture: a.to_string(),
                sub_architectures: strings(subs),
            })
            .collect(),
        syscalls: rules,
        ..Default::default()
    }
}
