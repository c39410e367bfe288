//! How requests reach Redis: connectors and masters, sockets and the RESP parser, key handles,
//! and the quorum fan-out over independent masters.

#[cfg(feature = "tokio")]
pub(crate) mod async_master;
#[cfg(feature = "tokio")]
pub(crate) mod async_masters;
#[cfg(feature = "tokio")]
pub(crate) mod async_socket;
pub(crate) mod cluster_identity;
pub(crate) mod connector;
pub(crate) mod key;
pub(crate) mod master;
pub(crate) mod mode;
#[cfg(feature = "tokio")]
pub(crate) mod multiplexed;
pub(crate) mod pool;
pub(crate) mod quorum;
pub(crate) mod resp;
pub(crate) mod script;
pub(crate) mod scripted;
pub(crate) mod session;
pub(crate) mod socket;
pub(crate) mod source;
pub(crate) mod sync_master;
pub(crate) mod sync_masters;
