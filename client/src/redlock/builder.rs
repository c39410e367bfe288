//! [`RedlockBuilder`], the settings it hands to both faces of the lock, and the lock's
//! commands: each is written in one place, into the round's `redis::Cmd`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::{Error, Result};
use crate::redlock::timing;
use crate::transport::master::{with_builder_mode, Master};
use crate::transport::mode::Mode;

pub(crate) const LOCK: &str = "POTTERY.LOCK";
pub(crate) const LOCK_FENCED: &str = "POTTERY.LOCK.FENCED";
pub(crate) const LOCK_FENCE: &str = "POTTERY.LOCK.FENCE";
pub(crate) const UNLOCK: &str = "POTTERY.UNLOCK";
pub(crate) const EXTEND: &str = "POTTERY.EXTEND";
pub(crate) const LOCKED: &str = "POTTERY.LOCKED";
pub(crate) const LOCK_HOLDER: &str = "POTTERY.LOCK.HOLDER";

/// The longest TTL the module accepts: 2^40 ms.
pub(crate) const MAX_TTL: Duration = Duration::from_millis(1 << 40);

/// A callback run (on the renewal thread or task) when auto-renewal finds the lock lost.
pub(crate) type OnLost = Arc<dyn Fn() + Send + Sync>;

/// Builds a [`Redlock`](crate::Redlock) or an [`aio::Redlock`](crate::aio::Redlock); made by
/// [`Redlock::builder`](crate::Redlock::builder).
///
/// Defaults: prefix `redlock` (key `redlock:<name>`, as Python pottery), TTL 10 s, master
/// timeout 100 ms, acquire timeout 10 s, retry delay up to 10 ms, no extension cap, no
/// auto-renewal, no fencing. Building validates the options and opens no connection.
///
/// # Example
///
/// ```
/// use std::time::Duration;
///
/// let lock = pottery::Redlock::builder()
///     .name("printer")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .ttl(Duration::from_secs(2))
///     .master_timeout(Duration::from_millis(50))
///     .acquire_timeout(Duration::from_secs(5))
///     .fencing(true)
///     .build()?;
/// assert_eq!(lock.key(), "redlock:printer");
/// # Ok::<(), pottery::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` or `build_async` is called"]
pub struct RedlockBuilder {
    pub(crate) name: String,
    pub(crate) prefix: String,
    pub(crate) masters: Vec<Master>,
    pub(crate) ttl: Duration,
    pub(crate) master_timeout: Duration,
    pub(crate) acquire_timeout: Duration,
    pub(crate) retry_delay: Duration,
    pub(crate) max_extensions: Option<u32>,
    pub(crate) auto_renew: bool,
    pub(crate) fencing: bool,
    pub(crate) blocking: bool,
    pub(crate) on_lost: Option<OnLost>,
    pub(crate) mode: Option<Mode>,
}

impl fmt::Debug for RedlockBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedlockBuilder")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("masters", &self.masters.len())
            .field("ttl", &self.ttl)
            .field("fencing", &self.fencing)
            .field("auto_renew", &self.auto_renew)
            .field("blocking", &self.blocking)
            .finish_non_exhaustive()
    }
}

impl Default for RedlockBuilder {
    fn default() -> Self {
        Self {
            name: String::new(),
            prefix: "redlock".to_owned(),
            masters: Vec::new(),
            ttl: Duration::from_secs(10),
            master_timeout: Duration::from_millis(100),
            acquire_timeout: Duration::from_secs(10),
            retry_delay: Duration::from_millis(10),
            max_extensions: None,
            auto_renew: false,
            fencing: false,
            blocking: true,
            on_lost: None,
            mode: None,
        }
    }
}

impl RedlockBuilder {
    /// The lock's name (required, not empty); the key on every master is `<prefix>:<name>`.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.key(), "redlock:printer");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The key prefix, `redlock` by default (Python pottery's); the fence counter lives at
    /// `<prefix>:<name>:fence`.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .prefix("locks")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .build()?;
    /// assert_eq!(lock.key(), "locks:printer");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the masters, replacing any given before: URLs, `redis::ConnectionInfo`s,
    /// `redis::Client`s or open connections (see [`Master`]). Use an odd number (1, 3, 5) of
    /// independent masters.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
    ///     .build()?;
    /// assert_eq!(lock.quorum(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn masters<I>(mut self, masters: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Master>,
    {
        self.masters = masters.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one master after those given before.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder().name("a").master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(lock.masters(), 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn master(mut self, master: impl Into<Master>) -> Self {
        self.masters.push(master.into());
        self
    }

    /// How long a lock lives on the masters unless extended (1 ms to 2^40 ms; default 10 s).
    /// The holder's guaranteed validity is shorter: the TTL minus the time the acquisition took
    /// minus a clock-drift allowance of 1% + 2 ms.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .ttl(Duration::from_millis(500))
    ///     .build()?;
    /// assert_eq!(lock.ttl(), Duration::from_millis(500));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long one request may wait for one master, connecting included (default 100 ms;
    /// not zero). Keep it well below the TTL.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .master_timeout(Duration::from_millis(20))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn master_timeout(mut self, timeout: Duration) -> Self {
        self.master_timeout = timeout;
        self
    }

    /// How long [`acquire`](crate::Redlock::acquire) keeps trying (default 10 s).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .acquire_timeout(Duration::from_secs(1))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The upper bound of the random pause (uniform in `0..delay`) between two attempts to
    /// acquire (default 10 ms), so that contending clients do not collide again.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .retry_delay(Duration::from_millis(2))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Whether [`acquire`](crate::Redlock::acquire) waits in the masters' queues (on by
    /// default) instead of polling with jittered pauses.
    ///
    /// Waiting, each master sends `POTTERY.LOCK ... BLOCK ms`, parks the caller first come
    /// first served and hands it the lock the moment the holder releases it (or it expires),
    /// on a second connection per master so that releases and renewals on the same `Redlock`
    /// never wait behind it. A wait lasts at most half the TTL (the lock's validity counts from
    /// the request), then the attempt is renewed; with several masters an attempt that took
    /// fewer than a majority releases what it took, as a polled one does. Masters given as
    /// open connections or as a cluster are polled.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .blocking(false)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn blocking(mut self, on: bool) -> Self {
        self.blocking = on;
        self
    }

    /// Caps how often one acquisition may be [extended](crate::LockGuard::extend); unlimited
    /// by default (pottery allows 3).
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .max_extensions(3)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn max_extensions(mut self, extensions: u32) -> Self {
        self.max_extensions = Some(extensions);
        self
    }

    /// Renews every acquired lock in the background at a third of the TTL (a thread per sync
    /// guard, a tokio task per async guard) until it is released. When renewal cannot keep a
    /// majority, the guard reports the lock lost ([`Hold::is_lost`](crate::Hold::is_lost), through the guard)
    /// and the [`on_lost`](Self::on_lost) callback runs. Off by default.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .auto_renew(true)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn auto_renew(mut self, on: bool) -> Self {
        self.auto_renew = on;
        self
    }

    /// A callback that auto-renewal runs once, on its thread or task, when it finds the lock
    /// lost. Keep it short (set a flag, cancel work).
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let lost = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&lost);
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .auto_renew(true)
    ///     .on_lost(move || flag.store(true, Ordering::SeqCst))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn on_lost(mut self, callback: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_lost = Some(Arc::new(callback));
        self
    }

    /// Hands out a fencing token with every acquisition
    /// ([`Hold::fencing_token`](crate::Hold::fencing_token), through the guard): strictly greater than
    /// every token of earlier holders, given masters with `appendfsync always`. Costs a second
    /// round trip per acquisition. Off by default.
    ///
    /// # Example
    ///
    /// ```
    /// let lock = pottery::Redlock::builder()
    ///     .name("a")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .fencing(true)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn fencing(mut self, on: bool) -> Self {
        self.fencing = on;
        self
    }

    /// Whether every master is sent the pottery module's commands or their Lua scripts, for
    /// servers that cannot load the module (most hosted Redis services); see [`Mode`]. Unset,
    /// each master keeps its own ([`Master::with_mode`](crate::Master::with_mode);
    /// [`Mode::Auto`] by default, the connector's mode for a master made from a
    /// [`Connector`](crate::Connector)). The scripts keep the module's keys, data and
    /// atomicity, so masters of both kinds (and Python pottery's Redlock) work on the
    /// same locks.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::Mode;
    ///
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .master("redis://cache.example:6379/")
    ///     .mode(Mode::WithoutModule)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Builds a sync [`Redlock`](crate::Redlock). [`Error::InvalidArgument`] for an empty name,
    /// no masters, a zero master timeout, a TTL outside 1 ms..=2^40 ms or an async connection
    /// among the masters; [`Error::Redis`] for a URL that does not parse. Opens no connection.
    ///
    /// # Example
    ///
    /// ```
    /// let error = pottery::Redlock::builder().master("redis://127.0.0.1:6379/").build().unwrap_err();
    /// assert!(matches!(error, pottery::Error::InvalidArgument { argument: "name", .. }));
    /// ```
    pub fn build(self) -> Result<crate::Redlock> {
        let (settings, masters) = self.validate()?;
        crate::Redlock::new(settings, masters)
    }

    /// Builds an [`aio::Redlock`](crate::aio::Redlock) for tokio; same checks as
    /// [`build`](Self::build). Opens no connection.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let lock = pottery::Redlock::builder()
    ///     .name("printer")
    ///     .master("redis://127.0.0.1:6379/")
    ///     .build_async()
    ///     .await?;
    /// let guard = lock.acquire().await?;
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn build_async(self) -> Result<crate::aio::Redlock> {
        let (settings, masters) = self.validate()?;
        crate::aio::Redlock::new(settings, masters)
    }

    pub(crate) fn validate(self) -> Result<(Settings, Vec<Master>)> {
        let invalid = |argument, problem| Err(Error::InvalidArgument { argument, problem });
        if self.name.is_empty() {
            return invalid("name", "must not be empty");
        }
        if self.master_timeout.is_zero() {
            return invalid("master_timeout", "must be greater than zero");
        }
        if self.ttl < Duration::from_millis(1) || self.ttl > MAX_TTL {
            return invalid("ttl", "must be between 1 ms and 2^40 ms");
        }
        let key = format!("{}:{}", self.prefix, self.name);
        let settings = Settings {
            fence_key: format!("{key}:fence"),
            key,
            ttl_ms: i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX),
            ttl: Duration::from_millis(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)),
            master_timeout: self.master_timeout,
            acquire_timeout: self.acquire_timeout,
            retry_delay: self.retry_delay,
            max_extensions: self.max_extensions,
            auto_renew: self.auto_renew,
            fencing: self.fencing,
            blocking: self.blocking,
            on_lost: self.on_lost,
        };
        Ok((settings, with_builder_mode(self.masters, self.mode)))
    }
}

/// What the builder hands to both flavours.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) key: String,
    pub(crate) fence_key: String,
    /// The TTL in whole milliseconds, as sent.
    pub(crate) ttl_ms: i64,
    pub(crate) ttl: Duration,
    pub(crate) master_timeout: Duration,
    pub(crate) acquire_timeout: Duration,
    pub(crate) retry_delay: Duration,
    pub(crate) max_extensions: Option<u32>,
    pub(crate) auto_renew: bool,
    pub(crate) fencing: bool,
    pub(crate) blocking: bool,
    pub(crate) on_lost: Option<OnLost>,
}

impl Settings {
    /// The clock-drift allowance: 1% of the TTL + 2 ms.
    pub(crate) fn drift(&self) -> Duration {
        timing::drift(self.ttl)
    }

    /// Until when a lock whose round started at `start` is surely held, if ever.
    pub(crate) fn valid_until(&self, start: Instant) -> Option<Instant> {
        timing::valid_until(self.ttl, start)
    }

    /// A random pause in `0..retry_delay`.
    pub(crate) fn jitter(&self) -> Duration {
        if self.retry_delay.is_zero() {
            Duration::ZERO
        } else {
            rand::rng().random_range(Duration::ZERO..self.retry_delay)
        }
    }

    /// How often auto-renewal extends: a third of the TTL.
    pub(crate) fn renew_every(&self) -> Duration {
        timing::renew_every(self.ttl)
    }
    /// `LOCK key token ttl`, or `LOCK.FENCED key fence_key token ttl` with fencing.
    pub(crate) fn write_lock(&self, command: &mut redis::Cmd, token: &str) {
        if self.fencing {
            command.arg(LOCK_FENCED).arg(&self.key).arg(&self.fence_key);
        } else {
            command.arg(LOCK).arg(&self.key);
        }
        command.arg(token).arg(self.ttl_ms);
    }

    /// [`write_lock`](Self::write_lock) that waits up to `wait` in the master's queue.
    pub(crate) fn write_lock_waiting(&self, command: &mut redis::Cmd, token: &str, wait: Duration) {
        self.write_lock(command, token);
        timing::block_argument(command, Some(wait));
    }

    /// How long one waiting attempt may wait with `left` until the acquire deadline (see
    /// [`timing::wait_slice`]).
    pub(crate) fn wait_slice(&self, left: Duration) -> Option<Duration> {
        timing::wait_slice(left, self.ttl)
    }

    pub(crate) fn write_fence(&self, command: &mut redis::Cmd, token: &str, value: i64) {
        command
            .arg(LOCK_FENCE)
            .arg(&self.key)
            .arg(&self.fence_key)
            .arg(token)
            .arg(value);
    }

    pub(crate) fn write_unlock(&self, command: &mut redis::Cmd, token: &str) {
        command.arg(UNLOCK).arg(&self.key).arg(token);
    }

    pub(crate) fn write_extend(&self, command: &mut redis::Cmd, token: &str) {
        command
            .arg(EXTEND)
            .arg(&self.key)
            .arg(token)
            .arg(self.ttl_ms);
    }

    pub(crate) fn write_locked(&self, command: &mut redis::Cmd, token: &str) {
        command.arg(LOCKED).arg(&self.key).arg(token);
    }

    pub(crate) fn write_holder(&self, command: &mut redis::Cmd) {
        command.arg(LOCK_HOLDER).arg(&self.key);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Settings of a lock named `n` with a TTL of `ttl_ms`, for unit tests.
    pub(crate) fn settings(ttl_ms: u64) -> Settings {
        let Ok((settings, _)) = RedlockBuilder::default()
            .name("n")
            .ttl(Duration::from_millis(ttl_ms))
            .validate()
        else {
            panic!("valid");
        };
        settings
    }

    #[test]
    fn validity_subtracts_elapsed_time_and_drift() {
        let settings = settings(1000);
        assert_eq!(settings.drift(), Duration::from_millis(12));
        let start = Instant::now();
        let until = settings.valid_until(start).map(|until| until - start);
        assert_eq!(until, Some(Duration::from_millis(988)));
        // A round that took longer than the TTL leaves no validity.
        let long_ago = Instant::now().checked_sub(Duration::from_millis(1000));
        if let Some(long_ago) = long_ago {
            assert_eq!(settings.valid_until(long_ago), None);
        }
        // A TTL shorter than the drift is never valid.
        assert_eq!(self::settings(1).valid_until(Instant::now()), None);
    }

    #[test]
    fn builder_rejects_bad_options() {
        let problem = |builder: RedlockBuilder| match builder.validate() {
            Err(Error::InvalidArgument { argument, .. }) => argument,
            _ => "accepted",
        };
        assert_eq!(problem(RedlockBuilder::default()), "name");
        let named = || RedlockBuilder::default().name("n");
        assert_eq!(problem(named().ttl(Duration::ZERO)), "ttl");
        assert_eq!(problem(named().ttl(Duration::from_micros(999))), "ttl");
        assert_eq!(
            problem(named().ttl(MAX_TTL + Duration::from_millis(1))),
            "ttl"
        );
        assert_eq!(problem(named().ttl(MAX_TTL)), "accepted");
        assert_eq!(
            problem(named().master_timeout(Duration::ZERO)),
            "master_timeout"
        );
        let Ok((settings, _)) = named().prefix("p").validate() else {
            panic!("valid");
        };
        assert_eq!(
            (settings.key.as_str(), settings.fence_key.as_str()),
            ("p:n", "p:n:fence")
        );
    }

    #[test]
    fn commands_are_written_as_the_module_expects() {
        let fenced = RedlockBuilder::default().name("n").fencing(true);
        let Ok((settings, _)) = fenced.validate() else {
            panic!("valid");
        };
        let mut command = redis::Cmd::new();
        settings.write_lock(&mut command, "t");
        let expected = redis::cmd(LOCK_FENCED)
            .arg("redlock:n")
            .arg("redlock:n:fence")
            .arg("t")
            .arg(10_000)
            .get_packed_command();
        assert_eq!(command.get_packed_command(), expected);
    }
}
