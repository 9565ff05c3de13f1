//! `docker commit` (issue 10) through the real docker CLI against berthd:
//! a container's changes (additions, modifications, deletions) become a
//! layer of a new image, with its config and `-c` changes.

use berth_tests::{require, Daemon, DOCKER};

#[test]
fn commit_keeps_changes_config_and_history() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run", "--name", "src", "-e", "FROM_RUN=1", "-w", "/work", "busybox", "sh", "-c",
        "mkdir -p /work && echo new > /work/f && echo changed >> /etc/passwd && rm /bin/vi && rm -rf /home && mkdir /home && touch /home/only",
    ])
    .ok();
    let id = d
        .docker(&[
            "commit",
            "-a",
            "tester",
            "-m",
            "a message",
            "-c",
            "CMD [\"cat\", \"/work/f\"]",
            "-c",
            "EXPOSE 8080",
            "src",
            "snap:1",
        ])
        .ok()
        .trim()
        .to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    // The new image runs with the committed files and config.
    assert_eq!(d.docker(&["run", "--rm", "snap:1"]).ok().trim(), "new");
    let out = d.docker(&[
        "run",
        "--rm",
        "snap:1",
        "sh",
        "-c",
        "tail -1 /etc/passwd; ls /bin/vi 2>&1; ls -A /home; echo $FROM_RUN; pwd",
    ]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "changed", "{out:?}");
    assert!(
        lines[1].contains("No such file"),
        "deleted file came back: {out:?}"
    );
    assert_eq!(lines[2], "only", "opaque directory: {out:?}");
    assert_eq!(&lines[3..], ["1", "/work"], "{out:?}");
    let cfg = d.inspect(
        "snap:1",
        "{{.Author}}|{{.Comment}}|{{json .Config.ExposedPorts}}|{{len .RootFS.Layers}}",
    );
    assert_eq!(cfg, "tester|a message|{\"8080/tcp\":{}}|2");
    let hist = d
        .docker(&["history", "--format", "{{.Comment}}", "snap:1"])
        .ok()
        .to_string();
    assert!(
        hist.lines().next().unwrap_or("").contains("a message"),
        "{hist}"
    );
    // The committed image saves and loads like any other.
    let tar = d.dir.join("snap.tar");
    d.docker(&["save", "-o", tar.to_str().unwrap(), "snap:1"])
        .ok();
    d.docker(&["rmi", "snap:1"]).ok();
    d.docker(&["load", "-i", tar.to_str().unwrap()]).ok();
    assert_eq!(d.docker(&["run", "--rm", "snap:1"]).ok().trim(), "new");
    // A missing container is Docker's error.
    let bad = d.docker(&["commit", "nosuch", "x:1"]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("No such container: nosuch"),
        "{}",
        bad.stderr
    );
    d.finish();
}

#[test]
fn commit_of_a_running_container_pauses_it() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo data > /data.txt; sleep 60",
    ])
    .ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while d.docker(&["exec", "live", "cat", "/data.txt"]).code != 0 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    d.docker(&["commit", "live", "live:1"]).ok();
    assert_eq!(d.inspect("live", "{{.State.Status}}"), "running");
    let out = d.docker(&["run", "--rm", "--entrypoint", "cat", "live:1", "/data.txt"]);
    assert_eq!(out.ok().trim(), "data");
    d.finish();
}

#[test]
fn berth_commit_like_docker_commit() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.berth(&[
        "run",
        "--name",
        "bsrc",
        "busybox",
        "sh",
        "-c",
        "echo via-berth > /f",
    ])
    .ok();
    let id = d
        .berth(&[
            "commit",
            "-c",
            "CMD [\"cat\", \"/f\"]",
            "-m",
            "msg",
            "bsrc",
            "bsnap:2",
        ])
        .ok()
        .trim()
        .to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(
        d.docker(&["run", "--rm", "bsnap:2"]).ok().trim(),
        "via-berth"
    );
    assert_eq!(
        d.inspect("bsnap:2", "{{.Id}} {{.Comment}}"),
        format!("{id} msg")
    );
    let bad = d.berth(&["commit", "nosuch"]);
    let want = d.docker(&["commit", "nosuch"]);
    assert_eq!((bad.code, bad.stderr), (want.code, want.stderr));
    d.finish();
}
