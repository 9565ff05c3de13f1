//! `ssh://` hosts (issue 14): berth reaches a daemon through the system
//! `ssh`, which runs `berth system dial-stdio` on the remote side, as the
//! docker CLI does with `docker system dial-stdio`. The remote is a sshd of
//! the test's own on loopback (its own host key, one authorized key),
//! stopped by PID at the end.

use berth_tests::{bin, ci, free_port, run, Daemon};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn have(tool: &str) -> bool {
    let ok = Path::new(tool).exists();
    if !ok {
        assert!(!ci(), "{tool} is required under CI");
        eprintln!("SKIP: {tool} is not installed");
    }
    ok
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn berth_over_ssh() {
    if !have("/usr/sbin/sshd") || !have("/usr/bin/ssh") {
        return;
    }
    let d = Daemon::start();
    let dir = d.dir.join("ssh");
    std::fs::create_dir_all(&dir).unwrap();
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let port = free_port();
    let bin_dir = bin("berth").parent().unwrap().to_path_buf();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             SetEnv PATH={b}:/usr/local/bin:/usr/bin:/bin BERTH_HOST=unix://{s}\n",
            d = dir.display(),
            b = bin_dir.display(),
            s = d.sock.display()
        ),
    )
    .unwrap();
    // sshd's privilege separation directory; the guard stops the sshd and
    // removes what the test made, even when an assertion fails.
    struct Sshd {
        child: std::process::Child,
        made_run: bool,
    }
    impl Drop for Sshd {
        fn drop(&mut self) {
            // SAFETY: signalling the sshd we started, by PID.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let _ = self.child.wait();
            if self.made_run {
                let _ = std::fs::remove_dir("/run/sshd");
            }
        }
    }
    let made_run = !Path::new("/run/sshd").exists();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let _sshd = Sshd {
        child: Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-f")
            .arg(dir.join("sshd_config"))
            .arg("-E")
            .arg(dir.join("sshd.log"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
        made_run,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The client's ssh options, as a user's ~/.ssh/config would give them:
    // an `ssh` first on PATH that adds `-F`.
    std::fs::write(
        dir.join("ssh_config"),
        format!(
            "Host 127.0.0.1\n  Port {port}\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  \
             StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let wrap = dir.join("path");
    std::fs::create_dir_all(&wrap).unwrap();
    std::fs::write(
        wrap.join("ssh"),
        format!(
            "#!/bin/sh\nexec /usr/bin/ssh -F {}/ssh_config \"$@\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let st = Command::new("chmod")
        .arg("755")
        .arg(wrap.join("ssh"))
        .status()
        .unwrap();
    assert!(st.success());
    let berth_in = |args: &[&str], input: Option<&[u8]>| {
        let mut c = Command::new(bin("berth"));
        c.env_remove("DOCKER_HOST")
            .env_remove("BERTH_HOST")
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    wrap.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .args(["-H", "ssh://root@127.0.0.1"])
            .args(args);
        run(c, input, Duration::from_secs(60))
    };
    let berth = |args: &[&str]| berth_in(args, None);
    let out = berth(&["info", "--format", "{{.OSType}}"]);
    let log = || std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default();
    assert_eq!(out.code, 0, "{out:?}\n{}", log());
    assert_eq!(out.stdout.trim(), "linux");
    // A container through the same tunnel: hijacked streams too.
    let out = berth(&["run", "--rm", "busybox", "echo", "over-ssh"]);
    assert_eq!(out.ok().trim(), "over-ssh");
    // stdin through the tunnel, and its end (the container's cat exits).
    let out = berth_in(&["run", "-i", "--rm", "busybox", "cat"], Some(b"piped\n"));
    assert_eq!(out.ok(), "piped\n");
    drop(_sshd);
    d.finish();
}
