//! The image builder: a Dockerfile parser of its own (BuildKit's parser and
//! shell-lexing rules) and Docker's `.dockerignore` matcher. The build
//! executor (steps, cache, `POST /build`) comes on top of these.

pub mod dockerignore;
pub mod glob;
pub mod parser;
