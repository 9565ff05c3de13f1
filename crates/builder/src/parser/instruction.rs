//! Typed instructions made from line nodes (BuildKit's `instructions`
//! package), with the legacy builder's error wording, and their variable
//! expansion.

use std::time::Duration;

use super::lex::{EnvLookup, Lex, LexError};
use super::lines::{parse_heredoc, Node};
use super::Heredoc;

/// A command line in shell form (run by the stage's `SHELL`) or exec form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// `RUN echo hi`: the words joined by one space, as written.
    Shell(String),
    /// `RUN ["echo", "hi"]`.
    Exec(Vec<String>),
}

impl CommandLine {
    fn from_node(node: &Node, args: &[String]) -> Self {
        if node.json {
            CommandLine::Exec(args.to_vec())
        } else {
            CommandLine::Shell(args.join(" "))
        }
    }

    /// The words of the command line (one word in shell form).
    pub fn words(&self) -> Vec<String> {
        match self {
            CommandLine::Shell(s) if s.is_empty() => Vec::new(),
            CommandLine::Shell(s) => vec![s.clone()],
            CommandLine::Exec(v) => v.clone(),
        }
    }
}

/// `FROM [--platform=p] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The base: an image reference, a stage name, or `scratch` (unexpanded).
    pub image: String,
    /// The stage name, lowercased.
    pub name: Option<String>,
    /// `--platform` (unexpanded).
    pub platform: Option<String>,
}

/// `RUN` with its flags, kept so the executor can refuse what it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command.
    pub command: CommandLine,
    /// Heredoc bodies that follow the line (`RUN <<EOF`), in order.
    pub heredocs: Vec<Heredoc>,
    /// `--mount` specs as written.
    pub mounts: Vec<String>,
    /// `--network` (`default`, `none` or `host`).
    pub network: Option<String>,
    /// `--security` (`sandbox` or `insecure`).
    pub security: Option<String>,
    /// `--device` specs as written.
    pub devices: Vec<String>,
    /// The flags used, by name, in order (the legacy builder refuses any).
    pub flags_used: Vec<String>,
}

/// A `key=value` pair of ENV or LABEL, unexpanded (quotes still in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// One name of an ARG, with its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// The name.
    pub name: String,
    /// The default value, if one was given (`ARG a=` gives `Some("")`).
    pub default: Option<String>,
}

/// A heredoc used as a COPY/ADD source: a file made from inline content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSource {
    /// The file's name (the heredoc's delimiter).
    pub path: String,
    /// The content (leading tabs already removed for `<<-`).
    pub data: String,
    /// Whether variables in the content are expanded (unquoted delimiter).
    pub expand: bool,
}

/// Sources and destination of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesAndDest {
    /// Source paths, URLs or patterns (unexpanded).
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub inline: Vec<InlineSource>,
    /// The destination (unexpanded).
    pub dest: String,
}

/// `COPY` and its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// What to copy and where.
    pub paths: SourcesAndDest,
    /// `--from=<stage|index|image>`.
    pub from: Option<String>,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
}

/// `ADD` and its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    /// What to add and where.
    pub paths: SourcesAndDest,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--keep-git-dir`, when given.
    pub keep_git_dir: Option<bool>,
    /// `--checksum`.
    pub checksum: Option<String>,
    /// `--unpack`, when given.
    pub unpack: Option<bool>,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disables the base image's check.
    None,
    /// `HEALTHCHECK [options] CMD ...`.
    Cmd {
        /// `["CMD", args...]` (exec form) or `["CMD-SHELL", line]`, as in the image config.
        test: Vec<String>,
        /// `--interval`.
        interval: Option<Duration>,
        /// `--timeout`.
        timeout: Option<Duration>,
        /// `--start-period`.
        start_period: Option<Duration>,
        /// `--start-interval`.
        start_interval: Option<Duration>,
        /// `--retries`.
        retries: Option<u32>,
    },
}

/// `ONBUILD`: the trigger, parsed, and its text as stored in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onbuild {
    /// The trigger as written (what goes into the image's `OnBuild`).
    pub expression: String,
    /// The trigger, parsed.
    pub instruction: Box<Instruction>,
}

/// One Dockerfile instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM`.
    From(From),
    /// `RUN`.
    Run(Run),
    /// `CMD`.
    Cmd(CommandLine),
    /// `LABEL k=v ...`.
    Label(Vec<KeyValue>),
    /// `MAINTAINER` (deprecated; sets the image's author).
    Maintainer(String),
    /// `EXPOSE port[/proto] ...` (sorted, as BuildKit does).
    Expose(Vec<String>),
    /// `ENV k=v ...` or `ENV k v`.
    Env(Vec<KeyValue>),
    /// `ADD`.
    Add(Add),
    /// `COPY`.
    Copy(Copy),
    /// `ENTRYPOINT`.
    Entrypoint(CommandLine),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `USER`.
    User(String),
    /// `WORKDIR`.
    Workdir(String),
    /// `ARG name[=default] ...`.
    Arg(Vec<ArgDecl>),
    /// `ONBUILD`.
    Onbuild(Onbuild),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
    /// `SHELL ["executable", "params"]`.
    Shell(Vec<String>),
}

/// The instructions whose arguments are expanded with the build's variables
/// (BuildKit's `SupportsSingleWordExpansion`, the same in the legacy builder).
/// FROM is expanded with the args declared before the first FROM only; RUN
/// expands only its `--mount` options; CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
/// MAINTAINER and ONBUILD are never expanded.
pub const EXPANDED_INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "COPY",
    "ENV",
    "EXPOSE",
    "FROM",
    "LABEL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

impl Instruction {
    /// The instruction's name in upper case, e.g. `RUN`.
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::From(_) => "FROM",
            Instruction::Run(_) => "RUN",
            Instruction::Cmd(_) => "CMD",
            Instruction::Label(_) => "LABEL",
            Instruction::Maintainer(_) => "MAINTAINER",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::Env(_) => "ENV",
            Instruction::Add(_) => "ADD",
            Instruction::Copy(_) => "COPY",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Volume(_) => "VOLUME",
            Instruction::User(_) => "USER",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::Arg(_) => "ARG",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::StopSignal(_) => "STOPSIGNAL",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Shell(_) => "SHELL",
        }
    }

    /// This instruction with variables expanded from `env` as Docker does
    /// before running it; instructions that are not expanded come back as
    /// they are. For FROM, pass the args declared before the first FROM.
    pub fn expand(&self, lex: &Lex, env: &dyn EnvLookup) -> Result<Instruction, LexError> {
        let word = |s: &str| lex.process_word(s, env);
        let opt = |s: &Option<String>| s.as_deref().map(word).transpose();
        let all = |v: &[String]| v.iter().map(|s| word(s)).collect::<Result<Vec<_>, _>>();
        let pairs = |v: &[KeyValue]| {
            v.iter()
                .map(|kv| {
                    Ok(KeyValue {
                        key: word(&kv.key)?,
                        value: word(&kv.value)?,
                    })
                })
                .collect::<Result<Vec<_>, LexError>>()
        };
        let paths = |p: &SourcesAndDest| -> Result<SourcesAndDest, LexError> {
            Ok(SourcesAndDest {
                sources: all(&p.sources)?,
                inline: p.inline.clone(),
                dest: word(&p.dest)?,
            })
        };
        Ok(match self {
            Instruction::From(f) => Instruction::From(From {
                image: word(&f.image)?,
                name: f.name.clone(),
                platform: opt(&f.platform)?,
            }),
            Instruction::Run(r) => Instruction::Run(Run {
                mounts: all(&r.mounts)?,
                ..r.clone()
            }),
            Instruction::Label(v) => Instruction::Label(pairs(v)?),
            Instruction::Env(v) => Instruction::Env(pairs(v)?),
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(lex.process_words(p, env)?);
                }
                Instruction::Expose(out)
            }
            Instruction::Add(a) => Instruction::Add(Add {
                paths: paths(&a.paths)?,
                chown: opt(&a.chown)?,
                chmod: opt(&a.chmod)?,
                checksum: opt(&a.checksum)?,
                ..a.clone()
            }),
            Instruction::Copy(c) => Instruction::Copy(Copy {
                paths: paths(&c.paths)?,
                chown: opt(&c.chown)?,
                chmod: opt(&c.chmod)?,
                ..c.clone()
            }),
            Instruction::Volume(v) => Instruction::Volume(all(v)?),
            Instruction::User(u) => Instruction::User(word(u)?),
            Instruction::Workdir(w) => Instruction::Workdir(word(w)?),
            Instruction::StopSignal(s) => Instruction::StopSignal(word(s)?),
            Instruction::Arg(args) => Instruction::Arg(
                args.iter()
                    .map(|a| {
                        Ok(ArgDecl {
                            name: word(&a.name)?,
                            default: opt(&a.default)?,
                        })
                    })
                    .collect::<Result<Vec<_>, LexError>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// Flags of one instruction (BuildKit's `BFlags`).
struct Flags<'a> {
    args: &'a [String],
    defs: Vec<(&'static str, FlagKind)>,
    values: Vec<(&'static str, String)>,
    used: Vec<&'static str>,
}

#[derive(Clone, Copy, PartialEq)]
enum FlagKind {
    Bool,
    String,
    Strings,
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String]) -> Self {
        Flags {
            args,
            defs: Vec::new(),
            values: Vec::new(),
            used: Vec::new(),
        }
    }
    fn def(mut self, name: &'static str, kind: FlagKind) -> Self {
        self.defs.push((name, kind));
        self
    }

    fn parse(mut self) -> Result<Self, String> {
        for a in self.args {
            if a == "--" {
                break;
            }
            let Some(body) = a.strip_prefix("--") else {
                return Err(format!("Arg should start with -- : {a}"));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(&(name, kind)) = self.defs.iter().find(|(n, _)| *n == name) else {
                return Err(format!("Unknown flag: {name}"));
            };
            if self.used.contains(&name) && kind != FlagKind::Strings {
                return Err(format!("Duplicate flag specified: {name}"));
            }
            self.used.push(name);
            let value = match (kind, value) {
                (FlagKind::Bool, Some("")) => {
                    return Err(format!("Missing a value on flag: {name}"))
                }
                (FlagKind::Bool, None) => "true".to_string(),
                (FlagKind::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                    l @ ("true" | "false") => l.to_string(),
                    _ => return Err(format!("Expecting boolean value for flag {name}, not: {v}")),
                },
                (_, None) => return Err(format!("Missing a value on flag: {name}")),
                (_, Some(v)) => v.to_string(),
            };
            self.values.push((name, value));
        }
        Ok(self)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
    fn strings(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|v| v == "true")
    }
}

fn at_least_one(cmd: &str) -> String {
    format!("{cmd} requires at least one argument")
}
fn exactly_one(cmd: &str) -> String {
    format!("{cmd} requires exactly one argument")
}

/// Makes the typed instruction of a node; the error is the bare message.
pub(crate) fn from_node(node: &Node) -> Result<Instruction, String> {
    let args = node.args.as_slice();
    let flags = || Flags::new(&node.flags);
    let one = |cmd: &str| -> Result<String, String> {
        match args {
            [a] => Ok(a.clone()),
            _ => Err(exactly_one(cmd)),
        }
    };
    Ok(match node.cmd.to_ascii_lowercase().as_str() {
        "from" => {
            let name = match args {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => {
                    let lower = name.to_ascii_lowercase();
                    if !valid_stage_name(&lower) {
                        return Err(format!(
                            "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                        ));
                    }
                    Some(lower)
                }
                [_] => None,
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            let f = flags().def("platform", FlagKind::String).parse()?;
            Instruction::From(From {
                image: args[0].clone(),
                name,
                platform: f.string("platform"),
            })
        }
        "run" => {
            let f = flags()
                .def("mount", FlagKind::Strings)
                .def("network", FlagKind::String)
                .def("security", FlagKind::String)
                .def("device", FlagKind::Strings)
                .parse()?;
            let network = f.string("network");
            if let Some(n) = &network {
                if !matches!(n.as_str(), "default" | "none" | "host") {
                    return Err(format!("invalid network mode {n:?}"));
                }
            }
            let security = f.string("security");
            if let Some(s) = &security {
                if !matches!(s.as_str(), "sandbox" | "insecure") {
                    return Err(format!("security {s:?} is not valid"));
                }
            }
            let mut flags_used: Vec<String> = Vec::new();
            for u in &f.used {
                if !flags_used.iter().any(|x| x == u) {
                    flags_used.push(u.to_string());
                }
            }
            Instruction::Run(Run {
                command: CommandLine::from_node(node, args),
                heredocs: node.heredocs.clone(),
                mounts: f.strings("mount"),
                network,
                security,
                devices: f.strings("device"),
                flags_used,
            })
        }
        "cmd" => {
            flags().parse()?;
            Instruction::Cmd(CommandLine::from_node(node, args))
        }
        "entrypoint" => {
            flags().parse()?;
            Instruction::Entrypoint(CommandLine::from_node(node, args))
        }
        "shell" => {
            flags().parse()?;
            if args.is_empty() {
                return Err(at_least_one("SHELL"));
            }
            if !node.json {
                return Err("SHELL requires the arguments to be in JSON form".into());
            }
            Instruction::Shell(args.to_vec())
        }
        "label" | "env" => {
            let cmd = node.cmd.to_ascii_uppercase();
            flags().parse()?;
            if node.pairs.is_empty() {
                return Err(at_least_one(&cmd));
            }
            let mut pairs = Vec::new();
            for (k, v, _) in &node.pairs {
                if k.is_empty() {
                    return Err(format!("{cmd} names can not be blank"));
                }
                pairs.push(KeyValue {
                    key: k.clone(),
                    value: v.clone(),
                });
            }
            if cmd == "ENV" {
                Instruction::Env(pairs)
            } else {
                Instruction::Label(pairs)
            }
        }
        "maintainer" => {
            let m = one("MAINTAINER")?;
            flags().parse()?;
            Instruction::Maintainer(m)
        }
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            flags().parse()?;
            let mut ports = args.to_vec();
            ports.sort();
            Instruction::Expose(ports)
        }
        "add" => {
            if args.len() < 2 {
                return Err(no_destination("ADD"));
            }
            let f = flags()
                .def("chown", FlagKind::String)
                .def("chmod", FlagKind::String)
                .def("link", FlagKind::Bool)
                .def("keep-git-dir", FlagKind::Bool)
                .def("checksum", FlagKind::String)
                .def("unpack", FlagKind::Bool)
                .def("exclude", FlagKind::Strings)
                .parse()?;
            Instruction::Add(Add {
                paths: sources_and_dest(node, "ADD")?,
                chown: f.string("chown"),
                chmod: f.string("chmod"),
                link: f.bool("link").unwrap_or(false),
                keep_git_dir: f.bool("keep-git-dir"),
                checksum: f.string("checksum"),
                unpack: f.bool("unpack"),
                exclude: f.strings("exclude"),
            })
        }
        "copy" => {
            if args.len() < 2 {
                return Err(no_destination("COPY"));
            }
            let f = flags()
                .def("chown", FlagKind::String)
                .def("from", FlagKind::String)
                .def("chmod", FlagKind::String)
                .def("link", FlagKind::Bool)
                .def("exclude", FlagKind::Strings)
                .def("parents", FlagKind::Bool)
                .parse()?;
            Instruction::Copy(Copy {
                paths: sources_and_dest(node, "COPY")?,
                from: f.string("from"),
                chown: f.string("chown"),
                chmod: f.string("chmod"),
                link: f.bool("link").unwrap_or(false),
                parents: f.bool("parents").unwrap_or(false),
                exclude: f.strings("exclude"),
            })
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            flags().parse()?;
            let mut vols = Vec::new();
            for v in args {
                let v = v.trim();
                if v.is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                vols.push(v.to_string());
            }
            Instruction::Volume(vols)
        }
        "user" => {
            let u = one("USER")?;
            flags().parse()?;
            Instruction::User(u)
        }
        "workdir" => {
            let w = one("WORKDIR")?;
            flags().parse()?;
            Instruction::Workdir(w)
        }
        // BuildKit does not look at ARG's and STOPSIGNAL's flags.
        "stopsignal" => Instruction::StopSignal(one("STOPSIGNAL")?),
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            let mut decls = Vec::new();
            for a in args {
                decls.push(match a.split_once('=') {
                    Some(("", _)) => return Err("ARG names can not be blank".into()),
                    Some((k, v)) => ArgDecl {
                        name: k.to_string(),
                        default: Some(v.to_string()),
                    },
                    None => ArgDecl {
                        name: a.clone(),
                        default: None,
                    },
                });
            }
            Instruction::Arg(decls)
        }
        "onbuild" => {
            let Some(sub) = node.sub.as_deref() else {
                return Err(at_least_one("ONBUILD"));
            };
            flags().parse()?;
            let trigger = sub.cmd.to_ascii_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into())
                }
                "MAINTAINER" | "FROM" => {
                    return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"))
                }
                _ => {}
            }
            let mut expression = strip_onbuild(&node.original).to_string();
            for doc in &node.heredocs {
                expression.push('\n');
                expression.push_str(&doc.content);
                expression.push_str(&doc.name);
            }
            Instruction::Onbuild(Onbuild {
                expression,
                instruction: Box::new(from_node(sub).map_err(|e| e.to_string())?),
            })
        }
        "healthcheck" => healthcheck(node)?,
        _ => {
            return Err(format!(
                "unknown instruction: {}",
                node.cmd.to_ascii_uppercase()
            ))
        }
    })
}

fn no_destination(cmd: &str) -> String {
    format!("{cmd} requires at least two arguments, but only one was provided. Destination could not be determined.")
}

/// `^[a-z][a-z0-9-_.]*$`.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// The trigger's text: the line without its leading `ONBUILD`.
fn strip_onbuild(original: &str) -> &str {
    let s = original.trim_start();
    let s = if s.len() >= 7 && s[..7].eq_ignore_ascii_case("onbuild") {
        &s[7..]
    } else {
        s
    };
    s.trim_start()
}

fn sources_and_dest(node: &Node, cmd: &str) -> Result<SourcesAndDest, String> {
    let (dest, srcs) = node.args.split_last().expect("checked by caller");
    if parse_heredoc(dest)?.is_some() {
        return Err(format!("{cmd} cannot accept a heredoc as a destination"));
    }
    let mut out = SourcesAndDest {
        sources: Vec::new(),
        inline: Vec::new(),
        dest: dest.clone(),
    };
    for src in srcs {
        match parse_heredoc(src)? {
            Some(doc) => {
                let body = node.heredocs.iter().find(|h| h.name == doc.name);
                let content = body.map(|h| h.content.clone()).unwrap_or_default();
                out.inline.push(InlineSource {
                    data: if doc.chomp { chomp(&content) } else { content },
                    path: doc.name,
                    expand: doc.expand,
                });
            }
            None => out.sources.push(src.clone()),
        }
    }
    Ok(out)
}

/// Removes leading tabs from every line (`<<-`).
pub(crate) fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

fn healthcheck(node: &Node) -> Result<Instruction, String> {
    let Some((typ, rest)) = node.args.split_first() else {
        return Err(at_least_one("HEALTHCHECK"));
    };
    let typ = typ.to_ascii_uppercase();
    if typ == "NONE" {
        if !rest.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Instruction::Healthcheck(Healthcheck::None));
    }
    let f = Flags::new(&node.flags)
        .def("interval", FlagKind::String)
        .def("timeout", FlagKind::String)
        .def("start-period", FlagKind::String)
        .def("start-interval", FlagKind::String)
        .def("retries", FlagKind::String)
        .parse()?;
    if typ != "CMD" {
        return Err(format!("Unknown type {typ:?} in HEALTHCHECK (try CMD)"));
    }
    let words = CommandLine::from_node(node, rest).words();
    if words.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let mut test = vec![if node.json { "CMD" } else { "CMD-SHELL" }.to_string()];
    test.extend(words);
    let interval = |name: &str| -> Result<Option<Duration>, String> {
        match f.string(name).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => {
                let d = parse_go_duration(&s)?;
                if d.is_zero() {
                    Ok(None)
                } else if d < Duration::from_millis(1) {
                    Err(format!("Interval {name:?} cannot be less than 1ms"))
                } else {
                    Ok(Some(d))
                }
            }
        }
    };
    let retries = match f.string("retries").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let n: i64 = s
                .parse()
                .ok()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| format!("strconv.ParseInt: parsing {s:?}: invalid syntax"))?;
            if n < 1 {
                return Err(format!("--retries must be at least 1 (not {n})"));
            }
            Some(n as u32)
        }
    };
    Ok(Instruction::Healthcheck(Healthcheck::Cmd {
        test,
        interval: interval("interval")?,
        timeout: interval("timeout")?,
        start_period: interval("start-period")?,
        start_interval: interval("start-interval")?,
        retries,
    }))
}

/// Go's `time.ParseDuration` for non-negative durations (`1m30s`, `1.5h`, `500ms`).
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let body = s.strip_prefix('+').unwrap_or(s);
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() || body.starts_with('-') {
        return Err(invalid());
    }
    let mut rest = body;
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." {
            return Err(invalid());
        }
        let value: f64 = num.parse().map_err(|_| invalid())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            u => return Err(format!("time: unknown unit {u:?} in duration {s:?}")),
        };
        nanos += value * unit;
        rest = &rest[unit_end..];
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}
