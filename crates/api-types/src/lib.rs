//! Docker Engine API wire types (serde only). **API Boundary:** these shapes
//! are Docker's, field for field; everything below the API server uses them
//! as plain data. Unknown fields of request bodies are kept in `extra` so
//! that inspect shows back what a client sent.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub mod network;
pub mod volume;

pub type Labels = BTreeMap<String, String>;

/// Docker's "strslice": a JSON string or an array of strings.
fn strslice<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<S>::deserialize(d)? {
        None => None,
        Some(S::One(s)) => Some(vec![s]),
        Some(S::Many(v)) => Some(v),
    })
}

fn empty_as_null<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

/// `None` for a value that is absent, null or not of the type.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The portable configuration of a container (`Config` in create and inspect).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<Map<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(deserialize_with = "strslice")]
    pub cmd: Option<Vec<String>>,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Map<String, Value>>,
    pub working_dir: String,
    #[serde(deserialize_with = "strslice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub on_build: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The non-portable configuration of a container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    pub network_mode: String,
    pub auto_remove: bool,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub memory: i64,
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub pids_limit: Option<i64>,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub shm_size: i64,
    /// Absent unless set (`omitempty` in dockerd's HostConfig).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    pub restart_policy: Option<Value>,
    pub log_config: Option<Value>,
    pub runtime: String,
    /// `-p`: "80/tcp" → bindings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_bindings: Option<network::PortMap>,
    /// `-P`: publish every exposed port on a random host port.
    pub publish_all_ports: bool,
    /// The DNS lists are `null` when empty, as dockerd shows them unset.
    #[serde(deserialize_with = "null_as_default", serialize_with = "empty_as_null")]
    pub dns: Vec<String>,
    #[serde(deserialize_with = "null_as_default", serialize_with = "empty_as_null")]
    pub dns_options: Vec<String>,
    #[serde(deserialize_with = "null_as_default", serialize_with = "empty_as_null")]
    pub dns_search: Vec<String>,
    /// `--add-host`: "name:ip" (or "name:host-gateway").
    #[serde(deserialize_with = "null_as_default", serialize_with = "empty_as_null")]
    pub extra_hosts: Vec<String>,
    /// `null` when unset, as dockerd shows it (no omitempty in Go).
    pub links: Option<Vec<String>>,
    /// `--mount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<volume::Mount>>,
    /// `--tmpfs`: path → options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `--volumes-from`: `container[:ro|rw]`; `null` when unset, as dockerd.
    pub volumes_from: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub volume_driver: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /containers/create` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateRequest {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(deserialize_with = "null_as_default")]
    pub host_config: HostConfig,
    pub networking_config: Option<network::NetworkingConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdResponse {
    pub id: String,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `State` in container inspect.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// `State.Health`: the health check's status and its last results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthcheckResult>,
}

/// One run of a health check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthcheckResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

/// An element of `GET /containers/json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<network::Port>,
    pub labels: Labels,
    pub state: String,
    pub status: String,
    pub host_config: Value,
    pub network_settings: Value,
    pub mounts: Vec<Value>,
}

/// `POST /containers/{id}/exec` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub detach_keys: String,
    pub tty: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(deserialize_with = "strslice")]
    pub cmd: Option<Vec<String>>,
    pub privileged: bool,
    pub user: String,
    pub working_dir: String,
    pub console_size: Option<Vec<u16>>,
}

/// `POST /exec/{id}/start` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartConfig {
    pub detach: bool,
    pub tty: bool,
    pub console_size: Option<Vec<u16>>,
}

/// An element of `GET /images/json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: i64,
    pub shared_size: i64,
    pub virtual_size: i64,
    pub labels: Labels,
    pub containers: i64,
}

/// The OCI/Docker image configuration blob (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageConfigBlob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: ImageRunConfig,
    pub rootfs: RootFs,
    #[serde(default)]
    pub history: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Docker's: the container committed (a build step's) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// ... and its config (a build step's command in `Cmd`). Informative
    /// only: an image whose record of it does not parse still loads.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub container_config: Option<ImageRunConfig>,
}

/// The `config` object of an image configuration (OCI field names).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageRunConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<Map<String, Value>>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "strslice")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "strslice")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(
        skip_serializing_if = "Labels::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub on_build: Vec<String>,
    /// The test a container of this image runs to check its health
    /// (`HEALTHCHECK`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// The shell of shell-form commands (`SHELL`, a Docker extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// A health check (`HealthConfig` of the Engine API): durations in
/// nanoseconds, zero meaning "inherit" (and omitted, as dockerd does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `[]` inherit, `["NONE"]` disabled, `["CMD", args...]` or
    /// `["CMD-SHELL", command]`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub interval: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub timeout: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub retries: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub start_period: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub start_interval: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `POST /containers/{id}/update`'s answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerUpdateResponse {
    pub warnings: Vec<String>,
}

/// `POST /build/prune` (`BuildCachePruneResponse`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BuildCachePruneResponse {
    pub caches_deleted: Option<Vec<String>>,
    pub space_reclaimed: i64,
}

/// `GET /images/{name}/json` (`ImageInspect`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// The image this one was built on by the legacy builder, or "".
    pub parent: String,
    pub comment: String,
    pub created: String,
    pub docker_version: String,
    pub author: String,
    pub config: ImageInspectConfig,
    /// Before API 1.45 only (the API layer drops them after): the
    /// committed container and its config, when the image records them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ImageInspectConfig>,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    pub size: i64,
    pub graph_driver: DriverData,
    #[serde(rename = "RootFS")]
    pub root_fs: ImageRootFs,
    pub metadata: ImageMetadata,
}

/// `ImageInspect.Config`: the spec's `ImageConfig`, plus the fields that
/// older clients still read, empty as dockerd sends them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspectConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub exposed_ports: Option<Map<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    pub image: String,
    pub volumes: Option<Map<String, Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    /// null when there are none, as dockerd sends it.
    pub on_build: Option<Vec<String>>,
    pub labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

impl From<&ImageRunConfig> for ImageInspectConfig {
    fn from(r: &ImageRunConfig) -> Self {
        ImageInspectConfig {
            user: r.user.clone(),
            exposed_ports: r.exposed_ports.clone(),
            env: r.env.clone(),
            cmd: r.cmd.clone(),
            healthcheck: r.healthcheck.clone(),
            volumes: r.volumes.clone(),
            working_dir: r.working_dir.clone(),
            entrypoint: r.entrypoint.clone(),
            on_build: (!r.on_build.is_empty()).then(|| r.on_build.clone()),
            labels: r.labels.clone(),
            stop_signal: r.stop_signal.clone(),
            shell: r.shell.clone(),
            ..Default::default()
        }
    }
}

/// A storage driver's name and data (`DriverData`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverData {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// `ImageInspect.RootFS`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageRootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<String>,
}

/// `ImageInspect.Metadata`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageMetadata {
    pub last_tag_time: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

/// One interface's counters in `GET /containers/{id}/stats`'s `networks`
/// (`ContainerNetworkStats`; `endpoint_id` and `instance_id` are
/// Windows-only and left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNetworkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_accepts_docker_cli_shapes() {
        let r: ContainerCreateRequest = serde_json::from_str(
            r#"{"Image":"busybox","Cmd":"echo hi","Entrypoint":null,"Env":null,"Labels":null,
                "HostConfig":{"Memory":67108864,"AutoRemove":true,"Dns":[]},"Unknown":1}"#,
        )
        .unwrap();
        assert_eq!(r.config.cmd, Some(vec!["echo hi".to_string()]));
        assert_eq!(r.config.entrypoint, None);
        assert_eq!(r.host_config.memory, 67108864);
        assert!(r.host_config.auto_remove);
        assert!(r.host_config.dns.is_empty() && !r.host_config.extra.contains_key("Dns"));
        let back = serde_json::to_value(&r.config).unwrap();
        assert_eq!(back["Unknown"], 1);
        assert_eq!(back["Image"], "busybox");
    }
}
