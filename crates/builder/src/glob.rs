//! Go's `filepath.Match`, which COPY and ADD use for wildcard sources: `*`
//! is any run of characters but `/`, `?` one character but `/`, `[a-z]`
//! and `[^a-z]` classes, `\x` escapes `x`. A malformed pattern is an error
//! (Go's `ErrBadPattern`), as it is for dockerd.

/// Go's `filepath.ErrBadPattern` text.
pub const BAD_PATTERN: &str = "syntax error in pattern";

/// Whether `pattern` has any wildcard (`filepath.Match` would do more than
/// compare): dockerd's `containsWildcards`.
pub fn has_wildcards(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// `filepath.Match(pattern, name)`.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, &'static str> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Go checks the whole pattern's syntax even when the name decides early.
    validate(&p)?;
    Ok(match_at(&p, &n))
}

fn validate(p: &[char]) -> Result<(), &'static str> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BAD_PATTERN);
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(p, i, '\0').ok_or(BAD_PATTERN)?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Matches the class at `p[i] == '['` against `c`; returns whether it
/// matched and the index after the class, or None if malformed.
fn class(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
    i += 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
            if hi < lo {
                return None;
            }
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Some((matched != negated, i))
}

fn class_char(p: &[char], i: usize) -> Option<(char, usize)> {
    match *p.get(i)? {
        '-' | ']' => None,
        '\\' => Some((*p.get(i + 1)?, i + 2)),
        c => Some((c, i + 1)),
    }
}

fn match_at(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    // The last `*` and where the name stood then, to backtrack to.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() && n[ni] != '/' => {
                    if let Some((true, next)) = class(p, pi, n[ni]) {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if ni < n.len() && p.get(pi + 1) == Some(&n[ni]) => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                c if !matches!(c, '*' | '?' | '[' | '\\') && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return true;
        }
        // A mismatch: let the last `*` take one more character (never `/`).
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, name, matches), from Go's `filepath` match tests.
    const CASES: &[(&str, &str, Result<bool, &str>)] = &[
        ("abc", "abc", Ok(true)),
        ("*", "abc", Ok(true)),
        ("*c", "abc", Ok(true)),
        ("a*", "a", Ok(true)),
        ("a*", "abc", Ok(true)),
        ("a*", "ab/c", Ok(false)),
        ("a*/b", "abc/b", Ok(true)),
        ("a*/b", "a/c/b", Ok(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
        ("ab[c]", "abc", Ok(true)),
        ("ab[b-d]", "abc", Ok(true)),
        ("ab[e-g]", "abc", Ok(false)),
        ("ab[^c]", "abc", Ok(false)),
        ("ab[^b-d]", "abc", Ok(false)),
        ("ab[^e-g]", "abc", Ok(true)),
        ("a\\*b", "a*b", Ok(true)),
        ("a\\*b", "ab", Ok(false)),
        ("a?b", "a☺b", Ok(true)),
        ("a[^a]b", "a☺b", Ok(true)),
        ("a???b", "a☺b", Ok(false)),
        ("[a-ζ]*", "α", Ok(true)),
        ("*[a-ζ]", "A", Ok(false)),
        ("a?b", "a/b", Ok(false)),
        ("a*b", "a/b", Ok(false)),
        ("[\\]a]", "]", Ok(true)),
        ("[\\-]", "-", Ok(true)),
        ("[x\\-]", "x", Ok(true)),
        ("[x\\-]", "-", Ok(true)),
        ("[x\\-]", "z", Ok(false)),
        ("[\\-x]", "a", Ok(false)),
        ("[]a]", "]", Err(BAD_PATTERN)),
        ("[-]", "-", Err(BAD_PATTERN)),
        ("[x-]", "x", Err(BAD_PATTERN)),
        ("[a-b-c]", "a", Err(BAD_PATTERN)),
        ("[", "a", Err(BAD_PATTERN)),
        ("[^", "a", Err(BAD_PATTERN)),
        ("[^bc", "a", Err(BAD_PATTERN)),
        ("a[", "a", Err(BAD_PATTERN)),
        ("a[", "ab", Err(BAD_PATTERN)),
        ("*x", "xxx", Ok(true)),
        ("dir/*.txt", "dir/a.txt", Ok(true)),
        ("dir/*.txt", "dir/sub/a.txt", Ok(false)),
    ];

    #[test]
    fn matches_like_go() {
        for (p, n, want) in CASES {
            assert_eq!(path_match(p, n), *want, "Match({p:?}, {n:?})");
        }
    }

    #[test]
    fn finds_wildcards() {
        assert!(has_wildcards("*.txt"));
        assert!(has_wildcards("a?"));
        assert!(has_wildcards("[ab]"));
        assert!(!has_wildcards("plain/file"));
        assert!(!has_wildcards("a\\*b"));
    }
}
