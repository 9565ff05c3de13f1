//! Shared vocabulary of berth: error kinds, identifiers, digests and image
//! references. Nothing here does I/O.

pub mod digest;
pub mod error;
pub mod filters;
pub mod id;
pub mod reference;

pub use digest::Digest;
pub use error::{Error, ErrorKind, Result};
pub use reference::Reference;
