//! [`CachedOrderedDict`]: ordered keys whose values are cached in a Redis hash, shared with
//! Python pottery's `CachedOrderedDict`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::WRITE_BATCH;
use crate::error::{Error, Result};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// How long the cache hash lives after each write, unless told otherwise: Python pottery's 60
/// seconds.
pub const DEFAULT_CACHE_TIMEOUT: Duration = Duration::from_secs(60);

/// An ordered map whose keys are given up front and whose values are cached in a Redis hash:
/// the search-results use case of Python pottery 3.0.1's `CachedOrderedDict`. A search engine
/// returns document IDs in order; [`open`](Self::open) looks all of them up in ONE `HMGET`,
/// [`misses`](Self::misses) says which ones the cache lacks, and the caller hydrates those
/// (from a database, say) with [`insert`](Self::insert), [`extend`](Self::extend) or
/// [`fill_misses_with`](Self::fill_misses_with), which write through to the hash so the next
/// lookup hits.
///
/// The hash is laid out exactly like [`RedisDict`](crate::RedisDict)'s and Python pottery's
/// `RedisDict`, which its `CachedOrderedDict` uses: field = JSON(key), value = JSON(value)
/// (see [`codec`](crate::codec)). That layout is deterministic, unlike the `redis_cache`
/// decorator's (which hashes arguments with Python's per-process `hash()`), so a Rust and a
/// Python `CachedOrderedDict` on the same key share their cache. Like pottery, every call that
/// writes (and `open` itself) then sets the hash to expire after the timeout
/// ([`DEFAULT_CACHE_TIMEOUT`], 60 s), in the same round trip (`PEXPIRE` pipelined after the
/// command); a timeout of `None` leaves the expiry alone.
///
/// The ordered entries live in this value: reading them ([`get`](Self::get),
/// [`iter`](Self::iter), [`len`](Self::len)) makes no round trip. A key given twice appears
/// once, at its first position (`OrderedDict` semantics). The key name is never deleted by
/// `pottery`.
///
/// # Example
///
/// ```no_run
/// use pottery::CachedOrderedDict;
///
/// let ids = [3, 1, 2];
/// let mut docs: CachedOrderedDict<u64, String> =
///     CachedOrderedDict::open("redis://127.0.0.1:6379/", "search-docs", ids)?;
/// let missing: Vec<u64> = docs.misses().copied().collect();
/// docs.fill_misses_with(|id| format!("document {id}"))?; // one HSET for all misses
/// assert_eq!(docs.get(&3), Some(&"document 3".to_owned()));
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct CachedOrderedDict<K, V> {
    handle: Arc<KeyHandle>,
    timeout: Option<Duration>,
    entries: Vec<(K, Option<V>)>,
    /// Position of each key in `entries`, by its JSON field.
    positions: HashMap<Vec<u8>, usize>,
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for CachedOrderedDict<K, V> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CachedOrderedDict")
            .field("key", &self.handle.name())
            .field("timeout", &self.timeout)
            .field("entries", &self.entries)
            .finish()
    }
}

impl<K, V> CachedOrderedDict<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    /// Looks up `keys`, in order, in the hash at `key` with one `HMGET` (no command at all for
    /// no keys), then sets the hash to expire after [`DEFAULT_CACHE_TIMEOUT`] (pipelined: one
    /// round trip).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs: pottery::CachedOrderedDict<String, String> = pottery::CachedOrderedDict::open(
    ///     "redis://127.0.0.1:6379/",
    ///     "docs",
    ///     ["b".to_owned(), "a".to_owned()],
    /// )?;
    /// let order: Vec<&String> = docs.keys().collect();
    /// assert_eq!(order, ["b", "a"]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Self> {
        Self::open_with_timeout(connector, key, keys, Some(DEFAULT_CACHE_TIMEOUT))
    }

    /// [`open`](Self::open) with the hash's time to live after each write: `None` never sets
    /// an expiry; `Some` must be at least a millisecond (else [`Error::InvalidArgument`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let docs: pottery::CachedOrderedDict<u32, String> =
    ///     pottery::CachedOrderedDict::open_with_timeout(
    ///         "redis://127.0.0.1:6379/",
    ///         "docs",
    ///         [1, 2],
    ///         Some(Duration::from_secs(600)),
    ///     )?;
    /// assert_eq!(docs.len(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open_with_timeout(
        connector: impl Into<Connector>,
        key: &str,
        keys: impl IntoIterator<Item = K>,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        if let Some(timeout) = timeout {
            if timeout < Duration::from_millis(1) || timeout.as_millis() > i64::MAX as u128 {
                return Err(Error::InvalidArgument {
                    argument: "timeout",
                    problem: "must be between 1 millisecond and 2^63-1 milliseconds",
                });
            }
        }
        let mut dict = Self {
            handle: KeyHandle::new(connector.into(), Some(key))?,
            timeout,
            entries: Vec::new(),
            positions: HashMap::new(),
        };
        let mut fields = Vec::new();
        for key in keys {
            let field = to_json(&key)?;
            if !dict.positions.contains_key(&field) {
                dict.positions.insert(field.clone(), dict.entries.len());
                dict.entries.push((key, None));
                fields.push(field);
            }
        }
        if fields.is_empty() {
            return Ok(dict);
        }
        let mut pipeline = redis::pipe();
        pipeline.cmd("HMGET").arg(dict.handle.name()).arg(&fields);
        dict.add_expiry(&mut pipeline);
        let (stored,): (Vec<Option<Vec<u8>>>,) = dict.handle.query_pipeline(&pipeline)?;
        if stored.len() != dict.entries.len() {
            return Err(Error::UnexpectedReply { command: "HMGET" });
        }
        for ((_, value), stored) in dict.entries.iter_mut().zip(stored) {
            *value = stored.map(|bytes| from_json(&bytes)).transpose()?;
        }
        Ok(dict)
    }

    /// The Redis key of the cache hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [])?;
    /// assert_eq!(docs.key(), "docs");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// The keys without a value yet, in order (Python's `misses()`, a set there).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [7])?;
    /// let missing: Vec<&u8> = docs.misses().collect();
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn misses(&self) -> impl Iterator<Item = &K> {
        self.entries
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key)
    }

    /// The number of keys, hits and misses alike.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [1, 1, 2])?;
    /// assert_eq!(docs.len(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [])?;
    /// assert!(docs.is_empty());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`: `None` for a miss or a key not in the dict. No round trip.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// let first: Option<&String> = docs.get(&1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let field = to_json(key).ok()?;
        let position = *self.positions.get(&field)?;
        self.entries.get(position)?.1.as_ref()
    }

    /// Whether `key` is one of the dict's keys (hit or miss).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// assert!(docs.contains_key(&1));
    /// assert!(!docs.contains_key(&2));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        to_json(key).is_ok_and(|field| self.positions.contains_key(&field))
    }

    /// The keys in order.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, u8>::open("redis://127.0.0.1:6379/", "docs", [2, 1])?;
    /// assert_eq!(docs.keys().copied().collect::<Vec<_>>(), [2, 1]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(key, _)| key)
    }

    /// The entries in order, `None` for a miss.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2])?;
    /// for (id, doc) in docs.iter() {
    ///     println!("{id}: {}", doc.map_or("(not cached)", String::as_str));
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&K, Option<&V>)> {
        self.entries
            .iter()
            .map(|(key, value)| (key, value.as_ref()))
    }

    /// Stores `value` for `key` here and in the hash (`HSET`, then `PEXPIRE`, one round trip);
    /// a key not in the dict yet is appended (Python's `d[key] = value`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// docs.insert(1, "one".to_owned())?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn insert(&mut self, key: K, value: V) -> Result<()> {
        self.extend([(key, value)])
    }

    /// Stores every entry of `entries` here and in the hash (later ones win): `HSET`s of up to
    /// 1000 pairs and the `PEXPIRE`, pipelined in one round trip (Python's `update`). On an
    /// error nothing changes here, though some batches may have reached the hash.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2])?;
    /// docs.extend([(1, "one".to_owned()), (2, "two".to_owned())])?;
    /// assert_eq!(docs.get(&2).map(String::as_str), Some("two"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        let mut encoded = Vec::new();
        for (key, value) in entries {
            let field = to_json(&key)?;
            let json = to_json(&value)?;
            encoded.push((field, json, key, value));
        }
        if encoded.is_empty() {
            return Ok(());
        }
        let mut pipeline = redis::pipe();
        for batch in encoded.chunks(WRITE_BATCH) {
            let command = pipeline.cmd("HSET").arg(self.handle.name());
            for (field, json, _, _) in batch {
                command.arg(field).arg(json);
            }
            command.ignore();
        }
        self.add_expiry(&mut pipeline);
        self.handle.query_pipeline::<()>(&pipeline)?;
        for (field, _, key, value) in encoded {
            match self.positions.get(&field) {
                Some(&position) => {
                    if let Some(entry) = self.entries.get_mut(position) {
                        entry.1 = Some(value);
                    }
                }
                None => {
                    self.positions.insert(field, self.entries.len());
                    self.entries.push((key, Some(value)));
                }
            }
        }
        Ok(())
    }

    /// Computes a value for every miss with `make`, in order, and stores them all with one
    /// [`extend`](Self::extend): the hydrate-the-misses step in one round trip.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1, 2])?;
    /// docs.fill_misses_with(|id| format!("document {id}"))?;
    /// assert_eq!(docs.misses().count(), 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn fill_misses_with(&mut self, mut make: impl FnMut(&K) -> V) -> Result<()>
    where
        K: Clone,
    {
        let filled: Vec<(K, V)> = self.misses().map(|key| (key.clone(), make(key))).collect();
        self.extend(filled)
    }

    /// Python's `setdefault`: stores `default` in the hash unless it already has a value for
    /// `key` (`HSETNX` and `HGET` in one `MULTI`/`EXEC`, then `PEXPIRE`), and keeps and returns
    /// the value the hash holds now, so a value cached meanwhile by another process wins. A
    /// key not in the dict yet is appended.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// let doc = docs.setdefault(1, "fallback".to_owned())?;
    /// println!("{doc}");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn setdefault(&mut self, key: K, default: V) -> Result<&V> {
        let field = to_json(&key)?;
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("HSETNX")
            .arg(self.handle.name())
            .arg(&field)
            .arg(to_json(&default)?)
            .ignore()
            .cmd("HGET")
            .arg(self.handle.name())
            .arg(&field);
        self.add_expiry(&mut pipeline);
        let (stored,): (Option<Vec<u8>>,) = self.handle.query_pipeline(&pipeline)?;
        // HSETNX just made sure the field exists and MULTI keeps it until HGET.
        let stored = stored.ok_or(Error::UnexpectedReply { command: "HGET" })?;
        let value: V = from_json(&stored)?;
        let position = match self.positions.get(&field) {
            Some(&position) => position,
            None => {
                self.positions.insert(field, self.entries.len());
                self.entries.push((key, None));
                self.entries.len() - 1
            }
        };
        let entry = self
            .entries
            .get_mut(position)
            .ok_or(Error::UnexpectedReply { command: "HGET" })?;
        Ok(entry.1.insert(value))
    }

    /// The entries in order, `None` for a miss, leaving the cache as it is.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let docs = pottery::CachedOrderedDict::<u8, String>::open("redis://127.0.0.1:6379/", "docs", [1])?;
    /// let entries: Vec<(u8, Option<String>)> = docs.into_entries();
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn into_entries(self) -> Vec<(K, Option<V>)> {
        self.entries
    }

    /// Appends the `PEXPIRE` of the timeout (if any) to `pipeline`, its reply ignored.
    fn add_expiry(&self, pipeline: &mut redis::Pipeline) {
        if let Some(timeout) = self.timeout {
            pipeline
                .cmd("PEXPIRE")
                .arg(self.handle.name())
                .arg(timeout.as_millis() as u64)
                .ignore();
        }
    }
}
