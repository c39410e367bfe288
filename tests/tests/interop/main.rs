//! Interoperability with Python pottery 3.0.1: the same keys, values and stored bytes from
//! both sides. Needs the virtual environment that `scripts/test` creates (or `POTTERY_PYTHON`).
//!
//! One test binary: each submodule was once its own `tests/interop_*.rs` file.

mod bloom;
mod containers;
mod lists;
mod lists_without_module;
mod nextid;
mod redlock;
