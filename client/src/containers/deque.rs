//! [`RedisDeque`]: a `VecDeque` (Python's `collections.deque`, with an optional `maxlen`) that
//! lives in a Redis list, shared with Python pottery's `RedisDeque`.

use std::borrow::Borrow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::to_json;
use crate::containers::list::{encode_all, integers, ListIter, RedisList, PUSH, ROTATE};
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;

/// A double-ended queue stored in a Redis list: item = JSON(element), index 0 at the front,
/// byte for byte as Python pottery 3.0.1's `RedisDeque` stores it.
///
/// Like Python's `deque(maxlen=n)`, a bounded deque drops elements from the other end when a
/// push makes it longer than `maxlen`. The bound lives in this handle, not in Redis (as in
/// pottery): give the same bound to every handle of one key. Pushes on a bounded deque and
/// rotations run inside Redis through the pottery module (`POTTERY.DEQUE.PUSH` pushes and
/// trims in one step; `POTTERY.DEQUE.ROTATE` moves at most half the elements, without
/// transferring any), or where the module is not used (see [`Mode`](crate::Mode)) through Lua
/// scripts that do the same, so each method is one atomic round trip.
///
/// Clones share the key and the connector (and the bound). A deque made without a key name
/// owns a random key (`pottery:<uuid4>`) deleted when its last clone is dropped.
///
/// `RedisDeque<T>` is the sync face ([`Blocking`]); [`aio::RedisDeque`](crate::aio::RedisDeque)
/// has the same methods as futures (see [`Face`]), on the same data.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisDeque;
///
/// let recent: RedisDeque<u32> = RedisDeque::open("redis://127.0.0.1:6379/", "recent")?.with_maxlen(3);
/// recent.extend([1, 2, 3, 4])?;
/// assert_eq!(recent.to_vec()?, [2, 3, 4]);
/// recent.push_front(&0)?;
/// assert_eq!(recent.to_vec()?, [0, 2, 3]);
/// recent.rotate(1)?;
/// assert_eq!(recent.to_vec()?, [3, 0, 2]);
/// assert_eq!(recent.pop_back()?, Some(2));
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisDeque<T, F: Face = Blocking> {
    list: RedisList<T, F>,
    maxlen: Option<usize>,
}

impl<T, F: Face> Clone for RedisDeque<T, F> {
    fn clone(&self) -> Self {
        Self {
            list: self.list.clone(),
            maxlen: self.maxlen,
        }
    }
}

impl<T, F: Face> fmt::Debug for RedisDeque<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisDeque")
            .field("key", &self.list.handle().name())
            .field("maxlen", &self.maxlen)
            .finish()
    }
}

impl<T> RedisDeque<T, Blocking>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A deque at a new random key (see [`new`](Self::new)) holding `items` in order, bounded
    /// by `maxlen` if given (then only the last `maxlen` items are kept, as in Python).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let last_two = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", 1..=5, Some(2))?;
    /// assert_eq!(last_two.to_vec()?, [4, 5]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn from_iter_in<I>(
        connector: impl Into<Connector>,
        items: I,
        maxlen: Option<usize>,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let deque = Self::attach(connector.into(), None, maxlen)?;
        deque.extend(items)?;
        Ok(deque)
    }
}

#[cfg(feature = "tokio")]
impl<T> RedisDeque<T, crate::aio::Tokio>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A deque at a new random key (see [`new`](Self::new)) holding `items` in order, bounded
    /// by `maxlen` if given (then only the last `maxlen` items are kept, as in Python).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let last_two = pottery::aio::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", 1..=5, Some(2)).await?;
    /// assert_eq!(last_two.to_vec().await?, [4, 5]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_iter_in<I>(
        connector: impl Into<Connector>,
        items: I,
        maxlen: Option<usize>,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let deque = Self::attach(connector.into(), None, maxlen)?;
        deque.extend(items).await?;
        Ok(deque)
    }
}

impl<T, F: Face> RedisDeque<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    fn attach(connector: Connector, key: Option<&str>, maxlen: Option<usize>) -> Result<Self> {
        Ok(Self {
            list: RedisList::attach(connector, key)?,
            maxlen,
        })
    }

    /// Attaches to the list at `key` (which may or may not exist yet), unbounded; the key is
    /// never deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let jobs: pottery::RedisDeque<String> = pottery::RedisDeque::open("redis://127.0.0.1:6379/", "jobs")?;
    /// assert_eq!(jobs.maxlen(), None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let recent: pottery::aio::RedisDeque<u32> = pottery::aio::RedisDeque::open(&redis, "recent")?.with_maxlen(3);
    /// recent.push_back(&7).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key), None)
    }

    /// An empty, unbounded deque at a new random key `pottery:<uuid4>`, deleted when the last clone
    /// of this handle is dropped (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisDeque<i8> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch: pottery::aio::RedisDeque<i8> = pottery::aio::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Self::attach(connector.into(), None, None)
    }

    /// This handle with the bound `maxlen`: later pushes trim the other end down to it. The
    /// stored list is not touched until the next push.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let window = pottery::RedisDeque::<f64>::open("redis://127.0.0.1:6379/", "window")?.with_maxlen(100);
    /// assert_eq!(window.maxlen(), Some(100));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    #[must_use]
    pub fn with_maxlen(mut self, maxlen: usize) -> Self {
        self.maxlen = Some(maxlen);
        self
    }

    /// The bound, `None` when unbounded.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<u8> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(deque.maxlen(), None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn maxlen(&self) -> Option<usize> {
        self.maxlen
    }

    /// The Redis key of the list.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<u8> = pottery::RedisDeque::open("redis://127.0.0.1:6379/", "d")?;
    /// assert_eq!(deque.key(), "d");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.list.key()
    }

    /// Pushes encoded values at one end (`LEFT`: one by one at the front, Python's
    /// `extendleft`), trimming the other end to the bound.
    fn push_encoded(&self, end: &str, encoded: Vec<Vec<u8>>) -> Operation<()> {
        if encoded.is_empty() {
            return Operation::done(Ok(()));
        }
        match self.maxlen {
            // Unbounded: plain LPUSH/RPUSH, which need no module.
            None => self
                .list
                .push_all(if end == "LEFT" { "LPUSH" } else { "RPUSH" }, &encoded),
            Some(maxlen) => {
                let maxlen = i64::try_from(maxlen).unwrap_or(i64::MAX);
                let mut args = vec![end.as_bytes().to_vec()];
                args.extend(integers(&[maxlen]));
                args.extend(encoded);
                PUSH.request::<usize>(self.list.handle(), args).map(drop)
            }
        }
    }

    /// Appends `value` at the back (Python's `append`), dropping from the front beyond the
    /// bound.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<String> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// deque.push_back("last")?;
    /// assert_eq!(deque.back()?.as_deref(), Some("last"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn push_back<Q>(&self, value: &Q) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            Ok(self.push_encoded("RIGHT", vec![to_json(value)?]))
        }))
    }

    /// Prepends `value` at the front (Python's `appendleft`), dropping from the back beyond
    /// the bound.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<String> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// deque.push_front("first")?;
    /// assert_eq!(deque.front()?.as_deref(), Some("first"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn push_front<Q>(&self, value: &Q) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            Ok(self.push_encoded("LEFT", vec![to_json(value)?]))
        }))
    }

    /// Appends every item at the back in order (Python's `extend`), in one atomic command.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<i32> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// deque.extend([1, 2, 3])?;
    /// assert_eq!(deque.to_vec()?, [1, 2, 3]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, items: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(Operation::build(|| {
            Ok(self.push_encoded("RIGHT", encode_all(items)?))
        }))
    }

    /// Prepends every item at the front one by one (Python's `extendleft`), so they end up in
    /// reverse order, in one atomic command.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<char> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// deque.extend_left("abc".chars())?;
    /// assert_eq!(deque.to_vec()?, ['c', 'b', 'a']);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend_left<I>(&self, items: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(Operation::build(|| {
            Ok(self.push_encoded("LEFT", encode_all(items)?))
        }))
    }

    /// Removes and returns the back element (`RPOP`, Python's `pop`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert_eq!(deque.pop_back()?, Some(2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn pop_back(&self) -> F::Output<Option<T>> {
        self.list.pop()
    }

    /// Removes and returns the front element (`LPOP`, Python's `popleft`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert_eq!(deque.pop_front()?, Some(1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn pop_front(&self) -> F::Output<Option<T>> {
        F::run(self.list.pop_end("LPOP"))
    }

    /// The front element, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert_eq!(deque.front()?, Some(1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn front(&self) -> F::Output<Option<T>> {
        self.list.get(0)
    }

    /// The back element, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert_eq!(deque.back()?, Some(2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn back(&self) -> F::Output<Option<T>> {
        self.list.get(-1)
    }

    /// The element at `index` (negative counts from the back), `None` when out of range.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3], None)?;
    /// assert_eq!(deque.get(-2)?, Some(2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get(&self, index: i64) -> F::Output<Option<T>> {
        self.list.get(index)
    }

    /// Python's `deque.rotate(n)`: `n` steps to the right (the back element comes to the
    /// front), to the left when negative; any `n` works, `|n|` beyond the length included
    /// (pottery 3.0.1 gets those wrong). One `POTTERY.DEQUE.ROTATE` (or its script): inside
    /// Redis, moving at most half the elements. Returns the length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", 1..=5, None)?;
    /// deque.rotate(2)?;
    /// assert_eq!(deque.to_vec()?, [4, 5, 1, 2, 3]);
    /// deque.rotate(-7)?;
    /// assert_eq!(deque.to_vec()?, [1, 2, 3, 4, 5]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn rotate(&self, n: i64) -> F::Output<usize> {
        F::run(self.rotation(Ok(n)))
    }

    /// Rotates `k` places to the right, as `VecDeque::rotate_right` (without its panic for `k`
    /// beyond the length): the same as [`rotate(k)`](Self::rotate).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3], None)?;
    /// deque.rotate_right(1)?;
    /// assert_eq!(deque.to_vec()?, [3, 1, 2]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn rotate_right(&self, k: usize) -> F::Output<usize> {
        F::run(self.rotation(steps(k)))
    }

    /// Rotates `k` places to the left, as `VecDeque::rotate_left`: [`rotate(-k)`](Self::rotate).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3], None)?;
    /// deque.rotate_left(1)?;
    /// assert_eq!(deque.to_vec()?, [2, 3, 1]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn rotate_left(&self, k: usize) -> F::Output<usize> {
        F::run(self.rotation(steps(k).map(|n| -n)))
    }

    /// `POTTERY.DEQUE.ROTATE` by `n` steps, unless `n` could not be made.
    fn rotation(&self, n: Result<i64>) -> Operation<usize> {
        Operation::build(|| Ok(ROTATE.request(self.list.handle(), integers(&[n?]))))
    }

    /// The number of elements.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert_eq!(deque.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        self.list.len()
    }

    /// Whether the deque has no elements.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque: pottery::RedisDeque<u8> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// assert!(deque.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        self.list.is_empty()
    }

    /// Whether some element equals `value`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// assert!(deque.contains(&1)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, value: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.list.contains(value)
    }

    /// Removes every element (`DEL`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1], None)?;
    /// deque.clear()?;
    /// assert!(deque.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        self.list.clear()
    }

    /// A snapshot of the whole deque, front first (one `LRANGE`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// let items: std::collections::VecDeque<i32> = deque.to_vec()?.into();
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn to_vec(&self) -> F::Output<Vec<T>> {
        self.list.to_vec()
    }

    /// Iterates from the front in `LRANGE` pages (see [`RedisList::iter`]): an `Iterator` on the
    /// sync face, a `Stream` on the async one.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// let sum: i32 = deque.iter().sum::<pottery::Result<i32>>()?;
    /// assert_eq!(sum, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> ListIter<T, F> {
        self.list.iter()
    }
}

/// `k` steps as `POTTERY.DEQUE.ROTATE` takes them.
fn steps(k: usize) -> Result<i64> {
    i64::try_from(k).map_err(|_| Error::InvalidArgument {
        argument: "k",
        problem: "must fit in an i64",
    })
}

/// `for item in &deque`: the same as [`RedisDeque::iter`].
///
/// # Example
///
/// ```no_run
/// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
/// for item in &deque {
///     println!("{}", item?);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
impl<T> IntoIterator for &RedisDeque<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<T>;
    type IntoIter = ListIter<T>;

    fn into_iter(self) -> ListIter<T> {
        self.iter()
    }
}
