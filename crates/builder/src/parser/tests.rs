//! Parser tests as data: each case is a Dockerfile and the instructions it
//! gives (one line per instruction, `line: rendering`) or the error.

use std::collections::BTreeMap;

use super::lex::{Lex, NoEnv};
use super::*;

fn render(i: &Instruction) -> String {
    let cmdline = |c: &CommandLine| match c {
        CommandLine::Shell(s) => format!("shell {s:?}"),
        CommandLine::Exec(v) => format!("exec {v:?}"),
    };
    let kvs = |v: &[KeyValue]| {
        v.iter()
            .map(|kv| format!("{}=[{}]", kv.key, kv.value))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let opt = |name: &str, v: &Option<String>| {
        v.as_ref()
            .map(|v| format!(" {name}={v}"))
            .unwrap_or_default()
    };
    let paths = |p: &SourcesAndDest| {
        let mut s = format!("{:?} -> {}", p.sources, p.dest);
        for i in &p.inline {
            s += &format!(
                " inline {}({}){:?}",
                i.path,
                if i.expand { "expand" } else { "raw" },
                i.data
            );
        }
        s
    };
    match i {
        Instruction::From(f) => format!(
            "FROM {}{}{}",
            f.image,
            f.name.as_ref().map(|n| format!(" AS {n}")).unwrap_or_default(),
            opt("platform", &f.platform)
        ),
        Instruction::Run(r) => {
            let mut s = format!("RUN {}", cmdline(&r.command));
            for m in &r.mounts {
                s += &format!(" mount={m}");
            }
            s += &opt("network", &r.network);
            s += &opt("security", &r.security);
            for h in &r.heredocs {
                s += &format!(
                    " <<{}({}{}){:?}",
                    h.name,
                    if h.expand { "expand" } else { "raw" },
                    if h.chomp { ",chomp" } else { "" },
                    h.text()
                );
            }
            s
        }
        Instruction::Cmd(c) => format!("CMD {}", cmdline(c)),
        Instruction::Entrypoint(c) => format!("ENTRYPOINT {}", cmdline(c)),
        Instruction::Label(v) => format!("LABEL {}", kvs(v)),
        Instruction::Env(v) => format!("ENV {}", kvs(v)),
        Instruction::Maintainer(m) => format!("MAINTAINER {m}"),
        Instruction::Expose(p) => format!("EXPOSE {p:?}"),
        Instruction::Volume(v) => format!("VOLUME {v:?}"),
        Instruction::User(u) => format!("USER {u}"),
        Instruction::Workdir(w) => format!("WORKDIR {w}"),
        Instruction::StopSignal(s) => format!("STOPSIGNAL {s}"),
        Instruction::Shell(s) => format!("SHELL {s:?}"),
        Instruction::Arg(a) => format!(
            "ARG {}",
            a.iter()
                .map(|d| match &d.default {
                    Some(v) => format!("{}=[{v}]", d.name),
                    None => d.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Instruction::Onbuild(o) => format!("ONBUILD {:?} => {}", o.expression, render(&o.instruction)),
        Instruction::Healthcheck(Healthcheck::None) => "HEALTHCHECK NONE".into(),
        Instruction::Healthcheck(Healthcheck::Cmd {
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }) => format!("HEALTHCHECK {test:?} {interval:?} {timeout:?} {start_period:?} {start_interval:?} {retries:?}"),
        Instruction::Copy(c) => format!(
            "COPY {}{}{}{}{}{}{}",
            paths(&c.paths),
            opt("from", &c.from),
            opt("chown", &c.chown),
            opt("chmod", &c.chmod),
            if c.link { " link" } else { "" },
            if c.parents { " parents" } else { "" },
            c.exclude.iter().map(|e| format!(" exclude={e}")).collect::<String>()
        ),
        Instruction::Add(a) => format!(
            "ADD {}{}{}{}{}{}{}",
            paths(&a.paths),
            opt("chown", &a.chown),
            opt("chmod", &a.chmod),
            opt("checksum", &a.checksum),
            if a.link { " link" } else { "" },
            a.keep_git_dir.map(|k| format!(" keep-git-dir={k}")).unwrap_or_default(),
            a.exclude.iter().map(|e| format!(" exclude={e}")).collect::<String>()
        ),
    }
}

fn dump(text: &str) -> Result<Vec<String>, String> {
    let file = parse(text).map_err(|e| format!("{}: {e}", e.start_line))?;
    Ok(file
        .statements()
        .map(|s| format!("{}: {}", s.start_line, render(&s.instruction)))
        .collect())
}

/// (name, Dockerfile, expected instructions or `!<line>: <error>`).
const CASES: &[(&str, &str, &[&str])] = &[
    ("simple", "FROM busybox\nRUN echo hi\nCMD [\"sh\"]\n", &[
        "1: FROM busybox", "2: RUN shell \"echo hi\"", "3: CMD exec [\"sh\"]",
    ]),
    ("names are case-insensitive", "from busybox AS Build\nrUn true\n", &[
        "1: FROM busybox AS build", "2: RUN shell \"true\"",
    ]),
    ("escape directive: backtick and windows paths", "# escape=`\nFROM windows\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n  /w\n", &[
        "2: FROM windows", "3: COPY [\"testfile.txt\"] -> c:\\", "4: RUN shell \"dir c:\\\\   /w\"",
    ]),
    ("escape directive with spaces and upper case", "  #  ESCAPE = `\nFROM a\nRUN a `\n b\n", &[
        "2: FROM a", "3: RUN shell \"a  b\"",
    ]),
    ("a directive after a comment is a comment", "# hello\n# escape=`\nFROM a\nRUN a \\\n b\n", &[
        "3: FROM a", "4: RUN shell \"a  b\"",
    ]),
    ("a directive after an empty line is a comment", "\n# escape=`\nFROM a\nRUN a `\n", &[
        "3: FROM a", "4: RUN shell \"a `\"",
    ]),
    ("a directive after an instruction is a comment", "FROM a\n# escape=`\nRUN a \\\n b\n", &[
        "1: FROM a", "3: RUN shell \"a  b\"",
    ]),
    ("syntax and check directives", "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n", &["3: FROM a"]),
    ("unknown directive ends directives", "# foo=bar\n# escape=`\nFROM a\n", &["3: FROM a"]),
    ("duplicate directive", "# escape=`\n# escape=\\\nFROM a\n", &["!2: only one escape parser directive can be used"]),
    ("invalid escape token", "# escape=x\nFROM a\n", &["!1: invalid escape token 'x' does not match ` or \\"]),
    ("continuation with comments and empty lines", "FROM a\nRUN apt-get update && \\\n# a comment\n    apt-get install -y x \\\n\n    && true\nCMD x\n", &[
        "1: FROM a", "2: RUN shell \"apt-get update &&     apt-get install -y x     && true\"", "7: CMD shell \"x\"",
    ]),
    ("continuation at end of file", "FROM a\nRUN echo \\", &["1: FROM a", "2: RUN shell \"echo\""]),
    ("escaped escape at end of line does not continue", "FROM a\nRUN echo \\\\\nCMD x\n", &[
        "1: FROM a", "2: RUN shell \"echo \\\\\\\\\"", "3: CMD shell \"x\"",
    ]),
    ("CRLF and BOM", "\u{feff}FROM a\r\nRUN b \\\r\n c\r\n", &["1: FROM a", "2: RUN shell \"b  c\""]),
    ("exec form", "FROM a\nRUN [\"echo\", \"a b\"]\nENTRYPOINT [\"/bin/sh\", \"-c\"]\n", &[
        "1: FROM a", "2: RUN exec [\"echo\", \"a b\"]", "3: ENTRYPOINT exec [\"/bin/sh\", \"-c\"]",
    ]),
    ("invalid JSON falls back to shell form", "FROM a\nCMD [\"echo\", 'x']\nRUN [echo]\nCMD [\"a\"] b\n", &[
        "1: FROM a", "2: CMD shell \"[\\\"echo\\\", 'x']\"", "3: RUN shell \"[echo]\"", "4: CMD shell \"[\\\"a\\\"] b\"",
    ]),
    ("JSON of non-strings is an error", "FROM a\nCMD [\"a\", 1]\n", &["!2: when using JSON array syntax, arrays must be comprised of strings only"]),
    ("empty JSON", "FROM a\nENTRYPOINT []\n", &["1: FROM a", "2: ENTRYPOINT exec []"]),
    ("SHELL", "FROM a\nSHELL [\"powershell\", \"-command\"]\n", &["1: FROM a", "2: SHELL [\"powershell\", \"-command\"]"]),
    ("SHELL needs JSON", "FROM a\nSHELL powershell -command\n", &["!2: dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"]),
    ("heredoc", "FROM a\nRUN <<EOF\necho $HOME\n\tls\nEOF\nCMD x\n", &[
        "1: FROM a", "2: RUN shell \"<<EOF\" <<EOF(expand)\"echo $HOME\\n\\tls\\n\"", "6: CMD shell \"x\"",
    ]),
    ("heredoc with tabs stripped", "FROM a\nRUN <<-EOT bash\n\techo a\n\t\techo b\n\tEOT\n", &[
        "1: FROM a", "2: RUN shell \"<<-EOT bash\" <<EOT(expand,chomp)\"echo a\\necho b\\n\"",
    ]),
    ("quoted heredoc delimiters do not expand", "FROM a\nRUN <<\"EOF\"\n$x\nEOF\nRUN <<'E2'\n$y\nE2\n", &[
        "1: FROM a", "2: RUN shell \"<<\\\"EOF\\\"\" <<EOF(raw)\"$x\\n\"", "5: RUN shell \"<<'E2'\" <<E2(raw)\"$y\\n\"",
    ]),
    ("several heredocs on one line", "FROM a\nCOPY <<one <<-two /dst/\n1\none\n\t2\ntwo\nRUN x\n", &[
        "1: FROM a", "2: COPY [] -> /dst/ inline one(expand)\"1\\n\" inline two(expand)\"2\\n\"", "7: RUN shell \"x\"",
    ]),
    ("heredoc with a file descriptor and a command", "FROM a\nRUN python3 3<<EOF > out\nprint(1)\nEOF\n", &[
        "1: FROM a", "2: RUN shell \"python3 3<<EOF > out\" <<EOF(expand)\"print(1)\\n\"",
    ]),
    ("heredoc markers in JSON form are not heredocs", "FROM a\nRUN [\"cat\", \"<<EOF\"]\nCMD x\n", &[
        "1: FROM a", "2: RUN exec [\"cat\", \"<<EOF\"]", "3: CMD shell \"x\"",
    ]),
    ("heredocs only for RUN, COPY, ADD", "FROM a\nCMD cat <<EOF\nENV a=b\n", &[
        "1: FROM a", "2: CMD shell \"cat <<EOF\"", "3: ENV a=[b]",
    ]),
    ("unterminated heredoc", "FROM a\nRUN <<EOF\necho\n", &["!2: unterminated heredoc"]),
    ("heredoc as destination", "FROM a\nCOPY x <<EOF\nEOF\n", &["!2: dockerfile parse error line 2: COPY cannot accept a heredoc as a destination"]),
    ("ARG several per line, with and without defaults", "ARG A=1 B C=\"x y\"\nFROM a\nARG D=\n", &[
        "1: ARG A=[1] B C=[\"x y\"]", "2: FROM a", "3: ARG D=[]",
    ]),
    ("ARG blank name", "FROM a\nARG =x\n", &["!2: dockerfile parse error line 2: ARG names can not be blank"]),
    ("ENV legacy form keeps the rest of the line", "FROM a\nENV PATH /usr/bin:$PATH  and more\n", &[
        "1: FROM a", "2: ENV PATH=[/usr/bin:$PATH  and more]",
    ]),
    ("ENV key=value pairs, quoted", "FROM a\nENV a=1 b=\"x y\" c=x\\ y d=\n", &[
        "1: FROM a", "2: ENV a=[1] b=[\"x y\"] c=[x\\ y] d=[]",
    ]),
    ("ENV blank name", "FROM a\nENV =x\n", &["!2: dockerfile parse error line 2: ENV names can not be blank"]),
    ("ENV one word", "FROM a\nENV x\n", &["!2: ENV must have two arguments"]),
    ("ENV mixed forms", "FROM a\nENV a=1 b\n", &["!2: Syntax error - can't find = in \"b\". Must be of the form: name=value"]),
    ("ENV without arguments", "FROM a\nENV\n", &["!2: dockerfile parse error line 2: ENV requires at least one argument"]),
    ("LABEL with quotes", "FROM a\nLABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 description='a b'\n", &[
        "1: FROM a", "2: LABEL \"com.example.vendor\"=[\"ACME Inc\"] version=[1.0] description=['a b']",
    ]),
    ("HEALTHCHECK CMD with options", "FROM a\nHEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1\n", &[
        "1: FROM a",
        "2: HEALTHCHECK [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"] Some(300s) Some(3s) Some(90s) Some(500ms) Some(3)",
    ]),
    ("HEALTHCHECK exec form and NONE", "FROM a\nHEALTHCHECK cmd [\"true\"]\nHEALTHCHECK NONE\n", &[
        "1: FROM a", "2: HEALTHCHECK [\"CMD\", \"true\"] None None None None None", "3: HEALTHCHECK NONE",
    ]),
    ("HEALTHCHECK NONE with arguments", "FROM a\nHEALTHCHECK NONE x\n", &["!2: dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments"]),
    ("HEALTHCHECK unknown type", "FROM a\nHEALTHCHECK TEST x\n", &["!2: dockerfile parse error line 2: Unknown type \"TEST\" in HEALTHCHECK (try CMD)"]),
    ("HEALTHCHECK CMD without a command", "FROM a\nHEALTHCHECK CMD\n", &["!2: dockerfile parse error line 2: Missing command after HEALTHCHECK CMD"]),
    ("HEALTHCHECK bad duration", "FROM a\nHEALTHCHECK --interval=5 CMD x\n", &["!2: dockerfile parse error line 2: time: missing unit in duration \"5\""]),
    ("HEALTHCHECK retries", "FROM a\nHEALTHCHECK --retries=0 CMD x\n", &["!2: dockerfile parse error line 2: --retries must be at least 1 (not 0)"]),
    ("ONBUILD", "FROM a\nONBUILD RUN echo hi\nonbuild ADD . /app/src\n", &[
        "1: FROM a", "2: ONBUILD \"RUN echo hi\" => RUN shell \"echo hi\"", "3: ONBUILD \"ADD . /app/src\" => ADD [\".\"] -> /app/src",
    ]),
    ("ONBUILD ONBUILD", "FROM a\nONBUILD ONBUILD RUN x\n", &["!2: dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"]),
    ("ONBUILD FROM", "FROM a\nONBUILD from b\n", &["!2: dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"]),
    ("ONBUILD MAINTAINER", "FROM a\nONBUILD MAINTAINER me\n", &["!2: dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger"]),
    ("unknown instruction", "FROM a\n\nfoo bar\n", &["!3: dockerfile parse error line 3: unknown instruction: FOO"]),
    ("missing FROM", "# c\nARG x\nRUN echo\n", &["!3: no build stage in current context"]),
    ("only comments", "# just a comment\n\n", &["!2: file with no instructions"]),
    ("unknown flag", "FROM a\nCOPY --foo=bar a b\n", &["!2: dockerfile parse error line 2: Unknown flag: foo"]),
    ("duplicate flag", "FROM a\nCOPY --from=a --from=b x y\n", &["!2: dockerfile parse error line 2: Duplicate flag specified: from"]),
    ("flag without value", "FROM a\nCOPY --chown x y\n", &["!2: dockerfile parse error line 2: Missing a value on flag: chown"]),
    ("bad boolean flag", "FROM a\nCOPY --link=maybe x y\n", &["!2: dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe"]),
    ("FROM arity", "FROM a b\n", &["!1: dockerfile parse error line 1: FROM requires either one or three arguments"]),
    ("FROM stage name", "FROM a AS 1abc\n", &["!1: dockerfile parse error line 1: invalid name for build stage: \"1abc\", name can't start with a number or contain symbols"]),
    ("FROM platform", "ARG P=linux/arm64\nFROM --platform=$P alpine:3 as Base\n", &[
        "1: ARG P=[linux/arm64]", "2: FROM alpine:3 AS base platform=$P",
    ]),
    ("COPY with every flag", "FROM a\nCOPY --from=build --chown=1:1 --chmod=644 --link --parents --exclude=*.md --exclude=.git src/ \"my dir\" /dst/\n", &[
        "1: FROM a", "2: COPY [\"src/\", \"\\\"my\", \"dir\\\"\"] -> /dst/ from=build chown=1:1 chmod=644 link parents exclude=*.md exclude=.git",
    ]),
    ("COPY JSON form", "FROM a\nCOPY [\"a b\", \"c\", \"/d/\"]\n", &["1: FROM a", "2: COPY [\"a b\", \"c\"] -> /d/"]),
    ("ADD flags", "FROM a\nADD --checksum=sha256:abc --keep-git-dir --chown=u https://x/y.tar.gz /\n", &[
        "1: FROM a", "2: ADD [\"https://x/y.tar.gz\"] -> / chown=u checksum=sha256:abc keep-git-dir=true",
    ]),
    ("COPY needs a destination", "FROM a\nCOPY x\n", &["!2: dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined."]),
    ("flags end at --", "FROM a\nCOPY -- --weird /d\n", &["1: FROM a", "2: COPY [\"--weird\"] -> /d"]),
    ("quoted flag values", "FROM a\nCOPY --chown=\"a b\" x y\n", &["1: FROM a", "2: COPY [\"x\"] -> y chown=a b"]),
    ("RUN flags are kept", "FROM a\nRUN --mount=type=cache,target=/root/.cache --network=none --security=insecure make\n", &[
        "1: FROM a", "2: RUN shell \"make\" mount=type=cache,target=/root/.cache network=none security=insecure",
    ]),
    ("RUN bad network", "FROM a\nRUN --network=bridge x\n", &["!2: dockerfile parse error line 2: invalid network mode \"bridge\""]),
    ("EXPOSE is sorted", "FROM a\nEXPOSE 8080/udp 80 443\n", &["1: FROM a", "2: EXPOSE [\"443\", \"80\", \"8080/udp\"]"]),
    ("VOLUME forms", "FROM a\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /a /b\n", &[
        "1: FROM a", "2: VOLUME [\"/data\", \"/logs\"]", "3: VOLUME [\"/a\", \"/b\"]",
    ]),
    ("VOLUME empty string", "FROM a\nVOLUME [\"\"]\n", &["!2: dockerfile parse error line 2: VOLUME specified can not be an empty string"]),
    ("single-string instructions", "FROM a\nMAINTAINER Jane <j@x>\nUSER app:app\nWORKDIR /my dir\nSTOPSIGNAL SIGKILL\n", &[
        "1: FROM a", "2: MAINTAINER Jane <j@x>", "3: USER app:app", "4: WORKDIR /my dir", "5: STOPSIGNAL SIGKILL",
    ]),
    ("USER needs an argument", "FROM a\nUSER\n", &["!2: dockerfile parse error line 2: USER requires exactly one argument"]),
    ("EXPOSE needs an argument", "FROM a\nEXPOSE\n", &["!2: dockerfile parse error line 2: EXPOSE requires at least one argument"]),
    ("error lines count continuation lines", "FROM a\nRUN a \\\n  b\nBAD \\\n  x\n", &["!4: dockerfile parse error line 4: unknown instruction: BAD"]),
];

#[test]
fn parser_cases() {
    let mut failures = Vec::new();
    for (name, input, expected) in CASES {
        let got = match dump(input) {
            Ok(lines) => lines,
            Err(e) => vec![format!("!{e}")],
        };
        if got != *expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  got      {got:#?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// (word, environment, expected single word or `!error`).
type LexCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const LEX_CASES: &[LexCase] = &[
    ("$A", &[("A", "x")], "x"),
    ("${A}b", &[("A", "x")], "xb"),
    ("$Ab", &[("A", "x")], ""),
    ("${A:-def}", &[], "def"),
    ("${A:-def}", &[("A", "")], "def"),
    ("${A-def}", &[("A", "")], ""),
    ("${A:+alt}", &[("A", "x")], "alt"),
    ("${A:+alt}", &[("A", "")], ""),
    ("${A+alt}", &[("A", "")], "alt"),
    ("${A:?must be set}", &[], "!failed to process \"${A:?must be set}\": A: must be set"),
    ("${A?}", &[], "!failed to process \"${A?}\": A: is not allowed to be unset"),
    ("${A:?}", &[("A", "")], "!failed to process \"${A:?}\": A: is not allowed to be empty"),
    ("'$A'", &[("A", "x")], "$A"),
    ("\"$A and 'q'\"", &[("A", "x")], "x and 'q'"),
    ("\\$A", &[("A", "x")], "$A"),
    // Inside double quotes only `"`, `$` and the escape token can be escaped.
    ("\"a\\\"b\\c\"", &[], "a\"b\\c"),
    ("${A", &[], "!failed to process \"${A\": syntax error: missing '}'"),
    ("${}", &[], "!failed to process \"${}\": syntax error: bad substitution"),
    ("\"abc", &[], "!failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote"),
    ("'abc", &[], "!failed to process \"'abc\": unexpected end of statement while looking for matching single-quote"),
    ("${A:-${B}x}", &[("B", "b")], "bx"),
    ("${A#*/}", &[("A", "a/b/c")], "b/c"),
    ("${A##*/}", &[("A", "a/b/c")], "c"),
    ("${A%/*}", &[("A", "a/b/c")], "a/b"),
    ("${A%%/*}", &[("A", "a/b/c")], "a"),
    ("${A/b/X}", &[("A", "abcb")], "aXcb"),
    ("${A//b/X}", &[("A", "abcb")], "aXcX"),
    ("$1 $@ $", &[], "  $"),
];

#[test]
fn lex_cases() {
    let lex = Lex::new('\\');
    let mut failures = Vec::new();
    for (word, env, expected) in LEX_CASES {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = match lex.process_word(word, &env) {
            Ok(s) => s,
            Err(e) => format!("!{e}"),
        };
        if got != *expected {
            failures.push(format!("{word:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lex_word_splitting() {
    let lex = Lex::new('\\');
    let env = vec![("P".to_string(), "80 443".to_string())];
    assert_eq!(
        lex.process_words("$P 8080", &env).unwrap(),
        ["80", "443", "8080"]
    );
    assert_eq!(
        lex.process_words("\"$P\" 'a b' c\\ d", &env).unwrap(),
        ["80 443", "a b", "c d"]
    );
    // The escape token of the Dockerfile is used.
    let tick = Lex::new('`');
    assert_eq!(
        tick.process_word("c:\\dir `$x", &NoEnv).unwrap(),
        "c:\\dir $x"
    );
}

#[test]
fn expansion_per_instruction() {
    let file = parse("FROM a\nENV A=1 B=\"x y\"\nLABEL \"k\"='v $A' m=\"$A\"\nEXPOSE $P\nCOPY $S /d/$A\nCMD echo $A\n").unwrap();
    let env = vec![
        ("A".to_string(), "1".to_string()),
        ("P".to_string(), "80 443/udp".to_string()),
    ];
    let lex = file.lex();
    let got: Vec<String> = file.stages[0]
        .commands
        .iter()
        .map(|s| render(&s.instruction.expand(&lex, &env).unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            "ENV A=[1] B=[x y]",
            "LABEL k=[v $A] m=[1]",
            "EXPOSE [\"80\", \"443/udp\"]",
            "COPY [\"\"] -> /d/1",
            "CMD shell \"echo $A\"",
        ]
    );
    assert!(EXPANDED_INSTRUCTIONS.contains(&"WORKDIR") && !EXPANDED_INSTRUCTIONS.contains(&"CMD"));
}

const MULTI: &str = "ARG BASE=alpine\nARG V\nFROM $BASE AS deps\nRUN x\nFROM golang AS build\nCOPY --from=deps /a /a\nFROM build AS test\nFROM scratch\nARG BASE\nARG V\nCOPY --from=1 /bin /bin\nCOPY --from=nginx:latest /etc/nginx /etc/nginx\n";

#[test]
fn stages_targets_and_dependencies() {
    let file = parse(MULTI).unwrap();
    let none = BTreeMap::new();
    let meta = file.meta_scope(&none).unwrap().meta_visible();
    assert_eq!(file.stages.len(), 4);
    assert_eq!(file.stages[1].name(), Some("build"));
    assert_eq!(file.target_index(None), Ok(3));
    assert_eq!(file.target_index(Some("BUILD")), Ok(1));
    assert_eq!(
        file.target_index(Some("nope")),
        Err("failed to reach build target nope in Dockerfile".into())
    );
    assert_eq!(
        file.dependencies(0, &meta).unwrap(),
        [Dependency::Image("alpine".into())]
    );
    assert_eq!(file.dependencies(2, &meta).unwrap(), [Dependency::Stage(1)]);
    assert_eq!(
        file.dependencies(3, &meta).unwrap(),
        [
            Dependency::Image("scratch".into()),
            Dependency::Stage(1),
            Dependency::Image("nginx:latest".into())
        ]
    );
    assert_eq!(file.needed_stages(3, &meta).unwrap(), [0, 1, 3]);
    assert_eq!(file.needed_stages(0, &meta).unwrap(), [0]);
    assert_eq!(file.check_stage_names(), Ok(()));
    let dup = parse("FROM a AS x\nFROM b AS X\n").unwrap();
    assert_eq!(
        dup.check_stage_names(),
        Err("x stage name already used".into())
    );
}

#[test]
fn arg_scoping() {
    let file = parse(MULTI).unwrap();
    let mut args = BTreeMap::new();
    // Meta args are visible to FROM lines only.
    let meta = file.meta_scope(&args).unwrap().meta_visible();
    assert_eq!(meta, [("BASE".to_string(), "alpine".to_string())]);
    assert_eq!(file.stage_args(0, &args).unwrap(), []);
    // Redeclared without a default, a meta arg keeps its value; V has none.
    assert_eq!(
        file.stage_args(3, &args).unwrap(),
        [("BASE".to_string(), "alpine".to_string())]
    );
    // Build args override declared names only; proxy args need no ARG.
    args.insert("V".to_string(), "2".to_string());
    args.insert("UNDECLARED".to_string(), "x".to_string());
    args.insert("http_proxy".to_string(), "http://p:3128".to_string());
    let got = file.stage_args(3, &args).unwrap();
    assert_eq!(
        got,
        [
            ("BASE".to_string(), "alpine".to_string()),
            ("V".to_string(), "2".to_string()),
            ("http_proxy".to_string(), "http://p:3128".to_string()),
        ]
    );
    assert_eq!(
        file.stage_args(1, &args).unwrap(),
        [("http_proxy".to_string(), "http://p:3128".to_string())]
    );
    let scope = file.meta_scope(&args).unwrap();
    assert_eq!(scope.unused_build_args(["BASE", "V"]), ["UNDECLARED"]);
    // A meta arg's default can use an earlier one.
    let chained = parse("ARG A=1\nARG B=${A}2\nFROM x$B\n").unwrap();
    let meta = chained.meta_scope(&BTreeMap::new()).unwrap().meta_visible();
    assert_eq!(
        chained.dependencies(0, &meta).unwrap(),
        [Dependency::Image("x12".into())]
    );
}

#[test]
fn parse_one_instruction() {
    let s = parse_instruction("CMD [\"/bin/app\"]").unwrap();
    assert_eq!(render(&s.instruction), "CMD exec [\"/bin/app\"]");
    assert!(parse_instruction("NOPE x")
        .unwrap_err()
        .to_string()
        .contains("unknown instruction: NOPE"));
}

#[test]
fn go_durations() {
    use std::time::Duration;
    assert_eq!(parse_go_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
    assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_go_duration("10us"), Ok(Duration::from_micros(10)));
    assert_eq!(
        parse_go_duration("x"),
        Err("time: invalid duration \"x\"".into())
    );
}
