//! [`HoldGuard`]: proof of a hold on a semaphore or a read-write lock, written once for both
//! faces and the three kinds of hold ([`Permits`], [`Read`], [`Write`]).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::Error;
use crate::face::operation::Operation;
use crate::face::{run_detached, Blocking, Face};
use crate::redlock::info::{Hold, Validity, ValidityCell};
use crate::redlock::machine::Acquired;
use crate::sync_primitives::Timing;
use crate::transport::connector::lock;
use crate::transport::key::KeyHandle;

mod sealed {
    pub trait Sealed {}
}

/// What a [`HoldGuard`] holds: [`Permits`] of a semaphore, or a [`Read`] or [`Write`] hold of a
/// read-write lock. Implemented by those three only.
pub trait HoldKind: sealed::Sealed + Send + Sync + 'static {
    /// The guard's name in `Debug`.
    #[doc(hidden)]
    const NAME: &'static str;
    /// The command that renews the hold.
    #[doc(hidden)]
    const EXTEND: &'static str;
    /// The command that ends it.
    #[doc(hidden)]
    const RELEASE: &'static str;
}

/// Permits of a [`Semaphore`](crate::Semaphore): the kind of a
/// [`SemaphorePermit`](crate::SemaphorePermit).
#[derive(Debug)]
pub struct Permits;

/// A shared hold of an [`RwLock`](crate::RwLock): the kind of an
/// [`RwLockReadGuard`](crate::RwLockReadGuard).
#[derive(Debug)]
pub struct Read;

/// The exclusive hold of an [`RwLock`](crate::RwLock): the kind of an
/// [`RwLockWriteGuard`](crate::RwLockWriteGuard).
#[derive(Debug)]
pub struct Write;

impl sealed::Sealed for Permits {}
impl sealed::Sealed for Read {}
impl sealed::Sealed for Write {}

impl HoldKind for Permits {
    const NAME: &'static str = "SemaphorePermit";
    const EXTEND: &'static str = "POTTERY.SEM.EXTEND";
    const RELEASE: &'static str = "POTTERY.SEM.RELEASE";
}

impl HoldKind for Read {
    const NAME: &'static str = "RwLockReadGuard";
    const EXTEND: &'static str = "POTTERY.RWLOCK.EXTEND";
    const RELEASE: &'static str = "POTTERY.RWLOCK.RELEASE";
}

impl HoldKind for Write {
    const NAME: &'static str = "RwLockWriteGuard";
    const EXTEND: &'static str = "POTTERY.RWLOCK.EXTEND";
    const RELEASE: &'static str = "POTTERY.RWLOCK.RELEASE";
}

/// Where a guard keeps its validity: written by `extend`, read through [`Hold`].
struct Cell(Mutex<Validity>);

impl ValidityCell for Cell {
    fn get(&self) -> Validity {
        *lock(&self.0)
    }
}

/// Proof of a hold: [`SemaphorePermit`](crate::SemaphorePermit),
/// [`RwLockReadGuard`](crate::RwLockReadGuard) or [`RwLockWriteGuard`](crate::RwLockWriteGuard)
/// (and their [`aio`](crate::aio) faces). Derefs to [`Hold`] as Redlock's guards do:
/// `guard.token()`, `guard.validity()`, `guard.is_lost()` (these holds have no fencing token:
/// `fencing_token()` is `None`). There is no background renewal: call
/// [`extend`](Self::extend) within the validity.
///
/// The sync guard releases when dropped (bounded by the connector's timeout); the async guard's
/// drop spawns a best-effort release on the current tokio runtime, so call
/// [`release`](Self::release)`.await`. Either way an unreleased hold ends with its TTL.
///
/// # Example
///
/// ```no_run
/// let pool = pottery::Semaphore::open("redis://127.0.0.1:6379/", "db-connections", 10)?;
/// let permit = pool.acquire(1)?;
/// assert!(!permit.is_lost());
/// permit.extend()?;
/// permit.release()?;
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct HoldGuard<K: HoldKind, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    timing: Timing,
    hold: Hold,
    cell: Arc<Cell>,
    permits: u64,
    released: bool,
    kind: PhantomData<fn() -> (K, F)>,
}

impl<K: HoldKind, F: Face> HoldGuard<K, F> {
    /// The guard of a hold `token` has until `valid_until` (`permits` for a semaphore).
    pub(crate) fn new(
        handle: Arc<KeyHandle>,
        timing: Timing,
        token: String,
        valid_until: Instant,
        permits: u64,
    ) -> Self {
        let acquired = Acquired {
            token,
            fence: None,
            valid_until,
        };
        let (hold, cell) = Hold::new(acquired, |validity| Cell(Mutex::new(validity)));
        Self {
            handle,
            timing,
            hold,
            cell,
            permits,
            released: false,
            kind: PhantomData,
        }
    }

    /// The key of the semaphore or lock.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "config")?;
    /// assert_eq!(lock.read()?.key(), "config");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// Renews the hold for another TTL from now; the validity starts again.
    /// [`Error::LockLost`] (and [`is_lost`](Hold::is_lost) from then on) if the hold had
    /// expired: it is never re-created.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::RwLock::open("redis://127.0.0.1:6379/", "config")?;
    /// let guard = lock.write()?;
    /// guard.extend()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend(&self) -> F::Output<()> {
        let start = Instant::now();
        let (cell, timing) = (Arc::clone(&self.cell), self.timing);
        let mut command = self.handle.command(K::EXTEND);
        command.arg(self.hold.token()).arg(timing.ttl_ms());
        F::run(
            self.handle
                .request::<i64>(command)
                .and_then(move |extended| {
                    let mut validity = lock(&cell.0);
                    if extended != 1 {
                        validity.lost = true;
                        return Err(Error::LockLost);
                    }
                    if let Some(until) = timing.valid_until(start) {
                        validity.until = until;
                    }
                    Ok(())
                }),
        )
    }

    /// Ends the hold. [`Error::LockLost`] if it had expired meanwhile: the work done under it
    /// was not protected all along.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let pool = pottery::Semaphore::open("redis://127.0.0.1:6379/", "db-connections", 10)?;
    /// let permit = pool.acquire(2)?;
    /// match permit.release() {
    ///     Ok(()) => {}
    ///     Err(pottery::Error::LockLost) => eprintln!("held past its TTL"),
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn release(mut self) -> F::Output<()> {
        self.released = true;
        F::run(
            self.release_operation()
                .and_then(|released| match released {
                    1 => Ok(()),
                    _ => Err(Error::LockLost),
                }),
        )
    }

    fn release_operation(&self) -> Operation<i64> {
        release(&self.handle, K::RELEASE, self.hold.token())
    }
}

/// `<RELEASE> key token`: `1` released, `0` held nothing.
pub(crate) fn release(handle: &KeyHandle, command: &str, token: &str) -> Operation<i64> {
    let mut release = handle.command(command);
    release.arg(token);
    handle.request(release)
}

impl<F: Face> HoldGuard<Permits, F> {
    /// How many permits this guard holds.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let pool = pottery::Semaphore::open("redis://127.0.0.1:6379/", "db-connections", 10)?;
    /// assert_eq!(pool.acquire(3)?.permits(), 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn permits(&self) -> u64 {
        self.permits
    }
}

/// The holder's token, validity and loss signal, like a `MutexGuard` derefs to its data.
impl<K: HoldKind, F: Face> Deref for HoldGuard<K, F> {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.hold
    }
}

impl<K: HoldKind, F: Face> fmt::Debug for HoldGuard<K, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.hold.debug(K::NAME, self.handle.name(), formatter)
    }
}

impl<K: HoldKind, F: Face> Drop for HoldGuard<K, F> {
    fn drop(&mut self) {
        if !self.released {
            // Best effort: a hold that is not released ends with its TTL.
            let release = self.release_operation().map(|_| ());
            run_detached(release, self.handle.asynchronous());
        }
    }
}

/// The result of one acquisition attempt: the guard when the server granted the hold while
/// its validity is still positive; a grant that came back too late is released at once.
pub(crate) fn granted<K: HoldKind, F: Face>(
    handle: Arc<KeyHandle>,
    timing: Timing,
    token: String,
    start: Instant,
    reply: i64,
    permits: u64,
) -> Operation<Option<HoldGuard<K, F>>> {
    if reply != 1 {
        return Operation::done(Ok(None));
    }
    match timing.valid_until(start) {
        Some(until) => Operation::done(Ok(Some(HoldGuard::new(
            handle, timing, token, until, permits,
        )))),
        None => release(&handle, K::RELEASE, &token).map(|_| None),
    }
}
