//! Distributed, monotonically increasing IDs over one or more Redis masters ([`NextId`]), and
//! the builder shared with its async twin [`AsyncNextId`](crate::AsyncNextId).

use std::fmt;
use std::ops::{ControlFlow, RangeInclusive};
use std::time::{Duration, Instant};

use rand::Rng;
use redis::Value;

use crate::error::{Error, Result, Unavailable};
use crate::transport::master::Master;
use crate::transport::quorum::{SyncMasters, Tally};
use crate::transport::resp::{self, Arg};

/// The claim command's name, in replies and errors.
pub(crate) const CLAIM: &str = "POTTERY.NEXTID.CLAIM";
/// Default per-master timeout.
const DEFAULT_MASTER_TIMEOUT: Duration = Duration::from_millis(100);
/// Default per-call deadline.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(1);
/// Default upper bound of the random pause between two attempts.
const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(10);

/// Builds a [`NextId`] or an [`AsyncNextId`](crate::AsyncNextId); made by [`NextId::builder`].
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

    /// Builds an [`AsyncNextId`](crate::AsyncNextId) for tokio. Same checks as
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
    pub async fn build_async(self) -> Result<crate::AsyncNextId> {
        let (settings, masters) = self.validate()?;
        let masters =
            crate::transport::quorum::AsyncMasters::new(masters, settings.timing.master_timeout)?;
        Ok(crate::AsyncNextId::new(settings, masters))
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
        Ok((settings, self.masters))
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

/// What one master said to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// `[1, value]`: the master stored `value`.
    Granted(i64),
    /// `[0, current]`: the master kept `current`.
    Refused(i64),
}

/// Decodes a `POTTERY.NEXTID.CLAIM` reply.
pub(crate) fn parse_claim(reply: Value) -> Result<Claim> {
    match reply {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(1), Value::Int(value)] => Ok(Claim::Granted(*value)),
            [Value::Int(0), Value::Int(current)] => Ok(Claim::Refused(*current)),
            _ => Err(Error::UnexpectedReply { command: CLAIM }),
        },
        Value::ServerError(error) => Err(Error::Redis(error.into())),
        _ => Err(Error::UnexpectedReply { command: CLAIM }),
    }
}

/// The client side of the protocol, shared by the sync and async types: the last value known
/// and one attempt's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sequence {
    /// The highest counter this client knows some master holds (0 at first and after reset).
    last: i64,
}

impl Sequence {
    /// The block of `count` IDs to propose next: `first..=value`.
    pub(crate) fn propose(&self, count: usize) -> Result<Proposal> {
        if count == 0 {
            return Err(Error::InvalidArgument {
                argument: "n",
                problem: "must be at least 1",
            });
        }
        let first = self.last.max(0).checked_add(1).ok_or(Error::Overflow)?;
        let extra = i64::try_from(count - 1).map_err(|_| Error::Overflow)?;
        let value = first.checked_add(extra).ok_or(Error::Overflow)?;
        Ok(Proposal { first, value })
    }

    /// Learns from a finished attempt: the next proposal starts above everything seen.
    pub(crate) fn learn(&mut self, attempt: &Attempt) {
        self.last = self.last.max(attempt.highest_seen);
    }

    pub(crate) fn reset(&mut self) {
        self.last = 0;
    }
}

/// The block one attempt claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub(crate) first: i64,
    pub(crate) value: i64,
}

impl Proposal {
    /// Packs `POTTERY.NEXTID.CLAIM key value [FROM first]` into `buffer`.
    pub(crate) fn pack(&self, key: &str, buffer: &mut Vec<u8>) {
        if self.first == self.value {
            resp::pack(
                buffer,
                &[
                    Arg::Bytes(CLAIM.as_bytes()),
                    Arg::Bytes(key.as_bytes()),
                    Arg::Int(self.value),
                ],
            );
        } else {
            resp::pack(
                buffer,
                &[
                    Arg::Bytes(CLAIM.as_bytes()),
                    Arg::Bytes(key.as_bytes()),
                    Arg::Int(self.value),
                    Arg::Bytes(b"FROM"),
                    Arg::Int(self.first),
                ],
            );
        }
    }

    /// The same command as a `redis::Cmd`, for the async connections.
    pub(crate) fn command(&self, key: &str) -> redis::Cmd {
        let mut command = redis::cmd(CLAIM);
        command.arg(key).arg(self.value);
        if self.first != self.value {
            command.arg("FROM").arg(self.first);
        }
        command
    }
}

/// One attempt: the masters' answers to one proposal.
#[derive(Debug)]
pub(crate) struct Attempt {
    proposal: Proposal,
    tally: Tally,
    /// max(proposed value, every current a master reported).
    highest_seen: i64,
    /// A master refused with a current that this client did not claim: another client is
    /// ahead, not merely this client's own earlier claim (which would be exactly the value).
    overtaken: bool,
    /// Failures that every retry would repeat (`WRONGTYPE`, unknown command...).
    permanent_failures: usize,
    first_permanent: Option<Error>,
    last_error: Option<Error>,
}

impl Attempt {
    /// A new attempt; `earlier_error` is the error the call's previous attempts reported, kept
    /// unless this attempt sees a more useful one.
    pub(crate) fn new(proposal: Proposal, masters: usize, earlier_error: Option<Error>) -> Self {
        Self {
            proposal,
            tally: Tally::majority(masters),
            highest_seen: proposal.value,
            overtaken: false,
            permanent_failures: 0,
            first_permanent: None,
            last_error: earlier_error,
        }
    }

    /// Records one master's reply; `Break` once the attempt's outcome is certain.
    pub(crate) fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply.and_then(parse_claim) {
            Ok(Claim::Granted(value)) if value == self.proposal.value => self.tally.grant(),
            Ok(Claim::Granted(value)) => {
                // Not what was proposed: a server speaking another protocol version.
                self.highest_seen = self.highest_seen.max(value);
                self.failed(Error::UnexpectedReply { command: CLAIM });
            }
            Ok(Claim::Refused(current)) => {
                self.highest_seen = self.highest_seen.max(current);
                self.overtaken |= current != self.proposal.value;
                self.tally.fail();
            }
            Err(error) => self.failed(error),
        }
        self.tally.flow()
    }

    fn failed(&mut self, error: Error) {
        self.tally.fail();
        if !error.is_transient() {
            self.permanent_failures += 1;
            if self.first_permanent.is_none() {
                self.first_permanent = Some(error);
                return;
            }
        }
        keep_informative(&mut self.last_error, error);
    }

    /// The last error worth reporting, to carry into the next attempt of the same call.
    pub(crate) fn take_last_error(&mut self) -> Option<Error> {
        self.last_error
            .take()
            .or_else(|| self.first_permanent.take())
    }

    /// The attempt's result: the block, a final error, or `Err(None)` to retry.
    pub(crate) fn outcome(&mut self) -> Result<RangeInclusive<i64>, Option<Error>> {
        if self.tally.succeeded() {
            return Ok(self.proposal.first..=self.proposal.value);
        }
        // When errors that retrying would repeat leave too few masters for a quorum, say so
        // now instead of retrying until the deadline.
        let others = self.tally.masters() - self.tally.needed();
        if self.permanent_failures > others {
            return Err(self.first_permanent.take());
        }
        Err(None)
    }

    /// Another client is ahead: retrying at once with the values learned is worthwhile.
    pub(crate) fn overtaken(&self) -> bool {
        self.overtaken
    }

    /// The error to give up with at the deadline.
    pub(crate) fn into_error(self) -> Error {
        Error::QuorumNotAchieved {
            granted: self.tally.granted(),
            quorum: self.tally.needed(),
            masters: self.tally.masters(),
            last_error: self.last_error.or(self.first_permanent).map(Box::new),
        }
    }
}

/// Keeps the most useful per-master error: the newest, except that "waiting for a backoff"
/// never hides the failure that started the backoff.
fn keep_informative(kept: &mut Option<Error>, new: Error) {
    let is_backoff = |error: &Error| {
        matches!(
            error,
            Error::MasterUnavailable {
                reason: Unavailable::Backoff,
                ..
            }
        )
    };
    if !is_backoff(&new) || kept.as_ref().is_none_or(is_backoff) {
        *kept = Some(new);
    }
}

/// A reset's bookkeeping: every master must delete the key.
#[derive(Debug)]
pub(crate) struct Reset {
    tally: Tally,
    last_error: Option<Error>,
}

impl Reset {
    pub(crate) fn new(masters: usize) -> Self {
        Self {
            tally: Tally::needing(masters, masters),
            last_error: None,
        }
    }

    /// Records one master's reply to `DEL`; never stops early, so every master gets the DEL.
    pub(crate) fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(_)) => self.tally.grant(),
            Ok(Value::ServerError(error)) => {
                self.tally.fail();
                keep_informative(&mut self.last_error, Error::Redis(error.into()));
            }
            Ok(_) => {
                self.tally.fail();
                keep_informative(
                    &mut self.last_error,
                    Error::UnexpectedReply { command: "DEL" },
                );
            }
            Err(error) => {
                self.tally.fail();
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }

    pub(crate) fn finish(self) -> Result<()> {
        if self.tally.succeeded() {
            Ok(())
        } else {
            Err(Error::QuorumNotAchieved {
                granted: self.tally.granted(),
                quorum: self.tally.needed(),
                masters: self.tally.masters(),
                last_error: self.last_error.map(Box::new),
            })
        }
    }
}

/// A distributed sequence of unique, increasing `i64` IDs, agreed by a majority of Redis
/// masters with the pottery module loaded (sync).
///
/// Built with [`NextId::builder`]; see [Protocol](#protocol) below for how IDs are agreed and
/// what the masters must guarantee. IDs start at 1 and increase across completed calls, by any client
/// of the same key, but are not gap-free: a failed attempt burns its proposal.
///
/// `NextId` is also an endless [`Iterator`] of `Result<i64>`. Calls take `&mut self`; to share
/// one between threads, wrap it in a `Mutex` (or give each thread its own: they coordinate
/// through the masters).
///
/// # Protocol
///
/// Each master stores a decimal counter at `nextid:<name>` and runs
/// `POTTERY.NEXTID.CLAIM key value [FROM first]`, which stores `value` only if the whole block
/// `first..=value` lies above the stored counter and replies `[1, value]` or `[0, current]`.
/// With n masters and q = floor(n/2) + 1:
///
/// 1. propose p = max(last known, 0) + 1 (for a block of k IDs: first = p, value = p + k - 1);
/// 2. send the claim to every master in parallel, each with the per-master timeout;
/// 3. as soon as q masters replied `[1, value]`, hand out `p..=value`;
/// 4. otherwise next proposal = max(value, every current seen) + 1 — never the same p again,
///    because a `[0, p]` may be this client's own earlier claim that timed out — and retry
///    until the call's deadline: at once if a master showed that another client is ahead (the
///    new proposal is fresh), else after a random jitter in `0..retry_delay` (two clients that
///    split the masters with the same proposal, or failing masters).
///
/// Two completed calls always got their majorities from sets of masters that share at least one
/// master, which stored the first block and refused anything not above it: IDs are unique and
/// increase across completed calls, whichever client makes them. Python pottery 3.0.1's `NextID`
/// stores the same counter at the same key and claims with "set if greater", so Python and Rust
/// services can draw from one sequence.
///
/// The masters must persist every write (`appendonly yes`, `appendfsync always`) and must not
/// fail over to asynchronous replicas: a master that comes back with an older counter can let a
/// duplicate through.
///
/// # Example
///
/// ```no_run
/// let mut ids = pottery::NextId::builder()
///     .name("orders")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .build()?;
/// let id = ids.next_id()?;
/// let block = ids.next_ids(100)?;
/// assert!(*block.start() > id);
/// for id in ids.by_ref().take(3) {
///     println!("{}", id?);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct NextId {
    key: String,
    timing: Timing,
    masters: SyncMasters,
    sequence: Sequence,
    /// The packed claim, reused from call to call.
    packed: Vec<u8>,
    /// `DEL key`, packed once.
    packed_delete: Vec<u8>,
}

impl fmt::Debug for NextId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NextId")
            .field("key", &self.key)
            .field("masters", &self.masters.len())
            .field("timing", &self.timing)
            .field("last", &self.sequence.last)
            .finish()
    }
}

impl NextId {
    /// Starts a [`NextIdBuilder`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// println!("{}", ids.next_id()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn builder() -> NextIdBuilder {
        NextIdBuilder::default()
    }

    fn new(settings: Settings, masters: SyncMasters) -> Self {
        let mut packed_delete = Vec::new();
        resp::pack(
            &mut packed_delete,
            &[Arg::Bytes(b"DEL"), Arg::Bytes(settings.key.as_bytes())],
        );
        Self {
            key: settings.key,
            timing: settings.timing,
            masters,
            sequence: Sequence::default(),
            packed: Vec::with_capacity(64),
            packed_delete,
        }
    }

    /// The key on every master: `nextid:<name>`.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(ids.key(), "nextid:current");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The number of masters configured.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(ids.masters(), 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn masters(&self) -> usize {
        self.masters.len()
    }

    /// The number of masters that must agree on each ID: floor(masters / 2) + 1.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder()
    ///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
    ///     .build()?;
    /// assert_eq!(ids.quorum(), 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn quorum(&self) -> usize {
        crate::transport::quorum::majority(self.masters.len())
    }

    /// Returns the next ID.
    ///
    /// Errors: [`Error::QuorumNotAchieved`] when no majority agreed before the deadline;
    /// [`Error::Overflow`] once the sequence reached `i64::MAX`; [`Error::Redis`] at once when
    /// so many masters answer with an error that retrying cannot help (`WRONGTYPE` because the
    /// key holds another type, an unknown command because the module is not loaded).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// let first = ids.next_id()?;
    /// let second = ids.next_id()?;
    /// assert!(second > first);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn next_id(&mut self) -> Result<i64> {
        self.claim(1).map(|block| *block.start())
    }

    /// Claims a block of `n` consecutive IDs in one round trip and returns it. The whole block
    /// is above every ID handed out before, by any client, and no other client gets any ID in
    /// it. `n` must be at least 1 ([`Error::InvalidArgument`]); a block that would pass
    /// `i64::MAX` is [`Error::Overflow`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// let block = ids.next_ids(100)?;
    /// assert_eq!(block.clone().count(), 100);
    /// for id in block {
    ///     // use id
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn next_ids(&mut self, n: usize) -> Result<RangeInclusive<i64>> {
        self.claim(n)
    }

    /// Deletes the counter on every master, so the sequence starts again at 1, and forgets the
    /// last ID this client knew.
    ///
    /// Needs every master: if any master fails, the error is [`Error::QuorumNotAchieved`] with
    /// `quorum` equal to the number of masters (the masters that answered did delete the key).
    /// Not linearizable with concurrent calls: IDs handed out around a reset may repeat IDs
    /// from before it. Use it when nothing else uses the sequence (tests, maintenance).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// ids.reset()?;
    /// assert_eq!(ids.next_id()?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn reset(&mut self) -> Result<()> {
        let mut reset = Reset::new(self.masters.len());
        self.masters
            .round(&self.packed_delete, |_, reply| reset.record(reply));
        reset.finish()?;
        self.sequence.reset();
        Ok(())
    }

    fn claim(&mut self, count: usize) -> Result<RangeInclusive<i64>> {
        let start = Instant::now();
        let mut earlier_error = None;
        loop {
            let proposal = self.sequence.propose(count)?;
            proposal.pack(&self.key, &mut self.packed);
            let mut attempt = Attempt::new(proposal, self.masters.len(), earlier_error.take());
            self.masters
                .round(&self.packed, |_, reply| attempt.record(reply));
            self.sequence.learn(&attempt);
            match attempt.outcome() {
                Ok(block) => return Ok(block),
                Err(Some(error)) => return Err(error),
                Err(None) => {}
            }
            match self.timing.pause_before_retry(start, attempt.overtaken()) {
                Some(pause) => std::thread::sleep(pause),
                None => return Err(attempt.into_error()),
            }
            earlier_error = attempt.take_last_error();
        }
    }
}

/// An endless sequence of [`NextId::next_id`] results.
///
/// # Example
///
/// ```no_run
/// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
/// let three: Vec<i64> = ids.by_ref().take(3).collect::<Result<_, _>>()?;
/// assert!(three.windows(2).all(|pair| pair[0] < pair[1]));
/// # Ok::<(), pottery::Error>(())
/// ```
impl Iterator for NextId {
    type Item = Result<i64>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(resp: &[u8]) -> Value {
        match redis::parse_redis_value(resp) {
            Ok(value) => value,
            Err(error) => panic!("bad test reply: {error}"),
        }
    }

    #[test]
    fn parses_claim_replies() {
        assert_eq!(
            parse_claim(reply(b"*2\r\n:1\r\n:42\r\n")).ok(),
            Some(Claim::Granted(42))
        );
        assert_eq!(
            parse_claim(reply(b"*2\r\n:0\r\n:-7\r\n")).ok(),
            Some(Claim::Refused(-7))
        );
        let wrongtype = parse_claim(reply(b"-WRONGTYPE Operation against a key\r\n"));
        assert!(
            matches!(&wrongtype, Err(Error::Redis(error)) if error.code() == Some("WRONGTYPE"))
        );
        for odd in [
            &b":1\r\n"[..],
            b"*2\r\n:2\r\n:1\r\n",
            b"*1\r\n:1\r\n",
            b"*2\r\n:1\r\n$2\r\n42\r\n",
            b"$-1\r\n",
        ] {
            assert!(matches!(
                parse_claim(reply(odd)),
                Err(Error::UnexpectedReply { command: CLAIM })
            ));
        }
    }

    #[test]
    fn proposals_start_above_the_last_known_value() {
        let mut sequence = Sequence::default();
        assert_eq!(
            sequence.propose(1).ok(),
            Some(Proposal { first: 1, value: 1 })
        );
        assert_eq!(
            sequence.propose(100).ok(),
            Some(Proposal {
                first: 1,
                value: 100
            })
        );
        assert!(matches!(
            sequence.propose(0),
            Err(Error::InvalidArgument { argument: "n", .. })
        ));
        sequence.last = -5;
        assert_eq!(sequence.propose(1).ok().map(|p| p.first), Some(1));
        sequence.last = i64::MAX - 1;
        assert_eq!(
            sequence.propose(1).ok(),
            Some(Proposal {
                first: i64::MAX,
                value: i64::MAX
            })
        );
        assert!(matches!(sequence.propose(2), Err(Error::Overflow)));
        sequence.last = i64::MAX;
        assert!(matches!(sequence.propose(1), Err(Error::Overflow)));
        sequence.last = 0;
        assert!(matches!(sequence.propose(usize::MAX), Err(Error::Overflow)));
    }

    fn granted(value: i64) -> Result<Value> {
        Ok(Value::Array(vec![Value::Int(1), Value::Int(value)]))
    }

    fn refused(current: i64) -> Result<Value> {
        Ok(Value::Array(vec![Value::Int(0), Value::Int(current)]))
    }

    #[test]
    fn a_majority_of_grants_wins_and_stops_the_round() {
        let proposal = Proposal {
            first: 11,
            value: 20,
        };
        let mut attempt = Attempt::new(proposal, 5, None);
        assert!(attempt.record(granted(20)).is_continue());
        assert!(attempt.record(refused(30)).is_continue());
        assert!(attempt
            .record(Err(Error::Timeout {
                master: 2,
                timeout: Duration::from_millis(5)
            }))
            .is_continue());
        assert!(attempt.record(granted(20)).is_continue());
        assert!(attempt.record(granted(20)).is_break());
        assert_eq!(attempt.outcome().ok(), Some(11..=20));
        assert!(attempt.overtaken());
        let mut sequence = Sequence::default();
        sequence.learn(&attempt);
        // The refusal showed 30 somewhere: the next proposal goes above it.
        assert_eq!(sequence.propose(1).ok().map(|p| p.first), Some(31));
    }

    #[test]
    fn a_refusal_of_our_own_value_never_leads_to_reproposing_it() {
        // Our earlier claim of 5 timed out but landed: the masters now say [0, 5].
        let mut sequence = Sequence { last: 4 };
        let Ok(proposal) = sequence.propose(1) else {
            panic!("no overflow here");
        };
        assert_eq!(proposal.value, 5);
        let mut attempt = Attempt::new(proposal, 3, None);
        assert!(attempt.record(refused(5)).is_continue());
        assert!(attempt.record(refused(5)).is_break());
        assert!(matches!(attempt.outcome(), Err(None)));
        // Maybe our own claim, maybe a competitor's with the same value: not known to be behind.
        assert!(!attempt.overtaken());
        sequence.learn(&attempt);
        assert_eq!(sequence.propose(1).ok().map(|p| p.value), Some(6));

        // Even when every master failed without saying anything, the proposal moves on.
        let mut attempt = Attempt::new(Proposal { first: 6, value: 6 }, 1, None);
        assert!(attempt
            .record(Err(Error::Timeout {
                master: 0,
                timeout: Duration::from_millis(5)
            }))
            .is_break());
        sequence.learn(&attempt);
        assert_eq!(sequence.propose(1).ok().map(|p| p.value), Some(7));
        let Error::QuorumNotAchieved {
            granted,
            quorum,
            masters,
            last_error,
        } = attempt.into_error()
        else {
            panic!("wrong error");
        };
        assert_eq!((granted, quorum, masters), (0, 1, 1));
        assert!(matches!(
            last_error.as_deref(),
            Some(Error::Timeout { master: 0, .. })
        ));
    }

    #[test]
    fn errors_that_would_repeat_fail_fast_only_without_a_possible_quorum() {
        let wrongtype = || Ok(reply(b"-WRONGTYPE Operation against a key\r\n"));
        let proposal = Proposal { first: 1, value: 1 };

        // One bad master of three: retrying can still reach a quorum.
        let mut attempt = Attempt::new(proposal, 3, None);
        let _ = attempt.record(wrongtype());
        let _ = attempt.record(refused(9));
        assert!(matches!(attempt.outcome(), Err(None)));

        // Two of three: no retry can succeed.
        let mut attempt = Attempt::new(proposal, 3, None);
        let _ = attempt.record(wrongtype());
        assert!(attempt.record(wrongtype()).is_break());
        assert!(matches!(
            attempt.outcome(),
            Err(Some(Error::Redis(ref error))) if error.code() == Some("WRONGTYPE")
        ));

        // A grant of another value is a protocol mismatch, not a grant.
        let mut attempt = Attempt::new(proposal, 1, None);
        assert!(attempt.record(granted(2)).is_break());
        assert!(matches!(
            attempt.outcome(),
            Err(Some(Error::UnexpectedReply { .. }))
        ));
    }

    #[test]
    fn a_backoff_never_hides_the_failure_that_caused_it() {
        let timeout = || Error::Timeout {
            master: 0,
            timeout: Duration::from_millis(5),
        };
        let backoff = || Error::MasterUnavailable {
            master: 0,
            reason: Unavailable::Backoff,
        };
        let proposal = Proposal { first: 1, value: 1 };
        let mut first = Attempt::new(proposal, 1, None);
        let _ = first.record(Err(timeout()));
        let mut second = Attempt::new(proposal, 1, first.take_last_error());
        let _ = second.record(Err(backoff()));
        let Error::QuorumNotAchieved { last_error, .. } = second.into_error() else {
            panic!("wrong error");
        };
        assert!(matches!(last_error.as_deref(), Some(Error::Timeout { .. })));

        let mut only_backoff = Attempt::new(proposal, 1, None);
        let _ = only_backoff.record(Err(backoff()));
        assert!(matches!(
            only_backoff.take_last_error(),
            Some(Error::MasterUnavailable { .. })
        ));
    }

    #[test]
    fn reset_needs_every_master() {
        let mut reset = Reset::new(3);
        assert!(reset.record(Ok(Value::Int(1))).is_continue());
        assert!(reset.record(Ok(Value::Int(0))).is_continue());
        assert!(reset.finish().is_err_and(|error| matches!(
            error,
            Error::QuorumNotAchieved {
                granted: 2,
                quorum: 3,
                masters: 3,
                last_error: None
            }
        )));
        let mut reset = Reset::new(2);
        let _ = reset.record(Ok(Value::Int(1)));
        let _ = reset.record(Ok(Value::Int(1)));
        assert!(reset.finish().is_ok());
    }

    #[test]
    fn claims_pack_with_from_only_for_blocks() {
        let mut buffer = Vec::new();
        let single = Proposal { first: 7, value: 7 };
        single.pack("nextid:x", &mut buffer);
        assert_eq!(buffer, single.command("nextid:x").get_packed_command());
        assert_eq!(
            buffer,
            redis::cmd(CLAIM)
                .arg("nextid:x")
                .arg(7)
                .get_packed_command()
        );
        let block = Proposal { first: 7, value: 9 };
        block.pack("nextid:x", &mut buffer);
        assert_eq!(
            buffer,
            redis::cmd(CLAIM)
                .arg("nextid:x")
                .arg(9)
                .arg("FROM")
                .arg(7)
                .get_packed_command()
        );
        assert_eq!(buffer, block.command("nextid:x").get_packed_command());
    }

    #[test]
    fn builder_validates_without_connecting() {
        let ids = NextId::builder()
            .masters(["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"])
            .master("redis://127.0.0.1:3/")
            .name("orders")
            .build();
        let Ok(ids) = ids else {
            panic!("building connects nothing, so unreachable masters are fine");
        };
        assert_eq!(ids.key(), "nextid:orders");
        assert_eq!((ids.masters(), ids.quorum()), (3, 2));

        assert!(matches!(
            NextId::builder().build(),
            Err(Error::InvalidArgument {
                argument: "masters",
                ..
            })
        ));
        assert!(matches!(
            NextId::builder()
                .master("redis://127.0.0.1/")
                .master_timeout(Duration::ZERO)
                .build(),
            Err(Error::InvalidArgument {
                argument: "master_timeout",
                ..
            })
        ));
        assert!(matches!(
            NextId::builder().master("no scheme").build(),
            Err(Error::Redis(_))
        ));
        // `masters` replaces, `master` appends.
        let Ok(ids) = NextId::builder()
            .master("redis://127.0.0.1:1/")
            .masters(["redis://127.0.0.1:2/"])
            .build()
        else {
            panic!("valid");
        };
        assert_eq!(ids.masters(), 1);
    }

    #[test]
    fn unreachable_masters_give_quorum_not_achieved_by_the_deadline() {
        let Ok(mut ids) = NextId::builder()
            .masters(["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"])
            .deadline(Duration::from_millis(30))
            .retry_delay(Duration::from_millis(5))
            .build()
        else {
            panic!("valid");
        };
        let start = Instant::now();
        let error = ids.next_id();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            error,
            Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                masters: 2,
                last_error: Some(_)
            })
        ));
        assert!(matches!(
            ids.next_ids(0),
            Err(Error::InvalidArgument { argument: "n", .. })
        ));
        assert!(matches!(
            ids.reset(),
            Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                ..
            })
        ));
    }

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
