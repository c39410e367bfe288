//! The Redlock protocol shared by [`Redlock`](crate::Redlock) and
//! [`AsyncRedlock`](crate::AsyncRedlock): the builder, the settings, the commands, and the
//! bookkeeping of one round (which masters granted, refused or failed).

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use redis::Value;

use crate::error::{Error, Result};
use crate::transport::master::Master;
use crate::transport::quorum::{majority, Tally};

const LOCK: &str = "POTTERY.LOCK";
const LOCK_FENCED: &str = "POTTERY.LOCK.FENCED";
const LOCK_FENCE: &str = "POTTERY.LOCK.FENCE";
const UNLOCK: &str = "POTTERY.UNLOCK";
const EXTEND: &str = "POTTERY.EXTEND";
const LOCKED: &str = "POTTERY.LOCKED";
const LOCK_HOLDER: &str = "POTTERY.LOCK.HOLDER";

/// The longest TTL the module accepts: 2^40 ms.
const MAX_TTL: Duration = Duration::from_millis(1 << 40);

/// A callback run (on the renewal thread or task) when auto-renewal finds the lock lost.
pub(crate) type OnLost = Arc<dyn Fn() + Send + Sync>;

/// Builds a [`Redlock`](crate::Redlock) or an [`AsyncRedlock`](crate::AsyncRedlock); made by
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
    pub(crate) on_lost: Option<OnLost>,
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
            on_lost: None,
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
    /// majority, the guard reports the lock lost ([`LockGuard::is_lost`](crate::LockGuard::is_lost))
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
    /// ([`LockGuard::fencing_token`](crate::LockGuard::fencing_token)): strictly greater than
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

    /// Builds an [`AsyncRedlock`](crate::AsyncRedlock) for tokio; same checks as
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
    pub async fn build_async(self) -> Result<crate::AsyncRedlock> {
        let (settings, masters) = self.validate()?;
        crate::AsyncRedlock::new(settings, masters)
    }

    fn validate(self) -> Result<(Settings, Vec<Master>)> {
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
            on_lost: self.on_lost,
        };
        Ok((settings, self.masters))
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
    pub(crate) on_lost: Option<OnLost>,
}

impl Settings {
    /// The clock-drift allowance: 1% of the TTL + 2 ms.
    pub(crate) fn drift(&self) -> Duration {
        self.ttl / 100 + Duration::from_millis(2)
    }

    /// Until when a lock whose round started at `start` is surely held, if ever.
    pub(crate) fn valid_until(&self, start: Instant) -> Option<Instant> {
        let valid_for = self.ttl.checked_sub(self.drift())?;
        let until = start.checked_add(valid_for)?;
        (until > Instant::now()).then_some(until)
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
        (self.ttl / 3).max(Duration::from_millis(1))
    }

    pub(crate) fn lock_command(&self, token: &str) -> redis::Cmd {
        let mut command = if self.fencing {
            let mut command = redis::cmd(LOCK_FENCED);
            command.arg(&self.key).arg(&self.fence_key);
            command
        } else {
            let mut command = redis::cmd(LOCK);
            command.arg(&self.key);
            command
        };
        command.arg(token).arg(self.ttl_ms);
        command
    }

    pub(crate) fn fence_command(&self, token: &str, value: i64) -> redis::Cmd {
        let mut command = redis::cmd(LOCK_FENCE);
        command
            .arg(&self.key)
            .arg(&self.fence_key)
            .arg(token)
            .arg(value);
        command
    }

    pub(crate) fn unlock_command(&self, token: &str) -> redis::Cmd {
        let mut command = redis::cmd(UNLOCK);
        command.arg(&self.key).arg(token);
        command
    }

    pub(crate) fn extend_command(&self, token: &str) -> redis::Cmd {
        let mut command = redis::cmd(EXTEND);
        command.arg(&self.key).arg(token).arg(self.ttl_ms);
        command
    }

    pub(crate) fn locked_command(&self, token: &str) -> redis::Cmd {
        let mut command = redis::cmd(LOCKED);
        command.arg(&self.key).arg(token);
        command
    }

    pub(crate) fn holder_command(&self) -> redis::Cmd {
        let mut command = redis::cmd(LOCK_HOLDER);
        command.arg(&self.key);
        command
    }
}

/// A fresh random token: a UUID version 4 in its usual text form, like Python pottery's.
pub(crate) fn new_token() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

fn server_error(reply: Value, command: &'static str) -> Error {
    match reply {
        Value::ServerError(error) => Error::Redis(error.into()),
        _ => Error::UnexpectedReply { command },
    }
}

/// Counts a round of yes/no answers (`1`/`0` integer replies, or fence counters where any
/// positive value is a yes) and keeps the most useful error.
#[derive(Debug)]
pub(crate) struct Round {
    command: &'static str,
    tally: Tally,
    /// Masters that answered "no" (held by another token, or not held by ours).
    refused: usize,
    /// The largest fence counter among the yes answers (fenced acquisitions).
    highest_counter: i64,
    /// Stop reading once the outcome is certain; off for rounds that should hear every master.
    stop_early: bool,
    last_error: Option<Error>,
}

impl Round {
    fn new(command: &'static str, masters: usize, stop_early: bool) -> Self {
        Self {
            command,
            tally: Tally::majority(masters),
            refused: 0,
            highest_counter: 0,
            stop_early,
            last_error: None,
        }
    }

    /// An acquisition round (`LOCK` or `LOCK.FENCED`).
    pub(crate) fn acquire(settings: &Settings, masters: usize) -> Self {
        Self::new(
            if settings.fencing { LOCK_FENCED } else { LOCK },
            masters,
            true,
        )
    }

    /// A release round. The sync fan-out has written the command to every master before it
    /// reads any reply, so it may stop reading early (`stop_early`); the async one must not,
    /// since it drops the requests it stops waiting for, possibly before they were sent.
    pub(crate) fn release(masters: usize, stop_early: bool) -> Self {
        Self::new(UNLOCK, masters, stop_early)
    }

    /// An extension round.
    pub(crate) fn extend(masters: usize) -> Self {
        Self::new(EXTEND, masters, true)
    }

    /// Records one master's reply; `Break` once the outcome is certain (if stopping early).
    pub(crate) fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(0)) => {
                self.refused += 1;
                self.tally.fail();
            }
            Ok(Value::Int(value)) if value > 0 => {
                self.highest_counter = self.highest_counter.max(value);
                self.tally.grant();
            }
            Ok(other) => self.fail(server_error(other, self.command)),
            Err(error) => self.fail(error),
        }
        if self.stop_early {
            self.tally.flow()
        } else {
            ControlFlow::Continue(())
        }
    }

    fn fail(&mut self, error: Error) {
        self.tally.fail();
        keep_informative(&mut self.last_error, error);
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.tally.succeeded()
    }

    /// The highest fence counter granted.
    pub(crate) fn highest_counter(&self) -> i64 {
        self.highest_counter
    }

    /// Whether some master may hold the token after this round: any master that did not
    /// answer "no" (it granted, failed, or was not read because the round stopped early).
    pub(crate) fn needs_release(&self) -> bool {
        self.refused < self.tally.masters()
    }

    /// Masters that failed (errors, timeouts) rather than answering yes or no.
    fn errors(&self) -> usize {
        self.tally.masters() - self.tally.granted() - self.refused
    }

    /// Whether a failed round failed because masters could not be reached: without those
    /// errors a majority could have answered. Otherwise enough masters answered "no".
    pub(crate) fn unavailable(&self) -> bool {
        self.errors() > self.tally.masters() - self.tally.needed()
    }

    /// Whether a majority is certainly no longer ours: so many masters said "no" that the
    /// others cannot make a majority.
    pub(crate) fn lost_for_sure(&self) -> bool {
        self.refused > self.tally.masters() - self.tally.needed()
    }

    /// The error for a round that did not reach its quorum.
    pub(crate) fn into_error(self) -> Error {
        Error::QuorumNotAchieved {
            granted: self.tally.granted(),
            quorum: self.tally.needed(),
            masters: self.tally.masters(),
            last_error: self.last_error.map(Box::new),
        }
    }

    /// A release or extension that did not reach its quorum: [`Error::LockLost`] only when
    /// so many masters said "not ours" that no majority can hold it; when errors or timeouts
    /// left the answer open, the quorum error.
    pub(crate) fn into_lost_or_error(self) -> Error {
        if self.lost_for_sure() {
            Error::LockLost
        } else {
            self.into_error()
        }
    }
}

/// Counts `[1, value]` replies to `LOCK.FENCE value`.
#[derive(Debug)]
pub(crate) struct FenceRound {
    value: i64,
    tally: Tally,
    last_error: Option<Error>,
}

impl FenceRound {
    pub(crate) fn new(value: i64, masters: usize) -> Self {
        Self {
            value,
            tally: Tally::majority(masters),
            last_error: None,
        }
    }

    pub(crate) fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Array(items)) => match items.as_slice() {
                [Value::Int(1), Value::Int(value)] if *value == self.value => self.tally.grant(),
                [Value::Int(0 | -1), Value::Int(_)] => self.tally.fail(),
                _ => self.fail(Error::UnexpectedReply {
                    command: LOCK_FENCE,
                }),
            },
            Ok(other) => self.fail(server_error(other, LOCK_FENCE)),
            Err(error) => self.fail(error),
        }
        self.tally.flow()
    }

    fn fail(&mut self, error: Error) {
        self.tally.fail();
        keep_informative(&mut self.last_error, error);
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.tally.succeeded()
    }

    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.last_error.take()
    }
}

/// Collects `POTTERY.LOCKED` replies: the time left on the masters that hold our token.
#[derive(Debug)]
pub(crate) struct LockedRound {
    masters: usize,
    /// Milliseconds left per master holding the token (`-1` without expiry counts as the TTL).
    left: Vec<i64>,
    errors: usize,
    last_error: Option<Error>,
}

impl LockedRound {
    pub(crate) fn new(masters: usize) -> Self {
        Self {
            masters,
            left: Vec::with_capacity(masters),
            errors: 0,
            last_error: None,
        }
    }

    pub(crate) fn record(&mut self, reply: Result<Value>, ttl_ms: i64) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(0)) => {}
            Ok(Value::Int(-1)) => self.left.push(ttl_ms),
            Ok(Value::Int(ms)) if ms > 0 => self.left.push(ms),
            Ok(other) => {
                self.errors += 1;
                keep_informative(&mut self.last_error, server_error(other, LOCKED));
            }
            Err(error) => {
                self.errors += 1;
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }

    /// The time a majority still holds the lock for (the quorum-th longest), less the drift
    /// allowance; `None` when no majority holds it; the quorum error when too few masters
    /// answered to tell.
    pub(crate) fn finish(mut self, drift: Duration) -> Result<Option<Duration>> {
        let needed = majority(self.masters);
        if self.left.len() < needed {
            if self.errors > self.masters - needed {
                return Err(Error::QuorumNotAchieved {
                    granted: self.left.len(),
                    quorum: needed,
                    masters: self.masters,
                    last_error: self.last_error.map(Box::new),
                });
            }
            return Ok(None);
        }
        self.left.sort_unstable_by(|a, b| b.cmp(a));
        let ms = self.left.get(needed - 1).copied().unwrap_or(0);
        let left = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        Ok(left.checked_sub(drift).filter(|left| !left.is_zero()))
    }
}

/// Who holds a lock, as a majority of masters report it ([`Redlock::holder`](crate::Redlock::holder)).
///
/// # Example
///
/// ```no_run
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
/// if let Some(holder) = lock.holder()? {
///     println!("held by {} for at least {:?}", holder.token, holder.ttl);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holder {
    /// The holder's token, as stored on the masters (the value of the lock key).
    pub token: String,
    /// How long a majority of masters still keep it (the shortest among them), or `None` for
    /// a lock set without expiry.
    pub ttl: Option<Duration>,
}

/// Collects `POTTERY.LOCK.HOLDER` replies and finds a token a majority agrees on.
#[derive(Debug)]
pub(crate) struct HolderRound {
    masters: usize,
    /// Per token: the remaining ms reported by each master that holds it (-1: no expiry).
    tokens: HashMap<Vec<u8>, Vec<i64>>,
    failed: usize,
    last_error: Option<Error>,
}

impl HolderRound {
    pub(crate) fn new(masters: usize) -> Self {
        Self {
            masters,
            tokens: HashMap::new(),
            failed: 0,
            last_error: None,
        }
    }

    pub(crate) fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Nil) => {}
            Ok(Value::Array(items)) => match items.as_slice() {
                [Value::BulkString(token), Value::Int(ms)] => {
                    self.tokens.entry(token.clone()).or_default().push(*ms);
                }
                _ => {
                    self.failed += 1;
                    keep_informative(
                        &mut self.last_error,
                        Error::UnexpectedReply {
                            command: LOCK_HOLDER,
                        },
                    );
                }
            },
            Ok(other) => {
                self.failed += 1;
                keep_informative(&mut self.last_error, server_error(other, LOCK_HOLDER));
            }
            Err(error) => {
                self.failed += 1;
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }

    /// The holder a majority agrees on; an error when too few masters answered to tell.
    pub(crate) fn finish(mut self) -> Result<Option<Holder>> {
        let needed = majority(self.masters);
        for (token, mut left) in self.tokens.drain() {
            if left.len() >= needed {
                left.sort_unstable_by(|a, b| b.cmp(a));
                let ms = left.get(needed - 1).copied().unwrap_or(-1);
                let ttl = (ms >= 0).then(|| Duration::from_millis(ms.unsigned_abs()));
                return Ok(Some(Holder {
                    token: String::from_utf8_lossy(&token).into_owned(),
                    ttl,
                }));
            }
        }
        if self.masters - self.failed < needed {
            return Err(Error::QuorumNotAchieved {
                granted: self.masters - self.failed,
                quorum: needed,
                masters: self.masters,
                last_error: self.last_error.map(Box::new),
            });
        }
        Ok(None)
    }
}

/// Keeps the newest error, except that a backoff notice never hides the failure behind it.
fn keep_informative(kept: &mut Option<Error>, new: Error) {
    let is_backoff = |error: &Error| matches!(error, Error::MasterUnavailable { .. });
    if !is_backoff(&new) || kept.as_ref().is_none_or(is_backoff) {
        *kept = Some(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ttl_ms: u64) -> Settings {
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
    fn tokens_are_uuid4_text() {
        let token = new_token();
        assert_eq!(token.len(), 36);
        assert_eq!(&token[14..15], "4");
        assert!("89ab".contains(&token[19..20]));
        assert_ne!(new_token(), token);
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
    fn rounds_tell_contention_from_unavailability() {
        let mut round = Round::acquire(&settings(1000), 5);
        for reply in [Ok(Value::Int(0)), Ok(Value::Int(0)), Ok(Value::Int(0))] {
            let _ = round.record(reply);
        }
        assert!(!round.succeeded() && !round.unavailable() && round.lost_for_sure());

        let mut round = Round::acquire(&settings(1000), 5);
        let timeout = || {
            Err(Error::Timeout {
                master: 0,
                timeout: Duration::from_millis(1),
            })
        };
        let _ = round.record(Ok(Value::Int(1)));
        for _ in 0..3 {
            let _ = round.record(timeout());
        }
        assert!(!round.succeeded() && round.unavailable());
        assert!(matches!(
            round.into_error(),
            Error::QuorumNotAchieved {
                granted: 1,
                quorum: 3,
                masters: 5,
                last_error: Some(_)
            }
        ));

        // A release where one granting master timed out: not proof of a lost lock.
        let mut release = Round::release(5, true);
        for reply in [Ok(Value::Int(0)), Ok(Value::Int(0)), timeout()] {
            let _ = release.record(reply);
        }
        assert!(!release.succeeded() && !release.lost_for_sure());
        assert!(matches!(
            release.into_lost_or_error(),
            Error::QuorumNotAchieved { .. }
        ));
        let mut release = Round::release(5, true);
        for _ in 0..3 {
            let _ = release.record(Ok(Value::Int(0)));
        }
        assert!(matches!(release.into_lost_or_error(), Error::LockLost));

        let mut fenced = Round::acquire(&settings(1000), 3);
        let _ = fenced.record(Ok(Value::Int(4)));
        let flow = fenced.record(Ok(Value::Int(7)));
        assert!(flow.is_break() && fenced.succeeded());
        assert_eq!(fenced.highest_counter(), 7);
    }

    #[test]
    fn fence_and_holder_rounds_need_a_majority() {
        let mut fence = FenceRound::new(7, 3);
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(1), Value::Int(7)])));
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(0), Value::Int(9)])));
        assert!(!fence.succeeded());
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(1), Value::Int(7)])));
        assert!(fence.succeeded());

        let holder = |token: &str, ms: i64| {
            Ok(Value::Array(vec![
                Value::BulkString(token.as_bytes().to_vec()),
                Value::Int(ms),
            ]))
        };
        let mut round = HolderRound::new(3);
        let _ = round.record(holder("a", 900));
        let _ = round.record(holder("b", 900));
        let _ = round.record(Ok(Value::Nil));
        assert!(matches!(round.finish(), Ok(None)));
        let mut round = HolderRound::new(3);
        let _ = round.record(holder("a", 900));
        let _ = round.record(holder("a", 500));
        let _ = round.record(Ok(Value::Nil));
        let found = round.finish().ok().flatten();
        assert_eq!(
            found,
            Some(Holder {
                token: "a".into(),
                ttl: Some(Duration::from_millis(500))
            })
        );

        let mut locked = LockedRound::new(3);
        let _ = locked.record(Ok(Value::Int(1000)), 1000);
        let _ = locked.record(Ok(Value::Int(800)), 1000);
        let _ = locked.record(Ok(Value::Int(0)), 1000);
        let left = locked.finish(Duration::from_millis(12)).ok().flatten();
        assert_eq!(left, Some(Duration::from_millis(788)));
    }
}
