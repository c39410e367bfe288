//! [`RwLock`]: many readers or one writer across every client of one Redis master, each hold
//! with a TTL and writers not starved, over `POTTERY.RWLOCK.*`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::redlock::builder::OnLost;
use crate::redlock::timing::block_argument;
use crate::sync_primitives::guard::{granted, release, HoldGuard, HoldKind, Read, Write};
use crate::sync_primitives::semaphore::module_handle;
use crate::sync_primitives::waiting::{wait, Attempt};
use crate::sync_primitives::{timing_methods, Timing};
use crate::transport::connector::Connector;
use crate::transport::key::{uuid4, KeyHandle};

/// Proof of a shared hold of an [`RwLock`]; releases it when dropped. See [`HoldGuard`].
pub type RwLockReadGuard<F = Blocking> = HoldGuard<Read, F>;

/// Proof of the exclusive hold of an [`RwLock`]; releases it when dropped. See [`HoldGuard`].
pub type RwLockWriteGuard<F = Blocking> = HoldGuard<Write, F>;

/// The shortest a waiting writer's intent lasts: long enough to be refreshed by its next
/// attempt on a loaded machine, short enough that a writer that died keeps readers out briefly.
const MIN_INTENT: Duration = Duration::from_millis(500);

/// A read-write lock in one Redis hash: any number of readers share it, or one writer holds
/// it alone; every hold expires with its own TTL.
///
/// **Writers are not starved.** Waiting calls queue in the server (`BLOCK`), first come first
/// served: a reader that comes after a queued writer queues behind it, and the readers queued
/// behind a writer all get in when it leaves. A writer that has to wait also leaves an intent
/// (`POTTERY.RWLOCK.WRITE ... intent_ms`) that keeps *new* readers out while readers already
/// holding finish, which is what protects it from polling readers
/// ([`with_blocking(false)`](Self::with_blocking)); it refreshes the intent with every attempt,
/// and withdraws it when it gives up. The intent lasts ten retry delays (at least 500 ms), so a
/// writer that died lets readers in again soon. [`try_write`](Self::try_write) leaves no
/// intent. Needs the pottery module on
/// a single master (see the [safety assumptions](crate::sync_primitives#safety-assumptions)).
///
/// `RwLock` is the sync face ([`Blocking`]); [`aio::RwLock`](crate::aio::RwLock) has the same
/// methods as futures.
///
/// # Example
///
/// ```no_run
/// let config = pottery::RwLock::open("redis://127.0.0.1:6379/", "config-lock")?;
/// {
///     let reader = config.read()?;
///     let another = config.read()?; // readers share
///     assert!(config.try_write()?.is_none());
/// } // both released here
/// let writer = config.write()?;
/// writer.release()?;
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RwLock<F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    timing: Timing,
    on_lost: Option<OnLost>,
    face: PhantomData<F>,
}

impl<F: Face> Clone for RwLock<F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            timing: self.timing,
            on_lost: self.on_lost.clone(),
            face: PhantomData,
        }
    }
}

impl<F: Face> fmt::Debug for RwLock<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RwLock")
            .field("key", &self.handle.name())
            .field("ttl", &self.timing.ttl)
            .finish()
    }
}

impl<F: Face> RwLock<F> {
    /// The read-write lock at `key` (a hash, created by the first hold and deleted with the
    /// last release). Opens no connection.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "config-lock")?;
    /// assert_eq!(lock.key(), "config-lock");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::aio::RwLock::open("redis://127.0.0.1:6379/", "config-lock")?;
    /// let reader = lock.read().await?;
    /// reader.release().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str) -> Result<Self> {
        Ok(Self {
            handle: module_handle::<F>(connector.into(), key)?,
            timing: Timing::default(),
            on_lost: None,
            face: PhantomData,
        })
    }

    timing_methods!("pottery::RwLock::open(\"redis://127.0.0.1:6379/\", \"jobs\")");

    /// One attempt at a shared hold: `None` while a writer holds the lock or waits for it.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// if let Some(reader) = lock.try_read()? {
    ///     reader.release()?;
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_read(&self) -> F::Output<Option<RwLockReadGuard<F>>> {
        self.read_timeout(Duration::ZERO)
    }

    /// Waits for a shared hold until the acquire timeout ([`Error::AcquireTimeout`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// let reader = lock.read()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn read(&self) -> F::Output<RwLockReadGuard<F>> {
        let timeout = self.timing.acquire_timeout;
        F::run(
            self.reading(timeout)
                .and_then(move |got| got.ok_or(Error::AcquireTimeout { timeout })),
        )
    }

    /// Waits for a shared hold for at most `timeout`: `None` if none came.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// let reader = lock.read_timeout(Duration::from_millis(100))?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> F::Output<Option<RwLockReadGuard<F>>> {
        F::run(self.reading(timeout))
    }

    /// One attempt at the exclusive hold, leaving no intent: `None` if anyone holds the lock.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// if let Some(writer) = lock.try_write()? {
    ///     writer.release()?;
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_write(&self) -> F::Output<Option<RwLockWriteGuard<F>>> {
        self.write_timeout(Duration::ZERO)
    }

    /// Waits for the exclusive hold until the acquire timeout ([`Error::AcquireTimeout`]),
    /// keeping new readers out meanwhile.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// let writer = lock.write()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn write(&self) -> F::Output<RwLockWriteGuard<F>> {
        let timeout = self.timing.acquire_timeout;
        F::run(
            self.writing(timeout)
                .and_then(move |got| got.ok_or(Error::AcquireTimeout { timeout })),
        )
    }

    /// Waits for the exclusive hold for at most `timeout`: `None` if it never came (the
    /// intent is then withdrawn).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "l")?;
    /// let writer = lock.write_timeout(Duration::from_millis(100))?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn write_timeout(&self, timeout: Duration) -> F::Output<Option<RwLockWriteGuard<F>>> {
        F::run(self.writing(timeout))
    }

    fn reading(&self, timeout: Duration) -> Operation<Option<RwLockReadGuard<F>>> {
        let attempt = self.attempt::<Read>("POTTERY.RWLOCK.READ", uuid4(), None);
        wait(attempt, timeout, self.timing)
    }

    /// Attempts `POTTERY.RWLOCK.WRITE` with one holder token, leaving an intent when waiting,
    /// and withdraws the intent when the wait ends without the lock.
    fn writing(&self, timeout: Duration) -> Operation<Option<RwLockWriteGuard<F>>> {
        let intent = if timeout.is_zero() {
            Duration::ZERO
        } else {
            MIN_INTENT.max(self.timing.retry_delay.saturating_mul(10))
        };
        let intent_ms = u64::try_from(intent.as_millis())
            .unwrap_or(u64::MAX)
            .min(1 << 40);
        let token = uuid4();
        let attempt = self.attempt::<Write>("POTTERY.RWLOCK.WRITE", token.clone(), Some(intent_ms));
        let handle = Arc::clone(&self.handle);
        wait(attempt, timeout, self.timing).and_then_send(move |got| match got {
            None if intent_ms > 0 => release(&handle, Write::RELEASE, &token).map(|_| None),
            got => Operation::done(Ok(got)),
        })
    }

    /// One attempt: `command key token ttl_ms [intent_ms] [BLOCK ms]`.
    fn attempt<K: HoldKind>(
        &self,
        command: &'static str,
        token: String,
        intent_ms: Option<u64>,
    ) -> Attempt<HoldGuard<K, F>> {
        let (handle, timing) = (Arc::clone(&self.handle), self.timing);
        let on_lost = self.on_lost.clone();
        Arc::new(move |queued| {
            let start = Instant::now();
            let mut request = handle.command(command);
            request.arg(&token).arg(timing.ttl_ms());
            if let Some(intent_ms) = intent_ms {
                request.arg(intent_ms);
            }
            block_argument(&mut request, queued);
            let (handle, token, on_lost) = (Arc::clone(&handle), token.clone(), on_lost.clone());
            handle
                .module_request_waiting::<i64>(command, request, queued)
                .and_then_send(move |reply| {
                    granted(handle, timing, token, start, reply, 0, on_lost)
                })
        })
    }
}
