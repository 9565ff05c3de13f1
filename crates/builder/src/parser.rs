//! The Dockerfile parser (to be written).
