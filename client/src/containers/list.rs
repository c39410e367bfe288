//! [`RedisList`]: a `Vec` that lives in a Redis list, shared with Python pottery's `RedisList`,
//! and [`ListIter`], its batched iterator.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::error::{Error, Result};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// Elements per `LRANGE` when iterating, and per `RPUSH` when writing many.
pub(crate) const LIST_BATCH: usize = 1000;

/// A list stored in a Redis list: item = JSON(element), index 0 at the head, byte for byte as
/// Python pottery 3.0.1's `RedisList` stores it, so both can share the key.
///
/// Elements are any `serde` type, encoded by [`pottery::codec`](crate::codec). Indexes follow
/// Python: negative ones count from the end; [`insert`](Self::insert) clamps an index out of
/// range (as `list.insert` does), [`get`](Self::get) and [`remove`](Self::remove) give `None`
/// for one out of range, and [`slice`](Self::slice)/[`set_slice`](Self::set_slice) take Python's
/// `start:stop` (stop exclusive, clamped). Every method is one round trip and atomic: index
/// operations run inside Redis through the pottery module (`POTTERY.LIST.*`), so concurrent
/// writers never lose an insert; only [`sort`](Self::sort)/[`sort_by`](Self::sort_by) read the
/// list and write it back.
///
/// Methods take `&self`: calls from several threads through one handle take turns on its
/// connection; clones share the key and the connection. A list made without a key name owns a
/// random key (`pottery:<uuid4>`) that is deleted when its last clone is dropped; a named key is
/// never deleted by `pottery`.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisList;
///
/// let tasks: RedisList<String> = RedisList::open("redis://127.0.0.1:6379/", "tasks")?;
/// tasks.push("write")?;
/// tasks.push("test")?;
/// tasks.insert(0, "think")?;
/// assert_eq!(tasks.get(-1)?.as_deref(), Some("test"));
/// assert_eq!(tasks.slice(0, 2)?, ["think", "write"]);
/// assert_eq!(tasks.remove(1)?.as_deref(), Some("write"));
/// assert_eq!(tasks.len()?, 2);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisList<T> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> T>,
}

impl<T> Clone for RedisList<T> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RedisList<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisList")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T> RedisList<T> {
    pub(crate) fn from_handle(handle: Arc<KeyHandle>) -> Self {
        Self {
            handle,
            types: PhantomData,
        }
    }

    pub(crate) fn handle(&self) -> &Arc<KeyHandle> {
        &self.handle
    }
}

impl<T> RedisList<T>
where
    T: Serialize + DeserializeOwned,
{
    /// Attaches to the list at `key` (which may or may not exist yet); the key is never deleted
    /// by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let log: pottery::RedisList<String> = pottery::RedisList::open(&client, "log")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self::from_handle(KeyHandle::new(
            connector.into(),
            Some(key),
        )?))
    }

    /// An empty list at a new random key `pottery:<uuid4>`, deleted when the last clone of this
    /// handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisList<u64> = pottery::RedisList::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Ok(Self::from_handle(KeyHandle::new(connector.into(), None)?))
    }

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

    /// The Redis key of the list.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list: pottery::RedisList<i32> = pottery::RedisList::open("redis://127.0.0.1:6379/", "l")?;
    /// assert_eq!(list.key(), "l");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    fn command(&self, name: &str) -> redis::Cmd {
        let mut command = redis::cmd(name);
        command.arg(self.handle.name());
        command
    }

    /// The number of elements (`LLEN`; 0 for a missing key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ["a", "b"].map(String::from))?;
    /// assert_eq!(list.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> Result<usize> {
        self.handle.query(&self.command("LLEN"))
    }

    /// Whether the list has no elements (a missing key is an empty list).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list: pottery::RedisList<i32> = pottery::RedisList::new("redis://127.0.0.1:6379/")?;
    /// assert!(list.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The element at `index` (negative counts from the end), `None` when out of range
    /// (`LINDEX`): Python's `l[index]` without the `IndexError`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [10, 20, 30])?;
    /// assert_eq!(list.get(0)?, Some(10));
    /// assert_eq!(list.get(-1)?, Some(30));
    /// assert_eq!(list.get(3)?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get(&self, index: i64) -> Result<Option<T>> {
        let stored: Option<Vec<u8>> = self.handle.query(self.command("LINDEX").arg(index))?;
        stored.map(|bytes| from_json(&bytes)).transpose()
    }

    /// The first element, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert_eq!(list.first()?, Some(1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn first(&self) -> Result<Option<T>> {
        self.get(0)
    }

    /// The last element, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert_eq!(list.last()?, Some(2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn last(&self) -> Result<Option<T>> {
        self.get(-1)
    }

    /// Replaces the element at `index` (negative counts from the end) with `value` (`LSET`):
    /// Python's `l[index] = value`. [`Error::IndexOutOfRange`] when there is no such element.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::{Error, RedisList};
    ///
    /// let list = RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3])?;
    /// list.set(-1, &30)?;
    /// assert_eq!(list.to_vec()?, [1, 2, 30]);
    /// assert!(matches!(list.set(3, &4), Err(Error::IndexOutOfRange { index: 3 })));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn set<Q>(&self, index: i64, value: &Q) -> Result<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let encoded = to_json(value)?;
        match self
            .handle
            .query::<()>(self.command("LSET").arg(index).arg(encoded))
        {
            // LSET says "index out of range", or "no such key" for a missing list.
            Err(Error::Redis(error)) if error.code() == Some("ERR") => {
                Err(Error::IndexOutOfRange { index })
            }
            other => other,
        }
    }

    /// Appends `value` at the end (`RPUSH`), like `Vec::push` and Python's `append`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list: pottery::RedisList<String> = pottery::RedisList::new("redis://127.0.0.1:6379/")?;
    /// list.push("a")?;
    /// assert_eq!(list.to_vec()?, ["a"]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn push<Q>(&self, value: &Q) -> Result<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let encoded = to_json(value)?;
        self.handle
            .query::<usize>(self.command("RPUSH").arg(encoded))
            .map(drop)
    }

    /// Removes and returns the last element (`RPOP`), like `Vec::pop`; `None` when empty.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert_eq!(list.pop()?, Some(2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn pop(&self) -> Result<Option<T>> {
        let stored: Option<Vec<u8>> = self.handle.query(&self.command("RPOP"))?;
        stored.map(|bytes| from_json(&bytes)).transpose()
    }

    /// Inserts `value` before position `index` (`POTTERY.LIST.INSERT`): Python's
    /// `list.insert`, so a negative index counts from the end and one out of range inserts at
    /// the nearest end (where `Vec::insert` would panic). Returns the new length. Atomic on
    /// the server: concurrent inserts are never lost.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ['a', 'c'])?;
    /// list.insert(1, &'b')?;
    /// list.insert(-100, &'^')?;
    /// assert_eq!(list.insert(100, &'$')?, 5);
    /// assert_eq!(list.to_vec()?, ['^', 'a', 'b', 'c', '$']);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert<Q>(&self, index: i64, value: &Q) -> Result<usize>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let encoded = to_json(value)?;
        self.handle
            .query(self.command("POTTERY.LIST.INSERT").arg(index).arg(encoded))
    }

    /// Removes and returns the element at `index` (negative counts from the end), `None` when
    /// out of range (`POTTERY.LIST.POP`): Python's `list.pop(index)`, `Vec::remove` without the
    /// panic. Atomic on the server.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3])?;
    /// assert_eq!(list.remove(1)?, Some(2));
    /// assert_eq!(list.remove(-1)?, Some(3));
    /// assert_eq!(list.remove(5)?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn remove(&self, index: i64) -> Result<Option<T>> {
        let stored: Option<Vec<u8>> = self
            .handle
            .query(self.command("POTTERY.LIST.POP").arg(index))?;
        stored.map(|bytes| from_json(&bytes)).transpose()
    }

    /// Whether some element equals `value` (`LPOS`, comparing the stored JSON).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert!(list.contains(&2)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, value: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        Ok(self.position(value)?.is_some())
    }

    /// The index of the first element equal to `value` (`LPOS`): Python's `list.index`
    /// without the `ValueError`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ['x', 'y', 'y'])?;
    /// assert_eq!(list.position(&'y')?, Some(1));
    /// assert_eq!(list.position(&'z')?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn position<Q>(&self, value: &Q) -> Result<Option<usize>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let encoded = to_json(value)?;
        self.handle.query(self.command("LPOS").arg(encoded))
    }

    /// The elements of Python's `l[start:stop]` (step 1, stop exclusive, negative bounds count
    /// from the end, out-of-range bounds clamp), in one `LRANGE`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", 0..10)?;
    /// assert_eq!(list.slice(2, 5)?, [2, 3, 4]);
    /// assert_eq!(list.slice(-3, i64::MAX)?, [7, 8, 9]);
    /// assert_eq!(list.slice(5, 2)?, Vec::<i32>::new());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn slice(&self, start: i64, stop: i64) -> Result<Vec<T>> {
        let Some((first, last)) = lrange_bounds(start, stop) else {
            return Ok(Vec::new());
        };
        let stored: Vec<Vec<u8>> = self
            .handle
            .query(self.command("LRANGE").arg(first).arg(last))?;
        stored.iter().map(|bytes| from_json(bytes)).collect()
    }

    /// Python's `l[start:stop] = values` (`POTTERY.LIST.SETSLICE`): replaces the slice with
    /// `values`, which may be longer or shorter than the slice; no values deletes the slice.
    /// Returns the new length. Atomic on the server.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", 0..6)?;
    /// list.set_slice(1, 4, &[10, 20])?;
    /// assert_eq!(list.to_vec()?, [0, 10, 20, 4, 5]);
    /// list.set_slice(-2, i64::MAX, &[] as &[i32])?;
    /// assert_eq!(list.to_vec()?, [0, 10, 20]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn set_slice<Q>(&self, start: i64, stop: i64, values: &[Q]) -> Result<usize>
    where
        T: Borrow<Q>,
        Q: Serialize,
    {
        let mut command = self.command("POTTERY.LIST.SETSLICE");
        command.arg(start).arg(stop);
        for value in values {
            command.arg(to_json(value)?);
        }
        self.handle.query(&command)
    }

    /// Appends every item in order, atomically (`RPUSH` batches in one `MULTI`/`EXEC`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list: pottery::RedisList<u8> = pottery::RedisList::new("redis://127.0.0.1:6379/")?;
    /// list.extend([1, 2, 3])?;
    /// assert_eq!(list.len()?, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
    {
        let encoded = items
            .into_iter()
            .map(|item| to_json(&item))
            .collect::<Result<Vec<_>>>()?;
        self.push_all("RPUSH", &encoded)
    }

    /// Pushes already encoded items with `command` (`RPUSH`/`LPUSH`) in batches, atomically.
    pub(crate) fn push_all(&self, command: &str, encoded: &[Vec<u8>]) -> Result<()> {
        if encoded.is_empty() {
            return Ok(());
        }
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for batch in encoded.chunks(LIST_BATCH) {
            pipeline
                .cmd(command)
                .arg(self.handle.name())
                .arg(batch)
                .ignore();
        }
        self.handle.query_pipeline(&pipeline)
    }

    /// Removes every element (`DEL`); the key is gone afterwards, as for any empty list.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [1])?;
    /// list.clear()?;
    /// assert!(list.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> Result<()> {
        self.handle.query::<i64>(&self.command("DEL")).map(drop)
    }

    /// A snapshot of the whole list (one `LRANGE`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ["a".to_owned()])?;
    /// let copy: Vec<String> = list.to_vec()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>> {
        self.slice(0, i64::MAX)
    }

    /// Iterates from the head in `LRANGE` batches of 1000 elements, so a long list is never
    /// transferred or decoded in one piece (pottery 3.0.1 pays several round trips per
    /// element). Each batch is read by position: elements inserted or removed before the
    /// current position meanwhile shift what the next batch starts with; use
    /// [`to_vec`](Self::to_vec) for a consistent snapshot.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", 1..=2500)?;
    /// let mut total = 0;
    /// for item in list.iter() {
    ///     total += item?;
    /// }
    /// assert_eq!(total, 2500 * 2501 / 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> ListIter<T> {
        ListIter {
            handle: Arc::clone(&self.handle),
            next_index: 0,
            batch: Vec::new().into_iter(),
            finished: false,
            types: PhantomData,
        }
    }

    /// Sorts the list in Python's order for the same values (numbers numerically, strings by
    /// code point, sequences element by element), in the client: reads the list, sorts it and
    /// writes it back in one `MULTI`/`EXEC`. Not atomic with concurrent writers: a write that
    /// lands between the read and the write-back is overwritten. (Redis's own `SORT ALPHA`
    /// would compare the escaped JSON text, which is not Python's order.)
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ["é", "z", "a"].map(String::from))?;
    /// list.sort()?;
    /// assert_eq!(list.to_vec()?, ["a", "z", "é"]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn sort(&self) -> Result<()>
    where
        T: Ord,
    {
        self.sort_by(T::cmp)
    }

    /// Sorts the list with `compare` (stable), as [`sort`](Self::sort) does.
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
        let mut items = self.to_vec()?;
        items.sort_by(compare);
        let encoded = items
            .iter()
            .map(|item| to_json(item))
            .collect::<Result<Vec<_>>>()?;
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("DEL")
            .arg(self.handle.name())
            .ignore();
        for batch in encoded.chunks(LIST_BATCH) {
            pipeline
                .cmd("RPUSH")
                .arg(self.handle.name())
                .arg(batch)
                .ignore();
        }
        self.handle.query_pipeline(&pipeline)
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
    T: Serialize + DeserializeOwned,
{
    type Item = Result<T>;
    type IntoIter = ListIter<T>;

    fn into_iter(self) -> ListIter<T> {
        self.iter()
    }
}

/// The `LRANGE start end` (end inclusive) that returns Python's `l[start:stop]` without knowing
/// the length, or `None` when the slice is empty whatever the length.
///
/// Both rules clamp negative bounds the same way once `stop` is made inclusive (`stop − 1`),
/// except `stop` = 0 (Python: nothing; `LRANGE … -1`: up to the end), so that case, and a stop
/// not after a start of the same sign, are answered without a round trip.
pub(crate) fn lrange_bounds(start: i64, stop: i64) -> Option<(i64, i64)> {
    if stop == 0 || stop == i64::MIN || ((start < 0) == (stop < 0) && stop <= start) {
        return None;
    }
    Some((start, stop - 1))
}

/// An iterator over a [`RedisList`] or [`RedisDeque`](crate::RedisDeque), from the head,
/// fetching 1000 elements per `LRANGE`. Each item is a `Result`: a failed round trip or an
/// undecodable element ends the iteration with that error.
///
/// # Example
///
/// ```no_run
/// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [3, 1, 2])?;
/// let largest = list.iter().collect::<pottery::Result<Vec<i32>>>()?.into_iter().max();
/// assert_eq!(largest, Some(3));
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct ListIter<T> {
    handle: Arc<KeyHandle>,
    next_index: i64,
    batch: std::vec::IntoIter<Vec<u8>>,
    finished: bool,
    types: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ListIter<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ListIter")
            .field("key", &self.handle.name())
            .field("next_index", &self.next_index)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<T: DeserializeOwned> ListIter<T> {
    fn fetch(&mut self) -> Result<()> {
        let batch = LIST_BATCH as i64;
        let stored: Vec<Vec<u8>> = self.handle.query(
            redis::cmd("LRANGE")
                .arg(self.handle.name())
                .arg(self.next_index)
                .arg(self.next_index + batch - 1),
        )?;
        // A short batch is the last one.
        self.finished = stored.len() < LIST_BATCH;
        self.next_index += stored.len() as i64;
        self.batch = stored.into_iter();
        Ok(())
    }
}

impl<T: DeserializeOwned> Iterator for ListIter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(bytes) = self.batch.next() {
                return Some(from_json(&bytes));
            }
            if self.finished {
                return None;
            }
            if let Err(error) = self.fetch() {
                self.finished = true;
                return Some(Err(error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's `l[start:stop]` on `0..len`.
    fn python_slice(len: usize, start: i64, stop: i64) -> Vec<i64> {
        let adjust = |bound: i64| {
            let bound = i128::from(bound);
            let len = len as i128;
            (if bound < 0 { bound + len } else { bound }).clamp(0, len) as i64
        };
        (adjust(start)..adjust(stop)).collect()
    }

    /// Redis's `LRANGE start end` on `0..len` (t_list.c `addListRangeReply`).
    fn redis_lrange(len: usize, start: i64, end: i64) -> Vec<i64> {
        let len = len as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let end = if end < 0 { len + end } else { end };
        if start > end || start >= len {
            return Vec::new();
        }
        (start..=end.min(len - 1)).collect()
    }

    #[test]
    fn zero_and_minimum_stops_are_empty() {
        assert_eq!(lrange_bounds(-3, 0), None);
        assert_eq!(lrange_bounds(0, 0), None);
        assert_eq!(lrange_bounds(i64::MIN, i64::MIN), None);
        assert_eq!(lrange_bounds(0, i64::MAX), Some((0, i64::MAX - 1)));
        assert_eq!(lrange_bounds(-3, -1), Some((-3, -2)));
    }

    #[test]
    fn lrange_bounds_give_python_slices_for_every_small_case() {
        let bounds: Vec<i64> = (-15..15)
            .chain([i64::MIN, i64::MIN + 1, i64::MAX])
            .collect();
        for len in 0..12 {
            for &start in &bounds {
                for &stop in &bounds {
                    let ours = match lrange_bounds(start, stop) {
                        Some((first, last)) => redis_lrange(len, first, last),
                        None => Vec::new(),
                    };
                    assert_eq!(
                        ours,
                        python_slice(len, start, stop),
                        "{len} [{start}:{stop}]"
                    );
                }
            }
        }
    }
}
