//! Redlock: the protocol over a majority of masters, and its sync and async faces.

pub(crate) mod protocol;
pub(crate) mod sync;
pub(crate) mod tokio;
