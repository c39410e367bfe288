//! [`RedisQueue`]: a FIFO queue in a Redis list, with a blocking `get` on its own connection.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{from_json, to_json};
use crate::error::{Error, Result};
use crate::transport::connector::{Connector, Session, DEFAULT_CONTAINER_TIMEOUT};
use crate::transport::key::KeyHandle;

/// The longest wait [`RedisQueue::get`] accepts (2^40 ms, about 35 years).
pub const MAX_QUEUE_WAIT: Duration = Duration::from_millis(1 << 40);

/// A first-in, first-out queue stored in a Redis list: [`put`](Self::put) is `RPUSH` of
/// JSON(item), [`get`](Self::get) is `BLPOP` with a timeout, [`get_nowait`](Self::get_nowait)
/// is `LPOP`. Any client that pushes JSON with `RPUSH` feeds it. (Python pottery 3.0.1's queue
/// is a stream, so the two do not share queues.)
///
/// **Delivery is at most once.** `BLPOP`/`LPOP` remove the item in Redis before it reaches this
/// process: an item whose reply is lost (the connection breaks, the process dies, or the reply
/// arrives after the client gave up) is gone. Use it where losing an item on a crash is
/// acceptable, or acknowledge items in your own store.
///
/// A blocking `get` waits on a connection of its own, opened on first use and kept by this
/// handle (a clone gets its own), so other calls through the queue and its clones never wait
/// behind it; that needs a queue made from a URL, a `redis::Client` or a
/// `redis::cluster::ClusterClient` (a cluster gets a cluster connection, which waits on the
/// master of the queue's key). Its read timeout is the wait plus [`DEFAULT_CONTAINER_TIMEOUT`],
/// so a reply always arrives before the client gives up.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use pottery::RedisQueue;
///
/// let jobs: RedisQueue<String> = RedisQueue::open("redis://127.0.0.1:6379/", "jobs")?;
/// jobs.put("resize photo 17")?;
/// let consumer = jobs.clone();
/// let job = consumer.get(Duration::from_secs(1))?;
/// assert_eq!(job.as_deref(), Some("resize photo 17"));
/// assert_eq!(consumer.get_nowait()?, None);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RedisQueue<T> {
    handle: Arc<KeyHandle>,
    blocking: Mutex<Option<Session>>,
    types: PhantomData<fn() -> T>,
}

impl<T> Clone for RedisQueue<T> {
    /// Shares the key and the connection for non-blocking calls; the clone opens its own
    /// connection for blocking `get`s, so it can wait beside the original.
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            blocking: Mutex::new(None),
            types: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RedisQueue<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisQueue")
            .field("key", &self.handle.name())
            .finish()
    }
}

impl<T> RedisQueue<T>
where
    T: Serialize + DeserializeOwned,
{
    /// Attaches to the queue at `key` (which may or may not exist yet); the key is never
    /// deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let mail: pottery::RedisQueue<String> = pottery::RedisQueue::open(&client, "mail")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self::from_handle(KeyHandle::new(
            connector.into(),
            Some(key),
        )?))
    }

    /// An empty queue at a new random key `pottery:<uuid4>`, deleted when the last clone of
    /// this handle is dropped.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Ok(Self::from_handle(KeyHandle::new(connector.into(), None)?))
    }

    fn from_handle(handle: Arc<KeyHandle>) -> Self {
        Self {
            handle,
            blocking: Mutex::new(None),
            types: PhantomData,
        }
    }

    /// The Redis key of the list.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let queue: pottery::RedisQueue<u32> = pottery::RedisQueue::open("redis://127.0.0.1:6379/", "q")?;
    /// assert_eq!(queue.key(), "q");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// Adds `item` at the back (`RPUSH`); a consumer blocked in [`get`](Self::get) wakes at
    /// once.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let queue: pottery::RedisQueue<(u32, String)> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// queue.put(&(7, "seven".to_owned()))?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn put<Q>(&self, item: &Q) -> Result<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let encoded = to_json(item)?;
        self.handle
            .query::<usize>(redis::cmd("RPUSH").arg(self.handle.name()).arg(encoded))
            .map(drop)
    }

    /// Removes and returns the front item if there is one now (`LPOP`), without waiting.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let queue: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// assert_eq!(queue.get_nowait()?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get_nowait(&self) -> Result<Option<T>> {
        let stored: Option<Vec<u8>> = self
            .handle
            .query(redis::cmd("LPOP").arg(self.handle.name()))?;
        stored.map(|bytes| from_json(&bytes)).transpose()
    }

    /// Removes and returns the front item, waiting up to `timeout` for one to arrive (`BLPOP`
    /// on this handle's own connection); `None` when the time is up. A zero `timeout` is
    /// [`get_nowait`](Self::get_nowait). Waits longer than [`MAX_QUEUE_WAIT`], and queues made
    /// from an open connection (which cannot open a second one), are
    /// [`Error::InvalidArgument`]. Threads calling `get` on the same handle take turns on its
    /// blocking connection: give each consumer its own clone. At most once: see the type's
    /// documentation.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let queue: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// let producer = queue.clone();
    /// std::thread::spawn(move || producer.put(&42));
    /// assert_eq!(queue.get(Duration::from_secs(5))?, Some(42));
    /// assert_eq!(queue.get(Duration::from_millis(10))?, None);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn get(&self, timeout: Duration) -> Result<Option<T>> {
        if timeout.is_zero() {
            return self.get_nowait();
        }
        if timeout > MAX_QUEUE_WAIT {
            return Err(Error::InvalidArgument {
                argument: "timeout",
                problem: "must be at most 2^40 ms",
            });
        }
        // BLPOP takes seconds with millisecond precision; 0 would mean "forever", so a wait
        // under 1 ms is rounded up to 1 ms.
        let millis = timeout.as_millis().max(1);
        let seconds = format!("{}.{:03}", millis / 1000, millis % 1000);
        let mut slot = self.blocking.lock().unwrap_or_else(PoisonError::into_inner);
        let connection = match slot.as_mut() {
            Some(connection) => connection,
            None => {
                let origin = self.handle.origin().ok_or(Error::InvalidArgument {
                    argument: "connector",
                    problem: "a blocking get needs a URL or a client to open its own connection",
                })?;
                slot.insert(origin.open()?)
            }
        };
        connection.set_read_timeout(Some(timeout + DEFAULT_CONTAINER_TIMEOUT))?;
        let reply: redis::RedisResult<Option<(Vec<u8>, Vec<u8>)>> = redis::cmd("BLPOP")
            .arg(self.handle.name())
            .arg(&seconds)
            .query(connection.as_connection_like());
        match reply {
            Ok(popped) => popped.map(|(_, bytes)| from_json(&bytes)).transpose(),
            Err(error) => {
                if error.is_io_error() || error.is_timeout() || error.is_unrecoverable_error() {
                    // A late reply may still arrive on this socket: never reuse it.
                    *slot = None;
                }
                Err(error.into())
            }
        }
    }

    /// The number of items waiting (`LLEN`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let queue: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// queue.put(&1)?;
    /// assert_eq!(queue.len()?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> Result<usize> {
        self.handle
            .query(redis::cmd("LLEN").arg(self.handle.name()))
    }

    /// Whether no item is waiting.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let queue: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// assert!(queue.is_empty()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}
