//! What [`RedisList`] has per face: `from_iter_in`, and the sort that takes a comparison of the
//! caller's (a closure, so it runs on the caller's side of the face, between a shared read and
//! a shared write-back).

use std::cmp::Ordering;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::containers::list::{ListIter, RedisList};
use crate::error::Result;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;

impl<T> RedisList<T, Blocking>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A list at a new random key (see [`new`](Self::new)) holding `items` in order.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let squares = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", (1..=3).map(|n: i64| n * n))?;
    /// assert_eq!(squares.to_vec()?, [1, 4, 9]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn from_iter_in<I>(connector: impl Into<Connector>, items: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let list = Self::new(connector)?;
        list.extend(items)?;
        Ok(list)
    }

    /// Sorts the list with `compare` (stable), as [`sort`](Self::sort) does: reads the list,
    /// sorts it here and writes it back in one `MULTI`/`EXEC`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1.5f64, -2.0, 0.25])?;
    /// list.sort_by(|a, b| b.total_cmp(a))?;
    /// assert_eq!(list.to_vec()?, [1.5, 0.25, -2.0]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) -> Result<()> {
        let mut items = Blocking::run(self.range(0, i64::MAX))?;
        items.sort_by(compare);
        Blocking::run(self.rewrite(&items))
    }
}

#[cfg(feature = "tokio")]
impl<T> RedisList<T, crate::aio::Tokio>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A list at a new random key (see [`new`](Self::new)) holding `items` in order.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let squares =
    ///     pottery::aio::RedisList::from_iter_in("redis://127.0.0.1:6379/", (1..=3).map(|n: i64| n * n)).await?;
    /// assert_eq!(squares.to_vec().await?, [1, 4, 9]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_iter_in<I>(connector: impl Into<Connector>, items: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let list = Self::new(connector)?;
        list.extend(items).await?;
        Ok(list)
    }

    /// Sorts the list with `compare` (stable), as on the sync face: reads the list, sorts it
    /// here and writes it back in one `MULTI`/`EXEC`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let list = pottery::aio::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1.5f64, -2.0, 0.25]).await?;
    /// list.sort_by(|a, b| b.total_cmp(a)).await?;
    /// assert_eq!(list.to_vec().await?, [1.5, 0.25, -2.0]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) -> Result<()> {
        use crate::aio::Tokio;

        let mut items = Tokio::run(self.range(0, i64::MAX)).await?;
        items.sort_by(compare);
        Tokio::run(self.rewrite(&items)).await
    }
}

/// `for item in &list`: the same as [`RedisList::iter`].
///
/// # Example
///
/// ```no_run
/// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
/// for item in &list {
///     println!("{}", item?);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
impl<T> IntoIterator for &RedisList<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<T>;
    type IntoIter = ListIter<T>;

    fn into_iter(self) -> ListIter<T> {
        self.iter()
    }
}
