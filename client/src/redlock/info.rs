//! What both faces of a Redlock and of its guard read without a round trip, written once:
//! [`LockInfo`] (a lock's key, masters, quorum and TTL) and [`Hold`] (a guard's token, fencing
//! token and validity). The faces' types dereference to them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::redlock::builder::Settings;
use crate::redlock::machine::{Acquire, Acquired};
use crate::transport::master::Master;
use crate::transport::quorum::majority;
#[cfg(doc)]
use crate::RedlockBuilder;

/// What a [`Redlock`](crate::Redlock) (and an [`aio::Redlock`](crate::aio::Redlock)) is set up
/// with: its key, masters, quorum and TTL. Both lock types dereference to it, so these are
/// called on the lock itself: `lock.key()`, `lock.quorum()`.
///
/// # Example
///
/// ```
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
/// assert_eq!((lock.key(), lock.masters(), lock.quorum()), ("redlock:printer", 1, 1));
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct LockInfo {
    pub(crate) settings: Settings,
    pub(crate) count: usize,
}

impl fmt::Debug for LockInfo {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug("LockInfo", formatter)
    }
}

impl LockInfo {
    /// The `Debug` of a lock type named `name`.
    pub(crate) fn debug(&self, name: &str, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct(name)
            .field("key", &self.settings.key)
            .field("masters", &self.count)
            .field("ttl", &self.settings.ttl)
            .finish_non_exhaustive()
    }

    /// The key on every master: `<prefix>:<name>`.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.key(), "redlock:printer");
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     assert_eq!(lock.key(), "redlock:printer");
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        &self.settings.key
    }

    /// The number of masters configured.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.masters(), 1);
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     assert_eq!(lock.masters(), 1);
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn masters(&self) -> usize {
        self.count
    }

    /// The number of masters that must agree: floor(masters / 2) + 1.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.quorum(), 1);
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     assert_eq!(lock.quorum(), 1);
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn quorum(&self) -> usize {
        majority(self.count)
    }

    /// The TTL each acquisition and extension sets.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.ttl(), std::time::Duration::from_secs(10));
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     assert_eq!(lock.ttl(), std::time::Duration::from_secs(10));
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn ttl(&self) -> Duration {
        self.settings.ttl
    }
}

/// A face's connections to the masters: `calls`, which every call takes turns on, and
/// `waits`, a second set for acquisitions that wait in the masters' queues (`POTTERY.LOCK ...
/// BLOCK`), so that a waiting acquisition never holds up a holder's release or renewal on the
/// same `Redlock`. `waits` is `None` when a master cannot be connected to twice (given as an
/// open connection, or a cluster): acquisitions then poll.
pub(crate) struct Lanes<M> {
    pub(crate) calls: M,
    pub(crate) waits: Option<M>,
}

impl<M> Shared<Lanes<M>> {
    /// A face's shared state over `masters`: the `calls` lane opened by `open`, and with
    /// [`blocking`](RedlockBuilder::blocking) the `waits` lane opened by `open_waiting` on a
    /// duplicate of every master, when each can be connected to twice.
    pub(crate) fn with_lanes(
        settings: Settings,
        masters: Vec<Master>,
        open: impl FnOnce(Vec<Master>) -> Result<M>,
        open_waiting: impl FnOnce(Vec<Master>) -> Result<M>,
    ) -> Result<Arc<Self>> {
        let count = masters.len();
        let duplicates: Option<Vec<Master>> = masters.iter().map(Master::duplicate).collect();
        let calls = open(masters)?;
        let waits = match duplicates {
            Some(duplicates) if settings.blocking => Some(open_waiting(duplicates)?),
            _ => None,
        };
        Ok(Self::new(settings, count, Lanes { calls, waits }))
    }

    /// An acquisition until `timeout`, waiting in the masters' queues when the caller holds
    /// the `waits` lane (one acquisition at a time does; a clone's concurrent one polls).
    pub(crate) fn acquiring(&self, timeout: Duration, holds_waits: bool) -> Acquire<'_> {
        Acquire::new(&self.info.settings, self.info.count, timeout, holds_waits)
    }
}

/// What a face's lock, its clones and its guards share: the lock's [`LockInfo`] and the face's
/// masters `M`.
pub(crate) struct Shared<M> {
    pub(crate) info: LockInfo,
    pub(crate) masters: M,
}

impl<M> Shared<M> {
    pub(crate) fn new(settings: Settings, count: usize, masters: M) -> Arc<Self> {
        let info = LockInfo { settings, count };
        Arc::new(Self { info, masters })
    }
}

/// Until when a guard's lock is surely held, and whether it was found lost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validity {
    pub(crate) until: Instant,
    pub(crate) lost: bool,
}

impl Validity {
    /// Found lost, or past its validity.
    pub(crate) fn is_lost(self) -> bool {
        self.lost || Instant::now() >= self.until
    }
}

/// Where a face keeps the [`Validity`] its guard and renewal share.
pub(crate) trait ValidityCell: Send + Sync {
    fn get(&self) -> Validity;
}

/// What a [`LockGuard`](crate::LockGuard) (and an [`aio::LockGuard`](crate::aio::LockGuard))
/// holds: this acquisition's token, fencing token and validity. Both guard types dereference
/// to it, as a `MutexGuard` does to its data, so these are called on the guard itself:
/// `guard.token()`, `guard.validity()`.
///
/// # Example
///
/// ```no_run
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
/// let guard = lock.acquire()?;
/// println!("{} holds it for at least {:?}", guard.token(), guard.validity());
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct Hold {
    pub(crate) token: String,
    fence: Option<i64>,
    state: Arc<dyn ValidityCell>,
}

impl fmt::Debug for Hold {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Hold")
            .field("token", &self.token)
            .field("fencing_token", &self.fence)
            .field("validity", &self.validity())
            .finish()
    }
}

impl Hold {
    /// The hold of a lock just taken, and the cell (made by `cell`) where the guard's face
    /// keeps its validity.
    pub(crate) fn new<C: ValidityCell + 'static>(
        acquired: Acquired,
        cell: impl FnOnce(Validity) -> C,
    ) -> (Self, Arc<C>) {
        let Acquired {
            token,
            fence,
            valid_until: until,
        } = acquired;
        let state = Arc::new(cell(Validity { until, lost: false }));
        let hold = Self {
            token,
            fence,
            state: Arc::clone(&state) as Arc<dyn ValidityCell>,
        };
        (hold, state)
    }

    /// The `Debug` of a guard type named `name` on the lock `key`.
    pub(crate) fn debug(
        &self,
        name: &str,
        key: &str,
        formatter: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        formatter
            .debug_struct(name)
            .field("key", &key)
            .field("token", &self.token)
            .field("fencing_token", &self.fence)
            .field("validity", &self.validity())
            .finish_non_exhaustive()
    }

    /// This holder's random token, the value of the lock key on the masters.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// assert_eq!(guard.token().len(), 36);
    /// # #[cfg(feature = "tokio")]
    /// # async fn aio() -> pottery::Result<()> {
    /// #     let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     let guard = lock.acquire().await?;
    /// #     assert_eq!(guard.token().len(), 36);
    /// #     Ok(())
    /// # }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The fencing token of this acquisition (with [fencing](RedlockBuilder::fencing) on):
    /// greater than every earlier holder's. Pass it to the protected resource, which rejects
    /// stale ones (for example with `POTTERY.FENCE.CHECK`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .fencing(true)
    ///     .build()?;
    /// let guard = lock.acquire()?;
    /// assert!(guard.fencing_token().is_some_and(|token| token >= 1));
    /// # #[cfg(feature = "tokio")]
    /// # async fn aio() -> pottery::Result<()> {
    /// #     let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").fencing(true).build_async().await?;
    /// #     let guard = lock.acquire().await?;
    /// #     assert!(guard.fencing_token().is_some());
    /// #     Ok(())
    /// # }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn fencing_token(&self) -> Option<i64> {
        self.fence
    }

    /// How long the lock is surely still held, by this client's monotonic clock (zero once
    /// it may have expired).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// assert!(guard.validity() <= lock.ttl());
    /// # #[cfg(feature = "tokio")]
    /// # async fn aio() -> pottery::Result<()> {
    /// #     let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     let guard = lock.acquire().await?;
    /// #     assert!(guard.validity() <= lock.ttl());
    /// #     Ok(())
    /// # }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn validity(&self) -> Duration {
        self.state
            .get()
            .until
            .saturating_duration_since(Instant::now())
    }

    /// Whether the lock may be lost: its validity ran out (not extended or renewed in time),
    /// or auto-renewal found that a majority no longer holds it.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .auto_renew(true)
    ///     .build()?;
    /// let guard = lock.acquire()?;
    /// while !guard.is_lost() {
    ///     // work in small steps
    /// #   break;
    /// }
    /// # #[cfg(feature = "tokio")]
    /// # async fn aio() -> pottery::Result<()> {
    /// #     let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     let guard = lock.acquire().await?;
    /// #     assert!(!guard.is_lost());
    /// #     Ok(())
    /// # }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_lost(&self) -> bool {
        self.state.get().is_lost()
    }
}

/// The `Deref` to [`LockInfo`] and the `Debug` (named `$name`) of a face's lock type, which
/// keeps its [`LockInfo`] at `shared.info`.
macro_rules! lock_face {
    ($lock:ident, $name:literal) => {
        /// The key, masters, quorum and TTL of this lock, like a `MutexGuard` derefs to its
        /// data: `lock.key()`, `lock.quorum()`.
        impl std::ops::Deref for $lock {
            type Target = $crate::redlock::info::LockInfo;

            fn deref(&self) -> &Self::Target {
                &self.shared.info
            }
        }

        impl std::fmt::Debug for $lock {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.shared.info.debug($name, formatter)
            }
        }
    };
}
pub(crate) use lock_face;

/// The `Deref` to [`Hold`] and the `Debug` (named `$name`) of a face's guard type, which keeps
/// its [`Hold`] at `hold` and its lock's [`LockInfo`] at `shared.info`.
macro_rules! guard_face {
    ($guard:ident, $name:literal) => {
        /// The token, fencing token and validity of this acquisition, like a `MutexGuard`
        /// derefs to its data: `guard.token()`, `guard.validity()`.
        impl std::ops::Deref for $guard {
            type Target = $crate::redlock::info::Hold;

            fn deref(&self) -> &Self::Target {
                &self.hold
            }
        }

        impl std::fmt::Debug for $guard {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let key = &self.shared.info.settings.key;
                self.hold.debug($name, key, formatter)
            }
        }
    };
}
pub(crate) use guard_face;
