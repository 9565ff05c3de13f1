//! `docker run` options through the real docker CLI: each one berth
//! applies is observed from inside the container, and each one it does not
//! apply yet is refused with a message naming it (the decision table in
//! crates/engine/src/containers/options.rs).

use berth_tests::{require, Daemon, DOCKER};

#[test]
fn applied_options_take_effect() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let run = |args: &[&str]| -> String {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        d.docker(&all).ok().trim().to_string()
    };
    assert_eq!(
        run(&[
            "--ulimit",
            "nofile=100:200",
            "busybox",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn"
        ]),
        "100\n200"
    );
    assert_eq!(
        run(&[
            "--cpuset-cpus",
            "0",
            "busybox",
            "grep",
            "Cpus_allowed_list",
            "/proc/self/status"
        ]),
        "Cpus_allowed_list:\t0"
    );
    assert_eq!(
        run(&[
            "--oom-score-adj",
            "321",
            "busybox",
            "cat",
            "/proc/self/oom_score_adj"
        ]),
        "321"
    );
    assert_eq!(
        run(&[
            "--sysctl",
            "net.ipv4.ip_unprivileged_port_start=42",
            "busybox",
            "cat",
            "/proc/sys/net/ipv4/ip_unprivileged_port_start"
        ]),
        "42"
    );
    let groups = run(&[
        "--user",
        "1000:1000",
        "--group-add",
        "10",
        "busybox",
        "id",
        "-G",
    ]);
    let mut g: Vec<&str> = groups.split_whitespace().collect();
    g.sort();
    assert_eq!(g, ["10", "1000"], "{groups}");
    // The host's namespaces: its processes, IPC and hostname.
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        run(&["--uts", "host", "busybox", "hostname"]),
        host_name.trim()
    );
    let own = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    assert_eq!(
        run(&["--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc"]),
        own.display().to_string()
    );
    let me = std::process::id().to_string();
    let ps = run(&["--pid", "host", "busybox", "sh", "-c", "ls /proc"]);
    assert!(
        ps.split_whitespace().any(|p| p == me),
        "the host's pid {me} is not seen"
    );
    // Another container's pid namespace: its processes are seen.
    d.docker(&["run", "-d", "--name", "pidsrc", "busybox", "sleep", "1000"])
        .ok();
    let seen = run(&["--pid", "container:pidsrc", "busybox", "ps"]);
    assert!(seen.contains("sleep 1000"), "{seen}");
    d.docker(&["rm", "-f", "pidsrc"]).ok();
    // `--init`: PID 1 is the init (tini), the command runs under it.
    let pid1 = run(&[
        "--init",
        "busybox",
        "sh",
        "-c",
        "tr '\\0' ' ' < /proc/1/cmdline",
    ]);
    assert!(pid1.starts_with("/sbin/docker-init -- sh -c"), "{pid1}");
    // `--device`: the node in the container (renamed), allowed by the
    // device cgroup; a path that is no device is refused.
    assert_eq!(
        run(&[
            "--device",
            "/dev/null:/dev/mynull",
            "busybox",
            "sh",
            "-c",
            "stat -c '%t,%T %F' /dev/mynull && echo ok > /dev/mynull && echo written"
        ]),
        "1,3 character special file\nwritten"
    );
    let out = d.docker(&["create", "--device", "/etc/hostname", "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("error gathering device information"),
        "{out:?}"
    );
    // `--privileged`: every capability the host's bounding set holds, and
    // the host's devices.
    let bnd = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:").map(|v| v.trim().to_string()))
        .unwrap();
    let eff = run(&[
        "--privileged",
        "busybox",
        "sh",
        "-c",
        "grep CapEff /proc/self/status",
    ]);
    assert_eq!(eff.split_whitespace().nth(1), Some(bnd.as_str()), "{eff}");
    if std::path::Path::new("/dev/loop-control").exists() {
        assert_eq!(
            run(&[
                "--privileged",
                "busybox",
                "sh",
                "-c",
                "test -c /dev/loop-control && echo yes"
            ]),
            "yes"
        );
    }
    // A capability the host's bounding set lacks is refused by name.
    let bits = u64::from_str_radix(&bnd, 16).unwrap();
    if bits & (1 << 24) == 0 {
        let out = d.docker(&["create", "--cap-add", "SYS_RESOURCE", "busybox", "true"]);
        assert_ne!(out.code, 0);
        assert!(
            out.stderr
                .contains("cannot add capability CAP_SYS_RESOURCE"),
            "{out:?}"
        );
    }
    // `--ipc none`: no /dev/shm; `--cgroupns private`: a cgroup namespace
    // of its own, where the container's cgroup is the root.
    assert_eq!(
        run(&[
            "--ipc",
            "none",
            "busybox",
            "sh",
            "-c",
            "grep -c ' /dev/shm ' /proc/mounts || true"
        ]),
        "0"
    );
    let host_cgns = std::fs::read_link("/proc/self/ns/cgroup").unwrap();
    let cgns = run(&[
        "--cgroupns",
        "private",
        "busybox",
        "readlink",
        "/proc/self/ns/cgroup",
    ]);
    assert_ne!(cgns, host_cgns.display().to_string());
    let cg = run(&[
        "--cgroupns",
        "private",
        "busybox",
        "cat",
        "/proc/self/cgroup",
    ]);
    assert!(cg.lines().all(|l| l.ends_with(":/")), "{cg}");
    // `--entrypoint ""` clears the image's entrypoint.
    assert_eq!(run(&["--entrypoint", "", "busybox", "echo", "hi"]), "hi");
    d.finish();
}

#[test]
fn unapplied_options_are_refused_by_name() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    for (args, want) in [
        (
            &["--log-driver", "syslog"][..],
            "berth does not support the log driver syslog yet",
        ),
        (
            &["--cgroup-parent", "elsewhere"][..],
            "berth does not support --cgroup-parent yet",
        ),
        (
            &["--blkio-weight", "300"][..],
            "berth does not support --blkio-weight yet",
        ),
        (
            &["--oom-kill-disable"][..],
            "berth does not support --oom-kill-disable yet",
        ),
        (
            &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"][..],
            "not allowed in host network mode",
        ),
        (&["--memory-swap", "64m"][..], "always set the Memory limit"),
        (
            &["--ulimit", "nofile=10:999999999"][..],
            "above the daemon's own hard limit",
        ),
        (
            &["--cpuset-cpus", "64"][..],
            "Requested CPUs are not available",
        ),
    ] {
        let mut all = vec!["create"];
        all.extend_from_slice(args);
        all.extend(["busybox", "true"]);
        let out = d.docker(&all);
        assert_ne!(out.code, 0, "{args:?} was accepted");
        assert!(out.stderr.contains(want), "{args:?}: {out:?}");
    }
    // A seccomp profile file (the CLI sends its content).
    let profile = d.dir.join("profile.json");
    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = d.docker(&["create", "--security-opt", &opt, "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("berth does not support --security-opt seccomp="),
        "{out:?}"
    );
    // docker info says what is off on this host, as dockerd.
    let fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let warnings = d
        .docker(&["info", "-f", "{{json .Warnings}}"])
        .ok()
        .to_string();
    assert_eq!(
        warnings.contains("WARNING: IPv4 forwarding is disabled"),
        fwd.trim() == "0",
        "{warnings}"
    );
    // Nothing was created by the refused requests.
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    d.finish();
}

/// `docker update` on a running container: the cgroup takes the new
/// limits (read back from inside), inspect shows them, the restart policy
/// changes; on a stopped one they apply at the next start; what update
/// cannot change is refused by name.
#[test]
fn update_changes_a_running_container() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run", "-d", "--name", "upd", "-m", "64m", "busybox", "sleep", "1000",
    ])
    .ok();
    d.docker(&[
        "update",
        "--memory",
        "96m",
        "--memory-swap",
        "192m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "77",
        "--restart",
        "on-failure:3",
        "upd",
    ])
    .ok();
    let inspect = d
        .docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
            "upd",
        ])
        .ok()
        .trim()
        .to_string();
    assert_eq!(inspect, "100663296 500000000 77 on-failure:3");
    // Read back from the container's own cgroup (v1 or v2).
    // The container sees its own cgroup at the controller's root (or, on
    // some setups, under its full path): either is read.
    let script = r#"
        rd() { cat "$1$2/$3" 2>/dev/null || cat "$1/$3"; }
        if [ -d /sys/fs/cgroup/pids ]; then
            rd /sys/fs/cgroup/pids "$(grep ':pids:' /proc/self/cgroup | cut -d: -f3)" pids.max
            rd /sys/fs/cgroup/memory "$(grep ':memory:' /proc/self/cgroup | cut -d: -f3)" memory.limit_in_bytes
            rd /sys/fs/cgroup/cpu "$(grep -E ':cpu,cpuacct:|:cpu:' /proc/self/cgroup | head -1 | cut -d: -f3)" cpu.cfs_quota_us
        else
            p=$(grep '^0::' /proc/self/cgroup | cut -d: -f3)
            rd /sys/fs/cgroup "$p" pids.max; rd /sys/fs/cgroup "$p" memory.max
            rd /sys/fs/cgroup "$p" cpu.max | cut -d' ' -f1
        fi"#;
    let got = d
        .docker(&["exec", "upd", "sh", "-c", script])
        .ok()
        .to_string();
    assert_eq!(
        got.split_whitespace().collect::<Vec<_>>(),
        ["77", "100663296", "50000"],
        "{got}"
    );
    // Refused by name, as at create.
    let out = d.docker(&["update", "--blkio-weight", "300", "upd"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("berth does not support --blkio-weight yet"),
        "{out:?}"
    );
    // A stopped container takes the new values at its next start.
    d.docker(&["stop", "-t", "0", "upd"]).ok();
    d.docker(&["update", "--pids-limit", "55", "upd"]).ok();
    d.docker(&["start", "upd"]).ok();
    let got = d
        .docker(&["exec", "upd", "sh", "-c", script])
        .ok()
        .to_string();
    assert_eq!(got.split_whitespace().next(), Some("55"), "{got}");
    d.docker(&["rm", "-f", "upd"]).ok();
    d.finish();
}

/// A container the memory cgroup kills reports `OOMKilled: true` (exit
/// 137) and an `oom` event; one that exits on its own does not.
#[test]
fn oom_kills_are_reported() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    // busybox tail keeps a line without newlines whole in memory.
    let out = d.docker(&[
        "run",
        "--name",
        "hog",
        "-m",
        "8m",
        "busybox",
        "sh",
        "-c",
        "head -c 200m /dev/zero | tail > /dev/null",
    ]);
    assert_eq!(out.code, 137, "{out:?}");
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.State.ExitCode}}",
            "hog"
        ])
        .ok()
        .trim(),
        "true 137"
    );
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    let events = d
        .docker(&[
            "events",
            "--since",
            &since,
            "--until",
            &until,
            "--filter",
            "container=hog",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .to_string();
    assert!(events.lines().any(|l| l == "oom"), "{events}");
    d.docker(&["run", "--name", "calm", "-m", "8m", "busybox", "true"])
        .ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.OOMKilled}}", "calm"])
            .ok()
            .trim(),
        "false"
    );
    d.finish();
}

/// `docker system prune -a` runs every step (containers, networks, images,
/// build cache) against berthd and reports what each removed.
#[test]
fn system_prune_runs_every_step() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&["run", "--name", "gone", "busybox", "true"]).ok();
    d.docker(&["network", "create", "prunenet"]).ok();
    d.docker(&["tag", "busybox", "prunable:1"]).ok();
    let out = d.docker(&["system", "prune", "-af"]).ok().to_string();
    assert!(out.contains("Deleted Containers:"), "{out}");
    assert!(out.contains("Deleted Networks:\nprunenet"), "{out}");
    assert!(out.contains("Deleted Images:"), "{out}");
    assert!(out.contains("Total reclaimed space:"), "{out}");
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    assert_eq!(d.docker(&["images", "-q"]).ok().trim(), "");
    d.finish();
}
