//! # pottery — Redis for humans
//!
//! Rust types with the feel of `std` over Redis and the pottery Redis module (which adds native
//! `POTTERY.*` commands that do atomically, in one round trip, what a client would otherwise do
//! with retries or Lua). Data layouts are shared with Python pottery 3.0.1 where noted, so
//! Python and Rust services can use the same keys.
//!
//! So far the crate has:
//! - [`NextId`] / [`AsyncNextId`]: distributed, unique, increasing IDs agreed by a majority of
//!   Redis masters (one master is fine too), built with [`NextId::builder`];
//! - [`Master`]: how a master is given (URL, `redis::ConnectionInfo`, `redis::Client`, open
//!   connection);
//! - [`Error`] / [`Result`]: one error enum for the whole crate.
//!
//! # Connections and timeouts
//!
//! Builders validate their options and open nothing: masters given as URLs, connection infos or
//! clients are connected on first use and reconnected lazily after a failure (with a short
//! backoff after a failed connect or a timeout, see [`Unavailable::Backoff`]). Every request to
//! a master is bounded by the per-master timeout and every call by its deadline. The sync types
//! use plain blocking connections and no threads; the async types use one
//! `redis::aio::MultiplexedConnection` per master on tokio.
//!
//! # Example
//!
//! ```no_run
//! let mut ids = pottery::NextId::builder()
//!     .name("orders")
//!     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
//!     .build()?;
//! let order_id = ids.next_id()?;
//! let batch = ids.next_ids(100)?;
//! # Ok::<(), pottery::Error>(())
//! ```

pub mod codec;
mod error;
mod master;
mod nextid;
mod nextid_async;
mod quorum;
mod resp;

pub use crate::error::{Error, Result, Unavailable};
pub use crate::master::Master;
pub use crate::nextid::{NextId, NextIdBuilder};
pub use crate::nextid_async::AsyncNextId;
