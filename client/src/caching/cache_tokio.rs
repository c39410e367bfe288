//! The async face of [`RedisCache`]: computations are futures; callers waiting for another's
//! computation await a `tokio::sync::Mutex`, so no runtime thread is blocked.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::aio::Tokio;
use crate::caching::cache::{field, CrossProcessLock, RedisCache};
use crate::error::{Error, Result};
use crate::face::Face;
use crate::redlock::tokio::Redlock;
use crate::transport::connector::Connector;

impl RedisCache<Tokio> {
    /// Attaches to the cache hash at `key` (which may or may not exist yet), with no TTL and no
    /// cross-process lock. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "prices")?;
    /// assert_eq!(cache.len().await?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), key)
    }

    /// The cache with a cross-process lock, as on the sync face
    /// ([`RedisCache::with_lock`](crate::RedisCache::with_lock)), acquired and released with
    /// `.await`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder()
    ///     .name("prices-cache")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .build_async()
    ///     .await?;
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "prices")?.with_lock(lock);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_lock(self, lock: Redlock) -> Self {
        self.locked_by(CrossProcessLock::Tokio(lock))
    }

    /// The stored result of `function` for `args`, or the result of the future `compute()`
    /// makes, stored first; as on the sync face, concurrent callers with the same arguments
    /// wait (asynchronously) for one computation.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "squares")?;
    /// let square: i64 = cache.get_or_compute("square", &(12,), || async { 144 }).await?;
    /// assert_eq!(square, 144);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_or_compute<A, T, Fut>(
        &self,
        function: &str,
        args: &A,
        compute: impl FnOnce() -> Fut,
    ) -> Result<T>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned + Send + 'static,
        Fut: Future<Output = T>,
    {
        let compute = || async { Ok::<T, Error>(compute().await) };
        self.try_get_or_compute(function, args, compute).await
    }

    /// Like [`get_or_compute`](Self::get_or_compute) for a computation that can fail: an error
    /// is returned as it is and nothing is stored, so the next caller computes again.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "parsed")?;
    /// let number: Result<i64, Box<dyn std::error::Error>> = cache
    ///     .try_get_or_compute("parse", &("42",), || async { Ok("42".parse::<i64>()?) })
    ///     .await;
    /// assert_eq!(number.unwrap(), 42);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn try_get_or_compute<A, T, E, Fut>(
        &self,
        function: &str,
        args: &A,
        compute: impl FnOnce() -> Fut,
    ) -> std::result::Result<T, E>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: From<Error>,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        self.try_get_or_call(function, args, |_| compute()).await
    }

    /// Like [`try_get_or_compute`](Self::try_get_or_compute), with the arguments given by value
    /// and handed to `call` on a miss. This is what async
    /// [`#[pottery::cached]`](crate::cached) functions call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// async fn shout(text: String) -> pottery::Result<String> { Ok(text.to_uppercase()) }
    ///
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "shouts")?;
    /// let text = String::from("hello");
    /// let loud = cache.try_get_or_call("shout", (text,), |(text,)| shout(text)).await?;
    /// assert_eq!(loud, "HELLO");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn try_get_or_call<A, T, E, Fut>(
        &self,
        function: &str,
        args: A,
        call: impl FnOnce(A) -> Fut,
    ) -> std::result::Result<T, E>
    where
        A: Serialize,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: From<Error>,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        let field = field(function, &args)?;
        if let Some(value) = Tokio::run(self.read(&field)).await? {
            return Ok(value);
        }
        let flights = &self.shared.tokio;
        let flight = flights.join(&field);
        let _computing = flight.lock().await;
        let _end = flights.end_on_drop(&field);
        // Whoever held the flight before us has stored its result by now.
        if let Some(value) = Tokio::run(self.read(&field)).await? {
            return Ok(value);
        }
        let Some(CrossProcessLock::Tokio(lock)) = self.lock.as_deref() else {
            return self.compute_and_store(&field, call(args)).await;
        };
        let guard = lock.acquire().await?;
        let outcome = match Tokio::run(self.read(&field)).await {
            Ok(Some(value)) => Ok(value),
            Ok(None) => self.compute_and_store(&field, call(args)).await,
            Err(error) => Err(error.into()),
        };
        guard.release().await?;
        outcome
    }

    /// Computes `function` for `args` again without reading the cache, stores the result
    /// (replacing any stored one) and returns it; counted as neither hit nor miss.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "rates")?;
    /// let fresh: f64 = cache.bypass("rate", &("EUR", "USD"), || async { 1.08 }).await?;
    /// assert_eq!(cache.get::<_, f64>("rate", &("EUR", "USD")).await?, Some(1.08));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn bypass<A, T, Fut>(
        &self,
        function: &str,
        args: &A,
        compute: impl FnOnce() -> Fut,
    ) -> Result<T>
    where
        A: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = T>,
    {
        let call = |_| async { Ok(compute().await) };
        self.try_call_and_store(function, args, call).await
    }

    /// Like [`bypass`](Self::bypass) for a call that can fail and takes the arguments by value:
    /// the future of `call(args)` runs without reading the cache; its result replaces any
    /// stored one, and an error is returned as it is with nothing stored.
    ///
    /// # Example
    ///
    /// ```no_run
    /// async fn rate(from: String, to: String) -> pottery::Result<f64> { Ok(1.08) }
    ///
    /// # async fn run() -> pottery::Result<()> {
    /// let cache = pottery::aio::RedisCache::open("redis://127.0.0.1:6379/", "rates")?;
    /// let args = ("EUR".to_owned(), "USD".to_owned());
    /// let fresh = cache.try_call_and_store("rate", args, |(from, to)| rate(from, to)).await?;
    /// assert_eq!(cache.get::<_, f64>("rate", &("EUR", "USD")).await?, Some(fresh));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn try_call_and_store<A, T, E, Fut>(
        &self,
        function: &str,
        args: A,
        call: impl FnOnce(A) -> Fut,
    ) -> std::result::Result<T, E>
    where
        A: Serialize,
        T: Serialize,
        E: From<Error>,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        let field = field(function, &args)?;
        let value = call(args).await?;
        Tokio::run(self.store(&field, &value)).await?;
        Ok(value)
    }

    /// Counts a miss, awaits the computation, stores.
    async fn compute_and_store<T, E>(
        &self,
        field: &[u8],
        compute: impl Future<Output = std::result::Result<T, E>>,
    ) -> std::result::Result<T, E>
    where
        T: Serialize,
        E: From<Error>,
    {
        self.count_miss();
        let value = compute.await?;
        Tokio::run(self.store(field, &value)).await?;
        Ok(value)
    }
}
