//! Image commands: images, import, tag, rmi, history, prune.

use api_client::{Body, Client, HttpMethod as Method};
use serde_json::{json, Map, Value};

use crate::cli::*;
use crate::containers::{parse_filters, render_format};
use crate::fmtutil;
use crate::refs::Reference;
use crate::{CmdResult, Failure};

pub async fn import(client: &Client, a: ImportArgs) -> CmdResult {
    let mut q: Vec<(String, String)> = Vec::new();
    let body = if a.source == "-" {
        q.push(("fromSrc".into(), "-".into()));
        Body::reader(tokio::io::stdin(), "application/x-tar")
    } else if a.source.starts_with("http://") || a.source.starts_with("https://") {
        q.push(("fromSrc".into(), a.source.clone()));
        Body::empty()
    } else {
        let f = tokio::fs::File::open(&a.source).await.map_err(|e| {
            let msg = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            };
            Failure::new(1, format!("open {}: {msg}", a.source))
        })?;
        q.push(("fromSrc".into(), "-".into()));
        Body::reader(f, "application/x-tar")
    };
    if let Some(r) = &a.reference {
        let r = Reference::parse(r);
        q.push(("repo".into(), r.name.clone()));
        if let Some(t) = &r.tag {
            q.push(("tag".into(), t.clone()));
        }
    }
    if let Some(m) = &a.message {
        q.push(("message".into(), m.clone()));
    }
    for c in &a.change {
        q.push(("changes".into(), c.clone()));
    }
    if let Some(p) = &a.platform {
        q.push(("platform".into(), p.clone()));
    }
    let qref: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = client
        .stream(Method::POST, "/images/create", &qref, body)
        .await?;
    crate::progress::consume(resp, crate::progress::Target::Stdout)
        .await
        .map_err(|e| Failure::new(1, e))?;
    Ok(0)
}

/// `berth commit`: prints the new image's id, as the docker CLI.
pub async fn commit(client: &Client, a: crate::cli::CommitArgs) -> CmdResult {
    let (repo, tag) = match &a.reference {
        Some(r) => {
            let t = Reference::parse(r);
            if t.digest.is_some() {
                return Err(Failure::new(
                    1,
                    "Error: refusing to create a tag with a digest reference",
                ));
            }
            (t.name.clone(), t.tag.clone().unwrap_or_default())
        }
        None => (String::new(), String::new()),
    };
    let pause = if a.pause { "1" } else { "0" };
    let mut q: Vec<(&str, &str)> = vec![
        ("container", &a.container),
        ("repo", &repo),
        ("tag", &tag),
        ("comment", a.message.as_deref().unwrap_or("")),
        ("author", a.author.as_deref().unwrap_or("")),
        ("pause", pause),
    ];
    for c in &a.change {
        q.push(("changes", c));
    }
    let r: serde_json::Value = client.post_json("/commit", &q, None).await?;
    println!("{}", r["Id"].as_str().unwrap_or_default());
    Ok(0)
}

pub async fn tag(client: &Client, a: TagArgs) -> CmdResult {
    let t = Reference::parse(&a.target);
    if t.digest.is_some() {
        return Err(Failure::new(
            1,
            "Error: refusing to create a tag with a digest reference",
        ));
    }
    let tag = t.tag.clone().unwrap_or_else(|| "latest".into());
    client
        .post(
            &format!("/images/{}/tag", a.source),
            &[("repo", &t.name), ("tag", &tag)],
            None,
        )
        .await?;
    Ok(0)
}

pub async fn rmi(client: &Client, a: RmiArgs) -> CmdResult {
    let mut failed = false;
    for img in &a.images {
        let mut q: Vec<(&str, &str)> = Vec::new();
        if a.force {
            q.push(("force", "1"));
        }
        if a.no_prune {
            q.push(("noprune", "1"));
        }
        match client
            .delete_json::<Value>(&format!("/images/{img}"), &q)
            .await
        {
            Ok(v) => {
                for item in v.as_array().into_iter().flatten() {
                    if let Some(u) = item.get("Untagged").and_then(|s| s.as_str()) {
                        println!("Untagged: {u}");
                    }
                    if let Some(d) = item.get("Deleted").and_then(|s| s.as_str()) {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// docker's image formatter context for one row of `images` / `system df -v`.
pub fn image_context(img: &Value, repo: &str, tag: &str, digest: &str, trunc: bool) -> Value {
    let id = img["Id"].as_str().unwrap_or("");
    let created = img["Created"].as_i64().unwrap_or(0);
    let size = img["Size"].as_i64().unwrap_or(0);
    let virt = img["VirtualSize"].as_i64().unwrap_or(size);
    let shared = img["SharedSize"].as_i64().unwrap_or(-1);
    let containers = img["Containers"].as_i64().unwrap_or(-1);
    let mut m = Map::new();
    m.insert(
        "Containers".into(),
        json!(if containers < 0 {
            "N/A".to_string()
        } else {
            containers.to_string()
        }),
    );
    m.insert("CreatedAt".into(), json!(fmtutil::go_time_string(created)));
    m.insert("CreatedSince".into(), json!(fmtutil::since_unix(created)));
    m.insert("Digest".into(), json!(digest));
    m.insert("ID".into(), json!(fmtutil::display_id(id, trunc)));
    m.insert("Repository".into(), json!(repo));
    m.insert(
        "SharedSize".into(),
        json!(if shared < 0 {
            "N/A".to_string()
        } else {
            fmtutil::human_size(shared as f64)
        }),
    );
    m.insert(
        "Size".into(),
        json!(fmtutil::human_size_prec(size as f64, 3)),
    );
    m.insert("Tag".into(), json!(tag));
    m.insert(
        "UniqueSize".into(),
        json!(if shared < 0 || size < 0 {
            "N/A".to_string()
        } else {
            fmtutil::human_size((size - shared) as f64)
        }),
    );
    m.insert(
        "VirtualSize".into(),
        json!(fmtutil::human_size(virt as f64)),
    );
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn image_rows(img: &Value, trunc: bool) -> Vec<Value> {
    let base = |repo: &str, tag: &str, digest: &str| image_context(img, repo, tag, digest, trunc);
    let tags: Vec<&str> = img["RepoTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .filter(|t| *t != "<none>:<none>")
        .collect();
    let digests: Vec<&str> = img["RepoDigests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .filter(|t| *t != "<none>@<none>")
        .collect();
    let digest_for = |repo: &str| -> Option<String> {
        digests.iter().find_map(|d| {
            d.split_once('@')
                .filter(|(r, _)| *r == repo)
                .map(|(_, dg)| dg.to_string())
        })
    };
    if tags.is_empty() && digests.is_empty() {
        return vec![base("<none>", "<none>", "<none>")];
    }
    let mut rows = Vec::new();
    let mut seen_repos = Vec::new();
    for t in &tags {
        let r = Reference::parse(t);
        let digest = digest_for(&r.name).unwrap_or_else(|| "<none>".into());
        rows.push(base(&r.name, r.tag.as_deref().unwrap_or("<none>"), &digest));
        seen_repos.push(r.name);
    }
    for d in &digests {
        if let Some((repo, dg)) = d.split_once('@') {
            if !seen_repos.iter().any(|r| r == repo) {
                rows.push(base(repo, "<none>", dg));
                seen_repos.push(repo.to_string());
            }
        }
    }
    rows
}

fn image_headers() -> Value {
    json!({
        "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
        "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
        "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    })
}

pub async fn images(client: &Client, a: ImagesArgs) -> CmdResult {
    let mut filters = a.filter.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let filters = parse_filters(&filters)?;
    let mut q: Vec<(&str, &str)> = Vec::new();
    if a.all {
        q.push(("all", "1"));
    }
    if let Some(f) = &filters {
        q.push(("filters", f));
    }
    let list: Vec<Value> = client.get_json("/images/json", &q).await?;
    let rows: Vec<Value> = list
        .iter()
        .flat_map(|i| image_rows(i, !a.no_trunc))
        .collect();
    let format = if a.quiet {
        "{{.ID}}".to_string()
    } else {
        match &a.format {
            Some(f) if !f.is_empty() && f != "table" => f.clone(),
            _ if a.digests => "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}".into(),
            _ => "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}".into(),
        }
    };
    print!("{}", render_format(&format, &rows, &image_headers())?);
    Ok(0)
}

// ------------------------------------------------------------------ history

fn history_headers() -> Value {
    json!({
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
    })
}

/// docker's history formatter context for one layer.
fn history_row(h: &Value, trunc: bool, human: bool) -> Value {
    let id = h["Id"].as_str().unwrap_or("");
    let created = h["Created"].as_i64().unwrap_or(0);
    let size = h["Size"].as_i64().unwrap_or(0);
    let created_at = fmtutil::rfc3339_local(created);
    // Dates before 2000 are shown as N/A (docker's `epoch`).
    let created_since = if !human {
        created_at.clone()
    } else if created <= 946_684_800 {
        "N/A".to_string()
    } else {
        fmtutil::since_unix(created)
    };
    let created_by = h["CreatedBy"].as_str().unwrap_or("").replace('\t', " ");
    let mut m = Map::new();
    m.insert("Comment".into(), json!(h["Comment"].as_str().unwrap_or("")));
    m.insert("CreatedAt".into(), json!(created_at));
    m.insert(
        "CreatedBy".into(),
        json!(if trunc {
            fmtutil::ellipsis(&created_by, 45)
        } else {
            created_by
        }),
    );
    m.insert("CreatedSince".into(), json!(created_since));
    m.insert("ID".into(), json!(fmtutil::display_id(id, trunc)));
    m.insert(
        "Size".into(),
        json!(if human {
            fmtutil::human_size_prec(size as f64, 3)
        } else {
            size.to_string()
        }),
    );
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

pub async fn history(client: &Client, a: HistoryArgs) -> CmdResult {
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        let p = crate::transfer::parse_platform(p)
            .map_err(|e| Failure::new(1, format!("invalid platform: {e}")))?;
        let v = client.api_version().await?;
        if api_client::compare_versions(&v, "1.48") == std::cmp::Ordering::Less {
            return Err(Failure::new(1, format!("\"platform\" requires API version 1.48, but the Docker daemon API version is {v}")));
        }
        q.push(("platform", p.to_string()));
    }
    let qref: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let items: Vec<Value> = client
        .get_json(&format!("/images/{}/history", a.image), &qref)
        .await?;
    let format = match a.format.as_deref() {
        None | Some("") | Some("table") => {
            if a.quiet {
                "{{.ID}}"
            } else if !a.human {
                "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
            } else {
                "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
            }
        }
        Some(f) => f,
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|h| history_row(h, !a.no_trunc, a.human))
        .collect();
    print!("{}", render_format(format, &rows, &history_headers())?);
    Ok(0)
}

// ------------------------------------------------------------------ prune

/// docker's confirmation prompt: `message [y/N] ` on stdout, one line from
/// stdin, true only for "y"/"Y".
pub fn confirm(message: &str) -> bool {
    use std::io::{BufRead, Write};
    print!("{message} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    line.trim().eq_ignore_ascii_case("y")
}

/// Prune filters: the `--filter` flags, `dangling`, then the config file's
/// `pruneFilters` merged the way docker's `command.PruneFilters` does.
pub fn prune_filters(
    flags: &[String],
    dangling: Option<bool>,
    config: &[String],
) -> Result<std::collections::BTreeMap<String, Vec<String>>, Failure> {
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let add = |map: &mut std::collections::BTreeMap<String, Vec<String>>, k: &str, v: &str| {
        let e = map.entry(k.to_string()).or_default();
        if !e.iter().any(|x| x == v) {
            e.push(v.to_string());
        }
    };
    for f in flags {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            Failure::new(
                125,
                format!("invalid argument \"{f}\" for \"--filter\" flag: bad format of filter (expected name=value)"),
            )
        })?;
        add(&mut map, &k.trim().to_lowercase(), v.trim());
    }
    if let Some(d) = dangling {
        add(&mut map, "dangling", if d { "true" } else { "false" });
    }
    for f in config {
        let Some((k, v)) = f.split_once('=') else {
            continue;
        };
        // docker skips a config label filter unless the opposite flag filter
        // is present with a different value (filters.ExactMatch semantics).
        let skip = |opposite: &str| match map.get(opposite) {
            None => true,
            Some(vals) if vals.is_empty() => true,
            Some(vals) => vals.iter().any(|x| x == v),
        };
        match k {
            "label" if skip("label!") => continue,
            "label!" if skip("label") => continue,
            _ => add(&mut map, k, v),
        }
    }
    Ok(map)
}

/// The `Deleted Images:` report of an image prune, and the space reclaimed.
fn prune_report(report: &Value) -> (String, u64) {
    let deleted = report["ImagesDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if deleted.is_empty() {
        return (String::new(), 0);
    }
    let mut out = String::from("Deleted Images:\n");
    for d in &deleted {
        match d["Untagged"].as_str().filter(|u| !u.is_empty()) {
            Some(u) => out.push_str(&format!("untagged: {u}\n")),
            None => out.push_str(&format!(
                "deleted: {}\n",
                d["Deleted"].as_str().unwrap_or("")
            )),
        }
    }
    (out, report["SpaceReclaimed"].as_u64().unwrap_or(0))
}

pub async fn prune(client: &Client, a: ImagePruneArgs) -> CmdResult {
    let cfg = crate::auth::ConfigFile::load();
    let filters = prune_filters(&a.filter, Some(!a.all), &cfg.prune_filters())?;
    let warning = if a.all {
        "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
    } else {
        "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
    };
    if !a.force && !confirm(warning) {
        // docker treats a cancelled prune as success, silently.
        return Ok(0);
    }
    let filters = serde_json::to_string(&filters).unwrap_or_default();
    let report: Value = client
        .post_json("/images/prune", &[("filters", &filters)], None)
        .await?;
    let (out, reclaimed) = prune_report(&report);
    if !out.is_empty() {
        println!("{out}");
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

    #[test]
    fn image_listing() {
        let img = json!({"Id": "sha256:fe711d61c2f17ffd71ad6b0e9cc54bee2e6fcf983e2456757d8597833422d82b", "RepoTags": ["foo/bar:v1", "busybox:latest"], "RepoDigests": [], "Created": 0, "Size": 1982000, "SharedSize": -1, "Containers": -1});
        let rows = image_rows(&img, true);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["Repository"], "foo/bar");
        assert_eq!(rows[0]["Tag"], "v1");
        assert_eq!(rows[0]["ID"], "fe711d61c2f1");
        assert_eq!(rows[0]["Size"], "1.98MB");
        let none = json!({"Id": "sha256:abc", "RepoTags": null, "Created": 0, "Size": 0});
        assert_eq!(image_rows(&none, true)[0]["Repository"], "<none>");
        let out = render_format(
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}",
            &rows,
            &image_headers(),
        )
        .unwrap();
        assert_eq!(out, "REPOSITORY   TAG       IMAGE ID       SIZE\nfoo/bar      v1        fe711d61c2f1   1.98MB\nbusybox      latest    fe711d61c2f1   1.98MB\n");
    }

    #[test]
    fn history_table() {
        let items = json!([
            {"Id": "sha256:c09c5047069c61b4ad8016c5a2934354575d4d4921ba3ce85895148e558c9756", "Created": 946684800, "CreatedBy": "/bin/sh -c #(nop) ADD file:1fd8d7f9f6557cafc7\tin / with a long tail", "Size": 1984234, "Comment": "Imported from -"},
            {"Id": "<missing>", "Created": 946684800, "CreatedBy": "", "Size": 0, "Comment": ""}
        ]);
        let rows: Vec<Value> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|h| history_row(h, true, true))
            .collect();
        let out = render_format(
            "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
            &rows,
            &history_headers(),
        )
        .unwrap();
        assert_eq!(
            out,
            "IMAGE          CREATED   CREATED BY                                      SIZE      COMMENT\n\
             c09c5047069c   N/A       /bin/sh -c #(nop) ADD file:1fd8d7f9f6557cafc…   1.98MB    Imported from -\n\
             <missing>      N/A                                                       0B        \n"
        );
        let raw = history_row(&items[0], false, false);
        assert_eq!(raw["Size"], "1984234");
        assert_eq!(raw["ID"], items[0]["Id"]);
        let json = render_format("json", &rows[..1], &history_headers()).unwrap();
        assert!(
            json.starts_with(r#"{"Comment":"Imported from -","CreatedAt":"#),
            "{json}"
        );
    }

    #[test]
    fn prune_output_and_filters() {
        let (out, space) = prune_report(&json!({
            "ImagesDeleted": [{"Untagged": "dang:1"}, {"Deleted": "sha256:e811"}],
            "SpaceReclaimed": 1984234
        }));
        assert_eq!(
            out,
            "Deleted Images:\nuntagged: dang:1\ndeleted: sha256:e811\n"
        );
        assert_eq!(fmtutil::human_size(space as f64), "1.984MB");
        assert_eq!(
            prune_report(&json!({"ImagesDeleted": null, "SpaceReclaimed": 5})),
            (String::new(), 0)
        );
        let f = prune_filters(
            &["until=24h".into(), "Label=a".into()],
            Some(true),
            &["until=1h".into(), "label=b".into()],
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"dangling":["true"],"label":["a"],"until":["24h","1h"]}"#
        );
        let f = prune_filters(&[], Some(false), &[]).unwrap();
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"dangling":["false"]}"#
        );
        let e = prune_filters(&["bad".into()], Some(true), &[]).unwrap_err();
        assert_eq!(e.code, 125);
        assert_eq!(e.msg, "invalid argument \"bad\" for \"--filter\" flag: bad format of filter (expected name=value)");
    }
}
