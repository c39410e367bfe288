//! The async face of every type, on tokio: the same containers, locks and IDs, with calls
//! that are futures (mirroring `redis::aio`). Needs the `tokio` cargo feature (on by default).
//!
//! [`Redlock`] (with its [`LockGuard`]) and [`NextId`] are the async faces of
//! [`pottery::Redlock`](crate::Redlock) and [`pottery::NextId`](crate::NextId): the same
//! protocol, written once as sans-IO machines, driven here by an async loop on tokio. Build
//! them with the same builders' `build_async`.
//!
//! A container type here is the crate's type with the [`Tokio`] face: `aio::RedisDict<K, V>`
//! is `pottery::RedisDict<K, V, Tokio>`, with the same methods, the same commands and the same
//! data as the sync `RedisDict<K, V>`; each method returns a [`Pending`] future instead of a
//! `Result`, and iteration is a `Stream`.
//!
//! Every async container made from one [`Connector`](crate::Connector) shares one multiplexed
//! connection per server, however many handles, clones and tasks: requests of concurrent tasks
//! are pipelined on it. Blocking calls ([`RedisQueue::get`](crate::containers::RedisQueue::get)) use
//! dedicated connections, so they never hold up the others; a call dropped mid-way leaves the
//! shared connection usable.
//!
//! # Example
//!
//! ```no_run
//! use pottery::aio::{RedisCounter, RedisDict};
//!
//! # async fn run() -> pottery::Result<()> {
//! let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
//! let sessions: RedisDict<String, u64> = RedisDict::open(&redis, "sessions")?;
//! let hits: RedisCounter<String> = RedisCounter::open(&redis, "hits")?;
//! sessions.insert("ada", &7).await?;
//! let (visits, seen) = tokio::join!(hits.increment("home", 1), sessions.get("ada"));
//! assert_eq!(seen?, Some(7));
//! # let _ = visits?;
//! # Ok(())
//! # }
//! ```

pub use crate::face::tokio::{Pending, Tokio};
pub use crate::nextid::tokio::NextId;
pub use crate::redlock::tokio::{LockGuard, Redlock};

/// [`sync_primitives::Semaphore`](crate::sync_primitives::Semaphore) on the async face.
pub type Semaphore = crate::sync_primitives::Semaphore<Tokio>;

/// [`SemaphorePermit`](crate::sync_primitives::SemaphorePermit) on the async face: call `release().await`;
/// dropping it spawns a best-effort release.
pub type SemaphorePermit = crate::sync_primitives::SemaphorePermit<Tokio>;

/// [`sync_primitives::RwLock`](crate::sync_primitives::RwLock) on the async face.
pub type RwLock = crate::sync_primitives::RwLock<Tokio>;

/// [`RwLockReadGuard`](crate::sync_primitives::RwLockReadGuard) on the async face: call
/// `release().await`.
pub type RwLockReadGuard = crate::sync_primitives::RwLockReadGuard<Tokio>;

/// [`RwLockWriteGuard`](crate::sync_primitives::RwLockWriteGuard) on the async face: call
/// `release().await`.
pub type RwLockWriteGuard = crate::sync_primitives::RwLockWriteGuard<Tokio>;

/// [`containers::RedisDict`](crate::containers::RedisDict) on the async face.
pub type RedisDict<K, V> = crate::containers::RedisDict<K, V, Tokio>;

/// [`containers::RedisSet`](crate::containers::RedisSet) on the async face.
pub type RedisSet<T> = crate::containers::RedisSet<T, Tokio>;

/// [`containers::RedisCounter`](crate::containers::RedisCounter) on the async face.
pub type RedisCounter<T> = crate::containers::RedisCounter<T, Tokio>;

/// [`probabilistic::BloomFilter`](crate::probabilistic::BloomFilter) on the async face.
pub type BloomFilter<T> = crate::probabilistic::BloomFilter<T, Tokio>;

/// [`probabilistic::PotteryBloomFilter`](crate::probabilistic::PotteryBloomFilter) on the async
/// face.
pub type PotteryBloomFilter<T> = crate::probabilistic::PotteryBloomFilter<T, Tokio>;

/// [`probabilistic::HyperLogLog`](crate::probabilistic::HyperLogLog) on the async face.
pub type HyperLogLog<T> = crate::probabilistic::HyperLogLog<T, Tokio>;

/// [`caching::RedisCache`](crate::caching::RedisCache) on the async face: computations are
/// futures, and callers waiting for another's computation await it.
pub type RedisCache = crate::caching::RedisCache<Tokio>;

/// [`caching::CachedOrderedDict`](crate::caching::CachedOrderedDict) on the async face: `open`
/// and the writes are futures; reading the entries makes no round trip, as on the sync face.
pub type CachedOrderedDict<K, V> = crate::caching::CachedOrderedDict<K, V, Tokio>;

/// [`containers::RedisList`](crate::containers::RedisList) on the async face.
pub type RedisList<T> = crate::containers::RedisList<T, Tokio>;

/// [`containers::RedisDeque`](crate::containers::RedisDeque) on the async face.
pub type RedisDeque<T> = crate::containers::RedisDeque<T, Tokio>;

/// [`containers::RedisQueue`](crate::containers::RedisQueue) on the async face: a waiting
/// [`get`](crate::containers::RedisQueue::get) holds a dedicated connection, never the shared
/// one, and may be dropped at any point.
pub type RedisQueue<T> = crate::containers::RedisQueue<T, Tokio>;

/// [`rate_limit::RateLimiter`](crate::rate_limit::RateLimiter) on the async face.
pub type RateLimiter = crate::rate_limit::RateLimiter<Tokio>;
