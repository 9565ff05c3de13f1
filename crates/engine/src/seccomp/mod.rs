//! Seccomp profiles as Docker has them: the profile format that
//! `--security-opt seccomp=<profile>` and daemon.json's `seccomp-profile`
//! carry, berth's default profile (`default.rs`: Docker's default, rule for
//! rule), and [`to_oci`], which turns a profile into the OCI spec's
//! `linux.seccomp` for one container the way dockerd does (moby's
//! `profiles/seccomp` `setupSeccomp`): the architectures from the `archMap`
//! entry of the host's architecture, and each rule kept or dropped by its
//! `includes`/`excludes` conditions on the host's architecture, the
//! container's capabilities and the running kernel.
//!
//! The docker CLI reads a profile file itself and sends its content:
//! `HostConfig.SecurityOpt` holds `seccomp=<json text>`, which [`Choice::of`]
//! reads. Decoding is Go's `encoding/json` as dockerd's: unknown fields are
//! ignored, field names match without regard to case and `null` is an
//! empty value. Unlike dockerd, which finds a bad action or operator only
//! when the runtime loads the profile, [`parse`] checks every value, so a
//! bad profile is refused when the container is created.

mod default;

pub use default::default_profile;

use base::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A seccomp profile in Docker's format (moby's `seccomp.Seccomp`: the OCI
/// `LinuxSeccomp` plus `archMap` and conditional rules).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default, deserialize_with = "nullable")]
    pub default_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// Architectures as given (a profile has these or `archMap`, not both).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch_map: Vec<ArchMap>,
    #[serde(default, deserialize_with = "nullable")]
    pub syscalls: Vec<Syscall>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub listener_path: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub listener_metadata: String,
}

/// An `archMap` entry: a native architecture and the ones its kernel also
/// runs (`SCMP_ARCH_X86_64` with x86 and x32).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchMap {
    #[serde(default, deserialize_with = "nullable")]
    pub architecture: String,
    #[serde(rename = "subArchitectures", default, deserialize_with = "nullable")]
    pub sub_architectures: Vec<String>,
}

/// A rule: an action for some syscalls, with optional argument filters and
/// the conditions under which the rule applies at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Syscall {
    #[serde(default, deserialize_with = "nullable")]
    pub names: Vec<String>,
    /// The single name of old profiles (either this or `names`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<Arg>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub comment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

/// An argument filter: `args[index] <op> value` (`SCMP_CMP_MASKED_EQ`:
/// `args[index] & value == valueTwo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub value_two: u64,
    pub op: &'static str,
}

/// The operators of argument filters (libseccomp's `SCMP_CMP_*`).
pub const OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Arg, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default, deserialize_with = "nullable")]
            index: u32,
            #[serde(default, deserialize_with = "nullable")]
            value: u64,
            #[serde(default, deserialize_with = "nullable")]
            value_two: u64,
            #[serde(default, deserialize_with = "nullable")]
            op: String,
        }
        let r = Raw::deserialize(d)?;
        let op = OPS.iter().find(|o| **o == r.op).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown seccomp operator {:?}", r.op))
        })?;
        Ok(Arg {
            index: r.index,
            value: r.value,
            value_two: r.value_two,
            op,
        })
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The conditions of a rule. `includes`: the rule applies only if the
/// host's architecture is one of `arches`, the container has every one of
/// `caps` and the kernel is at least `minKernel`. `excludes`: the rule is
/// dropped if any one holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<String>,
    /// libseccomp's names of architectures (`amd64`, `x86`, `x32`, `arm64`,
    /// `arm`, `s390x`, `ppc64le`, `riscv64`, …), as moby matches them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arches: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<KernelVersion>,
}

/// A kernel version as `minKernel` has it: `"<kernel>.<major>"` (`"4.8"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion(pub u32, pub u32);

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{}", self.0, self.1))
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Filter, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default, deserialize_with = "nullable")]
            caps: Vec<String>,
            #[serde(default, deserialize_with = "nullable")]
            arches: Vec<String>,
            #[serde(default, deserialize_with = "nullable")]
            min_kernel: String,
        }
        let r = Raw::deserialize(d)?;
        let min_kernel = if r.min_kernel.is_empty() {
            None
        } else {
            Some(parse_min_kernel(&r.min_kernel).map_err(serde::de::Error::custom)?)
        };
        Ok(Filter {
            caps: r.caps,
            arches: r.arches,
            min_kernel,
        })
    }
}

/// moby's rule for `minKernel`: exactly two dot-separated numbers of at
/// most 255, not both 0.
fn parse_min_kernel(s: &str) -> std::result::Result<KernelVersion, String> {
    let bad =
        |why: &str| format!("invalid kernel version: {s:?}, expected \"<kernel>.<major>\"{why}");
    let (k, m) = s.split_once('.').ok_or_else(|| bad(""))?;
    let num = |p: &str| {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(""));
        }
        p.parse::<u8>().map(u32::from).map_err(|_| bad(""))
    };
    let v = KernelVersion(num(k)?, num(m)?);
    if v == KernelVersion(0, 0) {
        return Err(bad(": version cannot be 0.0"));
    }
    Ok(v)
}

/// Go's decoding of `null`: the zero value.
fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Field names of each level, for Go's case-insensitive matching.
const PROFILE_FIELDS: &[&str] = &[
    "defaultAction",
    "defaultErrnoRet",
    "architectures",
    "archMap",
    "syscalls",
    "flags",
    "listenerPath",
    "listenerMetadata",
];
const ARCH_MAP_FIELDS: &[&str] = &["architecture", "subArchitectures"];
const SYSCALL_FIELDS: &[&str] = &[
    "names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes",
];
const ARG_FIELDS: &[&str] = &["index", "value", "valueTwo", "op"];
const FILTER_FIELDS: &[&str] = &["caps", "arches", "minKernel"];

/// Renames keys that match a field but for case to the field's spelling
/// (an exact key wins), as Go's decoding matches them.
fn canonical_keys(v: &mut Value, fields: &[&str]) {
    let Some(map) = v.as_object_mut() else {
        return;
    };
    let renames: Vec<(String, &str)> = map
        .keys()
        .filter(|k| !fields.contains(&k.as_str()))
        .filter_map(|k| {
            fields
                .iter()
                .find(|f| f.eq_ignore_ascii_case(k))
                .map(|f| (k.clone(), *f))
        })
        .collect();
    for (from, to) in renames {
        if let Some(v) = map.remove(&from) {
            map.entry(to).or_insert(v);
        }
    }
}

/// Canonical keys at every level; a level that is not an object (nor
/// null) is refused, as Go refuses to decode an array into a struct
/// (serde would take it as the struct's fields in order).
fn canonical_profile(v: &mut Value) -> std::result::Result<(), String> {
    fn level(v: &mut Value, what: &str, fields: &[&str]) -> std::result::Result<(), String> {
        match v {
            Value::Object(_) => {
                canonical_keys(v, fields);
                Ok(())
            }
            Value::Null => Ok(()),
            other => Err(format!(
                "json: cannot unmarshal {} into Go value of type {what}",
                match other {
                    Value::Array(_) => "array",
                    Value::String(_) => "string",
                    Value::Number(_) => "number",
                    _ => "bool",
                }
            )),
        }
    }
    fn each(
        v: &mut Value,
        key: &str,
        f: &dyn Fn(&mut Value) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        match v.get_mut(key).and_then(Value::as_array_mut) {
            Some(a) => a.iter_mut().try_for_each(f),
            None => Ok(()),
        }
    }
    level(v, "seccomp.Seccomp", PROFILE_FIELDS)?;
    each(v, "archMap", &|m| {
        level(m, "seccomp.Architecture", ARCH_MAP_FIELDS)
    })?;
    each(v, "syscalls", &|s| {
        level(s, "seccomp.Syscall", SYSCALL_FIELDS)?;
        each(s, "args", &|a| {
            level(a, "specs.LinuxSeccompArg", ARG_FIELDS)
        })?;
        for k in ["includes", "excludes"] {
            if let Some(f) = s.get_mut(k) {
                level(f, "seccomp.Filter", FILTER_FIELDS)?;
            }
        }
        Ok(())
    })
}

fn decoding(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("Decoding seccomp profile failed: {e}"))
}

/// Decodes a profile (the JSON text of `--security-opt seccomp=…` or of a
/// `seccomp-profile` file) and checks it: dockerd's structural errors with
/// its messages, and every action, architecture, operator and flag one the
/// runtime spec knows.
pub fn parse(text: &str) -> Result<Profile> {
    let mut v: Value = serde_json::from_str(text).map_err(decoding)?;
    canonical_profile(&mut v).map_err(decoding)?;
    if v.is_null() {
        v = json!({});
    }
    let p: Profile = serde_json::from_value(v).map_err(decoding)?;
    p.check()?;
    Ok(p)
}

/// A runtime-spec enum value, checked by oci-spec's own decoding.
fn known<T: serde::de::DeserializeOwned>(what: &str, v: &str) -> Result<()> {
    serde_json::from_value::<T>(json!(v))
        .map(|_| ())
        .map_err(|_| Error::invalid(format!("invalid seccomp profile: unknown {what} {v:?}")))
}

impl Profile {
    fn check(&self) -> Result<()> {
        use oci_spec::runtime::{Arch, LinuxSeccompAction, LinuxSeccompFilterFlag};
        if !self.architectures.is_empty() && !self.arch_map.is_empty() {
            return Err(Error::invalid(
                "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
            ));
        }
        if self.default_action.is_empty() && self.syscalls.is_empty() {
            return Ok(()); // no profile at all, as dockerd reads it
        }
        known::<LinuxSeccompAction>("action", &self.default_action)?;
        for a in self.architectures.iter().chain(
            self.arch_map
                .iter()
                .flat_map(|m| std::iter::once(&m.architecture).chain(&m.sub_architectures)),
        ) {
            known::<Arch>("architecture", a)?;
        }
        for f in &self.flags {
            known::<LinuxSeccompFilterFlag>("flag", f)?;
        }
        for s in &self.syscalls {
            if !s.name.is_empty() && !s.names.is_empty() {
                return Err(Error::invalid(
                    "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
                ));
            }
            known::<LinuxSeccompAction>("action", &s.action)?;
        }
        Ok(())
    }
}

/// libseccomp's name of an architecture and its `SCMP_ARCH_*` (moby's
/// `goToNative` and `nativeToSeccomp`), from Go's name of it (GOARCH).
fn native_arch(goarch: &str) -> Option<(&'static str, &'static str)> {
    Some(match goarch {
        "386" => ("x86", "SCMP_ARCH_X86"),
        "amd64" => ("amd64", "SCMP_ARCH_X86_64"),
        "arm" => ("arm", "SCMP_ARCH_ARM"),
        "arm64" => ("arm64", "SCMP_ARCH_AARCH64"),
        "loong64" => ("loongarch64", "SCMP_ARCH_LOONGARCH64"),
        "mips64" => ("mips64", "SCMP_ARCH_MIPS64"),
        "mips64p32" => ("mips64n32", "SCMP_ARCH_MIPS64N32"),
        "mips64le" => ("mipsel64", "SCMP_ARCH_MIPSEL64"),
        "mips64p32le" => ("mips3l64n32", "SCMP_ARCH_MIPSEL64N32"),
        "mipsle" => ("mipsel", "SCMP_ARCH_MIPSEL"),
        "ppc" => ("ppc", "SCMP_ARCH_PPC"),
        "ppc64" => ("ppc64", "SCMP_ARCH_PPC64"),
        "ppc64le" => ("ppc64le", "SCMP_ARCH_PPC64LE"),
        "riscv64" => ("riscv64", "SCMP_ARCH_RISCV64"),
        "s390" => ("s390", "SCMP_ARCH_S390"),
        "s390x" => ("s390x", "SCMP_ARCH_S390X"),
        _ => return None,
    })
}

/// The architecture berthd was built for, by Go's name (what dockerd's
/// `runtime.GOARCH` is).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "s390x" => "s390x",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        "mips64" if cfg!(target_endian = "little") => "mips64le",
        "mips64" => "mips64",
        other => other,
    }
}

/// The running kernel's version and major revision (`6.18` of
/// `6.18.44-foo`), as moby reads `uname -r`.
pub fn host_kernel() -> Result<(u32, u32)> {
    static KERNEL: OnceLock<std::result::Result<(u32, u32), String>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_err(|e| format!("read the kernel version: {e}"))?;
            parse_release(release.trim())
                .ok_or_else(|| format!("failed to parse kernel version {:?}", release.trim()))
        })
        .clone()
        .map_err(Error::internal)
}

/// `<kernel>.<major>` at the start of a release string (Go's
/// `Sscanf("%d.%d")`).
fn parse_release(r: &str) -> Option<(u32, u32)> {
    let digits = |s: &str| -> Option<(u32, usize)> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        Some((s[..n].parse().ok()?, n))
    };
    let (k, n) = digits(r)?;
    let rest = r[n..].strip_prefix('.')?;
    let (m, _) = digits(rest)?;
    Some((k, m))
}

/// The OCI `linux.seccomp` of `profile` for a container with capabilities
/// `caps` (its bounding set) on a host of architecture `host_arch` (Go's
/// name) running kernel `kernel`; `None` when the profile is empty (no
/// default action and no rules: seccomp off, as dockerd reads it).
pub fn to_oci(
    profile: &Profile,
    host_arch: &str,
    caps: &[String],
    kernel: (u32, u32),
) -> Result<Option<oci_spec::runtime::LinuxSeccomp>> {
    if profile.default_action.is_empty() && profile.syscalls.is_empty() {
        return Ok(None);
    }
    profile.check()?;
    let native = native_arch(host_arch);
    let arch = native.map(|n| n.0).unwrap_or(host_arch);
    let mut architectures = profile.architectures.clone();
    if let Some((_, scmp)) = native {
        if let Some(m) = profile.arch_map.iter().find(|m| m.architecture == scmp) {
            architectures.push(m.architecture.clone());
            architectures.extend(m.sub_architectures.iter().cloned());
        }
    }
    let has_cap = |c: &String| caps.contains(c);
    let kernel_at_least = |v: &KernelVersion| (kernel.0, kernel.1) >= (v.0, v.1);
    let mut rules = Vec::new();
    for s in &profile.syscalls {
        if let Some(x) = &s.excludes {
            if x.arches.iter().any(|a| a == arch)
                || x.caps.iter().any(has_cap)
                || x.min_kernel.as_ref().is_some_and(kernel_at_least)
            {
                continue;
            }
        }
        if let Some(i) = &s.includes {
            if (!i.arches.is_empty() && !i.arches.iter().any(|a| a == arch))
                || !i.caps.iter().all(has_cap)
                || i.min_kernel.as_ref().is_some_and(|v| !kernel_at_least(v))
            {
                continue;
            }
        }
        let names = if s.name.is_empty() {
            s.names.clone()
        } else {
            vec![s.name.clone()]
        };
        let mut rule = json!({"names": names, "action": s.action});
        if let Some(e) = s.errno_ret {
            rule["errnoRet"] = json!(e);
        }
        if !s.args.is_empty() {
            rule["args"] = json!(s.args);
        }
        rules.push(rule);
    }
    let mut out = json!({"defaultAction": profile.default_action});
    if let Some(e) = profile.default_errno_ret {
        out["defaultErrnoRet"] = json!(e);
    }
    if !architectures.is_empty() {
        out["architectures"] = json!(architectures);
    }
    if !profile.flags.is_empty() {
        out["flags"] = json!(profile.flags);
    }
    if !profile.listener_path.is_empty() {
        out["listenerPath"] = json!(profile.listener_path);
    }
    if !profile.listener_metadata.is_empty() {
        out["listenerMetadata"] = json!(profile.listener_metadata);
    }
    if !rules.is_empty() {
        out["syscalls"] = Value::Array(rules);
    }
    serde_json::from_value(out)
        .map(Some)
        .map_err(|e| Error::invalid(format!("invalid seccomp profile: {e}")))
}

/// What a container's `--security-opt seccomp=…` asks for (the last one
/// given, as dockerd reads them).
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// None given (or an empty value): the daemon's profile.
    Daemon,
    /// `seccomp=builtin`: the default profile.
    Builtin,
    /// `seccomp=unconfined`: no profile.
    Unconfined,
    /// `seccomp=<profile JSON>`, as the docker CLI sends a file's content.
    Profile(Box<Profile>),
}

/// The value of a `seccomp` security option (`seccomp=<v>`, or the
/// deprecated `seccomp:<v>`), if `opt` is one. dockerd splits at the first
/// `=` when there is one, else at the first `:`.
pub fn opt_value(opt: &str) -> Option<&str> {
    let (k, v) = if opt.contains('=') {
        opt.split_once('=')?
    } else {
        opt.split_once(':')?
    };
    (k == "seccomp").then_some(v)
}

impl Choice {
    /// Reads one option's value.
    pub fn of_value(v: &str) -> Result<Choice> {
        Ok(match v {
            "" => Choice::Daemon,
            "builtin" => Choice::Builtin,
            "unconfined" => Choice::Unconfined,
            json => Choice::Profile(Box::new(parse(json)?)),
        })
    }

    /// The choice of a list of security options.
    pub fn of<'a>(opts: impl IntoIterator<Item = &'a str>) -> Result<Choice> {
        match opts.into_iter().filter_map(opt_value).last() {
            Some(v) => Choice::of_value(v),
            None => Ok(Choice::Daemon),
        }
    }
}

/// The daemon's `seccomp-profile` (daemon.json or `--seccomp-profile`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum DaemonProfile {
    /// `builtin` or unset: the default profile.
    #[default]
    Builtin,
    /// `unconfined`: containers get no profile unless they ask for one.
    Unconfined,
    /// A profile file, read (and checked) when the daemon starts.
    File {
        path: std::path::PathBuf,
        profile: Box<Profile>,
    },
}

impl DaemonProfile {
    /// dockerd's reading of the setting: `builtin`, `unconfined`, or a path
    /// whose file is read at start (berth also decodes it then, so a bad
    /// file stops the daemon instead of every container start).
    pub fn from_setting(s: &str) -> Result<DaemonProfile> {
        Ok(match s {
            "" | "builtin" => DaemonProfile::Builtin,
            "unconfined" => DaemonProfile::Unconfined,
            path => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::invalid(format!("opening seccomp profile ({path}) failed: {e}"))
                })?;
                DaemonProfile::File {
                    path: path.into(),
                    profile: Box::new(
                        parse(&text).map_err(|e| e.context(format!("seccomp profile {path}")))?,
                    ),
                }
            }
        })
    }

    /// `profile=…` of `docker info`'s security options.
    pub fn name(&self) -> String {
        match self {
            DaemonProfile::Builtin => "builtin".into(),
            DaemonProfile::Unconfined => "unconfined".into(),
            DaemonProfile::File { path, .. } => path.display().to_string(),
        }
    }
}

/// A container's `linux.seccomp`, decided as dockerd's `WithSeccomp` does:
/// `unconfined` gets none; a privileged container gets only a profile it
/// names; otherwise the container's choice, else the daemon's. `caps` is
/// the container's final capability set.
pub fn for_container(
    choice: &Choice,
    daemon: &DaemonProfile,
    privileged: bool,
    caps: &[String],
) -> Result<Option<oci_spec::runtime::LinuxSeccomp>> {
    let profile = match (choice, privileged) {
        (Choice::Unconfined, _) => return Ok(None),
        (Choice::Daemon, true) => return Ok(None),
        // dockerd tries to decode "builtin" as JSON here and fails; the
        // default profile is what is asked for.
        (Choice::Builtin, _) => return default_for(caps),
        (Choice::Profile(p), _) => (**p).clone(),
        (Choice::Daemon, false) => match daemon {
            DaemonProfile::Builtin => return default_for(caps),
            DaemonProfile::Unconfined => return Ok(None),
            DaemonProfile::File { profile, .. } => (**profile).clone(),
        },
    };
    to_oci(&profile, host_arch(), caps, host_kernel()?)
}

/// The default profile for a capability set, made once per set: nearly
/// every container asks for it, with one of a few sets, and building and
/// converting its rules for each container was most of the spec
/// builder's time in a container start.
fn default_for(caps: &[String]) -> Result<Option<oci_spec::runtime::LinuxSeccomp>> {
    type Cache = std::sync::Mutex<HashMap<Vec<String>, Option<oci_spec::runtime::LinuxSeccomp>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap().get(caps) {
        return Ok(hit.clone());
    }
    let made = to_oci(&default_profile(), host_arch(), caps, host_kernel()?)?;
    let mut cache = cache.lock().unwrap();
    // A handful of sets in practice; a bound all the same.
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(caps.to_vec(), made.clone());
    Ok(made)
}

#[cfg(test)]
mod tests;
