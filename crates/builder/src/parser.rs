//! The Dockerfile parser, written after BuildKit's `frontend/dockerfile`
//! (`parser`, `instructions`, `shell`) with the legacy builder's error
//! wording (dockerd 20.10, which vendors BuildKit 0.8):
//! - [`parse`] reads a Dockerfile into typed [`Instruction`]s grouped in
//!   [`Stage`]s, with parser directives, continuations and heredocs;
//! - [`lex`] expands variables (`Lex`), which the executor calls per
//!   instruction through [`Instruction::expand`];
//! - [`stages`] resolves `--target`, lists what each stage needs, and
//!   scopes ARGs.

mod instruction;
pub mod lex;
mod lines;
pub mod stages;
#[cfg(test)]
mod tests;

use std::fmt;

pub use instruction::{
    parse_go_duration, Add, ArgDecl, CommandLine, Copy, From, Healthcheck, InlineSource,
    Instruction, KeyValue, Onbuild, Run, SourcesAndDest, EXPANDED_INSTRUCTIONS,
};
pub use lex::{EnvLookup, Lex, LexError};
pub use stages::{ArgScope, Dependency, PROXY_ARGS};

/// How the legacy builder prefixes errors of one instruction (BuildKit
/// since 0.9 says `dockerfile parse error on line N:`).
const LINE_PREFIX: &str = "dockerfile parse error line";

/// A Dockerfile that could not be parsed, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, without the location.
    pub message: String,
    /// First line concerned (1-based; 0 when none).
    pub start_line: usize,
    /// Last line concerned.
    pub end_line: usize,
    /// Whether Docker prints it as `dockerfile parse error line N: ...`
    /// (errors of one instruction) or bare (line-level errors).
    prefixed: bool,
}

impl ParseError {
    pub(crate) fn syntax(message: impl Into<String>, start: usize, end: usize) -> Self {
        ParseError {
            message: message.into(),
            start_line: start,
            end_line: end.max(start),
            prefixed: false,
        }
    }

    fn instruction(message: String, start: usize, end: usize) -> Self {
        ParseError {
            prefixed: true,
            ..ParseError::syntax(message, start, end)
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefixed {
            write!(f, "{LINE_PREFIX} {}: {}", self.start_line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// A heredoc body attached to a RUN, COPY or ADD line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word, quotes removed (`EOF`).
    pub name: String,
    /// The file descriptor written before `<<` (`3<<EOF`), else 0.
    pub file_descriptor: u32,
    /// Whether variables are expanded in the body (the delimiter was unquoted).
    pub expand: bool,
    /// `<<-`: leading tabs are removed from the body's lines.
    pub chomp: bool,
    /// The body as written, each line with its newline.
    pub content: String,
}

impl Heredoc {
    /// The body to use: with leading tabs removed for `<<-`.
    pub fn text(&self) -> String {
        if self.chomp {
            instruction::chomp(&self.content)
        } else {
            self.content.clone()
        }
    }
}

/// One instruction with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The instruction.
    pub instruction: Instruction,
    /// The logical line as written (continuations joined), as in `Step N/M : ...`.
    pub original: String,
    /// First line (1-based).
    pub start_line: usize,
    /// Last line (heredoc bodies included).
    pub end_line: usize,
}

/// A build stage: a FROM and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Position among the stages (what `COPY --from=0` names).
    pub index: usize,
    /// The FROM line.
    pub from: From,
    /// Where the FROM line is, with its text.
    pub from_statement: Statement,
    /// The instructions after FROM.
    pub commands: Vec<Statement>,
}

impl Stage {
    /// The stage's name (`AS name`, lowercased), if any.
    pub fn name(&self) -> Option<&str> {
        self.from.name.as_deref()
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape token in effect (`\` or `` ` ``).
    pub escape: char,
    /// The `# syntax=` directive, if any (not acted upon).
    pub syntax: Option<String>,
    /// ARGs before the first FROM (usable only in FROM lines unless redeclared).
    pub meta_args: Vec<Statement>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Warnings to show (empty continuation lines).
    pub warnings: Vec<String>,
}

impl Dockerfile {
    /// A lexer for this file's escape token.
    pub fn lex(&self) -> Lex {
        Lex::new(self.escape)
    }

    /// Every instruction in order (meta ARGs, then each stage's FROM and commands).
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.meta_args.iter().chain(
            self.stages
                .iter()
                .flat_map(|s| std::iter::once(&s.from_statement).chain(s.commands.iter())),
        )
    }
}

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines = lines::parse_lines(text)?;
    let mut file = Dockerfile {
        escape: lines.directives.escape,
        syntax: lines.directives.syntax.clone(),
        meta_args: Vec::new(),
        stages: Vec::new(),
        warnings: lines.warnings,
    };
    for node in &lines.nodes {
        let instruction = instruction::from_node(node)
            .map_err(|m| ParseError::instruction(m, node.start_line, node.end_line))?;
        let statement = Statement {
            instruction,
            original: node.original.clone(),
            start_line: node.start_line,
            end_line: node.end_line,
        };
        match (&statement.instruction, file.stages.last_mut()) {
            (Instruction::From(from), _) => file.stages.push(Stage {
                index: file.stages.len(),
                from: from.clone(),
                from_statement: statement,
                commands: Vec::new(),
            }),
            (Instruction::Arg(_), None) => file.meta_args.push(statement),
            (_, Some(stage)) => stage.commands.push(statement),
            (_, None) => {
                return Err(ParseError::syntax(
                    "no build stage in current context",
                    node.start_line,
                    node.end_line,
                ))
            }
        }
    }
    Ok(file)
}

/// Parses one instruction alone (e.g. a `docker commit --change` line or an
/// ONBUILD trigger being replayed); a leading `# escape=` directive applies.
pub fn parse_instruction(line: &str) -> Result<Statement, ParseError> {
    let lines = lines::parse_lines(line)?;
    let node = &lines.nodes[0];
    let instruction = instruction::from_node(node)
        .map_err(|m| ParseError::instruction(m, node.start_line, node.end_line))?;
    Ok(Statement {
        instruction,
        original: node.original.clone(),
        start_line: node.start_line,
        end_line: node.end_line,
    })
}
