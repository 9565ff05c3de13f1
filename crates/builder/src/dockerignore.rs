//! Docker's `.dockerignore` matcher.
//!
//! The semantics are those of the docker CLI, which reads the file with
//! `ignorefile.ReadAll` and matches with moby's `patternmatcher`; they are
//! not gitignore's:
//!
//! - **Reading.** A UTF-8 BOM is dropped; a line whose first character is
//!   `#` is a comment (a `#` after leading blanks is not); every other line
//!   is trimmed, and blank lines are skipped. A leading `!` makes the line
//!   an exception (blanks after it are trimmed too). The pattern is then
//!   cleaned as Go's `filepath.Clean` does (`a/./b//c/../d` becomes
//!   `a/b/d`, a trailing `/` goes) and one leading `/` is removed, so
//!   `/foo` and `foo` are the same pattern.
//! - **Anchoring.** Patterns are matched against the whole slash-separated
//!   path relative to the context root: `foo` matches `foo` and not
//!   `a/foo`; `*/foo` matches one level down; `**/foo` at any depth.
//! - **Syntax.** Go's `filepath.Match`: `*` is any run of characters but
//!   `/`, `?` one character but `/`, `[a-z]`, `[^a]` classes (`!` does not
//!   negate), `\x` escapes `x`; plus `**`, any number of directories
//!   including none (`a/**/b` matches `a/b`), and a trailing `**` matches
//!   everything below (`foo/**` matches `foo/x` but not `foo` itself).
//! - **Parents.** A path is excluded when a pattern matches it or any of
//!   its parent directories (`MatchesOrParentMatches`).
//! - **Exceptions.** The last pattern that matches decides: `!` re-includes.
//!
//! **The Dockerfile and `.dockerignore` are always sent.** The docker CLI
//! appends the exceptions `!.dockerignore` and `!<dockerfile>` when the
//! patterns exclude them (not the Dockerfile when it comes from stdin):
//! [`Patterns::keep_build_files`]. The daemon, once it has read the
//! Dockerfile, deletes from the context those of the two that the context's
//! own `.dockerignore` excludes, so `COPY . .` never copies them:
//! [`Patterns::removed_after_read`].
//!
//! A context walker either calls [`Patterns::excluded`] per path, or, as
//! the docker CLI's tar walk does, threads per-directory results through
//! [`Patterns::walk_excluded`]; an excluded directory is skipped whole
//! unless [`Patterns::needs_walk_into`] says an exception may reach inside.
//!
//! moby translates a pattern into a Go regexp by hand, and that is what
//! decides in corners: outside a class, `^` stays an anchor (`^foo*`
//! matches `foo`, `a^b*` nothing) and `\d`, `\s`, `\w` (and negations)
//! and the control escapes (`\t`, ...) keep their regexp meaning, while an
//! escape Go's regexp refuses (`\q`, `\é`) is a syntax error; all as here.
//! Deliberate differences, all in corners, checked against the docker CLI
//! 28.2: inside `[...]` moby's regexp gives `*`, `?`, `[:alpha:]` and
//! `\d`-style escapes a meaning of their own (`[*]` matches `]`, not `*`),
//! here they are literal as in `filepath.Match`; the rarer regexp escapes
//! (`\b`, `\A`, `\z`, `\p{..}`, `\x41`, `\Q`, octal) are taken literally;
//! and a pattern Go's regexp refuses (`\q`, a reversed range `[z-a]`) is
//! refused when the file is parsed, where Docker fails only once the walk
//! first evaluates that pattern (with the same message).

use base::Error;

/// Docker's error for a pattern `filepath.Match` refuses.
const BAD_PATTERN: &str = "syntax error in pattern";

/// The patterns of a `.dockerignore` file, in order.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    patterns: Vec<Pattern>,
    has_exceptions: bool,
}

/// One pattern: its cleaned text (without `!`) and how it matches.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exception: bool,
    kind: Kind,
}

/// moby classifies each pattern and matches the simple kinds by string
/// comparison, the rest by a regexp; the shortcuts differ from the regexp
/// in corners (`**foo` matches `xfoo`), so they are kept as moby has them.
#[derive(Debug, Clone)]
enum Kind {
    /// No wildcard: the path equals the pattern.
    Exact,
    /// Literal text then a final `**`: the path starts with the text.
    Prefix(String),
    /// A leading `**` then literal text: the path ends with the text
    /// (or, when the text starts with `/`, equals the rest of it).
    Suffix(String),
    /// Anything else.
    Glob(Vec<Token>),
}

#[derive(Debug, Clone)]
enum Token {
    /// One character.
    Lit(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run of characters but `/`.
    Star,
    /// `[...]`.
    Class(Class),
    /// `**` before more pattern: nothing, or anything ending in `/`.
    Dirs,
    /// A final `**`: anything.
    Rest,
    /// `^` outside a class, which moby's regexp keeps as an anchor: matches
    /// nothing, at the start of the path only.
    Start,
}

#[derive(Debug, Clone)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// Per-pattern results for one directory, which [`Patterns::walk_excluded`]
/// hands down to the directory's entries. The default value means "no
/// parent results": every parent of the path is then matched afresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirMatch(Vec<bool>);

impl Patterns {
    /// Parses the text of a `.dockerignore` file; fails with Docker's
    /// message (`syntax error in pattern`, `illegal exclusion pattern: "!"`)
    /// on the first bad pattern. The docker CLI prefixes it with
    /// `error checking context: `.
    pub fn parse(text: &str) -> Result<Patterns, Error> {
        let mut patterns = Patterns::default();
        for line in read_lines(text) {
            patterns.push(&line)?;
        }
        Ok(patterns)
    }

    /// Whether there are no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern is a `!` exception.
    pub fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether the docker CLI leaves `rel_path` (slash-separated, relative
    /// to the context root) out of the context: the last pattern matching
    /// the path or one of its parents decides. The root itself (`.`, empty)
    /// is never excluded.
    pub fn excluded(&self, rel_path: &str) -> bool {
        self.walk_excluded(rel_path, &DirMatch::default()).0
    }

    /// [`Patterns::excluded`] for a walk, as the docker CLI's tar walk does
    /// it (`MatchesUsingParentResults`): pass the [`DirMatch`] returned for
    /// the path's directory (the default one at the root) and keep the one
    /// returned for a directory to pass to its entries. A pattern that
    /// matched a parent counts as matching; one not evaluated there (moby
    /// skips patterns that cannot change the outcome) does not, which can
    /// differ from [`Patterns::excluded`] when a pattern is repeated after
    /// an exception (`a`, `!a/b`, `a` includes `a/b/c` in a walk).
    pub fn walk_excluded(&self, rel_path: &str, parent: &DirMatch) -> (bool, DirMatch) {
        let path = normalize_path(rel_path);
        let mut results = vec![false; self.patterns.len()];
        if path.is_empty() {
            return (false, DirMatch(results));
        }
        let parent = if parent.0.len() == self.patterns.len() {
            Some(&parent.0)
        } else {
            None
        };
        let mut excluded = false;
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut matched = parent.is_some_and(|p| p[i]);
            if !matched {
                // moby skips patterns that cannot change the outcome: an
                // exclusion once excluded, an exception while included.
                if pattern.exception != excluded {
                    continue;
                }
                matched = pattern.matches(&path)
                    || (parent.is_none() && parents(&path).any(|dir| pattern.matches(dir)));
            }
            results[i] = matched;
            if matched {
                excluded = !pattern.exception;
            }
        }
        (excluded, DirMatch(results))
    }

    /// Whether a walker must still descend into the directory `dir`, which
    /// the patterns exclude, because an exception may re-include something
    /// inside it. The docker CLI's rule, by text: some exception's pattern
    /// followed by `/` starts with `dir/` (`!dir/keep`, `!dir/*.txt`); an
    /// exception that begins with a wildcard (`!*/keep`, `!**/keep`) does
    /// not count, so Docker, and berth with it, never sends `dir/keep` then.
    /// A directory descended into this way is not itself put in the context,
    /// only the entries found inside that are not excluded.
    pub fn needs_walk_into(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return false;
        }
        let dir = normalize_path(dir);
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }

    /// Applies the docker CLI's rule that the Dockerfile and `.dockerignore`
    /// are always sent (`TrimBuildFilesFromExcludes`): when excluded, an
    /// exception for each is appended, except for a Dockerfile read from
    /// stdin. `dockerfile` is its path relative to the context root, with
    /// `/` separators. The exception is the literal name, where Docker
    /// appends the name as a pattern (a Dockerfile named with `[` or `*`
    /// would then not be sent) and decides with the older one-parent
    /// matcher (which misses `**/dir` over `x/y/dir/Dockerfile`).
    pub fn keep_build_files(&mut self, dockerfile: &str, dockerfile_from_stdin: bool) {
        if self.excluded(".dockerignore") {
            self.push_literal_exception(".dockerignore");
        }
        if !dockerfile_from_stdin && self.excluded(dockerfile) {
            self.push_literal_exception(dockerfile);
        }
    }

    /// The files the daemon deletes from a received context once it has read
    /// the Dockerfile (moby's `removeDockerfile`): `.dockerignore` and the
    /// Dockerfile, each only if these patterns (those of the context's own
    /// `.dockerignore`) exclude it.
    pub fn removed_after_read(&self, dockerfile: &str) -> Vec<String> {
        [".dockerignore", dockerfile]
            .into_iter()
            .filter(|name| self.excluded(name))
            .map(str::to_string)
            .collect()
    }

    fn push_literal_exception(&mut self, name: &str) {
        let text = normalize_path(name);
        self.patterns.push(Pattern {
            text,
            exception: true,
            kind: Kind::Exact,
        });
        self.has_exceptions = true;
    }

    /// Adds one line as read by `ReadAll`, compiled as `patternmatcher.New`
    /// does (which cleans once more, `!` included: `!/` becomes `!`).
    fn push(&mut self, line: &str) -> Result<(), Error> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        let cleaned = clean(line);
        let (exception, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(Error::invalid("illegal exclusion pattern: \"!\"")),
            Some(rest) => (true, rest.to_string()),
            None => (false, cleaned),
        };
        let kind = compile(&text)?;
        self.has_exceptions |= exception;
        self.patterns.push(Pattern {
            text,
            exception,
            kind,
        });
        Ok(())
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Kind::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Glob(tokens) => glob_matches(tokens, path),
        }
    }
}

/// The patterns of a file as `ignorefile.ReadAll` returns them: BOM and
/// comments dropped, trimmed, cleaned, leading `/` removed, `!` kept in
/// front.
fn read_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let exception = pattern.starts_with('!');
        if exception {
            pattern = pattern[1..].trim();
        }
        let mut normalized = String::new();
        if !pattern.is_empty() {
            normalized = clean(pattern);
            if normalized.len() > 1 && normalized.starts_with('/') {
                normalized.remove(0);
            }
        }
        if exception {
            normalized.insert(0, '!');
        }
        out.push(normalized);
    }
    out
}

/// Go's `path.Clean`: the shortest equivalent path, lexically.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A path to match: cleaned, relative (leading `/` dropped), and empty for
/// the context root.
fn normalize_path(path: &str) -> String {
    let cleaned = clean(path);
    let relative = cleaned.trim_start_matches('/');
    if relative == "." {
        String::new()
    } else {
        relative.to_string()
    }
}

/// The parent directories of a cleaned relative path, shortest first:
/// `a/b/c` gives `a`, `a/b`.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Checks the syntax as `filepath.Match` does, then classifies and
/// tokenizes the pattern as moby's `Pattern.compile` does.
fn compile(pattern: &str) -> Result<Kind, Error> {
    let chars: Vec<char> = pattern.chars().collect();
    let bad = || Error::invalid(BAD_PATTERN);
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Glob,
    }
    let mut detected = Detected::Exact;
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        tokens.push(Token::Rest);
                        detected = Detected::Glob;
                    }
                } else {
                    tokens.push(Token::Dirs);
                    detected = Detected::Glob;
                }
                if first {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                detected = Detected::Glob;
            }
            '?' => {
                tokens.push(Token::One);
                detected = Detected::Glob;
            }
            '\\' => {
                let escaped = *chars.get(i).ok_or_else(bad)?;
                i += 1;
                tokens.push(match escape(escaped, false).ok_or_else(bad)? {
                    Escape::Char(c) => Token::Lit(c),
                    Escape::Class(class) => Token::Class(class),
                });
                detected = Detected::Glob;
            }
            '^' => tokens.push(Token::Start),
            '[' => {
                let (class, next) = parse_class(&chars, i).ok_or_else(bad)?;
                i = next;
                tokens.push(Token::Class(class));
                detected = Detected::Glob;
            }
            ']' => {
                tokens.push(Token::Lit(']'));
                detected = Detected::Glob;
            }
            _ => tokens.push(Token::Lit(c)),
        }
        first = false;
    }
    Ok(match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_string()),
        Detected::Suffix => Kind::Suffix(pattern[2..].to_string()),
        Detected::Glob => Kind::Glob(tokens),
    })
}

/// Parses a character class after its `[` with `filepath.Match`'s grammar:
/// an optional `^`, then one or more characters or `lo-hi` ranges (each
/// may be escaped with `\`; an unescaped `-` or `]` may not start one),
/// then `]`. Returns the class and the index after the `]`, or `None` for
/// a syntax error (also for a reversed range, which moby's regexp refuses).
fn parse_class(chars: &[char], mut i: usize) -> Option<(Class, usize)> {
    let mut class = Class {
        negated: false,
        ranges: Vec::new(),
    };
    if chars.get(i) == Some(&'^') {
        class.negated = true;
        i += 1;
    }
    loop {
        if chars.get(i) == Some(&']') && !class.ranges.is_empty() {
            return Some((class, i + 1));
        }
        let (lo, next) = class_char(chars, i)?;
        i = next;
        let mut hi = lo;
        if chars[i] == '-' {
            let (h, next) = class_char(chars, i + 1)?;
            hi = h;
            i = next;
        }
        if lo > hi {
            return None;
        }
        class.ranges.push((lo, hi));
    }
}

/// One character of a class (Go's `getEsc`): not `-` or `]` unescaped, and
/// something must follow it.
fn class_char(chars: &[char], mut i: usize) -> Option<(char, usize)> {
    let mut c = *chars.get(i)?;
    match c {
        '-' | ']' => return None,
        '\\' => {
            i += 1;
            c = match escape(*chars.get(i)?, true)? {
                Escape::Char(c) => c,
                // `escape` gives no classes inside a class.
                Escape::Class(_) => chars[i],
            };
        }
        _ => {}
    }
    i += 1;
    (i < chars.len()).then_some((c, i))
}

/// What `\c` means in moby's regexp.
enum Escape {
    Char(char),
    Class(Class),
}

/// `\c` as moby's regexp reads it: `filepath.Match` makes any escaped
/// character literal, but moby hands `\c` to Go's regexp, where a letter
/// or digit is an escape of its own. Punctuation is literal in both; the
/// control escapes (`\t`, `\n`, ...) and, outside a class, the Perl
/// classes (`\d`, `\s`, `\w` and their negations) get their regexp
/// meaning; the rest of what Go's regexp accepts (`\b`, `\A`, `\z`,
/// `\p{..}`, `\x41`, `\Q..\E`, octal, and the Perl classes inside a class)
/// is taken literally here; what it refuses (`\q`, `\8`, `\é`, ...) is
/// `None`, a syntax error, as the docker CLI reports at its first match.
fn escape(c: char, in_class: bool) -> Option<Escape> {
    const DIGIT: &[(char, char)] = &[('0', '9')];
    const SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];
    const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    match c {
        'a' => Some(Escape::Char('\x07')),
        'f' => Some(Escape::Char('\x0c')),
        't' => Some(Escape::Char('\t')),
        'n' => Some(Escape::Char('\n')),
        'r' => Some(Escape::Char('\r')),
        'v' => Some(Escape::Char('\x0b')),
        'd' | 'D' | 's' | 'S' | 'w' | 'W' if !in_class => {
            let class = match c.to_ascii_lowercase() {
                'd' => DIGIT,
                's' => SPACE,
                _ => WORD,
            };
            Some(Escape::Class(Class {
                negated: c.is_ascii_uppercase(),
                ranges: class.to_vec(),
            }))
        }
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'p' | 'P' | 'x' | '0'..='7' => Some(Escape::Char(c)),
        'b' | 'B' | 'A' | 'z' | 'Q' if !in_class => Some(Escape::Char(c)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Some(Escape::Char(c)),
        _ => None,
    }
}

/// Matches a whole path against tokens with the regexp's semantics (full
/// backtracking; `**` as `.`, which does not match a newline), by dynamic
/// programming from the end: `next[j]` says whether the tokens after the
/// current one match the path from character `j` on.
fn glob_matches(tokens: &[Token], path: &str) -> bool {
    let s: Vec<char> = path.chars().collect();
    let n = s.len();
    let mut next: Vec<bool> = (0..=n).map(|j| j == n).collect();
    let mut cur = vec![false; n + 1];
    for token in tokens.iter().rev() {
        // For `Dirs`: whether some `/` at or after j, with no newline
        // before it, ends the directories and the rest matches after it.
        let mut dirs_end = false;
        for j in (0..=n).rev() {
            let c = s.get(j).copied();
            cur[j] = match token {
                Token::Lit(l) => c == Some(*l) && next[j + 1],
                Token::One => c.is_some_and(|c| c != '/') && next[j + 1],
                Token::Class(class) => c.is_some_and(|c| class.matches(c)) && next[j + 1],
                Token::Star => next[j] || (c.is_some_and(|c| c != '/') && cur[j + 1]),
                Token::Rest => next[j] || (c.is_some_and(|c| c != '\n') && cur[j + 1]),
                Token::Start => j == 0 && next[j],
                Token::Dirs => {
                    dirs_end = match c {
                        Some('/') => next[j + 1] || dirs_end,
                        Some('\n') | None => false,
                        Some(_) => dirs_end,
                    };
                    next[j] || dirs_end
                }
            };
        }
        std::mem::swap(&mut next, &mut cur);
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (.dockerignore text, path, excluded?)
    const CASES: &[(&str, &str, bool)] = &[
        // Anchored at the context root.
        ("foo", "foo", true),
        ("foo", "a/foo", false),
        ("foo", "foobar", false),
        ("foo", "foo/bar", true),
        ("foo", "foo/bar/baz", true),
        ("foo/bar", "foo/bar/baz", true),
        ("foo/bar", "foo", false),
        ("*.txt", "a.txt", true),
        ("*.txt", "dir/a.txt", false),
        // One level down.
        ("*/foo", "a/foo", true),
        ("*/foo", "foo", false),
        ("*/foo", "a/b/foo", false),
        ("*/foo", "a/foo/x", true),
        ("a/*/c", "a/b/c", true),
        ("a/*/c", "a/b/x/c", false),
        // `**`.
        ("**/foo", "foo", true),
        ("**/foo", "a/b/foo", true),
        ("**/foo", "a/b/xfoo", false),
        ("**/foo", "a/foo/bar", true),
        ("foo/**", "foo/x", true),
        ("foo/**", "foo/x/y", true),
        ("foo/**", "foo", false),
        ("foo/**", "foobar", false),
        ("**", "x", true),
        ("**", "anything/deep/below", true),
        ("a/**/b", "a/b", true),
        ("a/**/b", "a/x/y/b", true),
        ("a/**/b", "a/x/yb", false),
        ("a/**/b", "b", false),
        ("**/*.log", "x.log", true),
        ("**/*.log", "a/b/x.log", true),
        ("**/*.log", "a/b/x.logs", false),
        ("**/foo/**", "foo/x", true),
        ("**/foo/**", "a/foo/x", true),
        ("**/foo/**", "a/foo", false),
        ("*/**", "a", false),
        ("*/**", "a/b", true),
        // moby's shortcuts: a leading `**` then text is an ends-with test,
        // and `**` inside a name needs a `/` or nothing there.
        ("**foo", "xfoo", true),
        ("**foo", "a/bfoo", true),
        ("a**b", "ab", true),
        ("a**b", "a/x/b", true),
        ("a**b", "axb", false),
        ("foo**", "foobar/x", true),
        // Leading and trailing `/`, `.` and `..` cleaned away.
        ("/foo", "foo", true),
        ("/foo", "a/foo", false),
        ("foo/", "foo", true),
        ("foo/", "foo/bar", true),
        ("./foo", "foo", true),
        ("foo/../bar", "bar", true),
        ("foo/../bar", "foo/bar", false),
        ("a/./b//c", "a/b/c", true),
        ("../foo", "foo", false),
        ("/../foo", "foo", true),
        (".", "foo", false),
        ("/", "foo", false),
        // The path is cleaned too; the root is never excluded.
        ("foo", "./foo", true),
        ("foo", "foo/", true),
        ("foo", "/foo", true),
        ("*", ".", false),
        ("*", "", false),
        // Comments, blank lines, BOM, CRLF.
        ("# comment\nfoo", "# comment", false),
        ("# comment\nfoo", "foo", true),
        ("  # not a comment", "# not a comment", true),
        ("\n\n   \n\tfoo\t\n", "foo", true),
        ("\u{feff}foo", "foo", true),
        ("foo\r\nbar\r\n", "foo", true),
        ("foo\r\nbar\r\n", "bar", true),
        // Exceptions: the last match wins.
        ("*.go\n!main.go", "main.go", false),
        ("*.go\n!main.go", "x.go", true),
        ("!main.go\n*.go", "main.go", true),
        (
            "*.md\n!README*.md\nREADME-secret.md",
            "README-secret.md",
            true,
        ),
        ("*.md\n!README*.md\nREADME-secret.md", "README.md", false),
        ("*\n!keep", "keep", false),
        ("*\n!keep", "other", true),
        ("*\n! keep", "keep", false),
        ("!keep\n*", "keep", true),
        ("!!bang", "!bang", false),
        // Exceptions inside excluded directories.
        ("docs\n!docs/keep", "docs/keep", false),
        ("docs\n!docs/keep", "docs/keep/sub", false),
        ("docs\n!docs/keep", "docs/other", true),
        ("docs\n!docs/keep", "docs", true),
        (
            "docs\n!docs/keep\ndocs/keep/secret",
            "docs/keep/secret/x",
            true,
        ),
        ("**\n!src/**", "src/a", false),
        ("**\n!src/**", "src", true),
        ("a\n!a/b\na", "a/b/c", true),
        // `*` and `?` stop at `/`, and see dot files.
        ("*", "a/b", true),
        ("*", ".hidden", true),
        ("foo*", "foo/bar", true),
        ("?", "a", true),
        ("?", "ab", false),
        ("a?c", "abc", true),
        ("a?c", "a/c", false),
        ("?", "é", true),
        // Character classes (they may match `/`, as moby's regexp does).
        ("[a-c]at", "bat", true),
        ("[a-c]at", "dat", false),
        ("[^a]at", "bat", true),
        ("[^a]at", "aat", false),
        ("[!a]at", "!at", true),
        ("[!a]at", "bat", false),
        ("[a-z][0-9]", "x7", true),
        ("[a-z][0-9]", "xy", false),
        ("a[/]b", "a/b", true),
        ("[\\]]", "]", true),
        ("[a\\-z]", "-", true),
        ("[a\\-z]", "b", false),
        ("[[]", "[", true),
        // Escapes.
        ("\\*", "*", true),
        ("\\*", "a", false),
        ("\\[x\\]", "[x]", true),
        ("foo\\?", "foo?", true),
        ("foo\\?", "fooa", false),
        ("a\\\\b", "a\\b", true),
        // Regexp characters are literal.
        ("a.b", "a.b", true),
        ("a.b", "axb", false),
        ("$x(y)+", "$x(y)+", true),
        ("{a,b}", "a", false),
        ("{a,b}", "{a,b}", true),
        ("x]", "x]", true),
        // moby's regexp: `^` is an anchor, `\d` a digit (but only where the
        // pattern is not plain text, which is compared as it is).
        ("^foo", "^foo", true),
        ("^foo*", "foobar", true),
        ("^foo*", "^foobar", false),
        ("a^b*", "a^b", false),
        ("**/^x*", "x1", true),
        ("**/^x*", "a/x1", false),
        ("v\\d", "v7", true),
        ("v\\d", "vd", false),
        ("v\\D", "v-", true),
        ("\\w\\s\\W", "a -", true),
        ("v\\D", "v1", false),
        ("tab\\t", "tab\t", true),
        ("\\#x", "#x", true),
        ("a\\ b", "a b", true),
        ("[\\t]", "\t", true),
        // Spaces.
        ("my file.txt", "my file.txt", true),
        ("  spaced  ", "spaced", true),
        ("a b/*", "a b/c d", true),
    ];

    #[test]
    fn matches_like_docker() {
        let mut failures = Vec::new();
        for &(text, path, want) in CASES {
            let patterns = Patterns::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            if patterns.excluded(path) != want {
                failures.push(format!("{text:?} on {path:?}: want excluded={want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(CASES.len() >= 60);
    }

    /// (.dockerignore text, Docker's error)
    const ERRORS: &[(&str, &str)] = &[
        ("!", "illegal exclusion pattern: \"!\""),
        ("! ", "illegal exclusion pattern: \"!\""),
        ("foo\n!\n", "illegal exclusion pattern: \"!\""),
        ("!/", "illegal exclusion pattern: \"!\""),
        ("[", BAD_PATTERN),
        ("a[", BAD_PATTERN),
        ("[]", BAD_PATTERN),
        ("[]a]", BAD_PATTERN),
        ("[^]", BAD_PATTERN),
        ("[a", BAD_PATTERN),
        ("[a-]", BAD_PATTERN),
        ("[-a]", BAD_PATTERN),
        ("a[-]b", BAD_PATTERN),
        ("[z-a]", BAD_PATTERN),
        ("abc\\", BAD_PATTERN),
        ("[\\", BAD_PATTERN),
        ("x\\y", BAD_PATTERN),
        ("\\q", BAD_PATTERN),
        ("\\9", BAD_PATTERN),
        ("\\é", BAD_PATTERN),
        ("[\\q]", BAD_PATTERN),
        ("[\\b]", BAD_PATTERN),
        ("!x[", BAD_PATTERN),
        ("ok\n[\nalso-ok", BAD_PATTERN),
    ];

    #[test]
    fn refuses_bad_patterns_with_dockers_messages() {
        for &(text, message) in ERRORS {
            match Patterns::parse(text) {
                Ok(p) => panic!("{text:?} parsed: {p:?}"),
                Err(e) => {
                    assert_eq!(e.message, message, "{text:?}");
                    assert_eq!(e.kind, base::ErrorKind::InvalidArgument);
                }
            }
        }
    }

    #[test]
    fn reads_lines_like_ignorefile() {
        // moby's ignorefile test input.
        let text = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
        assert_eq!(
            read_lines(text),
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "!inverted/abs/path",
                "!",
                "!"
            ]
        );
    }

    #[test]
    fn cleans_like_go() {
        for (path, want) in [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("a/b/", "a/b"),
            ("a//b/./c/..", "a/b"),
            ("../../a", "../../a"),
            ("/../a", "/a"),
            ("a/../..", ".."),
            ("!/", "!"),
        ] {
            assert_eq!(clean(path), want, "{path:?}");
        }
    }

    /// (.dockerignore text, excluded directory, must the walker descend?)
    const WALK_INTO: &[(&str, &str, bool)] = &[
        ("docs\n!docs/keep", "docs", true),
        ("docs", "docs", false),
        ("a\n!a/b/c", "a", true),
        ("a\n!a/b/c", "a/b", true),
        ("a\n!a/b/c", "a/x", false),
        ("a\n!a", "a", true),
        ("a\n!ab", "a", false),
        ("a\n!a/*.txt", "a", true),
        // Docker compares the text: a wildcard in front never reaches in.
        ("docs\n!*/keep", "docs", false),
        ("docs\n!**/keep", "docs", false),
    ];

    #[test]
    fn walks_into_excluded_dirs_only_for_exceptions_inside() {
        for &(text, dir, want) in WALK_INTO {
            let patterns = Patterns::parse(text).unwrap();
            assert_eq!(patterns.needs_walk_into(dir), want, "{text:?} {dir:?}");
        }
    }

    #[test]
    fn walk_threads_parent_results_like_the_cli() {
        let patterns = Patterns::parse("a\n!a/b\na").unwrap();
        let (a, info_a) = patterns.walk_excluded("a", &DirMatch::default());
        assert!(a);
        let (ab, info_ab) = patterns.walk_excluded("a/b", &info_a);
        assert!(!ab);
        // moby skipped the last `a` at `a`, so its parent result is false.
        let (abc, _) = patterns.walk_excluded("a/b/c", &info_ab);
        assert!(!abc);
        assert!(patterns.excluded("a/b/c"));

        let patterns = Patterns::parse("docs\n!docs/keep").unwrap();
        let (docs, info) = patterns.walk_excluded("docs", &DirMatch::default());
        assert!(docs);
        assert!(patterns.walk_excluded("docs/other", &info).0);
        let (keep, info) = patterns.walk_excluded("docs/keep", &info);
        assert!(!keep);
        assert!(!patterns.walk_excluded("docs/keep/x", &info).0);
    }

    #[test]
    fn build_files_are_always_sent() {
        let mut patterns = Patterns::parse("*").unwrap();
        patterns.keep_build_files("Dockerfile", false);
        assert!(!patterns.excluded("Dockerfile"));
        assert!(!patterns.excluded(".dockerignore"));
        assert!(patterns.excluded("other"));

        let mut patterns = Patterns::parse("*").unwrap();
        patterns.keep_build_files("Dockerfile", true);
        assert!(patterns.excluded("Dockerfile"));
        assert!(!patterns.excluded(".dockerignore"));

        let mut patterns = Patterns::parse("sub").unwrap();
        patterns.keep_build_files("sub/Dockerfile", false);
        assert!(!patterns.excluded("sub/Dockerfile"));
        assert!(patterns.excluded("sub/x"));
        assert!(patterns.needs_walk_into("sub"));

        let mut patterns = Patterns::parse("*.md").unwrap();
        patterns.keep_build_files("Dockerfile", false);
        assert!(!patterns.has_exceptions());

        let mut patterns = Patterns::parse("df[1]").unwrap();
        patterns.keep_build_files("df[1]", false);
        assert!(!patterns.excluded("df[1]"));
    }

    #[test]
    fn daemon_removes_excluded_build_files() {
        let all = Patterns::parse("*").unwrap();
        assert_eq!(
            all.removed_after_read("Dockerfile"),
            [".dockerignore", "Dockerfile"]
        );
        let docs = Patterns::parse("*.md\n.dockerignore").unwrap();
        assert_eq!(docs.removed_after_read("Dockerfile"), [".dockerignore"]);
        assert!(Patterns::parse("")
            .unwrap()
            .removed_after_read("x")
            .is_empty());
    }
}
