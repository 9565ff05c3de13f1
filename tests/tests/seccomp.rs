//! Seccomp through the real docker CLI: Docker's default profile blocks
//! what it blocks (unshare without CAP_SYS_ADMIN) and allows the rest,
//! `--security-opt seccomp=unconfined|<file>` and the daemon's
//! `seccomp-profile` work as with dockerd, with berth-runtime and runc.

use berth_tests::{bin, require, Daemon, DaemonOpts, DOCKER};
use std::process::Command;
use std::time::Duration;

/// A profile that allows everything but mkdir.
const NO_MKDIR: &str = r#"{
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
}"#;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// `docker run --rm [runtime] <args>`.
fn run(d: &Daemon, runtime: &str, args: &[&str]) -> berth_tests::Out {
    let mut all = vec!["run", "--rm", "--runtime", runtime];
    all.extend_from_slice(args);
    d.docker(&all)
}

/// The default profile, unconfined, a capability that opens syscalls and a
/// profile file, with one runtime.
fn profiles_apply(d: &Daemon, runtime: &str, dir: &std::path::Path) {
    // Docker's profile refuses unshare without CAP_SYS_ADMIN ...
    let o = run(d, runtime, &["busybox", "unshare", "-U", "true"]);
    assert_ne!(o.code, 0, "{runtime}: {o:?}");
    assert!(
        o.stderr.contains("Operation not permitted"),
        "{runtime}: {o:?}"
    );
    // ... and allows the rest.
    assert_eq!(
        run(
            d,
            runtime,
            &["busybox", "sh", "-c", "mkdir /x && echo made"]
        )
        .ok(),
        "made\n",
        "{runtime}"
    );
    run(
        d,
        runtime,
        &[
            "--security-opt",
            "seccomp=unconfined",
            "busybox",
            "unshare",
            "-U",
            "true",
        ],
    )
    .ok();
    run(
        d,
        runtime,
        &["--cap-add", "SYS_ADMIN", "busybox", "unshare", "-U", "true"],
    )
    .ok();
    // A profile file: the docker CLI sends its content.
    let file = write(dir, "no-mkdir.json", NO_MKDIR);
    let o = run(
        d,
        runtime,
        &[
            "--security-opt",
            &format!("seccomp={file}"),
            "busybox",
            "sh",
            "-c",
            "touch /t && echo touched && mkdir /x",
        ],
    );
    assert_eq!(o.stdout, "touched\n", "{runtime}: {o:?}");
    assert_ne!(o.code, 0, "{runtime}: {o:?}");
    assert!(
        o.stderr.contains("Operation not permitted"),
        "{runtime}: {o:?}"
    );
    // An exec runs under the container's profile too (libcontainer leaves
    // it out of an exec's spec; berth-runtime's executor loads it) and
    // keeps the container's capabilities.
    let name = berth_tests::unique("sc");
    d.docker(&[
        "run",
        "-d",
        "--runtime",
        runtime,
        "--name",
        &name,
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let o = d.docker(&["exec", &name, "unshare", "-U", "true"]);
    assert!(
        o.code != 0 && o.stderr.contains("Operation not permitted"),
        "{runtime}: {o:?}"
    );
    d.docker(&["exec", &name, "mkdir", "/made"]).ok();
    let caps = |pid: &str| {
        let status = d.docker(&["exec", &name, "cat", &format!("/proc/{pid}/status")]);
        status
            .ok()
            .lines()
            .filter(|l| {
                l.starts_with("Cap") || l.starts_with("Seccomp:") || l.starts_with("NoNewPrivs:")
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // The exec's own status (`self`) against the container's init's.
    assert_eq!(caps("self"), caps("1"), "{runtime}");
    assert!(
        caps("self").contains(&"Seccomp:\t2".to_string()),
        "{runtime}"
    );
    d.docker(&["rm", "-f", &name]).ok();
}

#[test]
fn default_profile_and_profile_files() {
    if !require(DOCKER) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start();
    profiles_apply(&d, "berth-runtime", dir.path());
    if require("runc") {
        profiles_apply(&d, "runc", dir.path());
    }
    // The daemon reports the profile it uses.
    assert_eq!(
        d.docker(&["info", "--format", "{{json .SecurityOptions}}"])
            .ok()
            .trim(),
        r#"["name=seccomp,profile=builtin"]"#
    );
    d.finish();
}

#[test]
fn bad_profiles_are_refused() {
    if !require(DOCKER) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start();
    // Not JSON: the docker CLI refuses it before sending anything.
    let bad = write(dir.path(), "bad.json", "{\"defaultAction\": ");
    let o = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        &format!("seccomp={bad}"),
        "busybox",
        "true",
    ]);
    assert_ne!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("compacting json for seccomp profile"),
        "{o:?}"
    );
    // JSON, but not a profile: berthd refuses it at create, with dockerd's
    // message, and no container is left behind.
    for (text, want) in [
        (
            r#"{"defaultAction": 5}"#,
            "Decoding seccomp profile failed: invalid type: integer `5`",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_NOPE"}"#,
            "invalid seccomp profile: unknown action \"SCMP_ACT_NOPE\"",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
            "both 'architectures' and 'archMap' are specified in the seccomp profile",
        ),
    ] {
        let f = write(dir.path(), "p.json", text);
        let o = d.docker(&[
            "run",
            "--rm",
            "--security-opt",
            &format!("seccomp={f}"),
            "busybox",
            "true",
        ]);
        assert_ne!(o.code, 0, "{text}: {o:?}");
        assert!(
            o.stderr.contains("Error response from daemon") && o.stderr.contains(want),
            "{text}: {o:?}"
        );
    }
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    d.finish();
}

#[test]
fn the_daemons_seccomp_profile() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start_with(DaemonOpts {
        config: Some(r#"{"seccomp-profile": "unconfined"}"#.into()),
        ..Default::default()
    });
    // Containers that name no profile get none ...
    run(&d, "berth-runtime", &["busybox", "unshare", "-U", "true"]).ok();
    // ... and `builtin` is still Docker's default.
    let o = run(
        &d,
        "berth-runtime",
        &[
            "--security-opt",
            "seccomp=builtin",
            "busybox",
            "unshare",
            "-U",
            "true",
        ],
    );
    assert!(
        o.code != 0 && o.stderr.contains("Operation not permitted"),
        "{o:?}"
    );
    let info = d.docker(&[
        "info",
        "--format",
        "{{json .SecurityOptions}} {{json .Warnings}}",
    ]);
    assert!(
        info.ok().contains(r#"["name=seccomp,profile=unconfined"]"#)
            && info
                .stdout
                .contains("WARNING: daemon is not using the default seccomp profile"),
        "{info:?}"
    );
    d.finish();
}

/// A `seccomp-profile` that cannot be read or decoded stops the daemon at
/// start, with dockerd's message for a missing file.
#[test]
fn a_bad_daemon_profile_stops_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let start = |config: &str| {
        std::fs::write(dir.path().join("daemon.json"), config).unwrap();
        let mut c = Command::new(bin("berthd"));
        c.arg("--config-file").arg(dir.path().join("daemon.json"));
        c.arg("--data-root").arg(dir.path().join("data"));
        berth_tests::run(c, None, Duration::from_secs(20))
    };
    let missing = dir.path().join("missing.json");
    let o = start(&format!(
        r#"{{"seccomp-profile": "{}"}}"#,
        missing.display()
    ));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains(&format!(
            "opening seccomp profile ({}) failed: ",
            missing.display()
        )),
        "{o:?}"
    );
    let bad = write(dir.path(), "bad.json", r#"{"defaultAction": 1}"#);
    let o = start(&format!(r#"{{"seccomp-profile": "{bad}"}}"#));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("Decoding seccomp profile failed: "),
        "{o:?}"
    );
}
