//! The sync face of [`RedisCache`]: computations are closures; callers waiting for another's
//! computation block their thread.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::caching::cache::{field, CrossProcessLock, RedisCache};
use crate::error::{Error, Result};
use crate::face::{Blocking, Face};
use crate::redlock::sync::Redlock;
use crate::transport::connector::{lock, Connector};

impl RedisCache<Blocking> {
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
        Self::attach(connector.into(), key)
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
    pub fn with_lock(self, lock: Redlock) -> Self {
        self.locked_by(CrossProcessLock::Blocking(lock))
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
        T: Serialize + DeserializeOwned + Send + 'static,
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
        T: Serialize + DeserializeOwned + Send + 'static,
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
        T: Serialize + DeserializeOwned + Send + 'static,
        E: From<Error>,
    {
        let field = field(function, &args)?;
        if let Some(value) = Blocking::run(self.read(&field))? {
            return Ok(value);
        }
        let flights = &self.shared.blocking;
        let flight = flights.join(&field);
        let _computing = lock(&flight);
        let _end = flights.end_on_drop(&field);
        // Whoever held the flight before us has stored its result by now.
        if let Some(value) = Blocking::run(self.read(&field))? {
            return Ok(value);
        }
        let Some(CrossProcessLock::Blocking(lock)) = self.lock.as_deref() else {
            return self.compute_and_store(&field, || call(args));
        };
        let guard = lock.acquire()?;
        let outcome = match Blocking::run(self.read(&field)) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => self.compute_and_store(&field, || call(args)),
            Err(error) => Err(error.into()),
        };
        guard.release()?;
        outcome
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
        Blocking::run(self.store(&field, &value))?;
        Ok(value)
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
        self.count_miss();
        let value = compute()?;
        Blocking::run(self.store(field, &value))?;
        Ok(value)
    }
}
