//! Daemon configuration: built-in defaults, then daemon.json, then flags,
//! with dockerd's rules (unknown keys and flag/file conflicts are errors).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub data_root: Option<PathBuf>,
    pub exec_root: Option<PathBuf>,
    pub hosts: Option<Vec<String>>,
    pub pidfile: Option<PathBuf>,
    pub log_level: Option<String>,
    pub debug: Option<bool>,
    pub default_runtime: Option<String>,
    pub runtimes: Option<BTreeMap<String, RuntimeConfig>>,
    pub cgroup_parent: Option<String>,
    pub init: Option<bool>,
    pub log_driver: Option<String>,
    pub log_opts: Option<BTreeMap<String, String>>,
    pub init_path: Option<PathBuf>,
    /// The default seccomp profile: "builtin", "unconfined" or a file.
    pub seccomp_profile: Option<String>,
    /// berth's own: register QEMU's interpreters with binfmt_misc at start
    /// (default true) to run images of other architectures.
    pub emulation: Option<bool>,
    /// Accepted for compatibility: containers always outlive the daemon.
    #[allow(dead_code)]
    pub live_restore: Option<bool>,
    pub insecure_registries: Option<Vec<String>>,
    pub registry_mirrors: Option<Vec<String>>,
    pub bridge: Option<String>,
    pub bip: Option<String>,
    pub iptables: Option<bool>,
    pub ip_forward: Option<bool>,
    pub ip_masq: Option<bool>,
    pub icc: Option<bool>,
    pub userland_proxy: Option<bool>,
    pub default_address_pools: Option<Vec<AddressPool>>,
    pub dns: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    pub dns_opts: Option<Vec<String>>,
    /// berth's own: forward names the embedded DNS does not know upstream.
    pub dns_forward: Option<bool>,
    /// `-G`: the unix socket's group.
    pub group: Option<String>,
    pub tls: Option<bool>,
    pub tlsverify: Option<bool>,
    pub tlscacert: Option<PathBuf>,
    pub tlscert: Option<PathBuf>,
    pub tlskey: Option<PathBuf>,
}

/// An entry of `default-address-pools`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPool {
    pub base: String,
    pub size: u8,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    pub path: PathBuf,
}

/// Parses daemon.json text, naming unknown keys as dockerd does.
pub fn parse_file(path: &str, text: &str) -> Result<FileConfig, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("unable to configure the Docker daemon with file {path}: {e}"))?;
    let known = [
        "data-root",
        "exec-root",
        "hosts",
        "pidfile",
        "log-level",
        "debug",
        "default-runtime",
        "runtimes",
        "cgroup-parent",
        "init",
        "log-driver",
        "log-opts",
        "init-path",
        "seccomp-profile",
        "emulation",
        "live-restore",
        "insecure-registries",
        "registry-mirrors",
        "bridge",
        "bip",
        "iptables",
        "ip-forward",
        "ip-masq",
        "icc",
        "userland-proxy",
        "default-address-pools",
        "dns",
        "dns-search",
        "dns-opts",
        "dns-forward",
        "group",
        "tls",
        "tlsverify",
        "tlscacert",
        "tlscert",
        "tlskey",
    ];
    if let Some(obj) = v.as_object() {
        let unknown: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unable to configure the Docker daemon with file {path}: the following directives don't match any configuration option: {}",
                unknown.join(", ")
            ));
        }
    }
    serde_json::from_value(v)
        .map_err(|e| format!("unable to configure the Docker daemon with file {path}: {e}"))
}

/// Errors when a setting is given both as a flag and in the file.
pub fn conflicts(pairs: &[(&str, bool, bool)]) -> Result<(), String> {
    let both: Vec<&str> = pairs
        .iter()
        .filter(|(_, f, c)| *f && *c)
        .map(|(n, _, _)| *n)
        .collect();
    if both.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unable to configure the Docker daemon: the following directives are specified both as a flag and in the configuration file: {}",
            both.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let e = parse_file("/x.json", r#"{"data-root":"/d","bogus":1}"#).unwrap_err();
        assert!(
            e.contains("don't match any configuration option: bogus"),
            "{e}"
        );
        let m = parse_file("/x.json", r#"{"registry-mirrors":["http://127.0.0.1:5000"],"insecure-registries":["10.0.0.0/8"]}"#).unwrap();
        assert_eq!(m.registry_mirrors.unwrap().len(), 1);
        let c = parse_file(
            "/x.json",
            r#"{"data-root":"/d","runtimes":{"runc":{"path":"/usr/sbin/runc"}}}"#,
        )
        .unwrap();
        assert_eq!(c.data_root.unwrap(), PathBuf::from("/d"));
        assert!(parse_file("/x.json", "{").is_err());
        assert!(conflicts(&[("data-root", true, true)])
            .unwrap_err()
            .contains("data-root"));
        assert!(conflicts(&[("data-root", true, false)]).is_ok());
    }
}
