//! [`RedisCache`]: memoizes function results in a Redis hash, computing each missing value once.
//!
//! The struct and the calls without user closures (reads and writes of the hash, statistics)
//! are written once here, as [`Operation`]s; the calls that run a computation are per face, in
//! `cache_blocking.rs` and `cache_tokio.rs`.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::to_json;
use crate::containers::dict::decode_optional;
use crate::error::Result;
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::redlock::sync::Redlock;
use crate::transport::connector::{lock, Connector};
use crate::transport::key::KeyHandle;

/// Hit and miss counts of one [`RedisCache`] handle (and its clones), and the entries stored.
///
/// # Example
///
/// ```no_run
/// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "cache")?;
/// let stats = cache.stats()?;
/// println!("{} hits, {} misses, {} entries", stats.hits, stats.misses, stats.size);
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Calls answered from Redis (including callers that waited for another to compute).
    pub hits: u64,
    /// Calls that found no stored value and computed it.
    pub misses: u64,
    /// Entries in the Redis hash now (`HLEN`), from every process sharing the key.
    pub size: u64,
}

/// A memoizing cache for functions, in a Redis hash: field = JSON(`[function id, [args...]]`),
/// value = JSON(result), both encoded by [`pottery::codec`](crate::codec), with a sliding TTL
/// on the whole hash (every read or write of an entry pushes the expiry back, as Python
/// pottery's `redis_cache` does).
///
/// [`get_or_compute`](Self::get_or_compute) returns the stored result or computes, stores and
/// returns it. Within a process only one caller computes a missing value: concurrent callers
/// asking for the same function and arguments wait for it and then read its result. With
/// [`with_lock`](Self::with_lock) a [`Redlock`] also makes callers in other processes wait.
/// Clones share the key, the connections, the statistics and the in-flight computations.
///
/// Arguments are given as a tuple (`&(a, b)`, `&(x,)`, or `&()` for none), stored as a JSON
/// array. Python pottery keys its cache with Python's per-process `hash()`, so the two cannot
/// share cache keys.
///
/// `pottery::RedisCache` is the sync face ([`Blocking`]): computations are closures and the
/// waiting callers block their thread. [`aio::RedisCache`](crate::aio::RedisCache) is the async
/// face: computations are futures, waiting callers await (no runtime thread is blocked), and
/// the cross-process lock is an [`aio::Redlock`](crate::aio::Redlock). Both store the same
/// fields and values, so a sync and an async cache on one key see each other's entries.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisCache;
/// use std::time::Duration;
///
/// let cache = RedisCache::open("redis://127.0.0.1:6379/", "fib-cache")?.with_ttl(Duration::from_secs(60));
/// fn fib(n: u64) -> u64 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
/// let value: u64 = cache.get_or_compute("fib", &(30,), || fib(30))?;
/// assert_eq!(value, 832_040);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisCache<F: Face = Blocking> {
    pub(super) handle: Arc<KeyHandle>,
    ttl: Option<Duration>,
    pub(super) lock: Option<Arc<CrossProcessLock>>,
    pub(super) shared: Arc<Shared>,
    face: PhantomData<fn() -> F>,
}

impl<F: Face> Clone for RedisCache<F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            ttl: self.ttl,
            lock: self.lock.clone(),
            shared: Arc::clone(&self.shared),
            face: PhantomData,
        }
    }
}

/// The lock of [`RedisCache::with_lock`], of the cache's face.
pub(super) enum CrossProcessLock {
    Blocking(Redlock),
    #[cfg(feature = "tokio")]
    Tokio(crate::redlock::tokio::Redlock),
}

impl CrossProcessLock {
    fn key(&self) -> &str {
        match self {
            Self::Blocking(lock) => lock.key(),
            #[cfg(feature = "tokio")]
            Self::Tokio(lock) => lock.key(),
        }
    }
}

/// What clones of one cache share besides the key.
#[derive(Default)]
pub(super) struct Shared {
    hits: AtomicU64,
    misses: AtomicU64,
    /// The computations in progress of a sync cache: one mutex per field, held by the caller
    /// that computes.
    pub(super) blocking: Flights<Mutex<()>>,
    /// The same for an async cache, with mutexes that are awaited.
    #[cfg(feature = "tokio")]
    pub(super) tokio: Flights<tokio::sync::Mutex<()>>,
}

/// The computations in progress, by field: the caller holding a field's mutex computes, the
/// others wait for it and then read what it stored.
pub(super) struct Flights<M> {
    table: Mutex<HashMap<Vec<u8>, Arc<M>>>,
}

impl<M> Default for Flights<M> {
    fn default() -> Self {
        Self {
            table: Mutex::default(),
        }
    }
}

impl<M: Default> Flights<M> {
    /// The mutex of `field`'s computation, made if none is in progress.
    pub(super) fn join(&self, field: &[u8]) -> Arc<M> {
        let mut table = lock(&self.table);
        Arc::clone(table.entry(field.to_vec()).or_default())
    }

    /// A guard that forgets `field`'s computation when dropped: when it ends, also by panic or
    /// (async) by cancellation.
    pub(super) fn end_on_drop<'a>(&'a self, field: &'a [u8]) -> FlightEnd<'a, M> {
        FlightEnd {
            flights: self,
            field,
        }
    }
}

/// See [`Flights::end_on_drop`].
pub(super) struct FlightEnd<'a, M> {
    flights: &'a Flights<M>,
    field: &'a [u8],
}

impl<M> Drop for FlightEnd<'_, M> {
    fn drop(&mut self) {
        lock(&self.flights.table).remove(self.field);
    }
}

impl<F: Face> fmt::Debug for RedisCache<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisCache")
            .field("key", &self.handle.name())
            .field("ttl", &self.ttl)
            .field(
                "lock",
                &self.lock.as_ref().map(|lock| lock.key().to_owned()),
            )
            .finish()
    }
}

impl<F: Face> RedisCache<F> {
    /// A cache on `key` of face `F`, with no TTL and no lock (the faces' `open`).
    pub(super) fn attach(connector: Connector, key: &str) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new::<F>(connector, Some(key))?,
            ttl: None,
            lock: None,
            shared: Arc::default(),
            face: PhantomData,
        })
    }

    /// The cache with its cross-process lock (the faces' `with_lock`).
    pub(super) fn locked_by(mut self, lock: CrossProcessLock) -> Self {
        self.lock = Some(Arc::new(lock));
        self
    }

    /// The cache with a sliding TTL: every read or write of an entry sets the whole hash to
    /// expire `ttl` later (`PEXPIRE`, millisecond precision; at least 1 ms).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "sessions")?
    ///     .with_ttl(Duration::from_secs(300));
    /// assert_eq!(cache.ttl(), Some(Duration::from_secs(300)));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl.max(Duration::from_millis(1)));
        self
    }

    /// The Redis key of the hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// assert_eq!(cache.key(), "c");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// The sliding TTL, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// assert_eq!(cache.ttl(), None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// The stored result of `function` for `args`, if any, without computing; slides the TTL
    /// and counts a hit or a miss.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// let cached: Option<String> = cache.get("greet", &("ada",))?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get<A, T>(&self, function: &str, args: &A) -> F::Output<Option<T>>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned + Send + 'static,
    {
        F::run(Operation::build(|| {
            let shared = Arc::clone(&self.shared);
            Ok(self.read(&field(function, args)?).map(move |value| {
                if value.is_none() {
                    shared.misses.fetch_add(1, Ordering::Relaxed);
                }
                value
            }))
        }))
    }

    /// Forgets the stored result of `function` for `args`; whether there was one (`HDEL`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// cache.get_or_compute("one", &(), || 1)?;
    /// assert!(cache.remove("one", &())?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn remove<A: Serialize + ?Sized>(&self, function: &str, args: &A) -> F::Output<bool> {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("HDEL");
            command.arg(field(function, args)?);
            Ok(self
                .handle
                .request::<i64>(command)
                .map(|removed| removed > 0))
        }))
    }

    /// Removes every entry (deletes the hash) and resets the hit and miss counts.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// cache.clear()?;
    /// assert_eq!(cache.len()?, 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        let shared = Arc::clone(&self.shared);
        let unlink = self.handle.request::<()>(self.handle.command("UNLINK"));
        F::run(unlink.map(move |()| {
            shared.hits.store(0, Ordering::Relaxed);
            shared.misses.store(0, Ordering::Relaxed);
        }))
    }

    /// The number of stored entries (`HLEN`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// let entries: usize = cache.len()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        F::run(self.handle.request(self.handle.command("HLEN")))
    }

    /// Whether the cache holds no entry.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// if cache.is_empty()? { println!("cold cache"); }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        let len = self.handle.request::<usize>(self.handle.command("HLEN"));
        F::run(len.map(|len| len == 0))
    }

    /// Hits and misses counted by this handle and its clones since creation or the last
    /// [`clear`](Self::clear), and the entries stored now.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "c")?;
    /// cache.get_or_compute("answer", &(), || 42)?;
    /// cache.get_or_compute("answer", &(), || 42)?;
    /// let stats = cache.stats()?;
    /// assert_eq!((stats.hits, stats.misses), (1, 1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn stats(&self) -> F::Output<CacheStats> {
        let shared = Arc::clone(&self.shared);
        let len = self.handle.request::<u64>(self.handle.command("HLEN"));
        F::run(len.map(move |size| CacheStats {
            hits: shared.hits.load(Ordering::Relaxed),
            misses: shared.misses.load(Ordering::Relaxed),
            size,
        }))
    }

    /// Reads `field` and slides the TTL in one transaction; counts a hit when found.
    pub(super) fn read<T>(&self, field: &[u8]) -> Operation<Option<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let mut pipeline = redis::pipe();
        pipeline.atomic().cmd("HGET").arg(self.key()).arg(field);
        self.slide(&mut pipeline);
        let shared = Arc::clone(&self.shared);
        self.handle
            .request_pipeline::<(Option<Vec<u8>>,)>(pipeline)
            .and_then(move |(stored,)| {
                let value = decode_optional(stored)?;
                if value.is_some() {
                    shared.hits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(value)
            })
    }

    /// Writes `field` and slides the TTL in one transaction.
    pub(super) fn store<T: Serialize + ?Sized>(&self, field: &[u8], value: &T) -> Operation<()> {
        Operation::build(|| {
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("HSET")
                .arg(self.key())
                .arg(field)
                .arg(to_json(value)?)
                .ignore();
            self.slide(&mut pipeline);
            Ok(self.handle.request_pipeline(pipeline))
        })
    }

    /// Counts a computation.
    pub(super) fn count_miss(&self) {
        self.shared.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Appends the `PEXPIRE` of the sliding TTL (if any) to `pipeline`, its reply ignored.
    fn slide(&self, pipeline: &mut redis::Pipeline) {
        if let Some(ttl) = self.ttl {
            pipeline
                .cmd("PEXPIRE")
                .arg(self.key())
                .arg(millis(ttl))
                .ignore();
        }
    }
}

/// The hash field of a call: JSON `[function, [args...]]`; `()` gives `[]` and a value that is
/// not a sequence is wrapped as the one argument.
pub(super) fn field<A: Serialize + ?Sized>(function: &str, args: &A) -> Result<Vec<u8>> {
    let args = to_json(args)?;
    let mut field = Vec::with_capacity(function.len() + args.len() + 8);
    field.push(b'[');
    field.extend_from_slice(&to_json(function)?);
    field.extend_from_slice(b", ");
    if args == b"null" {
        field.extend_from_slice(b"[]");
    } else if args.first() == Some(&b'[') {
        field.extend_from_slice(&args);
    } else {
        field.push(b'[');
        field.extend_from_slice(&args);
        field.push(b']');
    }
    field.push(b']');
    Ok(field)
}

/// `ttl` in whole milliseconds, at least 1, saturating.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_is_function_then_argument_array() {
        assert_eq!(field("f", &(1, "a")).unwrap(), br#"["f", [1, "a"]]"#);
        assert_eq!(field("f", &(7,)).unwrap(), br#"["f", [7]]"#);
        assert_eq!(field("f", &()).unwrap(), br#"["f", []]"#);
        assert_eq!(field("f", &7).unwrap(), br#"["f", [7]]"#);
        assert_eq!(
            field("é", &("😀",)).unwrap(),
            br#"["\u00e9", ["\ud83d\ude00"]]"#
        );
    }

    #[test]
    fn millis_never_zero_nor_wraps() {
        assert_eq!(millis(Duration::from_micros(10)), 1);
        assert_eq!(millis(Duration::MAX), u64::MAX);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
