//! What [`RateLimiter`] has per face: `acquire`, which waits out the retry time the server
//! gives (a thread sleep on the sync face, a tokio timer on the async one).

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::face::Blocking;
use crate::rate_limit::{RateLimiter, Throttle};

/// What to do after a refused attempt: wait this long, or give up with `RateLimited`.
fn next_wait(throttle: &Throttle, started: Instant, timeout: Duration) -> Result<Duration> {
    match throttle.retry_after {
        Some(wait) if started.elapsed().saturating_add(wait) <= timeout => Ok(wait),
        retry_after => Err(Error::RateLimited { retry_after }),
    }
}

impl RateLimiter<Blocking> {
    /// Takes `quantity` units, waiting (at most `timeout`) for the limit to allow them: each
    /// refusal sleeps the retry time the server gave, then asks again (other clients may have
    /// taken the units meanwhile).
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] without waiting when the next retry time would end after
    /// `timeout` (or never comes: the quantity exceeds the whole limit).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let api = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "api", 9, 10, Duration::from_secs(1))?;
    /// api.acquire(1, Duration::from_secs(5))?;
    /// // ... call the API ...
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire(&self, quantity: u64, timeout: Duration) -> Result<Throttle> {
        let started = Instant::now();
        loop {
            let throttle = self.try_acquire(quantity)?;
            if throttle.allowed {
                return Ok(throttle);
            }
            std::thread::sleep(next_wait(&throttle, started, timeout)?);
        }
    }
}

#[cfg(feature = "tokio")]
impl RateLimiter<crate::aio::Tokio> {
    /// Takes `quantity` units, waiting (at most `timeout`) for the limit to allow them: each
    /// refusal sleeps the retry time the server gave on a tokio timer, then asks again.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] without waiting when the next retry time would end after
    /// `timeout` (or never comes: the quantity exceeds the whole limit).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// use std::time::Duration;
    /// let api = pottery::aio::RateLimiter::open("redis://127.0.0.1:6379/", "api", 9, 10, Duration::from_secs(1))?;
    /// api.acquire(1, Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn acquire(&self, quantity: u64, timeout: Duration) -> Result<Throttle> {
        let started = Instant::now();
        loop {
            let throttle = self.try_acquire(quantity).await?;
            if throttle.allowed {
                return Ok(throttle);
            }
            tokio::time::sleep(next_wait(&throttle, started, timeout)?).await;
        }
    }
}
