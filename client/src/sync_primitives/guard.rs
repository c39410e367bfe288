//! [`HoldGuard`]: proof of a hold on a semaphore or a read-write lock, written once for both
//! faces and the three kinds of hold ([`Permits`], [`Read`], [`Write`]).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::face::operation::Operation;
use crate::face::{run_detached, spawn_detached, Blocking, Face};
use crate::redlock::builder::OnLost;
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
/// `fencing_token()` is `None`). Renew with [`extend`](Self::extend) within the validity, or
/// in the background with `with_auto_renew(true)` on the semaphore or lock.
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
    /// Tells auto-renewal (if on) that the hold was released.
    stop: Arc<AtomicBool>,
    kind: PhantomData<fn() -> (K, F)>,
}

impl<K: HoldKind, F: Face> HoldGuard<K, F> {
    /// The guard of a hold `token` has until `valid_until` (`permits` for a semaphore), renewed
    /// in the background if `timing.auto_renew`.
    pub(crate) fn new(
        handle: Arc<KeyHandle>,
        timing: Timing,
        token: String,
        valid_until: Instant,
        permits: u64,
        on_lost: Option<OnLost>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let renewal = timing.auto_renew.then(|| Renewal {
            handle: Arc::clone(&handle),
            timing,
            token: token.clone(),
            extend: K::EXTEND,
            stop: Arc::clone(&stop),
            on_lost,
        });
        let acquired = Acquired {
            token,
            fence: None,
            valid_until,
        };
        let (hold, cell) = Hold::new(acquired, |validity| Cell(Mutex::new(validity)));
        if let Some(renewal) = renewal {
            let asynchronous = handle.asynchronous();
            let every = timing.renew_every();
            spawn_detached(
                renew(Arc::new(renewal), Arc::clone(&cell), every),
                asynchronous,
            );
        }
        Self {
            handle,
            timing,
            hold,
            cell,
            permits,
            released: false,
            stop,
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
        F::run(extend(
            &self.handle,
            K::EXTEND,
            self.hold.token(),
            self.timing,
            Arc::clone(&self.cell),
        ))
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
        self.stop.store(true, Ordering::SeqCst);
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

/// `<EXTEND> key token ttl_ms`, recorded in `cell`: the validity starts again, or
/// [`Error::LockLost`] (marked lost) when the server says the hold is gone.
fn extend(
    handle: &KeyHandle,
    command: &str,
    token: &str,
    timing: Timing,
    cell: Arc<Cell>,
) -> Operation<()> {
    let start = Instant::now();
    let mut extend = handle.command(command);
    extend.arg(token).arg(timing.ttl_ms());
    handle.request::<i64>(extend).and_then(move |extended| {
        let mut validity = lock(&cell.0);
        if extended != 1 {
            validity.lost = true;
            return Err(Error::LockLost);
        }
        if let Some(until) = timing.valid_until(start) {
            validity.until = until;
        }
        Ok(())
    })
}

/// What a guard's auto-renewal needs, apart from the validity it shares with the guard.
struct Renewal {
    handle: Arc<KeyHandle>,
    timing: Timing,
    token: String,
    extend: &'static str,
    stop: Arc<AtomicBool>,
    on_lost: Option<OnLost>,
}

/// After `pause`, extends the hold and goes on at a third of the TTL until the guard stops it;
/// marks the hold lost (once, running `on_lost`) when the server says it is gone, or when no
/// extension got through before the validity ended. A failed extension is retried sooner.
fn renew(renewal: Arc<Renewal>, cell: Arc<Cell>, pause: Duration) -> Operation<()> {
    Operation::pause(pause, move || {
        if renewal.stop.load(Ordering::SeqCst) {
            return Operation::done(Ok(()));
        }
        let extension = extend(
            &renewal.handle,
            renewal.extend,
            &renewal.token,
            renewal.timing,
            Arc::clone(&cell),
        );
        extension.then(move |extended| {
            if renewal.stop.load(Ordering::SeqCst) {
                return Operation::done(Ok(()));
            }
            let expired = cell.get().is_lost();
            match extended {
                Ok(()) => {
                    let every = renewal.timing.renew_every();
                    renew(renewal, cell, every)
                }
                Err(error) if matches!(error, Error::LockLost) || expired => {
                    lock(&cell.0).lost = true;
                    if let Some(on_lost) = &renewal.on_lost {
                        on_lost();
                    }
                    Operation::done(Ok(()))
                }
                Err(_) => {
                    let soon = (renewal.timing.ttl / 10).max(Duration::from_millis(1));
                    renew(renewal, cell, soon)
                }
            }
        })
    })
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
        self.stop.store(true, Ordering::SeqCst);
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
    on_lost: Option<OnLost>,
) -> Operation<Option<HoldGuard<K, F>>> {
    if reply != 1 {
        return Operation::done(Ok(None));
    }
    match timing.valid_until(start) {
        Some(until) => Operation::done(Ok(Some(HoldGuard::new(
            handle, timing, token, until, permits, on_lost,
        )))),
        None => release(&handle, K::RELEASE, &token).map(|_| None),
    }
}
