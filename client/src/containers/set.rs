//! [`RedisSet`]: a `HashSet` that lives in a Redis set, shared with Python pottery's
//! `RedisSet`. Set algebra with other sets is in [`set_algebra`](super::set_algebra).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::{decode_optional, WRITE_BATCH};
use crate::containers::scan::{Pages, Scan};
use crate::error::Result;
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// A set stored in a Redis set: member = JSON(element), byte for byte as Python pottery
/// 3.0.1's `RedisSet` stores it, so both can share the key.
///
/// Elements are any `serde` type, encoded by [`pottery::codec`](crate::codec); since equal
/// values have equal encodings, Redis's byte comparison is value equality (but `1`, `1.0` and
/// `true` are three elements, as in JSON). Every method is one round trip. Set algebra with
/// other `RedisSet`s runs on the server (`SUNION`, `SINTER`, `SDIFF`, and the `*STORE` forms
/// for the `*_update` methods) when every operand was opened from the same URL or client
/// (same address and database), or lives on a cluster in this set's hash slot; otherwise the
/// members are fetched and combined in the client, except on a cluster, where operands in
/// other slots are [`Error::CrossSlot`](crate::Error::CrossSlot) (give the keys a common hash
/// tag, such as `{team:7}:admins` and `{team:7}:editors`).
/// Clones share the key and the connection; a set made without a key name owns a random key
/// (`pottery:<uuid4>`), deleted when its last clone is dropped.
///
/// `RedisSet<T>` is the sync face ([`Blocking`]); [`aio::RedisSet`](crate::aio::RedisSet) has
/// the same methods as futures (see [`Face`]), on the same data.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisSet;
///
/// let url = "redis://127.0.0.1:6379/";
/// let admins: RedisSet<String> = RedisSet::open(url, "admins")?;
/// admins.insert("ada")?;
/// assert!(admins.contains("ada")?);
/// let editors = RedisSet::from_iter_in(url, ["ada".to_owned(), "grace".to_owned()])?;
/// let both = admins.intersection(&[&editors])?;
/// assert!(both.contains("ada"));
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisSet<T, F: Face = Blocking> {
    pub(super) handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> (T, F)>,
}

impl<T, F: Face> Clone for RedisSet<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for RedisSet<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSet")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T> RedisSet<T, Blocking>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A set at a new random key (see [`new`](Self::new)) holding `elements`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let primes = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [2, 3, 5, 7])?;
    /// assert_eq!(primes.len()?, 4);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn from_iter_in<I>(connector: impl Into<Connector>, elements: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let set = Self::new(connector)?;
        set.extend(elements)?;
        Ok(set)
    }
}

#[cfg(feature = "tokio")]
impl<T> RedisSet<T, crate::aio::Tokio>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A set at a new random key (see [`new`](Self::new)) holding `elements`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let primes = pottery::aio::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [2, 3, 5, 7]).await?;
    /// assert_eq!(primes.len().await?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_iter_in<I>(connector: impl Into<Connector>, elements: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let set = Self::new(connector)?;
        set.extend(elements).await?;
        Ok(set)
    }
}

impl<T, F: Face> RedisSet<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// Attaches to the set at `key` (which may or may not exist yet); the key is never deleted
    /// by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let seen: pottery::RedisSet<u64> = pottery::RedisSet::open("redis://127.0.0.1:6379/", "seen")?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let seen: pottery::aio::RedisSet<u64> = pottery::aio::RedisSet::open(&redis, "seen")?;
    /// seen.insert(&7).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty set at a new random key `pottery:<uuid4>`, deleted when the last clone of this
    /// handle is dropped
    /// (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisSet<String> = pottery::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch: pottery::aio::RedisSet<String> = pottery::aio::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Self::attach(connector.into(), None)
    }

    fn attach(connector: Connector, key: Option<&str>) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new::<F>(connector, key)?,
            types: PhantomData,
        })
    }

    /// The Redis key of the set.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set: pottery::RedisSet<i32> = pottery::RedisSet::open("redis://127.0.0.1:6379/", "s")?;
    /// assert_eq!(set.key(), "s");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// `NAME key JSON(element)`, replying with an integer that is positive for "yes".
    fn member_command<Q: Serialize + ?Sized>(&self, name: &str, element: &Q) -> Operation<bool> {
        Operation::build(|| {
            let mut command = self.handle.command(name);
            command.arg(to_json(element)?);
            Ok(self.handle.request::<i64>(command).map(|count| count > 0))
        })
    }

    /// Adds `element` (`SADD`); `true` if it was not there.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set: pottery::RedisSet<String> = pottery::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// assert!(set.insert("x")?);
    /// assert!(!set.insert("x")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.member_command("SADD", element))
    }

    /// Removes `element` (`SREM`); `true` if it was there.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert!(set.remove(&1)?);
    /// assert!(!set.remove(&1)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn remove<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.member_command("SREM", element))
    }

    /// Whether `element` is in the set (`SISMEMBER`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", ["a".to_owned()])?;
    /// assert!(set.contains("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.member_command("SISMEMBER", element))
    }

    /// Whether each of `elements` is in the set, in order, with one `SMISMEMBER`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [1, 3])?;
    /// assert_eq!(set.contains_many(&[1, 2, 3])?, [true, false, true]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> F::Output<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        F::run(many_elements(&self.handle, "SMISMEMBER", elements))
    }

    /// The number of elements (`SCARD`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [1, 1, 2])?;
    /// assert_eq!(set.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        F::run(self.handle.request(self.handle.command("SCARD")))
    }

    /// Whether the set has no elements (a missing key is an empty set).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set: pottery::RedisSet<i32> = pottery::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// assert!(set.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(
            self.handle
                .request::<usize>(self.handle.command("SCARD"))
                .map(|len| len == 0),
        )
    }

    /// Removes and returns an arbitrary element (`SPOP`), `None` when empty; atomic, so two
    /// clients never pop the same element.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [7])?;
    /// assert_eq!(set.pop()?, Some(7));
    /// assert_eq!(set.pop()?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn pop(&self) -> F::Output<Option<T>> {
        F::run(
            self.handle
                .request(self.handle.command("SPOP"))
                .and_then(decode_optional),
        )
    }

    /// Adds every element of `elements`, with `SADD`s of up to 1000 members sent in one
    /// pipeline. Not atomic as a whole.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set: pottery::RedisSet<i32> = pottery::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// set.extend(0..10)?;
    /// assert_eq!(set.len()?, 10);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, elements: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(Operation::build(|| {
            let encoded = elements
                .into_iter()
                .map(|element| to_json(&element))
                .collect::<Result<Vec<_>>>()?;
            if encoded.is_empty() {
                return Ok(Operation::done(Ok(())));
            }
            Ok(self
                .handle
                .request_pipeline(add_members(self.handle.name(), &encoded)))
        }))
    }

    /// Deletes every element (`UNLINK` of the key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [1])?;
    /// set.clear()?;
    /// assert!(set.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        F::run(self.handle.request(self.handle.command("UNLINK")))
    }

    /// Iterates over the elements with `SSCAN`, about 1000 per round trip (see [`Scan`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", [1, 2, 3])?;
    /// let total: i32 = set.iter().sum::<Result<i32, _>>()?;
    /// assert_eq!(total, 6);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> Scan<T, F> {
        Scan::new(Arc::clone(&self.handle), Pages::Cursor("SSCAN"), |batch| {
            batch.next().map(|member| from_json(&member))
        })
    }

    /// A consistent snapshot of the whole set (`SMEMBERS`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let set = pottery::RedisSet::from_iter_in("redis://127.0.0.1:6379/", ["a".to_owned()])?;
    /// assert_eq!(set.to_hashset()?, std::collections::HashSet::from(["a".to_owned()]));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn to_hashset(&self) -> F::Output<HashSet<T>>
    where
        T: Eq + Hash,
    {
        F::run(members(&self.handle).and_then(decode_members))
    }
}

/// `NAME key JSON(element)...` answering one boolean per element, in order; no round trip
/// for no elements.
pub(crate) fn many_elements<'a, Q, I>(
    handle: &KeyHandle,
    name: &str,
    elements: I,
) -> Operation<Vec<bool>>
where
    Q: Serialize + ?Sized + 'a,
    I: IntoIterator<Item = &'a Q>,
{
    Operation::build(|| {
        let mut command = handle.command(name);
        let mut count = 0;
        for element in elements {
            command.arg(to_json(element)?);
            count += 1;
        }
        if count == 0 {
            return Ok(Operation::done(Ok(Vec::new())));
        }
        Ok(handle.request(command))
    })
}

/// Every member of the set at `handle`, raw (`SMEMBERS`).
pub(super) fn members(handle: &KeyHandle) -> Operation<Vec<Vec<u8>>> {
    handle.request(handle.command("SMEMBERS"))
}

/// `SADD`s of up to [`WRITE_BATCH`] members each, replies ignored.
pub(super) fn add_members(key: &str, members: &[Vec<u8>]) -> redis::Pipeline {
    let mut pipeline = redis::pipe();
    for batch in members.chunks(WRITE_BATCH) {
        pipeline.cmd("SADD").arg(key).arg(batch).ignore();
    }
    pipeline
}

pub(super) fn decode_members<T: DeserializeOwned + Eq + Hash>(
    members: Vec<Vec<u8>>,
) -> Result<HashSet<T>> {
    members.iter().map(|member| from_json(member)).collect()
}

/// `for item in &container` iterates like [`iter`](RedisSet::iter).
impl<T> IntoIterator for &RedisSet<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<T>;
    type IntoIter = Scan<T>;

    fn into_iter(self) -> Scan<T> {
        self.iter()
    }
}
