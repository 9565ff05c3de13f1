//! Volume and mount shapes of the Engine API (swagger `Volume`,
//! `VolumeCreateOptions`, `VolumeListResponse`, `Mount`, `MountPoint`,
//! `VolumePruneResponse`), field for field.

use super::{null_as_default, Labels};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `UsageData` of a volume (`system df`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeUsageData {
    pub size: i64,
    pub ref_count: i64,
}

/// A volume, as `GET /volumes` and `GET /volumes/{name}` return it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    // In dockerd's (alphabetical) field order, which the docker CLI keeps.
    #[serde(deserialize_with = "null_as_default")]
    pub created_at: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    pub labels: Labels,
    #[serde(deserialize_with = "null_as_default")]
    pub mountpoint: String,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    pub options: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// `POST /volumes/create` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateOptions {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    pub labels: Labels,
    #[serde(rename = "ClusterVolumeSpec", skip_serializing_if = "Option::is_none")]
    pub cluster_volume_spec: Option<serde_json::Value>,
}

/// `GET /volumes` reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeListResponse {
    pub volumes: Vec<Volume>,
    pub warnings: Vec<String>,
}

/// `POST /volumes/prune` reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneResponse {
    pub volumes_deleted: Option<Vec<String>>,
    pub space_reclaimed: i64,
}

/// `BindOptions` of a mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub propagation: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub non_recursive: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub create_mountpoint: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only_non_recursive: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only_force_recursive: bool,
}

/// `DriverConfig` of volume options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,
}

/// `VolumeOptions` of a mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_copy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<DriverConfig>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub subpath: String,
}

/// `TmpfsOptions` of a mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Vec<String>>>,
}

/// An entry of `HostConfig.Mounts` (`--mount`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(deserialize_with = "null_as_default")]
    pub target: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub source: String,
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub typ: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_options: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

/// An element of inspect's `Mounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub typ: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        default,
        deserialize_with = "null_as_default"
    )]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub source: String,
    #[serde(deserialize_with = "null_as_default")]
    pub destination: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        default,
        deserialize_with = "null_as_default"
    )]
    pub driver: String,
    #[serde(deserialize_with = "null_as_default")]
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub propagation: String,
}
