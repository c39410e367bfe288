//! What [`RedisDict`] has per face: `from_iter_in`, `get_or_insert_with` (its closure runs on
//! the caller's side of the face, between a shared read and a shared `setdefault`), and `for`
//! over a `&RedisDict` on the sync face.

use std::borrow::Borrow;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::containers::dict::RedisDict;
use crate::containers::scan::Scan;
use crate::error::Result;
use crate::face::Blocking;
use crate::transport::connector::Connector;

impl<K, V> RedisDict<K, V, Blocking>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    /// A dict at a new random key (see [`new`](Self::new)) filled with `entries`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let squares = pottery::RedisDict::from_iter_in(
    ///     "redis://127.0.0.1:6379/",
    ///     (1..=3).map(|n: i64| (n, n * n)),
    /// )?;
    /// assert_eq!(squares.get(&3)?, Some(9));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn from_iter_in<I>(connector: impl Into<Connector>, entries: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
    {
        let dict = Self::new(connector)?;
        dict.extend(entries)?;
        Ok(dict)
    }

    /// The entry API's `or_insert_with`: the value of `key`, or else `make()` stored and
    /// returned. `make` runs only when `key` looked absent; the store is a
    /// [`setdefault`](Self::setdefault), so a value stored meanwhile by someone else wins and is
    /// returned.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let cache: pottery::RedisDict<String, String> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// let page = cache.get_or_insert_with("/", || "<html>".to_owned())?;
    /// assert_eq!(page, "<html>");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> Result<V>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        if let Some(value) = self.get(key)? {
            return Ok(value);
        }
        self.setdefault(key, &make())
    }
}

#[cfg(feature = "tokio")]
impl<K, V> RedisDict<K, V, crate::aio::Tokio>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    /// A dict at a new random key (see [`new`](Self::new)) filled with `entries`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let squares = pottery::aio::RedisDict::from_iter_in(
    ///     "redis://127.0.0.1:6379/",
    ///     (1..=3).map(|n: i64| (n, n * n)),
    /// )
    /// .await?;
    /// assert_eq!(squares.get(&3).await?, Some(9));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_iter_in<I>(connector: impl Into<Connector>, entries: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
    {
        let dict = Self::new(connector)?;
        dict.extend(entries).await?;
        Ok(dict)
    }

    /// The entry API's `or_insert_with`, as on the sync face: `make` runs only when `key`
    /// looked absent, and a value stored meanwhile by someone else wins and is returned.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let cache: pottery::aio::RedisDict<String, String> = pottery::aio::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// let page = cache.get_or_insert_with("/", || "<html>".to_owned()).await?;
    /// assert_eq!(page, "<html>");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> Result<V>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        if let Some(value) = self.get(key).await? {
            return Ok(value);
        }
        self.setdefault(key, &make()).await
    }
}

/// `for item in &container` iterates like [`iter`](RedisDict::iter).
impl<K, V> IntoIterator for &RedisDict<K, V>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<(K, V)>;
    type IntoIter = Scan<(K, V)>;

    fn into_iter(self) -> Scan<(K, V)> {
        self.iter()
    }
}
