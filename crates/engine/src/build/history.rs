//! The `created_by` of a build step's history entry, worded as dockerd's
//! legacy builder words it (what `docker history` shows, and what
//! `--cache-from` matches steps by): `<shell> #(nop)  <INSTRUCTION> ...`
//! with Go's `%q`/`%v` formatting for config steps, the command with the
//! build args in scope (`|N k=v ...`) for RUN, and a content hash for
//! COPY and ADD.

use builder::parser::{Healthcheck, Instruction};

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]string`.
fn q_list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| go_quote(s)).collect::<Vec<_>>().join(" ")
    )
}

/// Go's `%v` of a `[]string`.
fn v_list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// Go's `time.Duration.String()`.
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let frac = |v: u64, unit: u64| -> String {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = (unit as f64).log10() as usize;
        let s = format!("{rest:0digits$}");
        format!("{whole}.{}", s.trim_end_matches('0'))
    };
    let s = if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        format!("{}µs", frac(u, 1_000))
    } else if u < 1_000_000_000 {
        format!("{}ms", frac(u, 1_000_000))
    } else {
        let secs = u / 1_000_000_000;
        let sub = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        let sec = frac(s * 1_000_000_000 + sub, 1_000_000_000);
        if h > 0 {
            format!("{h}h{m}m{sec}s")
        } else if m > 0 {
            format!("{m}m{sec}s")
        } else {
            format!("{sec}s")
        }
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// Go's `%q` of an int (a rune literal).
fn go_rune(n: i64) -> String {
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some('\'') => "'\\''".into(),
        Some('\\') => "'\\\\'".into(),
        Some(c) if (' '..='~').contains(&c) => format!("'{c}'"),
        Some(c) if (c as u32) < 0x80 => format!("'\\x{:02x}'", c as u32),
        Some(c) if (c as u32) <= 0xffff && !c.is_control() => format!("'{c}'"),
        Some(c) => format!("'\\U{:08x}'", c as u32),
        None => format!("%!q(int={n})"),
    }
}

/// How a config-only step reads in its history entry (after `#(nop) `),
/// given the config the step produced.
pub fn config_comment(
    inst: &Instruction,
    cfg: &api_types::ImageRunConfig,
    health: Option<&api_types::HealthConfig>,
) -> Option<String> {
    let kvs = |name: &str, kvs: &[builder::parser::KeyValue]| {
        let mut s = name.to_string();
        for kv in kvs {
            s.push_str(&format!(" {}={}", kv.key, kv.value));
        }
        s
    };
    Some(match inst {
        Instruction::Env(v) => kvs("ENV", v),
        Instruction::Label(v) => kvs("LABEL", v),
        Instruction::Maintainer(m) => format!("MAINTAINER {m}"),
        Instruction::Cmd(_) => format!("CMD {}", q_list(cfg.cmd.as_deref().unwrap_or_default())),
        Instruction::Entrypoint(_) => format!(
            "ENTRYPOINT {}",
            q_list(cfg.entrypoint.as_deref().unwrap_or_default())
        ),
        Instruction::Expose(ports) => {
            let mut p = ports.clone();
            p.sort();
            format!("EXPOSE {}", p.join(" "))
        }
        Instruction::Volume(v) => format!("VOLUME {}", v_list(v)),
        Instruction::User(u) => format!("USER {u}"),
        Instruction::StopSignal(s) => format!("STOPSIGNAL {s}"),
        Instruction::Shell(s) => format!("SHELL {}", v_list(s)),
        Instruction::Onbuild(t) => format!("ONBUILD {}", t.expression),
        Instruction::Arg(decls) => {
            let mut s = "ARG".to_string();
            for d in decls {
                s.push(' ');
                s.push_str(&d.name);
                if let Some(v) = &d.default {
                    s.push('=');
                    s.push_str(v);
                }
            }
            s
        }
        Instruction::Healthcheck(h) => {
            let hc = health.cloned().unwrap_or_default();
            let test = match h {
                Healthcheck::None => vec!["NONE".to_string()],
                Healthcheck::Cmd { test, .. } => test.clone(),
            };
            format!(
                "HEALTHCHECK &{{{} {} {} {} {}}}",
                q_list(&test),
                go_quote(&go_duration(hc.interval)),
                go_quote(&go_duration(hc.timeout)),
                go_quote(&go_duration(hc.start_period)),
                go_rune(hc.retries)
            )
        }
        Instruction::Workdir(_) => return None,
        _ => return None,
    })
}

/// A step's command as dockerd's classic builder records it in the image's
/// `container_config.Cmd`; joined by spaces it is the history entry's
/// `created_by`.
///
/// `<shell> #(nop)  <comment>`: a config step.
pub fn nop(shell: &[String], comment: &str) -> Vec<String> {
    let mut v = shell.to_vec();
    v.extend(["#(nop) ".to_string(), comment.to_string()]);
    v
}

/// `<shell> #(nop) <comment>`: WORKDIR, COPY and ADD, with one space.
pub fn nop1(shell: &[String], comment: &str) -> Vec<String> {
    let mut v = shell.to_vec();
    v.push(format!("#(nop) {comment}"));
    v
}

/// A RUN's command, after `|N k=v ...` when build args are in scope
/// (sorted, as dockerd prepends them).
pub fn run(argv: &[String], args: &[(String, String)]) -> Vec<String> {
    if args.is_empty() {
        return argv.to_vec();
    }
    let mut kv: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    kv.sort();
    let mut v = vec![format!("|{}", kv.len())];
    v.extend(kv);
    v.extend(argv.iter().cloned());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_go() {
        assert_eq!(go_duration(30_000_000_000), "30s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(250_000_000), "250ms");
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_rune(3), "'\\x03'");
        assert_eq!(go_rune(65), "'A'");
        assert_eq!(go_rune(0), "'\\x00'");
        assert_eq!(go_quote("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
        assert_eq!(
            q_list(&["cat".into(), "/srv/args.txt".into()]),
            "[\"cat\" \"/srv/args.txt\"]"
        );
        assert_eq!(v_list(&["/data".into(), "/logs".into()]), "[/data /logs]");
        assert_eq!(
            run(
                &["/bin/sh".into(), "-c".into(), "id".into()],
                &[("VERSION".into(), "2.0".into()), ("A".into(), "x".into())]
            )
            .join(" "),
            "|2 A=x VERSION=2.0 /bin/sh -c id"
        );
        let sh = ["/bin/sh".to_string(), "-c".to_string()];
        assert_eq!(
            nop(&sh, "CMD [\"sh\"]"),
            ["/bin/sh", "-c", "#(nop) ", "CMD [\"sh\"]"]
        );
        assert_eq!(nop(&sh, "ENV A=1").join(" "), "/bin/sh -c #(nop)  ENV A=1");
        assert_eq!(
            nop1(&sh, "WORKDIR /w"),
            ["/bin/sh", "-c", "#(nop) WORKDIR /w"]
        );
    }
}
