//! How a master is specified ([`Master`]) and how its connection is opened, used and reopened.
//!
//! A master given as something `pottery` can reconnect with (a URL, a `redis::ConnectionInfo`, a
//! `redis::Client`) is connected lazily, on first use, and reconnected lazily after a failure. A
//! master given as an already open connection is used as is; once it breaks it stays broken
//! ([`Unavailable::ConnectionBroken`]).
//!
//! After a failed connect, a timeout, or a failure of a connection that never answered, the
//! master enters a backoff (50 ms, doubling up to 2 s, reset by the next reply) during which it
//! is reported unavailable without being tried, so that a dead or paused master does not cost a
//! connect timeout on every call. A connection that answered before and then breaks with an I/O
//! error (the server restarted) is reconnected at once.

use std::fmt;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Connection, ConnectionInfo, Value};

use crate::error::{Error, Result, Unavailable};

/// First delay before reconnecting to a master that failed.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
/// Longest delay before reconnecting to a master that keeps failing.
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Shortest read timeout: replies already buffered are still collected after a round's time is
/// up, and a zero timeout is an error for sockets.
const MIN_READ_TIMEOUT: Duration = Duration::from_millis(1);

/// One Redis master, as given to a builder such as [`NextIdBuilder::masters`](crate::NextIdBuilder::masters).
///
/// Built with `From`/`Into` from:
/// - a URL (`&str`, `String`), parsed when the builder's `build` runs;
/// - a [`redis::ConnectionInfo`] or a [`redis::Client`];
/// - an already open [`redis::Connection`] (sync types only) or
///   [`redis::aio::MultiplexedConnection`] (async types only). `pottery` takes it over, sets its
///   timeouts, and cannot reopen it if it breaks ([`Unavailable::ConnectionBroken`]).
///
/// The first three are connected on first use and reconnected after failures, with the
/// per-master timeout as connect timeout and a short backoff after a failure
/// ([`Unavailable::Backoff`]). These connections skip `CLIENT SETINFO` (the library name shown
/// by `CLIENT LIST`): the redis crate would wait a full timeout for each of its replies, which
/// makes a connect to a paused master last several timeouts, and it costs a round trip.
///
/// # Example
///
/// ```no_run
/// use pottery::Master;
///
/// let client = redis::Client::open("redis://10.0.0.2:6379/")?;
/// let masters: Vec<Master> = vec![
///     "redis://10.0.0.1:6379/".into(),
///     client.into(),
///     redis::Client::open("redis://10.0.0.3:6379/")?.get_connection()?.into(),
/// ];
/// let ids = pottery::NextId::builder().masters(masters).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Master {
    source: Source,
}

enum Source {
    Url(String),
    Info(Box<ConnectionInfo>),
    Client(Client),
    Connection(Box<Connection>),
    Multiplexed(MultiplexedConnection),
}

impl fmt::Debug for Master {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a URL: it may carry a password.
        let kind = match &self.source {
            Source::Url(_) => "url",
            Source::Info(_) => "connection info",
            Source::Client(_) => "client",
            Source::Connection(_) => "open connection",
            Source::Multiplexed(_) => "open multiplexed connection",
        };
        formatter
            .debug_struct("Master")
            .field("kind", &kind)
            .finish()
    }
}

impl From<&str> for Master {
    fn from(url: &str) -> Self {
        Self {
            source: Source::Url(url.to_owned()),
        }
    }
}

impl From<String> for Master {
    fn from(url: String) -> Self {
        Self {
            source: Source::Url(url),
        }
    }
}

impl From<&String> for Master {
    fn from(url: &String) -> Self {
        Self::from(url.as_str())
    }
}

impl From<ConnectionInfo> for Master {
    fn from(info: ConnectionInfo) -> Self {
        Self {
            source: Source::Info(Box::new(info)),
        }
    }
}

impl From<Client> for Master {
    fn from(client: Client) -> Self {
        Self {
            source: Source::Client(client),
        }
    }
}

impl From<&Client> for Master {
    fn from(client: &Client) -> Self {
        Self::from(client.clone())
    }
}

impl From<Connection> for Master {
    fn from(connection: Connection) -> Self {
        Self {
            source: Source::Connection(Box::new(connection)),
        }
    }
}

impl From<MultiplexedConnection> for Master {
    fn from(connection: MultiplexedConnection) -> Self {
        Self {
            source: Source::Multiplexed(connection),
        }
    }
}

/// A client for `info` that skips `CLIENT SETINFO` after connecting.
///
/// The redis crate sends the library name and version as two extra commands when it connects
/// and waits the full connect timeout for *each* reply, so a paused master would hold a connect
/// for several timeouts. Skipping them also saves a round trip per connect; the only loss is the
/// library name in `CLIENT LIST`.
fn without_lib_name(info: &ConnectionInfo) -> Result<Client> {
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    Ok(Client::open(info.clone().set_redis_settings(settings))?)
}

/// How many replies the redis crate waits for, one after the other and each with the whole
/// timeout, while it opens a connection: the connect itself, then `HELLO` or `AUTH`, `SELECT`,
/// and `AUTH` again without the username on servers that reject it.
fn sequential_connect_waits(client: &Client) -> u32 {
    let settings = client.get_connection_info().redis_settings();
    let authenticates = settings.protocol().supports_resp3() || settings.password().is_some();
    let retries_auth = authenticates && settings.username().is_some();
    1 + u32::from(authenticates) + u32::from(settings.db() != 0) + u32::from(retries_auth)
}

/// What a master resolves to: something to (re)connect with, or an open connection.
enum Resolved {
    Reconnectable(Client),
    Open(Box<Connection>),
    OpenMultiplexed(MultiplexedConnection),
}

impl Master {
    fn resolve(self) -> Result<Resolved> {
        Ok(match self.source {
            Source::Url(url) => Resolved::Reconnectable(without_lib_name(
                Client::open(url.as_str())?.get_connection_info(),
            )?),
            Source::Info(info) => Resolved::Reconnectable(without_lib_name(&info)?),
            Source::Client(client) => {
                Resolved::Reconnectable(without_lib_name(client.get_connection_info())?)
            }
            Source::Connection(connection) => Resolved::Open(connection),
            Source::Multiplexed(connection) => Resolved::OpenMultiplexed(connection),
        })
    }

    /// Turns the specification into the sync connection slot of master number `index`.
    pub(crate) fn into_sync(self, index: usize, timeout: Duration) -> Result<SyncMaster> {
        let (reopen, connection) = match self.resolve()? {
            Resolved::Reconnectable(client) => (Some(client), None),
            Resolved::Open(connection) => {
                connection.set_write_timeout(Some(timeout))?;
                (None, Some(connection))
            }
            Resolved::OpenMultiplexed(_) => {
                return Err(Error::InvalidArgument {
                    argument: "masters",
                    problem: "an async redis::aio::MultiplexedConnection cannot serve a sync type",
                })
            }
        };
        Ok(SyncMaster {
            index,
            timeout,
            reopen,
            connection,
            read_timeout: None,
            unread: 0,
            awaiting: false,
            in_round: false,
            proven: true,
            backoff: Backoff::default(),
        })
    }

    /// Turns the specification into the async connection slot of master number `index`.
    pub(crate) fn into_async(self, index: usize, timeout: Duration) -> Result<AsyncMaster> {
        let (reopen, connection) = match self.resolve()? {
            Resolved::Reconnectable(client) => (Some(client), None),
            Resolved::OpenMultiplexed(mut connection) => {
                connection.set_response_timeout(timeout);
                (None, Some(connection))
            }
            Resolved::Open(_) => {
                return Err(Error::InvalidArgument {
                    argument: "masters",
                    problem: "a sync redis::Connection cannot serve an async type",
                })
            }
        };
        Ok(AsyncMaster {
            index,
            timeout,
            reopen,
            connection,
            connecting: None,
            backoff: Backoff::default(),
        })
    }
}

/// When a failing master may be tried again.
#[derive(Debug, Default)]
struct Backoff {
    /// `None` while the master is healthy.
    retry_at: Option<Instant>,
    /// The delay the next failure waits (zero: not failing).
    next_delay: Duration,
}

impl Backoff {
    fn allows(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|retry_at| now >= retry_at)
    }

    fn failed(&mut self, now: Instant) {
        let delay = if self.next_delay.is_zero() {
            BACKOFF_FIRST
        } else {
            self.next_delay
        };
        self.retry_at = Some(now + delay);
        self.next_delay = delay.saturating_mul(2).min(BACKOFF_MAX);
    }

    fn succeeded(&mut self) {
        self.retry_at = None;
        self.next_delay = Duration::ZERO;
    }
}

/// The sync connection to one master, with the bookkeeping the fan-out needs.
///
/// A request is written with [`send`](Self::send) and its reply read with
/// [`receive`](Self::receive). A fan-out that stops reading once the quorum is decided leaves
/// replies unread on the socket; `unread` counts them and the next `receive` skips them before
/// it returns the reply it wants, so no extra round trip is spent draining.
pub(crate) struct SyncMaster {
    index: usize,
    timeout: Duration,
    /// How to reopen the connection; `None` for a connection given open.
    reopen: Option<Client>,
    connection: Option<Box<Connection>>,
    /// The read timeout currently set on the socket, to skip redundant `setsockopt` calls.
    read_timeout: Option<Duration>,
    /// Replies sent for but not read yet, including the one `awaiting` stands for.
    unread: usize,
    /// A request of the current round waits for its reply.
    awaiting: bool,
    /// The current round already tried this master.
    pub(crate) in_round: bool,
    /// A reply arrived on this connection since it was opened: the master answers.
    proven: bool,
    backoff: Backoff,
}

/// In which of the round's read passes a master is read (see [`SyncMaster::read_pass`]).
pub(crate) const READ_PASSES: [u8; 3] = [0, 1, 2];

/// Stale replies a connection may hold before the fan-out reads it first to drain them.
const MAX_STALE_REPLIES: usize = 3;

impl SyncMaster {
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    pub(crate) fn is_awaiting(&self) -> bool {
        self.awaiting
    }

    /// When to read this master's reply in a round, lowest pass first. Reads are sequential, so
    /// the order decides who waits for whom:
    /// 0. masters with several stale replies (left unread because the quorum was decided
    ///    without them): read first, so a master that is merely last in line gets drained and
    ///    its backlog stays bounded, and one that stopped answering is found out (it times out,
    ///    is dropped and backs off);
    /// 1. masters known to answer, in their order;
    /// 2. masters whose connection has not answered yet (just reopened: maybe paused), read
    ///    last so that they rarely hold up a quorum the others already make.
    pub(crate) fn read_pass(&self) -> u8 {
        if self.unread > MAX_STALE_REPLIES + 1 {
            0
        } else if self.proven {
            1
        } else {
            2
        }
    }

    /// Stops waiting for this round's reply; it stays counted in `unread` and is skipped later.
    pub(crate) fn abandon(&mut self) {
        self.awaiting = false;
    }

    /// Writes `packed`, connecting first if needed with whatever time is left until `round_end`
    /// (at most the per-master timeout).
    pub(crate) fn send(&mut self, packed: &[u8], round_end: Instant) -> Result<()> {
        if self.connection.is_none() {
            self.connect(round_end)?;
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        match connection.send_packed_command(packed) {
            Ok(()) => {
                self.unread += 1;
                self.awaiting = true;
                Ok(())
            }
            Err(error) => Err(self.broke(error)),
        }
    }

    /// Reads the reply to this round's request, skipping replies left unread by earlier rounds.
    pub(crate) fn receive(&mut self, round_end: Instant) -> Result<Value> {
        self.awaiting = false;
        loop {
            let now = Instant::now();
            let wanted = round_end
                .saturating_duration_since(now)
                .max(MIN_READ_TIMEOUT);
            let Some(connection) = self.connection.as_mut() else {
                return Err(self.unavailable(Unavailable::ConnectionBroken));
            };
            // Changing the timeout is a system call: skip it when the one set is close enough.
            let slack = (self.timeout / 8).min(Duration::from_millis(1));
            if self
                .read_timeout
                .is_none_or(|current| current.abs_diff(wanted) > slack)
            {
                if let Err(error) = connection.set_read_timeout(Some(wanted)) {
                    return Err(self.broke(error));
                }
                self.read_timeout = Some(wanted);
            }
            match connection.recv_response() {
                Ok(value) => {
                    self.proven = true;
                    self.backoff.succeeded();
                    self.unread = self.unread.saturating_sub(1);
                    if self.unread == 0 {
                        return Ok(value);
                    }
                }
                Err(error) => return Err(self.broke(error)),
            }
        }
    }

    fn connect(&mut self, round_end: Instant) -> Result<()> {
        let now = Instant::now();
        let Some(client) = &self.reopen else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        if !self.backoff.allows(now) {
            return Err(self.unavailable(Unavailable::Backoff));
        }
        let budget = round_end.saturating_duration_since(now).min(self.timeout);
        // The redis crate applies the timeout to each step of the connect separately.
        let per_step = budget / sequential_connect_waits(client);
        if per_step.is_zero() {
            // No time left in this round; no attempt was made, so no backoff either.
            return Err(Error::Timeout {
                master: self.index,
                timeout: self.timeout,
            });
        }
        let opened = client
            .get_connection_with_timeout(per_step)
            .and_then(|connection| {
                connection.set_write_timeout(Some(self.timeout))?;
                connection.set_read_timeout(Some(self.timeout))?;
                Ok(connection)
            });
        match opened {
            Ok(connection) => {
                // The backoff is reset by the first reply, not here: a paused server still
                // accepts connections.
                self.connection = Some(Box::new(connection));
                self.read_timeout = Some(self.timeout);
                self.unread = 0;
                self.proven = false;
                Ok(())
            }
            Err(error) => {
                self.backoff.failed(Instant::now());
                Err(self.error(error))
            }
        }
    }

    /// Drops a connection whose state is unknown after `error` (a timeout may leave half a
    /// reply on the socket) and says when to try again.
    fn broke(&mut self, error: redis::RedisError) -> Error {
        self.connection = None;
        self.read_timeout = None;
        self.unread = 0;
        self.awaiting = false;
        if error.is_timeout() || !self.proven {
            // A paused or overloaded master, or one that never answered on this connection:
            // reconnecting at once would likely cost another timeout. (A proven connection
            // that breaks otherwise, as when the server restarts, is reopened at once.)
            self.backoff.failed(Instant::now());
        }
        self.error(error)
    }

    fn error(&self, error: redis::RedisError) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                master: self.index,
                timeout: self.timeout,
            }
        } else {
            Error::Redis(error)
        }
    }

    fn unavailable(&self, reason: Unavailable) -> Error {
        Error::MasterUnavailable {
            master: self.index,
            reason,
        }
    }
}

/// A connection attempt in progress, kept across calls so that a fan-out that stops early (its
/// quorum reached) does not throw away a half-made connection.
type Connecting = BoxFuture<'static, redis::RedisResult<MultiplexedConnection>>;

/// The async connection to one master: a multiplexed connection, (re)opened lazily.
pub(crate) struct AsyncMaster {
    index: usize,
    timeout: Duration,
    reopen: Option<Client>,
    connection: Option<MultiplexedConnection>,
    /// In a `Mutex` only so that `AsyncMaster` is `Sync` (a boxed future is not); it is only
    /// ever reached through `&mut self`, with `get_mut`, which never locks.
    connecting: Option<std::sync::Mutex<Connecting>>,
    backoff: Backoff,
}

impl AsyncMaster {
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Sends `command` and waits for its reply; the caller bounds the wait with the round's
    /// timeout (dropping this future mid-way leaves the multiplexed connection usable).
    pub(crate) async fn request(&mut self, command: &redis::Cmd) -> Result<Value> {
        if self.connection.is_none() {
            self.connect().await?;
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        match connection.send_packed_command(command).await {
            Ok(value) => {
                self.backoff.succeeded();
                Ok(value)
            }
            Err(error) => {
                if error.is_unrecoverable_error() {
                    // The multiplexer's socket is gone: reopen it on the next request.
                    self.connection = None;
                }
                Err(self.error(error))
            }
        }
    }

    async fn connect(&mut self) -> Result<()> {
        let Some(client) = &self.reopen else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        if self.connecting.is_none() {
            if !self.backoff.allows(Instant::now()) {
                return Err(self.unavailable(Unavailable::Backoff));
            }
            let client = client.clone();
            // redis 1.x times replies out after 500 ms unless told otherwise.
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.timeout))
                .set_response_timeout(Some(self.timeout));
            let connecting: Connecting = Box::pin(async move {
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
            });
            self.connecting = Some(std::sync::Mutex::new(connecting));
        }
        let Some(connecting) = self.connecting.as_mut() else {
            return Err(self.unavailable(Unavailable::Backoff));
        };
        let opened = connecting
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .await;
        self.connecting = None;
        match opened {
            Ok(connection) => {
                // The backoff is reset by the first reply: a paused server still accepts.
                self.connection = Some(connection);
                Ok(())
            }
            Err(error) => {
                self.backoff.failed(Instant::now());
                Err(self.error(error))
            }
        }
    }

    pub(crate) fn error(&self, error: redis::RedisError) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                master: self.index,
                timeout: self.timeout,
            }
        } else {
            Error::Redis(error)
        }
    }

    fn unavailable(&self, reason: Unavailable) -> Error {
        Error::MasterUnavailable {
            master: self.index,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let start = Instant::now();
        let mut backoff = Backoff::default();
        assert!(backoff.allows(start));
        backoff.failed(start);
        assert!(!backoff.allows(start));
        assert!(backoff.allows(start + BACKOFF_FIRST));
        let mut delays = Vec::new();
        for _ in 0..10 {
            backoff.failed(start);
            delays.push(backoff.retry_at.map(|at| at - start));
        }
        assert_eq!(delays[0], Some(BACKOFF_FIRST * 2));
        assert_eq!(delays[9], Some(BACKOFF_MAX));
        backoff.succeeded();
        assert!(backoff.allows(start));
        backoff.failed(start);
        assert_eq!(backoff.retry_at, Some(start + BACKOFF_FIRST));
    }

    #[test]
    fn urls_are_parsed_when_resolved() {
        let bad = Master::from("not a url").into_sync(0, Duration::from_millis(10));
        assert!(matches!(bad, Err(Error::Redis(_))));
        let good = Master::from("redis://127.0.0.1:1/").into_sync(3, Duration::from_millis(10));
        assert!(matches!(good, Ok(ref master) if master.index() == 3 && !master.is_connected()));
    }

    #[test]
    fn debug_never_shows_the_url() {
        let master = Master::from("redis://user:secret@127.0.0.1/");
        assert!(!format!("{master:?}").contains("secret"));
    }

    #[test]
    fn a_dead_master_backs_off_instead_of_reconnecting() {
        // Port 1 on loopback refuses at once: the first send fails with an I/O error, the next
        // one is refused by the backoff without a connect attempt.
        let Ok(mut master) =
            Master::from("redis://127.0.0.1:1/").into_sync(0, Duration::from_millis(50))
        else {
            panic!("valid url");
        };
        let round_end = Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            master.send(b"*1\r\n$4\r\nPING\r\n", round_end),
            Err(Error::Redis(_))
        ));
        assert!(matches!(
            master.send(b"*1\r\n$4\r\nPING\r\n", round_end),
            Err(Error::MasterUnavailable {
                master: 0,
                reason: Unavailable::Backoff
            })
        ));
    }
}
