//! Stages and build args: `--target`, each stage's dependencies, and which
//! ARGs a stage sees (the legacy builder's `buildArgs`).

use std::collections::BTreeMap;

use super::lex::{EnvLookup, Lex, LexError};
use super::{ArgDecl, Dockerfile, Instruction};

/// Build args that exist without an ARG declaration (when given with
/// `--build-arg`); they are left out of the image history.
pub const PROXY_ARGS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Something a stage builds on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dependency {
    /// An earlier stage, by index.
    Stage(usize),
    /// An image to pull or find locally.
    Image(String),
}

impl Dockerfile {
    /// The index of the stage `--target` names (case-insensitive), or the last
    /// stage when `target` is `None`.
    pub fn target_index(&self, target: Option<&str>) -> Result<usize, String> {
        match target {
            None | Some("") => Ok(self.stages.len() - 1),
            Some(t) => self
                .stages
                .iter()
                .position(|s| s.name().is_some_and(|n| n.eq_ignore_ascii_case(t)))
                .ok_or_else(|| format!("failed to reach build target {t} in Dockerfile")),
        }
    }

    /// The first stage name used twice, as the legacy builder reports it.
    pub fn check_stage_names(&self) -> Result<(), String> {
        for (i, s) in self.stages.iter().enumerate() {
            if let Some(n) = s.name() {
                if self.stages[..i].iter().any(|p| p.name() == Some(n)) {
                    return Err(format!("{n} stage name already used"));
                }
            }
        }
        Ok(())
    }

    /// The stage an earlier reference names: a name of a stage before
    /// `before`, or (for `COPY --from`) an index below it.
    fn stage_ref(&self, reference: &str, before: usize, allow_index: bool) -> Option<usize> {
        if allow_index {
            if let Ok(i) = reference.parse::<usize>() {
                return (i < before).then_some(i);
            }
        }
        self.stages[..before]
            .iter()
            .rposition(|s| s.name().is_some_and(|n| n.eq_ignore_ascii_case(reference)))
    }

    /// What stage `index` needs: its base (FROM, expanded with the meta
    /// args `meta`) and each `COPY --from`. Images are listed too.
    pub fn dependencies(
        &self,
        index: usize,
        meta: &dyn EnvLookup,
    ) -> Result<Vec<Dependency>, LexError> {
        let stage = &self.stages[index];
        let lex = self.lex();
        let base = lex.process_word(&stage.from.image, meta)?;
        let mut deps = vec![match self.stage_ref(&base, index, false) {
            Some(i) => Dependency::Stage(i),
            None => Dependency::Image(base),
        }];
        for st in &stage.commands {
            if let Instruction::Copy(c) = &st.instruction {
                if let Some(from) = &c.from {
                    let dep = match self.stage_ref(from, index, true) {
                        Some(i) => Dependency::Stage(i),
                        None => Dependency::Image(from.clone()),
                    };
                    if !deps.contains(&dep) {
                        deps.push(dep);
                    }
                }
            }
        }
        Ok(deps)
    }

    /// The stages building `target` needs, itself included, in order.
    pub fn needed_stages(
        &self,
        target: usize,
        meta: &dyn EnvLookup,
    ) -> Result<Vec<usize>, LexError> {
        let mut needed = vec![false; self.stages.len()];
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut needed[i], true) {
                continue;
            }
            for d in self.dependencies(i, meta)? {
                if let Dependency::Stage(j) = d {
                    todo.push(j);
                }
            }
        }
        Ok((0..needed.len()).filter(|&i| needed[i]).collect())
    }

    /// The meta args' values (for FROM lines), given the build args.
    pub fn meta_scope(&self, build_args: &BTreeMap<String, String>) -> Result<ArgScope, LexError> {
        self.meta_scope_with(build_args, &[])
    }

    /// [`Dockerfile::meta_scope`] with automatic meta args declared first
    /// (the platform args: `TARGETPLATFORM`, `BUILDARCH`, ...), as BuildKit
    /// has them: visible to FROM lines, and to a stage that declares them
    /// with `ARG NAME`.
    pub fn meta_scope_with(
        &self,
        build_args: &BTreeMap<String, String>,
        automatic: &[(String, String)],
    ) -> Result<ArgScope, LexError> {
        let mut scope = ArgScope::new(build_args.clone());
        for (name, value) in automatic {
            scope.declare_meta(&ArgDecl {
                name: name.clone(),
                default: Some(value.clone()),
            });
        }
        let lex = self.lex();
        for st in &self.meta_args {
            if let Instruction::Arg(decls) = &st.instruction {
                for d in decls {
                    let d = expand_decl(&lex, d, &scope.visible())?;
                    scope.declare_meta(&d);
                }
            }
        }
        Ok(scope)
    }

    /// The args stage `index` sees after all its ARGs, given the build args
    /// (ENV values do not take part in ARG defaults here; the executor,
    /// which knows the stage's environment, uses [`ArgScope`] step by step).
    pub fn stage_args(
        &self,
        index: usize,
        build_args: &BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, LexError> {
        let mut scope = self.meta_scope(build_args)?.for_stage();
        let lex = self.lex();
        for st in &self.stages[index].commands {
            if let Instruction::Arg(decls) = &st.instruction {
                for d in decls {
                    let d = expand_decl(&lex, d, &scope.visible())?;
                    scope.declare(&d);
                }
            }
        }
        Ok(scope.visible())
    }
}

fn expand_decl(lex: &Lex, d: &ArgDecl, env: &dyn EnvLookup) -> Result<ArgDecl, LexError> {
    Ok(ArgDecl {
        name: lex.process_word(&d.name, env)?,
        default: d
            .default
            .as_deref()
            .map(|v| lex.process_word(v, env))
            .transpose()?,
    })
}

/// The ARGs in scope at one point of a build: the meta args (before the
/// first FROM), those declared in the current stage, and the build args
/// given by the user, which override defaults but only for declared names
/// (and the proxy args, which need no declaration).
#[derive(Debug, Clone, Default)]
pub struct ArgScope {
    build_args: BTreeMap<String, String>,
    meta: Vec<(String, Option<String>)>,
    declared: Vec<(String, Option<String>)>,
}

impl ArgScope {
    /// A scope with the user's build args and nothing declared.
    pub fn new(build_args: BTreeMap<String, String>) -> Self {
        ArgScope {
            build_args,
            ..ArgScope::default()
        }
    }

    /// Declares an ARG before the first FROM (default already expanded).
    pub fn declare_meta(&mut self, decl: &ArgDecl) {
        self.meta.push((decl.name.clone(), decl.default.clone()));
        self.declared
            .push((decl.name.clone(), decl.default.clone()));
    }

    /// The scope at the start of a stage: meta args are remembered but no
    /// longer visible until an ARG redeclares them.
    pub fn for_stage(&self) -> ArgScope {
        ArgScope {
            build_args: self.build_args.clone(),
            meta: self.meta.clone(),
            declared: Vec::new(),
        }
    }

    /// Declares an ARG in the stage (default already expanded).
    pub fn declare(&mut self, decl: &ArgDecl) {
        self.declared
            .push((decl.name.clone(), decl.default.clone()));
    }

    fn value(&self, name: &str, default: Option<&String>) -> Option<String> {
        if let Some(v) = self.build_args.get(name) {
            return Some(v.clone());
        }
        if let Some(d) = default {
            return Some(d.clone());
        }
        // `ARG NAME` without a default takes the meta arg's value.
        self.meta
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// Values of the visible args (declared ones with a value, and the proxy
    /// args given as build args), sorted by name.
    pub fn visible(&self) -> Vec<(String, String)> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (name, default) in &self.declared {
            match self.value(name, default.as_ref()) {
                Some(v) => out.insert(name.clone(), v),
                None => out.remove(name),
            };
        }
        for p in PROXY_ARGS {
            if let (false, Some(v)) = (out.contains_key(p), self.build_args.get(p)) {
                out.insert(p.to_string(), v.clone());
            }
        }
        out.into_iter().collect()
    }

    /// The values FROM lines see: the meta args and given proxy args.
    pub fn meta_visible(&self) -> Vec<(String, String)> {
        ArgScope {
            build_args: self.build_args.clone(),
            meta: self.meta.clone(),
            declared: self.meta.clone(),
        }
        .visible()
    }

    /// Build args given but never declared (and not proxy args): Docker
    /// warns `[Warning] One or more build-args [..] were not consumed`.
    pub fn unused_build_args<'a>(
        &self,
        declared_anywhere: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let declared: Vec<&str> = declared_anywhere.into_iter().collect();
        self.build_args
            .keys()
            .filter(|k| !PROXY_ARGS.contains(&k.as_str()) && !declared.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}
