//! Synchronizers beyond Redlock, on one Redis master with the pottery module: a [`Semaphore`]
//! with expiring permits and a read-write lock ([`RwLock`]), each hold with a TTL, both faces
//! written once (`Semaphore<Blocking>` is `pottery::Semaphore`, `Semaphore<Tokio>` is
//! [`aio::Semaphore`](crate::aio::Semaphore)).
//!
//! Guards ([`SemaphorePermit`], [`RwLockReadGuard`], [`RwLockWriteGuard`]) deref to [`Hold`]
//! (the holder's token, its validity, [`is_lost`](Hold::is_lost)) as Redlock's guards do, renew
//! with `extend`, and release on drop (the async guard's drop spawns a best-effort release;
//! call `release().await`).
//!
//! # Safety assumptions
//!
//! These are single-master primitives: their state lives in one hash on one Redis server, so
//! a failover to an asynchronous replica may lose recent acquisitions (two holders may then
//! exceed the limit, or a writer share the lock) until the lost holds expire. Holds expire by
//! the master's clock, which must slew, never step. A guard is safe only for the validity it
//! reports (TTL less the time the attempt took and a drift allowance of 1% + 2 ms).

pub(crate) mod guard;
pub(crate) mod rwlock;
pub(crate) mod semaphore;
pub(crate) mod waiting;

use std::time::{Duration, Instant};

pub use self::guard::{HoldGuard, HoldKind, Permits, Read, Write};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use self::semaphore::{Semaphore, SemaphorePermit};
#[cfg(doc)]
use crate::Hold;

/// The default TTL of each hold, as Redlock's.
pub const DEFAULT_HOLD_TTL: Duration = Duration::from_secs(10);

/// The default time `acquire`, `read` and `write` wait, as Redlock's.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The default largest random pause between two attempts when polling.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// The largest TTL the module takes: 2^40 ms.
const MAX_TTL_MS: u128 = 1 << 40;

/// The TTL, waiting time and way of waiting of a semaphore or read-write lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) ttl: Duration,
    pub(crate) acquire_timeout: Duration,
    pub(crate) retry_delay: Duration,
    /// Waiting calls wait in the server's queue (`BLOCK`) rather than polling.
    pub(crate) blocking: bool,
    /// Guards renew their hold in the background.
    pub(crate) auto_renew: bool,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            ttl: DEFAULT_HOLD_TTL,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            retry_delay: DEFAULT_RETRY_DELAY,
            blocking: true,
            auto_renew: false,
        }
    }
}

impl Timing {
    /// The TTL in whole milliseconds, within the module's 1..=2^40.
    pub(crate) fn ttl_ms(&self) -> u64 {
        let ms = self.ttl.as_millis().clamp(1, MAX_TTL_MS);
        u64::try_from(ms).unwrap_or(1 << 40)
    }

    /// How often auto-renewal extends a hold: a third of the TTL, as Redlock's.
    pub(crate) fn renew_every(&self) -> Duration {
        crate::redlock::timing::renew_every(self.ttl)
    }

    /// Until when a hold granted by an attempt that started at `start` is surely held: the TTL
    /// less the drift allowance (1% + 2 ms), as Redlock computes it; `None` if already past.
    pub(crate) fn valid_until(&self, start: Instant) -> Option<Instant> {
        crate::redlock::timing::valid_until(self.ttl, start)
    }
}

/// The settings methods a semaphore and a read-write lock share (`with_ttl`,
/// `with_acquire_timeout`, `with_retry_delay`, `with_blocking`, `with_auto_renew`,
/// `with_on_lost`, `key`, `ttl`), on a type with `handle`, `timing` and `on_lost` fields;
/// `$open` is an expression opening one, for the examples.
macro_rules! timing_methods {
    ($open:literal) => {
        /// Sets the TTL of each hold (10 s by default; whole milliseconds, at least 1 ms).
        ///
        /// # Example
        ///
        /// ```no_run
        /// use std::time::Duration;
        #[doc = concat!("let held = ", $open, "?.with_ttl(Duration::from_secs(60));")]
        /// assert_eq!(held.ttl(), Duration::from_secs(60));
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_ttl(mut self, ttl: std::time::Duration) -> Self {
            self.timing.ttl = ttl;
            self
        }

        /// Sets how long the waiting calls wait (10 s by default).
        ///
        /// # Example
        ///
        /// ```no_run
        /// use std::time::Duration;
        #[doc = concat!("let held = ", $open, "?.with_acquire_timeout(Duration::from_secs(1));")]
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_acquire_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.timing.acquire_timeout = timeout;
            self
        }

        /// Sets the largest random pause between two attempts while polling (50 ms by
        /// default; see [`with_blocking`](Self::with_blocking)).
        ///
        /// # Example
        ///
        /// ```no_run
        /// use std::time::Duration;
        #[doc = concat!("let held = ", $open, "?.with_retry_delay(Duration::from_millis(5));")]
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_retry_delay(mut self, delay: std::time::Duration) -> Self {
            self.timing.retry_delay = delay;
            self
        }

        /// Whether waiting calls wait in the server's queue (`BLOCK`, the default: the module
        /// hands over permits and locks first come, first served, the moment they are free)
        /// or poll with random pauses (`false`). A queued attempt waits on a dedicated
        /// connection of the connector, never on the shared ones.
        ///
        /// # Example
        ///
        /// ```no_run
        #[doc = concat!("let polling = ", $open, "?.with_blocking(false);")]
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_blocking(mut self, blocking: bool) -> Self {
            self.timing.blocking = blocking;
            self
        }

        /// Renews every hold in the background at a third of the TTL (a thread per sync
        /// guard, a tokio task per async guard) until it is released, as Redlock's
        /// `auto_renew` does. When the server says the hold is gone, or renewal cannot reach
        /// it before the validity ends, the guard reports it lost
        /// ([`is_lost`](crate::Hold::is_lost)) and the [`with_on_lost`](Self::with_on_lost)
        /// callback runs. Off by default.
        ///
        /// # Example
        ///
        /// ```no_run
        #[doc = concat!("let held = ", $open, "?.with_auto_renew(true);")]
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_auto_renew(mut self, on: bool) -> Self {
            self.timing.auto_renew = on;
            self
        }

        /// A callback that auto-renewal runs once, on its thread or task, when it finds a
        /// hold lost. Keep it short (set a flag, cancel work).
        ///
        /// # Example
        ///
        /// ```no_run
        /// use std::sync::atomic::{AtomicBool, Ordering};
        /// use std::sync::Arc;
        ///
        /// let lost = Arc::new(AtomicBool::new(false));
        /// let flag = Arc::clone(&lost);
        #[doc = concat!("let held = ", $open, "?")]
        ///     .with_auto_renew(true)
        ///     .with_on_lost(move || flag.store(true, Ordering::SeqCst));
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn with_on_lost(mut self, callback: impl Fn() + Send + Sync + 'static) -> Self {
            self.on_lost = Some(std::sync::Arc::new(callback));
            self
        }

        /// The Redis key.
        ///
        /// # Example
        ///
        /// ```no_run
        #[doc = concat!("let held = ", $open, "?;")]
        /// assert_eq!(held.key(), "jobs");
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn key(&self) -> &str {
            self.handle.name()
        }

        /// The TTL of each hold.
        ///
        /// # Example
        ///
        /// ```no_run
        #[doc = concat!("let held = ", $open, "?;")]
        /// assert_eq!(held.ttl(), std::time::Duration::from_secs(10));
        /// # Ok::<(), pottery::Error>(())
        /// ```
        pub fn ttl(&self) -> std::time::Duration {
            self.timing.ttl
        }
    };
}
pub(crate) use timing_methods;
