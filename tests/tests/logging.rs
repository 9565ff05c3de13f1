//! Log drivers through the docker CLI: json-file's max-size, max-file and
//! compress rotate the log and `docker logs` reads across the rotated
//! (and gzipped) files; `none`
//! keeps nothing and `logs` says so; `local`; drivers and options berth
//! lacks are refused; daemon.json's log-driver and log-opts are defaults.

use berth_tests::{require, Daemon, DaemonOpts, DOCKER};

#[test]
fn json_file_rotation_and_drivers() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // 600 numbered lines of ~100 bytes in 2 KiB files, at most 3 kept.
    d.docker(&[
        "run", "--name", "rot", "--log-opt", "max-size=2k", "--log-opt", "max-file=3",
        "busybox", "sh", "-c",
        "i=0; while [ $i -lt 600 ]; do printf 'line %04d %s\\n' $i ................................................................................; i=$((i+1)); done",
    ])
    .ok();
    let log = d
        .docker(&["inspect", "-f", "{{.LogPath}}", "rot"])
        .ok()
        .trim()
        .to_string();
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    // Rotated at the line that would pass max-size, as dockerd.
    assert!(size(&log) <= 2048, "{}", size(&log));
    assert!(size(&format!("{log}.1")) <= 2048);
    assert!(std::path::Path::new(&format!("{log}.1")).exists());
    assert!(std::path::Path::new(&format!("{log}.2")).exists());
    assert!(!std::path::Path::new(&format!("{log}.3")).exists());
    // `logs` reads the kept files in order: the last line, and a run of
    // consecutive lines before it.
    let out = d.docker(&["logs", "rot"]).ok().to_string();
    let nums: Vec<u32> = out
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(nums.last(), Some(&599));
    assert!(nums.len() > 20 && nums.len() < 600, "{}", nums.len());
    assert!(nums.windows(2).all(|w| w[1] == w[0] + 1), "out of order");
    assert_eq!(
        d.docker(&["logs", "--tail", "2", "rot"])
            .ok()
            .lines()
            .count(),
        2
    );

    // compress: the rotated files are gzipped (`<log>.1.gz`), and `logs`
    // reads them, and a follower keeps every line across rotations.
    d.docker(&[
        "run", "-d", "--name", "gz", "--log-opt", "max-size=2k", "--log-opt", "max-file=10",
        "--log-opt", "compress=true", "busybox", "sh", "-c",
        "sleep 0.5; i=0; while [ $i -lt 300 ]; do printf 'line %04d %s\n' $i ................................................................................; i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.2; done",
    ])
    .ok();
    let mut follow = d.docker_cmd();
    follow.args(["logs", "-f", "gz"]);
    let followed = follow.output().unwrap();
    let log = d.inspect("gz", "{{.LogPath}}");
    // (A rotation about every 0.2 s and ten files kept: a follower that
    // polls every 0.1 s has two seconds of slack on a busy machine.)
    for i in 1..=9 {
        let gz = format!("{log}.{i}.gz");
        assert!(std::path::Path::new(&gz).exists(), "{gz}");
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
            &mut text,
        )
        .unwrap();
        assert!(text.starts_with("{\"log\":\"line "), "{text}");
        assert!(!std::path::Path::new(&format!("{log}.{i}")).exists());
    }
    assert!(!std::path::Path::new(&format!("{log}.10.gz")).exists());
    let numbers = |out: &str| -> Vec<u32> {
        out.lines()
            .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
            .collect()
    };
    let kept = numbers(d.docker(&["logs", "gz"]).ok());
    assert_eq!(kept.last(), Some(&299));
    assert!(kept.len() > 40 && kept.len() < 300, "{}", kept.len());
    assert!(kept.windows(2).all(|w| w[1] == w[0] + 1), "out of order");
    let all = numbers(&String::from_utf8_lossy(&followed.stdout));
    assert_eq!(all, (0..300).collect::<Vec<_>>(), "the follower lost lines");

    // A line longer than 16 KiB is kept in pieces of at most 16 KiB, as
    // dockerd splits it, and `logs` gives it back whole.
    d.docker(&[
        "run",
        "--name",
        "long",
        "busybox",
        "sh",
        "-c",
        "head -c 40000 /dev/zero | tr '\\0' a; echo",
    ])
    .ok();
    let path = d.inspect("long", "{{.LogPath}}");
    let entries: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(entries.len() >= 3, "{}", entries.len());
    let mut whole = String::new();
    for e in &entries {
        let piece = e["log"].as_str().unwrap();
        assert!(piece.len() <= 16 * 1024, "{}", piece.len());
        whole.push_str(piece);
    }
    assert_eq!(whole, format!("{}\n", "a".repeat(40000)));
    assert_eq!(d.docker(&["logs", "long"]).ok(), whole);

    // none: nothing kept, and logs says so as dockerd does.
    d.docker(&[
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ])
    .ok();
    let out = d.docker(&["logs", "quiet"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("configured logging driver does not support reading"),
        "{out:?}"
    );
    // local: kept and read.
    d.docker(&[
        "run",
        "--name",
        "loc",
        "--log-driver",
        "local",
        "busybox",
        "echo",
        "kept",
    ])
    .ok();
    assert_eq!(d.docker(&["logs", "loc"]).ok().trim(), "kept");
    // Refused by name.
    for (args, want) in [
        (&["--log-driver", "syslog"][..], "the log driver syslog"),
        (
            &["--log-opt", "compress=maybe"][..],
            "invalid value for compress",
        ),
        (&["--log-opt", "tag=x"][..], "--log-opt tag"),
    ] {
        let mut all = vec!["create"];
        all.extend_from_slice(args);
        all.extend(["busybox", "true"]);
        let out = d.docker(&all);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(want), "{args:?}: {out:?}");
    }
    d.finish();
}

#[test]
fn daemon_json_log_defaults() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start_with(DaemonOpts {
        config: Some(
            r#"{"log-driver": "json-file", "log-opts": {"max-size": "1k", "max-file": "2"}}"#
                .into(),
        ),
        ..Default::default()
    });
    d.docker(&[
        "run", "--name", "dflt", "busybox", "sh", "-c",
        "i=0; while [ $i -lt 100 ]; do echo line-$i-..........................................; i=$((i+1)); done",
    ])
    .ok();
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}",
            "dflt"
        ])
        .ok()
        .trim(),
        "json-file 1k"
    );
    let log = d
        .docker(&["inspect", "-f", "{{.LogPath}}", "dflt"])
        .ok()
        .trim()
        .to_string();
    assert!(std::path::Path::new(&format!("{log}.1")).exists());
    assert_eq!(
        d.docker(&["info", "-f", "{{.LoggingDriver}}"]).ok().trim(),
        "json-file"
    );
    d.finish();
}

/// The end of a process's output is never lost to its exit: every line of
/// a fast writer is in the log and in `docker run`'s output once it exits.
/// And an exec whose background child keeps the output pipe open still
/// ends (with what it wrote) while the child lives on.
#[test]
fn output_is_whole_at_exit_and_a_held_pipe_does_not_hold_the_exit() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let script = "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done";
    let out = d.docker(&["run", "--name", "fast", "busybox", "sh", "-c", script]);
    let want: Vec<String> = (0..3000).map(|i| format!("line-{i}")).collect();
    assert_eq!(out.ok().lines().collect::<Vec<_>>(), want);
    let logs = d.docker(&["logs", "fast"]);
    assert_eq!(logs.ok().lines().collect::<Vec<_>>(), want);

    d.docker(&["run", "-d", "--name", "held", "busybox", "sleep", "1000"])
        .ok();
    let mut cmd = d.docker_cmd();
    cmd.args(["exec", "held", "sh", "-c", "sleep 1000 & echo started"]);
    // (The bound is far beyond the shim's grace: without it, the exec
    // would wait for the sleep.)
    let out = berth_tests::run(cmd, None, std::time::Duration::from_secs(60));
    assert_eq!((out.code, out.stdout.trim()), (0, "started"), "{out:?}");
    let top = d.docker(&["top", "held"]);
    assert_eq!(top.ok().matches("sleep 1000").count(), 2, "{top:?}");
    d.finish();
}
