//! Docker's `.dockerignore` matcher (to be written).
