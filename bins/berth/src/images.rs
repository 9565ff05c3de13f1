//! Image commands: images, pull, import, tag, rmi.

use api_client::{Body, Client, HttpMethod as Method};
use serde_json::{json, Map, Value};

use crate::cli::*;
use crate::containers::{parse_filters, render_format};
use crate::fmtutil;
use crate::refs::Reference;
use crate::{CmdResult, Failure};

/// Print one JSON progress message the way docker does on a non-terminal.
/// Returns Err(message) for error messages.
fn display_message(m: &Value, out: &mut String) -> Result<(), String> {
    if let Some(e) = m
        .get("errorDetail")
        .and_then(|d| d.get("message"))
        .and_then(|s| s.as_str())
    {
        return Err(e.to_string());
    }
    if let Some(e) = m.get("error").and_then(|s| s.as_str()) {
        return Err(e.to_string());
    }
    let has_progress = m
        .get("progress")
        .and_then(|p| p.as_str())
        .is_some_and(|p| !p.is_empty())
        || m.get("progressDetail")
            .and_then(|p| p.as_object())
            .is_some_and(|o| !o.is_empty());
    if has_progress {
        return Ok(());
    }
    if let Some(s) = m.get("stream").and_then(|s| s.as_str()) {
        out.push_str(s);
        return Ok(());
    }
    if let Some(id) = m
        .get("id")
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
    {
        out.push_str(id);
        out.push_str(": ");
    }
    let status = m.get("status").and_then(|s| s.as_str()).unwrap_or("");
    if status.is_empty() && m.get("id").is_none() {
        return Ok(());
    }
    out.push_str(status);
    out.push('\n');
    Ok(())
}

/// Consume a JSON-message stream (pull/import progress), printing status lines
/// to stderr (`to_stderr`) or stdout unless `quiet`.
async fn consume_progress(
    mut resp: api_client::Response,
    to_stderr: bool,
    quiet: bool,
) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    loop {
        let m: Option<Value> = resp.next_json().await.map_err(|e| e.to_string())?;
        let Some(m) = m else { break };
        let mut text = String::new();
        display_message(&m, &mut text)?;
        if !quiet && !text.is_empty() {
            if to_stderr {
                eprint!("{text}");
            } else {
                print!("{text}");
                use std::io::Write;
                let _ = std::io::stdout().flush();
            }
        }
        all.push(m);
    }
    Ok(all)
}

/// Pull `r` (used by `pull` and by `run`/`create` for missing images).
pub async fn pull_image(
    client: &Client,
    r: &Reference,
    platform: Option<&str>,
    to_stderr: bool,
    quiet: bool,
) -> Result<(), String> {
    let tag = r.tag_or_digest();
    let mut q: Vec<(&str, &str)> = vec![("fromImage", &r.name), ("tag", &tag)];
    if let Some(p) = platform {
        q.push(("platform", p));
    }
    let resp = client
        .stream(Method::POST, "/images/create", &q, Body::empty())
        .await
        .map_err(|e| e.to_string())?;
    consume_progress(resp, to_stderr, quiet).await.map(|_| ())
}

pub async fn pull(client: &Client, a: PullArgs) -> CmdResult {
    let r = Reference::parse(&a.image);
    if r.tag.is_none() && r.digest.is_none() && !a.all_tags && !a.quiet {
        println!("Using default tag: latest");
    }
    if a.all_tags {
        let mut q: Vec<(&str, &str)> = vec![("fromImage", &r.name)];
        if let Some(p) = &a.platform {
            q.push(("platform", p));
        }
        let resp = client
            .stream(Method::POST, "/images/create", &q, Body::empty())
            .await?;
        consume_progress(resp, false, a.quiet)
            .await
            .map_err(|e| Failure::new(1, e))?;
        println!("{}", crate::refs::full_name(&r.name));
        return Ok(0);
    }
    pull_image(client, &r, a.platform.as_deref(), false, a.quiet)
        .await
        .map_err(|e| Failure::new(1, e))?;
    println!("{}", r.full());
    Ok(0)
}

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
    consume_progress(resp, false, false)
        .await
        .map_err(|e| Failure::new(1, e))?;
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

fn image_rows(img: &Value, trunc: bool) -> Vec<Value> {
    let id = img["Id"].as_str().unwrap_or("");
    let created = img["Created"].as_i64().unwrap_or(0);
    let size = img["Size"].as_i64().unwrap_or(0);
    let virt = img["VirtualSize"].as_i64().unwrap_or(size);
    let shared = img["SharedSize"].as_i64().unwrap_or(-1);
    let containers = img["Containers"].as_i64().unwrap_or(-1);
    let base = |repo: &str, tag: &str, digest: &str| -> Value {
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
        m.insert(
            "ID".into(),
            json!(if trunc {
                fmtutil::truncate_id(id)
            } else {
                id.to_string()
            }),
        );
        m.insert("Repository".into(), json!(repo));
        m.insert(
            "SharedSize".into(),
            json!(if shared < 0 {
                "N/A".to_string()
            } else {
                fmtutil::human_size_prec(shared as f64, 3)
            }),
        );
        m.insert(
            "Size".into(),
            json!(fmtutil::human_size_prec(size as f64, 3)),
        );
        m.insert("Tag".into(), json!(tag));
        m.insert(
            "UniqueSize".into(),
            json!(if shared < 0 {
                "N/A".to_string()
            } else {
                fmtutil::human_size_prec((size - shared) as f64, 3)
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
    };
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
    fn progress_messages() {
        let mut out = String::new();
        display_message(
            &json!({"status": "Pulling from library/busybox", "id": "latest"}),
            &mut out,
        )
        .unwrap();
        display_message(&json!({"status": "Downloading", "id": "abc", "progress": "[=>  ]", "progressDetail": {"current": 1}}), &mut out).unwrap();
        display_message(
            &json!({"status": "Pull complete", "id": "abc", "progressDetail": {}}),
            &mut out,
        )
        .unwrap();
        display_message(&json!({"status": "sha256:123"}), &mut out).unwrap();
        assert_eq!(
            out,
            "latest: Pulling from library/busybox\nabc: Pull complete\nsha256:123\n"
        );
        assert_eq!(
            display_message(
                &json!({"errorDetail": {"message": "boom"}, "error": "boom"}),
                &mut out
            )
            .unwrap_err(),
            "boom"
        );
    }
}
