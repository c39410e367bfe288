//! [`RedisQueue`]: a FIFO queue in a Redis list, with a blocking `get` on a dedicated
//! connection.

use std::borrow::Borrow;
use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::from_json;
use crate::containers::list::RedisList;
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;

/// The longest wait [`RedisQueue::get`](crate::containers::RedisQueue::get) accepts (2^40 ms,
/// about 35 years).
///
/// # Example
///
/// ```
/// assert_eq!(pottery::MAX_QUEUE_WAIT.as_millis(), 1 << 40);
/// ```
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
/// A blocking `get` waits on a dedicated connection of the queue's [`Connector`] (opened when
/// needed, and kept for the next blocking call), so other calls through the queue, its clones
/// and every container of the connector never wait behind it; that needs a queue made from a
/// URL, a `redis::Client` or a `redis::cluster::ClusterClient` (a cluster gets a cluster
/// connection, which waits on the master of the queue's key). Its read timeout is the wait plus
/// [`DEFAULT_CONTAINER_TIMEOUT`](crate::DEFAULT_CONTAINER_TIMEOUT), so a reply always arrives
/// before the client gives up. An async `get` dropped while it waits drops its connection with
/// it: the item it might have taken stays in the list, or, if the server had already sent it,
/// is lost (at most once).
///
/// `RedisQueue<T>` is the sync face ([`Blocking`]); [`aio::RedisQueue`](crate::aio::RedisQueue)
/// has the same methods as futures (see [`Face`]), on the same data.
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
pub struct RedisQueue<T, F: Face = Blocking> {
    list: RedisList<T, F>,
}

impl<T, F: Face> Clone for RedisQueue<T, F> {
    /// Shares the key and the connector.
    fn clone(&self) -> Self {
        Self {
            list: self.list.clone(),
        }
    }
}

impl<T, F: Face> fmt::Debug for RedisQueue<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisQueue")
            .field("key", &self.list.handle().name())
            .finish()
    }
}

impl<T, F: Face> RedisQueue<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    fn attach(connector: Connector, key: Option<&str>) -> Result<Self> {
        Ok(Self {
            list: RedisList::attach(connector, key)?,
        })
    }

    /// Attaches to the queue at `key` (which may or may not exist yet); the key is
    /// never deleted by `pottery`. Opens no connection until the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let mail: pottery::RedisQueue<String> = pottery::RedisQueue::open(&client, "mail")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let mail: pottery::aio::RedisQueue<String> = pottery::aio::RedisQueue::open(&redis, "mail")?;
    /// mail.put("hello").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Self::attach(connector.into(), Some(key))
    }

    /// An empty queue at a new random key `pottery:<uuid4>`, deleted when the last clone
    /// of this handle is dropped (on the async face by a spawned task, inside a tokio runtime).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let scratch: pottery::RedisQueue<u32> = pottery::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.key().starts_with("pottery:"));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let scratch: pottery::aio::RedisQueue<u32> = pottery::aio::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// assert!(scratch.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connector: impl Into<Connector>) -> Result<Self> {
        Self::attach(connector.into(), None)
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
        self.list.key()
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
    pub fn put<Q>(&self, item: &Q) -> F::Output<()>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(self.list.push_one(item))
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
    pub fn get_nowait(&self) -> F::Output<Option<T>> {
        F::run(self.list.pop_end("LPOP"))
    }

    /// Removes and returns the front item, waiting up to `timeout` for one to arrive (`BLPOP`
    /// on a dedicated connection of the connector); `None` when the time is up. A zero
    /// `timeout` is [`get_nowait`](Self::get_nowait); a wait under 1 ms is rounded up to 1 ms
    /// (`BLPOP`'s 0 would mean "forever"). Waits longer than [`MAX_QUEUE_WAIT`], and queues
    /// made from an open connection (which cannot open a second one), are
    /// [`Error::InvalidArgument`]. Any number of threads or tasks may wait at once, through one
    /// handle or several: each `get` waiting has a connection of its own. At most once: see
    /// the type's documentation.
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
    ///
    /// On the async face, a `get` waits beside any number of other calls of its connector, and
    /// may be dropped (a `select!`, a timeout) without harm to them:
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # async fn run() -> pottery::Result<()> {
    /// let queue: pottery::aio::RedisQueue<u32> = pottery::aio::RedisQueue::new("redis://127.0.0.1:6379/")?;
    /// let (item, _) = tokio::join!(queue.get(Duration::from_secs(5)), queue.put(&42));
    /// assert_eq!(item?, Some(42));
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(&self, timeout: Duration) -> F::Output<Option<T>> {
        F::run(self.blocking_pop(timeout))
    }

    /// `BLPOP` with `timeout`, after the checks of [`get`](Self::get).
    fn blocking_pop(&self, timeout: Duration) -> Operation<Option<T>> {
        if timeout.is_zero() {
            return self.list.pop_end("LPOP");
        }
        if timeout > MAX_QUEUE_WAIT {
            return Operation::done(Err(Error::InvalidArgument {
                argument: "timeout",
                problem: "must be at most 2^40 ms",
            }));
        }
        let handle = self.list.handle();
        if handle.connector().origin().is_none() {
            return Operation::done(Err(Error::InvalidArgument {
                argument: "connector",
                problem: "a blocking get needs a URL or a client to open its own connection",
            }));
        }
        // BLPOP takes seconds with millisecond precision; 0 would mean "forever", so a wait
        // under 1 ms is rounded up to 1 ms.
        let millis = timeout.as_millis().max(1);
        let mut command = handle.command("BLPOP");
        command.arg(format!("{}.{:03}", millis / 1000, millis % 1000));
        handle
            .request_blocking(command, timeout)
            .and_then(|popped: Option<(Vec<u8>, Vec<u8>)>| {
                popped.map(|(_, bytes)| from_json(&bytes)).transpose()
            })
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
    pub fn len(&self) -> F::Output<usize> {
        self.list.len()
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
    pub fn is_empty(&self) -> F::Output<bool> {
        self.list.is_empty()
    }
}
