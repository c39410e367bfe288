//! The constructors and writes of [`CachedOrderedDict`] on each face: each runs one shared
//! operation and applies its result to the local entries, which needs `&mut self` after the
//! round trip (the operations are in `cached_ordered_dict.rs`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::caching::cached_ordered_dict::{CachedOrderedDict, DEFAULT_CACHE_TIMEOUT};
use crate::error::Result;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;

impl<K, V> CachedOrderedDict<K, V, Blocking>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    /// Looks up `keys`, in order, in the hash at `key` with one `HMGET` (no command at all for
    /// no keys), then sets the hash to expire after [`DEFAULT_CACHE_TIMEOUT`] (pipelined: one
    /// round trip).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs: pottery::CachedOrderedDict<String, String> = pottery::CachedOrderedDict::open(
    ///     "redis://127.0.0.1:6379/",
    ///     "docs",
    ///     ["b".to_owned(), "a".to_owned()],
    /// )?;
    /// let order: Vec<&String> = docs.keys().collect();
    /// assert_eq!(order, ["b", "a"]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Self> {
        Self::open_with_timeout(connector, key, keys, Some(DEFAULT_CACHE_TIMEOUT))
    }

    /// [`open`](Self::open) with the hash's time to live after each write: `None` never sets
    /// an expiry; `Some` must be at least a millisecond (else
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let docs: pottery::CachedOrderedDict<u32, String> =
    ///     pottery::CachedOrderedDict::open_with_timeout(
    ///         "redis://127.0.0.1:6379/",
    ///         "docs",
    ///         [1, 2],
    ///         Some(Duration::from_secs(600)),
    ///     )?;
    /// assert_eq!(docs.len(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open_with_timeout(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        Blocking::run(Self::opening(connector.into(), key, keys, timeout))
    }

    /// Stores `value` for `key` here and in the hash (`HSET`, then `PEXPIRE`, one round trip);
    /// a key not in the dict yet is appended (Python's `d[key] = value`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// docs.insert(1, "one".to_owned())?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert(&mut self, key: K, value: V) -> Result<()> {
        self.extend([(key, value)])
    }

    /// Stores every entry of `entries` here and in the hash (later ones win): `HSET`s of up to
    /// 1000 pairs and the `PEXPIRE`, pipelined in one round trip (Python's `update`). On an
    /// error nothing changes here, though some batches may have reached the hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2])?;
    /// docs.extend([(1, "one".to_owned()), (2, "two".to_owned())])?;
    /// assert_eq!(docs.get(&2).map(String::as_str), Some("two"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        let written = Blocking::run(self.writing(entries))?;
        self.apply(written);
        Ok(())
    }

    /// Computes a value for every miss with `make`, in order, and stores them all with one
    /// [`extend`](Self::extend): the hydrate-the-misses step in one round trip.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2])?;
    /// docs.fill_misses_with(|id| format!("document {id}"))?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn fill_misses_with(&mut self, mut make: impl FnMut(&K) -> V) -> Result<()>
    where
        K: Clone,
    {
        let filled: Vec<(K, V)> = self.misses().map(|key| (key.clone(), make(key))).collect();
        self.extend(filled)
    }

    /// Python's `setdefault`: stores `default` in the hash unless it already has a value for
    /// `key` (`HSETNX` and `HGET` in one `MULTI`/`EXEC`, then `PEXPIRE`), and keeps and returns
    /// the value the hash holds now, so a value cached meanwhile by another process wins. A
    /// key not in the dict yet is appended.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// let doc = docs.setdefault(1, "fallback".to_owned())?;
    /// println!("{doc}");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn setdefault(&mut self, key: K, default: V) -> Result<&V> {
        let stored = Blocking::run(self.defaulting(key, &default))?;
        Ok(self.settle(stored))
    }
}

#[cfg(feature = "tokio")]
impl<K, V> CachedOrderedDict<K, V, crate::aio::Tokio>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    /// Looks up `keys`, in order, with one `HMGET` pipelined with the expiry, as on the sync
    /// face ([`CachedOrderedDict::open`](crate::CachedOrderedDict::open)).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let docs: pottery::aio::CachedOrderedDict<String, String> =
    ///     pottery::aio::CachedOrderedDict::open(
    ///         "redis://127.0.0.1:6379/",
    ///         "docs",
    ///         ["b".to_owned(), "a".to_owned()],
    ///     )
    ///     .await?;
    /// let order: Vec<&String> = docs.keys().collect();
    /// assert_eq!(order, ["b", "a"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Self> {
        Self::open_with_timeout(connector, key, keys, Some(DEFAULT_CACHE_TIMEOUT)).await
    }

    /// [`open`](Self::open) with the hash's time to live after each write: `None` never sets
    /// an expiry; `Some` must be at least a millisecond (else
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # async fn run() -> pottery::Result<()> {
    /// let docs: pottery::aio::CachedOrderedDict<u32, String> =
    ///     pottery::aio::CachedOrderedDict::open_with_timeout(
    ///         "redis://127.0.0.1:6379/",
    ///         "docs",
    ///         [1, 2],
    ///         Some(Duration::from_secs(600)),
    ///     )
    ///     .await?;
    /// assert_eq!(docs.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open_with_timeout(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        crate::aio::Tokio::run(Self::opening(connector.into(), key, keys, timeout)).await
    }

    /// Stores `value` for `key` here and in the hash in one round trip, as on the sync face.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut docs = pottery::aio::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1]).await?;
    /// docs.insert(1, "one".to_owned()).await?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn insert(&mut self, key: K, value: V) -> Result<()> {
        self.extend([(key, value)]).await
    }

    /// Stores every entry of `entries` here and in the hash in one round trip, as on the sync
    /// face; on an error nothing changes here.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut docs = pottery::aio::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2]).await?;
    /// docs.extend([(1, "one".to_owned()), (2, "two".to_owned())]).await?;
    /// assert_eq!(docs.get(&2).map(String::as_str), Some("two"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn extend(&mut self, entries: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        let written = crate::aio::Tokio::run(self.writing(entries)).await?;
        self.apply(written);
        Ok(())
    }

    /// Awaits a value for every miss from `make`, one after the other in order, and stores
    /// them all with one [`extend`](Self::extend). `make` gets a reference to the key; the
    /// future it returns cannot borrow it (copy or clone what it needs).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut docs = pottery::aio::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2]).await?;
    /// docs.fill_misses_with(|&id| async move { format!("document {id}") }).await?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fill_misses_with<Fut>(&mut self, mut make: impl FnMut(&K) -> Fut) -> Result<()>
    where
        K: Clone,
        Fut: std::future::Future<Output = V>,
    {
        let misses: Vec<K> = self.misses().cloned().collect();
        let mut filled = Vec::with_capacity(misses.len());
        for key in misses {
            let value = make(&key).await;
            filled.push((key, value));
        }
        self.extend(filled).await
    }

    /// Python's `setdefault`, atomically in the hash, as on the sync face: the value the hash
    /// holds now (`default` unless another was cached) is kept and returned.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut docs = pottery::aio::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1]).await?;
    /// let doc = docs.setdefault(1, "fallback".to_owned()).await?;
    /// println!("{doc}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn setdefault(&mut self, key: K, default: V) -> Result<&V> {
        let stored = crate::aio::Tokio::run(self.defaulting(key, &default)).await?;
        Ok(self.settle(stored))
    }
}
