//! `berth volume create|ls|inspect|rm|prune`, with the docker CLI's
//! request bodies, output and errors.

use std::collections::BTreeMap;

use api_client::Client;
use serde_json::{json, Map, Value};

use crate::cli::*;
use crate::containers::render_format;
use crate::netopts::{self, natural_cmp};
use crate::network::{self, check_args, flag_error, Arity};
use crate::{fmtutil, CmdResult, Failure};

const CREATE_USAGE: &str = "volume create [OPTIONS] [VOLUME]";

/// The `POST /volumes/create` body the docker CLI sends (empty fields
/// omitted, maps sorted as Go marshals them).
fn create_body(a: &VolumeCreateArgs) -> Result<Value, Failure> {
    check_args(&a.args, Arity::AtMost(1), CREATE_USAGE)?;
    for l in &a.label {
        netopts::validate_label(l).map_err(|e| flag_error(CREATE_USAGE, l, "--label", &e))?;
    }
    let mut name = a.name.clone().unwrap_or_default();
    if let Some(arg) = a.args.first() {
        if !name.is_empty() {
            return Err(Failure::new(
                1,
                "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
            ));
        }
        name = arg.clone();
    }
    let mut body = Map::new();
    body.insert("Driver".into(), json!(a.driver));
    // `-o k=v`: the last value for a key wins; `-o k` is k="".
    let opts = netopts::kv_map(&a.opt);
    if !opts.is_empty() {
        body.insert("DriverOpts".into(), Value::Object(opts));
    }
    let labels = netopts::kv_map(&a.label);
    if !labels.is_empty() {
        body.insert("Labels".into(), Value::Object(labels));
    }
    if !name.is_empty() {
        body.insert("Name".into(), json!(name));
    }
    Ok(Value::Object(body))
}

pub async fn create(client: &Client, a: VolumeCreateArgs) -> CmdResult {
    let body = create_body(&a)?;
    let v: Value = client
        .post_json("/volumes/create", &[], Some(&body))
        .await?;
    println!("{}", v["Name"].as_str().unwrap_or_default());
    Ok(0)
}

/// The `volume ls --format` context of one volume (docker's field names;
/// keys sorted, as `--format json` prints them).
fn ls_context(v: &Value) -> Value {
    let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
    let mut labels: Vec<String> = v["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, x)| format!("{k}={}", s(x)))
        .collect();
    // docker joins them in Go's random map order; sorted here.
    labels.sort();
    let usage = &v["UsageData"];
    let cluster = &v["ClusterVolume"];
    let na = || json!("N/A");
    let (group, availability, status) = if cluster.is_object() {
        let published = cluster["PublishStatus"].as_array().map_or(0, Vec::len);
        let status = if s(&cluster["Info"]["VolumeID"]).is_empty() {
            "pending creation".to_string()
        } else {
            match published {
                0 => "created".to_string(),
                1 => "in use (1 node)".to_string(),
                n => format!("in use ({n} nodes)"),
            }
        };
        (
            json!(s(&cluster["Spec"]["Group"])),
            json!(s(&cluster["Spec"]["Availability"])),
            json!(status),
        )
    } else {
        (na(), na(), na())
    };
    let mut m = Map::new();
    m.insert("Availability".into(), availability);
    m.insert("Driver".into(), json!(s(&v["Driver"])));
    m.insert("Group".into(), group);
    m.insert("Labels".into(), json!(labels.join(",")));
    m.insert(
        "Links".into(),
        match usage["RefCount"].as_i64() {
            Some(n) if usage.is_object() => json!(n.to_string()),
            _ => na(),
        },
    );
    m.insert("Mountpoint".into(), json!(s(&v["Mountpoint"])));
    m.insert("Name".into(), json!(s(&v["Name"])));
    m.insert("Scope".into(), json!(s(&v["Scope"])));
    m.insert(
        "Size".into(),
        match usage["Size"].as_i64() {
            Some(n) if usage.is_object() => json!(fmtutil::human_size(n as f64)),
            _ => na(),
        },
    );
    m.insert("Status".into(), status);
    let label_map = match &v["Labels"] {
        Value::Object(l) => Value::Object(l.clone()),
        _ => json!({}),
    };
    m.insert(crate::template::hidden_key("Label"), label_map);
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn ls_headers() -> Value {
    json!({
        "ID": "ID", "Name": "VOLUME NAME", "Group": "GROUP", "Driver": "DRIVER",
        "Scope": "SCOPE", "Availability": "AVAILABILITY", "Mountpoint": "MOUNTPOINT",
        "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Status": "STATUS",
        crate::template::hidden_key("Label"): crate::template::HEADER_LABEL,
    })
}

/// docker's `NewVolumeFormat`: what `table`, `raw` and an empty format mean.
fn ls_format(format: &str, quiet: bool) -> String {
    match (format, quiet) {
        ("table", true) => "{{.Name}}".into(),
        ("table", false) => "table {{.Driver}}\t{{.Name}}".into(),
        ("raw", true) => "name: {{.Name}}".into(),
        ("raw", false) => "name: {{.Name}}\ndriver: {{.Driver}}\n".into(),
        (f, _) => f.into(),
    }
}

pub async fn ls(client: &Client, a: VolumeLsArgs) -> CmdResult {
    const USAGE: &str = "volume ls [OPTIONS]";
    check_args(&a.extra, Arity::None, USAGE)?;
    let filters = network::filters_query(&network::parse_filter_flags(
        &a.filter,
        USAGE,
        "-f, --filter",
    )?);
    let q: Vec<(&str, &str)> = filters.iter().map(|f| ("filters", f.as_str())).collect();
    let resp: Value = client.get_json("/volumes", &q).await?;
    let mut list: Vec<&Value> = resp["Volumes"].as_array().into_iter().flatten().collect();
    list.sort_by(|x, y| {
        natural_cmp(
            x["Name"].as_str().unwrap_or_default(),
            y["Name"].as_str().unwrap_or_default(),
        )
    });
    let mut format = a.format.clone().unwrap_or_default();
    if format.is_empty() {
        // The config file's volumesFormat, unless -q.
        format = crate::auth::ConfigFile::load()
            .string("volumesFormat")
            .filter(|f| !f.is_empty() && !a.quiet)
            .unwrap_or_else(|| "table".into());
    }
    let rows: Vec<Value> = list.into_iter().map(ls_context).collect();
    print!(
        "{}",
        render_format(&ls_format(&format, a.quiet), &rows, &ls_headers())?
    );
    Ok(0)
}

/// A volume as the docker CLI re-encodes it: its maps with sorted keys.
fn sorted_maps(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["Labels", "Options"] {
        if let Some(m) = v[k].as_object() {
            let sorted: BTreeMap<String, Value> =
                m.iter().map(|(k, x)| (k.clone(), x.clone())).collect();
            v[k] = json!(sorted);
        }
    }
    v
}

pub async fn inspect(client: &Client, a: VolumeInspectArgs) -> CmdResult {
    check_args(
        &a.names,
        Arity::AtLeast(1),
        "volume inspect [OPTIONS] VOLUME [VOLUME...]",
    )?;
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for name in &a.names {
        match client
            .get_json::<Value>(&format!("/volumes/{name}"), &[])
            .await
        {
            Ok(v) => results.push(sorted_maps(&v)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !matches!(a.format.as_deref(), None | Some("") | Some("json")) {
        // Templates see docker's typed volume: nil maps print `map[]`.
        for r in results.iter_mut().filter_map(Value::as_object_mut) {
            for k in ["Labels", "Options"] {
                r.insert(
                    crate::template::zero_key(k),
                    json!(crate::template::NIL_MAP),
                );
            }
        }
    }
    network::print_inspect(a.format.as_deref(), &results)?;
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

pub async fn rm(client: &Client, a: VolumeRmArgs) -> CmdResult {
    check_args(
        &a.names,
        Arity::AtLeast(1),
        "volume rm [OPTIONS] VOLUME [VOLUME...]",
    )?;
    let q: Vec<(&str, &str)> = if a.force {
        vec![("force", "1")]
    } else {
        vec![]
    };
    let mut errors = Vec::new();
    for name in &a.names {
        match client.delete(&format!("/volumes/{name}"), &q).await {
            Ok(()) => println!("{name}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

const UNUSED_WARNING: &str = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?";
const ALL_WARNING: &str = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?";

/// The prune filters and prompt for the negotiated API version: before
/// 1.42 the daemon prunes named volumes too (and `--all` is refused).
fn prune_plan(
    a: &VolumePruneArgs,
    mut filters: BTreeMap<String, Vec<String>>,
    api: &str,
) -> Result<(BTreeMap<String, Vec<String>>, &'static str), Failure> {
    if api_client::compare_versions(api, "1.42") == std::cmp::Ordering::Less {
        if a.all {
            return Err(Failure::new(
                1,
                format!("\"--all\" requires API version 1.42, but the Docker daemon API version is {api}"),
            ));
        }
        return Ok((filters, ALL_WARNING));
    }
    if !a.all {
        return Ok((filters, UNUSED_WARNING));
    }
    if filters.contains_key("all") {
        return Err(Failure::new(
            1,
            "conflicting options: cannot specify both --all and --filter all=1",
        ));
    }
    filters.insert("all".into(), vec!["true".into()]);
    Ok((filters, ALL_WARNING))
}

pub async fn prune(client: &Client, a: VolumePruneArgs) -> CmdResult {
    const USAGE: &str = "volume prune [OPTIONS]";
    check_args(&a.extra, Arity::None, USAGE)?;
    network::parse_filter_flags(&a.filter, USAGE, "--filter")?;
    let cfg = crate::auth::ConfigFile::load();
    let filters = crate::images::prune_filters(&a.filter, None, &cfg.prune_filters())?;
    let api = client.api_version().await?;
    let (filters, warning) = prune_plan(&a, filters, &api)?;
    if !a.force && !crate::images::confirm(warning) {
        // A cancelled prune ends quietly with status 0, as docker's.
        return Ok(0);
    }
    let filters = network::filters_query(&filters);
    let q: Vec<(&str, &str)> = filters.iter().map(|f| ("filters", f.as_str())).collect();
    let report: Value = client.post_json("/volumes/prune", &q, None).await?;
    let deleted: Vec<&str> = report["VolumesDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut reclaimed = 0;
    if !deleted.is_empty() {
        println!("Deleted Volumes:");
        for d in &deleted {
            println!("{d}");
        }
        println!();
        reclaimed = report["SpaceReclaimed"].as_u64().unwrap_or(0);
    }
    println!(
        "Total reclaimed space: {}",
        fmtutil::human_size(reclaimed as f64)
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Cmd {
        let mut argv = vec!["berth", "volume"];
        argv.extend_from_slice(args);
        crate::cli::Cli::try_parse_from(argv).unwrap().cmd.unwrap()
    }

    fn create_args(args: &[&str]) -> VolumeCreateArgs {
        let mut v = vec!["create"];
        v.extend_from_slice(args);
        match parse(&v) {
            Cmd::Volume(VolumeCmd::Create(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn create_bodies() {
        let cases: &[(&[&str], Value)] = &[
            (&[], json!({"Driver": "local"})),
            (&["v1"], json!({"Driver": "local", "Name": "v1"})),
            (&["--name", "v2"], json!({"Driver": "local", "Name": "v2"})),
            (
                &[
                    "-d", "foo", "--label", "b=2", "--label", "a", "-o", "x=y", "-o", "z", "-o",
                    "x=w", "n",
                ],
                json!({"Driver": "foo", "DriverOpts": {"x": "w", "z": ""}, "Labels": {"a": "", "b": "2"}, "Name": "n"}),
            ),
            (
                &[
                    "--driver=local",
                    "--opt",
                    "type=tmpfs",
                    "--opt",
                    "o=size=1m",
                ],
                json!({"Driver": "local", "DriverOpts": {"o": "size=1m", "type": "tmpfs"}}),
            ),
        ];
        for (args, want) in cases {
            assert_eq!(&create_body(&create_args(args)).unwrap(), want, "{args:?}");
        }
        let e = create_body(&create_args(&["--name", "x", "y"])).unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (
                1,
                "conflicting options: cannot specify a volume-name through both --name and as a positional arg"
            )
        );
        let e = create_body(&create_args(&["a", "b"])).unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (1, "berth: 'berth volume create' requires at most 1 argument\n\nUsage:  berth volume create [OPTIONS] [VOLUME]\n\nSRun 'berth volume create --help' for more information"));
        let e = create_body(&create_args(&["--label", "=x"])).unwrap_err();
        assert_eq!(e.code, 125);
        assert!(e.msg.starts_with("invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name\n\nUsage:  berth volume create [OPTIONS] [VOLUME]\n"), "{}", e.msg);
    }

    #[test]
    fn ls_rows() {
        let local = json!({"Name": "n1", "Driver": "local", "Scope": "local", "CreatedAt": "2026-12-03T10:22:05Z",
            "Mountpoint": "/var/lib/docker/volumes/n1/_data", "Labels": {"c": "", "a": "b"}, "Options": null});
        let row = ls_context(&local);
        let out = render_format(
            &ls_format("table", false),
            std::slice::from_ref(&row),
            &ls_headers(),
        )
        .unwrap();
        assert_eq!(out, "DRIVER    VOLUME NAME\nlocal     n1\n");
        assert_eq!(
            render_format(
                &ls_format("table", true),
                std::slice::from_ref(&row),
                &ls_headers()
            )
            .unwrap(),
            "n1\n"
        );
        assert_eq!(
            render_format(
                &ls_format("raw", false),
                std::slice::from_ref(&row),
                &ls_headers()
            )
            .unwrap(),
            "name: n1\ndriver: local\n\n"
        );
        assert_eq!(
            render_format("json", std::slice::from_ref(&row), &ls_headers()).unwrap(),
            "{\"Availability\":\"N/A\",\"Driver\":\"local\",\"Group\":\"N/A\",\"Labels\":\"a=b,c=\",\"Links\":\"N/A\",\"Mountpoint\":\"/var/lib/docker/volumes/n1/_data\",\"Name\":\"n1\",\"Scope\":\"local\",\"Size\":\"N/A\",\"Status\":\"N/A\"}\n"
        );
        let out = render_format(
            "table {{.Name}}\t{{.Label \"a\"}}\t{{.Links}}\t{{.Size}}",
            &[
                row,
                ls_context(&json!({"Name": "n2", "UsageData": {"RefCount": 2, "Size": 1500}})),
            ],
            &ls_headers(),
        )
        .unwrap();
        assert_eq!(out, "VOLUME NAME   a         LINKS     SIZE\nn1            b         N/A       N/A\nn2                      2         1.5kB\n");
        let cluster = ls_context(
            &json!({"Name": "c", "ClusterVolume": {"Spec": {"Group": "g", "Availability": "active"},
            "Info": {"VolumeID": "x"}, "PublishStatus": [{}, {}]}}),
        );
        assert_eq!(
            (
                &cluster["Group"],
                &cluster["Availability"],
                &cluster["Status"]
            ),
            (&json!("g"), &json!("active"), &json!("in use (2 nodes)"))
        );
    }

    #[test]
    fn prune_plans() {
        let args = |all: bool| VolumePruneArgs {
            all,
            force: true,
            filter: vec![],
            extra: vec![],
        };
        let label = BTreeMap::from([("label".to_string(), vec!["x".to_string()])]);
        // (all, filters, api) -> filters sent and prompt, or the error
        let (f, w) = prune_plan(&args(false), label.clone(), "1.50").unwrap();
        assert_eq!((f, w), (label.clone(), UNUSED_WARNING));
        let (f, w) = prune_plan(&args(true), label.clone(), "1.50").unwrap();
        assert_eq!(w, ALL_WARNING);
        assert_eq!(json!(f), json!({"all": ["true"], "label": ["x"]}));
        let (f, w) = prune_plan(&args(false), BTreeMap::new(), "1.41").unwrap();
        assert_eq!((f, w), (BTreeMap::new(), ALL_WARNING));
        let e = prune_plan(&args(true), BTreeMap::new(), "1.41").unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (
                1,
                "\"--all\" requires API version 1.42, but the Docker daemon API version is 1.41"
            )
        );
        let all = BTreeMap::from([("all".to_string(), vec!["1".to_string()])]);
        let e = prune_plan(&args(true), all, "1.50").unwrap_err();
        assert_eq!(
            e.msg,
            "conflicting options: cannot specify both --all and --filter all=1"
        );
    }

    #[test]
    fn inspect_sorts_maps() {
        let v = json!({"Name": "n", "Labels": {"z": "1", "a": "2"}, "Options": null});
        assert_eq!(
            serde_json::to_string(&sorted_maps(&v)).unwrap(),
            r#"{"Name":"n","Labels":{"a":"2","z":"1"},"Options":null}"#
        );
    }

    #[test]
    fn aliases() {
        assert!(matches!(parse(&["list", "-q"]), Cmd::Volume(VolumeCmd::Ls(a)) if a.quiet));
        assert!(matches!(parse(&["remove", "-f", "x"]), Cmd::Volume(VolumeCmd::Rm(a)) if a.force));
        assert!(
            matches!(parse(&["prune", "-a", "-f"]), Cmd::Volume(VolumeCmd::Prune(a)) if a.all && a.force)
        );
    }
}
