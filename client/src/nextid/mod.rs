//! Distributed NextId: the builder, the client side of the protocol, the calls as sans-IO
//! machines, and the two faces that drive them (sync, and tokio for `pottery::aio`).

pub(crate) mod builder;
pub(crate) mod claim;
pub(crate) mod info;
pub(crate) mod machine;
pub(crate) mod sync;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;
