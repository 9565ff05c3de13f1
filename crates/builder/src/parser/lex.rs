//! Variable expansion and word splitting, with the rules of BuildKit's
//! `shell.Lex`: `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`,
//! `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`,
//! `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`;
//! single quotes are literal, double quotes expand variables, and the
//! Dockerfile's escape token escapes the next character.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where [`Lex`] looks variables up.
pub trait EnvLookup {
    /// The value of `name`, or `None` when it is not set.
    fn lookup(&self, name: &str) -> Option<&str>;
}

impl EnvLookup for HashMap<String, String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl EnvLookup for BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// Pairs in order; the last one of a name wins, as in a process environment.
impl EnvLookup for [(String, String)] {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl EnvLookup for Vec<(String, String)> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.as_slice().lookup(name)
    }
}

/// A Docker-style `KEY=value` list; the last entry of a name wins.
impl EnvLookup for [String] {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.iter().rev().find_map(|e| match e.split_once('=') {
            Some((k, v)) if k == name => Some(v),
            None if e == name => Some(""),
            _ => None,
        })
    }
}

impl EnvLookup for Vec<String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.as_slice().lookup(name)
    }
}

/// An environment with nothing set.
pub struct NoEnv;

impl EnvLookup for NoEnv {
    fn lookup(&self, _: &str) -> Option<&str> {
        None
    }
}

/// An expansion error: `failed to process "<word>": <reason>`, as Docker says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// The word being expanded.
    pub word: String,
    /// What went wrong, e.g. `syntax error: missing '}'`.
    pub message: String,
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed to process {:?}: {}", self.word, self.message)
    }
}

impl std::error::Error for LexError {}

/// The result of an expansion with the variables it used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The word after expansion and quote removal, spaces kept.
    pub result: String,
    /// The word split into words after expansion (quoted spaces kept).
    pub words: Vec<String>,
    /// Variables referenced and set.
    pub matched: BTreeSet<String>,
    /// Variables referenced but not set.
    pub unmatched: BTreeSet<String>,
}

/// The expander (BuildKit's `shell.Lex`), configured with the escape token.
#[derive(Debug, Clone)]
pub struct Lex {
    escape: char,
    /// Keep quote characters in the output (used to detect quoted heredoc words).
    pub raw_quotes: bool,
    /// Keep escape characters in the output.
    pub raw_escapes: bool,
    /// Leave references to unset variables as written.
    pub skip_unset_env: bool,
}

impl Lex {
    /// A lexer using `escape` (`\` or `` ` ``) as the escape token.
    pub fn new(escape: char) -> Self {
        Lex {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
        }
    }

    /// Expands `word` as one word (spaces kept, quotes removed).
    pub fn process_word(&self, word: &str, env: &dyn EnvLookup) -> Result<String, LexError> {
        Ok(self.process(word, env)?.result)
    }

    /// Expands `word` and splits it into words; splitting happens after
    /// expansion, and quoted spaces do not split.
    pub fn process_words(&self, word: &str, env: &dyn EnvLookup) -> Result<Vec<String>, LexError> {
        Ok(self.process(word, env)?.words)
    }

    /// Expands `word`, returning the single word, the split words and which
    /// variables were used.
    pub fn process(&self, word: &str, env: &dyn EnvLookup) -> Result<Expansion, LexError> {
        let mut sw = ShellWord {
            lex: self,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: self.raw_escapes,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        };
        let raw = sw.raw_escapes;
        match sw.process_stop_on(None, raw) {
            Ok((result, words)) => Ok(Expansion {
                result,
                words,
                matched: sw.matched,
                unmatched: sw.unmatched,
            }),
            Err(message) => Err(LexError {
                word: word.to_string(),
                message,
            }),
        }
    }
}

struct ShellWord<'a> {
    lex: &'a Lex,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn EnvLookup,
    raw_escapes: bool,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

/// Splits into words as characters arrive; whitespace from variable values
/// splits too, quoted text never does.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }
    fn add_raw_char(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }
    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

type Res<T> = Result<T, String>;

impl ShellWord<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Res<(String, Vec<String>)> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.stop_on(stop);
        self.raw_escapes = saved;
        r
    }

    fn stop_on(&mut self, stop: Option<char>) -> Res<(String, Vec<String>)> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.next();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                    words.add_string(&v);
                }
                '<' => {
                    let v = self.process_possible_heredoc();
                    result.push_str(&v);
                    words.add_raw_string(&v);
                }
                '\'' => {
                    let v = self.process_single_quote()?;
                    result.push_str(&v);
                    words.add_raw_string(&v);
                }
                '"' => {
                    let v = self.process_double_quote()?;
                    result.push_str(&v);
                    words.add_raw_string(&v);
                }
                _ => {
                    self.next();
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        // The escape token escapes the next character; at the
                        // end of the word it is dropped.
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> Res<String> {
        let mut out = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Res<String> {
        let mut out = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lex.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    out.push_str(&v);
                }
                Some(mut c) => {
                    self.next();
                    if c == self.lex.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            // An escape at the end of the word is dropped.
                            None => continue,
                            // Only these can be escaped inside double quotes.
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                self.next();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        match self.env.lookup(name) {
            Some(v) => {
                self.matched.insert(name.to_string());
                Some(v.to_string())
            }
            None => {
                self.unmatched.insert(name.to_string());
                None
            }
        }
    }

    fn process_dollar(&mut self) -> Res<String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            _ => {}
        }
        let name = self.process_name();
        let Some(ch) = self.next() else {
            return Err("syntax error: missing '}'".into());
        };
        match ch {
            '}' => Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                let mut modifier = ch.to_string();
                let mut op = ch;
                let null_is_unset = ch == ':';
                if null_is_unset {
                    op = self.next().unwrap_or('\u{fffd}');
                    modifier.push(op);
                }
                let pattern = op == '#' || op == '%';
                if null_is_unset && pattern {
                    return Err(format!("unsupported modifier ({modifier}) in substitution"));
                }
                let word = self.sub_word('}', pattern, "syntax error: missing '}'")?;
                let value = self.get_env(&name);
                if self.lex.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                let empty = value
                    .as_deref()
                    .is_none_or(|v| null_is_unset && v.is_empty());
                match op {
                    '-' => Ok(if empty {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    '+' => Ok(if empty { String::new() } else { word }),
                    '?' => match value {
                        None => Err(format!(
                            "{name}: {}",
                            if word.is_empty() {
                                "is not allowed to be unset"
                            } else {
                                &word
                            }
                        )),
                        Some(v) if null_is_unset && v.is_empty() => Err(format!(
                            "{name}: {}",
                            if word.is_empty() {
                                "is not allowed to be empty"
                            } else {
                                &word
                            }
                        )),
                        Some(v) => Ok(v),
                    },
                    '#' | '%' => {
                        let value = value.unwrap_or_default();
                        let (greedy, pat) = match word.strip_prefix(op) {
                            Some(rest) => (true, rest.to_string()),
                            None => (false, word),
                        };
                        let pat = compile_pattern(&pat)?;
                        Ok(if op == '#' {
                            trim_prefix(&pat, &value, greedy)
                        } else {
                            trim_suffix(&pat, &value, greedy)
                        })
                    }
                    _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
                }
            }
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.next();
                }
                let pattern = self.sub_word('/', true, "syntax error: missing '/' in ${}")?;
                let replacement = self.sub_word('}', true, "syntax error: missing '}'")?;
                let value = self.get_env(&name);
                let Some(value) = value else {
                    if self.lex.skip_unset_env {
                        return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                    }
                    return Ok(String::new());
                };
                let pat = compile_pattern(&pattern)?;
                Ok(replace(&pat, &value, &replacement, all))
            }
            c => Err(format!("unsupported modifier ({c}) in substitution")),
        }
    }

    /// The word of a `${name<op>word}` up to `stop`.
    fn sub_word(&mut self, stop: char, raw_escapes: bool, missing: &str) -> Res<String> {
        match self.process_stop_on(Some(stop), raw_escapes) {
            Ok((w, _)) => Ok(w),
            Err(_) if self.peek().is_none() => Err(missing.to_string()),
            Err(e) => Err(e),
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        let mut out = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            out.push(c);
            self.next();
        }
        out
    }
}

/// One element of a shell pattern (`*`, `?` or a literal character).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pat {
    Star,
    One,
    Lit(char),
}

fn compile_pattern(pattern: &str) -> Res<Vec<Pat>> {
    let mut out = Vec::new();
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' => out.push(Pat::Star),
            '?' => out.push(Pat::One),
            '\\' => match it.peek().copied() {
                // `}` and `/` are escaped only to get them past the `${}` parser.
                Some('}' | '/') => {}
                Some(n @ ('*' | '?' | '\\')) => {
                    it.next();
                    out.push(Pat::Lit(n));
                }
                n => {
                    let shown = n.map(String::from).unwrap_or_default();
                    return Err(format!(
                        "invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'"
                    ));
                }
            },
            c => out.push(Pat::Lit(c)),
        }
    }
    Ok(out)
}

/// Whether `pat` matches all of `s`.
fn matches_all(pat: &[Pat], s: &[char]) -> bool {
    match pat.split_first() {
        None => s.is_empty(),
        Some((Pat::Star, rest)) => (0..=s.len()).any(|i| matches_all(rest, &s[i..])),
        Some((Pat::One, rest)) => !s.is_empty() && matches_all(rest, &s[1..]),
        Some((Pat::Lit(c), rest)) => s.first() == Some(c) && matches_all(rest, &s[1..]),
    }
}

fn trim_prefix(pat: &[Pat], value: &str, greedy: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut lens: Vec<usize> = (0..=chars.len()).collect();
    if greedy {
        lens.reverse();
    }
    match lens.into_iter().find(|&n| matches_all(pat, &chars[..n])) {
        Some(n) => chars[n..].iter().collect(),
        None => value.to_string(),
    }
}

fn trim_suffix(pat: &[Pat], value: &str, greedy: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut lens: Vec<usize> = (0..=chars.len()).collect();
    if greedy {
        lens.reverse();
    }
    let len = chars.len();
    match lens
        .into_iter()
        .find(|&n| matches_all(pat, &chars[len - n..]))
    {
        Some(n) => chars[..len - n].iter().collect(),
        None => value.to_string(),
    }
}

/// `${v/pat/repl}` and `${v//pat/repl}`: leftmost, longest matches.
fn replace(pat: &[Pat], value: &str, replacement: &str, all: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let find = |from: usize| {
        (from..=chars.len()).find_map(|s| {
            (s..=chars.len())
                .rev()
                .find(|&e| matches_all(pat, &chars[s..e]))
                .map(|e| (s, e))
        })
    };
    let mut out = String::new();
    let mut pos = 0;
    while pos <= chars.len() {
        let Some((s, e)) = find(pos) else { break };
        out.extend(&chars[pos..s]);
        out.push_str(replacement);
        if e == s {
            out.extend(chars.get(s));
            pos = s + 1;
        } else {
            pos = e;
        }
        if !all {
            break;
        }
    }
    if pos <= chars.len() {
        out.extend(&chars[pos..]);
    }
    out
}
