//! [`NextIdBuilder`], and the settings it hands to both faces of the sequence.

use std::fmt;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::{Error, Result};
use crate::nextid::sync::NextId;
use crate::transport::master::{with_builder_mode, Master};
use crate::transport::mode::Mode;
use crate::transport::sync_masters::SyncMasters;

/// Default per-master timeout.
const DEFAULT_MASTER_TIMEOUT: Duration = Duration::from_millis(100);
/// Default per-call deadline.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(1);
/// Default upper bound of the random pause between two attempts.
const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(10);

/// Builds a [`NextId`] or an [`aio::NextId`](crate::aio::NextId); made by [`NextId::builder`].
///
/// Defaults: name `current` (key `nextid:current`, as Python pottery), master timeout 100 ms,
/// deadline 1 s, retry delay 10 ms. Building validates the options and parses URLs but opens
/// no connection: masters are connected lazily, on the first call, so a master that is down at
/// start-up does not prevent building (the quorum decides later).
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// let mut ids = pottery::NextId::builder()
///     .name("orders")
///     .masters([
///         "redis://10.0.0.1:6379/",
///         "redis://10.0.0.2:6379/",
///         "redis://10.0.0.3:6379/",
///     ])
///     .master_timeout(Duration::from_millis(50))
///     .deadline(Duration::from_secs(2))
///     .retry_delay(Duration::from_millis(20))
///     .build()?;
/// let order_id = ids.next_id()?;
/// # Ok::<(), pottery::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` or `build_async` is called"]
pub struct NextIdBuilder {
    name: String,
    masters: Vec<Master>,
    master_timeout: Duration,
    deadline: Duration,
    retry_delay: Duration,
    mode: Option<Mode>,
}

impl fmt::Debug for NextIdBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NextIdBuilder")
            .field("name", &self.name)
            .field("masters", &self.masters.len())
            .field("master_timeout", &self.master_timeout)
            .field("deadline", &self.deadline)
            .field("retry_delay", &self.retry_delay)
            .finish()
    }
}

impl Default for NextIdBuilder {
    fn default() -> Self {
        Self {
            name: "current".to_owned(),
            masters: Vec::new(),
            master_timeout: DEFAULT_MASTER_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            retry_delay: DEFAULT_RETRY_DELAY,
            mode: None,
        }
    }
}

impl NextIdBuilder {
    /// Sets the sequence's name; the key on every master is `nextid:<name>`. Default `current`.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder()
    ///     .name("invoices")
    ///     .masters(["redis://127.0.0.1:6379/"])
    ///     .build()?;
    /// assert_eq!(ids.key(), "nextid:invoices");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the masters, replacing any given before. Each item is anything that converts
    /// into a [`Master`]: a URL, a `redis::ConnectionInfo`, a `redis::Client`, an open
    /// connection, or a `redis::cluster::ClusterClient` (a whole cluster as one master). Use an
    /// odd number of independent masters (1, 3, 5): a majority of them must answer for every
    /// call.
    ///
    /// # Example
    ///
    /// ```
    /// let client = redis::Client::open("redis://127.0.0.1:6380/")?;
    /// let ids = pottery::NextId::builder()
    ///     .masters(["redis://127.0.0.1:6379/"])
    ///     .master(client)
    ///     .master("redis://127.0.0.1:6381/")
    ///     .build()?;
    /// assert_eq!(ids.masters(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(ids.masters(), 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn master(mut self, master: impl Into<Master>) -> Self {
        self.masters.push(master.into());
        self
    }

    /// Sets how long one request may wait for one master (connecting included). Default
    /// 100 ms; must not be zero. A silent master costs at most this much per attempt.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ids = pottery::NextId::builder()
    ///     .master("redis://127.0.0.1:6379/")
    ///     .master_timeout(Duration::from_millis(20))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn master_timeout(mut self, timeout: Duration) -> Self {
        self.master_timeout = timeout;
        self
    }

    /// Sets how long one call keeps retrying before it gives up with
    /// [`Error::QuorumNotAchieved`]. Default 1 s. No attempt starts after the deadline, so a
    /// call returns within about `deadline + master_timeout`; a zero deadline makes one attempt.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ids = pottery::NextId::builder()
    ///     .master("redis://127.0.0.1:6379/")
    ///     .deadline(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the upper bound of the random pause (uniform in `0..retry_delay`) between two
    /// attempts of one call, which keeps competing clients from colliding again. Default 10 ms.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ids = pottery::NextId::builder()
    ///     .master("redis://127.0.0.1:6379/")
    ///     .retry_delay(Duration::from_millis(50))
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Whether every master is sent the pottery module's commands or their Lua scripts, for
    /// servers that cannot load the module (most hosted Redis services); see [`Mode`]. Unset,
    /// each master keeps its own ([`Master::with_mode`](crate::Master::with_mode);
    /// [`Mode::Auto`] by default, the connector's mode for a master made from a
    /// [`Connector`](crate::Connector)). The scripts keep the module's keys, data and
    /// atomicity, so masters of both kinds (and Python pottery's NextId) share the same
    /// counters.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::Mode;
    ///
    /// let ids = pottery::NextId::builder()
    ///     .master("redis://cache.example:6379/")
    ///     .mode(Mode::WithoutModule)
    ///     .build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Builds a sync [`NextId`]. Fails with [`Error::InvalidArgument`] without masters, with a
    /// zero master timeout, or with an async connection among the masters, and with
    /// [`Error::Redis`] for a URL that does not parse. Opens no connection.
    ///
    /// # Example
    ///
    /// ```
    /// let error = pottery::NextId::builder().build().unwrap_err();
    /// assert!(matches!(error, pottery::Error::InvalidArgument { argument: "masters", .. }));
    /// ```
    pub fn build(self) -> Result<NextId> {
        let (settings, masters) = self.validate()?;
        let masters = SyncMasters::new(masters, settings.timing.master_timeout)?;
        Ok(NextId::new(settings, masters))
    }

    /// Builds an [`aio::NextId`](crate::aio::NextId) for tokio. Same checks as
    /// [`build`](Self::build) (a sync connection among the masters is the invalid one here).
    ///
    /// Like `build`, it opens no connection today (masters are connected on the first call);
    /// it is `async` so that the async API reads the same throughout and may start connecting
    /// here in a later version without breaking callers.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut ids = pottery::NextId::builder()
    ///     .masters(["redis://127.0.0.1:6379/"])
    ///     .build_async()
    ///     .await?;
    /// let id = ids.next_id().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn build_async(self) -> Result<crate::aio::NextId> {
        let (settings, masters) = self.validate()?;
        let masters = crate::transport::async_masters::AsyncMasters::new(
            masters,
            settings.timing.master_timeout,
        )?;
        Ok(crate::aio::NextId::new(settings, masters))
    }

    fn validate(self) -> Result<(Settings, Vec<Master>)> {
        if self.master_timeout.is_zero() {
            return Err(Error::InvalidArgument {
                argument: "master_timeout",
                problem: "must be greater than zero",
            });
        }
        let settings = Settings {
            key: format!("nextid:{}", self.name),
            timing: Timing {
                master_timeout: self.master_timeout,
                deadline: self.deadline,
                retry_delay: self.retry_delay,
            },
        };
        Ok((settings, with_builder_mode(self.masters, self.mode)))
    }
}

/// What the builder hands to both flavours.
pub(crate) struct Settings {
    pub(crate) key: String,
    pub(crate) timing: Timing,
}

/// The time limits of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) master_timeout: Duration,
    pub(crate) deadline: Duration,
    pub(crate) retry_delay: Duration,
}

impl Timing {
    /// The pause before the next attempt of a call that started at `start`, or `None` when the
    /// next attempt would start after the deadline.
    ///
    /// An attempt that was merely `overtaken` (another client already claimed above it, so the
    /// new proposal is based on fresh values) retries at once: a client that paused there would
    /// keep losing to clients that do not. Any other failure (a split vote between clients that
    /// proposed the same value, errors, timeouts) waits a random jitter in `0..retry_delay`.
    pub(crate) fn pause_before_retry(&self, start: Instant, overtaken: bool) -> Option<Duration> {
        let pause = if overtaken || self.retry_delay.is_zero() {
            Duration::ZERO
        } else {
            rand::rng().random_range(Duration::ZERO..self.retry_delay)
        };
        let next_attempt = Instant::now().checked_add(pause)?;
        (next_attempt < start.checked_add(self.deadline)?).then_some(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_below_the_retry_delay_and_stop_at_the_deadline() {
        let timing = Timing {
            master_timeout: Duration::from_millis(10),
            deadline: Duration::from_secs(60),
            retry_delay: Duration::from_millis(10),
        };
        let start = Instant::now();
        for _ in 0..100 {
            let pause = timing.pause_before_retry(start, false);
            assert!(pause.is_some_and(|pause| pause < timing.retry_delay));
        }
        let no_delay = Timing {
            retry_delay: Duration::ZERO,
            ..timing
        };
        assert_eq!(
            no_delay.pause_before_retry(start, false),
            Some(Duration::ZERO)
        );
        assert_eq!(timing.pause_before_retry(start, true), Some(Duration::ZERO));
        let past = Timing {
            deadline: Duration::ZERO,
            ..timing
        };
        assert_eq!(past.pause_before_retry(start, true), None);
    }
}
