//! The storage flags of `run`/`create`, parsed the way the docker CLI does:
//! `-v/--volume` (compose's volume-spec grammar, which decides between
//! `HostConfig.Binds` and anonymous `Config.Volumes`), `--mount` (a CSV
//! record of `key=value` fields into `HostConfig.Mounts`), `--tmpfs`,
//! `--volumes-from` and `--volume-driver`. Error texts are docker's.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

// ------------------------------------------------------------------ paths

/// Go's `filepath.Clean` (lexical, Unix).
fn go_clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// What the docker CLI does to a host path: one starting with `.` (and not
/// absolute) is made absolute against the working directory
/// (`filepath.Abs`); anything else is sent as typed.
fn absolutize(p: &str, cwd: &Path) -> String {
    if p.starts_with('.') {
        go_clean(&format!("{}/{p}", cwd.display()))
    } else {
        p.to_string()
    }
}

// ------------------------------------------------------------------ -v

/// One `-v` value as compose's `ParseVolume` reads it.
#[derive(Debug, Default, PartialEq)]
pub struct VolumeSpec {
    pub source: String,
    pub target: String,
    /// "bind" or "volume".
    pub kind: &'static str,
}

/// `c:` after a single letter: a Windows drive, kept inside the field.
fn is_windows_drive(buffer: &[char], c: char) -> bool {
    c == ':' && buffer.len() == 1 && buffer[0].is_alphabetic()
}

fn is_file_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) {
        return true;
    }
    let mut chars = source.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if chars.clone().next().is_none() {
        return false;
    }
    if source.starts_with("\\\\") {
        return true;
    }
    // The byte after the first character, read as a character.
    let next = source.as_bytes()[first.len_utf8()] as char;
    is_windows_drive(&[first], next)
}

/// compose's `loader.ParseVolume`: `[source:]target[:options]`. Options
/// are not checked here (the daemon does); only the shape is.
pub fn parse_volume_spec(spec: &str) -> Result<VolumeSpec, String> {
    let mut v = VolumeSpec {
        kind: "volume",
        ..Default::default()
    };
    match spec.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => {
            v.target = spec.to_string();
            return Ok(v);
        }
        _ => {}
    }
    let mut buffer: Vec<char> = Vec::new();
    let chars: Vec<Option<char>> = spec.chars().map(Some).chain([None]).collect();
    for c in chars {
        match c {
            Some(c) if is_windows_drive(&buffer, c) => buffer.push(c),
            Some(':') | None => {
                let s: String = buffer.iter().collect();
                let err = if buffer.is_empty() {
                    Some("empty section between colons")
                } else if v.source.is_empty() && c.is_none() {
                    v.target = s;
                    None
                } else if v.source.is_empty() {
                    v.source = s;
                    None
                } else if v.target.is_empty() {
                    v.target = s;
                    None
                } else if c.is_some() {
                    Some("too many colons")
                } else {
                    None // the options: the daemon checks them
                };
                if let Some(e) = err {
                    return Err(format!("invalid spec: {spec}: {e}"));
                }
                buffer.clear();
            }
            Some(c) => buffer.push(c),
        }
    }
    if !v.source.is_empty() && is_file_path(&v.source) {
        v.kind = "bind";
    }
    Ok(v)
}

/// The docker CLI's split of the `-v` values: specs with a source become
/// `HostConfig.Binds` (a bind's relative `.` host part made absolute), the
/// others stay in `Config.Volumes`. Duplicates count once.
pub fn binds_and_volumes(
    specs: &[String],
    cwd: &Path,
) -> Result<(Vec<String>, BTreeMap<String, ()>), String> {
    let mut binds: Vec<String> = Vec::new();
    let mut volumes = BTreeMap::new();
    for spec in specs {
        let parsed = parse_volume_spec(spec)?;
        if parsed.source.is_empty() {
            volumes.insert(spec.clone(), ());
            continue;
        }
        let mut bind = spec.clone();
        if parsed.kind == "bind" {
            if let Some((host, rest)) = spec.split_once(':') {
                bind = format!("{}:{rest}", absolutize(host, cwd));
            }
        }
        if !binds.contains(&bind) {
            binds.push(bind);
        }
    }
    // A spec given both ways is a bind only (docker deletes it from the map).
    for spec in specs {
        if parse_volume_spec(spec).is_ok_and(|p| !p.source.is_empty()) {
            volumes.remove(spec);
        }
    }
    Ok((binds, volumes))
}

/// `--tmpfs /path[:options]`, into `HostConfig.Tmpfs` (the last one for a
/// path wins; options are the daemon's to check).
pub fn tmpfs_map(values: &[String]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|t| {
            let (k, v) = t.split_once(':').unwrap_or((t.as_str(), ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

// ------------------------------------------------------------------ --mount

/// One record of Go's `encoding/csv` (a single line), with its errors.
fn csv_record(s: &str) -> Result<Vec<String>, String> {
    if s.is_empty() {
        return Err("EOF".into());
    }
    let quote_err = |col: usize| {
        format!("parse error on line 1, column {col}: extraneous or missing \" in quoted-field")
    };
    let b = s.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = Vec::new();
        if b.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(quote_err(b.len() + 1)),
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        match b.get(i + 1) {
                            None | Some(b',') => {}
                            Some(_) => return Err(quote_err(i + 1)),
                        }
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(&c) = b.get(i) {
                match c {
                    b',' => break,
                    b'"' => {
                        return Err(format!(
                            "parse error on line 1, column {}: bare \" in non-quoted-field",
                            i + 1
                        ))
                    }
                    _ => field.push(c),
                }
                i += 1;
            }
        }
        fields.push(String::from_utf8_lossy(&field).into_owned());
        if b.get(i) == Some(&b',') {
            i += 1;
            continue;
        }
        return Ok(fields);
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[derive(Default)]
struct BindOpts {
    propagation: String,
    non_recursive: bool,
    readonly_non_recursive: bool,
    readonly_force_recursive: bool,
}

#[derive(Default)]
struct VolumeOpts {
    nocopy: bool,
    labels: BTreeMap<String, String>,
    subpath: String,
    driver: String,
    driver_opts: BTreeMap<String, String>,
}

#[derive(Default)]
struct TmpfsOpts {
    size: i64,
    mode: u32,
}

/// One `--mount` value, parsed as the docker CLI's `MountOpt.Set`.
#[derive(Default)]
struct Mount {
    kind: String,
    source: String,
    target: String,
    readonly: bool,
    consistency: String,
    bind: Option<BindOpts>,
    volume: Option<VolumeOpts>,
    image_subpath: Option<String>,
    tmpfs: Option<TmpfsOpts>,
}

impl Mount {
    /// The `mount.Mount` JSON (Go field order, empty fields omitted).
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        let put = |m: &mut Map<String, Value>, k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        };
        put(&mut m, "Type", &self.kind);
        put(&mut m, "Source", &self.source);
        put(&mut m, "Target", &self.target);
        if self.readonly {
            m.insert("ReadOnly".into(), json!(true));
        }
        put(&mut m, "Consistency", &self.consistency);
        if let Some(b) = &self.bind {
            let mut o = Map::new();
            put(&mut o, "Propagation", &b.propagation);
            for (k, on) in [
                ("NonRecursive", b.non_recursive),
                ("ReadOnlyNonRecursive", b.readonly_non_recursive),
                ("ReadOnlyForceRecursive", b.readonly_force_recursive),
            ] {
                if on {
                    o.insert(k.into(), json!(true));
                }
            }
            m.insert("BindOptions".into(), Value::Object(o));
        }
        if let Some(v) = &self.volume {
            let mut o = Map::new();
            if v.nocopy {
                o.insert("NoCopy".into(), json!(true));
            }
            if !v.labels.is_empty() {
                o.insert("Labels".into(), json!(v.labels));
            }
            put(&mut o, "Subpath", &v.subpath);
            let mut d = Map::new();
            put(&mut d, "Name", &v.driver);
            if !v.driver_opts.is_empty() {
                d.insert("Options".into(), json!(v.driver_opts));
            }
            o.insert("DriverConfig".into(), Value::Object(d));
            m.insert("VolumeOptions".into(), Value::Object(o));
        }
        if let Some(s) = &self.image_subpath {
            let mut o = Map::new();
            put(&mut o, "Subpath", s);
            m.insert("ImageOptions".into(), Value::Object(o));
        }
        if let Some(t) = &self.tmpfs {
            let mut o = Map::new();
            if t.size != 0 {
                o.insert("SizeBytes".into(), json!(t.size));
            }
            if t.mode != 0 {
                o.insert("Mode".into(), json!(t.mode));
            }
            m.insert("TmpfsOptions".into(), Value::Object(o));
        }
        Value::Object(m)
    }
}

/// One `--mount` value into a `HostConfig.Mounts` entry, or docker's
/// message for why it is refused (shown as an invalid flag argument).
pub fn parse_mount(value: &str, cwd: &Path) -> Result<Value, String> {
    let fields = csv_record(value)?;
    let mut m = Mount {
        kind: "volume".into(),
        ..Default::default()
    };
    let invalid = |key: &str, val: &str| format!("invalid value for {key}: {val}");
    for field in &fields {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let Some(val) = val else {
            match key.as_str() {
                "readonly" | "ro" => m.readonly = true,
                "volume-nocopy" => m.volume.get_or_insert_with(Default::default).nocopy = true,
                "bind-nonrecursive" => {
                    m.bind.get_or_insert_with(Default::default).non_recursive = true
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        match key.as_str() {
            "type" => m.kind = val.to_lowercase(),
            "source" | "src" => m.source = absolutize(val, cwd),
            "target" | "dst" | "destination" => m.target = val.to_string(),
            "readonly" | "ro" => m.readonly = parse_bool(val).ok_or_else(|| invalid(&key, val))?,
            "consistency" => m.consistency = val.to_lowercase(),
            "bind-propagation" => {
                m.bind.get_or_insert_with(Default::default).propagation = val.to_lowercase()
            }
            "bind-nonrecursive" => {
                m.bind.get_or_insert_with(Default::default).non_recursive =
                    parse_bool(val).ok_or_else(|| invalid(&key, val))?;
                // logrus's text line, as the docker CLI prints it.
                let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%:z").to_string();
                eprintln!(
                    "time=\"{}\" level=warning msg=\"bind-nonrecursive is deprecated, use bind-recursive=disabled instead\"",
                    now.replace("+00:00", "Z")
                );
            }
            "bind-recursive" => match val {
                "enabled" => {}
                "disabled" => m.bind.get_or_insert_with(Default::default).non_recursive = true,
                "writable" => {
                    m.bind
                        .get_or_insert_with(Default::default)
                        .readonly_non_recursive = true
                }
                "readonly" => {
                    m.bind
                        .get_or_insert_with(Default::default)
                        .readonly_force_recursive = true
                }
                _ => {
                    return Err(format!(
                        "invalid value for {key}: {val} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"
                    ))
                }
            },
            "volume-subpath" => {
                m.volume.get_or_insert_with(Default::default).subpath = val.to_string()
            }
            "volume-nocopy" => {
                m.volume.get_or_insert_with(Default::default).nocopy =
                    parse_bool(val).ok_or_else(|| format!("invalid value for volume-nocopy: {val}"))?
            }
            "volume-label" | "volume-opt" => {
                let v = m.volume.get_or_insert_with(Default::default);
                let map = if key == "volume-label" {
                    &mut v.labels
                } else {
                    &mut v.driver_opts
                };
                let (k, x) = val.split_once('=').unwrap_or((val, ""));
                if !k.is_empty() {
                    map.insert(k.to_string(), x.to_string());
                }
            }
            "volume-driver" => {
                m.volume.get_or_insert_with(Default::default).driver = val.to_string()
            }
            "image-subpath" => m.image_subpath = Some(val.to_string()),
            "tmpfs-size" => {
                m.tmpfs.get_or_insert_with(Default::default).size =
                    crate::fmtutil::ram_in_bytes(val).map_err(|_| invalid(&key, val))?
            }
            "tmpfs-mode" => {
                let ok = !val.is_empty() && val.bytes().all(|c| (b'0'..=b'7').contains(&c));
                m.tmpfs.get_or_insert_with(Default::default).mode = ok
                    .then(|| u32::from_str_radix(val, 8).ok())
                    .flatten()
                    .ok_or_else(|| invalid(&key, val))?
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if m.kind.is_empty() {
        return Err("type is required".into());
    }
    if m.target.is_empty() {
        return Err("target is required".into());
    }
    let mix = |what: &str| format!("cannot mix '{what}-*' options with mount type '{}'", m.kind);
    if m.volume.is_some() && m.kind != "volume" {
        return Err(mix("volume"));
    }
    if m.image_subpath.is_some() && m.kind != "image" {
        return Err(mix("image"));
    }
    if m.bind.is_some() && m.kind != "bind" {
        return Err(mix("bind"));
    }
    if m.tmpfs.is_some() && m.kind != "tmpfs" {
        return Err(mix("tmpfs"));
    }
    if let Some(b) = &m.bind {
        if b.readonly_non_recursive && !m.readonly {
            return Err("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction".into());
        }
        if b.readonly_force_recursive {
            if !m.readonly {
                return Err("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction".into());
            }
            if b.propagation != "rprivate" {
                return Err("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction".into());
            }
        }
    }
    Ok(m.to_json())
}

/// The check the docker client makes before sending mounts to an older
/// daemon.
pub fn check_mounts_api(mounts: &[Value], api: &str) -> Result<(), String> {
    let below = |v: &str| api_client::compare_versions(api, v) == std::cmp::Ordering::Less;
    if !below("1.44") {
        return Ok(());
    }
    for m in mounts {
        let b = &m["BindOptions"];
        if b["ReadOnlyForceRecursive"] == json!(true) {
            return Err("bind-recursive=readonly requires API v1.44 or later".into());
        }
        if b["NonRecursive"] == json!(true) && below("1.40") {
            return Err("bind-recursive=disabled requires API v1.40 or later".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CWD: &str = "/work/dir";

    #[test]
    fn volume_specs() {
        // spec -> (source, target, kind) or the error
        type Want = Result<(&'static str, &'static str, &'static str), &'static str>;
        let cases: &[(&str, Want)] = &[
            ("/ctr", Ok(("", "/ctr", "volume"))),
            ("a", Ok(("", "a", "volume"))),
            ("::", Ok(("", "::", "volume"))),
            ("name:/ctr", Ok(("name", "/ctr", "volume"))),
            ("name:/ctr:ro,nocopy", Ok(("name", "/ctr", "volume"))),
            ("/h:/c:rw,Z,rshared", Ok(("/h", "/c", "bind"))),
            ("./h:/c", Ok(("./h", "/c", "bind"))),
            ("~/h:/c", Ok(("~/h", "/c", "bind"))),
            // A single letter and a colon is a Windows drive, not a source.
            ("x:/y", Ok(("", "x:/y", "volume"))),
            ("c:/x:/y", Ok(("c:/x", "/y", "bind"))),
            ("a::b", Ok(("a:", "b", "bind"))),
            ("", Err("invalid empty volume spec")),
            (
                "/a:/b:/c:ro",
                Err("invalid spec: /a:/b:/c:ro: too many colons"),
            ),
            (
                "/a:/b:ro:x",
                Err("invalid spec: /a:/b:ro:x: too many colons"),
            ),
            (
                "/c:",
                Err("invalid spec: /c:: empty section between colons"),
            ),
            (
                ":/c",
                Err("invalid spec: :/c: empty section between colons"),
            ),
        ];
        for (spec, want) in cases {
            let got = parse_volume_spec(spec).map(|v| (v.source, v.target, v.kind));
            let want = want
                .map(|(s, t, k)| (s.to_string(), t.to_string(), k))
                .map_err(str::to_string);
            assert_eq!(got, want, "{spec}");
        }
    }

    #[test]
    fn binds_volumes_split() {
        let specs: Vec<String> = [
            "/anon",
            "x:/y",
            "named:/n:ro",
            "./rel:/r:ro",
            "../up:/u",
            ".:/d",
            "/h:/c",
            "/h:/c",
            "/anon",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (binds, volumes) = binds_and_volumes(&specs, Path::new(CWD)).unwrap();
        assert_eq!(
            binds,
            [
                "named:/n:ro",
                "/work/dir/rel:/r:ro",
                "/work/up:/u",
                "/work/dir:/d",
                "/h:/c"
            ]
        );
        assert_eq!(volumes.keys().collect::<Vec<_>>(), ["/anon", "x:/y"]);
        let bad = binds_and_volumes(&["/a:".to_string()], Path::new(CWD)).unwrap_err();
        assert_eq!(bad, "invalid spec: /a:: empty section between colons");
    }

    #[test]
    fn tmpfs_values() {
        let m = tmpfs_map(&["/t:size=1m,mode=1777".into(), "/u".into(), "/t:ro".into()]);
        assert_eq!(json!(m), json!({"/t": "ro", "/u": ""}));
    }

    #[test]
    fn clean_paths() {
        for (p, want) in [
            ("/a/./b/../c/", "/a/c"),
            ("/../x", "/x"),
            ("/", "/"),
            ("/a/b/..", "/a"),
        ] {
            assert_eq!(go_clean(p), want, "{p}");
        }
    }

    #[test]
    fn mounts() {
        let ok: &[(&str, Value)] = &[
            ("dst=/x", json!({"Type": "volume", "Target": "/x"})),
            (
                "TYPE=Bind,SRC=./rel,Dst=/x,bind-propagation=RSHARED,readonly=true",
                json!({"Type": "bind", "Source": "/work/dir/rel", "Target": "/x", "ReadOnly": true,
                    "BindOptions": {"Propagation": "rshared"}}),
            ),
            (
                "type=bind,src=/h,dst=/c,consistency=CACHED,bind-nonrecursive,ro",
                json!({"Type": "bind", "Source": "/h", "Target": "/c", "ReadOnly": true,
                    "Consistency": "cached", "BindOptions": {"NonRecursive": true}}),
            ),
            (
                "type=bind,src=/h,target=/c,bind-recursive=readonly,ro=1,bind-propagation=rprivate",
                json!({"Type": "bind", "Source": "/h", "Target": "/c", "ReadOnly": true,
                    "BindOptions": {"Propagation": "rprivate", "ReadOnlyForceRecursive": true}}),
            ),
            (
                "type=bind,src=/h,target=/c,bind-recursive=enabled",
                json!({"Type": "bind", "Source": "/h", "Target": "/c"}),
            ),
            (
                "src=v,dst=/m,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=novalue,volume-opt==x,volume-label=k,volume-subpath=sub,volume-nocopy=true",
                json!({"Type": "volume", "Source": "v", "Target": "/m", "VolumeOptions": {
                    "NoCopy": true, "Labels": {"k": ""}, "Subpath": "sub",
                    "DriverConfig": {"Name": "local", "Options": {"device": "tmpfs", "novalue": "", "type": "tmpfs"}}}}),
            ),
            (
                "type=volume,source=v,destination=/m,volume-label=a=b",
                json!({"Type": "volume", "Source": "v", "Target": "/m",
                    "VolumeOptions": {"Labels": {"a": "b"}, "DriverConfig": {}}}),
            ),
            (
                "type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770",
                json!({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 67108864, "Mode": 1016}}),
            ),
            (
                "type=image,source=busybox,target=/i,image-subpath=bin",
                json!({"Type": "image", "Source": "busybox", "Target": "/i", "ImageOptions": {"Subpath": "bin"}}),
            ),
            (
                "\"type=bind\",\"dst=/a,b\",src=/h",
                json!({"Type": "bind", "Source": "/h", "Target": "/a,b"}),
            ),
        ];
        for (v, want) in ok {
            assert_eq!(parse_mount(v, Path::new(CWD)).as_ref(), Ok(want), "{v}");
        }
        let errs = [
            ("", "EOF"),
            ("a\"b", "parse error on line 1, column 2: bare \" in non-quoted-field"),
            ("x,a\"b", "parse error on line 1, column 4: bare \" in non-quoted-field"),
            ("\"abc", "parse error on line 1, column 5: extraneous or missing \" in quoted-field"),
            ("x,\"ab", "parse error on line 1, column 6: extraneous or missing \" in quoted-field"),
            ("xy,\"a\"b,c", "parse error on line 1, column 6: extraneous or missing \" in quoted-field"),
            ("type=bind", "target is required"),
            ("type=,target=/x", "type is required"),
            ("target=/x,foo", "invalid field 'foo' must be a key=value pair"),
            ("type=bind,dst=/x,", "invalid field '' must be a key=value pair"),
            ("target=/x,foo=1", "unexpected key 'foo' in 'foo=1'"),
            (" type=bind,dst=/x", "unexpected key ' type' in ' type=bind'"),
            ("type=bind,target=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
            ("type=tmpfs,target=/i,image-subpath=bin", "cannot mix 'image-*' options with mount type 'tmpfs'"),
            ("target=/x,bind-propagation=shared", "cannot mix 'bind-*' options with mount type 'volume'"),
            ("target=/x,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'volume'"),
            ("type=volume,target=/x,ro=maybe", "invalid value for ro: maybe"),
            ("target=/x,tmpfs-size=1q", "invalid value for tmpfs-size: 1q"),
            ("type=tmpfs,target=/x,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"),
            ("target=/x,volume-nocopy=maybe", "invalid value for volume-nocopy: maybe"),
            ("type=bind,target=/x,bind-nonrecursive=x", "invalid value for bind-nonrecursive: x"),
            ("type=bind,dst=/x,bind-recursive=no", "invalid value for bind-recursive: no (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"),
            ("type=bind,dst=/x,bind-recursive=writable", "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"),
            ("type=bind,dst=/x,bind-recursive=readonly", "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction"),
            ("type=bind,dst=/x,bind-recursive=readonly,ro", "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"),
        ];
        for (v, want) in errs {
            assert_eq!(parse_mount(v, Path::new(CWD)), Err(want.to_string()), "{v}");
        }
    }

    #[test]
    fn mounts_on_old_daemons() {
        let force = json!([{"BindOptions": {"ReadOnlyForceRecursive": true}}]);
        let nonrec = json!([{"BindOptions": {"NonRecursive": true}}]);
        let (force, nonrec) = (force.as_array().unwrap(), nonrec.as_array().unwrap());
        assert_eq!(check_mounts_api(force, "1.44"), Ok(()));
        assert_eq!(
            check_mounts_api(force, "1.43"),
            Err("bind-recursive=readonly requires API v1.44 or later".into())
        );
        assert_eq!(check_mounts_api(nonrec, "1.41"), Ok(()));
        assert_eq!(
            check_mounts_api(nonrec, "1.39"),
            Err("bind-recursive=disabled requires API v1.40 or later".into())
        );
    }
}
