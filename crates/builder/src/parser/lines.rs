//! The line level of the parser (BuildKit's `parser.Parse`): parser
//! directives, line continuations, comments, heredoc bodies, and each
//! instruction's arguments split the way its command wants them (JSON or
//! shell form, words, `key=value` pairs). No instruction is checked here.

use super::lex::{Lex, NoEnv};
use super::{Heredoc, ParseError};

/// Parser directives found at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// The escape token (`\` by default, or `` ` ``).
    pub escape: char,
    /// `# syntax=` (kept, not acted on).
    pub syntax: Option<String>,
    /// `# check=` (kept, not acted on).
    pub check: Option<String>,
    seen: Vec<String>,
    done: bool,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            escape: '\\',
            syntax: None,
            check: None,
            seen: Vec::new(),
            done: false,
        }
    }
}

impl Directives {
    /// Looks at one line (left-trimmed for a first line); only lines before
    /// anything else can be directives. Returns whether it was one.
    fn possible_directive(&mut self, line: &str) -> Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let Some(rest) = line.strip_prefix('#') else {
            self.done = true;
            return Ok(false);
        };
        let Some((key, value)) = split_directive(rest.trim_start()) else {
            self.done = true;
            return Ok(false);
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(false);
        }
        if self.seen.contains(&key) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        self.seen.push(key.clone());
        match key.as_str() {
            "escape" => {
                if value != "`" && value != "\\" {
                    return Err(format!(
                        "invalid escape token '{value}' does not match ` or \\"
                    ));
                }
                self.escape = value.chars().next().unwrap_or('\\');
            }
            "syntax" => self.syntax = Some(value.to_string()),
            _ => self.check = Some(value.to_string()),
        }
        Ok(true)
    }
}

/// `name = value` with a name of `[a-zA-Z][a-zA-Z0-9]*` and a non-empty value.
fn split_directive(s: &str) -> Option<(&str, &str)> {
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(s.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let (name, rest) = s.split_at(end);
    let rest = rest.trim_start_matches(is_re_space).strip_prefix('=')?;
    let value = rest.trim_matches(is_re_space);
    (!value.is_empty()).then_some((name, value))
}

/// RE2's `\s`.
fn is_re_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// The separator of words in whitespace lists (`[\t\v\f\r ]+`).
fn is_list_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

/// One instruction as the line parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction's name as written.
    pub cmd: String,
    /// `--flag[=value]` words before the arguments, quotes removed.
    pub flags: Vec<String>,
    /// The arguments (for HEALTHCHECK: the type, then the command).
    pub args: Vec<String>,
    /// Whether the arguments were a JSON array (exec form).
    pub json: bool,
    /// ENV and LABEL pairs: key, value (both unexpanded), and whether `=` was used.
    pub pairs: Vec<(String, String, bool)>,
    /// ONBUILD's trigger.
    pub sub: Option<Box<Node>>,
    /// Heredoc bodies that followed the line.
    pub heredocs: Vec<Heredoc>,
    /// The logical line (continuations joined).
    pub original: String,
    /// First physical line (1-based).
    pub start_line: usize,
    /// Last physical line, heredoc bodies included.
    pub end_line: usize,
}

/// The parsed lines and the directives in effect.
#[derive(Debug, Clone)]
pub struct Lines {
    /// The instructions, in order.
    pub nodes: Vec<Node>,
    /// The directives found.
    pub directives: Directives,
    /// Warnings (empty continuation lines).
    pub warnings: Vec<String>,
}

fn err(message: impl Into<String>, start: usize, end: usize) -> ParseError {
    ParseError::syntax(message, start, end)
}

/// Splits a Dockerfile into instruction nodes.
pub fn parse_lines(text: &str) -> Result<Lines, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut raw = text.split_inclusive('\n');
    let mut d = Directives::default();
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut current = 0usize;

    while let Some(first) = raw.next() {
        let trimmed = trim_newline(first).trim_start();
        d.possible_directive(trimmed)
            .map_err(|e| err(e, current + 1, 0))?;
        current += 1;
        let start = current;
        let first = if is_comment(trimmed) { "" } else { trimmed };
        let (mut buf, mut end_of_line) = trim_continuation(first, d.escape);
        if end_of_line && buf.is_empty() {
            continue;
        }
        let mut empty_continuation = false;
        while !end_of_line {
            let Some(next) = raw.next() else { break };
            let line = trim_newline(next);
            d.possible_directive(line)
                .map_err(|e| err(e, current + 1, 0))?;
            current += 1;
            if is_comment(line) {
                continue;
            }
            if line.trim_start().is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, eol) = trim_continuation(line, d.escape);
            buf.push_str(&part);
            end_of_line = eol;
        }
        if empty_continuation {
            warnings.push(format!("Empty continuation line found in: {buf}"));
        }

        let mut node = node_from_line(&buf, d.escape).map_err(|e| err(e, start, current))?;
        if can_contain_heredoc(&node) && buf.contains("<<") {
            let docs = heredocs_from_line(&buf).map_err(|e| err(e, start, current))?;
            for mut doc in docs {
                let mut content = String::new();
                let mut terminated = false;
                for line in raw.by_ref() {
                    current += 1;
                    let mut candidate = trim_newline(line);
                    if doc.chomp {
                        candidate = candidate.trim_start_matches('\t');
                    }
                    if candidate == doc.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(line);
                }
                if !terminated {
                    return Err(err("unterminated heredoc", start, current));
                }
                doc.content = content;
                node.heredocs.push(doc);
            }
        }
        set_lines(&mut node, start, current);
        nodes.push(node);
    }
    if nodes.is_empty() {
        return Err(err("file with no instructions", current, 0));
    }
    Ok(Lines {
        nodes,
        directives: d,
        warnings,
    })
}

fn set_lines(node: &mut Node, start: usize, end: usize) {
    node.start_line = start;
    node.end_line = end;
    if let Some(sub) = node.sub.as_deref_mut() {
        set_lines(sub, start, end);
    }
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\r', '\n'])
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a trailing escape token (followed only by spaces or tabs) that is
/// not itself escaped; returns the line and whether the instruction ends here.
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    if let Some(before) = body.strip_suffix(escape) {
        if !before.ends_with(escape) {
            return (before.to_string(), false);
        }
    }
    (line.to_string(), true)
}

fn can_contain_heredoc(node: &Node) -> bool {
    let node = match (&node.sub, node.cmd.eq_ignore_ascii_case("onbuild")) {
        (Some(sub), true) => sub,
        _ => node,
    };
    matches!(
        node.cmd.to_ascii_lowercase().as_str(),
        "add" | "copy" | "run"
    ) && !node.json
}

/// Heredocs named on a line, in order.
fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, String> {
    let mut lex = Lex::new('\\');
    lex.raw_quotes = true;
    lex.raw_escapes = true;
    lex.skip_unset_env = true;
    let words = lex.process_words(line, &NoEnv).unwrap_or_default();
    let mut docs = Vec::new();
    for word in words {
        if let Some(doc) = parse_heredoc(&word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Parses a heredoc word such as `<<EOF`, `<<-EOF`, `<<"EOF"` or `3<<EOF`
/// (the content is left empty).
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let Some(rest) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(is_re_space);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let mut lex = Lex::new('\\');
    lex.skip_unset_env = true;
    let words = lex.process_words(rest, &NoEnv).map_err(|e| e.to_string())?;
    if words.len() != 1 {
        return Ok(None);
    }
    lex.raw_quotes = true;
    let raw = lex.process_words(rest, &NoEnv).map_err(|e| e.to_string())?;
    if raw.len() != words.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.chars().filter(|c| *c == '\'' || *c == '"').count();
    Ok(Some(Heredoc {
        expand: quotes(&words[0]) == quotes(&raw[0]),
        name: words[0].clone(),
        file_descriptor: word[..digits].parse().unwrap_or(0),
        chomp,
        content: String::new(),
    }))
}

/// Splits the instruction name, its `--flags` and the rest, and splits the
/// rest the way the instruction wants it.
fn node_from_line(line: &str, escape: char) -> Result<Node, String> {
    let line = line.trim();
    let (cmd, rest) = match line.find(is_list_space) {
        Some(i) => (&line[..i], line[i..].trim_start_matches(is_list_space)),
        None => (line, ""),
    };
    let (rest, flags) = extract_flags(rest, escape);
    let rest = rest.trim();
    let mut node = Node {
        cmd: cmd.to_string(),
        flags,
        args: Vec::new(),
        json: false,
        pairs: Vec::new(),
        sub: None,
        heredocs: Vec::new(),
        original: line.to_string(),
        start_line: 0,
        end_line: 0,
    };
    match cmd.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => (node.args, node.json) = maybe_json_to_list(rest)?,
        "arg" => node.args = parse_words(rest, escape),
        "cmd" | "entrypoint" | "run" | "shell" => (node.args, node.json) = maybe_json(rest)?,
        "env" => node.pairs = parse_name_val(rest, "ENV", escape)?,
        "label" => node.pairs = parse_name_val(rest, "LABEL", escape)?,
        "expose" | "from" => node.args = whitespace_list(rest),
        "healthcheck" => {
            let typ_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if typ_end > 0 {
                let (args, json) = maybe_json(rest[typ_end..].trim_start())?;
                node.args.push(rest[..typ_end].to_string());
                node.args.extend(args);
                node.json = json;
            }
        }
        "maintainer" | "stopsignal" | "user" | "workdir" if !rest.is_empty() => {
            node.args.push(rest.to_string());
        }
        "onbuild" if !rest.is_empty() => {
            node.sub = Some(Box::new(node_from_line(rest, escape)?));
        }
        _ => {}
    }
    Ok(node)
}

fn whitespace_list(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split(is_list_space)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A JSON array of strings, if `rest` is one. `Err` only for an array that
/// holds something other than strings.
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, String> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(rest) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(
                "when using JSON array syntax, arrays must be comprised of strings only"
                    .to_string(),
            ),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn maybe_json(rest: &str) -> Result<(Vec<String>, bool), String> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok(match parse_json(rest)? {
        Some(args) => (args, true),
        None => (vec![rest.to_string()], false),
    })
}

fn maybe_json_to_list(rest: &str) -> Result<(Vec<String>, bool), String> {
    Ok(match parse_json(rest)? {
        Some(args) => (args, true),
        None => (whitespace_list(rest), false),
    })
}

/// Words separated by whitespace; quotes and escapes are kept (expansion
/// removes them later), but quoted whitespace does not split.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote(char),
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let mut ch = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            phase = Phase::Word;
        }
        match phase {
            Phase::Word => {
                if ch.is_whitespace() {
                    phase = Phase::Spaces;
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    blank_ok = false;
                    i += 1;
                    continue;
                }
                if ch == '\'' || ch == '"' {
                    phase = Phase::Quote(ch);
                    blank_ok = true;
                }
                if ch == escape {
                    if i + 1 == chars.len() {
                        i += 1;
                        continue;
                    }
                    word.push(ch);
                    i += 1;
                    ch = chars[i];
                }
                word.push(ch);
            }
            Phase::Quote(q) => {
                if ch == q {
                    phase = Phase::Word;
                }
                if ch == escape && q != '\'' {
                    if i + 1 == chars.len() {
                        phase = Phase::Word;
                        i += 1;
                        continue;
                    }
                    word.push(ch);
                    i += 1;
                    ch = chars[i];
                }
                word.push(ch);
            }
            Phase::Spaces => unreachable!(),
        }
        i += 1;
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// ENV and LABEL: `key value` (legacy: one pair, the rest of the line is
/// the value) or `key=value ...`.
fn parse_name_val(
    rest: &str,
    key: &str,
    escape: char,
) -> Result<Vec<(String, String, bool)>, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let Some(i) = rest.find(is_list_space) else {
            return Err(format!("{key} must have two arguments"));
        };
        let value = rest[i..].trim_start_matches(is_list_space);
        return Ok(vec![(rest[..i].to_string(), value.to_string(), false)]);
    }
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string(), true)),
            None => Err(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            )),
        })
        .collect()
}

/// Takes the leading `--flag` words off `line`; returns the rest and the flags
/// (quotes and escapes processed). A `--` word ends the flags.
fn extract_flags(line: &str, escape: char) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote(char),
    }
    let chars: Vec<char> = line.chars().collect();
    let rest_from = |i: usize| chars[i..].iter().collect::<String>();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut blank_ok = false;
    let mut i = 0;
    while i <= chars.len() {
        if i == chars.len() {
            if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            return (String::new(), words);
        }
        let mut ch = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            if ch != '-' || chars.get(i + 1) != Some(&'-') {
                return (rest_from(i), words);
            }
            phase = Phase::Word;
        }
        match phase {
            Phase::Word => {
                if ch.is_whitespace() {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (rest_from(i), words);
                    }
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    blank_ok = false;
                } else if ch == '\'' || ch == '"' {
                    phase = Phase::Quote(ch);
                    blank_ok = true;
                } else {
                    if ch == escape {
                        if i + 1 == chars.len() {
                            i += 1;
                            continue;
                        }
                        i += 1;
                        ch = chars[i];
                    }
                    word.push(ch);
                }
            }
            Phase::Quote(q) => {
                if ch == q {
                    phase = Phase::Word;
                } else {
                    if ch == escape {
                        if i + 1 == chars.len() {
                            phase = Phase::Word;
                            i += 1;
                            continue;
                        }
                        i += 1;
                        ch = chars[i];
                    }
                    word.push(ch);
                }
            }
            Phase::Spaces => unreachable!(),
        }
        i += 1;
    }
    (String::new(), words)
}
