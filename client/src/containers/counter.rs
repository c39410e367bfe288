//! [`RedisCounter`]: Python's `collections.Counter` in a Redis hash, counted with `HINCRBY`
//! so that concurrent writers never lose counts; shared with Python pottery's `RedisCounter`.
//! Summaries and `Counter` operators are in [`counter_arithmetic`](super::counter_arithmetic).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::decode_pairs;
use crate::containers::scan::{next_pair, Pages, Scan};
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// A multiset of counts stored in a Redis hash: field = JSON(element), value = the count in
/// decimal, byte for byte as Python pottery 3.0.1's `RedisCounter` stores it.
///
/// Counting is done by the server (`HINCRBY`), so any number of clients — Rust or not — can
/// count at once without losing an increment (Python pottery reads, adds and writes back under
/// `WATCH`, and retries). Multi-element updates run in one `MULTI`/`EXEC`. Counts are `i64`;
/// a stored value that is not a decimal 64-bit integer is [`Error::NotAnInteger`], and an
/// increment past `i64` is [`Error::Overflow`] (the count is left as it was). Like Python's
/// `Counter`, a missing element counts 0, and counts may be zero or negative until removed.
///
/// `RedisCounter<T>` is the sync face ([`Blocking`]);
/// [`aio::RedisCounter`](crate::aio::RedisCounter) has the same methods as futures (see
/// [`Face`]), on the same data.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisCounter;
///
/// let words: RedisCounter<String> = RedisCounter::open("redis://127.0.0.1:6379/", "words")?;
/// words.update("the cat and the hat".split(' ').map(str::to_owned))?;
/// assert_eq!(words.get("the")?, 2);
/// assert_eq!(words.increment("cat", 5)?, 6);
/// assert_eq!(words.most_common(Some(1))?, [("cat".to_owned(), 6)]);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisCounter<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> (T, F)>,
}

impl<T, F: Face> Clone for RedisCounter<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for RedisCounter<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisCounter")
            .field("key", &self.handle.name())
            .finish()
    }
}

/// A stored count: Python pottery writes `json.dumps(int)`, a decimal integer.
pub(super) fn parse_count(bytes: &[u8]) -> Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|text| !text.starts_with('+'))
        .and_then(|text| text.parse().ok())
        .ok_or(Error::NotAnInteger)
}

/// Turns the server's refusals of `HINCRBY` into typed errors.
fn counting_error(error: Error) -> Error {
    match &error {
        Error::Redis(redis_error) => {
            let text = redis_error.to_string();
            if text.contains("would overflow") {
                Error::Overflow
            } else if text.contains("hash value is not an integer") {
                Error::NotAnInteger
            } else {
                error
            }
        }
        _ => error,
    }
}

impl<T> RedisCounter<T, Blocking>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A counter at a new random key (see [`new`](Self::new)) that counted `elements`, like
    /// Python's `Counter(iterable)`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let letters = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "hello".chars())?;
    /// assert_eq!(letters.get(&'l')?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn from_iter_in<I>(connector: impl Into<Connector>, elements: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let counter = Self::new(connector)?;
        counter.update(elements)?;
        Ok(counter)
    }
}

#[cfg(feature = "tokio")]
impl<T> RedisCounter<T, crate::aio::Tokio>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A counter at a new random key (see [`new`](Self::new)) that counted `elements`, like
    /// Python's `Counter(iterable)`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let letters = pottery::aio::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "hello".chars()).await?;
    /// assert_eq!(letters.get(&'l').await?, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_iter_in<I>(connector: impl Into<Connector>, elements: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
    {
        let counter = Self::new(connector)?;
        counter.update(elements).await?;
        Ok(counter)
    }
}

impl<T, F: Face> RedisCounter<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// Attaches to the counter at `key` (which may or may not exist yet); the key is never
    /// deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hits: pottery::RedisCounter<String> = pottery::RedisCounter::open("redis://127.0.0.1:6379/", "hits")?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let hits: pottery::aio::RedisCounter<String> = pottery::aio::RedisCounter::open(&redis, "hits")?;
    /// hits.increment("home", 1).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty counter at a new random key `pottery:<uuid4>`, deleted when the last clone of
    /// this handle is dropped
    /// (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<char> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(counter.total()?, 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let counter: pottery::aio::RedisCounter<char> = pottery::aio::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(counter.total().await?, 0);
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

    /// The Redis key of the hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<i32> = pottery::RedisCounter::open("redis://127.0.0.1:6379/", "c")?;
    /// assert_eq!(counter.key(), "c");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// `NAME key JSON(element) args...`, its reply converted to `R`.
    fn element_command<Q, R>(&self, name: &str, element: &Q, args: &[i64]) -> Operation<R>
    where
        Q: Serialize + ?Sized,
        R: redis::FromRedisValue + Send + 'static,
    {
        Operation::build(|| {
            let mut command = self.handle.command(name);
            command.arg(to_json(element)?).arg(args);
            Ok(self.handle.request(command))
        })
    }

    /// The count of `element`, 0 if it was never counted (`HGET`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<String> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(counter.get("never")?, 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get<Q>(&self, element: &Q) -> F::Output<i64>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(
            self.element_command::<_, Option<Vec<u8>>>("HGET", element, &[])
                .and_then(|stored| stored.map_or(Ok(0), |bytes| parse_count(&bytes))),
        )
    }

    /// Adds `delta` (which may be negative) to the count of `element` with one `HINCRBY`, and
    /// returns the new count: Python's `c[element] += delta`, without its lost updates.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if the count would leave `i64` (it is left unchanged);
    /// [`Error::NotAnInteger`] if the stored value is not an integer.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<String> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(counter.increment("a", 3)?, 3);
    /// assert_eq!(counter.increment("a", -5)?, -2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn increment<Q>(&self, element: &Q, delta: i64) -> F::Output<i64>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(
            self.element_command("HINCRBY", element, &[delta])
                .map_err(counting_error),
        )
    }

    /// Sets the count of `element` (`HSET`): Python's `c[element] = count`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<String> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// counter.insert("a", 10)?;
    /// assert_eq!(counter.get("a")?, 10);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert<Q>(&self, element: &Q, count: i64) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.element_command("HSET", element, &[count]))
    }

    /// Removes `element` and returns its count, atomically (`HGET` and `HDEL` in one
    /// `MULTI`/`EXEC`); `None` if it had none.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", ["a", "a"].map(String::from))?;
    /// assert_eq!(counter.remove("a")?, Some(2));
    /// assert_eq!(counter.remove("a")?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn remove<Q>(&self, element: &Q) -> F::Output<Option<i64>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let field = to_json(element)?;
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("HGET")
                .arg(self.handle.name())
                .arg(&field)
                .cmd("HDEL")
                .arg(self.handle.name())
                .arg(&field);
            Ok(self
                .handle
                .request_pipeline::<(Option<Vec<u8>>, i64)>(pipeline)
                .and_then(|(old, _)| old.map(|bytes| parse_count(&bytes)).transpose()))
        }))
    }

    /// Whether `element` has a count, even zero (`HEXISTS`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", [1, 2])?;
    /// assert!(counter.contains_key(&1)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_key<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.element_command("HEXISTS", element, &[]))
    }

    /// The number of distinct elements with a count (`HLEN`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// assert_eq!(counter.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        F::run(self.handle.request(self.handle.command("HLEN")))
    }

    /// Whether no element has a count.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<u8> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// assert!(counter.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(
            self.handle
                .request::<usize>(self.handle.command("HLEN"))
                .map(|len| len == 0),
        )
    }

    /// Counts every element of `elements` once: Python's `c.update(iterable)`. Equal elements
    /// are summed in the client, then every count is added with `HINCRBY` in one
    /// `MULTI`/`EXEC`: atomic, and never a lost update.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<char> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// counter.update("abracadabra".chars())?;
    /// assert_eq!(counter.get(&'a')?, 5);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn update<I>(&self, elements: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(self.add_all(elements.into_iter().map(|element| (element, 1)), 1))
    }

    /// Adds each `(element, count)` of `counts` (a `HashMap`, a `Vec` of pairs...): Python's
    /// `c.update(mapping)`; atomic like [`update`](Self::update).
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if the counts given for one element overflow when summed (nothing
    /// is sent), or if a stored count would leave `i64`: that count is left unchanged, while
    /// the other elements' increments, queued in the same `MULTI`, are applied.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::collections::HashMap;
    ///
    /// let stock: pottery::RedisCounter<String> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// stock.update_counts(HashMap::from([("apples".to_owned(), 3), ("pears".to_owned(), 2)]))?;
    /// assert_eq!(stock.total()?, 5);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn update_counts<I>(&self, counts: I) -> F::Output<()>
    where
        I: IntoIterator<Item = (T, i64)>,
    {
        F::run(self.add_all(counts, 1))
    }

    /// Uncounts every element of `elements` once: Python's `c.subtract(iterable)` (counts may
    /// go to zero or below).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// counter.subtract("abc".chars())?;
    /// assert_eq!((counter.get(&'a')?, counter.get(&'b')?, counter.get(&'c')?), (1, 0, -1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn subtract<I>(&self, elements: I) -> F::Output<()>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(self.add_all(elements.into_iter().map(|element| (element, 1)), -1))
    }

    /// Subtracts each `(element, count)` of `counts`: Python's `c.subtract(mapping)`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aa".chars())?;
    /// counter.subtract_counts([('a', 5)])?;
    /// assert_eq!(counter.get(&'a')?, -3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn subtract_counts<I>(&self, counts: I) -> F::Output<()>
    where
        I: IntoIterator<Item = (T, i64)>,
    {
        F::run(self.add_all(counts, -1))
    }

    fn add_all<I>(&self, counts: I, sign: i64) -> Operation<()>
    where
        I: IntoIterator<Item = (T, i64)>,
    {
        Operation::build(|| {
            // Sum per encoded element first: one HINCRBY per distinct element.
            let mut deltas: HashMap<Vec<u8>, i64> = HashMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            for (element, count) in counts {
                let field = to_json(&element)?;
                let signed = count.checked_mul(sign).ok_or(Error::Overflow)?;
                match deltas.get_mut(&field) {
                    Some(sum) => *sum = sum.checked_add(signed).ok_or(Error::Overflow)?,
                    None => {
                        deltas.insert(field.clone(), signed);
                        order.push(field);
                    }
                }
            }
            if order.is_empty() {
                return Ok(Operation::done(Ok(())));
            }
            let mut pipeline = redis::pipe();
            pipeline.atomic();
            for field in &order {
                let delta = deltas.get(field).copied().unwrap_or(0);
                pipeline
                    .cmd("HINCRBY")
                    .arg(self.handle.name())
                    .arg(field)
                    .arg(delta)
                    .ignore();
            }
            // MULTI runs every queued command even if one fails (e.g. an overflow): the others
            // are applied, and the failure is reported here.
            Ok(self
                .handle
                .request_pipeline::<()>(pipeline)
                .map_err(counting_error))
        })
    }

    /// Deletes every count (`UNLINK` of the key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", [1])?;
    /// counter.clear()?;
    /// assert!(counter.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        F::run(self.handle.request(self.handle.command("UNLINK")))
    }

    /// Iterates over `(element, count)` pairs with `HSCAN` (see [`Scan`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "ab".chars())?;
    /// for entry in counter.iter() {
    ///     let (letter, count) = entry?;
    ///     println!("{letter}: {count}");
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> Scan<(T, i64), F> {
        Scan::new(Arc::clone(&self.handle), Pages::Cursor("HSCAN"), |batch| {
            next_pair(batch).map(|pair| {
                let (field, value) = pair?;
                Ok((from_json(&field)?, parse_count(&value)?))
            })
        })
    }

    /// A consistent snapshot of every count (`HGETALL`), zero and negative ones included.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// assert_eq!(counter.to_hashmap()?, [('a', 2), ('b', 1)].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn to_hashmap(&self) -> F::Output<HashMap<T, i64>>
    where
        T: Eq + Hash,
    {
        F::run(self.snapshot())
    }

    /// Every count, read with one `HGETALL`.
    pub(super) fn snapshot(&self) -> Operation<HashMap<T, i64>>
    where
        T: Eq + Hash,
    {
        let all = self.handle.request(self.handle.command("HGETALL"));
        all.and_then(|flat: Vec<Vec<u8>>| {
            decode_pairs(flat)
                .map(|pair| {
                    pair.and_then(|(field, value)| Ok((from_json(&field)?, parse_count(&value)?)))
                })
                .collect()
        })
    }

    /// Every stored count, raw, read with one `HVALS`.
    pub(super) fn stored_counts(&self) -> Operation<Vec<Vec<u8>>> {
        self.handle.request(self.handle.command("HVALS"))
    }
}

/// `for item in &container` iterates like [`iter`](RedisCounter::iter).
impl<T> IntoIterator for &RedisCounter<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<(T, i64)>;
    type IntoIter = Scan<(T, i64)>;

    fn into_iter(self) -> Scan<(T, i64)> {
        self.iter()
    }
}
