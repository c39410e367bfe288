//! [`Semaphore`]: at most `limit` permits held at once across every client of one Redis
//! master, each hold with a TTL, over `POTTERY.SEM.*`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::redlock::builder::OnLost;
use crate::redlock::timing::block_argument;
use crate::sync_primitives::guard::{granted, HoldGuard, Permits};
use crate::sync_primitives::waiting::{wait, Attempt};
use crate::sync_primitives::{timing_methods, Timing};
use crate::transport::connector::Connector;
use crate::transport::key::{uuid4, KeyHandle};
use crate::transport::mode::Mode;

/// Proof of holding permits of a [`Semaphore`]; releases them when dropped. See [`HoldGuard`].
pub type SemaphorePermit<F = Blocking> = HoldGuard<Permits, F>;

/// A counting semaphore in one Redis hash: at most `limit` permits are held at once, by any
/// number of clients, and each holder's permits expire with its own TTL, so a crashed holder
/// cannot keep them.
///
/// `acquire(n)` takes `n` permits atomically (all or none, `POTTERY.SEM.ACQUIRE`), waiting in
/// the server's first-come-first-served queue (`BLOCK`) until the acquire timeout, or polling
/// with random pauses ([`with_blocking(false)`](Self::with_blocking)). A retry of a call whose reply was lost
/// is idempotent: it uses the same holder token, which the module recognizes. Every client
/// must agree on the limit: the server refuses a different one while the semaphore has
/// holders. Needs the pottery module on a single master (see the
/// [safety assumptions](crate::sync_primitives#safety-assumptions)).
///
/// `Semaphore` is the sync face ([`Blocking`]); [`aio::Semaphore`](crate::aio::Semaphore) has
/// the same methods as futures. Clones share the key and settings.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// let uploads = pottery::Semaphore::open("redis://127.0.0.1:6379/", "uploads", 4)?
///     .with_ttl(Duration::from_secs(30));
/// let permit = uploads.acquire(1)?;
/// // ... at most 4 uploads at once, across every process ...
/// permit.release()?;
/// assert_eq!(uploads.available()?, 4);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct Semaphore<F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    limit: u64,
    timing: Timing,
    on_lost: Option<OnLost>,
    face: PhantomData<F>,
}

impl<F: Face> Clone for Semaphore<F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            limit: self.limit,
            timing: self.timing,
            on_lost: self.on_lost.clone(),
            face: PhantomData,
        }
    }
}

impl<F: Face> fmt::Debug for Semaphore<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Semaphore")
            .field("key", &self.handle.name())
            .field("limit", &self.limit)
            .field("ttl", &self.timing.ttl)
            .finish()
    }
}

/// The handle of a semaphore or lock at `key`, refused on a connector that never uses the module.
pub(crate) fn module_handle<F: Face>(connector: Connector, key: &str) -> Result<Arc<KeyHandle>> {
    if connector.mode() == Mode::WithoutModule {
        return Err(Error::InvalidArgument {
            argument: "connector",
            problem: "semaphores and read-write locks need the pottery module",
        });
    }
    KeyHandle::new::<F>(connector, Some(key))
}

impl<F: Face> Semaphore<F> {
    /// The semaphore of `limit` permits at `key` (a hash, created by the first acquisition and
    /// deleted with the last release). Opens no connection. [`Error::InvalidArgument`] for a
    /// limit of 0 or above `i64::MAX`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let workers = pottery::Semaphore::open("redis://127.0.0.1:6379/", "workers", 8)?;
    /// assert_eq!(workers.limit(), 8);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// let workers = pottery::aio::Semaphore::open(&redis, "workers", 8)?;
    /// let permit = workers.acquire(1).await?;
    /// permit.release().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(connector: impl Into<Connector>, key: &str, limit: u64) -> Result<Self> {
        if limit == 0 || i64::try_from(limit).is_err() {
            return Err(Error::InvalidArgument {
                argument: "limit",
                problem: "must be between 1 and i64::MAX",
            });
        }
        Ok(Self {
            handle: module_handle::<F>(connector.into(), key)?,
            limit,
            timing: Timing::default(),
            on_lost: None,
            face: PhantomData,
        })
    }

    timing_methods!("pottery::Semaphore::open(\"redis://127.0.0.1:6379/\", \"jobs\", 2)");

    /// The number of permits.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let jobs = pottery::Semaphore::open("redis://127.0.0.1:6379/", "jobs", 2)?;
    /// assert_eq!(jobs.limit(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// One attempt to take `permits` permits: `None` if fewer are free.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let jobs = pottery::Semaphore::open("redis://127.0.0.1:6379/", "jobs", 2)?;
    /// match jobs.try_acquire(1)? {
    ///     Some(permit) => permit.release()?,
    ///     None => println!("busy"),
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_acquire(&self, permits: u64) -> F::Output<Option<SemaphorePermit<F>>> {
        self.acquire_timeout(permits, Duration::ZERO)
    }

    /// Waits for `permits` permits until the acquire timeout: [`Error::AcquireTimeout`] if they
    /// never were free; [`Error::InvalidArgument`] for 0 or more than the limit.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let jobs = pottery::Semaphore::open("redis://127.0.0.1:6379/", "jobs", 2)?;
    /// let both = jobs.acquire(2)?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire(&self, permits: u64) -> F::Output<SemaphorePermit<F>> {
        let timeout = self.timing.acquire_timeout;
        F::run(
            self.waiting(permits, timeout)
                .and_then(move |got| got.ok_or(Error::AcquireTimeout { timeout })),
        )
    }

    /// Waits for `permits` permits for at most `timeout` (one attempt for zero): `None` if
    /// they never were free.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let jobs = pottery::Semaphore::open("redis://127.0.0.1:6379/", "jobs", 2)?;
    /// if let Some(permit) = jobs.acquire_timeout(1, Duration::from_millis(200))? {
    ///     permit.release()?;
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        permits: u64,
        timeout: Duration,
    ) -> F::Output<Option<SemaphorePermit<F>>> {
        F::run(self.waiting(permits, timeout))
    }

    /// The free permits now (`POTTERY.SEM.AVAILABLE`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let jobs = pottery::Semaphore::open("redis://127.0.0.1:6379/", "jobs", 2)?;
    /// let _permit = jobs.acquire(1)?;
    /// assert_eq!(jobs.available()?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn available(&self) -> F::Output<u64> {
        let mut command = self.handle.command("POTTERY.SEM.AVAILABLE");
        command.arg(self.limit);
        F::run(self.handle.module_request("POTTERY.SEM.AVAILABLE", command))
    }

    /// Attempts `POTTERY.SEM.ACQUIRE` with one holder token until granted or `timeout`.
    fn waiting(&self, permits: u64, timeout: Duration) -> Operation<Option<SemaphorePermit<F>>> {
        if permits == 0 || permits > self.limit {
            return Operation::done(Err(Error::InvalidArgument {
                argument: "permits",
                problem: "must be between 1 and the semaphore's limit",
            }));
        }
        let (handle, limit, timing) = (Arc::clone(&self.handle), self.limit, self.timing);
        let token = uuid4();
        let on_lost = self.on_lost.clone();
        let attempt: Attempt<SemaphorePermit<F>> = Arc::new(move |queued| {
            let start = Instant::now();
            let mut command = handle.command("POTTERY.SEM.ACQUIRE");
            command
                .arg(&token)
                .arg(permits)
                .arg(limit)
                .arg(timing.ttl_ms());
            block_argument(&mut command, queued);
            let (handle, token, on_lost) = (Arc::clone(&handle), token.clone(), on_lost.clone());
            handle
                .module_request_waiting::<i64>("POTTERY.SEM.ACQUIRE", command, queued)
                .and_then_send(move |reply| {
                    granted(handle, timing, token, start, reply, permits, on_lost)
                })
        });
        wait(attempt, timeout, self.timing)
    }
}
