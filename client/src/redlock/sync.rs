//! [`Redlock`]: a distributed lock over one or more Redis masters with the pottery module, and
//! its [`LockGuard`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::redlock::builder::{RedlockBuilder, Settings};
use crate::redlock::info::{self, guard_face, lock_face, Hold, Lanes, Validity, ValidityCell};
use crate::redlock::machine::{self, Acquired};
use crate::redlock::rounds::Holder;
use crate::transport::connector::lock;
use crate::transport::master::Master;
use crate::transport::quorum::Machine;
use crate::transport::sync_masters::SyncMasters;

/// A distributed lock (Redlock) over one or more Redis masters with the pottery module loaded
/// (sync).
///
/// Built with [`Redlock::builder`]. The lock lives at `redlock:<name>` on every master as a
/// plain string holding the holder's random token with a TTL, exactly like Python pottery's
/// `Redlock`, so Rust and Python processes exclude each other on the same name.
///
/// # Protocol
///
/// With n masters and a quorum q = floor(n/2) + 1, an attempt sends `POTTERY.LOCK key token
/// ttl` to every master in parallel (each with the per-master timeout). The lock is acquired
/// when q masters granted it and the validity — TTL minus the time the attempt took minus
/// 1% of the TTL + 2 ms for clock drift, measured on the monotonic clock — is still positive.
/// A failed attempt releases whatever it may have taken, pauses a random jitter and tries
/// again until the acquire timeout. With [fencing](RedlockBuilder::fencing), the attempt uses
/// `POTTERY.LOCK.FENCED`, takes T = the highest fence counter among the granting masters,
/// and makes q masters agree on T with `POTTERY.LOCK.FENCE`; every holder's T is then greater
/// than every earlier holder's.
///
/// # Safety assumptions
///
/// Masters are independent (no failover to asynchronous replicas); a master without
/// `appendfsync always` must stay down for at least the TTL after a crash; fencing tokens need
/// `appendonly yes` and `appendfsync always`; the masters' clocks must slew, never step. The
/// lock is safe only for the validity the guard reports: protect the resource with fencing
/// tokens when work may outlive it.
///
/// Clones share the connections and take turns on them: give each thread its own `Redlock`
/// (they coordinate through the masters) for parallel work.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// let lock = pottery::Redlock::builder()
///     .name("printer")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .ttl(Duration::from_secs(5))
///     .build()?;
/// let guard = lock.acquire()?;
/// // ... print, within guard.validity() ...
/// guard.release()?;
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Clone)]
pub struct Redlock {
    shared: Arc<Shared>,
}

/// The lock's info and this face's masters.
type Shared = info::Shared<Lanes<Mutex<SyncMasters>>>;

impl Shared {
    fn run<M: Machine>(&self, machine: M) -> M::Output {
        SyncMasters::run(&self.masters.calls, machine)
    }

    fn release(&self, token: &str) -> Result<()> {
        self.run(machine::release(
            &self.info.settings,
            self.info.count,
            token,
        ))
    }
}

impl Redlock {
    /// Starts a [`RedlockBuilder`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn builder() -> RedlockBuilder {
        RedlockBuilder::default()
    }

    pub(crate) fn new(settings: Settings, masters: Vec<Master>) -> Result<Self> {
        let timeout = settings.master_timeout;
        let open = move |masters| SyncMasters::new(masters, timeout).map(Mutex::new);
        let shared = Shared::with_lanes(settings, masters, open, open)?;
        Ok(Self { shared })
    }

    /// Makes one attempt: the guard if acquired, `None` if others hold the lock.
    /// [`Error::QuorumNotAchieved`] when too few masters answered to decide.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// match lock.try_acquire()? {
    ///     Some(guard) => guard.release()?,
    ///     None => println!("busy"),
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_acquire(&self) -> Result<Option<LockGuard>> {
        self.acquire_timeout(Duration::ZERO)
    }

    /// Waits for the lock until the builder's acquire timeout (10 s by default):
    /// [`Error::AcquireTimeout`] if others held it all along, [`Error::QuorumNotAchieved`] if
    /// too few masters answered in the last attempt.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// guard.release()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire(&self) -> Result<LockGuard> {
        let timeout = self.shared.info.settings.acquire_timeout;
        self.acquire_timeout(timeout)?
            .ok_or(Error::AcquireTimeout { timeout })
    }

    /// Waits for the lock for at most `timeout`: `None` if others held it all along;
    /// [`Error::QuorumNotAchieved`] if too few masters answered in the last attempt. A zero
    /// timeout makes one attempt.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// if let Some(guard) = lock.acquire_timeout(Duration::from_millis(500))? {
    ///     guard.release()?;
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard>> {
        let shared = &self.shared;
        let mut waits = shared
            .masters
            .waits
            .as_ref()
            .and_then(|waits| waits.try_lock().ok());
        // Waiting needs the module on every master: a master not asked yet is asked first
        // (with a read of the holder, once per connection).
        if waits.is_some() && lock(&shared.masters.calls).must_ask_for_module() {
            let _ = self.holder();
        }
        let waiting = waits.is_some() && lock(&shared.masters.calls).knows_module();
        let acquire = shared.acquiring(timeout, waiting);
        let acquired =
            SyncMasters::run_waiting(&shared.masters.calls, waits.as_deref_mut(), acquire)?;
        Ok(acquired.map(|acquired| LockGuard::new(Arc::clone(shared), acquired)))
    }

    /// Who holds the lock: the token a majority of masters report (with the shortest time
    /// left among them), `None` when no majority agrees on one. Works for anyone, not only
    /// the holder.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// assert_eq!(lock.holder()?.map(|holder| holder.token), Some(guard.token().to_string()));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn holder(&self) -> Result<Option<Holder>> {
        let shared = &self.shared;
        shared.run(machine::holder(&shared.info.settings, shared.info.count))
    }

    /// Whether a majority of masters report the same holder.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// assert!(!lock.is_locked()?);
    /// let guard = lock.acquire()?;
    /// assert!(lock.is_locked()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_locked(&self) -> Result<bool> {
        self.holder().map(|holder| holder.is_some())
    }

    /// Runs `work` under the lock: acquires (waiting up to the acquire timeout), runs, releases.
    /// [`Error::LockLost`] if the lock expired before `work` finished (its result is dropped:
    /// it was not protected).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let pages = lock.synchronize(|| 42)?;
    /// assert_eq!(pages, 42);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn synchronize<T>(&self, work: impl FnOnce() -> T) -> Result<T> {
        let guard = self.acquire()?;
        let output = work();
        guard.release()?;
        Ok(output)
    }
}

lock_face!(Redlock, "Redlock");

/// What a guard and its renewal thread share.
struct GuardState {
    /// Until when the lock is surely held (monotonic clock).
    valid_until: Mutex<Instant>,
    /// Renewal found the lock lost.
    lost: AtomicBool,
}

impl GuardState {
    fn new(validity: Validity) -> Self {
        Self {
            valid_until: Mutex::new(validity.until),
            lost: AtomicBool::new(validity.lost),
        }
    }

    fn valid_until(&self) -> Instant {
        *lock(&self.valid_until)
    }

    fn set_valid_until(&self, until: Instant) {
        *lock(&self.valid_until) = until;
    }
}

impl ValidityCell for GuardState {
    fn get(&self) -> Validity {
        Validity {
            until: self.valid_until(),
            lost: self.lost.load(Ordering::SeqCst),
        }
    }
}

/// The background thread that renews a guard's lock.
struct RenewalThread {
    /// Dropping it stops the thread at once.
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

/// Proof of holding a [`Redlock`]; releases the lock when dropped (within the per-master
/// timeout) or explicitly with [`release`](Self::release), which also says whether the lock
/// had expired meanwhile.
///
/// # Example
///
/// ```no_run
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
/// {
///     let guard = lock.acquire()?;
///     println!("held for at least {:?}", guard.validity());
/// } // released here
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct LockGuard {
    shared: Arc<Shared>,
    hold: Hold,
    /// The validity `hold` reads, which `extend` and the renewal thread write.
    state: Arc<GuardState>,
    extensions: u32,
    renewal: Option<RenewalThread>,
    released: bool,
}

impl LockGuard {
    fn new(shared: Arc<Shared>, acquired: Acquired) -> Self {
        let (hold, state) = Hold::new(acquired, GuardState::new);
        let renew = shared.info.settings.auto_renew;
        Self {
            renewal: renew.then(|| {
                spawn_renewal(Arc::clone(&shared), hold.token.clone(), Arc::clone(&state))
            }),
            extensions: 0,
            shared,
            hold,
            state,
            released: false,
        }
    }

    /// Resets the lock's TTL on the masters that still hold it; the validity starts again.
    /// [`Error::LockLost`] if a majority no longer holds it, [`Error::TooManyExtensions`]
    /// past the builder's cap, [`Error::QuorumNotAchieved`] if too few masters answered.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let mut guard = lock.acquire()?;
    /// guard.extend()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend(&mut self) -> Result<()> {
        let shared = &self.shared;
        machine::check_extensions(&shared.info.settings, self.extensions)?;
        match shared.run(machine::extend(
            &shared.info.settings,
            shared.info.count,
            &self.hold.token,
        )) {
            Ok(until) => {
                self.extensions += 1;
                self.state.set_valid_until(until);
                Ok(())
            }
            Err(round) => {
                if round.lost_for_sure() {
                    self.state.lost.store(true, Ordering::SeqCst);
                }
                Err(round.into_lost_or_error())
            }
        }
    }

    /// Asks the masters how long a majority still holds this lock (less the drift
    /// allowance); `None` when no majority holds it any more.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// assert!(guard.locked()?.is_some());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn locked(&self) -> Result<Option<Duration>> {
        let shared = &self.shared;
        shared.run(machine::locked(
            &shared.info.settings,
            shared.info.count,
            &self.hold.token,
        ))
    }

    /// Releases the lock. [`Error::LockLost`] if it had already expired (or been taken) on a
    /// majority: the work done under it was not protected all along.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// let guard = lock.acquire()?;
    /// match guard.release() {
    ///     Ok(()) => {}
    ///     Err(pottery::Error::LockLost) => eprintln!("held past its TTL"),
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn release(mut self) -> Result<()> {
        self.released = true;
        self.stop_renewal();
        self.shared.release(&self.hold.token)
    }

    fn stop_renewal(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            drop(renewal.stop);
            let _ = renewal.thread.join();
        }
    }
}

guard_face!(LockGuard, "LockGuard");

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.stop_renewal();
        if !self.released {
            let _ = self.shared.release(&self.hold.token);
        }
    }
}

/// Starts the thread that extends the lock every third of the TTL until stopped, and marks
/// it lost (once) when a majority no longer holds it or the validity ran out without renewal.
fn spawn_renewal(shared: Arc<Shared>, token: String, state: Arc<GuardState>) -> RenewalThread {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let settings = &shared.info.settings;
        let mut wait = settings.renew_every();
        loop {
            match stopped.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            let extended = shared.run(machine::extend(settings, shared.info.count, &token));
            let set_until = |until| state.set_valid_until(until);
            let mark_lost = || state.lost.store(true, Ordering::SeqCst);
            let valid_until = state.valid_until();
            match machine::after_renewal(settings, extended, valid_until, set_until, mark_lost) {
                Some(next) => wait = next,
                None => return,
            }
        }
    });
    RenewalThread { stop, thread }
}
