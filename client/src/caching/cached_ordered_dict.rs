//! [`CachedOrderedDict`]: ordered keys whose values are cached in a Redis hash, shared with
//! Python pottery's `CachedOrderedDict`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::containers::dict::{setdefault_pipeline, stored_now, WRITE_BATCH};
use crate::error::Error;
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
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
pub struct CachedOrderedDict<K, V, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    timeout: Option<Duration>,
    entries: Vec<(K, Option<V>)>,
    /// Position of each key in `entries`, by its JSON field.
    positions: HashMap<Vec<u8>, usize>,
    face: PhantomData<fn() -> F>,
}

/// Entries written to the hash, to be applied here: (field, key, value).
pub(super) type Written<K, V> = Vec<(Vec<u8>, K, V)>;

impl<K: fmt::Debug, V: fmt::Debug, F: Face> fmt::Debug for CachedOrderedDict<K, V, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CachedOrderedDict")
            .field("key", &self.handle.name())
            .field("timeout", &self.timeout)
            .field("entries", &self.entries)
            .finish()
    }
}

impl<K, V, F: Face> CachedOrderedDict<K, V, F>
where
    K: Serialize + DeserializeOwned + Send + 'static,
    V: Serialize + DeserializeOwned + Send + 'static,
{
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

    /// The dict of `keys` (each once, at its first position) on `key`, filled by one `HMGET`
    /// pipelined with the `PEXPIRE` (no command at all for no keys): the faces' `open`.
    pub(super) fn opening(
        connector: Connector,
        key: &str,
        keys: impl IntoIterator<Item = K>,
        timeout: Option<Duration>,
    ) -> Operation<Self> {
        Operation::build(|| {
            if let Some(timeout) = timeout {
                if timeout < Duration::from_millis(1) || timeout.as_millis() > i64::MAX as u128 {
                    return Err(Error::InvalidArgument {
                        argument: "timeout",
                        problem: "must be between 1 millisecond and 2^63-1 milliseconds",
                    });
                }
            }
            let mut dict = Self {
                handle: KeyHandle::new::<F>(connector, Some(key))?,
                timeout,
                entries: Vec::new(),
                positions: HashMap::new(),
                face: PhantomData,
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
                return Ok(Operation::done(Ok(dict)));
            }
            let mut pipeline = redis::pipe();
            pipeline.cmd("HMGET").arg(dict.handle.name()).arg(&fields);
            dict.add_expiry(&mut pipeline);
            let lookup = dict
                .handle
                .request_pipeline::<(Vec<Option<Vec<u8>>>,)>(pipeline);
            Ok(lookup.and_then(move |(stored,)| {
                if stored.len() != dict.entries.len() {
                    return Err(Error::UnexpectedReply { command: "HMGET" });
                }
                for ((_, value), stored) in dict.entries.iter_mut().zip(stored) {
                    *value = stored.map(|bytes| from_json(&bytes)).transpose()?;
                }
                Ok(dict)
            }))
        })
    }

    /// Writes `entries` to the hash (`HSET`s of up to 1000 pairs and the `PEXPIRE`, pipelined)
    /// and hands them back for [`apply`](Self::apply): the faces' `extend`.
    pub(super) fn writing(
        &self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Operation<Written<K, V>> {
        Operation::build(|| {
            let mut encoded = Vec::new();
            let mut written = Vec::new();
            for (key, value) in entries {
                let field = to_json(&key)?;
                encoded.push((field.clone(), to_json(&value)?));
                written.push((field, key, value));
            }
            if encoded.is_empty() {
                return Ok(Operation::done(Ok(written)));
            }
            let mut pipeline = redis::pipe();
            for batch in encoded.chunks(WRITE_BATCH) {
                let command = pipeline.cmd("HSET").arg(self.handle.name());
                for (field, json) in batch {
                    command.arg(field).arg(json);
                }
                command.ignore();
            }
            self.add_expiry(&mut pipeline);
            Ok(self
                .handle
                .request_pipeline::<()>(pipeline)
                .map(move |()| written))
        })
    }

    /// Takes in entries the hash now holds (later ones win); new keys are appended.
    pub(super) fn apply(&mut self, written: Written<K, V>) {
        for (field, key, value) in written {
            *self.slot(field, key) = Some(value);
        }
    }

    /// `HSETNX` and `HGET` in one `MULTI`/`EXEC`, then `PEXPIRE`: the value the hash holds for
    /// `key` now, for [`settle`](Self::settle) (the faces' `setdefault`).
    pub(super) fn defaulting(&self, key: K, default: &V) -> Operation<(Vec<u8>, K, V)> {
        Operation::build(|| {
            let field = to_json(&key)?;
            let mut pipeline = setdefault_pipeline(self.handle.name(), &field, to_json(default)?);
            self.add_expiry(&mut pipeline);
            let lookup = self.handle.request_pipeline::<(Option<Vec<u8>>,)>(pipeline);
            Ok(lookup.and_then(move |(stored,)| {
                let value = from_json(&stored_now(stored)?)?;
                Ok((field, key, value))
            }))
        })
    }

    /// Keeps the value [`defaulting`](Self::defaulting) read and returns it.
    pub(super) fn settle(&mut self, (field, key, value): (Vec<u8>, K, V)) -> &V {
        self.slot(field, key).insert(value)
    }

    /// The value slot of the entry at `field`, appended as a miss for a new key.
    fn slot(&mut self, field: Vec<u8>, key: K) -> &mut Option<V> {
        let position = *self.positions.entry(field).or_insert_with(|| {
            self.entries.push((key, None));
            self.entries.len() - 1
        });
        &mut self.entries[position].1
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
