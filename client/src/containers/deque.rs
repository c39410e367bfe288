//! [`RedisDeque`]: a `VecDeque` (Python's `collections.deque`, with an optional `maxlen`) that
//! lives in a Redis list, shared with Python pottery's `RedisDeque`.

use std::borrow::Borrow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::list::{ListIter, RedisList};
use crate::error::{Error, Result};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// A double-ended queue stored in a Redis list: item = JSON(element), index 0 at the front,
/// byte for byte as Python pottery 3.0.1's `RedisDeque` stores it.
///
/// Like Python's `deque(maxlen=n)`, a bounded deque drops elements from the other end when a
/// push makes it longer than `maxlen`. The bound lives in this handle, not in Redis (as in
/// pottery): give the same bound to every handle of one key. Pushes on a bounded deque and
/// rotations run inside Redis through the pottery module (`POTTERY.DEQUE.PUSH` pushes and
/// trims in one step; `POTTERY.DEQUE.ROTATE` moves at most half the elements, without
/// transferring any), so each method is one atomic round trip.
///
/// Clones share the key and the connection (and the bound). A deque made without a key name
/// owns a random key (`pottery:<uuid4>`) deleted when its last clone is dropped.
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
pub struct RedisDeque<T> {
    list: RedisList<T>,
    maxlen: Option<usize>,
}

impl<T> Clone for RedisDeque<T> {
    fn clone(&self) -> Self {
        Self {
            list: self.list.clone(),
            maxlen: self.maxlen,
        }
    }
}

impl<T> fmt::Debug for RedisDeque<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisDeque")
            .field("key", &self.list.handle().name())
            .field("maxlen", &self.maxlen)
            .finish()
    }
}

impl<T> RedisDeque<T>
where
    T: Serialize + DeserializeOwned,
{
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
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self {
            list: RedisList::from_handle(KeyHandle::new(connector.into(), Some(key))?),
            maxlen: None,
        })
    }

    /// An empty, unbounded deque at a new random key `pottery:<uuid4>`, deleted when the last
    /// clone of this handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisDeque<i8> = pottery::RedisDeque::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Ok(Self {
            list: RedisList::from_handle(KeyHandle::new(connector.into(), None)?),
            maxlen: None,
        })
    }

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
        let mut deque = Self::new(connector)?;
        deque.maxlen = maxlen;
        deque.extend(items)?;
        Ok(deque)
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
    fn push_encoded(&self, end: &str, encoded: &[Vec<u8>]) -> Result<()> {
        if encoded.is_empty() {
            return Ok(());
        }
        match self.maxlen {
            // Unbounded: plain LPUSH/RPUSH, which need no module.
            None => self
                .list
                .push_all(if end == "LEFT" { "LPUSH" } else { "RPUSH" }, encoded),
            Some(maxlen) => {
                let maxlen = i64::try_from(maxlen).unwrap_or(i64::MAX);
                let handle = self.list.handle();
                let mut command = redis::cmd("POTTERY.DEQUE.PUSH");
                command.arg(handle.name()).arg(end).arg(maxlen).arg(encoded);
                handle.query::<usize>(&command).map(drop)
            }
        }
    }

    fn encode_all<I>(items: I) -> Result<Vec<Vec<u8>>>
    where
        I: IntoIterator<Item = T>,
    {
        items.into_iter().map(|item| to_json(&item)).collect()
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
    pub fn push_back<Q>(&self, value: &Q) -> Result<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.push_encoded("RIGHT", &[to_json(value)?])
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
    pub fn push_front<Q>(&self, value: &Q) -> Result<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.push_encoded("LEFT", &[to_json(value)?])
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
    pub fn extend<I>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
    {
        self.push_encoded("RIGHT", &Self::encode_all(items)?)
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
    pub fn extend_left<I>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
    {
        self.push_encoded("LEFT", &Self::encode_all(items)?)
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
    pub fn pop_back(&self) -> Result<Option<T>> {
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
    pub fn pop_front(&self) -> Result<Option<T>> {
        let handle = self.list.handle();
        let stored: Option<Vec<u8>> = handle.query(redis::cmd("LPOP").arg(handle.name()))?;
        stored.map(|bytes| from_json(&bytes)).transpose()
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
    pub fn front(&self) -> Result<Option<T>> {
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
    pub fn back(&self) -> Result<Option<T>> {
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
    pub fn get(&self, index: i64) -> Result<Option<T>> {
        self.list.get(index)
    }

    /// Python's `deque.rotate(n)`: `n` steps to the right (the back element comes to the
    /// front), to the left when negative; any `n` works, `|n|` beyond the length included
    /// (pottery 3.0.1 gets those wrong). One `POTTERY.DEQUE.ROTATE`: inside Redis, moving at
    /// most half the elements. Returns the length.
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
    pub fn rotate(&self, n: i64) -> Result<usize> {
        let handle = self.list.handle();
        handle.query(redis::cmd("POTTERY.DEQUE.ROTATE").arg(handle.name()).arg(n))
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
    pub fn rotate_right(&self, k: usize) -> Result<usize> {
        self.rotate(Self::steps(k)?)
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
    pub fn rotate_left(&self, k: usize) -> Result<usize> {
        self.rotate(-Self::steps(k)?)
    }

    fn steps(k: usize) -> Result<i64> {
        i64::try_from(k).map_err(|_| Error::InvalidArgument {
            argument: "k",
            problem: "must fit in an i64",
        })
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
    pub fn len(&self) -> Result<usize> {
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
    pub fn is_empty(&self) -> Result<bool> {
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
    pub fn contains<Q>(&self, value: &Q) -> Result<bool>
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
    pub fn clear(&self) -> Result<()> {
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
    pub fn to_vec(&self) -> Result<Vec<T>> {
        self.list.to_vec()
    }

    /// Iterates from the front in `LRANGE` batches (see [`RedisList::iter`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let deque = pottery::RedisDeque::from_iter_in("redis://127.0.0.1:6379/", [1, 2], None)?;
    /// let sum: i32 = deque.iter().sum::<pottery::Result<i32>>()?;
    /// assert_eq!(sum, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> ListIter<T> {
        self.list.iter()
    }
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
    T: Serialize + DeserializeOwned,
{
    type Item = Result<T>;
    type IntoIter = ListIter<T>;

    fn into_iter(self) -> ListIter<T> {
        self.iter()
    }
}
