//! [`aio::Redlock`](Redlock): the same distributed lock as [`crate::Redlock`], driven by the
//! async loop on tokio, and its [`aio::LockGuard`](LockGuard).
//!
//! One multiplexed connection per master; a round sends to every master concurrently and stops
//! waiting once its outcome is certain. Auto-renewal runs as a tokio task per guard.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::redlock::builder::Settings;
use crate::redlock::info::{self, guard_face, lock_face, Hold, Lanes, Validity, ValidityCell};
use crate::redlock::machine::{self, Acquired};
use crate::redlock::rounds::Holder;
use crate::transport::async_masters::AsyncMasters;
use crate::transport::master::Master;
use crate::transport::quorum::Machine;

/// A distributed lock over one or more Redis masters (async, tokio).
///
/// Same protocol, keys, defaults and errors as the sync [`pottery::Redlock`](crate::Redlock),
/// which documents them; built by
/// [`RedlockBuilder::build_async`](crate::RedlockBuilder::build_async).
/// Cloning is cheap and shares the connections. The futures are `Send`; they need a tokio
/// runtime with I/O and time enabled.
///
/// # Example
///
/// ```no_run
/// # async fn run() -> pottery::Result<()> {
/// let lock = pottery::Redlock::builder()
///     .name("printer")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .build_async()
///     .await?;
/// let guard = lock.acquire().await?;
/// // ... work ...
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Redlock {
    shared: Arc<Shared>,
}

/// The lock's info and this face's masters.
type Shared = info::Shared<Lanes<Mutex<AsyncMasters>>>;

impl Shared {
    async fn run<M: Machine>(&self, machine: M) -> M::Output {
        AsyncMasters::run(&self.masters.calls, machine).await
    }

    async fn release(&self, token: &str) -> Result<()> {
        self.run(machine::release(
            &self.info.settings,
            self.info.count,
            token,
        ))
        .await
    }
}

impl Redlock {
    pub(crate) fn new(settings: Settings, masters: Vec<Master>) -> Result<Self> {
        let timeout = settings.master_timeout;
        let shared = Shared::with_lanes(
            settings,
            masters,
            |masters| AsyncMasters::new(masters, timeout).map(Mutex::new),
            // Dedicated connections: a blocking call must not stall a shared multiplexed one.
            |masters| AsyncMasters::new_waiting(masters, timeout).map(Mutex::new),
        )?;
        Ok(Self { shared })
    }

    /// One attempt; see [`Redlock::try_acquire`](crate::Redlock::try_acquire).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// if let Some(guard) = lock.try_acquire().await? {
    ///     guard.release().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_acquire(&self) -> Result<Option<LockGuard>> {
        self.acquire_timeout(Duration::ZERO).await
    }

    /// Waits up to the acquire timeout; see [`Redlock::acquire`](crate::Redlock::acquire).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let guard = lock.acquire().await?;
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    pub async fn acquire(&self) -> Result<LockGuard> {
        let timeout = self.shared.info.settings.acquire_timeout;
        self.acquire_timeout(timeout)
            .await?
            .ok_or(Error::AcquireTimeout { timeout })
    }

    /// Waits at most `timeout`; see [`Redlock::acquire_timeout`](crate::Redlock::acquire_timeout).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// use std::time::Duration;
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// if let Some(guard) = lock.acquire_timeout(Duration::from_millis(500)).await? {
    ///     guard.release().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard>> {
        let shared = &self.shared;
        let mut waits = shared
            .masters
            .waits
            .as_ref()
            .and_then(|waits| waits.try_lock().ok());
        let calls = &shared.masters.calls;
        // Waiting needs the module on every master: a master not asked yet is asked first
        // (with a read of the holder, once per connection).
        if waits.is_some() && calls.lock().await.must_ask_for_module() {
            let _ = self.holder().await;
        }
        let waiting = waits.is_some() && calls.lock().await.knows_module();
        let acquire = shared.acquiring(timeout, waiting);
        let acquired = AsyncMasters::run_waiting(calls, waits.as_deref_mut(), acquire).await?;
        Ok(acquired.map(|acquired| LockGuard::new(Arc::clone(shared), acquired)))
    }

    /// Who holds the lock; see [`Redlock::holder`](crate::Redlock::holder).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let holder = lock.holder().await?;
    /// # Ok(()) }
    /// ```
    pub async fn holder(&self) -> Result<Option<Holder>> {
        let shared = &self.shared;
        shared
            .run(machine::holder(&shared.info.settings, shared.info.count))
            .await
    }

    /// Whether a majority reports the same holder.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// assert!(!lock.is_locked().await?);
    /// # Ok(()) }
    /// ```
    pub async fn is_locked(&self) -> Result<bool> {
        self.holder().await.map(|holder| holder.is_some())
    }

    /// Runs `work` under the lock; see [`Redlock::synchronize`](crate::Redlock::synchronize).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let pages = lock.synchronize(async { 42 }).await?;
    /// assert_eq!(pages, 42);
    /// # Ok(()) }
    /// ```
    pub async fn synchronize<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        let guard = self.acquire().await?;
        let output = work.await;
        guard.release().await?;
        Ok(output)
    }
}

lock_face!(Redlock, "aio::Redlock");

/// The validity a guard and its renewal task share: `get` for [`Hold`], changes for `lost`.
impl ValidityCell for watch::Sender<Validity> {
    fn get(&self) -> Validity {
        *self.borrow()
    }
}

/// Proof of holding an [`aio::Redlock`](Redlock). Call [`release`](Self::release)`.await`: dropping the
/// guard only spawns a best-effort release on the current tokio runtime (none outside one);
/// the lock then expires with its TTL at the latest.
///
/// # Example
///
/// ```no_run
/// # async fn run() -> pottery::Result<()> {
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
/// let guard = lock.acquire().await?;
/// println!("held for at least {:?}", guard.validity());
/// guard.release().await?;
/// # Ok(()) }
/// ```
pub struct LockGuard {
    shared: Arc<Shared>,
    hold: Hold,
    /// The validity `hold` reads, which `extend` and the renewal task write.
    state: Arc<watch::Sender<Validity>>,
    extensions: u32,
    renewal: Option<JoinHandle<()>>,
    released: bool,
}

impl LockGuard {
    fn new(shared: Arc<Shared>, acquired: Acquired) -> Self {
        let (hold, state) = Hold::new(acquired, |validity| watch::channel(validity).0);
        let renewal = shared.info.settings.auto_renew.then(|| {
            let token = hold.token.clone();
            tokio::spawn(renew(Arc::clone(&shared), token, Arc::clone(&state)))
        });
        Self {
            shared,
            hold,
            state,
            extensions: 0,
            renewal,
            released: false,
        }
    }

    /// Completes when the lock may be lost: its validity ran out, or auto-renewal found a
    /// majority gone. Race it against the work the lock protects.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .auto_renew(true)
    ///     .build_async()
    ///     .await?;
    /// let guard = lock.acquire().await?;
    /// tokio::select! {
    ///     _ = guard.lost() => eprintln!("lock lost, work abandoned"),
    ///     _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
    /// }
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    pub async fn lost(&self) {
        let mut changes = self.state.subscribe();
        loop {
            let validity = *changes.borrow_and_update();
            if validity.is_lost() {
                return;
            }
            let until = tokio::time::Instant::from_std(validity.until);
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep_until(until).await;
                    }
                }
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Resets the TTL; see [`LockGuard::extend`](crate::LockGuard::extend).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let mut guard = lock.acquire().await?;
    /// guard.extend().await?;
    /// # Ok(()) }
    /// ```
    pub async fn extend(&mut self) -> Result<()> {
        let shared = &self.shared;
        machine::check_extensions(&shared.info.settings, self.extensions)?;
        let extend = machine::extend(&shared.info.settings, shared.info.count, &self.hold.token);
        match shared.run(extend).await {
            Ok(until) => {
                self.extensions += 1;
                self.state.send_modify(|validity| validity.until = until);
                Ok(())
            }
            Err(round) => {
                if round.lost_for_sure() {
                    self.state.send_modify(|validity| validity.lost = true);
                }
                Err(round.into_lost_or_error())
            }
        }
    }

    /// Asks the masters how long a majority still holds the lock; see
    /// [`LockGuard::locked`](crate::LockGuard::locked).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let guard = lock.acquire().await?;
    /// assert!(guard.locked().await?.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn locked(&self) -> Result<Option<Duration>> {
        let shared = &self.shared;
        shared
            .run(machine::locked(
                &shared.info.settings,
                shared.info.count,
                &self.hold.token,
            ))
            .await
    }

    /// Releases the lock; [`Error::LockLost`] if it had already expired on a majority. See
    /// [`LockGuard::release`](crate::LockGuard::release).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build_async().await?;
    /// let guard = lock.acquire().await?;
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        self.shared.release(&self.hold.token).await
    }
}

guard_face!(LockGuard, "aio::LockGuard");

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        if self.released {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shared = Arc::clone(&self.shared);
            let token = std::mem::take(&mut self.hold.token);
            runtime.spawn(async move {
                let _ = shared.release(&token).await;
            });
        }
    }
}

/// Extends every third of the TTL until aborted; marks the lock lost (once) when a majority no
/// longer holds it or the validity ran out without a renewal.
async fn renew(shared: Arc<Shared>, token: String, state: Arc<watch::Sender<Validity>>) {
    let settings = &shared.info.settings;
    let mut wait = settings.renew_every();
    loop {
        tokio::time::sleep(wait).await;
        let extended = shared
            .run(machine::extend(settings, shared.info.count, &token))
            .await;
        let valid_until = state.borrow().until;
        let set_until = |until| state.send_modify(|validity| validity.until = until);
        let mark_lost = || state.send_modify(|validity| validity.lost = true);
        match machine::after_renewal(settings, extended, valid_until, set_until, mark_lost) {
            Some(next) => wait = next,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests;
