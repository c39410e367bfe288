//! [`RedisList`]: a `Vec` that lives in a Redis list, shared with Python pottery's `RedisList`,
//! and [`ListIter`], its batched iteration.

mod bounds;
mod faces;
mod operations;
mod server_op;

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::decode_optional;
use crate::containers::scan::{Pages, Scan};
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

pub(crate) use self::bounds::lrange_bounds;
pub(crate) use self::operations::encode_all;
pub(crate) use self::server_op::{integers, PUSH, ROTATE};
use self::server_op::{INSERT, POP, SET_SLICE};

/// Elements per `RPUSH` when writing many (iteration pages are [`Scan`]'s, of the same size).
pub(crate) const LIST_BATCH: usize = 1000;

/// The iteration over a [`RedisList`] or a [`RedisDeque`](crate::containers::RedisDeque):
/// a [`Scan`] with `LRANGE` pages of 1000 elements from the head; an `Iterator` on the sync
/// face, a `futures` `Stream` on the async one. Each item is a `Result`: a failed round trip
/// or an undecodable element ends the iteration with that error.
///
/// # Example
///
/// ```no_run
/// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", [3, 1, 2])?;
/// let iter: pottery::ListIter<i32> = list.iter();
/// let largest = iter.collect::<pottery::Result<Vec<i32>>>()?.into_iter().max();
/// assert_eq!(largest, Some(3));
/// # Ok::<(), pottery::Error>(())
/// ```
///
/// On the async face:
///
/// ```no_run
/// use futures_util::StreamExt;
///
/// # async fn run() -> pottery::Result<()> {
/// let list = pottery::aio::RedisList::from_iter_in("redis://127.0.0.1:6379/", 1..=2500).await?;
/// let mut iter: pottery::ListIter<i32, pottery::aio::Tokio> = list.iter();
/// let mut total = 0;
/// while let Some(item) = iter.next().await {
///     total += item?;
/// }
/// assert_eq!(total, 2500 * 2501 / 2);
/// # Ok(())
/// # }
/// ```
pub type ListIter<T, F = Blocking> = Scan<T, F>;

/// A list stored in a Redis list: item = JSON(element), index 0 at the head, byte for byte as
/// Python pottery 3.0.1's `RedisList` stores it, so both can share the key.
///
/// Elements are any `serde` type, encoded by [`pottery::codec`](crate::codec). Indexes follow
/// Python: negative ones count from the end; [`insert`](Self::insert) clamps an index out of
/// range (as `list.insert` does), [`get`](Self::get) and [`remove`](Self::remove) give `None`
/// for one out of range, and [`slice`](Self::slice)/[`set_slice`](Self::set_slice) take Python's
/// `start:stop` (stop exclusive, clamped). Every method is one round trip and atomic: index
/// operations run inside Redis through the pottery module (`POTTERY.LIST.*`), or where the
/// module is not used (see [`Mode`](crate::Mode)) through Lua scripts that do the same, so
/// concurrent writers never lose an insert; only `sort`/`sort_by` read the list and write it
/// back.
///
/// Methods take `&self`: calls from several threads or tasks through one handle run at once on
/// the connections of its [`Connector`], which every container made from it shares; clones
/// share the key. A list made without a key name owns a random key (`pottery:<uuid4>`) that is
/// deleted when its last clone is dropped; a named key is never deleted by `pottery`.
///
/// `RedisList<T>` is the sync face ([`Blocking`]); [`aio::RedisList`](crate::aio::RedisList)
/// has the same methods as futures (see [`Face`]), on the same data.
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
pub struct RedisList<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> T>,
    face: PhantomData<F>,
}

impl<T, F: Face> Clone for RedisList<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
            face: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for RedisList<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisList")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T, F: Face> RedisList<T, F> {
    pub(crate) fn handle(&self) -> &Arc<KeyHandle> {
        &self.handle
    }
}

/// The operations a list, a deque and a queue share: each is one request on the key, run by
/// the caller's face.
impl<T, F: Face> RedisList<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A list on `key`, or on a new random key when `None`, for face `F`.
    pub(crate) fn attach(connector: Connector, key: Option<&str>) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new::<F>(connector, key)?,
            types: PhantomData,
            face: PhantomData,
        })
    }

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
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let log: pottery::aio::RedisList<String> = pottery::aio::RedisList::open(&redis, "log")?;
    /// log.push("started").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty list at a new random key `pottery:<uuid4>`, deleted when the last clone of this
    /// handle is dropped (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisList<u64> = pottery::RedisList::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch: pottery::aio::RedisList<u64> = pottery::aio::RedisList::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Self::attach(connector.into(), None)
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

    /// The number of elements (`LLEN`; 0 for a missing key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ["a", "b"].map(String::from))?;
    /// assert_eq!(list.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        F::run(self.length())
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
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(self.length().map(|len| len == 0))
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
    pub fn get(&self, index: i64) -> F::Output<Option<T>> {
        F::run(self.element(index))
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
    pub fn first(&self) -> F::Output<Option<T>> {
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
    pub fn last(&self) -> F::Output<Option<T>> {
        self.get(-1)
    }

    /// Replaces the element at `index` (negative counts from the end) with `value` (`LSET`):
    /// Python's `l[index] = value`. [`Error::IndexOutOfRange`] when there is no such element,
    /// and for an index beyond the 32-bit range without asking the server: Redis 7.2 and
    /// Valkey cut `LSET`'s index to 32 bits and would replace another element.
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
    pub fn set<Q>(&self, index: i64, value: &Q) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            if i32::try_from(index).is_err() {
                return Err(Error::IndexOutOfRange { index });
            }
            let mut command = self.handle.command("LSET");
            command.arg(index).arg(to_json(value)?);
            Ok(self
                .handle
                .request(command)
                .map_err(move |error| match error {
                    // LSET says "index out of range", or "no such key" for a missing list.
                    Error::Redis(error) if error.code() == Some("ERR") => {
                        Error::IndexOutOfRange { index }
                    }
                    other => other,
                }))
        }))
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
    pub fn push<Q>(&self, value: &Q) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.push_one(value))
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
    pub fn pop(&self) -> F::Output<Option<T>> {
        F::run(self.pop_end("RPOP"))
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
    pub fn insert<Q>(&self, index: i64, value: &Q) -> F::Output<usize>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut args = integers(&[index]);
            args.push(to_json(value)?);
            Ok(INSERT.request(&self.handle, args))
        }))
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
    pub fn remove(&self, index: i64) -> F::Output<Option<T>> {
        F::run(
            POP.request(&self.handle, integers(&[index]))
                .and_then(decode_optional),
        )
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
    pub fn contains<Q>(&self, value: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.find(value).map(|position| position.is_some()))
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
    pub fn position<Q>(&self, value: &Q) -> F::Output<Option<usize>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.find(value))
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
    pub fn slice(&self, start: i64, stop: i64) -> F::Output<Vec<T>> {
        F::run(self.range(start, stop))
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
    pub fn set_slice<Q>(&self, start: i64, stop: i64, values: &[Q]) -> F::Output<usize>
    where
        T: Borrow<Q>,
        Q: Serialize,
    {
        F::run(Operation::build(|| {
            let mut args = integers(&[start, stop]);
            args.extend(encode_all(values)?);
            Ok(SET_SLICE.request(&self.handle, args))
        }))
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
    pub fn extend<I>(&self, items: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(Operation::build(|| {
            let encoded = encode_all(items)?;
            Ok(self.push_all("RPUSH", &encoded))
        }))
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
    pub fn clear(&self) -> F::Output<()> {
        F::run(
            self.handle
                .request::<i64>(self.handle.command("DEL"))
                .map(drop),
        )
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
    pub fn to_vec(&self) -> F::Output<Vec<T>> {
        self.slice(0, i64::MAX)
    }

    /// Iterates from the head in `LRANGE` pages of 1000 elements ([`ListIter`]), so a long
    /// list is never transferred or decoded in one piece (pottery 3.0.1 pays several round
    /// trips per element). Each page is read by position: elements inserted or removed before
    /// the current position meanwhile shift what the next page starts with; use
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
    pub fn iter(&self) -> ListIter<T, F> {
        Scan::new(Arc::clone(&self.handle), Pages::Range, |batch| {
            batch.next().map(|bytes| from_json(&bytes))
        })
    }

    /// Sorts the list in Python's order for the same values (numbers numerically, strings by
    /// code point, sequences element by element), in the client: reads the list, sorts it and
    /// writes it back in one `MULTI`/`EXEC`. Not atomic with concurrent writers: a write that
    /// lands between the read and the write-back is overwritten. (Redis's own `SORT ALPHA`
    /// would compare the escaped JSON text, which is not Python's order.) `sort_by` takes a
    /// comparison of your own.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let list = pottery::RedisList::from_iter_in("redis://127.0.0.1:6379/", ["é", "z", "a"].map(String::from))?;
    /// list.sort()?;
    /// assert_eq!(list.to_vec()?, ["a", "z", "é"]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn sort(&self) -> F::Output<()>
    where
        T: Ord,
    {
        let list = self.clone();
        F::run(self.range(0, i64::MAX).and_then_send(move |mut items| {
            items.sort();
            list.rewrite(&items)
        }))
    }
}
