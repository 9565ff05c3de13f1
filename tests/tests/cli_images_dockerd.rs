//! The `berth` image-distribution commands (push, pull, save, load, export,
//! login, logout, image history, image prune, system df) against the
//! reference daemon — a private dockerd — and a local CNCF registry
//! (Debian `docker-registry`) on 127.0.0.1, with and without htpasswd auth.
//!
//! Where the output is deterministic it is compared byte for byte with the
//! real docker CLI's. Skips with a message when dockerd, docker-registry or
//! htpasswd is missing, except under `CI=true`, where that fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use berth_tests::{CncfRegistry, Dockerd, Out};

const TIMEOUT: Duration = Duration::from_secs(180);

/// A unique directory under /tmp, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let d = tempfile::Builder::new()
            .prefix("berth-tcli")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        TempDir(d)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// `berth -H <dockerd>` with a private `DOCKER_CONFIG`.
struct Cli<'a> {
    d: &'a Dockerd,
    config: PathBuf,
    path: Option<String>,
}

impl<'a> Cli<'a> {
    fn new(d: &'a Dockerd, config: &Path) -> Cli<'a> {
        Cli {
            d,
            config: config.to_path_buf(),
            path: None,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(berth_tests::bin("berth"));
        c.arg("-H")
            .arg(self.d.host())
            .args(args)
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("BERTH_API_VERSION")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_DEFAULT_PLATFORM");
        if let Some(p) = &self.path {
            c.env("PATH", p);
        }
        c
    }

    fn run(&self, args: &[&str], input: Option<&[u8]>) -> Out {
        berth_tests::run(self.cmd(args), input, TIMEOUT)
    }

    fn berth(&self, args: &[&str]) -> Out {
        self.run(args, None)
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.berth(args);
        assert_eq!(o.code, 0, "berth {args:?}: {o:?}");
        o.stdout
    }

    /// The real docker CLI against the same daemon and config directory.
    fn docker(&self, args: &[&str]) -> Out {
        let mut c = Command::new(berth_tests::DOCKER);
        c.env("DOCKER_HOST", self.d.host())
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_CONTEXT")
            .args(args);
        berth_tests::run(c, None, TIMEOUT)
    }

    /// A shell pipeline; `berth` in `script` is this berth with our flags.
    fn sh(&self, script: &str) -> Out {
        let berth = format!(
            "{} -H {}",
            berth_tests::bin("berth").display(),
            self.d.host()
        );
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(script.replace("berth ", &format!("{berth} ")))
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("BERTH_API_VERSION")
            .env_remove("DOCKER_API_VERSION");
        berth_tests::run(c, None, TIMEOUT)
    }
}

fn docker_cli_present() -> bool {
    Path::new(berth_tests::DOCKER).is_file()
}

/// Runs `args` with docker and berth until both print the same (times
/// such as "2 seconds ago" may tick between the two runs).
fn same_output(cli: &Cli, args: &[&str]) {
    if !docker_cli_present() {
        return;
    }
    let mut last = (String::new(), String::new());
    for _ in 0..5 {
        let d = cli.docker(args);
        let b = cli.berth(args);
        assert_eq!(
            d.code, b.code,
            "exit codes of {args:?}: docker {d:?} berth {b:?}"
        );
        if d.stdout == b.stdout && d.stderr == b.stderr {
            return;
        }
        last = (
            format!("{}{}", d.stdout, d.stderr),
            format!("{}{}", b.stdout, b.stderr),
        );
    }
    assert_eq!(
        last.1, last.0,
        "berth (left) and docker (right) differ for {args:?}"
    );
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The digest from push output (`<tag>: digest: sha256:... size: N`).
fn pushed_digest(out: &str, tag: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{tag}: digest: ")))
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no digest line in {out:?}"))
        .to_string()
}

#[test]
fn push_pull_run_via_registry() {
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let cfg = TempDir::new();
    let cli = Cli::new(&d, cfg.path());
    let image = format!("{}/berth/bb:v1", reg.addr.clone());

    cli.ok(&["tag", "busybox", &image]);
    let o = cli.berth(&["push", &image]);
    assert_eq!(o.code, 0, "{o:?}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "The push refers to repository [{}/berth/bb]",
            reg.addr.clone()
        ),
        "{o:?}"
    );
    assert!(lines.iter().any(|l| l.ends_with(": Pushed")), "{o:?}");
    let digest = pushed_digest(&o.stdout, "v1");
    assert!(lines.last().unwrap().contains(" size: "), "{o:?}");
    // What the registry stores is what push reported.
    assert_eq!(reg.manifest_digest("berth/bb", "v1", None), digest);
    // A second push finds the layer there; docker prints the same.
    let again = cli.berth(&["push", &image]);
    assert!(
        again.stdout.contains(": Layer already exists\n"),
        "{again:?}"
    );
    same_output(&cli, &["push", &image]);
    // -q prints only the reference; a name without a tag gets "latest".
    assert_eq!(
        cli.ok(&["image", "push", "-q", &image]),
        format!("{image}\n")
    );
    let o = cli.berth(&["push", &format!("{}/berth/bb", reg.addr.clone())]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stdout.starts_with("Using default tag: latest\n"), "{o:?}");
    let o = cli.berth(&["push", "-a", &image]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "tag can't be used with --all-tags/-a\n")
    );

    // rmi (every name, so that the layer goes too), pull back, run it.
    cli.ok(&["rmi", &image, "busybox"]);
    let o = cli.berth(&["pull", &image]);
    assert_eq!(o.code, 0, "{o:?}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "v1: Pulling from berth/bb", "{o:?}");
    assert!(
        lines.iter().any(|l| l.ends_with(": Pull complete")),
        "{o:?}"
    );
    assert!(
        lines.contains(&format!("Digest: {digest}").as_str()),
        "{o:?}"
    );
    assert!(
        lines.contains(&format!("Status: Downloaded newer image for {image}").as_str()),
        "{o:?}"
    );
    assert_eq!(*lines.last().unwrap(), image, "{o:?}");
    assert!(
        !o.stdout.contains('\x1b'),
        "no terminal codes when piped: {o:?}"
    );
    let run = cli.ok(&["run", "--rm", "--network", "none", &image, "echo", "pulled"]);
    assert_eq!(run, "pulled\n");
    let digests = cli.ok(&["image", "inspect", "-f", "{{json .RepoDigests}}", &image]);
    assert!(digests.contains(&digest), "{digests}");

    // The same pull output as docker, line for line (after rmi each time).
    if docker_cli_present() {
        cli.ok(&["rmi", &image]);
        let dk = cli.docker(&["pull", &image]);
        assert_eq!(dk.code, 0, "{dk:?}");
        cli.ok(&["rmi", &image]);
        let b = cli.berth(&["image", "pull", &image]);
        // dockerd sends "Verifying Checksum" / "Waiting" only when its
        // throttled progress happens to catch them: not comparable.
        let stable = |s: &str| {
            s.lines()
                .filter(|l| !l.ends_with(": Verifying Checksum") && !l.ends_with(": Waiting"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            stable(&b.stdout),
            stable(&dk.stdout),
            "berth (left) vs docker (right)"
        );
    }
    same_output(&cli, &["pull", &image]);
    assert_eq!(cli.ok(&["pull", "-q", &image]), format!("{image}\n"));
    let o = cli.berth(&["pull", &format!("{}/berth/nope:v1", reg.addr.clone())]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.starts_with("Error response from daemon: "),
        "{o:?}"
    );
    assert!(o.stderr.contains("not found"), "{o:?}");
    let o = cli.berth(&["pull", "Busybox"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "invalid reference format: repository name (library/Busybox) must be lowercase\n"
        )
    );

    // On a terminal: docker's in-place layer lines.
    if berth_tests::require("script") {
        cli.ok(&["rmi", &image]);
        let mut c = Command::new("script");
        let cmdline = format!(
            "{} -H {} pull {image}",
            berth_tests::bin("berth").display(),
            d.host()
        );
        c.args(["-qec", &cmdline, "/dev/null"])
            .env("DOCKER_CONFIG", cfg.path());
        let o = berth_tests::run(c, None, TIMEOUT);
        assert_eq!(o.code, 0, "{o:?}");
        assert!(o.stdout.contains("\x1b[1A\x1b[2K\r"), "{o:?}");
        assert!(o.stdout.contains(": Pull complete \r\x1b[1B"), "{o:?}");
    }
}

#[test]
fn save_load_export() {
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let tmp = TempDir::new();
    let cli = Cli::new(&d, &tmp.path().join("config"));

    // save | load round trip through a pipe.
    let file = tmp.path().join("bb.tar");
    let o = cli.sh(&format!(
        "berth save busybox > {f} && berth rmi busybox >/dev/null && berth load < {f}",
        f = file.display()
    ));
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Loaded image: busybox:latest\n"),
        "{o:?}"
    );
    let o = cli.sh("berth save busybox | berth load");
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Loaded image: busybox:latest\n"),
        "{o:?}"
    );
    assert_eq!(
        cli.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "echo",
            "loaded"
        ]),
        "loaded\n"
    );

    // -o: a 0600 file the docker CLI loads too.
    let out = tmp.path().join("saved.tar");
    assert_eq!(
        cli.ok(&["image", "save", "-o", out.to_str().unwrap(), "busybox"]),
        ""
    );
    assert_eq!(mode(&out), 0o600);
    let list = Command::new("tar").arg("tf").arg(&out).output().unwrap();
    let names = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(names.lines().any(|l| l == "manifest.json"), "{names}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&file).unwrap());
    if docker_cli_present() {
        let o = d.docker(&["load", "-i", out.to_str().unwrap()]);
        assert_eq!(
            (o.code, o.stdout.as_str()),
            (0, "Loaded image: busybox:latest\n"),
            "{o:?}"
        );
    }
    let o = cli.berth(&["image", "load", "-q", "-i", out.to_str().unwrap()]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Loaded image: busybox:latest\n"),
        "{o:?}"
    );

    // Errors, as docker prints them; no file is left behind.
    let missing = tmp.path().join("missing.tar");
    let o = cli.berth(&["save", "-o", missing.to_str().unwrap(), "nosuch"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error response from daemon: No such image: nosuch\n")
    );
    assert!(!missing.exists());
    same_output(&cli, &["save", "-o", "/nonexistent-berth/x.tar", "busybox"]);
    let o = cli.run(&["load"], Some(b"garbage"));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(!o.stderr.is_empty(), "{o:?}");
    let o = cli.berth(&["load", "-i", "/nonexistent-berth.tar"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "open /nonexistent-berth.tar: no such file or directory\n"
        )
    );

    // export: the container's filesystem, to stdout or -o.
    let id = cli.ok(&["create", "--network", "none", "busybox", "true"]);
    let id = id.trim();
    let o = cli.sh(&format!("berth export {id} | tar t"));
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.lines().any(|l| l == "bin/busybox"), "{o:?}");
    let exported = tmp.path().join("fs.tar");
    cli.ok(&["container", "export", "-o", exported.to_str().unwrap(), id]);
    assert_eq!(mode(&exported), 0o600);
    if docker_cli_present() {
        let theirs = tmp.path().join("fs-docker.tar");
        let o = d.docker(&["export", "-o", theirs.to_str().unwrap(), id]);
        assert_eq!(o.code, 0, "{o:?}");
        let list = |p: &Path| {
            let o = Command::new("tar").arg("tvf").arg(p).output().unwrap();
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        assert_eq!(list(&exported), list(&theirs));
    }
    let o = cli.berth(&["export", "nosuch"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Error response from daemon: No such container: nosuch\n")
    );
}

#[test]
fn login_push_logout_with_htpasswd() {
    if !berth_tests::require("htpasswd") {
        return;
    }
    let Some(reg) = CncfRegistry::start(Some(("user", "pass"))) else {
        return;
    };
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let tmp = TempDir::new();
    let cfg_dir = tmp.path().join("config");
    let cli = Cli::new(&d, &cfg_dir);
    let cfg_file = cfg_dir.join("config.json");
    let server = reg.addr.clone();
    let image = format!("{server}/private/bb:v1");
    cli.ok(&["tag", "busybox", &image]);

    // Anonymous push is refused by the registry.
    let o = cli.berth(&["push", &image]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("no basic auth credentials"), "{o:?}");

    // Wrong password: the daemon's 401-derived message, exit 1, nothing stored.
    let o = cli.berth(&["login", "-u", "user", "-p", "wrong", &server]);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(
        o.stderr,
        format!(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n\
             Error response from daemon: login attempt to http://{server}/v2/ failed with status: 401 Unauthorized\n"
        )
    );
    assert!(!cfg_file.exists());

    // Other settings in the file are kept.
    std::fs::create_dir_all(&cfg_dir).unwrap();
    std::fs::write(&cfg_file, "{\n\t\"psFormat\": \"table {{.ID}}\"\n}").unwrap();
    let o = cli.run(
        &["login", "-u", "user", "--password-stdin", &server],
        Some(b"pass\n"),
    );
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Login Succeeded\n"),
        "{o:?}"
    );
    assert!(
        o.stderr
            .contains("WARNING! Your credentials are stored unencrypted in"),
        "{o:?}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_file).unwrap()).unwrap();
    assert_eq!(v["auths"][&server]["auth"], "dXNlcjpwYXNz", "{v}");
    assert_eq!(v["psFormat"], "table {{.ID}}", "{v}");

    // A fresh file is 0600 and exactly what docker writes.
    std::fs::remove_file(&cfg_file).unwrap();
    let o = cli.berth(&["login", "-u", "user", "-p", "pass", &server]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Login Succeeded\n"),
        "{o:?}"
    );
    assert_eq!(mode(&cfg_file), 0o600);
    if docker_cli_present() {
        let theirs = tmp.path().join("docker-config");
        let mut c = Command::new(berth_tests::DOCKER);
        c.env("DOCKER_HOST", d.host())
            .env("DOCKER_CONFIG", &theirs)
            .args(["login", "-u", "user", "-p", "pass", &server]);
        let dk = berth_tests::run(c, None, TIMEOUT);
        assert_eq!(dk.code, 0, "{dk:?}");
        assert_eq!(
            std::fs::read_to_string(&cfg_file).unwrap(),
            std::fs::read_to_string(theirs.join("config.json")).unwrap()
        );
        assert_eq!(
            o.stderr.replace(&cfg_dir.display().to_string(), "DIR"),
            dk.stderr.replace(&theirs.display().to_string(), "DIR")
        );
    }

    // With the stored credentials push and pull work.
    let o = cli.berth(&["push", &image]);
    assert_eq!(o.code, 0, "{o:?}");
    let digest = pushed_digest(&o.stdout, "v1");
    assert_eq!(
        reg.manifest_digest("private/bb", "v1", Some("dXNlcjpwYXNz")),
        digest
    );
    cli.ok(&["rmi", &image]);
    let o = cli.berth(&["pull", &image]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains(&format!("Digest: {digest}\n")), "{o:?}");
    // login without -u reuses them.
    let o = cli.berth(&["login", &server]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "Login Succeeded\n"),
        "{o:?}"
    );
    assert!(
        o.stderr
            .starts_with("Authenticating with existing credentials... [Username: user]\n"),
        "{o:?}"
    );
    same_output(&cli, &["login", &server]);

    // logout removes the entry; pulling needs credentials again.
    let o = cli.berth(&["logout", &server]);
    assert_eq!(
        (o.code, o.stdout.clone()),
        (0, format!("Removing login credentials for {server}\n")),
        "{o:?}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_file).unwrap()).unwrap();
    assert!(v["auths"].get(&server).is_none(), "{v}");
    same_output(&cli, &["logout", &server]);
    cli.ok(&["rmi", &image]);
    let o = cli.berth(&["pull", &image]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("no basic auth credentials"), "{o:?}");
    let o = cli.berth(&["login", &server]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "Error: Cannot perform an interactive login from a non TTY device\n"
        )
    );

    // A credential helper (credHelpers) supplies them instead of the file.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-berthtest");
    std::fs::write(
        &helper,
        "#!/bin/sh\ncase \"$1\" in get) read s; printf '{\"ServerURL\":\"%s\",\"Username\":\"user\",\"Secret\":\"pass\"}' \"$s\";; *) cat >/dev/null;; esac\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        &cfg_file,
        format!("{{\"credHelpers\": {{\"{server}\": \"berthtest\"}}}}"),
    )
    .unwrap();
    let mut with_helper = Cli::new(&d, &cfg_dir);
    with_helper.path = Some(format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    ));
    let o = with_helper.berth(&["pull", &image]);
    assert_eq!(o.code, 0, "{o:?}");
}

#[test]
fn history_df_prune() {
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let tmp = TempDir::new();
    let cli = Cli::new(&d, tmp.path());

    let o = cli.ok(&["image", "history", "busybox"]);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines.len(), 2, "{o}");
    assert!(lines[0].starts_with("IMAGE          CREATED"), "{o}");
    assert!(lines[0].ends_with("CREATED BY   SIZE      COMMENT"), "{o}");
    assert!(lines[1].ends_with("Imported from -"), "{o}");
    let id = cli.ok(&["image", "inspect", "-f", "{{.Id}}", "busybox"]);
    assert_eq!(
        cli.ok(&["history", "-q", "busybox"]),
        format!("{}\n", &id.trim()[7..19])
    );
    assert_eq!(cli.ok(&["history", "-q", "--no-trunc", "busybox"]), id);
    for args in [
        &["image", "history", "busybox"][..],
        &["image", "history", "--no-trunc", "busybox"],
        &["image", "history", "--human=false", "busybox"],
        &["image", "history", "--format", "json", "busybox"],
        &[
            "image",
            "history",
            "--format",
            "{{.ID}}: {{.Size}}",
            "busybox",
        ],
        &["image", "history", "nosuch"],
    ] {
        same_output(&cli, args);
    }

    // system df: docker's summary table, and the verbose one.
    cli.ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "holder",
        "busybox",
        "true",
    ]);
    let o = cli.ok(&["system", "df"]);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(
        lines[0], "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE",
        "{o}"
    );
    assert!(
        lines[1].starts_with("Images          1         1         "),
        "{o}"
    );
    assert!(
        lines[2].starts_with("Containers      1         0         "),
        "{o}"
    );
    assert!(
        lines[3].starts_with("Local Volumes   0         0         "),
        "{o}"
    );
    assert!(
        lines[4].starts_with("Build Cache     0         0         "),
        "{o}"
    );
    for args in [
        &["system", "df"][..],
        &["system", "df", "-v"],
        &["system", "df", "--format", "json"],
        &["system", "df", "--format", "{{.Type}}={{.Reclaimable}}"],
        &["system", "df", "-v", "--format", "{{json .Images}}"],
    ] {
        same_output(&cli, args);
    }

    // image prune: dangling images only, confirmation unless -f.
    d.docker(&["import", berth_tests::busybox_tar().to_str().unwrap()]);
    let images = |all: bool| {
        let args: &[&str] = if all {
            &["images", "-a", "-q"]
        } else {
            &["images", "-q"]
        };
        cli.ok(args).lines().count()
    };
    assert_eq!(images(true), 2);
    let o = cli.run(&["image", "prune"], Some(b"n\n"));
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] "),
        "{o:?}"
    );
    assert_eq!(images(true), 2);
    let o = cli.ok(&["image", "prune", "-f"]);
    assert!(o.starts_with("Deleted Images:\ndeleted: sha256:"), "{o}");
    assert!(o.contains("\n\nTotal reclaimed space: "), "{o}");
    assert_eq!(images(true), 1);
    assert_eq!(
        cli.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    // -a with a filter: only the labelled, unused image goes.
    d.docker(&[
        "import",
        "-c",
        "LABEL old=1",
        berth_tests::busybox_tar().to_str().unwrap(),
        "old:1",
    ]);
    let o = cli.run(
        &["image", "prune", "-a", "--filter", "label=old"],
        Some(b"y\n"),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.starts_with("WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] Deleted Images:\nuntagged: old:1\ndeleted: sha256:"), "{o:?}");
    assert_eq!(cli.ok(&["images", "-q"]).lines().count(), 1);
    let o = cli.berth(&["image", "prune", "--filter", "bad"]);
    assert_eq!(o.code, 125, "{o:?}");
}
