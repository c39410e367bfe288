//! [`RedisCache`]: memoizes function results in a Redis hash, computing each missing value once.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::error::{Error, Result};
use crate::redlock::sync::Redlock;
use crate::transport::connector::Connector;
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
/// Clones share the key, the connection, the statistics and the in-flight computations; calls
/// from several threads take turns on the one connection.
///
/// Arguments are given as a tuple (`&(a, b)`, `&(x,)`, or `&()` for none), stored as a JSON
/// array. Python pottery keys its cache with Python's per-process `hash()`, so the two cannot
/// share cache keys.
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
#[derive(Clone)]
pub struct RedisCache {
    handle: Arc<KeyHandle>,
    ttl: Option<Duration>,
    lock: Option<Arc<Redlock>>,
    shared: Arc<Shared>,
}

/// What clones of one cache share besides the key.
#[derive(Default)]
struct Shared {
    hits: AtomicU64,
    misses: AtomicU64,
    /// One mutex per field being computed: its holder computes, the others wait on it.
    in_flight: Mutex<HashMap<Vec<u8>, Arc<Mutex<()>>>>,
}

impl fmt::Debug for RedisCache {
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

/// Removes a field's in-flight entry when its computation ends, also by panic.
struct FlightEnd<'a> {
    shared: &'a Shared,
    field: &'a [u8],
}

impl Drop for FlightEnd<'_> {
    fn drop(&mut self) {
        self.shared
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.field);
    }
}

impl RedisCache {
    /// Attaches to the cache hash at `key` (which may or may not exist yet), with no TTL and no
    /// cross-process lock. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "prices")?;
    /// assert_eq!(cache.key(), "prices");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new(connector.into(), Some(key))?,
            ttl: None,
            lock: None,
            shared: Arc::default(),
        })
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

    /// The cache with a cross-process lock: a caller that misses computes while holding
    /// `lock`, and reads the hash again once it holds it, so callers in other processes that
    /// share the key and the lock compute a missing value once too. One lock serves the whole
    /// cache: misses for different arguments take turns across processes.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("prices-cache").master("redis://127.0.0.1:6379/").build()?;
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "prices")?.with_lock(lock);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn with_lock(mut self, lock: Redlock) -> Self {
        self.lock = Some(Arc::new(lock));
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

    /// The stored result of `function` for `args`, or `compute()`'s result, stored first.
    ///
    /// Within the process, concurrent callers for the same function and arguments wait while
    /// one computes, then read its result (a hit). [`Error::Decode`] if the stored value is not
    /// JSON of type `T`; the value is then left as it is.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "squares")?;
    /// let square: i64 = cache.get_or_compute("square", &(12,), || 144)?;
    /// assert_eq!(square, 144);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get_or_compute<A, T>(
        &self,
        function: &str,
        args: &A,
        compute: impl FnOnce() -> T,
    ) -> Result<T>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
    {
        self.try_get_or_compute(function, args, || Ok::<T, Error>(compute()))
    }

    /// Like [`get_or_compute`](Self::get_or_compute) for a computation that can fail: an error
    /// is returned as it is and nothing is stored, so the next caller computes again.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "parsed")?;
    /// let number: Result<i64, Box<dyn std::error::Error>> =
    ///     cache.try_get_or_compute("parse", &("42",), || Ok("42".parse::<i64>()?));
    /// assert_eq!(number.unwrap(), 42);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_get_or_compute<A, T, E>(
        &self,
        function: &str,
        args: &A,
        compute: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
        E: From<Error>,
    {
        self.try_get_or_call(function, args, |_| compute())
    }

    /// Like [`try_get_or_compute`](Self::try_get_or_compute), with the arguments given by value
    /// and handed to `call` on a miss: for arguments the computation must own, such as a
    /// `String` passed on to a function that takes it. This is what
    /// [`#[pottery::cached]`](crate::cached) functions call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// fn shout(text: String) -> pottery::Result<String> { Ok(text.to_uppercase()) }
    ///
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "shouts")?;
    /// let text = String::from("hello");
    /// let loud = cache.try_get_or_call("shout", (text,), |(text,)| shout(text))?;
    /// assert_eq!(loud, "HELLO");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_get_or_call<A, T, E>(
        &self,
        function: &str,
        args: A,
        call: impl FnOnce(A) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        A: Serialize,
        T: Serialize + DeserializeOwned,
        E: From<Error>,
    {
        let field = field(function, &args)?;
        if let Some(value) = self.read(&field)? {
            return Ok(value);
        }
        let flight = Arc::clone(
            self.shared
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(field.clone())
                .or_default(),
        );
        let _computing = flight.lock().unwrap_or_else(PoisonError::into_inner);
        let _end = FlightEnd {
            shared: &self.shared,
            field: &field,
        };
        // Whoever held the flight before us has stored its result by now.
        if let Some(value) = self.read(&field)? {
            return Ok(value);
        }
        match &self.lock {
            None => self.compute_and_store(&field, || call(args)),
            Some(lock) => {
                let guard = lock.acquire()?;
                let outcome = match self.read(&field) {
                    Ok(Some(value)) => Ok(value),
                    Ok(None) => self.compute_and_store(&field, || call(args)),
                    Err(error) => Err(error.into()),
                };
                guard.release()?;
                outcome
            }
        }
    }

    /// Computes `function` for `args` again without reading the cache, stores the result
    /// (replacing any stored one) and returns it; counted as neither hit nor miss.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "rates")?;
    /// let fresh: f64 = cache.bypass("rate", &("EUR", "USD"), || 1.08)?;
    /// assert_eq!(cache.get::<_, f64>("rate", &("EUR", "USD"))?, Some(1.08));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn bypass<A, T>(&self, function: &str, args: &A, compute: impl FnOnce() -> T) -> Result<T>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
    {
        self.try_call_and_store(function, args, |_| Ok(compute()))
    }

    /// Like [`bypass`](Self::bypass) for a call that can fail and takes the arguments by value:
    /// `call(args)` runs without reading the cache; its result replaces any stored one, and an
    /// error is returned as it is with nothing stored. Counted as neither hit nor miss.
    ///
    /// # Example
    ///
    /// ```no_run
    /// fn rate(from: String, to: String) -> pottery::Result<f64> { Ok(1.08) }
    ///
    /// let cache = pottery::RedisCache::open("redis://127.0.0.1:6379/", "rates")?;
    /// let args = ("EUR".to_owned(), "USD".to_owned());
    /// let fresh = cache.try_call_and_store("rate", args, |(from, to)| rate(from, to))?;
    /// assert_eq!(cache.get::<_, f64>("rate", &("EUR", "USD"))?, Some(fresh));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_call_and_store<A, T, E>(
        &self,
        function: &str,
        args: A,
        call: impl FnOnce(A) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        A: Serialize,
        T: Serialize,
        E: From<Error>,
    {
        let field = field(function, &args)?;
        let value = call(args)?;
        self.store(&field, &value)?;
        Ok(value)
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
    pub fn get<A, T>(&self, function: &str, args: &A) -> Result<Option<T>>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let field = field(function, args)?;
        let value = self.read(&field)?;
        if value.is_none() {
            self.shared.misses.fetch_add(1, Ordering::Relaxed);
        }
        Ok(value)
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
    pub fn remove<A: Serialize + ?Sized>(&self, function: &str, args: &A) -> Result<bool> {
        let field = field(function, args)?;
        let removed: i64 = self
            .handle
            .query(redis::cmd("HDEL").arg(self.key()).arg(field))?;
        Ok(removed > 0)
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
    pub fn clear(&self) -> Result<()> {
        self.handle
            .query::<()>(redis::cmd("UNLINK").arg(self.key()))?;
        self.shared.hits.store(0, Ordering::Relaxed);
        self.shared.misses.store(0, Ordering::Relaxed);
        Ok(())
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
    pub fn len(&self) -> Result<usize> {
        self.handle.query(redis::cmd("HLEN").arg(self.key()))
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
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
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
    pub fn stats(&self) -> Result<CacheStats> {
        let size = self.len()? as u64;
        Ok(CacheStats {
            hits: self.shared.hits.load(Ordering::Relaxed),
            misses: self.shared.misses.load(Ordering::Relaxed),
            size,
        })
    }

    /// Reads `field` and slides the TTL in one transaction; counts a hit when found.
    fn read<T: DeserializeOwned>(&self, field: &[u8]) -> Result<Option<T>> {
        let mut pipeline = redis::pipe();
        pipeline.atomic().cmd("HGET").arg(self.key()).arg(field);
        if let Some(ttl) = self.ttl {
            pipeline
                .cmd("PEXPIRE")
                .arg(self.key())
                .arg(millis(ttl))
                .ignore();
        }
        let (stored,): (Option<Vec<u8>>,) = self.handle.query_pipeline(&pipeline)?;
        match stored {
            None => Ok(None),
            Some(bytes) => {
                let value = from_json(&bytes)?;
                self.shared.hits.fetch_add(1, Ordering::Relaxed);
                Ok(Some(value))
            }
        }
    }

    /// Counts a miss, computes, stores.
    fn compute_and_store<T, E>(
        &self,
        field: &[u8],
        compute: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        T: Serialize,
        E: From<Error>,
    {
        self.shared.misses.fetch_add(1, Ordering::Relaxed);
        let value = compute()?;
        self.store(field, &value)?;
        Ok(value)
    }

    /// Writes `field` and slides the TTL in one transaction.
    fn store<T: Serialize + ?Sized>(&self, field: &[u8], value: &T) -> Result<()> {
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("HSET")
            .arg(self.key())
            .arg(field)
            .arg(to_json(value)?)
            .ignore();
        if let Some(ttl) = self.ttl {
            pipeline
                .cmd("PEXPIRE")
                .arg(self.key())
                .arg(millis(ttl))
                .ignore();
        }
        self.handle.query_pipeline::<()>(&pipeline)
    }
}

/// The hash field of a call: JSON `[function, [args...]]`; `()` gives `[]` and a value that is
/// not a sequence is wrapped as the one argument.
fn field<A: Serialize + ?Sized>(function: &str, args: &A) -> Result<Vec<u8>> {
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
