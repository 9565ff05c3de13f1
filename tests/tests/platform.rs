//! Images of another CPU architecture (issue 13): berthd registers QEMU's
//! interpreters with binfmt_misc (Debian's qemu-user-static), runs arm64
//! and armhf busybox images (made from Debian's busybox-static packages of
//! those architectures) with `--platform`, warns of a platform mismatch and
//! refuses a platform the image lacks as dockerd does; without emulation a
//! foreign binary is runc's `exec format error`.
//!
//! binfmt_misc is the host's: the tests here run one at a time, and remove
//! the entries (and the binfmt_misc mount) they brought.

mod registry_support;

use berth_tests::{busybox_tar_for, ci, require, Daemon, DaemonOpts, Dockerd, DOCKER};
use registry_support::Reg;
use std::path::Path;
use std::sync::Mutex;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What binfmt_misc held before the test: restored (ours removed) on drop.
struct BinfmtGuard {
    mounted: bool,
    before: Vec<String>,
}

fn entries() -> Vec<String> {
    std::fs::read_dir(BINFMT)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "register" && n != "status")
        .collect()
}

impl BinfmtGuard {
    fn new() -> BinfmtGuard {
        BinfmtGuard {
            mounted: Path::new(BINFMT).join("register").exists(),
            before: entries(),
        }
    }
}

impl Drop for BinfmtGuard {
    fn drop(&mut self) {
        for e in entries() {
            if !self.before.contains(&e) {
                let _ = std::fs::write(Path::new(BINFMT).join(&e), "-1");
            }
        }
        if !self.mounted && Path::new(BINFMT).join("register").exists() {
            let _ = nix::mount::umount(BINFMT);
        }
    }
}

fn have_qemu() -> bool {
    let ok = Path::new("/usr/lib/binfmt.d/qemu-aarch64.conf").exists()
        && Path::new("/usr/lib/binfmt.d/qemu-arm.conf").exists();
    if !ok {
        assert!(!ci(), "qemu-user-static is required under CI");
        eprintln!("SKIP: qemu-user-static is not installed");
    }
    ok
}

fn import(d: &Daemon, arch: &str, platform: &str, tag: &str) {
    let tar = busybox_tar_for(arch);
    d.docker(&[
        "import",
        "--platform",
        platform,
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        tag,
    ])
    .ok();
}

#[test]
fn foreign_platforms_run_under_emulation() {
    if !require(DOCKER) || !have_qemu() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _binfmt = BinfmtGuard::new();
    let d = Daemon::start_with(DaemonOpts {
        config: Some(r#"{"emulation": true}"#.into()),
        ..Default::default()
    });
    import(&d, "arm64", "linux/arm64", "bb-arm64");
    import(&d, "armhf", "linux/arm/v7", "bb-armhf");
    assert_eq!(
        d.inspect("bb-arm64", "{{.Os}}/{{.Architecture}}/{{.Variant}}"),
        "linux/arm64/v8"
    );
    for (platform, image, want) in [
        ("linux/arm64", "bb-arm64", "aarch64"),
        ("linux/arm/v7", "bb-armhf", "armv7l"),
    ] {
        let out = d.docker(&["run", "--rm", "--platform", platform, image, "uname", "-m"]);
        assert_eq!(out.ok().trim(), want, "{platform}");
    }
    // docker info names the emulated platforms.
    let info = d.docker(&["info"]).ok().to_string();
    let line = info
        .lines()
        .find(|l| l.contains("berth.emulated-platforms="))
        .unwrap_or_else(|| panic!("{info}"));
    assert!(
        line.contains("linux/arm64") && line.contains("linux/arm/v7"),
        "{line}"
    );
    // No --platform and a foreign image: dockerd's warning, and it runs.
    let out = d.docker(&["run", "--rm", "bb-arm64", "uname", "-m"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "aarch64");
    assert!(
        out.stderr.contains(
            "The requested image's platform (linux/arm64/v8) does not match the detected host platform"
        ),
        "{out:?}"
    );
    // A platform the image does not have: dockerd's error (through the API:
    // the docker CLI would then try Docker Hub).
    let (status, body) = d.api(
        "POST",
        "/containers/create?platform=linux/s390x",
        br#"{"Image": "bb-arm64"}"#,
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("image with reference bb-arm64 was found but its platform (linux/arm64/v8) does not match the specified platform (linux/s390x)"),
        "{body}"
    );
    // A build for arm64: FROM --platform, RUN under emulation, the
    // platform args.
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "ARG BASE=bb-arm64\n\
         FROM --platform=$TARGETPLATFORM $BASE\n\
         ARG TARGETARCH\n\
         ARG TARGETPLATFORM\n\
         ARG BUILDARCH\n\
         RUN uname -m > /arch && echo \"$TARGETARCH $TARGETPLATFORM $BUILDARCH\" > /args\n",
    )
    .unwrap();
    let mut build = d.docker_cmd();
    build.env("DOCKER_BUILDKIT", "0").args([
        "build",
        "-q",
        "--platform",
        "linux/arm64",
        "-t",
        "built-arm64",
        ctx.to_str().unwrap(),
    ]);
    let out = berth_tests::run(build, None, std::time::Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}");
    let host_arch = d.inspect("busybox", "{{.Architecture}}");
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--platform",
            "linux/arm64",
            "built-arm64",
            "cat",
            "/arch",
            "/args"
        ])
        .ok()
        .trim(),
        format!("aarch64\narm64 linux/arm64/v8 {host_arch}")
    );
    assert_eq!(d.inspect("built-arm64", "{{.Architecture}}"), "arm64");
    // save and load --platform: an image of that platform, or an error.
    let saved = d.dir.join("arm64-save.tar");
    let out = d.docker(&[
        "save",
        "--platform",
        "linux/arm64",
        "-o",
        saved.to_str().unwrap(),
        "bb-arm64",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = d.docker(&[
        "save",
        "--platform",
        "linux/s390x",
        "-o",
        d.dir.join("s390x.tar").to_str().unwrap(),
        "bb-arm64",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("does not provide the specified platform (linux/s390x)"),
        "{out:?}"
    );
    d.docker(&["rmi", "bb-arm64"]).ok();
    let out = d.docker(&[
        "load",
        "--platform",
        "linux/s390x",
        "-i",
        saved.to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("no image for the specified platform (linux/s390x)"),
        "{out:?}"
    );
    d.docker(&[
        "load",
        "-q",
        "--platform",
        "linux/arm64",
        "-i",
        saved.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(d.inspect("bb-arm64", "{{.Architecture}}"), "arm64");
    // A multi-platform index in a local registry: pull --platform picks
    // the arm64 image, a pull without one the host's.
    let reg = Reg::start();
    let repo = format!("{}/multi", reg.addr);
    let mut entries = Vec::new();
    for (image, tag, platform) in [
        (
            "bb-arm64",
            "arm64",
            serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"}),
        ),
        (
            "busybox",
            "host",
            serde_json::json!({"os": "linux", "architecture": host_arch}),
        ),
    ] {
        let r = format!("{repo}:{tag}");
        d.docker(&["tag", image, &r]).ok();
        d.docker(&["push", "-q", &r]).ok();
        let m = reg.req(
            "GET",
            &format!("/v2/multi/manifests/{tag}"),
            &[("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")],
            b"",
        );
        assert_eq!(m.status, 200);
        entries.push(serde_json::json!({
            "mediaType": m.header("Content-Type").unwrap(),
            "digest": registry_support::sha256(&m.body),
            "size": m.body.len(),
            "platform": platform,
        }));
        d.docker(&["rmi", &r]).ok();
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    let put = reg.req(
        "PUT",
        "/v2/multi/manifests/latest",
        &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
        index.to_string().as_bytes(),
    );
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let latest = format!("{repo}:latest");
    d.docker(&["pull", "-q", "--platform", "linux/arm64", &latest])
        .ok();
    assert_eq!(d.inspect(&latest, "{{.Architecture}}"), "arm64");
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--platform",
            "linux/arm64",
            &latest,
            "uname",
            "-m"
        ])
        .ok()
        .trim(),
        "aarch64"
    );
    d.docker(&["rmi", &latest]).ok();
    d.docker(&["pull", "-q", &latest]).ok();
    assert_eq!(d.inspect(&latest, "{{.Architecture}}"), host_arch);
    // berth's own CLI, the same run.
    let out = d.berth(&[
        "run",
        "--rm",
        "--platform",
        "linux/arm64",
        "bb-arm64",
        "uname",
        "-m",
    ]);
    assert_eq!(out.ok().trim(), "aarch64");
    // And against a real dockerd, which runs it through the emulators
    // berthd registered. (dockerd 20.10 ignores an import's platform: the
    // image goes over with save and load; `--pull never`: there is no
    // registry to ask.)
    if let Some(dockerd) = Dockerd::start() {
        let saved = d.dir.join("bb-arm64.tar");
        d.docker(&["save", "-o", saved.to_str().unwrap(), "bb-arm64"])
            .ok();
        let berth = |args: &[&str]| {
            let mut c = std::process::Command::new(berth_tests::bin("berth"));
            c.arg("-H").arg(dockerd.host()).args(args);
            berth_tests::run(c, None, std::time::Duration::from_secs(60))
        };
        berth(&["load", "-q", "-i", saved.to_str().unwrap()]).ok();
        let out = berth(&[
            "run",
            "--rm",
            "--pull",
            "never",
            "--platform",
            "linux/arm64",
            "bb-arm64",
            "uname",
            "-m",
        ]);
        assert_eq!(out.ok().trim(), "aarch64", "{}", dockerd.log());
    }
    d.finish();
}

#[test]
fn without_emulation_a_foreign_binary_is_an_exec_format_error() {
    if !require(DOCKER) {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _binfmt = BinfmtGuard::new();
    if entries().iter().any(|e| e == "qemu-aarch64") {
        // Registered by someone else: not ours to take away.
        eprintln!("SKIP: the host emulates arm64 (qemu-aarch64 is registered)");
        return;
    }
    let d = Daemon::start();
    import(&d, "arm64", "linux/arm64", "bb-arm64");
    let out = d.docker(&[
        "run",
        "--rm",
        "--platform",
        "linux/arm64",
        "bb-arm64",
        "uname",
        "-m",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("exec /bin/uname: exec format error"),
        "{out:?}"
    );
    d.finish();
}
