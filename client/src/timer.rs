//! [`ContextTimer`]: measures the wall-clock time of a code section, like Python pottery's
//! `ContextTimer`, on the monotonic clock.

use std::time::{Duration, Instant};

use crate::error::{Error, Result, TimerMisuse};

/// Measures the wall-clock (not CPU) time of a code section on the monotonic clock
/// ([`Instant`]), with Python pottery 3.0.1's `ContextTimer` rules: a timer starts once and
/// stops once; [`elapsed`](Self::elapsed) grows while it runs and is frozen once it stops.
/// Using it out of order is an [`Error::Timer`] (Python's `RuntimeError`).
///
/// Python's `with ContextTimer() as timer:` is [`scope`](Self::scope): the returned
/// [`TimerScope`] starts the timer and stops it when dropped, also when the scope is left by
/// `?` or a panic. Python returns whole milliseconds; this returns a [`Duration`] (call
/// `as_millis()` for Python's number, truncated rather than rounded).
///
/// # Example
///
/// ```
/// use pottery::ContextTimer;
///
/// // Stand-alone.
/// let mut timer = ContextTimer::new();
/// timer.start()?;
/// let sum: u64 = (1..=1000).sum();
/// timer.stop()?;
/// let took = timer.elapsed()?;
/// assert_eq!(timer.elapsed()?, took); // frozen once stopped
///
/// // Scoped, like Python's `with ContextTimer() as timer:`.
/// let mut timer = ContextTimer::new();
/// {
///     let scope = timer.scope()?;
///     let _running_so_far = scope.elapsed();
/// } // stopped here
/// println!("summed {sum} in {:?}, scope took {:?}", took, timer.elapsed()?);
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextTimer {
    started: Option<Instant>,
    stopped: Option<Instant>,
}

impl ContextTimer {
    /// A timer that has not started yet.
    ///
    /// # Example
    ///
    /// ```
    /// let timer = pottery::ContextTimer::new();
    /// assert!(!timer.is_running());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A timer started now: `ContextTimer::new()` followed by [`start`](Self::start).
    ///
    /// # Example
    ///
    /// ```
    /// let timer = pottery::ContextTimer::started();
    /// assert!(timer.is_running());
    /// ```
    pub fn started() -> Self {
        Self {
            started: Some(Instant::now()),
            stopped: None,
        }
    }

    /// Starts the timer; a timer starts only once.
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::new();
    /// timer.start()?;
    /// assert!(timer.start().is_err());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn start(&mut self) -> Result<()> {
        if self.stopped.is_some() {
            return Err(Error::Timer(TimerMisuse::AlreadyStopped));
        }
        if self.started.is_some() {
            return Err(Error::Timer(TimerMisuse::AlreadyStarted));
        }
        self.started = Some(Instant::now());
        Ok(())
    }

    /// Stops the timer, freezing [`elapsed`](Self::elapsed); a timer stops only once, after it
    /// started.
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::started();
    /// timer.stop()?;
    /// assert!(timer.stop().is_err());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn stop(&mut self) -> Result<()> {
        if self.stopped.is_some() {
            return Err(Error::Timer(TimerMisuse::AlreadyStopped));
        }
        if self.started.is_none() {
            return Err(Error::Timer(TimerMisuse::NotStarted));
        }
        self.stopped = Some(Instant::now());
        Ok(())
    }

    /// The time from [`start`](Self::start) to [`stop`](Self::stop), or to now while the timer
    /// runs.
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::started();
    /// let earlier = timer.elapsed()?;
    /// assert!(timer.elapsed()? >= earlier); // the clock is monotonic
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn elapsed(&self) -> Result<Duration> {
        let started = self.started.ok_or(Error::Timer(TimerMisuse::NotStarted))?;
        Ok(self.stopped.unwrap_or_else(Instant::now) - started)
    }

    /// Whether the timer has started and not stopped.
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::started();
    /// assert!(timer.is_running());
    /// timer.stop()?;
    /// assert!(!timer.is_running());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn is_running(&self) -> bool {
        self.started.is_some() && self.stopped.is_none()
    }

    /// Starts the timer and returns a guard that stops it when dropped (Python's
    /// `with ContextTimer() as timer:`); the same errors as [`start`](Self::start).
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::new();
    /// {
    ///     let scope = timer.scope()?;
    ///     assert!(scope.elapsed() >= std::time::Duration::ZERO);
    /// }
    /// assert!(!timer.is_running());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn scope(&mut self) -> Result<TimerScope<'_>> {
        self.start()?;
        Ok(TimerScope { timer: self })
    }
}

/// The guard of [`ContextTimer::scope`]: the timer runs while it lives and stops when it is
/// dropped.
///
/// # Example
///
/// ```
/// let mut timer = pottery::ContextTimer::new();
/// let scope = timer.scope()?;
/// let so_far = scope.elapsed();
/// drop(scope);
/// assert!(timer.elapsed()? >= so_far);
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug)]
pub struct TimerScope<'timer> {
    timer: &'timer mut ContextTimer,
}

impl TimerScope<'_> {
    /// The time since the scope started.
    ///
    /// # Example
    ///
    /// ```
    /// let mut timer = pottery::ContextTimer::new();
    /// let scope = timer.scope()?;
    /// let first = scope.elapsed();
    /// assert!(scope.elapsed() >= first);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn elapsed(&self) -> Duration {
        // A scope exists only for a started, running timer.
        self.timer.elapsed().unwrap_or_default()
    }
}

impl Drop for TimerScope<'_> {
    fn drop(&mut self) {
        // The scope started the timer and nothing else can stop it while the scope borrows
        // it, so this cannot fail.
        let _ = self.timer.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misuse(result: Result<impl std::fmt::Debug>) -> TimerMisuse {
        match result {
            Err(Error::Timer(misuse)) => misuse,
            other => panic!("expected a timer misuse, got {other:?}"),
        }
    }

    #[test]
    fn elapsed_grows_while_running_and_freezes_when_stopped() {
        let mut timer = ContextTimer::new();
        timer.start().unwrap();
        let mut previous = timer.elapsed().unwrap();
        for _ in 0..1000 {
            let now = timer.elapsed().unwrap();
            assert!(now >= previous);
            previous = now;
        }
        timer.stop().unwrap();
        let frozen = timer.elapsed().unwrap();
        assert!(frozen >= previous);
        std::thread::yield_now();
        assert_eq!(timer.elapsed().unwrap(), frozen);
    }

    #[test]
    fn elapsed_is_bounded_by_an_outer_measurement() {
        let outer = Instant::now();
        let mut timer = ContextTimer::started();
        let _work: u64 = (0..10_000u64).sum();
        timer.stop().unwrap();
        assert!(timer.elapsed().unwrap() <= outer.elapsed());
    }

    #[test]
    fn misuse_is_reported_with_pythons_texts() {
        let mut timer = ContextTimer::new();
        assert_eq!(misuse(timer.elapsed()), TimerMisuse::NotStarted);
        assert_eq!(misuse(timer.stop()), TimerMisuse::NotStarted);
        timer.start().unwrap();
        assert_eq!(misuse(timer.start()), TimerMisuse::AlreadyStarted);
        timer.stop().unwrap();
        assert_eq!(misuse(timer.stop()), TimerMisuse::AlreadyStopped);
        assert_eq!(misuse(timer.start()), TimerMisuse::AlreadyStopped);
        assert_eq!(
            Error::Timer(TimerMisuse::NotStarted).to_string(),
            "timer misuse: timer hasn't yet been started"
        );
    }

    #[test]
    fn a_scope_stops_the_timer_when_dropped() {
        let mut timer = ContextTimer::new();
        let inside = {
            let scope = timer.scope().unwrap();
            let first = scope.elapsed();
            let second = scope.elapsed();
            assert!(second >= first);
            second
        };
        assert!(!timer.is_running());
        let frozen = timer.elapsed().unwrap();
        assert!(frozen >= inside);
        assert_eq!(timer.elapsed().unwrap(), frozen);
        assert_eq!(misuse(timer.scope()), TimerMisuse::AlreadyStopped);
    }

    #[test]
    fn a_scope_stops_the_timer_on_panic() {
        let mut timer = ContextTimer::new();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _scope = timer.scope().unwrap();
            panic!("leaving the scope early");
        }));
        assert!(unwound.is_err());
        assert!(!timer.is_running());
        assert!(timer.elapsed().is_ok());
    }

    #[test]
    fn a_scope_on_a_started_timer_is_refused() {
        let mut timer = ContextTimer::started();
        assert_eq!(misuse(timer.scope()), TimerMisuse::AlreadyStarted);
        assert!(timer.is_running());
    }
}
