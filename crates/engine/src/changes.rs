//! Dockerfile instructions accepted by `import --change` (and `commit`):
//! CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD.

use api_types::ImageRunConfig;
use base::{Error, Result};

/// Splits `a b "c d"` style words the way Dockerfile ENV/LABEL do.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parses `KEY=VALUE ...` pairs, or the legacy single `KEY VALUE` form.
fn pairs(rest: &str) -> Vec<(String, String)> {
    let ws = words(rest);
    if !ws.is_empty() && !ws[0].contains('=') {
        let (k, v) = rest
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((rest.trim(), ""));
        return vec![(k.to_string(), v.trim().to_string())];
    }
    ws.into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .unwrap_or((w, String::new()))
        })
        .collect()
}

/// JSON array form or shell form (`/bin/sh -c`).
fn command(rest: &str) -> Vec<String> {
    let t = rest.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return v;
        }
    }
    vec!["/bin/sh".into(), "-c".into(), t.to_string()]
}

/// Applies one instruction to an image config.
pub fn apply(cfg: &mut ImageRunConfig, line: &str) -> Result<()> {
    let line = line.trim();
    let (inst, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match inst.to_ascii_uppercase().as_str() {
        "CMD" => cfg.cmd = Some(command(rest)),
        "ENTRYPOINT" => cfg.entrypoint = Some(command(rest)),
        "ENV" => {
            for (k, v) in pairs(rest) {
                cfg.env
                    .retain(|e| e.split_once('=').map(|x| x.0) != Some(k.as_str()));
                cfg.env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            for (k, v) in pairs(rest) {
                cfg.labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(Default::default);
            for p in words(rest) {
                let p = if p.contains('/') {
                    p
                } else {
                    format!("{p}/tcp")
                };
                ports.insert(p, serde_json::json!({}));
            }
        }
        "VOLUME" => {
            let vols = cfg.volumes.get_or_insert_with(Default::default);
            let list = if rest.starts_with('[') {
                serde_json::from_str(rest).unwrap_or_default()
            } else {
                words(rest)
            };
            for v in list {
                vols.insert(v, serde_json::json!({}));
            }
        }
        "USER" => cfg.user = rest.to_string(),
        "WORKDIR" => cfg.working_dir = rest.to_string(),
        "STOPSIGNAL" => cfg.stop_signal = Some(rest.to_string()),
        "ONBUILD" => cfg.on_build.push(rest.to_string()),
        _ => {
            return Err(Error::invalid(format!(
                "{inst} is not a valid change command"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions() {
        let mut c = ImageRunConfig::default();
        for l in [
            r#"CMD ["sh"]"#,
            "ENTRYPOINT echo hi",
            "ENV A=1 B=\"two words\"",
            "ENV C 3 4",
            "LABEL x=y",
            "EXPOSE 80 53/udp",
            "WORKDIR /w",
            "USER nobody",
            "STOPSIGNAL SIGINT",
        ] {
            apply(&mut c, l).unwrap();
        }
        assert_eq!(c.cmd.unwrap(), vec!["sh"]);
        assert_eq!(c.entrypoint.unwrap(), vec!["/bin/sh", "-c", "echo hi"]);
        assert_eq!(c.env, vec!["A=1", "B=two words", "C=3 4"]);
        assert_eq!(c.labels["x"], "y");
        assert!(c.exposed_ports.unwrap().contains_key("53/udp"));
        assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/w", "nobody"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
        assert!(apply(&mut ImageRunConfig::default(), "RUN x").is_err());
    }
}
