//! # pottery — Redis for humans
//!
//! Rust types with the feel of `std` over Redis and the pottery Redis module (which adds native
//! `POTTERY.*` commands that do atomically, in one round trip, what a client would otherwise do
//! with retries or Lua). Data layouts are shared with Python pottery 3.0.1 where noted, so
//! Python and Rust services can use the same keys.
//!
//! So far the crate has:
//! - [`RedisDict`], [`RedisSet`], [`RedisCounter`]: `HashMap`, `HashSet` and Python's
//!   `Counter` in Redis hashes and sets, generic over `serde` types, atomic where std's
//!   methods read and write, and stored byte for byte as Python pottery stores them (see
//!   [`codec`]); [`Connector`] says how they reach Redis, [`Scan`] iterates over them;
//! - [`BloomFilter`] and [`HyperLogLog`]: membership and cardinality over the pottery module's
//!   native Bloom filter and Redis's HyperLogLog (the latter shared with Python pottery);
//! - [`NextId`] / [`AsyncNextId`]: distributed, unique, increasing IDs agreed by a majority of
//!   Redis masters (one master is fine too), built with [`NextId::builder`];
//! - [`Redlock`] / [`AsyncRedlock`]: a distributed lock (Redlock) with guards that release on
//!   drop, extension, opt-in auto-renewal and fencing tokens, built with [`Redlock::builder`];
//! - [`Master`]: how a master is given (URL, `redis::ConnectionInfo`, `redis::Client`, open
//!   connection, or a whole Redis Cluster as one master);
//! - [`RedisList`], [`RedisDeque`], [`RedisQueue`]: a `Vec`, a `VecDeque` (Python's `deque`,
//!   with `maxlen`) and a FIFO queue in Redis lists; index operations, bounded pushes and
//!   rotations run atomically inside Redis through the pottery module;
//! - [`CachedOrderedDict`]: ordered keys looked up in one `HMGET` in a cache hash shared with
//!   Python pottery, with the misses reported and filled through to the hash;
//! - [`ContextTimer`]: wall-clock timing of a code section (Python pottery's `ContextTimer`),
//!   with a guard that stops the timer at the end of a scope;
//! - [`RedisCache`]: memoizes function results in a Redis hash with a sliding TTL, computing
//!   each missing value once per process (and across processes with a [`Redlock`]);
//! - [`Error`] / [`Result`]: one error enum for the whole crate.
//!
//! # Connections and timeouts
//!
//! Builders validate their options and open nothing: masters given as URLs, connection infos or
//! clients are connected on first use and reconnected lazily after a failure (with a short
//! backoff after a failed connect or a timeout, see [`Unavailable::Backoff`]). Every request to
//! a master is bounded by the per-master timeout and every call by its deadline. The sync types
//! use no threads: they write each request to every master over sockets of their own and wait
//! for the replies together with `poll(2)` (see [`Master`]); the async types use one
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

mod bloom;
mod cache;
mod cached_ordered_dict;
pub mod codec;
mod connector;
mod counter;
mod dict;
mod error;
mod hyperloglog;
mod key;
mod master;
mod nextid;
mod nextid_async;
mod quorum;
mod redlock;
mod redlock_async;
mod redlock_protocol;
mod resp;
mod scan;
mod set;
mod socket;
mod timer;

mod deque;
mod list;
mod queue;

pub use crate::bloom::{BloomFilter, BloomInfo};
pub use crate::cache::{CacheStats, RedisCache};
pub use crate::cached_ordered_dict::{CachedOrderedDict, DEFAULT_CACHE_TIMEOUT};
pub use crate::connector::{Connector, DEFAULT_CONTAINER_TIMEOUT};
pub use crate::counter::RedisCounter;
pub use crate::deque::RedisDeque;
pub use crate::dict::RedisDict;
pub use crate::error::{Error, Result, Unavailable};
pub use crate::hyperloglog::HyperLogLog;
pub use crate::list::{ListIter, RedisList};
pub use crate::master::Master;
pub use crate::nextid::{NextId, NextIdBuilder};
pub use crate::nextid_async::AsyncNextId;
pub use crate::queue::{RedisQueue, MAX_QUEUE_WAIT};
pub use crate::redlock::{LockGuard, Redlock};
pub use crate::redlock_async::{AsyncLockGuard, AsyncRedlock};
pub use crate::redlock_protocol::{Holder, RedlockBuilder};
pub use crate::scan::Scan;
pub use crate::set::RedisSet;
pub use crate::timer::{ContextTimer, TimerMisuse, TimerScope};
