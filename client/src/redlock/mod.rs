//! Redlock: the builder and the lock's commands, the bookkeeping of one round, the calls as
//! sans-IO machines, and the two faces that drive them (sync, and tokio for `pottery::aio`).

pub(crate) mod builder;
pub(crate) mod info;
pub(crate) mod machine;
pub(crate) mod rounds;
pub(crate) mod sync;
pub(crate) mod timing;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;
