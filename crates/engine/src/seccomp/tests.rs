use super::*;
use std::collections::BTreeSet;

/// Docker's published default profile (see README.md beside it).
const DOCKER_DEFAULT: &str = include_str!("docker-default.json");

const ARCHES: &[&str] = &[
    "amd64", "arm64", "arm", "386", "s390x", "ppc64le", "riscv64",
];
const KERNELS: &[(u32, u32)] = &[(6, 18), (4, 4)];

fn caps(extra: &[&str]) -> Vec<String> {
    crate::spec::DEFAULT_CAPS
        .iter()
        .chain(extra)
        .map(|c| c.to_string())
        .collect()
}

fn cap_sets() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("docker's default", caps(&[])),
        ("default + CAP_SYS_ADMIN", caps(&["CAP_SYS_ADMIN"])),
        ("default + CAP_SYS_PTRACE", caps(&["CAP_SYS_PTRACE"])),
        (
            "all",
            crate::spec::ALL_CAPS
                .iter()
                .map(|c| c.to_string())
                .collect(),
        ),
        ("none", vec![]),
    ]
}

type Rule = (
    String,
    String,
    Option<u32>,
    Vec<(usize, u64, Option<u64>, String)>,
);

/// The OCI profile as a set of one rule per name, and its header.
fn rules(s: &oci_spec::runtime::LinuxSeccomp) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for r in s.syscalls().iter().flatten() {
        let args: Vec<_> = r
            .args()
            .iter()
            .flatten()
            .map(|a| (a.index(), a.value(), a.value_two(), a.op().to_string()))
            .collect();
        for n in r.names() {
            out.insert((
                n.clone(),
                r.action().to_string(),
                r.errno_ret(),
                args.clone(),
            ));
        }
    }
    out
}

fn oci(
    p: &Profile,
    arch: &str,
    caps: &[String],
    kernel: (u32, u32),
) -> oci_spec::runtime::LinuxSeccomp {
    to_oci(p, arch, caps, kernel).unwrap().expect("a profile")
}

#[test]
fn the_default_is_dockers_default_json() {
    let docker = parse(DOCKER_DEFAULT).unwrap();
    // Rule for rule, in Docker's order.
    assert_eq!(docker.syscalls.len(), default_profile().syscalls.len());
    for (i, (a, b)) in docker
        .syscalls
        .iter()
        .zip(&default_profile().syscalls)
        .enumerate()
    {
        assert_eq!(a, b, "rule {i}");
    }
    assert_eq!(docker, default_profile());
}

#[test]
fn default_and_docker_give_the_same_oci_profile_everywhere() {
    let docker = parse(DOCKER_DEFAULT).unwrap();
    let ours = default_profile();
    for arch in ARCHES {
        for (what, caps) in cap_sets() {
            for kernel in KERNELS {
                let (a, b) = (
                    oci(&ours, arch, &caps, *kernel),
                    oci(&docker, arch, &caps, *kernel),
                );
                let ctx = format!("{arch}, {what} caps, kernel {kernel:?}");
                assert_eq!(a.default_action(), b.default_action(), "{ctx}");
                assert_eq!(a.default_errno_ret(), b.default_errno_ret(), "{ctx}");
                assert_eq!(a.architectures(), b.architectures(), "{ctx}");
                assert_eq!(rules(&a), rules(&b), "{ctx}");
                assert!(!rules(&a).is_empty(), "{ctx}");
            }
        }
    }
}

fn allowed(s: &oci_spec::runtime::LinuxSeccomp, name: &str) -> bool {
    rules(s)
        .iter()
        .any(|(n, action, _, args)| n == name && action == "SCMP_ACT_ALLOW" && args.is_empty())
}

fn mentioned(s: &oci_spec::runtime::LinuxSeccomp, name: &str) -> bool {
    rules(s).iter().any(|(n, ..)| n == name)
}

#[test]
fn what_the_default_refuses_and_allows() {
    use oci_spec::runtime::{Arch, LinuxSeccompAction};
    let p = default_profile();
    let d = oci(&p, "amd64", &caps(&[]), (6, 18));
    assert_eq!(d.default_action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(d.default_errno_ret(), Some(1));
    assert_eq!(
        d.architectures().as_deref(),
        Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
    );
    // Refused (the default action): in no rule at all.
    for name in [
        "unshare", "mount", "keyctl", "add_key", "setns", "bpf", "clone3",
    ] {
        assert!(
            !allowed(&d, name),
            "{name} is allowed without CAP_SYS_ADMIN"
        );
    }
    for name in ["unshare", "mount", "keyctl", "umount2", "init_module"] {
        assert!(!mentioned(&d, name), "{name}");
    }
    for name in ["mkdir", "mkdirat", "read", "execve", "arch_prctl", "ptrace"] {
        assert!(allowed(&d, name), "{name}");
    }
    // clone3 fails with ENOSYS, so that libcs fall back to clone, whose
    // namespace flags are filtered.
    assert!(rules(&d).contains(&("clone3".into(), "SCMP_ACT_ERRNO".into(), Some(38), vec![])));
    assert!(rules(&d).contains(&(
        "clone".into(),
        "SCMP_ACT_ALLOW".into(),
        None,
        vec![(0, 2114060288, None, "SCMP_CMP_MASKED_EQ".into())]
    )));
    assert!(rules(&d).contains(&(
        "socket".into(),
        "SCMP_ACT_ALLOW".into(),
        None,
        vec![(0, 40, None, "SCMP_CMP_NE".into())]
    )));
    // CAP_SYS_ADMIN opens namespaces and mounts (keyctl stays refused).
    let admin = oci(&p, "amd64", &caps(&["CAP_SYS_ADMIN"]), (6, 18));
    for name in ["unshare", "mount", "setns", "clone", "clone3"] {
        assert!(allowed(&admin, name), "{name}");
    }
    assert!(!mentioned(&admin, "keyctl"));
    assert!(!rules(&admin)
        .iter()
        .any(|r| r.0 == "clone3" && r.2 == Some(38)));
    // arch_prctl is x86-64's (and x32's) only; modify_ldt also x86's.
    for arch in ARCHES {
        let s = oci(&p, arch, &caps(&[]), (6, 18));
        assert_eq!(allowed(&s, "arch_prctl"), *arch == "amd64", "{arch}");
        assert_eq!(
            allowed(&s, "modify_ldt"),
            ["amd64", "386"].contains(arch),
            "{arch}"
        );
        assert_eq!(
            allowed(&s, "set_tls"),
            ["arm", "arm64"].contains(arch),
            "{arch}"
        );
    }
    // s390's clone has its flags second.
    let s390 = oci(&p, "s390x", &caps(&[]), (6, 18));
    assert!(rules(&s390).contains(&(
        "clone".into(),
        "SCMP_ACT_ALLOW".into(),
        None,
        vec![(1, 2114060288, None, "SCMP_CMP_MASKED_EQ".into())]
    )));
    assert!(!rules(&s390)
        .iter()
        .any(|r| r.0 == "clone" && r.3.first().is_some_and(|a| a.0 == 0)));
    assert_eq!(
        s390.architectures().as_deref(),
        Some(&[Arch::ScmpArchS390x, Arch::ScmpArchS390][..])
    );
    // No archMap entry for 386: libseccomp's native architecture.
    assert_eq!(oci(&p, "386", &caps(&[]), (6, 18)).architectures(), &None);
    // ptrace before 4.8 only with CAP_SYS_PTRACE.
    assert!(!allowed(&oci(&p, "amd64", &caps(&[]), (4, 4)), "ptrace"));
    assert!(allowed(
        &oci(&p, "amd64", &caps(&["CAP_SYS_PTRACE"]), (4, 4)),
        "ptrace"
    ));
    assert!(allowed(&oci(&p, "amd64", &caps(&[]), (4, 8)), "ptrace"));
}

#[test]
fn profiles_decode_as_go_decodes_them() {
    // Unknown fields ignored, names without regard to case, null as empty,
    // the single `name` of old profiles.
    let p = parse(
        r#"{"DefaultAction":"SCMP_ACT_ALLOW","bogus":1,"architectures":null,
            "syscalls":[{"Name":"mkdir","action":"SCMP_ACT_ERRNO","errnoret":13,"args":null,"x":{}},
                        {"names":["chmod"],"action":"SCMP_ACT_LOG","args":[{"index":1,"value":511,"valuetwo":0,"op":"SCMP_CMP_GT"}],
                         "excludes":{"minKernel":""},"includes":{"arches":null}}]}"#,
    )
    .unwrap();
    assert_eq!(p.default_action, "SCMP_ACT_ALLOW");
    let s = oci(&p, "amd64", &[], (6, 1));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v,
        json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["chmod"], "action": "SCMP_ACT_LOG", "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_GT"}]},
        ]})
    );
    // Given architectures are kept; flags and listener fields pass through.
    let p = parse(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
            "flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[]}"#,
    )
    .unwrap();
    let v = serde_json::to_value(oci(&p, "arm64", &[], (6, 1))).unwrap();
    assert_eq!(v["architectures"], json!(["SCMP_ARCH_X86_64"]));
    assert_eq!(v["flags"], json!(["SECCOMP_FILTER_FLAG_LOG"]));
    // No default action and no rules: no profile, as dockerd reads it.
    assert_eq!(
        to_oci(&parse("{}").unwrap(), "amd64", &[], (6, 1)).unwrap(),
        None
    );
}

#[test]
fn bad_profiles_are_refused_with_dockerds_messages() {
    for (text, want) in [
        ("{", "Decoding seccomp profile failed: "),
        (r#"{"defaultAction": 5}"#, "Decoding seccomp profile failed: invalid type: integer `5`"),
        (
            r#"[]"#,
            "Decoding seccomp profile failed: json: cannot unmarshal array into Go value of type seccomp.Seccomp",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[["mkdir"]]}"#,
            "cannot unmarshal array into Go value of type seccomp.Syscall",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#,
            "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}"#,
            "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["b"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}"#,
            r#"Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>.<major>""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["b"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"0.0"}}]}"#,
            "version cannot be 0.0",
        ),
        (r#"{"defaultAction":"SCMP_ACT_NOPE"}"#, r#"invalid seccomp profile: unknown action "SCMP_ACT_NOPE""#),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["b"],"action":"ALLOW"}]}"#,
            r#"unknown action "ALLOW""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["b"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#,
            r#"unknown seccomp operator "EQ""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","archMap":[{"architecture":"SCMP_ARCH_VAX"}]}"#,
            r#"unknown architecture "SCMP_ARCH_VAX""#,
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["b"],"action":"SCMP_ACT_ERRNO","errnoRet":-1}]}"#,
            "Decoding seccomp profile failed: ",
        ),
    ] {
        let e = parse(text).expect_err(text);
        assert_eq!(e.kind, base::ErrorKind::InvalidArgument, "{text}");
        assert!(e.message.contains(want), "{text}: {}", e.message);
    }
}

#[test]
fn security_opts_choose_the_profile() {
    assert_eq!(Choice::of([]).unwrap(), Choice::Daemon);
    assert_eq!(
        Choice::of(["no-new-privileges", "seccomp=unconfined"]).unwrap(),
        Choice::Unconfined
    );
    assert_eq!(
        Choice::of(["seccomp:unconfined"]).unwrap(),
        Choice::Unconfined
    );
    assert_eq!(Choice::of(["seccomp=builtin"]).unwrap(), Choice::Builtin);
    assert_eq!(Choice::of(["seccomp="]).unwrap(), Choice::Daemon);
    // The last one wins, as dockerd reads them in order.
    assert_eq!(
        Choice::of(["seccomp=unconfined", "seccomp=builtin"]).unwrap(),
        Choice::Builtin
    );
    let Choice::Profile(p) =
        Choice::of([r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#])
            .unwrap()
    else {
        panic!("a profile");
    };
    assert_eq!(p.syscalls[0].names, ["mkdir"]);
    assert!(Choice::of(["seccomp={nope"]).is_err());
    assert_eq!(opt_value("apparmor=x"), None);
    assert_eq!(opt_value("seccomp"), None);
    // Privileged containers get only a profile they name.
    let d = DaemonProfile::Builtin;
    assert!(for_container(&Choice::Daemon, &d, true, &[])
        .unwrap()
        .is_none());
    assert!(for_container(&Choice::Builtin, &d, true, &[])
        .unwrap()
        .is_some());
    assert!(for_container(&Choice::Unconfined, &d, false, &[])
        .unwrap()
        .is_none());
    assert!(for_container(&Choice::Daemon, &d, false, &[])
        .unwrap()
        .is_some());
    assert!(
        for_container(&Choice::Daemon, &DaemonProfile::Unconfined, false, &[])
            .unwrap()
            .is_none()
    );
    assert!(
        for_container(&Choice::Builtin, &DaemonProfile::Unconfined, false, &[])
            .unwrap()
            .is_some()
    );
}

#[test]
fn daemon_setting() {
    assert_eq!(
        DaemonProfile::from_setting("").unwrap(),
        DaemonProfile::Builtin
    );
    assert_eq!(
        DaemonProfile::from_setting("unconfined").unwrap().name(),
        "unconfined"
    );
    let e = DaemonProfile::from_setting("/nonexistent/p.json").unwrap_err();
    assert!(
        e.message
            .starts_with("opening seccomp profile (/nonexistent/p.json) failed: "),
        "{}",
        e.message
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.json");
    std::fs::write(&f, r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#).unwrap();
    let p = DaemonProfile::from_setting(f.to_str().unwrap()).unwrap();
    assert_eq!(p.name(), f.display().to_string());
    std::fs::write(&f, "{").unwrap();
    assert!(DaemonProfile::from_setting(f.to_str().unwrap()).is_err());
}

#[test]
fn kernel_releases() {
    assert_eq!(parse_release("6.18.44-fc-v1147"), Some((6, 18)));
    assert_eq!(parse_release("3.12-1-amd64"), Some((3, 12)));
    assert_eq!(parse_release("4.8"), Some((4, 8)));
    assert_eq!(parse_release("x"), None);
    assert_eq!(parse_release("6"), None);
    let (k, _) = host_kernel().unwrap();
    assert!(k >= 3);
}
