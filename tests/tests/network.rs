//! Networking (issue 8) through the real docker CLI against a private
//! berthd: published ports, user-defined networks with DNS by name and
//! alias, host/none/container: modes, network commands, bad input with
//! Docker's errors, a daemon killed with -9, and many containers at once.
//! Traffic goes only to 127.0.0.0/8 and to the test daemon's own bridges.

use berth_tests::{free_port, require, Daemon, DaemonOpts, DOCKER};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

fn docker_ok() -> bool {
    require(DOCKER) && require("nft")
}

/// GET `path` from `ip:port` (HTTP/1.0), retried for up to 5 s while the
/// server starts; the body, or None.
fn http_get(ip: &str, port: u16, path: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let addr = format!("{ip}:{port}").parse().unwrap();
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            s.set_read_timeout(Some(Duration::from_secs(3))).ok();
            let _ = s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes());
            let mut buf = String::new();
            if s.read_to_string(&mut buf).is_ok() && buf.starts_with("HTTP/1") {
                return buf.split_once("\r\n\r\n").map(|x| x.1.to_string());
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn published_ports_reach_the_container() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let p = free_port();
    let ps = format!("127.0.0.1:{p}:80");
    let id = d.docker(&[
        "run", "-d", "--name", "web", "-p", &ps, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc",
    ]);
    let id = id.ok().trim().to_string();
    let body = http_get("127.0.0.1", p, "/hostname").expect("published port answers");
    assert_eq!(body.trim(), &id[..12]);
    assert_eq!(
        d.docker(&["port", "web"]).ok().trim(),
        format!("80/tcp -> 127.0.0.1:{p}")
    );
    assert!(d
        .docker(&["ps"])
        .ok()
        .contains(&format!("127.0.0.1:{p}->80/tcp")));
    assert_eq!(
        d.inspect(
            "web",
            "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}"
        ),
        p.to_string()
    );
    // The host port is held: another container cannot have it.
    let again = d.docker(&["run", "-d", "-p", &ps, "busybox", "true"]);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint")
            && again.stderr.contains(&format!("Bind for 127.0.0.1:{p} failed: port is already allocated")),
        "{}",
        again.stderr
    );
    // ... and neither can a host program.
    assert!(std::net::TcpListener::bind(("127.0.0.1", p)).is_err());

    // -P publishes exposed ports on random ports from the ephemeral range.
    d.docker(&[
        "run", "-d", "--name", "anyport", "-P", "--expose", "80", "busybox", "httpd", "-f", "-p",
        "80", "-h", "/etc",
    ])
    .ok();
    let line = d
        .docker(&["port", "anyport", "80"])
        .ok()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let hp: u16 = line.rsplit(':').next().unwrap().parse().unwrap();
    assert!(hp >= 1024, "{line}");
    let gw = format!("{}.1", d.net.prefix);
    assert!(http_get("127.0.0.1", hp, "/hostname").is_some());
    // Through the host's bridge address, from the host and from containers,
    // and from the container itself (hairpin).
    assert!(http_get(&gw, hp, "/hostname").is_some());
    let url = format!("http://{gw}:{hp}/hostname");
    let other = d.docker(&[
        "run", "--rm", "busybox", "timeout", "5", "wget", "-qO-", &url,
    ]);
    assert_eq!(other.code, 0, "{other:?}");
    let own = d.docker(&["exec", "anyport", "timeout", "5", "wget", "-qO-", &url]);
    assert_eq!(own.code, 0, "hairpin: {own:?}");
    // IPv6: a port on every address is served on [::] too (the userland
    // proxy), and a port can be published on [::1] alone.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let ports = d.docker(&["port", "anyport", "80"]).ok().to_string();
        assert!(ports.contains(&format!("[::]:{hp}")), "{ports}");
        assert!(http_get("[::1]", hp, "/hostname").is_some(), "[::1]:{hp}");
        let p6 = free_port();
        let spec = format!("[::1]:{p6}:80");
        d.docker(&[
            "run", "-d", "--name", "v6", "-p", &spec, "busybox", "httpd", "-f", "-p", "80", "-h",
            "/etc",
        ])
        .ok();
        assert!(http_get("[::1]", p6, "/hostname").is_some(), "[::1]:{p6}");
        assert_eq!(
            d.docker(&["port", "v6"]).ok().trim(),
            format!("80/tcp -> [::1]:{p6}")
        );
        assert!(std::net::TcpListener::bind(("::1", p6)).is_err());
        d.docker(&["rm", "-f", "v6"]).ok();
    }

    // Stopping releases the port; the firewall forgets it.
    d.docker(&["rm", "-f", "web"]).ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpListener::bind(("127.0.0.1", p)).is_err() {
        assert!(Instant::now() < deadline, "port {p} still held after rm");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rules = std::process::Command::new("nft")
        .args(["list", "table", "ip", &d.net.table])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(!rules.contains(&format!("dport {p} ")), "{rules}");
    assert!(rules.contains(&format!("dport {hp} ")), "{rules}");
    d.finish();
}

#[test]
fn default_bridge_inspect_and_etc_files() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--hostname",
        "myhost",
        "--add-host",
        "foo:192.0.2.9",
        "--add-host",
        "gw:host-gateway",
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "example.test",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let ip = d.inspect("c1", "{{.NetworkSettings.IPAddress}}");
    assert!(ip.starts_with(&format!("{}.", d.net.prefix)), "{ip}");
    assert_eq!(
        d.inspect("c1", "{{.NetworkSettings.Gateway}}"),
        format!("{}.1", d.net.prefix)
    );
    assert_eq!(
        d.inspect("c1", "{{.NetworkSettings.Networks.bridge.IPAddress}}"),
        ip
    );
    assert_eq!(d.inspect("c1", "{{.HostConfig.NetworkMode}}"), "bridge");
    let mac = d.inspect("c1", "{{.NetworkSettings.MacAddress}}");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "c2",
        "--mac-address",
        "02:42:0a:0b:0c:0d",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    assert_eq!(
        d.inspect("c2", "{{.NetworkSettings.MacAddress}}"),
        "02:42:0a:0b:0c:0d"
    );
    let link = d
        .docker(&["exec", "c2", "cat", "/sys/class/net/eth0/address"])
        .ok()
        .to_string();
    assert_eq!(link.trim(), "02:42:0a:0b:0c:0d");
    let ifc = d
        .docker(&["exec", "c1", "ip", "addr", "show", "eth0"])
        .ok()
        .to_string();
    assert!(
        ifc.contains(&format!("inet {ip}/24")) && ifc.contains(&mac),
        "{ifc}"
    );
    let hosts = d
        .docker(&["exec", "c1", "cat", "/etc/hosts"])
        .ok()
        .to_string();
    assert!(hosts.contains("192.0.2.9\tfoo"), "{hosts}");
    assert!(
        hosts.contains(&format!("{}.1\tgw", d.net.prefix)),
        "{hosts}"
    );
    assert!(hosts.contains(&format!("{ip}\tmyhost")), "{hosts}");
    let resolv = d
        .docker(&["exec", "c1", "cat", "/etc/resolv.conf"])
        .ok()
        .to_string();
    assert!(
        resolv.contains("nameserver 192.0.2.53") && resolv.contains("search example.test"),
        "{resolv}"
    );
    // The container reaches the host's bridge address; the host reaches the container.
    let gw = format!("{}.1", d.net.prefix);
    assert_eq!(
        d.docker(&["exec", "c1", "ping", "-c", "1", "-W", "2", &gw])
            .code,
        0
    );
    let ping = std::process::Command::new("ping")
        .args(["-c", "1", "-W", "2", &ip])
        .status();
    if let Ok(st) = ping {
        assert!(st.success());
    }
    let bridge = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{index .Options \"com.docker.network.bridge.name\"}} {{(index .IPAM.Config 0).Subnet}}",
        "bridge",
    ]);
    assert_eq!(
        bridge.ok().trim(),
        format!("{} {}.0/24", d.net.bridge, d.net.prefix)
    );
    d.finish();
}

#[test]
fn user_networks_resolve_names_and_aliases() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let sub = format!("{}.0/24", d.net.prefix.replace(|_: char| false, "")).replace(".0/24", "");
    // A subnet of this daemon's block, next to its bridge's.
    let parts: Vec<&str> = sub.split('.').collect();
    let subnet = format!(
        "{}.{}.{}.0/24",
        parts[0],
        parts[1],
        parts[2].parse::<u8>().unwrap() + 1
    );
    let gateway = format!(
        "{}.{}.{}.254",
        parts[0],
        parts[1],
        parts[2].parse::<u8>().unwrap() + 1
    );
    let fixed = format!(
        "{}.{}.{}.77",
        parts[0],
        parts[1],
        parts[2].parse::<u8>().unwrap() + 1
    );
    d.docker(&[
        "network",
        "create",
        "--subnet",
        &subnet,
        "--gateway",
        &gateway,
        "--label",
        "team=a",
        "front",
    ])
    .ok();
    d.docker(&["network", "create", "back"]).ok();
    let ls = d
        .docker(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        .ok()
        .to_string();
    for n in [
        "front bridge",
        "back bridge",
        "bridge bridge",
        "host host",
        "none null",
    ] {
        assert!(ls.contains(n), "{ls}");
    }
    assert_eq!(
        d.docker(&["network", "ls", "-q", "--filter", "label=team=a"])
            .ok()
            .lines()
            .count(),
        1
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        "front",
        "--network-alias",
        "api",
        "--ip",
        &fixed,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ])
    .ok();
    assert_eq!(
        d.inspect("srv", "{{.NetworkSettings.Networks.front.IPAddress}}"),
        fixed
    );
    assert_eq!(
        d.inspect("srv", "{{.NetworkSettings.Networks.front.Gateway}}"),
        gateway
    );
    let names = d.inspect("srv", "{{json .NetworkSettings.Networks.front.DNSNames}}");
    assert!(
        names.contains("\"srv\"") && names.contains("\"api\""),
        "{names}"
    );
    // By name and by alias, as soon as run returns.
    for host in ["srv", "api", "srv.front"] {
        let url = format!("http://{host}/hostname");
        let out = d.docker(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "timeout",
            "5",
            "wget",
            "-qO-",
            &url,
        ]);
        assert_eq!(out.code, 0, "{host}: {out:?}");
    }
    let resolv = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "cat",
            "/etc/resolv.conf",
        ])
        .ok()
        .to_string();
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");
    // Not from another network, and not from the default bridge.
    let other = d.docker(&[
        "run",
        "--rm",
        "--network",
        "back",
        "busybox",
        "nslookup",
        "srv",
        "127.0.0.11",
    ]);
    assert_ne!(other.code, 0, "{other:?}");
    // network inspect shows the container; connect/disconnect a running one.
    let containers = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}",
        "front",
    ]);
    assert_eq!(containers.ok().trim(), format!("srv {fixed}/24"));
    d.docker(&[
        "run",
        "-d",
        "--name",
        "cli",
        "--network",
        "back",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let before = d.docker(&["exec", "cli", "nslookup", "srv", "127.0.0.11"]);
    assert_ne!(before.code, 0);
    d.docker(&["network", "connect", "--alias", "client", "front", "cli"])
        .ok();
    let after = d.docker(&[
        "exec",
        "cli",
        "timeout",
        "5",
        "wget",
        "-qO-",
        "http://api/hostname",
    ]);
    assert_eq!(after.code, 0, "{after:?}");
    let both = d.inspect("cli", "{{len .NetworkSettings.Networks}}");
    assert_eq!(both, "2");
    let twice = d.docker(&["network", "connect", "front", "cli"]);
    assert_ne!(twice.code, 0);
    assert!(
        twice.stderr.contains("already exists in network front"),
        "{}",
        twice.stderr
    );
    let by_alias = d.docker(&["exec", "srv", "nslookup", "client", "127.0.0.11"]);
    assert_eq!(by_alias.code, 0, "{by_alias:?}");
    d.docker(&["network", "disconnect", "front", "cli"]).ok();
    assert_eq!(d.inspect("cli", "{{len .NetworkSettings.Networks}}"), "1");
    assert_ne!(
        d.docker(&["exec", "cli", "ip", "link", "show", "eth1"])
            .code,
        0
    );
    // A network in use cannot be removed; an unused one can, and prune takes the rest.
    let rm = d.docker(&["network", "rm", "front"]);
    assert_ne!(rm.code, 0);
    assert!(rm.stderr.contains("has active endpoints"), "{}", rm.stderr);
    d.docker(&["rm", "-f", "srv", "cli"]).ok();
    d.docker(&["network", "create", "spare"]).ok();
    let bridge_of = |n: &str| {
        let id = d
            .docker(&["network", "inspect", "-f", "{{.Id}}", n])
            .ok()
            .trim()
            .to_string();
        format!("br-{}", &id[..12])
    };
    let spare = bridge_of("spare");
    assert!(std::path::Path::new("/sys/class/net").join(&spare).exists());
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.docker(&["network", "rm", "front"]).code != 0 {
        assert!(Instant::now() < deadline, "front never became free");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pruned = d.docker(&["network", "prune", "-f"]).ok().to_string();
    assert!(
        pruned.contains("spare") && pruned.contains("back"),
        "{pruned}"
    );
    assert!(!std::path::Path::new("/sys/class/net").join(&spare).exists());
    d.finish();
}

#[test]
fn host_none_and_container_modes() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    // host: the host's interfaces, among them this daemon's bridge.
    let links = d
        .docker(&["run", "--rm", "--network", "host", "busybox", "ip", "link"])
        .ok()
        .to_string();
    assert!(links.contains(&d.net.bridge), "{links}");
    // none: loopback only.
    let none = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "ip",
            "-o",
            "link",
        ])
        .ok()
        .to_string();
    assert_eq!(none.lines().count(), 1, "{none}");
    assert!(none.contains("lo:"), "{none}");
    // container:X shares X's interfaces and address, across a daemon restart.
    d.docker(&[
        "run", "-d", "--name", "xx", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc",
    ])
    .ok();
    let ip = d.inspect("xx", "{{.NetworkSettings.IPAddress}}");
    let joined = d
        .docker(&[
            "run",
            "--rm",
            "--network",
            "container:xx",
            "busybox",
            "ip",
            "addr",
            "show",
            "eth0",
        ])
        .ok()
        .to_string();
    assert!(joined.contains(&format!("inet {ip}/")), "{joined}");
    let local = d.docker(&[
        "run",
        "--rm",
        "--network",
        "container:xx",
        "busybox",
        "timeout",
        "5",
        "wget",
        "-qO-",
        "http://127.0.0.1:8080/hostname",
    ]);
    assert_eq!(local.code, 0, "{local:?}");
    let missing = d.docker(&[
        "run",
        "--rm",
        "--network",
        "container:nosuch",
        "busybox",
        "true",
    ]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("No such container: nosuch"),
        "{}",
        missing.stderr
    );
    d.docker(&["create", "--name", "stopped", "busybox", "true"])
        .ok();
    let stopped = d.docker(&[
        "run",
        "--rm",
        "--network",
        "container:stopped",
        "busybox",
        "true",
    ]);
    assert_ne!(stopped.code, 0);
    assert!(
        stopped.stderr.contains("non running container"),
        "{}",
        stopped.stderr
    );
    let conflict = d.docker(&[
        "run",
        "--rm",
        "--network",
        "container:xx",
        "-p",
        "80:80",
        "busybox",
        "true",
    ]);
    assert_ne!(conflict.code, 0);
    assert!(
        conflict
            .stderr
            .contains("conflicting options: port publishing and the container type network mode"),
        "{}",
        conflict.stderr
    );
    d.finish();
}

#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let block: Vec<u8> = d
        .net
        .prefix
        .split('.')
        .map(|x| x.parse().unwrap())
        .collect();
    let sub = |k: u8| format!("{}.{}.{}.0/24", block[0], block[1], block[2] + k);
    d.docker(&["network", "create", "--subnet", &sub(2), "one"])
        .ok();
    let links_before = std::fs::read_dir("/sys/class/net").unwrap().count();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["network".into(), "create".into(), "one".into()],
            "already exists",
        ),
        (
            vec![
                "network".into(),
                "create".into(),
                "--subnet".into(),
                sub(2),
                "two".into(),
            ],
            "overlaps",
        ),
        (
            vec![
                "network".into(),
                "create".into(),
                "--subnet".into(),
                sub(3),
                "--gateway".into(),
                "192.0.2.1".into(),
                "three".into(),
            ],
            "gateway",
        ),
        (
            vec![
                "network".into(),
                "create".into(),
                "-d".into(),
                "nosuchdriver".into(),
                "four".into(),
            ],
            "not found",
        ),
        (
            vec!["network".into(), "rm".into(), "bridge".into()],
            "pre-defined",
        ),
        (
            vec!["network".into(), "rm".into(), "nosuchnet".into()],
            "not found",
        ),
        (
            vec![
                "run".into(),
                "--rm".into(),
                "--network".into(),
                "one".into(),
                "--ip".into(),
                "192.0.2.5".into(),
                "busybox".into(),
                "true".into(),
            ],
            "does not belong",
        ),
        (
            vec![
                "run".into(),
                "--rm".into(),
                "--ip".into(),
                format!("{}.{}.{}.9", block[0], block[1], block[2]),
                "busybox".into(),
                "true".into(),
            ],
            "user defined networks only",
        ),
        (
            vec![
                "run".into(),
                "--rm".into(),
                "--network".into(),
                "nosuchnet".into(),
                "busybox".into(),
                "true".into(),
            ],
            "not found",
        ),
        (
            vec![
                "run".into(),
                "--rm".into(),
                "-p".into(),
                "70000:80".into(),
                "busybox".into(),
                "true".into(),
            ],
            "invalid",
        ),
    ];
    for (args, want) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = d.docker(&a);
        assert_ne!(out.code, 0, "{args:?} succeeded");
        assert!(
            out.stderr.to_lowercase().contains(want),
            "{args:?}: {}",
            out.stderr
        );
    }
    // The same --ip twice: the second start fails and leaves no endpoint.
    let ip = format!("{}.{}.{}.10", block[0], block[1], block[2] + 2);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "aa",
        "--network",
        "one",
        "--ip",
        &ip,
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let dup = d.docker(&[
        "run",
        "-d",
        "--name",
        "bb",
        "--network",
        "one",
        "--ip",
        &ip,
        "busybox",
        "sleep",
        "60",
    ]);
    assert_ne!(dup.code, 0);
    assert!(
        dup.stderr.contains("Address already in use"),
        "{}",
        dup.stderr
    );
    let members = d.docker(&["network", "inspect", "-f", "{{len .Containers}}", "one"]);
    assert_eq!(members.ok().trim(), "1");
    d.docker(&["rm", "-f", "aa"]).ok();
    // b can start now that the address is free.
    d.docker(&["start", "bb"]).ok();
    assert_eq!(
        d.inspect("bb", "{{.NetworkSettings.Networks.one.IPAddress}}"),
        ip
    );
    d.docker(&["rm", "-f", "bb"]).ok();
    // Failed creates made no bridge.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_dir("/sys/class/net").unwrap().count() > links_before
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(std::fs::read_dir("/sys/class/net").unwrap().count() <= links_before);
    d.finish();
}

#[test]
fn kill9_keeps_network_state() {
    if !docker_ok() {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&["network", "create", "app"]).ok();
    let p = free_port();
    let ps = format!("127.0.0.1:{p}:80");
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        "app",
        "-p",
        &ps,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "cli",
        "--network",
        "app",
        "busybox",
        "sleep",
        "120",
    ])
    .ok();
    let ip = d.inspect("srv", "{{.NetworkSettings.Networks.app.IPAddress}}");
    d.kill9_and_restart();
    // Ports, DNS and addresses are as they were.
    assert!(
        http_get("127.0.0.1", p, "/hostname").is_some(),
        "port after restart\n{}",
        d.log()
    );
    let out = d.docker(&[
        "exec",
        "cli",
        "timeout",
        "5",
        "wget",
        "-qO-",
        "http://srv/hostname",
    ]);
    assert_eq!(out.code, 0, "DNS after restart: {out:?}\n{}", d.log());
    assert_eq!(
        d.inspect("srv", "{{.NetworkSettings.Networks.app.IPAddress}}"),
        ip
    );
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", p)).is_err(),
        "port no longer held"
    );
    let again = d.docker(&["run", "-d", "-p", &ps, "busybox", "true"]);
    assert!(
        again.stderr.contains("port is already allocated"),
        "{again:?}"
    );
    // A new container gets a new address.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "third",
        "--network",
        "app",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let third = d.inspect("third", "{{.NetworkSettings.Networks.app.IPAddress}}");
    let cli = d.inspect("cli", "{{.NetworkSettings.Networks.app.IPAddress}}");
    assert!(third != ip && third != cli, "{third} reused");
    d.finish();
}

#[test]
fn fifty_containers_in_parallel() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&["network", "create", "many"]).ok();
    let names: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    std::thread::scope(|s| {
        for chunk in names.chunks(10) {
            let d = &d;
            s.spawn(move || {
                for n in chunk {
                    d.docker(&[
                        "run",
                        "-d",
                        "--name",
                        n,
                        "--network",
                        "many",
                        "busybox",
                        "sleep",
                        "120",
                    ])
                    .ok();
                }
            });
        }
    });
    let mut ips: Vec<String> = names
        .iter()
        .map(|n| d.inspect(n, "{{.NetworkSettings.Networks.many.IPAddress}}"))
        .collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 50, "{ips:?}");
    for (a, b) in [("m0", "m49"), ("m17", "m3"), ("m49", "m25")] {
        let out = d.docker(&["exec", a, "nslookup", b, "127.0.0.11"]);
        assert_eq!(out.code, 0, "{a} -> {b}: {out:?}");
    }
    d.finish();
}

/// A fake upstream DNS server on loopback: answers every A query with
/// 192.0.2.123 and counts the queries.
fn fake_upstream(ip: Ipv4Addr) -> Option<UdpSocket> {
    let s = UdpSocket::bind((ip, 53)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let s2 = s.try_clone().ok()?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = s2.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let mut r = buf[..n].to_vec();
            r[2] = 0x81;
            r[3] = 0x80;
            r[6] = 0;
            r[7] = 1;
            r[8..12].fill(0);
            r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 123]);
            let _ = s2.send_to(&r, from);
        }
    });
    Some(s)
}

#[test]
fn dns_forwarding_to_a_fake_upstream() {
    if !docker_ok() {
        return;
    }
    // A unique loopback address of this test's, port 53.
    let ip = Ipv4Addr::new(127, 53, (std::process::id() % 250) as u8, 7);
    let Some(_up) = fake_upstream(ip) else {
        panic!("cannot bind {ip}:53");
    };
    let d = Daemon::start_with(DaemonOpts {
        config: Some(format!("{{\"dns-forward\": true, \"dns\": [\"{ip}\"]}}")),
        ..Default::default()
    });
    d.docker(&["network", "create", "fwd"]).ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        "fwd",
        "busybox",
        "nslookup",
        "upstream.example.test",
        "127.0.0.11",
    ]);
    assert!(out.stdout.contains("192.0.2.123"), "{out:?}");
    // A container's own --dns servers take the place of the daemon's.
    let ip2 = Ipv4Addr::new(127, 53, (std::process::id() % 250) as u8, 8);
    let up2 = UdpSocket::bind((ip2, 53)).expect("second upstream");
    up2.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (n, from) = up2.recv_from(&mut buf).unwrap();
        let mut r = buf[..n].to_vec();
        r[2] = 0x81;
        r[3] = 0x80;
        r[6] = 0;
        r[7] = 1;
        r[8..12].fill(0);
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 124]);
        up2.send_to(&r, from).unwrap();
    });
    let ip2s = ip2.to_string();
    let own = d.docker(&[
        "run",
        "--rm",
        "--network",
        "fwd",
        "--dns",
        &ip2s,
        "busybox",
        "sh",
        "-c",
        "cat /etc/resolv.conf; nslookup other.example.test",
    ]);
    assert!(own.stdout.contains("192.0.2.124"), "{own:?}");
    assert!(
        own.stdout.contains("nameserver 127.0.0.11") && !own.stdout.contains(&ip2s),
        "{own:?}"
    );
    t.join().unwrap();
    // Known names never go upstream.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "known",
        "--network",
        "fwd",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let known = d.docker(&[
        "run",
        "--rm",
        "--network",
        "fwd",
        "busybox",
        "nslookup",
        "known",
        "127.0.0.11",
    ]);
    assert!(
        !known.stdout.contains("192.0.2.123") && known.code == 0,
        "{known:?}"
    );
    d.finish();
}

#[test]
fn dns_forwarding_off_answers_locally_only() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&["network", "create", "--internal", "sealed"])
        .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "inner",
        "--network",
        "sealed",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "nslookup",
        "nosuchname",
        "127.0.0.11",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stdout.contains("NXDOMAIN") || out.stderr.contains("NXDOMAIN"),
        "{out:?}"
    );
    let ok = d.docker(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "nslookup",
        "inner",
        "127.0.0.11",
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");
    d.finish();
}

#[test]
fn berth_cli_prints_what_the_docker_cli_prints() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let block: Vec<u8> = d
        .net
        .prefix
        .split('.')
        .map(|x| x.parse().unwrap())
        .collect();
    let subnet = format!("{}.{}.{}.0/24", block[0], block[1], block[2] + 3);
    // Created by berth, read by both.
    d.berth(&[
        "network", "create", "--subnet", &subnet, "--label", "k=v", "cmp",
    ])
    .ok();
    let p = free_port();
    let spec = format!("127.0.0.1:{p}:80");
    d.berth(&[
        "run",
        "-d",
        "--name",
        "pw",
        "--network",
        "cmp",
        "-p",
        &spec,
        "-p",
        "9090/udp",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
    ])
    .ok();
    assert!(http_get("127.0.0.1", p, "/").is_some());
    d.assert_same_output(
        &[
            &["network", "ls"],
            &["network", "ls", "--no-trunc", "-f", "label=k=v"],
            &["network", "inspect", "cmp"],
            &[
                "network",
                "inspect",
                "-f",
                "{{.Name}} {{.Driver}} {{len .Containers}}",
                "cmp",
                "bridge",
            ],
            &["port", "pw"],
            &["port", "pw", "80"],
            &["ps", "--format", "{{.Names}} {{.Ports}} {{.Networks}}"],
            &["inspect", "-f", "{{json .NetworkSettings.Ports}}", "pw"],
        ],
        false,
    );
    // Errors too.
    d.assert_same_output(
        &[
            &["network", "rm", "cmp"],
            &["network", "inspect", "nosuch"],
            &["port", "pw", "81"],
        ],
        true,
    );
    d.berth(&["rm", "-f", "pw"]).ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.berth(&["network", "rm", "cmp"]).code != 0 {
        assert!(Instant::now() < deadline, "cmp never became free");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.finish();
}

#[test]
fn without_the_firewall_ports_go_through_the_userland_proxy() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start_with(DaemonOpts {
        config: Some("{\"iptables\": false}".into()),
        ..Default::default()
    });
    // No firewall to keep forwarded traffic on the bridge: no forwarding.
    let fwd = std::fs::read_to_string(format!(
        "/proc/sys/net/ipv4/conf/{}/forwarding",
        d.net.bridge
    ))
    .unwrap();
    assert_eq!(fwd.trim(), "0");
    let tables = std::process::Command::new("nft")
        .args(["list", "tables"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&tables.stdout).contains(&d.net.table));
    let p = free_port();
    let spec = format!("127.0.0.1:{p}:80");
    let id = d.docker(&[
        "run", "-d", "-p", &spec, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc",
    ]);
    let id = id.ok().trim().to_string();
    assert_eq!(
        http_get("127.0.0.1", p, "/hostname").unwrap().trim(),
        &id[..12]
    );
    let udp = d.docker(&["run", "-d", "-p", "127.0.0.1::53/udp", "busybox", "true"]);
    assert_ne!(udp.code, 0);
    assert!(udp.stderr.contains("only TCP ports"), "{}", udp.stderr);
    d.finish();

    // Neither the firewall nor the proxy: publishing is refused, not ignored.
    let d = Daemon::start_with(DaemonOpts {
        config: Some("{\"iptables\": false, \"userland-proxy\": false}".into()),
        ..Default::default()
    });
    let out = d.docker(&["run", "-d", "-p", "80", "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("both are off"), "{}", out.stderr);
    d.finish();
}

#[test]
fn the_network_mode_stays_first_after_connects() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&["network", "create", "zeta"]).ok();
    d.docker(&["network", "create", "alpha"]).ok();
    let p = free_port();
    let ps = format!("127.0.0.1:{p}:80");
    d.docker(&[
        "create",
        "--name",
        "web",
        "--network",
        "zeta",
        "-p",
        &ps,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ])
    .ok();
    // Connected while stopped: alpha sorts first, but zeta is the mode.
    d.docker(&["network", "connect", "alpha", "web"]).ok();
    d.docker(&["start", "web"]).ok();
    assert!(http_get("127.0.0.1", p, "/hostname").is_some());
    let zeta_gw = d.inspect("web", "{{.NetworkSettings.Networks.zeta.Gateway}}");
    let route = d
        .docker(&["exec", "web", "ip", "route", "show", "default"])
        .ok()
        .to_string();
    assert!(
        route.contains(&format!("via {zeta_gw} dev eth0")),
        "{route}"
    );
    d.finish();
}

#[test]
fn a_renamed_container_answers_to_its_new_name() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&["network", "create", "rn"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "before",
        "--network",
        "rn",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    d.docker(&["rename", "before", "after"]).ok();
    let new = d.docker(&[
        "run",
        "--rm",
        "--network",
        "rn",
        "busybox",
        "nslookup",
        "after",
        "127.0.0.11",
    ]);
    assert_eq!(new.code, 0, "{new:?}");
    let old = d.docker(&[
        "run",
        "--rm",
        "--network",
        "rn",
        "busybox",
        "nslookup",
        "before",
        "127.0.0.11",
    ]);
    assert_ne!(old.code, 0, "{old:?}");
    let names = d.inspect("after", "{{json .NetworkSettings.Networks.rn.DNSNames}}");
    assert!(
        names.contains("\"after\"") && !names.contains("\"before\""),
        "{names}"
    );
    d.finish();
}

#[test]
fn api_details_docker_py_relies_on() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let block: Vec<u8> = d
        .net
        .prefix
        .split('.')
        .map(|x| x.parse().unwrap())
        .collect();
    let subnet = format!("{}.{}.{}.0/24", block[0], block[1], block[2] + 5);
    let aux = format!("{}.{}.{}.2", block[0], block[1], block[2] + 5);
    // Nulls inside IPAM (docker-py's IPAMPool), a name with a space, and
    // auxiliary addresses kept from containers.
    let body = format!(
        r#"{{"Name":"with space","Driver":null,"IPAM":{{"Driver":"default","Config":[{{"Subnet":"{subnet}","IPRange":null,"Gateway":null,"AuxiliaryAddresses":{{"router":"{aux}"}}}}]}}}}"#
    );
    let (status, out) = d.api("POST", "/networks/create", body.as_bytes());
    assert_eq!(status, 201, "{out}");
    // IPAM options as asked: null when none were given (docker-py's
    // IPAMConfig), as dockerd shows them.
    assert_eq!(
        d.docker(&[
            "network",
            "inspect",
            "-f",
            "{{json .IPAM.Options}}",
            "with space"
        ])
        .ok()
        .trim(),
        "null"
    );
    let aux_back = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{json (index .IPAM.Config 0).AuxiliaryAddresses}}",
        "with space",
    ]);
    assert_eq!(aux_back.ok().trim(), format!("{{\"router\":\"{aux}\"}}"));
    d.docker(&[
        "run",
        "-d",
        "--name",
        "cc",
        "--network",
        "with space",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let ip = d.inspect(
        "cc",
        "{{(index .NetworkSettings.Networks \"with space\").IPAddress}}",
    );
    assert_eq!(
        ip,
        format!("{}.{}.{}.3", block[0], block[1], block[2] + 5),
        "the auxiliary address was handed out"
    );
    d.docker(&["rm", "-f", "cc"]).ok();
    // Endpoint driver options: kept and shown, as dockerd's bridge driver
    // keeps keys it does not read (docker-py's networking_config test);
    // the ones dockerd applies are refused by name.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "eo",
        "--network",
        "name=with space,driver-opt=key1=a",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let opts = d.inspect(
        "eo",
        "{{json (index .NetworkSettings.Networks \"with space\").DriverOpts}}",
    );
    assert_eq!(opts, r#"{"key1":"a"}"#);
    d.docker(&["rm", "-f", "eo"]).ok();
    let refused = d.docker(&[
        "create",
        "--network",
        "name=with space,driver-opt=com.docker.network.endpoint.ifname=foo0",
        "busybox",
    ]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(
        refused.stderr.contains(
            "berth does not support the endpoint option com.docker.network.endpoint.ifname yet"
        ),
        "{refused:?}"
    );
    // --link-local-ip: an extra address on the interface, as dockerd.
    let ll = d.docker(&[
        "run",
        "--rm",
        "--link-local-ip",
        "169.254.8.8",
        "busybox",
        "ip",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(ll.ok().contains("inet 169.254.8.8/16"), "{ll:?}");
    // Settings berth cannot apply are refused, not ignored.
    for body in [
        &br#"{"Name":"nm","Options":{"com.docker.network.bridge.enable_ip_masquerade":"false"}}"#[..],
        br#"{"Name":"sc","Scope":"swarm"}"#,
        br#"{"Name":"v4","EnableIPv4":false}"#,
        br#"{"Name":"v6","Options":{"com.docker.network.enable_ipv6":"true"}}"#,
        br#"{"Name":"ih","Options":{"com.docker.network.bridge.inhibit_ipv4":"true"}}"#,
    ] {
        let (status, out) = d.api("POST", "/networks/create", body);
        assert_eq!(status, 400, "{out}");
        assert!(
            out.contains("not supported")
                || out.contains("swarm")
                || out
                    .contains("unsupported network option: com.docker.network.bridge.inhibit_ipv4"),
            "{out}"
        );
    }
    // What dockerd's bridge and default IPAM drivers do not read is kept and
    // shown (compose's driver_opts and ipam options).
    let (status, out) = d.api(
        "POST",
        "/networks/create",
        br#"{"Name":"kept","Options":{"com.docker.network.enable_ipv6":"false","vendor.key":"v"},"IPAM":{"Driver":"default","Options":{"foo":"bar"}}}"#,
    );
    assert_eq!(status, 201, "{out}");
    let shown = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{json .Options}} {{json .IPAM.Options}}",
        "kept",
    ]);
    assert_eq!(
        shown.ok().trim(),
        r#"{"com.docker.network.enable_ipv6":"false","vendor.key":"v"} {"foo":"bar"}"#
    );
    let (status, out) = d.api("POST", "/networks/create", br#"{"Name":"  "}"#);
    assert_eq!(
        (status, out.contains("name is empty")),
        (400, true),
        "{out}"
    );
    // A struct field sent as null keeps its zero value, as Go's decoder
    // (compose's Mount(read_only=None)); inspect shows every field of
    // dockerd's HostConfig, with the defaults resolved at create.
    let (status, out) = d.api(
        "POST",
        "/containers/create?name=nulls",
        br#"{"Image":"busybox","Cmd":["true"],"Tty":null,"HostConfig":{"Privileged":null,"Memory":null,"CpuCount":2,"Mounts":[{"Type":"tmpfs","Target":"/x","Source":null,"ReadOnly":null,"Consistency":null}]}}"#,
    );
    assert_eq!(status, 201, "{out}");
    let hc = d.inspect("nulls", "{{json .HostConfig}}");
    let hc: serde_json::Value = serde_json::from_str(&hc).unwrap();
    for (k, want) in [
        ("PidMode", serde_json::json!("")),
        ("UsernsMode", serde_json::json!("")),
        ("IpcMode", serde_json::json!("private")),
        ("CgroupnsMode", serde_json::json!("host")),
        ("ShmSize", serde_json::json!(67108864)),
        ("Dns", serde_json::Value::Null),
        ("ExtraHosts", serde_json::Value::Null),
        ("CpuCount", serde_json::json!(2)),
        ("ConsoleSize", serde_json::json!([0, 0])),
        (
            "RestartPolicy",
            serde_json::json!({"Name": "", "MaximumRetryCount": 0}),
        ),
    ] {
        assert_eq!(hc[k], want, "{k} in {hc}");
    }
    assert!(
        hc["MaskedPaths"]
            .as_array()
            .unwrap()
            .contains(&"/proc/timer_list".into()),
        "{hc}"
    );
    assert!(hc.get("Init").is_none(), "{hc}");
    // Before API 1.40 the IPC is shareable unless asked, as dockerd keeps it.
    let (status, out) = d.api(
        "POST",
        "/v1.30/containers/create?name=oldipc",
        br#"{"Image":"busybox","Cmd":["true"]}"#,
    );
    assert_eq!(status, 201, "{out}");
    assert_eq!(d.inspect("oldipc", "{{.HostConfig.IpcMode}}"), "shareable");
    d.docker(&["rm", "nulls", "oldipc"]).ok();
    // The system paths: masked by default, not with systempaths=unconfined
    // or MaskedPaths given empty.
    let masked = d.docker(&["run", "--rm", "busybox", "wc", "-c", "/proc/timer_list"]);
    assert!(masked.ok().trim().starts_with("0 "), "{masked:?}");
    let open = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "systempaths=unconfined",
        "busybox",
        "head",
        "-c",
        "10",
        "/proc/timer_list",
    ]);
    assert_eq!(open.ok(), "Timer List", "{open:?}");
    let (status, out) = d.api(
        "POST",
        "/containers/create?name=mp",
        br#"{"Image":"busybox","Cmd":["sh","-c","head -c 10 /proc/timer_list; touch /etc/x || echo ' ro'"],"HostConfig":{"MaskedPaths":[],"ReadonlyPaths":["/etc"]}}"#,
    );
    assert_eq!(status, 201, "{out}");
    d.docker(&["start", "-a", "mp"]).ok();
    assert_eq!(d.docker(&["logs", "mp"]).ok().trim(), "Timer List ro");
    let ro = d.docker(&["run", "--rm", "busybox", "touch", "/proc/sys/x"]);
    assert_ne!(ro.code, 0, "{ro:?}");
    // Not a swarm node: 503 as dockerd (docker-py's leave_swarm relies on it).
    let (status, out) = d.api("POST", "/swarm/leave?force=1", b"");
    assert_eq!(status, 503, "{out}");
    assert!(out.contains("This node is not part of a swarm"), "{out}");
    d.finish();
}

#[test]
fn legacy_links_on_the_default_bridge_and_user_networks() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "db",
        "-e",
        "SECRET=s3",
        "--expose",
        "5432",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let ip = d.inspect("db", "{{.NetworkSettings.IPAddress}}");
    let out = d.docker(&[
        "run",
        "--rm",
        "--name",
        "app",
        "--link",
        "db:database",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hosts; env; ping -c 1 -W 2 database >/dev/null && echo reached",
    ]);
    let s = out.ok().to_string();
    assert!(
        s.contains(&format!("{ip}\tdatabase ")) && s.contains(" db\n"),
        "{s}"
    );
    for want in [
        "DATABASE_NAME=/app/database".to_string(),
        format!("DATABASE_PORT=tcp://{ip}:5432"),
        format!("DATABASE_PORT_5432_TCP_ADDR={ip}"),
        "DATABASE_PORT_5432_TCP_PORT=5432".to_string(),
        "DATABASE_ENV_SECRET=s3".to_string(),
        "reached".to_string(),
    ] {
        assert!(s.contains(&want), "{want} missing in:\n{s}");
    }
    // On a user network a link is a name only the linking container resolves.
    d.docker(&["network", "create", "ln"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "ln",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let linked = d.docker(&[
        "run",
        "--rm",
        "--network",
        "ln",
        "--link",
        "web:backend",
        "busybox",
        "nslookup",
        "backend",
        "127.0.0.11",
    ]);
    assert_eq!(linked.code, 0, "{linked:?}");
    let other = d.docker(&[
        "run",
        "--rm",
        "--network",
        "ln",
        "busybox",
        "nslookup",
        "backend",
        "127.0.0.11",
    ]);
    assert_ne!(other.code, 0, "{other:?}");
    // A link on a user network may name a container that comes later: it
    // is kept in the network's endpoint (HostConfig.Links stays null, as
    // with dockerd 20.10) and resolves once that container is there. The
    // same through `network connect` (docker-py's test_connect_with_links).
    d.docker(&[
        "run",
        "-d",
        "--name",
        "early",
        "--network",
        "ln",
        "--link",
        "later:lt",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    assert_eq!(
        d.inspect(
            "early",
            "{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.ln.Links}}"
        ),
        r#"null ["later:lt"]"#
    );
    d.docker(&["network", "create", "ln2"]).ok();
    let (status, out) = d.api(
        "POST",
        "/networks/ln2/connect",
        br#"{"Container":"early","EndpointConfig":{"Links":["later:lt2"]}}"#,
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        d.inspect("early", "{{json .NetworkSettings.Networks.ln2.Links}}"),
        r#"["later:lt2"]"#
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "later",
        "--network",
        "ln",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    d.docker(&["network", "connect", "ln2", "later"]).ok();
    for alias in ["lt", "lt2"] {
        let found = d.docker(&["exec", "early", "nslookup", alias, "127.0.0.11"]);
        assert_eq!(found.code, 0, "{alias}: {found:?}");
    }
    d.docker(&["rm", "-f", "early", "later"]).ok();
    d.docker(&["network", "rm", "ln2"]).ok();
    // Bad links: Docker's errors, before anything runs.
    let missing = d.docker(&["run", "--rm", "--link", "nosuch:x", "busybox", "true"]);
    assert!(
        missing
            .stderr
            .contains("could not get container for nosuch"),
        "{missing:?}"
    );
    d.docker(&["create", "--name", "stopped", "busybox", "true"])
        .ok();
    let stopped = d.docker(&["run", "--rm", "--link", "stopped:s", "busybox", "true"]);
    assert!(
        stopped
            .stderr
            .contains("Cannot link to a non running container"),
        "{stopped:?}"
    );
    d.finish();
}

/// berth's networks have no IPv6, and as dockerd it is off inside the
/// container (all interfaces, new ones, `lo`): no address, no duplicate
/// address detection or router solicitations on the bridge. The same with
/// `--network none`, on a user network, and `--sysctl` still wins. The
/// host's own setting is untouched.
#[test]
fn ipv6_is_off_in_containers_as_dockerd() {
    if !docker_ok() || !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        return;
    }
    let host = || std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6").unwrap();
    let before = host();
    let d = Daemon::start();
    let probe = "for c in all default lo eth0; do f=/proc/sys/net/ipv6/conf/$c/disable_ipv6; \
                 [ -e $f ] && echo $c=$(cat $f); done; echo addrs=$(ip -6 addr | grep -c inet6)";
    let net = format!("v6off{}", std::process::id());
    d.docker(&["network", "create", &net]).ok();
    for (mode, want) in [
        ("bridge", "all=1\ndefault=1\nlo=1\neth0=1\naddrs=0\n"),
        (net.as_str(), "all=1\ndefault=1\nlo=1\neth0=1\naddrs=0\n"),
        ("none", "all=1\ndefault=1\nlo=1\naddrs=0\n"),
    ] {
        let out = d.docker(&[
            "run",
            "--rm",
            "--network",
            mode,
            "busybox",
            "sh",
            "-c",
            probe,
        ]);
        assert_eq!(out.ok(), want, "--network {mode}");
    }
    let out = d.docker(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv6.conf.all.disable_ipv6=0",
        "busybox",
        "sh",
        "-c",
        "cat /proc/sys/net/ipv6/conf/all/disable_ipv6; ip -6 addr show lo | grep -c ::1",
    ]);
    assert_eq!(out.ok(), "0\n1\n");
    assert_eq!(host(), before, "the host's IPv6 setting changed");
    d.docker(&["network", "rm", &net]).ok();
    d.finish();
}

/// `-o com.docker.network.bridge.enable_icc=false`: the network's
/// containers reach its gateway but not one another (isolated bridge
/// ports); on a network without it they do.
#[test]
fn icc_false_keeps_a_networks_containers_apart() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "network",
        "create",
        "-o",
        "com.docker.network.bridge.enable_icc=false",
        "noicc",
    ])
    .ok();
    d.docker(&["network", "create", "icc"]).ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "pa",
        "--network",
        "noicc",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    d.docker(&["network", "connect", "icc", "pa"]).ok();
    let probe = |net: &str| {
        let ip = d.inspect(
            "pa",
            &format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}"),
        );
        let gw = d.inspect(
            "pa",
            &format!("{{{{.NetworkSettings.Networks.{net}.Gateway}}}}"),
        );
        let script = format!(
            "ping -c 1 -W 2 {gw} >/dev/null && echo gateway; ping -c 1 -W 2 {ip} >/dev/null && echo peer; true"
        );
        d.docker(&[
            "run",
            "--rm",
            "--network",
            net,
            "busybox",
            "sh",
            "-c",
            &script,
        ])
        .ok()
        .trim()
        .to_string()
    };
    assert_eq!(probe("noicc"), "gateway");
    assert_eq!(probe("icc"), "gateway\npeer");
    let opt = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{index .Options \"com.docker.network.bridge.enable_icc\"}}",
        "noicc",
    ]);
    assert_eq!(opt.ok().trim(), "false");
    let bad = d.docker(&[
        "network",
        "create",
        "-o",
        "com.docker.network.bridge.enable_icc=maybe",
        "bad",
    ]);
    assert!(bad.stderr.contains("enable_icc"), "{bad:?}");
    d.docker(&["rm", "-f", "pa"]).ok();
    d.finish();
    // The daemon's "icc": false does the same on the default bridge.
    let d = Daemon::start_with(DaemonOpts {
        config: Some(r#"{"icc": false}"#.into()),
        ..Default::default()
    });
    d.docker(&["run", "-d", "--name", "pb", "busybox", "sleep", "60"])
        .ok();
    let ip = d.inspect("pb", "{{.NetworkSettings.IPAddress}}");
    let gw = d.inspect("pb", "{{.NetworkSettings.Gateway}}");
    let script = format!(
        "ping -c 1 -W 2 {gw} >/dev/null && echo gateway; ping -c 1 -W 2 {ip} >/dev/null && echo peer; true"
    );
    let out = d.docker(&["run", "--rm", "busybox", "sh", "-c", &script]);
    assert_eq!(out.ok().trim(), "gateway");
    let opt = d.docker(&[
        "network",
        "inspect",
        "-f",
        "{{index .Options \"com.docker.network.bridge.enable_icc\"}}",
        "bridge",
    ]);
    assert_eq!(opt.ok().trim(), "false");
    // Links would need ports opened between the pair: refused, not ignored.
    let linked = d.docker(&["run", "--rm", "--link", "pb", "busybox", "true"]);
    assert!(
        linked
            .stderr
            .contains("berth does not support --link on the default bridge with icc disabled yet"),
        "{linked:?}"
    );
    d.docker(&["rm", "-f", "pb"]).ok();
    d.finish();
}
