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
    // A glob, not `ls`: ls stats each entry, and on a busy host a process
    // listed can be gone before its stat (ls then fails).
    let ps = run(&["--pid", "host", "busybox", "sh", "-c", "cd /proc && echo *"]);
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

/// The cgroup options: `--cgroup-parent`, `--device-cgroup-rule`, the
/// blkio throttles and weight, `--oom-kill-disable`, `KernelMemoryTCP`;
/// and `--domainname`, `--annotation`. Each read back from the container's
/// cgroup on the host or from inside; what the host cannot do is discarded
/// with dockerd's warning.
#[test]
fn cgroup_options_take_effect() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let run = |args: &[&str]| -> berth_tests::Out {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        d.docker(&all)
    };
    assert_eq!(
        run(&[
            "--domainname",
            "example.org",
            "busybox",
            "cat",
            "/proc/sys/kernel/domainname"
        ])
        .ok()
        .trim(),
        "example.org"
    );
    // A device rule lets the container open a node it makes (mknod is
    // allowed for all, opening only what the rules allow).
    if std::path::Path::new("/sys/block/loop0").exists() {
        let open = "mknod /dev/l0 b 7 0 && exec 3</dev/l0 && echo opened";
        assert_eq!(
            run(&[
                "--device-cgroup-rule",
                "b 7:* rmw",
                "busybox",
                "sh",
                "-c",
                open
            ])
            .ok()
            .trim(),
            "opened"
        );
        let out = run(&["busybox", "sh", "-c", open]);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
    }
    // A domain name in the host's UTS namespace could not be applied.
    let out = d.docker(&[
        "create",
        "--uts",
        "host",
        "--domainname",
        "example.org",
        "busybox",
    ]);
    assert!(
        out.stderr.contains("Conflicting options: --domainname"),
        "{out:?}"
    );
    // The docker CLI checks the format itself; the daemon does too.
    let (status, body) = d.api(
        "POST",
        "/containers/create",
        br#"{"Image": "busybox", "HostConfig": {"DeviceCgroupRules": ["c 1:2 rwx"]}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("invalid device cgroup rule format: 'c 1:2 rwx'"),
        "{body}"
    );
    // `--cgroup-parent`, the throttles, the OOM killer and KernelMemoryTCP,
    // read from the container's cgroup on the host.
    // Under the test daemon's own parent, which its clean-up removes.
    let parent = format!("{}/own", d.cgroup_parent);
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.oom_control").exists();
    let disk = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .map(|e| format!("/dev/{}", e.file_name().to_string_lossy()))
        .find(|p| std::path::Path::new(p).exists());
    let mut args = vec![
        "run",
        "-d",
        "--name",
        "cg",
        "--cgroup-parent",
        &parent,
        "-m",
        "32m",
        "--oom-kill-disable",
        "--annotation",
        "org.example.a=b",
    ];
    let (bps, iops);
    if let Some(disk) = &disk {
        bps = format!("{disk}:1mb");
        iops = format!("{disk}:77");
        args.extend(["--device-read-bps", &bps, "--device-write-iops", &iops]);
    }
    args.extend(["busybox", "sleep", "1000"]);
    let out = d.docker(&args);
    assert_eq!(out.code, 0, "{out:?}");
    let id = out.stdout.trim().to_string();
    let cg = |ctrl: &str, file: &str| {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{ctrl}{parent}/{id}/{file}"))
            .unwrap_or_else(|e| panic!("{ctrl} {file}: {e}"))
    };
    if v1 {
        assert!(cg("memory", "memory.oom_control").contains("oom_kill_disable 1"));
        assert_eq!(cg("memory", "memory.limit_in_bytes").trim(), "33554432");
        if let Some(disk) = &disk {
            use std::os::unix::fs::MetadataExt;
            let rdev = std::fs::metadata(disk).unwrap().rdev();
            let dev = format!(
                "{}:{}",
                nix::sys::stat::major(rdev),
                nix::sys::stat::minor(rdev)
            );
            assert_eq!(
                cg("blkio", "blkio.throttle.read_bps_device").trim(),
                format!("{dev} 1048576")
            );
            assert_eq!(
                cg("blkio", "blkio.throttle.write_iops_device").trim(),
                format!("{dev} 77")
            );
        }
    } else {
        assert!(out.stderr.contains("OomKillDisable discarded"), "{out:?}");
    }
    // The annotation is in the runtime spec the container runs with.
    let spec: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.dir.join("exec/containers").join(&id).join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(spec["annotations"]["org.example.a"], "b", "{spec}");
    // `--oom-kill-disable` without a memory limit: dockerd's warning.
    let out = run(&["--oom-kill-disable", "busybox", "true"]);
    assert!(
        out.stderr
            .contains("OOM killer is disabled for the container")
            || out.stderr.contains("OomKillDisable discarded"),
        "{out:?}"
    );
    // KernelMemoryTCP (no docker CLI flag: through the API).
    let body = serde_json::json!({
        "Image": "busybox", "Cmd": ["sleep", "1000"],
        "HostConfig": {"KernelMemoryTCP": 8388608, "CgroupParent": parent},
    });
    let (status, created) = d.api(
        "POST",
        "/containers/create?name=tcp",
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let tcp_id = created["Id"].as_str().unwrap().to_string();
    d.docker(&["start", "tcp"]).ok();
    let tcp_file = format!("/sys/fs/cgroup/memory{parent}/{tcp_id}/memory.kmem.tcp.limit_in_bytes");
    if std::path::Path::new("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes").exists() {
        assert_eq!(
            std::fs::read_to_string(&tcp_file).unwrap().trim(),
            "8388608"
        );
    } else {
        assert!(
            created["Warnings"]
                .to_string()
                .contains("Limitation discarded"),
            "{created}"
        );
    }
    d.docker(&["rm", "-f", "tcp"]).ok();
    d.docker(&["rm", "-f", "cg"]).ok();
    berth_tests::remove_cgroup_parent(&parent);
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
            &["--cpu-rt-runtime", "950"][..],
            "berth does not support --cpu-rt-runtime yet",
        ),
        (&["--gpus", "all"][..], "berth does not support --gpus yet"),
        (
            &["--device-read-bps", "/dev/berth-no-such-disk:1mb"][..],
            "stat /dev/berth-no-such-disk: no such file or directory",
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
    // A seccomp profile file (the CLI sends its content) that is not a
    // profile (tests/seccomp.rs has the ones that are).
    let profile = d.dir.join("profile.json");
    std::fs::write(&profile, r#"{"defaultAction": ["SCMP_ACT_ALLOW"]}"#).unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = d.docker(&["create", "--security-opt", &opt, "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("Decoding seccomp profile failed: "),
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
    // What update cannot change is refused by name.
    let (status, body) = d.api(
        "POST",
        "/containers/upd/update",
        br#"{"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 10}]}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("berth does not support updating --ulimit yet"),
        "{body}"
    );
    // The blkio weight: written where the host has it, else discarded with
    // dockerd's warning.
    let out = d.docker(&["update", "--blkio-weight", "300", "upd"]);
    assert_eq!(out.code, 0, "{out:?}");
    let weight = d
        .docker(&["inspect", "-f", "{{.HostConfig.BlkioWeight}}", "upd"])
        .ok()
        .trim()
        .to_string();
    // (The docker CLI prints update's warnings on stdout.)
    if out.stdout.contains("Weight discarded") {
        assert_eq!(weight, "0");
    } else {
        assert_eq!(weight, "300", "{out:?}");
    }
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
