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
use crate::face::operation::{self, Operation};
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::{colocation, Colocation, KeyHandle};
use crate::transport::mode::module_loaded;
use pottery_core::hll::{HllError, Registers};

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
/// `HyperLogLog<T>` is the sync face ([`Blocking`]);
/// [`aio::HyperLogLog`](crate::aio::HyperLogLog) has the same methods as futures (see
/// [`Face`]), on the same data.
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
pub struct HyperLogLog<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    types: PhantomData<fn() -> (T, F)>,
}

impl<T, F: Face> Clone for HyperLogLog<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            types: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for HyperLogLog<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HyperLogLog")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T, F: Face> HyperLogLog<T, F>
where
    T: Serialize + Send + 'static,
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
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let users = pottery::aio::HyperLogLog::<u64>::open(&redis, "daily-users")?;
    /// users.add(&7).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty HyperLogLog at a new random key `pottery:<uuid4>`, deleted when the last clone
    /// of this handle is dropped
    /// (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch = pottery::HyperLogLog::<String>::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(scratch.len()?, 0);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch = pottery::aio::HyperLogLog::<String>::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(scratch.len().await?, 0);
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
    pub fn add<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(Operation::build(|| {
            let mut command = self.handle.command("PFADD");
            command.arg(to_json(element)?);
            Ok(self.handle.request(command))
        }))
    }

    /// Adds every element, 1000 per round trip, one batch after the other; `true` if any
    /// changed the registers.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let hll = pottery::HyperLogLog::<u32>::new("redis://127.0.0.1:6379/")?;
    /// assert!(hll.extend(0..100)?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<I>(&self, elements: I) -> F::Output<bool>
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
                .map(|batch| {
                    let mut command = self.handle.command("PFADD");
                    command.arg(batch);
                    self.handle.request::<bool>(command)
                })
                .collect();
            Ok(operation::all(batches).map(|changed| changed.contains(&true)))
        }))
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
    pub fn len(&self) -> F::Output<u64> {
        F::run(self.handle.request(self.handle.command("PFCOUNT")))
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
    pub fn is_empty(&self) -> F::Output<bool> {
        F::run(
            self.handle
                .request::<u64>(self.handle.command("PFCOUNT"))
                .map(|len| len == 0),
        )
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
    pub fn contains<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let found = self.contains_operation([element]);
        F::run(found.and_then(|found| {
            found.first().copied().ok_or(Error::UnexpectedReply {
                command: "POTTERY.HLL.CONTAINS",
            })
        }))
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
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> F::Output<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        F::run(self.contains_operation(elements))
    }

    /// `POTTERY.HLL.CONTAINS` where the module is used; else the value itself (`GET`), read
    /// with the module's own register code: the same answers, and nothing written either way.
    fn contains_operation<'a, Q, I>(&self, elements: I) -> Operation<Vec<bool>>
    where
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let encoded: Result<Vec<Vec<u8>>> = elements.into_iter().map(|e| to_json(e)).collect();
        let encoded = match encoded {
            Ok(encoded) => encoded,
            Err(error) => return Operation::done(Err(error)),
        };
        let handle = Arc::clone(&self.handle);
        module_loaded(self.handle.route()).and_then_send(move |loaded| {
            if encoded.is_empty() {
                return Operation::done(Ok(Vec::new()));
            }
            if loaded {
                let mut command = handle.command("POTTERY.HLL.CONTAINS");
                for element in &encoded {
                    command.arg(element.as_slice());
                }
                return handle.request(command);
            }
            handle
                .request::<Option<Vec<u8>>>(handle.command("GET"))
                .and_then(move |value| {
                    let Some(value) = value else {
                        return Ok(vec![false; encoded.len()]);
                    };
                    let registers = Registers::parse(&value).map_err(hll_error)?;
                    Ok(encoded
                        .iter()
                        .map(|element| registers.may_contain(element))
                        .collect())
                })
        })
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
    pub fn merge(&self, others: &[&Self]) -> F::Output<()> {
        let handle = Arc::clone(&self.handle);
        let others: Vec<Arc<KeyHandle>> = others
            .iter()
            .map(|other| Arc::clone(&other.handle))
            .collect();
        F::run(
            colocation(&handle, &others).and_then_send(move |placement| {
                if placement == Colocation::Apart {
                    return Operation::done(Err(Error::InvalidArgument {
                        argument: "others",
                        problem: "must live on the same server and database, or the same cluster",
                    }));
                }
                let mut command = handle.command("PFMERGE");
                for other in &others {
                    command.arg(other.name());
                }
                handle.request(command)
            }),
        )
    }
}

/// The module's error for a value that is no HyperLogLog, as the server would reply it.
fn hll_error(error: HllError) -> Error {
    let reply = format!("-{}\r\n", error.text());
    match redis::parse_redis_value(reply.as_bytes()) {
        Ok(redis::Value::ServerError(error)) => Error::Redis(error.into()),
        _ => Error::UnexpectedReply { command: "GET" },
    }
}
