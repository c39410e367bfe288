//! [`BloomFilter`]: a Bloom filter kept by the pottery module as a native Redis type.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use crate::codec::to_json;
use crate::containers::dict::WRITE_BATCH;
use crate::containers::set::many_elements;
use crate::error::{Error, Result};
use crate::face::operation::{self, Operation};
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// The largest capacity the module accepts (2^40).
const MAX_CAPACITY: u64 = 1 << 40;

/// A probabilistic set: `contains` is never wrong about an element that was added, and wrong
/// about one that was not with probability at most the error rate, while the filter holds its
/// capacity (it then grows by adding larger sub-filters, keeping the rate).
///
/// Elements are sent as JSON (see [`pottery::codec`](crate::codec)), like Python pottery does;
/// the filter lives on the server (`POTTERY.BF.*`, the pottery module), which stores its size
/// with it, computes the hashes and persists and replicates it. The layout is not Python
/// pottery's (a `SETBIT` bitmap), so the two do not share Bloom filter keys. Every method is
/// one round trip; the filter is created on the first write with the capacity and error rate
/// given here (an existing filter keeps its own). Clones share the key and the connection; a
/// filter made without a key name owns a random key (`pottery:<uuid4>`), deleted when its last
/// clone is dropped.
///
/// `BloomFilter<T>` is the sync face ([`Blocking`]); [`aio::BloomFilter`](crate::aio::BloomFilter)
/// has the same methods as futures (see [`Face`]), on the same filter.
///
/// # Example
///
/// ```no_run
/// use pottery::BloomFilter;
///
/// let seen: BloomFilter<String> = BloomFilter::open("redis://127.0.0.1:6379/", "seen-urls", 1_000_000, 0.001)?;
/// assert!(seen.add("https://example.com/")?);
/// assert!(seen.contains("https://example.com/")?);
/// assert!(!seen.contains("https://example.org/")?); // false with probability 0.999
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct BloomFilter<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    capacity: u64,
    error_rate: f64,
    types: PhantomData<fn() -> (T, F)>,
}

impl<T, F: Face> Clone for BloomFilter<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            capacity: self.capacity,
            error_rate: self.error_rate,
            types: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for BloomFilter<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BloomFilter")
            .field("key", &self.handle.name())
            .field("capacity", &self.capacity)
            .field("error_rate", &self.error_rate)
            .finish()
    }
}

/// What `POTTERY.BF.INFO` reports about a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BloomInfo {
    /// Items the filter holds at its error rate: the sum of its sub-filters' capacities.
    pub capacity: u64,
    /// Bytes of its bit arrays.
    pub size: u64,
    /// Sub-filters (1 until the first one is full).
    pub filters: u64,
    /// Elements added (each counted once, when it was new).
    pub items: u64,
    /// Growth factor of each new sub-filter; `None` for a filter that does not grow.
    pub expansion: Option<u64>,
}

fn check(capacity: u64, error_rate: f64) -> Result<()> {
    if !(1..=MAX_CAPACITY).contains(&capacity) {
        return Err(Error::InvalidArgument {
            argument: "capacity",
            problem: "must be within 1..=2^40",
        });
    }
    if !(error_rate > 0.0 && error_rate < 1.0) {
        return Err(Error::InvalidArgument {
            argument: "error_rate",
            problem: "must be strictly between 0 and 1",
        });
    }
    Ok(())
}

/// The module's errors for a filter that cannot take more elements, as [`Error::FilterFull`].
fn full_filter(error: Error) -> Error {
    if let Error::Redis(redis_error) = &error {
        let detail = redis_error.detail().unwrap_or_default();
        if detail == "non scaling filter is full"
            || detail == "max number of sub-filters reached"
            || detail.starts_with("capacity: filter would exceed")
        {
            return Error::FilterFull;
        }
    }
    error
}

impl<T, F: Face> BloomFilter<T, F>
where
    T: Serialize + Send + 'static,
{
    /// Attaches to the filter at `key`, to be created on the first write for `capacity`
    /// elements at `error_rate` (an existing filter keeps its own parameters). The key is never
    /// deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let tokens = pottery::BloomFilter::<u64>::open("redis://127.0.0.1:6379/", "spent-tokens", 10_000, 0.01)?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let tokens = pottery::aio::BloomFilter::<u64>::open(&redis, "spent-tokens", 10_000, 0.01)?;
    /// tokens.add(&42).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(
        connector: impl Into<Connector>,
        key: &str,
        capacity: u64,
        error_rate: f64,
    ) -> Result<Self> {
        Self::attach(connector.into(), Some(key), capacity, error_rate)
    }

    /// A filter at a new random key `pottery:<uuid4>`, deleted when the last clone of this
    /// handle is dropped
    /// (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch = pottery::BloomFilter::<String>::new("redis://127.0.0.1:6379/", 1000, 0.01)?;
    /// assert!(scratch.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch = pottery::aio::BloomFilter::<String>::new("redis://127.0.0.1:6379/", 1000, 0.01)?;
    /// assert!(scratch.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connector: impl Into<Connector>, capacity: u64, error_rate: f64) -> Result<Self> {
        Self::attach(connector.into(), None, capacity, error_rate)
    }

    fn attach(
        connector: Connector,
        key: Option<&str>,
        capacity: u64,
        error_rate: f64,
    ) -> Result<Self> {
        check(capacity, error_rate)?;
        Ok(Self {
            handle: KeyHandle::new::<F>(connector, key)?,
            capacity,
            error_rate,
            types: PhantomData,
        })
    }

    /// The Redis key.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u8>::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// assert_eq!(filter.key(), "f");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// `POTTERY.BF.INSERT key CAPACITY c ERROR e ITEMS ...`: creates the filter with our
    /// parameters if it is missing, adds the items, one reply per item.
    fn insert(&self, items: &[Vec<u8>]) -> Operation<Vec<bool>> {
        let mut command = self.handle.command("POTTERY.BF.INSERT");
        command
            .arg("CAPACITY")
            .arg(self.capacity)
            .arg("ERROR")
            .arg(self.error_rate.to_string())
            .arg("ITEMS")
            .arg(items);
        // A full filter refuses each item with an error inside the reply: that is the call's
        // error (see `operation::decode`).
        self.handle.request(command).map_err(full_filter)
    }

    /// Adds `element`: `true` if it was certainly not there before, `false` if it may have
    /// been. [`Error::FilterFull`] if the filter cannot grow any more.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<String>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// assert!(filter.add("a")?);
    /// assert!(!filter.add("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn add<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let replies = self.insert(&[to_json(element)?]);
            Ok(replies.map(|replies| replies.first().copied().unwrap_or(false)))
        }))
    }

    /// Adds every element, in batches of 1000 per round trip, one batch after the other; the
    /// number that were new. On [`Error::FilterFull`] the elements before the failing one are
    /// added, and no later batch is sent.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u32>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// assert_eq!(filter.extend([1, 2, 3, 2])?, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, elements: I) -> F::Output<usize>
    where
        I: IntoIterator<Item = T>,
    {
        F::run(Operation::build(|| {
            let encoded = elements
                .into_iter()
                .map(|element| to_json(&element))
                .collect::<Result<Vec<_>>>()?;
            let batches = encoded
                .chunks(WRITE_BATCH)
                .map(|batch| self.insert(batch))
                .collect();
            Ok(operation::all(batches)
                .map(|replies| replies.iter().flatten().filter(|new| **new).count()))
        }))
    }

    /// Whether `element` may have been added: `false` means it certainly was not.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<String>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// filter.add("a")?;
    /// assert!(filter.contains("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("POTTERY.BF.EXISTS");
            command.arg(to_json(element)?);
            Ok(self.handle.request(command))
        }))
    }

    /// [`contains`](Self::contains) for each of `elements`, in order, in one round trip.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u32>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// filter.extend([1, 3])?;
    /// let found = filter.contains_many(&[1, 3])?;
    /// assert_eq!(found, [true, true]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> F::Output<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        F::run(many_elements(&self.handle, "POTTERY.BF.MEXISTS", elements))
    }

    /// Elements added (each counted once, when it was new); 0 before the first write.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u32>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// filter.extend([1, 2])?;
    /// assert_eq!(filter.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<u64> {
        F::run(self.handle.request(self.handle.command("POTTERY.BF.CARD")))
    }

    /// Whether nothing was added yet.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u32>::new("redis://127.0.0.1:6379/", 100, 0.01)?;
    /// assert!(filter.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(
            self.handle
                .request::<u64>(self.handle.command("POTTERY.BF.CARD"))
                .map(|len| len == 0),
        )
    }

    /// The filter's size and growth; `None` before the first write.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter = pottery::BloomFilter::<u32>::new("redis://127.0.0.1:6379/", 1000, 0.01)?;
    /// assert_eq!(filter.info()?, None);
    /// filter.add(&7)?;
    /// let info = filter.info()?.expect("created by add");
    /// assert_eq!((info.capacity, info.filters, info.items), (1000, 1, 1));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn info(&self) -> F::Output<Option<BloomInfo>> {
        let reply = self
            .handle
            .request::<Vec<redis::Value>>(self.handle.command("POTTERY.BF.INFO"));
        F::run(reply.then(|reply| {
            Operation::done(match reply {
                Ok(values) => parse_info(&values).map(Some),
                Err(Error::Redis(error)) if error.detail() == Some("not found") => Ok(None),
                Err(error) => Err(error),
            })
        }))
    }
}

/// The flat `POTTERY.BF.INFO` reply: names at even positions, numbers after them.
fn parse_info(values: &[redis::Value]) -> Result<BloomInfo> {
    let number = |index: usize| -> Option<u64> {
        match values.get(index) {
            Some(redis::Value::Int(n)) => u64::try_from(*n).ok(),
            _ => None,
        }
    };
    let unexpected = || Error::UnexpectedReply {
        command: "POTTERY.BF.INFO",
    };
    Ok(BloomInfo {
        capacity: number(1).ok_or_else(unexpected)?,
        size: number(3).ok_or_else(unexpected)?,
        filters: number(5).ok_or_else(unexpected)?,
        items: number(7).ok_or_else(unexpected)?,
        expansion: number(9),
    })
}
