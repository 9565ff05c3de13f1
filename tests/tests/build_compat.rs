//! The legacy builder (`POST /build`, `DOCKER_BUILDKIT=0`) against a real
//! dockerd: the same context, built by the real docker CLI on both daemons,
//! must give the same image config, the same files (contents, modes,
//! owners) and the same behaviour; and bad input must fail with Docker's
//! messages and leave nothing behind.

use berth_tests::{require, Daemon, Dockerd, Out, DOCKER};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The docker CLI pointed at one daemon (berthd or dockerd).
struct Cli {
    name: &'static str,
    host: String,
    config: PathBuf,
}

impl Cli {
    fn berthd(d: &Daemon) -> Cli {
        Cli {
            name: "berthd",
            host: d.host(),
            config: d.dir.join("docker-config"),
        }
    }

    fn dockerd(dd: &Dockerd) -> Cli {
        Cli {
            name: "dockerd",
            host: dd.host(),
            config: dd.dir.join("docker-config"),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(DOCKER);
        c.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_CONTEXT");
        c
    }

    fn docker(&self, args: &[&str]) -> Out {
        let mut c = self.cmd();
        c.args(args);
        berth_tests::run(c, None, Duration::from_secs(120))
    }

    /// `docker run --pull=never --rm ARGS`: an image that is not there is
    /// an error, never a pull.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let mut all = vec!["run", "--pull=never", "--rm"];
        all.extend_from_slice(args);
        self.ok(&all)
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.docker(args);
        assert_eq!(o.code, 0, "{}: docker {args:?} failed: {o:?}", self.name);
        o.stdout
    }

    /// `docker build ARGS` with the legacy builder, from `cwd` when given,
    /// with `input` on stdin.
    fn build_in(&self, cwd: Option<&Path>, args: &[&str], input: Option<&[u8]>) -> Out {
        let mut c = self.cmd();
        c.env("DOCKER_BUILDKIT", "0").arg("build").args(args);
        if let Some(dir) = cwd {
            c.current_dir(dir);
        }
        berth_tests::run(c, input, Duration::from_secs(300))
    }

    /// `docker build ARGS CTX`.
    fn build(&self, ctx: &Path, args: &[&str]) -> Out {
        let mut all = args.to_vec();
        all.push(ctx.to_str().unwrap());
        self.build_in(None, &all, None)
    }

    /// `docker image inspect -f '{{json .Config.<field>}}'`.
    fn config(&self, image: &str, field: &str) -> String {
        self.ok(&[
            "image",
            "inspect",
            "-f",
            &format!("{{{{json .Config.{field}}}}}"),
            image,
        ])
        .trim()
        .to_string()
    }
}

/// The config fields compared between the daemons.
const FIELDS: &[&str] = &[
    "Env",
    "Entrypoint",
    "Cmd",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "Healthcheck",
    "StopSignal",
    "OnBuild",
    "Shell",
];

/// What dockerd's legacy builder gives for the parent image (checked on
/// berthd even when no dockerd is here).
const PARENT_CONFIG: &[(&str, &str)] = &[
    (
        "Env",
        r#"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/srv/app","GREETING=hello world","MODE=test","LEGACY=legacy form value","COMBINED=/srv/app/bin:test","ESCAPED=$NOTEXPANDED","DEFAULTED=fallback","VERSION_ENV=2.0"]"#,
    ),
    (
        "Entrypoint",
        r#"["/bin/sh","-c","echo entry; exec \"$@\"","entry"]"#,
    ),
    ("Cmd", r#"["cat","/srv/args.txt"]"#),
    ("WorkingDir", r#""/srv/app""#),
    ("User", r#""1000:1000""#),
    ("ExposedPorts", r#"{"53/udp":{},"80/tcp":{}}"#),
    ("Volumes", r#"{"/data":{},"/logs":{}}"#),
    (
        "Labels",
        r#"{"legacy":"label value","maintainer":"berth","multi.word":"a b c","org.example.version":"2.0"}"#,
    ),
    (
        "Healthcheck",
        r#"{"Test":["CMD-SHELL","cat /srv/args.txt || exit 1"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":10000000000,"Retries":3}"#,
    ),
    ("StopSignal", r#""SIGUSR1""#),
    (
        "OnBuild",
        r#"["RUN id -u > /tmp/onbuild.txt && echo \"$GREETING\" >> /tmp/onbuild.txt"]"#,
    ),
    ("Shell", r#"["/bin/sh","-ec"]"#),
];

/// Starts the reference dockerd with busybox, or None when it is missing
/// (a panic under CI).
fn reference() -> Option<Dockerd> {
    let dd = Dockerd::start()?;
    dd.import_busybox();
    Some(dd)
}

fn write(path: &Path, data: &[u8], mode: u32) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, data).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A gzipped tarball for ADD: a directory, files with their own modes and
/// owners, a symlink.
fn tar_gz() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let entry = |b: &mut tar::Builder<Vec<u8>>,
                 name: &str,
                 kind: tar::EntryType,
                 mode: u32,
                 (uid, gid): (u64, u64),
                 data: &[u8],
                 link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(1_600_000_000);
        h.set_size(data.len() as u64);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_path(name).unwrap();
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    let d = tar::EntryType::Directory;
    let f = tar::EntryType::Regular;
    entry(&mut b, "pkg/", d, 0o755, (0, 0), b"", None);
    entry(&mut b, "pkg/bin/", d, 0o750, (0, 0), b"", None);
    entry(
        &mut b,
        "pkg/bin/tool.sh",
        f,
        0o755,
        (0, 0),
        b"#!/bin/sh\necho tool\n",
        None,
    );
    entry(
        &mut b,
        "pkg/data.txt",
        f,
        0o640,
        (123, 456),
        b"packed data\n",
        None,
    );
    entry(
        &mut b,
        "pkg/link",
        tar::EntryType::Symlink,
        0o777,
        (0, 0),
        b"",
        Some("data.txt"),
    );
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    gz.finish().unwrap()
}

const PARENT_DOCKERFILE: &str = r#"FROM busybox
ARG VERSION=0.1
ARG BUILD_ONLY=default-only
ARG UNSET_ARG
ENV APP_HOME=/srv/app
ENV GREETING="hello world" MODE=test
ENV LEGACY legacy form value
ENV COMBINED=${APP_HOME}/bin:$MODE ESCAPED=\$NOTEXPANDED DEFAULTED=${UNSET_ARG:-fallback}
ENV VERSION_ENV=$VERSION
LABEL org.example.version="$VERSION" maintainer=berth "multi.word"="a b c"
LABEL legacy label value
EXPOSE 80 53/udp
WORKDIR /srv
WORKDIR app
COPY *.txt dir/
COPY tree /srv/tree
COPY --chown=nobody:nogroup owned.dat /srv/owned.dat
COPY a.txt /tmp
ADD arch.tar.gz /opt/
RUN echo "$VERSION|$BUILD_ONLY|$GREETING|$MODE|$LEGACY|$COMBINED|$ESCAPED|$DEFAULTED|$VERSION_ENV" > /srv/args.txt && pwd > /srv/pwd.txt
RUN ["/bin/sh", "-c", "mkdir -p /data && echo seed > /data/seed && chown -R 1000:1000 /data"]
SHELL ["/bin/sh", "-ec"]
RUN echo "shell $0 $-" > /srv/shell.txt
USER 1000:1000
RUN id > /tmp/id.txt
VOLUME ["/data", "/logs"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=30s --timeout=5s --retries=3 --start-period=10s CMD cat /srv/args.txt || exit 1
ONBUILD RUN id -u > /tmp/onbuild.txt && echo "$GREETING" >> /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "-c", "echo entry; exec \"$@\"", "entry"]
CMD ["cat", "/srv/args.txt"]
"#;

/// The context of the image with (nearly) every instruction.
fn parent_context(root: &Path) -> PathBuf {
    let ctx = root.join("compat-ctx");
    write(&ctx.join("Dockerfile"), PARENT_DOCKERFILE.as_bytes(), 0o644);
    write(&ctx.join("a.txt"), b"file a\n", 0o644);
    write(&ctx.join("b.txt"), b"file b\n", 0o600);
    write(&ctx.join("owned.dat"), b"owned by nobody\n", 0o640);
    write(&ctx.join("tree/top.txt"), b"top\n", 0o644);
    write(&ctx.join("tree/run.sh"), b"#!/bin/sh\necho run\n", 0o755);
    write(&ctx.join("tree/sub/deep.txt"), b"deep\n", 0o444);
    std::fs::set_permissions(ctx.join("tree/sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(ctx.join("tree"), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&ctx.join("arch.tar.gz"), &tar_gz(), 0o644);
    ctx
}

const PARENT_ARGS: &[&str] = &["--build-arg", "VERSION=2.0"];

/// What a container of `image` sees of the copied, added and written
/// files: name, mode, owner, size, sorted, then every file's contents.
fn files(cli: &Cli, image: &str, paths: &str) -> String {
    let script = format!(
        "cd /; for f in $(find {paths} | sort); do \
           if [ -L $f ]; then echo \"$(stat -c '%n %a %u %g' $f) -> $(readlink $f)\"; \
           elif [ -d $f ]; then stat -c '%n %a %u %g dir' $f; \
           else stat -c '%n %a %u %g %s' $f; fi; done; \
         for f in $(find {paths} -type f | sort); do echo \"== $f\"; cat $f; done"
    );
    cli.run(&["--user", "0", "--entrypoint", "sh", image, "-c", &script])
}

const PARENT_PATHS: &str = "/srv /opt /tmp /data";

/// The mtimes of what was copied from the context or extracted from the
/// tarball (files and symlinks: they keep the source's).
fn mtimes(cli: &Cli, image: &str) -> String {
    cli.run(&[
        "--user",
        "0",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "find /srv/app/dir /srv/tree /srv/owned.dat /tmp/a.txt /opt ! -type d | sort | xargs stat -c '%n %Y'",
    ])
}

/// Compares `what` between the daemons, noting a difference (line by line
/// for a value of several lines).
/// `file:<64 hex>` (and `dir:`, `multi:`) with the hex replaced by `<hash>`.
fn mask_hashes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for p in ["file:", "dir:", "multi:"] {
            if let Some(after) = rest.strip_prefix(p) {
                let hex = after.chars().take_while(|c| c.is_ascii_hexdigit()).count();
                if hex == 64 {
                    out.push_str(p);
                    out.push_str("<hash>");
                    rest = &after[64..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn compare(diffs: &mut Vec<String>, what: &str, berthd: &str, dockerd: &str) {
    if berthd == dockerd {
        return;
    }
    let (ours, theirs): (Vec<&str>, Vec<&str>) =
        (berthd.lines().collect(), dockerd.lines().collect());
    if ours.len() < 2 && theirs.len() < 2 {
        diffs.push(format!(
            "{what} differs:\n  berthd:  {berthd:?}\n  dockerd: {dockerd:?}"
        ));
        return;
    }
    let mut lines = Vec::new();
    if ours.len() == theirs.len() {
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            if o != t {
                lines.push(format!(
                    "  line {}:\n    berthd:  {o:?}\n    dockerd: {t:?}",
                    i + 1
                ));
            }
        }
    } else {
        for o in ours.iter().filter(|o| !theirs.contains(o)) {
            lines.push(format!("    berthd only:  {o:?}"));
        }
        for t in theirs.iter().filter(|t| !ours.contains(t)) {
            lines.push(format!("    dockerd only: {t:?}"));
        }
    }
    diffs.push(format!("{what} differs:\n{}", lines.join("\n")));
}

fn compare_configs(diffs: &mut Vec<String>, b: &Cli, k: &Cli, image: &str) {
    for f in FIELDS {
        compare(
            diffs,
            &format!("{image} .Config.{f}"),
            &b.config(image, f),
            &k.config(image, f),
        );
    }
}

/// Builds the parent image as `compat:parent` on one daemon and returns
/// the build's stdout.
fn build_parent(cli: &Cli, ctx: &Path) -> String {
    let mut args = vec!["-t", "compat:parent"];
    args.extend_from_slice(PARENT_ARGS);
    let out = cli.build(ctx, &args);
    assert_eq!(out.code, 0, "{}: build failed: {out:?}", cli.name);
    out.stdout
}

#[test]
fn every_common_instruction_matches_dockerd() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let b = Cli::berthd(&d);
    let ctx = parent_context(&d.dir);
    let first = build_parent(&b, &ctx);
    // What berthd gives, checked on its own (a dockerd may be missing).
    let listing = files(&b, "compat:parent", PARENT_PATHS);
    for want in [
        "/srv/app/dir/a.txt 644 0 0 7\n",
        "/srv/app/dir/b.txt 600 0 0 7\n",
        "/srv/tree/run.sh 755 0 0 ",
        "/srv/tree/sub/deep.txt 444 0 0 5\n",
        "/srv/owned.dat 640 65534 65534 16\n",
        "/tmp 1777 0 0 dir\n",
        "/tmp/a.txt 644 0 0 7\n",
        "/opt/pkg/data.txt 640 123 456 12\n",
        "/opt/pkg/link 777 0 0 -> data.txt\n",
        "/opt/pkg/bin 750 0 0 dir\n",
        "/data/seed 644 1000 1000 5\n",
        "== /srv/args.txt\n2.0|default-only|hello world|test|legacy form value|/srv/app/bin:test|$NOTEXPANDED|fallback|2.0\n",
        "== /srv/pwd.txt\n/srv/app\n",
        "== /srv/shell.txt\nshell /bin/sh ",
        "== /tmp/id.txt\nuid=1000 gid=1000",
    ] {
        assert!(listing.contains(want), "{want:?} missing:\n{listing}");
    }
    assert!(!listing.contains("arch.tar.gz"), "{listing}");
    assert_eq!(
        b.run(&["compat:parent"]),
        "entry\n2.0|default-only|hello world|test|legacy form value|/srv/app/bin:test|$NOTEXPANDED|fallback|2.0\n"
    );
    // A second build takes every step from the cache.
    let steps: usize = first
        .lines()
        .find_map(|l| l.strip_prefix("Step 1/"))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Step 1/N in:\n{first}"));
    let again = b.build(&ctx, &["-t", "compat:parent", "--build-arg", "VERSION=2.0"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        again.stdout.matches(" ---> Using cache").count(),
        steps - 1,
        "{}",
        again.stdout
    );
    assert_eq!(b.ok(&["ps", "-aq"]).trim(), "");
    let mut diffs = Vec::new();
    for (f, want) in PARENT_CONFIG {
        compare(
            &mut diffs,
            &format!("compat:parent .Config.{f} (dockerd's value)"),
            &b.config("compat:parent", f),
            want,
        );
    }

    let Some(dd) = reference() else {
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
        d.finish();
        return;
    };
    let k = Cli::dockerd(&dd);
    build_parent(&k, &ctx);
    compare_configs(&mut diffs, &b, &k, "compat:parent");
    compare(
        &mut diffs,
        "files",
        &listing,
        &files(&k, "compat:parent", PARENT_PATHS),
    );
    compare(
        &mut diffs,
        "mtimes",
        &mtimes(&b, "compat:parent"),
        &mtimes(&k, "compat:parent"),
    );
    compare(
        &mut diffs,
        "default run",
        &b.run(&["compat:parent"]),
        &k.run(&["compat:parent"]),
    );
    let history = [
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "compat:parent",
    ];
    // COPY and ADD name their sources by a content hash of each builder's
    // own (dockerd's is a tarsum of the file headers and contents): the
    // hash is masked, the rest must match word for word.
    compare(
        &mut diffs,
        "history",
        &mask_hashes(&b.ok(&history)),
        &mask_hashes(&k.ok(&history)),
    );
    // The intermediate images and the base have their ids in the history,
    // as dockerd walks the local parent chain.
    let ids = ["history", "--format", "{{.ID}}", "compat:parent"];
    let shape = |out: String| {
        out.lines()
            .map(|l| if l == "<missing>" { "<missing>" } else { "id" })
            .collect::<Vec<_>>()
            .join(" ")
    };
    compare(
        &mut diffs,
        "history ids",
        &shape(b.ok(&ids)),
        &shape(k.ok(&ids)),
    );
    drop(dd);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    d.finish();
}

#[test]
fn child_image_runs_onbuild_triggers() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let b = Cli::berthd(&d);
    let ctx = parent_context(&d.dir);
    build_parent(&b, &ctx);
    let child = d.dir.join("child-ctx");
    write(
        &child.join("Dockerfile"),
        b"FROM compat:parent\nLABEL child=yes\n",
        0o644,
    );
    let build_child = |cli: &Cli| {
        let out = cli.build(&child, &["-t", "compat:child"]);
        assert_eq!(out.code, 0, "{}: {out:?}", cli.name);
        assert!(
            out.stdout.contains("# Executing 1 build trigger"),
            "{}: {}",
            cli.name,
            out.stdout
        );
        files(cli, "compat:child", "/tmp/onbuild.txt /srv /opt")
    };
    let ours = build_child(&b);
    assert!(
        ours.contains("/tmp/onbuild.txt 644 1000 1000 17\n")
            && ours.contains("== /tmp/onbuild.txt\n1000\nhello world\n"),
        "{ours}"
    );
    assert_eq!(b.ok(&["ps", "-aq"]).trim(), "");
    let mut diffs = Vec::new();
    // The triggers are not inherited further: dockerd's child has none
    // (`null`, as any image without triggers).
    compare(
        &mut diffs,
        "compat:child .Config.OnBuild (dockerd's value)",
        &b.config("compat:child", "OnBuild"),
        "null",
    );

    if let Some(dd) = reference() {
        let k = Cli::dockerd(&dd);
        build_parent(&k, &ctx);
        let theirs = build_child(&k);
        compare(&mut diffs, "child files", &ours, &theirs);
        compare_configs(&mut diffs, &b, &k, "compat:child");
        compare(
            &mut diffs,
            "child run",
            &b.run(&["compat:child"]),
            &k.run(&["compat:child"]),
        );
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    d.finish();
}

#[test]
fn stdin_dockerfile_and_dash_f() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let b = Cli::berthd(&d);
    // A Dockerfile alone on stdin: no context.
    let df = b"FROM busybox\nENV FROM_STDIN=yes\nRUN echo \"stdin $FROM_STDIN\" > /stdin.txt\nCMD [\"cat\", \"/stdin.txt\"]\n";
    let out = b.build_in(Some(&d.dir), &["-t", "compat:stdin", "-"], Some(df));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("Successfully tagged compat:stdin\n"),
        "{out:?}"
    );
    assert_eq!(b.run(&["compat:stdin"]), "stdin yes\n");

    // -f: a Dockerfile of another name in a subdirectory of the context
    // (relative to the current directory, as the CLI resolves it) ...
    let ctx = d.dir.join("fctx");
    write(&ctx.join("payload.txt"), b"payload\n", 0o644);
    write(
        &ctx.join("Dockerfile"),
        b"FROM busybox\nRUN exit 99\n",
        0o644,
    );
    write(
        &ctx.join("sub/Other.Dockerfile"),
        b"FROM busybox\nCOPY payload.txt /payload.txt\nCOPY sub/Other.Dockerfile /other\nCMD [\"cat\", \"/payload.txt\"]\n",
        0o644,
    );
    let out = b.build_in(
        Some(&ctx),
        &["-t", "compat:inner", "-f", "sub/Other.Dockerfile", "."],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(b.run(&["compat:inner"]), "payload\n");
    assert_eq!(
        b.run(&["compat:inner", "head", "-1", "/other"]),
        "FROM busybox\n"
    );
    // ... and one outside the context: the CLI adds it to the context's
    // tar as `.dockerfile.<random>` (and to .dockerignore), and that tar
    // stream ends right after the last file's data, without its padding or
    // the end-of-archive blocks; dockerd (Go's archive/tar) takes that.
    write(
        &d.dir.join("sub/Other.Dockerfile"),
        b"FROM busybox\nCOPY payload.txt /outside.txt\nCMD [\"cat\", \"/outside.txt\"]\n",
        0o644,
    );
    let out = b.build_in(
        Some(&d.dir),
        &["-t", "compat:outer", "-f", "sub/Other.Dockerfile", "fctx"],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(b.run(&["compat:outer"]), "payload\n");
    assert_eq!(b.ok(&["ps", "-aq"]).trim(), "");
    d.finish();
}

/// Bad Dockerfiles: (name, Dockerfile, a part of berthd's message, a part
/// of dockerd's where it differs).
const BAD: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "missing file",
        "FROM busybox\nCOPY nosuch.txt /x\n",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat nosuch.txt: file does not exist",
        None,
    ),
    (
        "wildcard without match",
        "FROM busybox\nCOPY *.none /x/\n",
        "COPY failed: no source files were specified",
        None,
    ),
    (
        "two sources, destination without /",
        "FROM busybox\nCOPY a.txt b.txt /x\n",
        "When using COPY with more than one source file, the destination must be a directory and end with a /",
        None,
    ),
    (
        "unterminated quote",
        "FROM busybox\nENV A=\"unterminated\n",
        "failed to process \"\\\"unterminated\": unexpected end of statement while looking for matching double-quote",
        None,
    ),
    (
        "unterminated heredoc",
        "FROM busybox\nRUN <<EOF\necho never ends\n",
        "unterminated heredoc",
        // dockerd's legacy builder does not know heredocs: the body's
        // lines are instructions.
        Some("Error response from daemon: dockerfile parse error line 3: unknown instruction: ECHO"),
    ),
    (
        "no FROM",
        "RUN echo no base\n",
        "no build stage in current context",
        // dockerd parses before it answers: an error response, not an
        // error in the build's stream.
        Some("Error response from daemon: no build stage in current context"),
    ),
    (
        "failing RUN",
        "FROM busybox\nRUN exit 7\n",
        "The command '/bin/sh -c exit 7' returned a non-zero code: 7",
        None,
    ),
];

/// Without `--force-rm`, the container of a failed RUN is kept (as
/// dockerd does); it is removed here. Notes what differs.
fn failed_run_keeps_its_container(problems: &mut Vec<String>, cli: &Cli, ctx: &Path) {
    write(
        &ctx.join("Dockerfile"),
        b"FROM busybox\nRUN exit 7\n",
        0o644,
    );
    let out = cli.build(ctx, &["-t", "compat:bad"]);
    assert_eq!(out.code, 7, "{}: {out:?}", cli.name);
    let kept = cli.ok(&["ps", "-aq", "--filter", "status=exited"]);
    if kept.lines().count() != 1 {
        problems.push(format!(
            "{}: a failed RUN without --force-rm left {kept:?}, want one container",
            cli.name
        ));
    }
    for id in kept.lines() {
        cli.ok(&["rm", id]);
    }
}

/// `docker ps -aq` is empty, and no dangling image appeared since `before`.
fn nothing_left(problems: &mut Vec<String>, cli: &Cli, before: &str) {
    let ps = cli.ok(&["ps", "-aq"]);
    if !ps.trim().is_empty() {
        problems.push(format!("{}: containers left: {ps:?}", cli.name));
        for id in ps.lines() {
            cli.ok(&["rm", "-f", id]);
        }
    }
    let after = dangling(cli);
    if after != before {
        problems.push(format!(
            "{}: dangling images before {before:?}, after {after:?}",
            cli.name
        ));
    }
    if cli.docker(&["image", "inspect", "compat:bad"]).code == 0 {
        problems.push(format!(
            "{}: a build that was to fail tagged compat:bad",
            cli.name
        ));
        cli.ok(&["rmi", "compat:bad"]);
    }
}

fn dangling(cli: &Cli) -> String {
    cli.ok(&["images", "-aq", "--filter", "dangling=true"])
}

#[test]
fn bad_input_leaves_nothing() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let b = Cli::berthd(&d);
    let before = dangling(&b);
    let ctx = d.dir.join("bad-ctx");
    write(&ctx.join("a.txt"), b"a\n", 0o644);
    write(&ctx.join("b.txt"), b"b\n", 0o644);
    let mut problems = Vec::new();
    // Each case fails at its first step (or before), so that no step's
    // image is left either (dockerd keeps those of the steps that passed);
    // --force-rm removes the failed RUN's container.
    let check =
        |problems: &mut Vec<String>, cli: &Cli, name: &str, df: &str, args: &[&str], want: &str| {
            write(&ctx.join("Dockerfile"), df.as_bytes(), 0o644);
            let mut all = vec!["-t", "compat:bad", "--force-rm"];
            all.extend_from_slice(args);
            let out = cli.build(&ctx, &all);
            let last = out.stderr.trim_end().lines().last().unwrap_or_default();
            if out.code == 0 || !out.stderr.contains(want) {
                problems.push(format!(
                    "{}: {name}: exit {}, {last:?}, want {want:?}",
                    cli.name, out.code
                ));
            }
            if name == "failing RUN" && out.code != 7 {
                problems.push(format!("{}: {name}: exit {}, want 7", cli.name, out.code));
            }
            // What each daemon said, for the record.
            eprintln!("{}: {name}: exit {}: {last}", cli.name, out.code);
        };
    for (name, df, want, _) in BAD {
        check(&mut problems, &b, name, df, &[], want);
    }
    // Options berthd's builder refuses, naming what it refuses.
    let fine = "FROM busybox\nRUN echo fine\n";
    check(
        &mut problems,
        &b,
        "--platform linux/sparc64",
        fine,
        &["--platform", "linux/sparc64"],
        "linux/sparc64",
    );
    check(
        &mut problems,
        &b,
        "--ulimit nofile=100:100",
        fine,
        &["--ulimit", "nofile=100:100"],
        "ulimits",
    );
    nothing_left(&mut problems, &b, &before);
    failed_run_keeps_its_container(&mut problems, &b, &ctx);
    nothing_left(&mut problems, &b, &before);

    // The same Dockerfiles on dockerd (not the options: it would pull
    // busybox for sparc64, and it honours --ulimit). (sparc64: a
    // platform berth never emulates, so the refusal does not depend on
    // the host's binfmt_misc registrations.)
    if let Some(dd) = reference() {
        let k = Cli::dockerd(&dd);
        let before = dangling(&k);
        for (name, df, want, theirs) in BAD {
            check(&mut problems, &k, name, df, &[], theirs.unwrap_or(want));
        }
        nothing_left(&mut problems, &k, &before);
        failed_run_keeps_its_container(&mut problems, &k, &ctx);
        nothing_left(&mut problems, &k, &before);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    d.finish();
}
