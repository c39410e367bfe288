//! [`RedisDict`]: a `HashMap` that lives in a Redis hash, shared with Python pottery's
//! `RedisDict`.

mod faces;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::scan::{next_pair, Pages, Scan};
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// Pairs per `HSET` when writing many entries, so one command stays a reasonable size.
pub(crate) const WRITE_BATCH: usize = 1000;

/// A map stored in a Redis hash: field = JSON(key), value = JSON(value), byte for byte as
/// Python pottery 3.0.1's `RedisDict` stores it, so both can share the key.
///
/// Keys and values are any `serde` types, encoded by [`pottery::codec`](crate::codec). Every
/// method is one round trip; those that read and write ([`insert`](Self::insert),
/// [`remove`](Self::remove), [`setdefault`](Self::setdefault)) are atomic (`MULTI`/`EXEC`, no
/// `WATCH`), so concurrent writers never see a half-done update. Methods take `&self`: calls
/// from several threads through one handle run at once on the connections of its
/// [`Connector`], which every container made from it shares; clones share the key. A dict made
/// without a key name owns a random key (`pottery:<uuid4>`) that is deleted when its last clone
/// is dropped; a named key is never deleted by `pottery`.
///
/// `RedisDict<K, V>` is the sync face ([`Blocking`]); [`aio::RedisDict`](crate::aio::RedisDict)
/// has the same methods as futures (see [`Face`]), on the same data.
///
/// # Example
///
/// ```no_run
/// use pottery::RedisDict;
///
/// let ages: RedisDict<String, u32> = RedisDict::open("redis://127.0.0.1:6379/", "ages")?;
/// ages.insert("ada", &36)?;
/// assert_eq!(ages.get("ada")?, Some(36));
/// assert!(ages.contains_key("ada")?);
/// assert_eq!(ages.remove("ada")?, Some(36));
/// assert!(ages.is_empty()?);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisDict<K, V, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> (K, V)>,
    face: PhantomData<F>,
}

impl<K, V, F: Face> Clone for RedisDict<K, V, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
            face: PhantomData,
        }
    }
}

impl<K, V, F: Face> fmt::Debug for RedisDict<K, V, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisDict")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<K, V, F: Face> RedisDict<K, V, F>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
    /// Attaches to the hash at `key` (which may or may not exist yet); the key is never deleted
    /// by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let users: pottery::RedisDict<u64, String> = pottery::RedisDict::open(&client, "users")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let users: pottery::aio::RedisDict<u64, String> = pottery::aio::RedisDict::open(&redis, "users")?;
    /// users.insert(&7, "ada").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty dict at a new random key `pottery:<uuid4>`, deleted when the last clone of
    /// this handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisDict<String, f64> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch: pottery::aio::RedisDict<String, f64> = pottery::aio::RedisDict::new("redis://127.0.0.1:6379/")?;
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
            face: PhantomData,
        })
    }

    /// The Redis key of the hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, String> = pottery::RedisDict::open("redis://127.0.0.1:6379/", "config")?;
    /// assert_eq!(dict.key(), "config");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// The value stored for `key`, if any (`HGET`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, i32> = pottery::RedisDict::open("redis://127.0.0.1:6379/", "d")?;
    /// let value: Option<i32> = dict.get("missing")?;
    /// assert_eq!(value, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get<Q>(&self, key: &Q) -> F::Output<Option<V>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("HGET");
            command.arg(to_json(key)?);
            Ok(self.handle.request(command).and_then(decode_optional))
        }))
    }

    /// Stores `value` for `key` and returns the value it replaces, atomically (`HGET` and
    /// `HSET` in one `MULTI`/`EXEC`), like `HashMap::insert`. [`put`](Self::put) skips reading
    /// the old value.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, i32> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(dict.insert("a", &1)?, None);
    /// assert_eq!(dict.insert("a", &2)?, Some(1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert<Q, W>(&self, key: &Q, value: &W) -> F::Output<Option<V>>
    where
        K: Borrow<Q>,
        V: Borrow<W>,
        Q: Serialize + ?Sized,
        W: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let (field, encoded) = (to_json(key)?, to_json(value)?);
            let mut pipeline = redis::pipe();
            pipeline
                .atomic()
                .cmd("HGET")
                .arg(self.handle.name())
                .arg(&field)
                .cmd("HSET")
                .arg(self.handle.name())
                .arg(&field)
                .arg(encoded);
            Ok(self
                .handle
                .request_pipeline::<(Option<Vec<u8>>, i64)>(pipeline)
                .and_then(|(old, _)| decode_optional(old)))
        }))
    }

    /// Stores `value` for `key` with one `HSET`, without reading the old value (Python's
    /// `d[key] = value`); `true` if `key` was new.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, i32> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// assert!(dict.put("a", &1)?);
    /// assert!(!dict.put("a", &2)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn put<Q, W>(&self, key: &Q, value: &W) -> F::Output<bool>
    where
        K: Borrow<Q>,
        V: Borrow<W>,
        Q: Serialize + ?Sized,
        W: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("HSET");
            command.arg(to_json(key)?).arg(to_json(value)?);
            Ok(self.handle.request::<i64>(command).map(|added| added > 0))
        }))
    }

    /// Removes `key` and returns its value, atomically (`HGET` and `HDEL` in one
    /// `MULTI`/`EXEC`): Python's `d.pop(key, None)`. Two concurrent `remove`s of one key never
    /// both get the value.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [("a".to_owned(), 1)])?;
    /// assert_eq!(dict.remove("a")?, Some(1));
    /// assert_eq!(dict.remove("a")?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> F::Output<Option<V>>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let field = to_json(key)?;
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
                .and_then(|(old, _)| decode_optional(old)))
        }))
    }

    /// Whether `key` has a value (`HEXISTS`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, "one".to_owned())])?;
    /// assert!(dict.contains_key(&1)?);
    /// assert!(!dict.contains_key(&2)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> F::Output<bool>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("HEXISTS");
            command.arg(to_json(key)?);
            Ok(self.handle.request(command))
        }))
    }

    /// The number of entries (`HLEN`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, 1), (2, 4)])?;
    /// assert_eq!(dict.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<usize> {
        F::run(self.handle.request(self.handle.command("HLEN")))
    }

    /// Whether the dict has no entries (a missing key is an empty dict).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<i32, i32> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// assert!(dict.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(
            self.handle
                .request::<usize>(self.handle.command("HLEN"))
                .map(|len| len == 0),
        )
    }

    /// Stores every entry of `entries` (later ones win), with `HSET`s of up to 1000 pairs sent
    /// in one pipeline. Not atomic as a whole: an error may leave some batches written.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, i32> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// dict.extend([("a".to_owned(), 1), ("b".to_owned(), 2)])?;
    /// assert_eq!(dict.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, entries: I) -> F::Output<()>
    where
        I: IntoIterator<Item = (K, V)>,
    {
        F::run(Operation::build(|| {
            let mut pipeline = redis::pipe();
            let mut command = self.handle.command("HSET");
            let mut pairs = 0;
            for (key, value) in entries {
                command.arg(to_json(&key)?).arg(to_json(&value)?);
                pairs += 1;
                if pairs == WRITE_BATCH {
                    pipeline.add_command(command).ignore();
                    command = self.handle.command("HSET");
                    pairs = 0;
                }
            }
            if pairs > 0 {
                pipeline.add_command(command).ignore();
            }
            if pipeline.cmd_iter().next().is_none() {
                return Ok(Operation::done(Ok(())));
            }
            Ok(self.handle.request_pipeline(pipeline))
        }))
    }

    /// Python's `d.setdefault(key, default)`: stores `default` if `key` has no value, and
    /// returns the value stored now, atomically (`HSETNX` and `HGET` in one `MULTI`/`EXEC`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict: pottery::RedisDict<String, i32> = pottery::RedisDict::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(dict.setdefault("a", &1)?, 1);
    /// assert_eq!(dict.setdefault("a", &2)?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn setdefault<Q, W>(&self, key: &Q, default: &W) -> F::Output<V>
    where
        K: Borrow<Q>,
        V: Borrow<W>,
        Q: Serialize + ?Sized,
        W: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let pipeline =
                setdefault_pipeline(self.handle.name(), &to_json(key)?, to_json(default)?);
            Ok(self
                .handle
                .request_pipeline::<(Option<Vec<u8>>,)>(pipeline)
                .and_then(|(stored,)| from_json(&stored_now(stored)?)))
        }))
    }

    /// Deletes every entry (`UNLINK` of the key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, 1)])?;
    /// dict.clear()?;
    /// assert!(dict.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        F::run(self.handle.request(self.handle.command("UNLINK")))
    }

    /// Iterates over the entries with `HSCAN`, about 1000 per round trip (see [`Scan`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, 10), (2, 20)])?;
    /// let mut sum = 0;
    /// for entry in dict.iter() {
    ///     let (key, value) = entry?;
    ///     sum += key * value;
    /// }
    /// assert_eq!(sum, 50);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> Scan<(K, V), F> {
        Scan::new(Arc::clone(&self.handle), Pages::Cursor("HSCAN"), |batch| {
            next_pair(batch).map(|pair| {
                let (field, value) = pair?;
                Ok((from_json(&field)?, from_json(&value)?))
            })
        })
    }

    /// Iterates over the keys with `HSCAN` (values are transferred but not decoded).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, 10)])?;
    /// let keys: Vec<i32> = dict.keys().collect::<Result<_, _>>()?;
    /// assert_eq!(keys, [1]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn keys(&self) -> Scan<K, F> {
        Scan::new(Arc::clone(&self.handle), Pages::Cursor("HSCAN"), |batch| {
            next_pair(batch).map(|pair| from_json(&pair?.0))
        })
    }

    /// Iterates over the values with `HSCAN`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [(1, 10)])?;
    /// let values: Vec<i32> = dict.values().collect::<Result<_, _>>()?;
    /// assert_eq!(values, [10]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn values(&self) -> Scan<V, F> {
        Scan::new(Arc::clone(&self.handle), Pages::Cursor("HSCAN"), |batch| {
            next_pair(batch).map(|pair| from_json(&pair?.1))
        })
    }

    /// A consistent snapshot of the whole dict (`HGETALL`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let dict = pottery::RedisDict::from_iter_in("redis://127.0.0.1:6379/", [("a".to_owned(), 1)])?;
    /// let copy: std::collections::HashMap<String, i32> = dict.to_hashmap()?;
    /// assert_eq!(copy["a"], 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn to_hashmap(&self) -> F::Output<HashMap<K, V>>
    where
        K: Eq + Hash,
    {
        let all = self.handle.request(self.handle.command("HGETALL"));
        F::run(all.and_then(|flat: Vec<Vec<u8>>| {
            decode_pairs(flat)
                .map(|pair| {
                    pair.and_then(|(field, value)| Ok((from_json(&field)?, from_json(&value)?)))
                })
                .collect()
        }))
    }
}

/// Python's `setdefault` on the hash at `key`: `HSETNX` (its reply ignored) and `HGET` of
/// `field` in one `MULTI`/`EXEC`; decode the reply with [`stored_now`].
pub(crate) fn setdefault_pipeline(key: &str, field: &[u8], default: Vec<u8>) -> redis::Pipeline {
    let mut pipeline = redis::pipe();
    pipeline
        .atomic()
        .cmd("HSETNX")
        .arg(key)
        .arg(field)
        .arg(default)
        .ignore()
        .cmd("HGET")
        .arg(key)
        .arg(field);
    pipeline
}

/// The value a [`setdefault_pipeline`] read: there is one, since `HSETNX` just made sure the
/// field exists; only a concurrent delete between the two commands could empty it, and `MULTI`
/// rules that out.
pub(crate) fn stored_now(stored: Option<Vec<u8>>) -> Result<Vec<u8>> {
    stored.ok_or(Error::UnexpectedReply { command: "HGET" })
}

/// A stored JSON value, if any.
pub(crate) fn decode_optional<T: serde::de::DeserializeOwned>(
    stored: Option<Vec<u8>>,
) -> Result<Option<T>> {
    stored.map(|bytes| from_json(&bytes)).transpose()
}

/// The field/value pairs of a flat `HGETALL` reply.
pub(crate) fn decode_pairs(flat: Vec<Vec<u8>>) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> {
    let mut elements = flat.into_iter();
    std::iter::from_fn(move || {
        next_pair(&mut elements)
            .map(|pair| pair.map_err(|_| Error::UnexpectedReply { command: "HGETALL" }))
    })
}
