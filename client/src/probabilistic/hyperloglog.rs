//! [`HyperLogLog`]: a Redis HyperLogLog of JSON-encoded elements, shared with Python pottery's
//! `HyperLogLog`.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use crate::codec::to_json;
use crate::containers::dict::WRITE_BATCH;
use crate::error::{Error, Result};
use crate::transport::connector::Connector;
use crate::transport::key::{colocation, Colocation, KeyHandle};

/// A cardinality estimator (about 0.81% standard error in 12 KiB) with membership tests.
///
/// Elements are `PFADD`ed as JSON (see [`pottery::codec`](crate::codec)), byte for byte as
/// Python pottery 3.0.1's `HyperLogLog` adds them, so both can share the key. `contains` asks
/// the pottery module (`POTTERY.HLL.CONTAINS`) whether `PFADD` would change the value: `false`
/// means the element was certainly never added; `true` means it may have been, and becomes
/// likelier for absent elements as the HyperLogLog fills (about 4% at 1,000 elements, 32% at
/// 10,000). It reads in place, without copying the HyperLogLog into a temporary key as Python
/// pottery does. Clones share the key and the connection; one made without a key name owns a
/// random key (`pottery:<uuid4>`), deleted when its last clone is dropped.
///
/// # Example
///
/// ```no_run
/// use pottery::HyperLogLog;
///
/// let visitors: HyperLogLog<String> = HyperLogLog::open("redis://127.0.0.1:6379/", "visitors")?;
/// visitors.extend(["ada".to_owned(), "grace".to_owned(), "ada".to_owned()])?;
/// assert_eq!(visitors.len()?, 2);
/// assert!(visitors.contains("ada")?);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct HyperLogLog<T> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> T>,
}

impl<T> Clone for HyperLogLog<T> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T> fmt::Debug for HyperLogLog<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HyperLogLog")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T> HyperLogLog<T>
where
    T: Serialize,
{
    /// Attaches to the HyperLogLog at `key` (which may or may not exist yet); the key is never
    /// deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let users = pottery::HyperLogLog::<u64>::open("redis://127.0.0.1:6379/", "daily-users")?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new(connector.into(), Some(key))?,
            types: PhantomData,
        })
    }

    /// An empty HyperLogLog at a new random key `pottery:<uuid4>`, deleted when the last clone
    /// of this handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch = pottery::HyperLogLog::<String>::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(scratch.len()?, 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Ok(Self {
            handle: KeyHandle::new(connector.into(), None)?,
            types: PhantomData,
        })
    }

    /// The Redis key.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u8>::open("redis://127.0.0.1:6379/", "h")?;
    /// assert_eq!(hll.key(), "h");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// Adds `element`: `true` if the estimate's registers changed (so it was certainly new).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<String>::new("redis://127.0.0.1:6379/")?;
    /// assert!(hll.add("a")?);
    /// assert!(!hll.add("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn add<Q>(&self, element: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.handle.query(
            redis::cmd("PFADD")
                .arg(self.handle.name())
                .arg(to_json(element)?),
        )
    }

    /// Adds every element, 1000 per round trip; `true` if any changed the registers.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u32>::new("redis://127.0.0.1:6379/")?;
    /// assert!(hll.extend(0..100)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, elements: I) -> Result<bool>
    where
        I: IntoIterator<Item = T>,
    {
        let mut changed = false;
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        let mut flush = |batch: &mut Vec<Vec<u8>>| -> Result<()> {
            let added: bool = self
                .handle
                .query(redis::cmd("PFADD").arg(self.handle.name()).arg(&*batch))?;
            changed |= added;
            batch.clear();
            Ok(())
        };
        for element in elements {
            batch.push(to_json(&element)?);
            if batch.len() == WRITE_BATCH {
                flush(&mut batch)?;
            }
        }
        if !batch.is_empty() {
            flush(&mut batch)?;
        }
        Ok(changed)
    }

    /// The estimated number of distinct elements added (`PFCOUNT`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u32>::new("redis://127.0.0.1:6379/")?;
    /// hll.extend([1, 2, 2])?;
    /// assert_eq!(hll.len()?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> Result<u64> {
        self.handle
            .query(redis::cmd("PFCOUNT").arg(self.handle.name()))
    }

    /// Whether nothing was added (the estimate is 0).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u32>::new("redis://127.0.0.1:6379/")?;
    /// assert!(hll.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Whether `element` may have been added: `false` means it certainly was not.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<String>::new("redis://127.0.0.1:6379/")?;
    /// hll.add("a")?;
    /// assert!(hll.contains("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, element: &Q) -> Result<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let found = self.contains_many([element])?;
        found.first().copied().ok_or(Error::UnexpectedReply {
            command: "POTTERY.HLL.CONTAINS",
        })
    }

    /// [`contains`](Self::contains) for each of `elements`, in order, in one round trip.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u32>::new("redis://127.0.0.1:6379/")?;
    /// hll.extend([1, 3])?;
    /// assert_eq!(hll.contains_many(&[1, 3])?, [true, true]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> Result<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let mut command = redis::cmd("POTTERY.HLL.CONTAINS");
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

    /// Merges `others` into this HyperLogLog (`PFMERGE`): afterwards it counts the union. They
    /// must live on the same server and database as this one, or on the same cluster
    /// ([`Error::InvalidArgument`] otherwise), and there in the same hash slot
    /// ([`Error::CrossSlot`] otherwise: use a hash tag, as in `visitors:{site}:monday`); nothing
    /// is written when they do not. Two cluster connections are told apart by the IDs of their
    /// clusters' nodes (`CLUSTER NODES`, asked by each container at most every 30 s); a
    /// cluster that refuses to name them (an ACL) is taken as another cluster.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let monday = pottery::HyperLogLog::<String>::open(url, "visitors:monday")?;
    /// let tuesday = pottery::HyperLogLog::<String>::open(url, "visitors:tuesday")?;
    /// let week = pottery::HyperLogLog::<String>::open(url, "visitors:week")?;
    /// week.merge(&[&monday, &tuesday])?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn merge(&self, others: &[&HyperLogLog<T>]) -> Result<()> {
        let handles = others.iter().map(|other| &*other.handle);
        if colocation(&self.handle, handles)? == Colocation::Apart {
            return Err(Error::InvalidArgument {
                argument: "others",
                problem: "must live on the same server and database, or the same cluster",
            });
        }
        let mut command = redis::cmd("PFMERGE");
        command.arg(self.handle.name());
        for other in others {
            command.arg(other.handle.name());
        }
        self.handle.query(&command)
    }
}
