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
//!   [`codec`]); [`Connector`] says how they reach Redis (one server or a Redis Cluster),
//!   [`Scan`] iterates over them;
//! - [`BloomFilter`] and [`HyperLogLog`]: membership and cardinality over the pottery module's
//!   native Bloom filter and Redis's HyperLogLog (the latter shared with Python pottery);
//! - [`NextId`] (and `aio::NextId`): distributed, unique, increasing IDs agreed by a majority
//!   of Redis masters (one master is fine too), built with [`NextId::builder`];
//! - [`Redlock`] (and `aio::Redlock`): a distributed lock (Redlock) with guards that release on
//!   drop, extension, opt-in auto-renewal and fencing tokens, built with [`Redlock::builder`];
//! - [`Semaphore`] and [`RwLock`] (and their `aio` faces): a counting semaphore with expiring
//!   permits and a read-write lock that does not starve writers, on one master with the module;
//! - [`Master`]: how a master is given (what a [`Connector`] is made from, or a connector
//!   itself; a whole Redis Cluster can be one master);
//! - [`RedisList`], [`RedisDeque`], [`RedisQueue`]: a `Vec`, a `VecDeque` (Python's `deque`,
//!   with `maxlen`) and a FIFO queue in Redis lists; index operations, bounded pushes and
//!   rotations run atomically inside Redis through the pottery module;
//! - [`CachedOrderedDict`]: ordered keys looked up in one `HMGET` in a cache hash shared with
//!   Python pottery, with the misses reported and filled through to the hash;
//! - [`ContextTimer`]: wall-clock timing of a code section (Python pottery's `ContextTimer`),
//!   with a guard that stops the timer at the end of a scope;
//! - [`RedisCache`]: memoizes function results in a Redis hash with a sliding TTL, computing
//!   each missing value once per process (and across processes with a [`Redlock`]), and the
//!   [`#[cached]`](cached) attribute that memoizes a function in one;
//! - [`RateLimiter`]: a rate limit shared by every client of a key (redis-cell's GCRA, run
//!   in the server by the pottery module's `POTTERY.THROTTLE`);
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

#[cfg(feature = "tokio")]
pub mod aio;
pub mod caching;
pub mod codec;
pub mod containers;
mod error;
mod face;
mod nextid;
pub mod probabilistic;
pub mod rate_limit;
mod redlock;
pub mod sync_primitives;
mod timer;
mod transport;

pub use crate::caching::{CacheStats, DEFAULT_CACHE_TIMEOUT};
pub use crate::containers::list::ListIter;
pub use crate::containers::queue::MAX_QUEUE_WAIT;
pub use crate::containers::scan::Scan;
pub use crate::error::{Error, Result, TimerMisuse, Unavailable};
pub use crate::face::{Blocking, Face, Operation};
pub use crate::nextid::builder::NextIdBuilder;
pub use crate::nextid::info::SequenceInfo;
pub use crate::nextid::sync::NextId;
pub use crate::probabilistic::BloomInfo;
pub use crate::rate_limit::Throttle;
pub use crate::redlock::builder::RedlockBuilder;
pub use crate::redlock::info::{Hold, LockInfo};
pub use crate::redlock::rounds::Holder;
pub use crate::redlock::sync::{LockGuard, Redlock};
pub use crate::timer::{ContextTimer, TimerScope};
pub use crate::transport::connector::{Connector, DEFAULT_CONTAINER_TIMEOUT};
pub use crate::transport::master::Master;
pub use crate::transport::mode::Mode;

/// The async Redlock, now [`aio::Redlock`].
#[cfg(feature = "tokio")]
#[deprecated(since = "0.1.0", note = "use `pottery::aio::Redlock`")]
pub type AsyncRedlock = aio::Redlock;

/// The async Redlock's guard, now [`aio::LockGuard`].
#[cfg(feature = "tokio")]
#[deprecated(since = "0.1.0", note = "use `pottery::aio::LockGuard`")]
pub type AsyncLockGuard = aio::LockGuard;

/// The async NextId, now [`aio::NextId`].
#[cfg(feature = "tokio")]
#[deprecated(since = "0.1.0", note = "use `pottery::aio::NextId`")]
pub type AsyncNextId = aio::NextId;

/// [`sync_primitives::Semaphore`] on the sync face: every call waits and returns a [`Result`].
pub type Semaphore = crate::sync_primitives::Semaphore<Blocking>;

/// [`sync_primitives::SemaphorePermit`] on the sync face: releases its permits when dropped.
pub type SemaphorePermit = crate::sync_primitives::SemaphorePermit<Blocking>;

/// [`sync_primitives::RwLock`] on the sync face: every call waits and returns a [`Result`].
pub type RwLock = crate::sync_primitives::RwLock<Blocking>;

/// [`sync_primitives::RwLockReadGuard`] on the sync face: releases its hold when dropped.
pub type RwLockReadGuard = crate::sync_primitives::RwLockReadGuard<Blocking>;

/// [`sync_primitives::RwLockWriteGuard`] on the sync face: releases its hold when dropped.
pub type RwLockWriteGuard = crate::sync_primitives::RwLockWriteGuard<Blocking>;

/// [`containers::RedisDict`] on the sync face: every call waits and returns a [`Result`].
pub type RedisDict<K, V> = crate::containers::RedisDict<K, V, Blocking>;

/// [`containers::RedisSet`] on the sync face: every call waits and returns a [`Result`].
pub type RedisSet<T> = crate::containers::RedisSet<T, Blocking>;

/// [`containers::RedisCounter`] on the sync face: every call waits and returns a [`Result`].
pub type RedisCounter<T> = crate::containers::RedisCounter<T, Blocking>;

/// [`probabilistic::BloomFilter`] on the sync face: every call waits and returns a [`Result`].
pub type BloomFilter<T> = crate::probabilistic::BloomFilter<T, Blocking>;

/// [`probabilistic::PotteryBloomFilter`] on the sync face: every call waits and returns a
/// [`Result`].
pub type PotteryBloomFilter<T> = crate::probabilistic::PotteryBloomFilter<T, Blocking>;

/// [`probabilistic::HyperLogLog`] on the sync face: every call waits and returns a [`Result`].
pub type HyperLogLog<T> = crate::probabilistic::HyperLogLog<T, Blocking>;

/// [`caching::RedisCache`] on the sync face: computations are closures, every call waits and
/// returns a [`Result`].
pub type RedisCache = crate::caching::RedisCache<Blocking>;

/// [`caching::CachedOrderedDict`] on the sync face: `open` and the writes wait and return a
/// [`Result`].
pub type CachedOrderedDict<K, V> = crate::caching::CachedOrderedDict<K, V, Blocking>;

/// [`containers::RedisList`] on the sync face: every call waits and returns a [`Result`].
pub type RedisList<T> = crate::containers::RedisList<T, Blocking>;

/// [`containers::RedisDeque`] on the sync face: every call waits and returns a [`Result`].
pub type RedisDeque<T> = crate::containers::RedisDeque<T, Blocking>;

/// [`containers::RedisQueue`] on the sync face: every call waits and returns a [`Result`]; a
/// blocking [`get`](containers::RedisQueue::get) blocks the calling thread only.
pub type RedisQueue<T> = crate::containers::RedisQueue<T, Blocking>;

/// Memoizes a function in a [`RedisCache`], like the `cached` crate's `#[io_cached]`: calls
/// with the same arguments compute once and then read the stored result, from this process or
/// any other sharing the cache. On an `async fn` it uses the async cache
/// [`aio::RedisCache`] and the generated functions are async too.
///
/// The cache is either one of yours (a `static`, for a TTL, a [`Redlock`] or a connection of
/// your choice) or opened by the macro from a URL and a key on the first call:
///
/// | option | meaning |
/// |---|---|
/// | `cache = EXPR` | your cache: `&EXPR` must deref to a `&'static RedisCache` (a `&'static aio::RedisCache` for an `async fn`), such as a `static` [`LazyLock<RedisCache>`](std::sync::LazyLock) |
/// | `url = EXPR, key = EXPR` | a cache opened with [`RedisCache::open(url, key)`](RedisCache::open) (for an `async fn`, [`aio::RedisCache::open`]) on the first call (any `impl Into<Connector>` and `&str`; evaluated again on every call until the URL parses) |
/// | `ttl_secs = N` | with `url`: the sliding TTL of the whole hash ([`RedisCache::with_ttl`]) |
/// | `name = "..."` | the function id in the cache field; the function's name by default |
///
/// The cached function keeps its name and signature. Each call reads the field
/// JSON(`[name, [arguments...]]`) of the hash, exactly as
/// [`RedisCache::try_get_or_compute`] stores it, and on a miss runs the body, stores its `Ok`
/// value and returns it; within the process, concurrent callers with the same arguments wait
/// for that one computation (and with a [`Redlock`] on your cache, callers in other processes
/// too). The field does not depend on the face: a sync and an async function with one `name`
/// on one key share their entries. The macro also generates, with the function's visibility:
///
/// - `{name}_no_cache(...)`: the body itself, which neither reads nor stores;
/// - `{name}_prime_cache(...)`: runs the body and stores its result without reading, replacing
///   what was stored ([`RedisCache::try_call_and_store`]);
/// - `{name}_cache()`: the cache, for [`stats`](RedisCache::stats),
///   [`clear`](RedisCache::clear), [`remove`](RedisCache::remove), ... It returns
///   `&'static RedisCache` with `cache = ...` and `pottery::Result<&'static RedisCache>` with
///   `url = ...` (an error if the URL does not parse).
///
/// | the function is | `{name}` and its companions | `{name}_cache()` returns |
/// |---|---|---|
/// | `fn` | `fn`: each call blocks while it reads, computes and stores | a [`RedisCache`] |
/// | `async fn` | `async fn`: awaited; callers waiting for another's computation await it, blocking no thread | an [`aio::RedisCache`] (a plain `fn`: opening connects nothing) |
///
/// Requirements, checked at compile time with the error on the offending part:
///
/// - a free function (in a module or a block, not in an `impl`): methods taking `self` are
///   refused, since the receiver would not be part of the cache field;
/// - every argument `Serialize` (by reference too: `&str`, `&[u8]`, `&MyStruct`), together
///   they make the JSON array of the field; no generic type or `impl Trait` arguments, whose
///   instances would share entries (lifetime parameters are fine);
/// - the return type `pottery::Result<T>` or any `Result<T, E>` spelled with a path ending in
///   `Result` and with `E: From<pottery::Error>`, so that Redis errors surface; `T` is
///   `Serialize + DeserializeOwned + Send + 'static`. An `Err` from the body is returned and
///   not stored: the next call computes again;
/// - not `const`, `unsafe` or `extern`.
///
/// Recursion goes through the cache (the body calls the cached function), which is the point
/// for functions like Fibonacci: a computation waiting on its own arguments would deadlock, but
/// each level asks for other arguments. An `async fn` that awaits itself needs its recursive
/// calls boxed, as any recursive `async fn` does: `Box::pin(fib(n - 1)).await?`. With a
/// [`Redlock`] on the cache ([`RedisCache::with_lock`]) a recursive miss would wait for the
/// lock its caller holds until the acquire timeout: do not combine the lock with recursion.
///
/// # Example
///
/// A cache opened from a URL, with a TTL:
///
/// ```no_run
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "fib-cache", ttl_secs = 3600)]
/// fn fib(n: u64) -> pottery::Result<u64> {
///     Ok(if n < 2 { n } else { fib(n - 1)? + fib(n - 2)? })
/// }
///
/// assert_eq!(fib(80)?, 23_416_728_348_467_685); // each fib(k) computed once
/// let stats = fib_cache()?.stats()?;
/// assert_eq!((stats.misses, stats.size), (81, 81));
/// assert_eq!(fib_no_cache(10)?, 55); // the body: reads and stores nothing
/// fib_cache()?.clear()?;
/// # Ok::<(), pottery::Error>(())
/// ```
///
/// Your own cache, a function that can fail with your error type, several arguments:
///
/// ```no_run
/// use std::sync::LazyLock;
/// use std::time::Duration;
/// use pottery::RedisCache;
///
/// #[derive(Debug)]
/// enum QuoteError {
///     UnknownPair,
///     Cache(pottery::Error),
/// }
///
/// impl From<pottery::Error> for QuoteError {
///     fn from(error: pottery::Error) -> Self {
///         QuoteError::Cache(error)
///     }
/// }
///
/// static RATES: LazyLock<RedisCache> = LazyLock::new(|| {
///     let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
///     RedisCache::open(url, "rates")
///         .expect("REDIS_URL is a redis:// URL")
///         .with_ttl(Duration::from_secs(60))
/// });
///
/// #[pottery::cached(cache = RATES, name = "rate-v2")]
/// fn rate(from: &str, to: &str) -> Result<f64, QuoteError> {
///     match (from, to) {
///         ("EUR", "USD") => Ok(1.08),
///         _ => Err(QuoteError::UnknownPair), // returned, not stored
///     }
/// }
///
/// assert_eq!(rate("EUR", "USD").unwrap(), 1.08); // field ["rate-v2", ["EUR", "USD"]]
/// assert!(matches!(rate("EUR", "XYZ"), Err(QuoteError::UnknownPair)));
/// assert_eq!(rate_cache().len()?, 1);
/// rate_prime_cache("EUR", "USD").unwrap(); // recompute and store
/// # Ok::<(), pottery::Error>(())
/// ```
///
/// An `async fn`, with recursion through the cache and the async companions:
///
/// ```no_run
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "fib-cache", ttl_secs = 3600)]
/// async fn fib(n: u64) -> pottery::Result<u64> {
///     // A recursive async fn boxes its recursive calls.
///     Ok(if n < 2 { n } else { Box::pin(fib(n - 1)).await? + Box::pin(fib(n - 2)).await? })
/// }
///
/// # async fn run() -> pottery::Result<()> {
/// assert_eq!(fib(80).await?, 23_416_728_348_467_685);
/// let cache: &'static pottery::aio::RedisCache = fib_cache()?;
/// assert_eq!(cache.stats().await?.size, 81);
/// assert_eq!(fib_no_cache(10).await?, 55);
/// fib_prime_cache(80).await?; // recompute and store
/// cache.clear().await?;
/// # Ok(())
/// # }
/// ```
///
/// Your own async cache, in a `static`:
///
/// ```no_run
/// use std::sync::LazyLock;
/// use pottery::aio::RedisCache;
///
/// static PROFILES: LazyLock<RedisCache> = LazyLock::new(|| {
///     RedisCache::open("redis://127.0.0.1:6379/", "profiles").expect("a redis:// URL")
/// });
///
/// #[pottery::cached(cache = PROFILES)]
/// async fn profile(user: &str) -> pottery::Result<String> {
///     Ok(format!("profile of {user}")) // an HTTP call, say
/// }
///
/// # async fn run() -> pottery::Result<()> {
/// let (a, b) = tokio::join!(profile("ada"), profile("ada")); // computed once
/// assert_eq!(a?, b?);
/// assert_eq!(profile_cache().len().await?, 1);
/// # Ok(())
/// # }
/// ```
///
/// Refused at compile time, among others:
///
/// ```compile_fail
/// // An async fn needs an async cache.
/// static SYNC: std::sync::LazyLock<pottery::RedisCache> = std::sync::LazyLock::new(|| {
///     pottery::RedisCache::open("redis://127.0.0.1:6379/", "k").unwrap()
/// });
/// #[pottery::cached(cache = SYNC)]
/// async fn fetch(id: u64) -> pottery::Result<String> { Ok(id.to_string()) }
/// ```
///
/// ```compile_fail
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
/// const fn constant(id: u64) -> pottery::Result<u64> { Ok(id) }
/// ```
///
/// ```compile_fail
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
/// fn plain(id: u64) -> u64 { id } // no way to report a Redis error
/// ```
///
/// ```compile_fail
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
/// fn first<T: serde::Serialize>(items: Vec<T>) -> pottery::Result<usize> { Ok(items.len()) }
/// ```
///
/// ```compile_fail
/// struct Prices;
/// impl Prices {
///     #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
///     fn price(&self, id: u64) -> pottery::Result<u64> { Ok(id) }
/// }
/// ```
///
/// ```compile_fail
/// #[pottery::cached(key = "k")] // `key` without `url`
/// fn f(id: u64) -> pottery::Result<u64> { Ok(id) }
/// ```
///
/// ```compile_fail
/// struct NotSerialize;
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
/// fn g(value: NotSerialize) -> pottery::Result<u64> { Ok(1) }
/// ```
///
/// ```compile_fail
/// #[pottery::cached(url = "redis://127.0.0.1:6379/", key = "k")]
/// fn h(id: u64) -> Result<u64, std::fmt::Error> { Ok(id) } // fmt::Error: !From<pottery::Error>
/// ```
#[doc(inline)]
pub use pottery_macros::cached;

/// [`rate_limit::RateLimiter`] on the sync face: every call waits and returns a [`Result`].
pub type RateLimiter = crate::rate_limit::RateLimiter<Blocking>;
