//! docker-compose v1 (Debian's `docker-compose`, python, talks to
//! DOCKER_HOST) against berthd: a two-service stack on the project's own
//! network, where `client` reaches `web` by its service name through the
//! embedded DNS, and `web` publishes port 80 on 127.0.0.1. Checks `up -d`,
//! `ps`, `logs`, `port`, and that `down` removes the containers, the
//! network and its bridge. A second stack shares a named volume between
//! two services and binds a host directory: `down` keeps the volume,
//! `down -v` removes it.

use berth_tests::{require, run, unique, Daemon, Out, DOCKER};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const COMPOSE: &str = "docker-compose";

const COMPOSE_FILE: &str = r#"version: "2.4"
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1::80"]
  client:
    image: busybox
    depends_on: [web]
    command: ["sh", "-c", "while true; do timeout 3 wget -qO- http://web/ || echo fetch-failed; sleep 1; done"]
"#;

/// Two services sharing the project's named volume `data`; `reader` also
/// binds the host directory `HOST_DIR` (replaced by the test) at /host.
const VOLUME_COMPOSE_FILE: &str = r#"version: "2.4"
services:
  writer:
    image: busybox
    command: ["sh", "-c", "echo hello-volume > /data/f && sleep 300"]
    volumes:
      - data:/data
  reader:
    image: busybox
    command: ["sh", "-c", "while ! [ -f /data/f ]; do sleep 0.1; done; cat /data/f > /host/out; sleep 300"]
    volumes:
      - data:/data
      - HOST_DIR:/host
volumes:
  data: {}
"#;

/// docker-compose with the project `project` and the file in `dir`, pointed at `d`.
fn compose(d: &Daemon, dir: &Path, project: &str, args: &[&str]) -> Out {
    let mut c = Command::new(COMPOSE);
    c.current_dir(dir)
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.dir.join("docker-config"))
        .env_remove("DOCKER_CONTEXT")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .args(["--no-ansi", "-p", project, "-f"])
        .arg(dir.join("docker-compose.yml"))
        .args(args);
    run(c, None, Duration::from_secs(120))
}

#[track_caller]
fn ok(o: Out, d: &Daemon) -> String {
    assert_eq!(o.code, 0, "{o:?}\n--- berthd log tail:\n{}", tail(&d.log()));
    o.stdout
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(6000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

/// A plain HTTP/1.0 GET to 127.0.0.1:`port`: (status, body), or None when
/// the connection or the read failed.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(3),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

#[test]
fn compose_stack_with_service_dns_and_published_port() {
    if !require(COMPOSE) || !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let dir = tempfile::Builder::new()
        .prefix("berth-compose")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(dir.path().join("docker-compose.yml"), COMPOSE_FILE).unwrap();
    let project = unique("bcomp");
    let net_name = format!("{project}_default");

    // up -d: the project network and both containers.
    ok(compose(&d, dir.path(), &project, &["up", "-d"]), &d);

    // ps lists both services, running.
    let ps = ok(compose(&d, dir.path(), &project, &["ps"]), &d);
    for svc in ["web", "client"] {
        let line = ps
            .lines()
            .find(|l| l.starts_with(&format!("{project}_{svc}_1")))
            .unwrap_or_else(|| panic!("{svc} not in ps:\n{ps}"));
        assert!(line.contains("Up"), "{svc} is not up: {line}\n{ps}");
    }
    let q = ok(compose(&d, dir.path(), &project, &["ps", "-q"]), &d);
    assert_eq!(q.lines().filter(|l| l.len() == 64).count(), 2, "{q}");

    // The project network exists, with its bridge, and holds both containers.
    let inspect = d.docker(&["network", "inspect", &net_name]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    let net: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    let net = &net[0];
    let net_id = net["Id"].as_str().unwrap().to_string();
    assert_eq!(net["Driver"], "bridge", "{net}");
    assert_eq!(
        net["Labels"]["com.docker.compose.project"], project,
        "compose's labels on the network: {net}"
    );
    let bridge = net["Options"]["com.docker.network.bridge.name"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("br-{}", &net_id[..12]));
    let sys_bridge = Path::new("/sys/class/net").join(&bridge);
    assert!(sys_bridge.exists(), "no bridge {bridge} for {net}");
    let members: Vec<String> = net["Containers"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|c| c["Name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    for svc in ["web", "client"] {
        assert!(
            members.contains(&format!("{project}_{svc}_1")),
            "{svc} is not on {net_name}: {members:?}"
        );
    }

    // client fetches http://web/ by service name (the embedded DNS).
    let deadline = Instant::now() + Duration::from_secs(20);
    let logs = loop {
        let logs = ok(
            compose(&d, dir.path(), &project, &["logs", "--no-color", "client"]),
            &d,
        );
        if logs.contains("hello-from-web") {
            break logs;
        }
        assert!(
            Instant::now() < deadline,
            "client never fetched http://web/ in 20 s; its logs:\n{logs}\n--- berthd log tail:\n{}",
            tail(&d.log())
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(logs.contains("client_1"), "{logs}");

    // web's published port, from the host.
    let port_out = ok(
        compose(&d, dir.path(), &project, &["port", "web", "80"]),
        &d,
    );
    let addr = port_out.trim();
    let (host, port) = addr
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("compose port: {port_out:?}"));
    assert_eq!(host, "127.0.0.1", "{port_out:?}");
    let port: u16 = port.parse().unwrap_or_else(|_| panic!("{port_out:?}"));
    assert_ne!(port, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        if let Some(r) = http_get(port, "/") {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no HTTP answer on 127.0.0.1:{port}\n--- berthd log tail:\n{}",
            tail(&d.log())
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!((status, body.as_str()), (200, "hello-from-web\n"));

    // down: containers, network and bridge are gone.
    ok(compose(&d, dir.path(), &project, &["down", "-t", "1"]), &d);
    let q = ok(compose(&d, dir.path(), &project, &["ps", "-q"]), &d);
    assert_eq!(q.trim(), "", "containers left after down");
    let all = d.docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "-q",
    ]);
    assert_eq!(all.code, 0, "{all:?}");
    assert_eq!(all.stdout.trim(), "", "containers left after down");
    let ls = d.docker(&["network", "ls", "--format", "{{.ID}} {{.Name}}"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    assert!(
        !ls.stdout.contains(&net_name) && !ls.stdout.contains(&net_id[..12]),
        "network left after down:\n{}",
        ls.stdout
    );
    assert!(!sys_bridge.exists(), "bridge {bridge} left after down");
    // The port is released as well.
    assert!(http_get(port, "/").is_none(), "port {port} still answers");
    d.finish();
}

/// The volumes `docker volume ls` lists, as (name, labels) lines.
fn volume_ls(d: &Daemon) -> String {
    let ls = d.docker(&["volume", "ls", "--format", "{{.Name}} {{.Labels}}"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    ls.stdout
}

#[test]
fn compose_named_volume_and_bind_mount() {
    if !require(COMPOSE) || !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let dir = tempfile::Builder::new()
        .prefix("berth-compose")
        .tempdir_in("/tmp")
        .unwrap();
    let host_dir = dir.path().join("host");
    std::fs::create_dir(&host_dir).unwrap();
    let file = VOLUME_COMPOSE_FILE.replace("HOST_DIR", host_dir.to_str().unwrap());
    std::fs::write(dir.path().join("docker-compose.yml"), file).unwrap();
    let project = unique("bcvol");
    let vol_name = format!("{project}_data");

    ok(compose(&d, dir.path(), &project, &["up", "-d"]), &d);

    // writer writes into the volume, reader sees it there and copies it
    // through the bind mount to the host.
    let out = host_dir.join("out");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::fs::read_to_string(&out).is_ok_and(|s| s == "hello-volume\n") {
            break;
        }
        if Instant::now() >= deadline {
            let logs = compose(&d, dir.path(), &project, &["logs", "--no-color"]);
            panic!(
                "{} never held \"hello-volume\" in 20 s (now {:?}); logs:\n{logs:?}\n--- berthd log tail:\n{}",
                out.display(),
                std::fs::read_to_string(&out),
                tail(&d.log())
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // The project's volume, with compose's labels.
    let ls = volume_ls(&d);
    let line = ls
        .lines()
        .find(|l| l.split(' ').next() == Some(vol_name.as_str()))
        .unwrap_or_else(|| panic!("{vol_name} not in volume ls:\n{ls}"));
    assert!(
        line.contains(&format!("com.docker.compose.project={project}")),
        "compose's project label missing: {line}"
    );
    assert!(
        line.contains("com.docker.compose.volume=data"),
        "compose's volume label missing: {line}"
    );
    let inspect = d.docker(&["volume", "inspect", &vol_name]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    let v: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(v[0]["Name"], vol_name.as_str(), "{v}");
    assert_eq!(v[0]["Driver"], "local", "{v}");
    assert_eq!(
        v[0]["Labels"]["com.docker.compose.project"],
        project.as_str(),
        "{v}"
    );
    // Both containers mount it at /data; reader also has the bind.
    for svc in ["writer", "reader"] {
        let name = format!("{project}_{svc}_1");
        let m = d.docker(&["inspect", "-f", "{{json .Mounts}}", &name]);
        assert_eq!(m.code, 0, "{m:?}");
        let mounts: serde_json::Value = serde_json::from_str(&m.stdout).unwrap();
        let mounts = mounts.as_array().unwrap();
        assert!(
            mounts.iter().any(|m| m["Type"] == "volume"
                && m["Name"] == vol_name.as_str()
                && m["Destination"] == "/data"),
            "{svc}: no volume {vol_name} at /data: {mounts:?}"
        );
        if svc == "reader" {
            assert!(
                mounts.iter().any(|m| m["Type"] == "bind"
                    && m["Source"] == host_dir.to_str().unwrap()
                    && m["Destination"] == "/host"),
                "reader: no bind of {} at /host: {mounts:?}",
                host_dir.display()
            );
        }
    }

    // down: containers go, the volume stays.
    ok(compose(&d, dir.path(), &project, &["down", "-t", "1"]), &d);
    let all = d.docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "-q",
    ]);
    assert_eq!(all.code, 0, "{all:?}");
    assert_eq!(all.stdout.trim(), "", "containers left after down");
    let ls = volume_ls(&d);
    assert!(
        ls.lines()
            .any(|l| l.split(' ').next() == Some(vol_name.as_str())),
        "down removed the volume {vol_name}:\n{ls}"
    );

    // down -v: the named volume goes too.
    ok(
        compose(&d, dir.path(), &project, &["down", "-v", "-t", "1"]),
        &d,
    );
    let ls = volume_ls(&d);
    assert!(
        !ls.lines()
            .any(|l| l.split(' ').next() == Some(vol_name.as_str())),
        "down -v left the volume {vol_name}:\n{ls}"
    );
    d.finish();
}

/// compose's `build:` goes through the legacy `POST /build`; the built
/// image runs as the service.
#[test]
fn compose_builds_a_service() {
    if !require(COMPOSE) || !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let dir = d.dir.join("build-stack");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("app/Dockerfile"),
        "FROM busybox\nARG NOTE=none\nRUN echo \"built by compose $NOTE\" > /note\nCMD [\"sh\", \"-c\", \"cat /note; sleep 300\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("docker-compose.yml"),
        "version: \"2.4\"\nservices:\n  app:\n    build:\n      context: ./app\n      args:\n        NOTE: \"ok\"\n    image: composebuilt:1\n",
    )
    .unwrap();
    let project = "berthbuild";
    ok(compose(&d, &dir, project, &["build"]), &d);
    ok(compose(&d, &dir, project, &["up", "-d"]), &d);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let logs = compose(&d, &dir, project, &["logs", "app"]).stdout;
        if logs.contains("built by compose ok") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{logs}");
        std::thread::sleep(Duration::from_millis(200));
    }
    ok(compose(&d, &dir, project, &["down"]), &d);
    d.finish();
}

/// compose's `restart:` and `healthcheck:`: the policy restarts a service
/// that fails, and the health check runs (compose shows `Up (healthy)`).
#[test]
fn compose_restart_and_healthcheck() {
    if !require(COMPOSE) || !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let dir = d.dir.join("life-stack");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("docker-compose.yml"),
        r#"version: "2.4"
services:
  flaky:
    image: busybox
    command: ["sh", "-c", "exit 1"]
    restart: on-failure:2
  web:
    image: busybox
    command: ["sleep", "300"]
    restart: always
    healthcheck:
      test: ["CMD", "true"]
      interval: 200ms
      retries: 2
"#,
    )
    .unwrap();
    let project = "berthlife";
    ok(compose(&d, &dir, project, &["up", "-d"]), &d);
    let inspect = |name: &str, f: &str| {
        d.docker(&["inspect", "-f", f, &format!("{project}_{name}_1")])
            .ok()
            .trim()
            .to_string()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while inspect("flaky", "{{.RestartCount}} {{.State.Status}}") != "2 exited"
        || inspect("web", "{{.State.Health.Status}}") != "healthy"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{} / {}",
            inspect("flaky", "{{.RestartCount}} {{.State.Status}}"),
            inspect("web", "{{.State.Health.Status}}")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        inspect("web", "{{.HostConfig.RestartPolicy.Name}}"),
        "always"
    );
    let ps = ok(compose(&d, &dir, project, &["ps"]), &d);
    assert!(ps.contains("(healthy)"), "{ps}");
    ok(compose(&d, &dir, project, &["down"]), &d);
    d.finish();
}
