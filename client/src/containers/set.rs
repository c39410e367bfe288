//! [`RedisSet`]: a `HashSet` that lives in a Redis set, shared with Python pottery's
//! `RedisSet`.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::WRITE_BATCH;
use crate::containers::scan::Scan;
use crate::error::Result;
use crate::transport::connector::Connector;
use crate::transport::key::{colocation, Colocation, KeyHandle};

/// `KEYS[1] = KEYS[1] ^ KEYS[2]` in one atomic step, in batches that stay below Lua's
/// `unpack` limit.
static SYMMETRIC_DIFFERENCE_UPDATE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local add = redis.call('SDIFF', KEYS[2], KEYS[1])
local remove = redis.call('SINTER', KEYS[1], KEYS[2])
for i = 1, #remove, 1000 do
    redis.call('SREM', KEYS[1], unpack(remove, i, math.min(i + 999, #remove)))
end
for i = 1, #add, 1000 do
    redis.call('SADD', KEYS[1], unpack(add, i, math.min(i + 999, #add)))
end
return redis.call('SCARD', KEYS[1])
",
    )
});

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
pub struct RedisSet<T> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> T>,
}

impl<T> Clone for RedisSet<T> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RedisSet<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisSet")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T> RedisSet<T>
where
    T: Serialize + DeserializeOwned,
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
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new(connector.into(), Some(key))?,
            types: PhantomData,
        })
    }

    /// An empty set at a new random key `pottery:<uuid4>`, deleted when the last clone of this
    /// handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisSet<String> = pottery::RedisSet::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new(connector.into(), None)?,
            types: PhantomData,
        })
    }

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
    pub fn insert<Q>(&self, element: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let added: i64 = self.handle.query(
            redis::cmd("SADD")
                .arg(self.handle.name())
                .arg(to_json(element)?),
        )?;
        Ok(added > 0)
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
    pub fn remove<Q>(&self, element: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let removed: i64 = self.handle.query(
            redis::cmd("SREM")
                .arg(self.handle.name())
                .arg(to_json(element)?),
        )?;
        Ok(removed > 0)
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
    pub fn contains<Q>(&self, element: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.handle.query(
            redis::cmd("SISMEMBER")
                .arg(self.handle.name())
                .arg(to_json(element)?),
        )
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
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> Result<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let mut command = redis::cmd("SMISMEMBER");
        command.arg(self.handle.name());
        let mut count = 0;
        for element in elements {
            command.arg(to_json(element)?);
            count += 1;
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        self.handle.query(&command)
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
    pub fn len(&self) -> Result<usize> {
        self.handle
            .query(redis::cmd("SCARD").arg(self.handle.name()))
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
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
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
    pub fn pop(&self) -> Result<Option<T>> {
        let popped: Option<Vec<u8>> = self
            .handle
            .query(redis::cmd("SPOP").arg(self.handle.name()))?;
        popped.map(|bytes| from_json(&bytes)).transpose()
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
    pub fn extend<I>(&self, elements: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
    {
        let mut encoded = Vec::new();
        for element in elements {
            encoded.push(to_json(&element)?);
        }
        if encoded.is_empty() {
            return Ok(());
        }
        self.handle
            .query_pipeline::<()>(&add_members(self.handle.name(), &encoded))
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
    pub fn clear(&self) -> Result<()> {
        self.handle
            .query(redis::cmd("UNLINK").arg(self.handle.name()))
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
    pub fn iter(&self) -> Scan<T> {
        Scan::new(Arc::clone(&self.handle), "SSCAN", |batch| {
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
    pub fn to_hashset(&self) -> Result<HashSet<T>>
    where
        T: Eq + Hash,
    {
        decode_members(self.members()?)
    }

    /// The elements in this set or any of `others` (`SUNION` when they share the server).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.union(&[&b])?, [1, 2, 3].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn union(&self, others: &[&RedisSet<T>]) -> Result<HashSet<T>>
    where
        T: Eq + Hash,
    {
        decode_members(self.combine(Operation::Union, others)?)
    }

    /// The elements in this set and in every one of `others` (`SINTER`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.intersection(&[&b])?, [2].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn intersection(&self, others: &[&RedisSet<T>]) -> Result<HashSet<T>>
    where
        T: Eq + Hash,
    {
        decode_members(self.combine(Operation::Intersection, others)?)
    }

    /// The elements in this set and in none of `others` (`SDIFF`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.difference(&[&b])?, [1].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn difference(&self, others: &[&RedisSet<T>]) -> Result<HashSet<T>>
    where
        T: Eq + Hash,
    {
        decode_members(self.combine(Operation::Difference, others)?)
    }

    /// The elements in exactly one of this set and `other` (two `SDIFF`s in one
    /// `MULTI`/`EXEC` when they share the server).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.symmetric_difference(&b)?, [1, 3].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn symmetric_difference(&self, other: &RedisSet<T>) -> Result<HashSet<T>>
    where
        T: Eq + Hash,
    {
        let members = if self.shares_server(&[other])? {
            let (mine, theirs): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self.handle.query_pipeline(
                redis::pipe()
                    .atomic()
                    .cmd("SDIFF")
                    .arg(self.key())
                    .arg(other.key())
                    .cmd("SDIFF")
                    .arg(other.key())
                    .arg(self.key()),
            )?;
            mine.into_iter().chain(theirs).collect()
        } else {
            let mine: HashSet<Vec<u8>> = self.members()?.into_iter().collect();
            let theirs: HashSet<Vec<u8>> = other.members()?.into_iter().collect();
            mine.symmetric_difference(&theirs).cloned().collect()
        };
        decode_members(members)
    }

    /// Adds the elements of `others` to this set (`SUNIONSTORE`); returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.union_update(&[&b])?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn union_update(&self, others: &[&RedisSet<T>]) -> Result<usize> {
        self.store(Operation::Union, others)
    }

    /// Keeps only the elements also in every one of `others` (`SINTERSTORE`); returns the new
    /// length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.intersection_update(&[&b])?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn intersection_update(&self, others: &[&RedisSet<T>]) -> Result<usize> {
        self.store(Operation::Intersection, others)
    }

    /// Removes the elements found in any of `others` (`SDIFFSTORE`); returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.difference_update(&[&b])?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn difference_update(&self, others: &[&RedisSet<T>]) -> Result<usize> {
        self.store(Operation::Difference, others)
    }

    /// Keeps the elements in exactly one of this set and `other`, atomically on the server (a
    /// script) when they share it; returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.symmetric_difference_update(&b)?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn symmetric_difference_update(&self, other: &RedisSet<T>) -> Result<usize> {
        if self.shares_server(&[other])? {
            let mut invocation = SYMMETRIC_DIFFERENCE_UPDATE.key(self.key());
            invocation.key(other.key());
            return self.handle.run(|connection| invocation.invoke(connection));
        }
        let mine: HashSet<Vec<u8>> = self.members()?.into_iter().collect();
        let theirs: HashSet<Vec<u8>> = other.members()?.into_iter().collect();
        let result: Vec<Vec<u8>> = mine.symmetric_difference(&theirs).cloned().collect();
        self.replace_members(&result)
    }

    fn members(&self) -> Result<Vec<Vec<u8>>> {
        self.handle
            .query(redis::cmd("SMEMBERS").arg(self.handle.name()))
    }

    /// Whether one command through this set's connection can read every one of `others`;
    /// [`Error::CrossSlot`](crate::Error::CrossSlot) on a cluster when they are not in this
    /// set's hash slot.
    fn shares_server(&self, others: &[&RedisSet<T>]) -> Result<bool> {
        let handles = others.iter().map(|other| &*other.handle);
        Ok(colocation(&self.handle, handles)? == Colocation::Together)
    }

    fn combine(&self, operation: Operation, others: &[&RedisSet<T>]) -> Result<Vec<Vec<u8>>> {
        if self.shares_server(others)? {
            let mut command = redis::cmd(operation.command());
            command.arg(self.key());
            for other in others {
                command.arg(other.key());
            }
            return self.handle.query(&command);
        }
        self.combine_in_client(operation, others)
    }

    /// `operation` over the members read from every set, for sets no one command can reach.
    fn combine_in_client(
        &self,
        operation: Operation,
        others: &[&RedisSet<T>],
    ) -> Result<Vec<Vec<u8>>> {
        let mut result: HashSet<Vec<u8>> = self.members()?.into_iter().collect();
        for other in others {
            let theirs: HashSet<Vec<u8>> = other.members()?.into_iter().collect();
            match operation {
                Operation::Union => result.extend(theirs),
                Operation::Intersection => result.retain(|member| theirs.contains(member)),
                Operation::Difference => result.retain(|member| !theirs.contains(member)),
            }
        }
        Ok(result.into_iter().collect())
    }

    fn store(&self, operation: Operation, others: &[&RedisSet<T>]) -> Result<usize> {
        if self.shares_server(others)? {
            let mut command = redis::cmd(operation.store_command());
            command.arg(self.key()).arg(self.key());
            for other in others {
                command.arg(other.key());
            }
            return self.handle.query(&command);
        }
        // Placement was decided above: asking again could cost another round trip.
        let result = self.combine_in_client(operation, others)?;
        self.replace_members(&result)
    }

    /// Replaces the whole set with `members` in one `MULTI`/`EXEC`.
    fn replace_members(&self, members: &[Vec<u8>]) -> Result<usize> {
        let mut pipeline = add_members(self.key(), members);
        let mut replace = redis::pipe();
        replace.atomic().cmd("UNLINK").arg(self.key()).ignore();
        for command in pipeline.cmd_iter() {
            replace.add_command(command.clone()).ignore();
        }
        pipeline = replace;
        pipeline.cmd("SCARD").arg(self.key());
        let (length,): (usize,) = self.handle.query_pipeline(&pipeline)?;
        Ok(length)
    }
}

#[derive(Debug, Clone, Copy)]
enum Operation {
    Union,
    Intersection,
    Difference,
}

impl Operation {
    fn command(self) -> &'static str {
        match self {
            Self::Union => "SUNION",
            Self::Intersection => "SINTER",
            Self::Difference => "SDIFF",
        }
    }

    fn store_command(self) -> &'static str {
        match self {
            Self::Union => "SUNIONSTORE",
            Self::Intersection => "SINTERSTORE",
            Self::Difference => "SDIFFSTORE",
        }
    }
}

/// `SADD`s of up to [`WRITE_BATCH`] members each, replies ignored.
fn add_members(key: &str, members: &[Vec<u8>]) -> redis::Pipeline {
    let mut pipeline = redis::pipe();
    for batch in members.chunks(WRITE_BATCH) {
        pipeline.cmd("SADD").arg(key).arg(batch).ignore();
    }
    pipeline
}

fn decode_members<T: DeserializeOwned + Eq + Hash>(members: Vec<Vec<u8>>) -> Result<HashSet<T>> {
    members.iter().map(|member| from_json(member)).collect()
}

/// `for item in &container` iterates like [`iter`](RedisSet::iter).
impl<T> IntoIterator for &RedisSet<T>
where
    T: Serialize + DeserializeOwned,
{
    type Item = Result<T>;
    type IntoIter = Scan<T>;

    fn into_iter(self) -> Scan<T> {
        self.iter()
    }
}
