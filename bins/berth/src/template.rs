//! A small subset of Go's `text/template`, enough for Docker's `--format`.
//!
//! Supported: literal text; actions `{{.A.B}}`, `{{.}}`, `{{json .X}}`,
//! pipelines (`{{.X | json}}`), functions `json`, `index`, `join`, `upper`,
//! `lower`, `title`, `len`, `split`, `print`, `println`, `printf` (%s %d %v %q),
//! `pad`, `truncate`, `eq`, `ne`, `not`, `and`, `or`; control structures
//! `if`/`else`/`end`, `range`/`end`, `with`/`end`; trim markers `{{-` `-}}`.
//! A field followed by arguments on a map value indexes it
//! (`{{.Label "com.example"}}`).
//!
//! Data is a `serde_json::Value`. Values print like Go's `%v` of decoded JSON:
//! strings raw, `map[k:v]` for objects, `[a b]` for arrays, `<nil>` for null,
//! `<no value>` for a missing key.

use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

type Pipeline = Vec<Command>;

#[derive(Debug, Clone)]
struct Command {
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.A.B` (empty vec = `.`)
    Field(Vec<String>),
    /// `$` or `$x` variable with optional field path (only `$` = root supported).
    Var(Vec<String>),
    Ident(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Nil,
    Sub(Pipeline),
}

/// Key under which a context can store a value reachable only through a
/// method-style call (`{{.Label "k"}}`); hidden from `json` and printing.
pub fn hidden_key(name: &str) -> String {
    format!("\u{1}{name}")
}

/// Hidden marker: `json` of an object carrying it escapes `<>&` like Go's
/// `json.Marshal` (docker's formatter contexts marshal that way).
pub const ESCAPE_HTML: &str = "escape_html";

/// Hidden value of a table header's `Label` method: `{{.Label "com.x.foo-bar"}}`
/// heads its column "foo bar" (docker's `SubHeaderContext.Label`).
pub const HEADER_LABEL: &str = "\u{2}header-label";

/// docker's `SubHeaderContext.Label`: the last dotted part, `-`/`_` as spaces.
fn header_label(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .replace(['-', '_'], " ")
}

/// Key of a field's zero value, for a field the daemon's JSON may omit
/// (`omitempty`) while the docker CLI's typed struct still has it:
/// `{{.Name}}` of a bind mount prints "" in docker, not `<no value>`.
pub fn zero_key(name: &str) -> String {
    hidden_key(&format!("zero:{name}"))
}

/// Zero values of a typed nil map and slice: Go prints them `map[]` and
/// `[]` (not `<nil>`), `json` gives `null`. Stored under [`zero_key`].
pub const NIL_MAP: &str = "\u{0}map[]";
pub const NIL_SLICE: &str = "\u{0}[]";

fn is_typed_nil(s: &str) -> bool {
    s == NIL_MAP || s == NIL_SLICE
}

fn is_hidden(k: &str) -> bool {
    k.starts_with('\u{1}')
}

/// Marker for a missing map key (prints `<no value>`).
const NO_VALUE: &str = "\u{0}<no value>";

impl Template {
    /// Parse a template string.
    pub fn parse(src: &str) -> Result<Template, String> {
        let tokens = lex(src)?;
        let mut pos = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut pos)?;
        if let Some(kw) = end {
            return Err(format!("template: unexpected {{{{{kw}}}}}"));
        }
        Ok(Template { nodes })
    }

    /// Execute against `data`.
    pub fn render(&self, data: &Value) -> Result<String, String> {
        let mut out = String::new();
        exec_nodes(&self.nodes, data, data, &mut out)?;
        Ok(out)
    }
}

/// Parse and render in one go.
pub fn render(src: &str, data: &Value) -> Result<String, String> {
    Template::parse(src)?.render(data)
}

// ---------------------------------------------------------------- lexing

#[derive(Debug, Clone)]
enum Tok {
    Text(String),
    Action(String),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut rest = src;
    let mut trim_next_text = false;
    while !rest.is_empty() {
        match rest.find("{{") {
            None => {
                let mut t = rest.to_string();
                if trim_next_text {
                    t = t.trim_start().to_string();
                }
                toks.push(Tok::Text(t));
                break;
            }
            Some(start) => {
                let mut text = rest[..start].to_string();
                if trim_next_text {
                    text = text.trim_start().to_string();
                }
                let after = &rest[start + 2..];
                let trim_left =
                    after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
                if trim_left {
                    text = text.trim_end().to_string();
                }
                if !text.is_empty() {
                    toks.push(Tok::Text(text));
                }
                let inner_start = if trim_left { 1 } else { 0 };
                let end = find_action_end(after)
                    .ok_or_else(|| "template: unclosed action".to_string())?;
                let mut inner = &after[inner_start..end];
                trim_next_text = false;
                if inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-") {
                    inner = &inner[..inner.len() - 1];
                    trim_next_text = true;
                }
                let inner = inner.trim();
                if !(inner.starts_with("/*") && inner.ends_with("*/")) {
                    toks.push(Tok::Action(inner.to_string()));
                }
                rest = &after[end + 2..];
            }
        }
    }
    Ok(toks)
}

/// Find the `}}` closing an action, skipping string literals.
fn find_action_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if i + 1 < b.len() && b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

// ---------------------------------------------------------------- parsing

fn parse_nodes(toks: &[Tok], pos: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while *pos < toks.len() {
        let tok = toks[*pos].clone();
        *pos += 1;
        match tok {
            Tok::Text(t) => nodes.push(Node::Text(t)),
            Tok::Action(a) => {
                let (kw, rest) = match a.split_once(char::is_whitespace) {
                    Some((k, r)) => (k.to_string(), r.trim().to_string()),
                    None => (a.clone(), String::new()),
                };
                match kw.as_str() {
                    "end" => return Ok((nodes, Some("end".into()))),
                    "else" => {
                        if rest.is_empty() {
                            return Ok((nodes, Some("else".into())));
                        }
                        // `else if ...` : treat as nested if inside else.
                        return Ok((nodes, Some(format!("else {rest}"))));
                    }
                    "if" | "range" | "with" => {
                        let pipe = parse_pipeline(&rest)?;
                        let node = parse_block(&kw, pipe, toks, pos)?;
                        nodes.push(node);
                    }
                    _ => nodes.push(Node::Action(parse_pipeline(&a)?)),
                }
            }
        }
    }
    Ok((nodes, None))
}

fn parse_block(kw: &str, pipe: Pipeline, toks: &[Tok], pos: &mut usize) -> Result<Node, String> {
    let (body, end) = parse_nodes(toks, pos)?;
    let mut else_body = Vec::new();
    match end.as_deref() {
        Some("end") => {}
        Some("else") => {
            let (eb, end2) = parse_nodes(toks, pos)?;
            if end2.as_deref() != Some("end") {
                return Err(format!("template: missing {{{{end}}}} for {kw}"));
            }
            else_body = eb;
        }
        Some(e) if e.starts_with("else ") => {
            // else if / else with: parse a nested block that consumes the shared end.
            let rest = e["else ".len()..].trim();
            let (kw2, r2) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if kw2 != "if" && kw2 != "with" {
                return Err(format!("template: unexpected {{{{{e}}}}}"));
            }
            let pipe2 = parse_pipeline(r2.trim())?;
            else_body = vec![parse_block(kw2, pipe2, toks, pos)?];
        }
        _ => return Err(format!("template: missing {{{{end}}}} for {kw}")),
    }
    Ok(match kw {
        "if" => Node::If(pipe, body, else_body),
        "range" => Node::Range(pipe, body, else_body),
        _ => Node::With(pipe, body, else_body),
    })
}

fn tokenize_args(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err("template: unterminated quoted string".into());
            }
            out.push(chars[i..=j].iter().collect());
            i = j + 1;
        } else if c == '`' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '`' {
                j += 1;
            }
            if j >= chars.len() {
                return Err("template: unterminated raw string".into());
            }
            out.push(chars[i..=j].iter().collect());
            i = j + 1;
        } else if c == '|' || c == '(' || c == ')' {
            out.push(c.to_string());
            i += 1;
        } else {
            let mut j = i;
            while j < chars.len()
                && !chars[j].is_whitespace()
                && !matches!(chars[j], '|' | '(' | ')' | '"')
            {
                j += 1;
            }
            out.push(chars[i..j].iter().collect());
            i = j;
        }
    }
    Ok(out)
}

fn parse_pipeline(s: &str) -> Result<Pipeline, String> {
    let toks = tokenize_args(s)?;
    let mut pos = 0;
    let p = parse_pipe_tokens(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(format!("template: unexpected {:?} in command", toks[pos]));
    }
    Ok(p)
}

fn parse_pipe_tokens(toks: &[String], pos: &mut usize) -> Result<Pipeline, String> {
    let mut pipe = Vec::new();
    let mut cur = Command { args: Vec::new() };
    while *pos < toks.len() {
        let t = &toks[*pos];
        match t.as_str() {
            "|" => {
                *pos += 1;
                if cur.args.is_empty() {
                    return Err("template: missing command before |".into());
                }
                pipe.push(std::mem::replace(&mut cur, Command { args: Vec::new() }));
            }
            ")" => break,
            "(" => {
                *pos += 1;
                let sub = parse_pipe_tokens(toks, pos)?;
                if *pos >= toks.len() || toks[*pos] != ")" {
                    return Err("template: unclosed left paren".into());
                }
                *pos += 1;
                cur.args.push(Arg::Sub(sub));
            }
            _ => {
                *pos += 1;
                cur.args.push(parse_arg(t)?);
            }
        }
    }
    if cur.args.is_empty() {
        return Err("template: missing value for command".into());
    }
    pipe.push(cur);
    Ok(pipe)
}

fn parse_arg(t: &str) -> Result<Arg, String> {
    if let Some(stripped) = t.strip_prefix('"') {
        let s = stripped.strip_suffix('"').ok_or("template: bad string")?;
        return Ok(Arg::Str(unescape(s)));
    }
    if t.starts_with('`') {
        return Ok(Arg::Str(t.trim_matches('`').to_string()));
    }
    if t == "." {
        return Ok(Arg::Field(Vec::new()));
    }
    if let Some(path) = t.strip_prefix('.') {
        return Ok(Arg::Field(path.split('.').map(str::to_string).collect()));
    }
    if let Some(v) = t.strip_prefix('$') {
        let mut parts: Vec<String> = v.split('.').map(str::to_string).collect();
        parts.remove(0);
        return Ok(Arg::Var(parts));
    }
    match t {
        "true" => return Ok(Arg::Bool(true)),
        "false" => return Ok(Arg::Bool(false)),
        "nil" => return Ok(Arg::Nil),
        _ => {}
    }
    if let Ok(n) = t.parse::<f64>() {
        return Ok(Arg::Num(n));
    }
    if t.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(Arg::Ident(t.to_string()));
    }
    Err(format!("template: unexpected {t:?} in command"))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------- execution

fn exec_nodes(nodes: &[Node], dot: &Value, root: &Value, out: &mut String) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipeline(p, dot, root)?;
                out.push_str(&to_go_string(&v));
            }
            Node::If(p, body, els) => {
                let v = eval_pipeline(p, dot, root)?;
                if truthy(&v) {
                    exec_nodes(body, dot, root, out)?;
                } else {
                    exec_nodes(els, dot, root, out)?;
                }
            }
            Node::With(p, body, els) => {
                let v = eval_pipeline(p, dot, root)?;
                if truthy(&v) {
                    exec_nodes(body, &v, root, out)?;
                } else {
                    exec_nodes(els, dot, root, out)?;
                }
            }
            Node::Range(p, body, els) => {
                let v = eval_pipeline(p, dot, root)?;
                let items: Vec<Value> = match &v {
                    Value::Array(a) => a.clone(),
                    Value::Object(m) => {
                        let mut keys: Vec<&String> = m.keys().collect();
                        keys.sort();
                        keys.into_iter().map(|k| m[k].clone()).collect()
                    }
                    Value::Null => Vec::new(),
                    Value::String(s) if s == NO_VALUE || is_typed_nil(s) => Vec::new(),
                    other => {
                        return Err(format!(
                            "template: range can't iterate over {}",
                            to_go_string(other)
                        ))
                    }
                };
                if items.is_empty() {
                    exec_nodes(els, dot, root, out)?;
                }
                for item in &items {
                    exec_nodes(body, item, root, out)?;
                }
            }
        }
    }
    Ok(())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != NO_VALUE && !is_typed_nil(s),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

fn lookup(base: &Value, path: &[String]) -> Value {
    let mut cur = base.clone();
    for p in path {
        cur = match &cur {
            Value::Object(m) => match m
                .get(p)
                .filter(|v| !v.is_null())
                .or_else(|| m.get(&zero_key(p)))
                .or(m.get(p))
            {
                Some(v) => v.clone(),
                None => {
                    // Case-insensitive fallback (Go struct fields are exported names).
                    match m.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)) {
                        Some((_, v)) => v.clone(),
                        None => Value::String(NO_VALUE.into()),
                    }
                }
            },
            _ => Value::String(NO_VALUE.into()),
        };
    }
    cur
}

fn eval_arg(a: &Arg, dot: &Value, root: &Value) -> Result<Value, String> {
    Ok(match a {
        Arg::Field(path) => lookup(dot, path),
        Arg::Var(path) => lookup(root, path),
        Arg::Str(s) => Value::String(s.clone()),
        Arg::Num(n) => {
            if n.fract() == 0.0 && n.abs() < 9e15 {
                Value::from(*n as i64)
            } else {
                Value::from(*n)
            }
        }
        Arg::Bool(b) => Value::Bool(*b),
        Arg::Nil => Value::Null,
        Arg::Sub(p) => eval_pipeline(p, dot, root)?,
        Arg::Ident(name) => call(name, &[])?,
    })
}

fn eval_pipeline(p: &Pipeline, dot: &Value, root: &Value) -> Result<Value, String> {
    let mut prev: Option<Value> = None;
    for cmd in p {
        let v = eval_command(cmd, dot, root, prev.take())?;
        prev = Some(v);
    }
    Ok(prev.unwrap_or(Value::Null))
}

fn eval_command(
    cmd: &Command,
    dot: &Value,
    root: &Value,
    piped: Option<Value>,
) -> Result<Value, String> {
    let first = &cmd.args[0];
    match first {
        Arg::Ident(name) => {
            let mut args = Vec::new();
            for a in &cmd.args[1..] {
                args.push(eval_arg(a, dot, root)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            call(name, &args)
        }
        _ => {
            let mut base = eval_arg(first, dot, root)?;
            if cmd.args.len() > 1 || piped.is_some() {
                if let (Arg::Field(path), Value::String(s)) = (first, &base) {
                    if s == NO_VALUE && !path.is_empty() {
                        let parent = lookup(dot, &path[..path.len() - 1]);
                        if let Some(v) = parent.get(hidden_key(&path[path.len() - 1])) {
                            base = v.clone();
                        }
                    }
                }
                // "method call" with arguments: index a map value by the first arg.
                let mut args = Vec::new();
                for a in &cmd.args[1..] {
                    args.push(eval_arg(a, dot, root)?);
                }
                if let Some(p) = piped {
                    args.push(p);
                }
                if let (Value::Object(m), Some(Value::String(k))) = (&base, args.first()) {
                    return Ok(m.get(k).cloned().unwrap_or(Value::String(String::new())));
                }
                if let (Value::String(b), Some(Value::String(k))) = (&base, args.first()) {
                    if b == HEADER_LABEL {
                        return Ok(Value::String(header_label(k)));
                    }
                }
                return Err("template: can't give argument to non-function".into());
            }
            Ok(base)
        }
    }
}

fn as_str(v: &Value) -> String {
    to_go_string(v)
}

fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let need = |n: usize| -> Result<(), String> {
        if args.len() < n {
            Err(format!(
                "template: wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    Ok(match name {
        "json" => {
            need(1)?;
            // A list of marked contexts (e.g. `system df -v`'s `.Images`) escapes too.
            let marked = |v: &Value| v.get(hidden_key(ESCAPE_HTML)).is_some();
            let escape = marked(&args[0])
                || args[0]
                    .as_array()
                    .is_some_and(|a| a.first().is_some_and(marked));
            let v = strip_no_value(&args[0]);
            let mut out = serde_json::to_string(&v).map_err(|e| e.to_string())?;
            if escape {
                out = out
                    .replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026");
            }
            Value::String(out)
        }
        "index" => {
            need(1)?;
            let mut cur = args[0].clone();
            for k in &args[1..] {
                cur = match (&cur, k) {
                    (Value::Object(m), Value::String(s)) => {
                        m.get(s).cloned().unwrap_or(Value::String(NO_VALUE.into()))
                    }
                    (Value::Array(a), Value::Number(n)) => {
                        let i = n.as_u64().unwrap_or(u64::MAX) as usize;
                        a.get(i)
                            .cloned()
                            .ok_or_else(|| format!("template: index out of range: {i}"))?
                    }
                    (Value::Null, _) => Value::Null,
                    _ => return Err("template: can't index item".into()),
                };
            }
            cur
        }
        "join" => {
            need(2)?;
            let sep = as_str(&args[1]);
            match &args[0] {
                Value::Array(a) => {
                    Value::String(a.iter().map(as_str).collect::<Vec<_>>().join(&sep))
                }
                Value::Null => Value::String(String::new()),
                other => Value::String(as_str(other)),
            }
        }
        "split" => {
            need(2)?;
            let s = as_str(&args[0]);
            let sep = as_str(&args[1]);
            Value::Array(
                s.split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
            )
        }
        "upper" => {
            need(1)?;
            Value::String(as_str(&args[0]).to_uppercase())
        }
        "lower" => {
            need(1)?;
            Value::String(as_str(&args[0]).to_lowercase())
        }
        "title" => {
            need(1)?;
            let s = as_str(&args[0]);
            let mut out = String::new();
            let mut prev_space = true;
            for c in s.chars() {
                if prev_space {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_space = c.is_whitespace();
            }
            Value::String(out)
        }
        "len" => {
            need(1)?;
            let n = match &args[0] {
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                Value::String(s) => s.len(),
                Value::Null => 0,
                _ => return Err("template: len of non-collection".into()),
            };
            Value::from(n as u64)
        }
        "pad" => {
            need(3)?;
            let s = as_str(&args[0]);
            let l = args[1].as_u64().unwrap_or(0) as usize;
            let r = args[2].as_u64().unwrap_or(0) as usize;
            Value::String(format!("{}{}{}", " ".repeat(l), s, " ".repeat(r)))
        }
        "truncate" => {
            need(2)?;
            let s = as_str(&args[0]);
            let n = args[1].as_u64().unwrap_or(0) as usize;
            Value::String(s.chars().take(n).collect())
        }
        "print" => Value::String(args.iter().map(as_str).collect::<Vec<_>>().join("")),
        "println" => Value::String(format!(
            "{}\n",
            args.iter().map(as_str).collect::<Vec<_>>().join(" ")
        )),
        "printf" => {
            need(1)?;
            Value::String(printf(&as_str(&args[0]), &args[1..]))
        }
        "eq" => {
            need(2)?;
            Value::Bool(args[1..].iter().any(|b| values_equal(&args[0], b)))
        }
        "ne" => {
            need(2)?;
            Value::Bool(!values_equal(&args[0], &args[1]))
        }
        "not" => {
            need(1)?;
            Value::Bool(!truthy(&args[0]))
        }
        "and" => {
            need(1)?;
            args.iter()
                .find(|a| !truthy(a))
                .unwrap_or(args.last().unwrap())
                .clone()
        }
        "or" => {
            need(1)?;
            args.iter()
                .find(|a| truthy(a))
                .unwrap_or(args.last().unwrap())
                .clone()
        }
        _ => return Err(format!("template: function \"{name}\" not defined")),
    })
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn printf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut ai = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('%') => out.push('%'),
            Some(v @ ('s' | 'd' | 'v' | 'q')) => {
                let a = args.get(ai).cloned().unwrap_or(Value::Null);
                ai += 1;
                if v == 'q' {
                    out.push_str(&crate::fmtutil::go_quote(&as_str(&a)));
                } else {
                    out.push_str(&as_str(&a));
                }
            }
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

fn strip_no_value(v: &Value) -> Value {
    match v {
        Value::String(s) if s == NO_VALUE || is_typed_nil(s) => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !is_hidden(k))
                .map(|(k, v)| (k.clone(), strip_no_value(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_no_value).collect()),
        other => other.clone(),
    }
}

/// Format a value as Go's `fmt.Sprint` would for decoded JSON.
pub fn to_go_string(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                format_go_float(f)
            }
        }
        Value::String(s) if s == NO_VALUE => "<no value>".into(),
        Value::String(s) if is_typed_nil(s) => s[1..].into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(to_go_string).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().filter(|k| !is_hidden(k)).collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", k, to_go_string(&m[*k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` for float64 (shortest repr, exponent for large/small values).
fn format_go_float(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e21 {
        let s = format!("{f}");
        if f.abs() >= 1e21 {
            return s;
        }
        return s;
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e21).contains(&a) {
        let s = format!("{f:e}");
        // Go writes e+06 / e-05 style exponents.
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = if let Some(d) = e.strip_prefix('-') {
                ('-', d)
            } else {
                ('+', e)
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &Value) -> String {
        render(t, v).unwrap()
    }

    #[test]
    fn fields_and_paths() {
        let v = json!({"State": {"Status": "running", "Pid": 42, "Health": null}, "Name": "/x", "Config": {"Cmd": ["sleep", "1"], "Labels": {"b": "2", "a": "1"}}});
        assert_eq!(r("{{.State.Status}}", &v), "running");
        assert_eq!(r("{{.State.Pid}}", &v), "42");
        assert_eq!(r("{{.State.Health}}", &v), "<nil>");
        assert_eq!(r("{{.State.Nope}}", &v), "<no value>");
        assert_eq!(r("{{.Config.Cmd}}", &v), "[sleep 1]");
        assert_eq!(r("{{.Config.Labels}}", &v), "map[a:1 b:2]");
        assert_eq!(r("name={{.Name}}!", &v), "name=/x!");
        assert_eq!(r("{{json .Config.Cmd}}", &v), r#"["sleep","1"]"#);
        assert_eq!(r("{{.Config.Cmd | json}}", &v), r#"["sleep","1"]"#);
        assert_eq!(r("{{index .Config.Labels \"a\"}}", &v), "1");
        assert_eq!(r("{{join .Config.Cmd \",\"}}", &v), "sleep,1");
        assert_eq!(r("{{upper .State.Status}}", &v), "RUNNING");
    }

    #[test]
    fn zero_values_of_omitted_fields() {
        let m = json!([{"Type": "bind", "Source": "/h", zero_key("Name"): ""},
            {"Type": "volume", "Name": "v", zero_key("Name"): ""}]);
        let d = json!({"Mounts": m});
        assert_eq!(r("{{range .Mounts}}[{{.Name}}]{{end}}", &d), "[][v]");
        assert_eq!(
            r("{{json .Mounts}}", &d),
            r#"[{"Type":"bind","Source":"/h"},{"Type":"volume","Name":"v"}]"#
        );
        assert_eq!(
            r("{{range .Mounts}}{{.}}{{end}}", &d),
            "map[Source:/h Type:bind]map[Name:v Type:volume]"
        );
        let v = json!({"Options": null, zero_key("Options"): NIL_MAP, "Binds": null, zero_key("Binds"): NIL_SLICE,
            zero_key("Tmpfs"): NIL_MAP, "Labels": {"a": "b"}, zero_key("Labels"): NIL_MAP});
        assert_eq!(
            r("{{.Options}} {{json .Options}} {{.Binds}} {{json .Binds}} {{.Tmpfs}} {{.Labels}} {{if .Binds}}x{{end}}{{range .Options}}y{{end}}", &v),
            "map[] null [] null map[] map[a:b] "
        );
        assert_eq!(
            r("{{json .}}", &v),
            r#"{"Options":null,"Binds":null,"Labels":{"a":"b"}}"#
        );
    }

    #[test]
    fn json_of_dot_and_label_method() {
        let v = json!({"ID": "abc", "Label": {"k": "v"}});
        assert_eq!(r("{{json .}}", &v), r#"{"ID":"abc","Label":{"k":"v"}}"#);
        assert_eq!(r("{{.Label \"k\"}}", &v), "v");
        assert_eq!(r("{{.Label \"missing\"}}", &v), "");
    }

    #[test]
    fn control_flow() {
        let v = json!({"A": true, "B": "", "L": ["x", "y"], "M": {"k": 1}});
        assert_eq!(r("{{if .A}}yes{{else}}no{{end}}", &v), "yes");
        assert_eq!(r("{{if .B}}yes{{else}}no{{end}}", &v), "no");
        assert_eq!(r("{{range .L}}[{{.}}]{{end}}", &v), "[x][y]");
        assert_eq!(r("{{with .M}}{{.k}}{{end}}", &v), "1");
        assert_eq!(r("{{if .B}}1{{else if .A}}2{{else}}3{{end}}", &v), "2");
        assert_eq!(r("{{- range .L -}}\n {{.}} \n{{- end}}", &v), "xy");
        assert_eq!(r("{{if eq .B \"\"}}empty{{end}}", &v), "empty");
        assert_eq!(r("{{len .L}}", &v), "2");
        assert_eq!(r("{{printf \"%s-%d\" .B 3}}", &v), "-3");
    }

    #[test]
    fn errors() {
        assert!(Template::parse("{{.A").is_err());
        assert!(Template::parse("{{if .A}}x").is_err());
        assert!(Template::parse("{{end}}").is_err());
        assert!(render("{{nosuchfunc .A}}", &json!({})).is_err());
    }

    #[test]
    fn go_floats() {
        assert_eq!(to_go_string(&json!(1.5)), "1.5");
        assert_eq!(to_go_string(&json!(3)), "3");
        assert_eq!(format_go_float(0.00001), "1e-05");
    }
}
