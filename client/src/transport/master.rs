//! How a master is specified ([`Master`]) and how its connection is opened, used and reopened.
//!
//! A master given as something `pottery` can reconnect with (a URL, a `redis::ConnectionInfo`, a
//! `redis::Client`, a `redis::cluster::ClusterClient`) is connected lazily, on first use, and
//! reconnected lazily after a failure: the sync types over a socket of their own
//! ([`crate::transport::socket`]) where they can, else through the `redis` crate. A master given as an
//! already open connection is used as is; once it breaks it stays broken
//! ([`Unavailable::ConnectionBroken`]).
//!
//! After a failed connect, a timeout, or a failure of a connection that never answered, the
//! master enters a backoff (50 ms, doubling up to 2 s, reset by the next reply) during which it
//! is reported unavailable without being tried, so that a dead or paused master does not cost a
//! connect timeout on every call. A connection that answered before and then breaks with an I/O
//! error (the server restarted) is reconnected at once.

use std::fmt;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionLike as _, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterConfig, ClusterConnection};
use redis::ConnectionLike as _;
use redis::{AsyncConnectionConfig, Client, Connection, ConnectionInfo, Value};

use crate::error::{Error, Result, Unavailable};
use crate::transport::socket::{Endpoint, Socket};

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
///   timeouts, and cannot reopen it if it breaks ([`Unavailable::ConnectionBroken`]);
/// - a [`redis::cluster::ClusterClient`]: a whole Redis Cluster as *one* master (see
///   [`From<ClusterClient>`](#impl-From%3CClusterClient%3E-for-Master)).
///
/// The first three are connected on first use and reconnected after failures, with the
/// per-master timeout as connect timeout and a short backoff after a failure
/// ([`Unavailable::Backoff`]).
///
/// The sync types ([`NextId`](crate::NextId), [`Redlock`](crate::Redlock)) reach such a master
/// over a TCP or Unix socket of their own rather than a `redis::Connection`, so that one call
/// waits for all masters at once with `poll(2)` and goes on as soon as a majority answered.
/// They send `AUTH [username] password` and `SELECT db` themselves when the URL or connection
/// info asks for them (pipelined with the first command: no extra round trip), turn Nagle's
/// algorithm off, apply the TCP keepalive and user timeout settings, and always speak RESP2:
/// a RESP3 setting (`?protocol=resp3`) makes no difference to them. TLS masters (`rediss://`)
/// go through a `redis::Connection`, read one after another.
///
/// Connections opened through the `redis` crate (async types, TLS) skip `CLIENT SETINFO` (the
/// library name shown by `CLIENT LIST`): the redis crate would wait a full timeout for each of
/// its replies, which makes a connect to a paused master last several timeouts, and it costs a
/// round trip. Pottery's own sockets do not send it either.
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
    Cluster(Box<ClusterClient>),
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
            Source::Cluster(_) => "cluster client",
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

/// A Redis Cluster as one master: each command goes to the shard master that owns its key, and
/// the cluster's own replication stands in for independent masters.
///
/// The sync types open a `redis::cluster::ClusterConnection` from the client, the async types a
/// `redis::cluster_async::ClusterConnection`, with the per-master timeout as connection and
/// response timeout; the client's own settings (retries, redirects) apply beyond that. A cluster
/// cannot send a request in one step and read its reply in another, so its request runs whole
/// within the round, after the other masters' requests are on their way: a cluster master is
/// usually the only master.
///
/// **Safety**: DESIGN's safety assumption 4 (stated in the README) applies. NextId and Redlock
/// then rely on one shard master, which replicates asynchronously: if it fails over before its
/// replica received a claim or a lock, the promoted replica does not have it, so a lock can be
/// lost (another client acquires it while the first still holds it) and an ID handed out again.
/// Several independent masters (not replicas that fail over) avoid this. With Redlock's
/// fencing, the lock key and its fence counter must live in one slot: give the lock a name with
/// a hash tag, such as `{printer}`.
///
/// # Example
///
/// ```no_run
/// let cluster = redis::cluster::ClusterClient::new(vec![
///     "redis://10.0.0.1:7000/",
///     "redis://10.0.0.2:7000/",
///     "redis://10.0.0.3:7000/",
/// ])?;
/// let mut ids = pottery::NextId::builder().name("orders").master(cluster).build()?;
/// let id = ids.next_id()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl From<ClusterClient> for Master {
    fn from(client: ClusterClient) -> Self {
        Self {
            source: Source::Cluster(Box::new(client)),
        }
    }
}

impl From<&ClusterClient> for Master {
    fn from(client: &ClusterClient) -> Self {
        Self::from(client.clone())
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
    Cluster(Box<ClusterClient>),
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
            Source::Cluster(client) => Resolved::Cluster(client),
        })
    }

    /// Turns the specification into the sync connection slot of master number `index`.
    pub(crate) fn into_sync(self, index: usize, timeout: Duration) -> Result<SyncMaster> {
        let (reopen, link) = match self.resolve()? {
            Resolved::Reconnectable(client) => {
                let reopen = match Endpoint::for_info(client.get_connection_info()) {
                    Some(endpoint) => Reopen::Own(Box::new(endpoint)),
                    None => Reopen::Redis(Box::new(client)),
                };
                (Some(reopen), None)
            }
            Resolved::Open(connection) => {
                connection.set_write_timeout(Some(timeout))?;
                let link = Link::Redis {
                    connection,
                    read_timeout: None,
                };
                (None, Some(link))
            }
            Resolved::Cluster(client) => (Some(Reopen::Cluster(client)), None),
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
            link,
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
            Resolved::Reconnectable(client) => (Some(AsyncReopen::Client(Box::new(client))), None),
            Resolved::Cluster(client) => (Some(AsyncReopen::Cluster(client)), None),
            Resolved::OpenMultiplexed(mut connection) => {
                connection.set_response_timeout(timeout);
                (None, Some(AsyncLink::Multiplexed(connection)))
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

/// How a sync master's connection is reopened.
enum Reopen {
    /// With pottery's own socket ([`crate::transport::socket`]): plain TCP and Unix sockets.
    Own(Box<Endpoint>),
    /// With the `redis` crate, for what pottery does not do itself (TLS).
    Redis(Box<Client>),
    /// A Redis Cluster, as one master.
    Cluster(Box<ClusterClient>),
}

/// An open sync connection.
enum Link {
    /// Pottery's own socket: polled with the others, read without blocking.
    Own(Box<Socket>),
    /// A `redis::Connection`: read with a blocking read and a socket read timeout.
    Redis {
        connection: Box<Connection>,
        /// The read timeout currently set, to skip redundant `setsockopt` calls.
        read_timeout: Option<Duration>,
    },
    /// A Redis Cluster: each request is sent and its reply read in one call.
    Cluster(Box<ClusterConnection>),
}

/// How a round reads a master's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Polled with the other own sockets.
    Polled,
    /// With a blocking read, one master after another.
    Blocking,
    /// The whole request runs at once ([`SyncMaster::request`]).
    Request,
}

/// The sync connection to one master, with the bookkeeping the fan-out needs.
///
/// A request is written with [`send`](Self::send); its reply is read with
/// [`receive`](Self::receive) (blocking), or, on an own socket, with
/// [`read_available`](Self::read_available) once `poll` says the socket is readable. A fan-out
/// that stops reading once the quorum is decided leaves replies unread on the socket; `unread`
/// counts them and later reads skip them before the reply wanted, so no extra round trip is
/// spent draining.
pub(crate) struct SyncMaster {
    index: usize,
    timeout: Duration,
    /// How to reopen the connection; `None` for a connection given open.
    reopen: Option<Reopen>,
    link: Option<Link>,
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
        self.link.is_some()
    }

    pub(crate) fn is_awaiting(&self) -> bool {
        self.awaiting
    }

    /// How this round reads the master's reply.
    pub(crate) fn reading(&self) -> Reading {
        match &self.link {
            Some(Link::Own(_)) => Reading::Polled,
            Some(Link::Cluster(_)) => Reading::Request,
            _ => Reading::Blocking,
        }
    }

    /// The own socket to poll, when this master is connected through one.
    pub(crate) fn pollable(&self) -> Option<BorrowedFd<'_>> {
        match &self.link {
            Some(Link::Own(socket)) => Some(socket.fd()),
            _ => None,
        }
    }

    /// So many replies are left unread that this master must be read to the end of its
    /// backlog in this round, even once the outcome is decided.
    pub(crate) fn must_drain(&self) -> bool {
        self.unread > MAX_STALE_REPLIES + 1
    }

    /// When to read this master's reply in a round, lowest pass first, for masters read with
    /// blocking reads (a `redis::Connection`). Those reads are sequential, so the order decides
    /// who waits for whom:
    /// 0. masters with several stale replies (left unread because the quorum was decided
    ///    without them): read first, so a master that is merely last in line gets drained and
    ///    its backlog stays bounded, and one that stopped answering is found out (it times out,
    ///    is dropped and backs off);
    /// 1. masters known to answer, in their order;
    /// 2. masters whose connection has not answered yet (just reopened: maybe paused), read
    ///    last so that they rarely hold up a quorum the others already make.
    pub(crate) fn read_pass(&self) -> u8 {
        if self.must_drain() {
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
        if self.link.is_none() {
            self.connect(round_end)?;
        }
        let sent = match self.link.as_mut() {
            None => return Err(self.unavailable(Unavailable::ConnectionBroken)),
            Some(Link::Own(socket)) => socket.send(packed).map_err(redis::RedisError::from),
            Some(Link::Redis { connection, .. }) => connection.send_packed_command(packed),
            Some(Link::Cluster(_)) => {
                // Sent by `request`, reply and all.
                self.awaiting = true;
                return Ok(());
            }
        };
        match sent {
            Ok(()) => {
                self.unread += 1;
                self.awaiting = true;
                Ok(())
            }
            Err(error) => Err(self.broke(error)),
        }
    }

    /// Waits for the reply to this round's request, skipping replies left unread by earlier
    /// rounds, until `round_end` (and at least [`MIN_READ_TIMEOUT`], to collect a reply that is
    /// already there).
    pub(crate) fn receive(&mut self, round_end: Instant) -> Result<Value> {
        loop {
            if let Some(reply) = self.buffered_reply() {
                return reply;
            }
            let wanted = round_end
                .saturating_duration_since(Instant::now())
                .max(MIN_READ_TIMEOUT);
            // Changing the timeout is a system call: skip it when the one set is close enough.
            let slack = (self.timeout / 8).min(Duration::from_millis(1));
            let read = match self.link.as_mut() {
                None | Some(Link::Cluster(_)) => {
                    return Err(self.unavailable(Unavailable::ConnectionBroken))
                }
                Some(Link::Own(socket)) => socket
                    .read_blocking(wanted, slack)
                    .map_err(redis::RedisError::from),
                Some(Link::Redis {
                    connection,
                    read_timeout,
                }) => {
                    let set = if read_timeout.is_none_or(|current| current.abs_diff(wanted) > slack)
                    {
                        *read_timeout = Some(wanted);
                        connection.set_read_timeout(Some(wanted))
                    } else {
                        Ok(())
                    };
                    match set.and_then(|()| connection.recv_response()) {
                        Ok(value) => match self.replied(value) {
                            Some(reply) => return Ok(reply),
                            None => continue,
                        },
                        Err(error) => Err(error),
                    }
                }
            };
            if let Err(error) = read {
                return Err(self.broke(error));
            }
        }
    }

    /// Sends `packed` to a cluster master and waits for its reply (the cluster connection
    /// cannot split the two). Server errors keep the connection; a timeout or a broken
    /// connection drops it, to be reopened (after a backoff for a timeout).
    pub(crate) fn request(&mut self, packed: &[u8]) -> Result<Value> {
        self.awaiting = false;
        let Some(Link::Cluster(connection)) = self.link.as_mut() else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        match connection.req_packed_command(packed) {
            Ok(value) => {
                self.proven = true;
                self.backoff.succeeded();
                Ok(value)
            }
            Err(error) if error.is_timeout() || error.is_unrecoverable_error() => {
                Err(self.broke(error))
            }
            Err(error) => Err(self.error(error)),
        }
    }

    /// Reads what an own socket holds, after `poll` said it is readable; the reply to this
    /// round's request once it is complete (`None` while it is not).
    pub(crate) fn read_available(&mut self) -> Option<Result<Value>> {
        let read = match self.link.as_mut() {
            Some(Link::Own(socket)) => socket.read_available(),
            _ => return Some(Err(self.unavailable(Unavailable::ConnectionBroken))),
        };
        match read {
            Ok(()) => self.buffered_reply(),
            // Readiness without data (a spurious wake-up): wait for the next.
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(error) => Some(Err(self.broke(error.into()))),
        }
    }

    /// The reply to this round's request if an own socket already read it, skipping stale
    /// replies; `None` when more bytes are needed (and always for a `redis::Connection`, which
    /// buffers inside the `redis` crate).
    fn buffered_reply(&mut self) -> Option<Result<Value>> {
        loop {
            let Some(Link::Own(socket)) = self.link.as_mut() else {
                return None;
            };
            match socket.next_reply() {
                Ok(None) => return None,
                Ok(Some(value)) => {
                    if let Some(reply) = self.replied(value) {
                        return Some(Ok(reply));
                    }
                }
                Err(error) => return Some(Err(self.broke(error))),
            }
        }
    }

    /// Accounts for one reply read; `Some` when it is the one this round waits for.
    fn replied(&mut self, value: Value) -> Option<Value> {
        self.proven = true;
        self.backoff.succeeded();
        self.unread = self.unread.saturating_sub(1);
        if self.unread > 0 {
            return None;
        }
        self.awaiting = false;
        if let Some(Link::Own(socket)) = &self.link {
            if socket.has_unparsed_bytes() {
                // More bytes than requests: the master sent something unasked, so the next
                // reply could not be trusted to answer the next request. Reopen next time.
                self.link = None;
            }
        }
        Some(value)
    }

    /// The round ended before this master's reply: the connection may yet receive it (or half
    /// of it), so it is dropped, and the master backs off.
    pub(crate) fn time_out(&mut self) -> Error {
        self.broke(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
    }

    fn connect(&mut self, round_end: Instant) -> Result<()> {
        let now = Instant::now();
        let Some(reopen) = &self.reopen else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        if !self.backoff.allows(now) {
            return Err(self.unavailable(Unavailable::Backoff));
        }
        let budget = round_end.saturating_duration_since(now).min(self.timeout);
        if budget.is_zero() {
            return Err(self.timed_out());
        }
        let opened = match reopen {
            Reopen::Own(endpoint) => endpoint
                .connect(budget, self.timeout)
                .map(|socket| Link::Own(Box::new(socket)))
                .map_err(redis::RedisError::from),
            Reopen::Cluster(client) => {
                let config = ClusterConfig::new()
                    .set_connection_timeout(budget)
                    .set_response_timeout(self.timeout);
                client
                    .get_connection_with_config(config)
                    .map(|connection| Link::Cluster(Box::new(connection)))
            }
            Reopen::Redis(client) => {
                // The redis crate applies the timeout to each step of the connect separately.
                let per_step = budget / sequential_connect_waits(client);
                if per_step.is_zero() {
                    return Err(self.timed_out());
                }
                client
                    .get_connection_with_timeout(per_step)
                    .and_then(|connection| {
                        connection.set_write_timeout(Some(self.timeout))?;
                        connection.set_read_timeout(Some(self.timeout))?;
                        Ok(Link::Redis {
                            connection: Box::new(connection),
                            read_timeout: Some(self.timeout),
                        })
                    })
            }
        };
        match opened {
            Ok(link) => {
                // The backoff is reset by the first reply, not here: a paused server still
                // accepts connections.
                self.link = Some(link);
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

    /// This master's request ran out of its time. (Also when no time is left in the round to
    /// connect: no attempt was made then, so no backoff either.)
    fn timed_out(&self) -> Error {
        Error::Timeout {
            master: self.index,
            timeout: self.timeout,
        }
    }

    /// Drops a connection whose state is unknown after `error` (a timeout may leave half a
    /// reply on the socket) and says when to try again.
    fn broke(&mut self, error: redis::RedisError) -> Error {
        self.link = None;
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
            self.timed_out()
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

/// How an async master's connection is reopened.
enum AsyncReopen {
    Client(Box<Client>),
    Cluster(Box<ClusterClient>),
}

/// An open async connection; both kinds may be used by several requests at once.
enum AsyncLink {
    Multiplexed(MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

/// A connection attempt in progress, kept across calls so that a fan-out that stops early (its
/// quorum reached) does not throw away a half-made connection.
type Connecting = BoxFuture<'static, redis::RedisResult<AsyncLink>>;

/// The async connection to one master: a multiplexed or cluster connection, (re)opened lazily.
pub(crate) struct AsyncMaster {
    index: usize,
    timeout: Duration,
    reopen: Option<AsyncReopen>,
    connection: Option<AsyncLink>,
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
    /// timeout (dropping this future mid-way leaves the connection usable).
    pub(crate) async fn request(&mut self, command: &redis::Cmd) -> Result<Value> {
        if self.connection.is_none() {
            self.connect().await?;
        }
        let sent = match self.connection.as_mut() {
            None => return Err(self.unavailable(Unavailable::ConnectionBroken)),
            Some(AsyncLink::Multiplexed(connection)) => {
                connection.send_packed_command(command).await
            }
            Some(AsyncLink::Cluster(connection)) => connection.req_packed_command(command).await,
        };
        match sent {
            Ok(value) => {
                self.backoff.succeeded();
                Ok(value)
            }
            Err(error) => {
                if error.is_unrecoverable_error() {
                    // The connection's socket is gone: reopen it on the next request.
                    self.connection = None;
                }
                Err(self.error(error))
            }
        }
    }

    async fn connect(&mut self) -> Result<()> {
        let Some(reopen) = &self.reopen else {
            return Err(self.unavailable(Unavailable::ConnectionBroken));
        };
        if self.connecting.is_none() {
            if !self.backoff.allows(Instant::now()) {
                return Err(self.unavailable(Unavailable::Backoff));
            }
            let timeout = self.timeout;
            let connecting: Connecting = match reopen {
                AsyncReopen::Client(client) => {
                    let client = Client::clone(client);
                    // redis 1.x times replies out after 500 ms unless told otherwise.
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout));
                    Box::pin(async move {
                        client
                            .get_multiplexed_async_connection_with_config(&config)
                            .await
                            .map(AsyncLink::Multiplexed)
                    })
                }
                AsyncReopen::Cluster(client) => {
                    let client = client.clone();
                    let config = ClusterConfig::new()
                        .set_connection_timeout(timeout)
                        .set_response_timeout(timeout);
                    Box::pin(async move {
                        client
                            .get_async_connection_with_config(config)
                            .await
                            .map(AsyncLink::Cluster)
                    })
                }
            };
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
        let Ok(cluster) = ClusterClient::new(vec!["redis://user:secret@127.0.0.1:7000/"]) else {
            panic!("valid cluster url");
        };
        let master = Master::from(&cluster);
        assert_eq!(
            format!("{master:?}"),
            r#"Master { kind: "cluster client" }"#
        );
    }

    #[test]
    fn a_cluster_is_one_master_read_with_whole_requests() {
        let Ok(cluster) = ClusterClient::new(vec!["redis://127.0.0.1:1/"]) else {
            panic!("valid cluster url");
        };
        let Ok(mut master) = Master::from(cluster).into_sync(0, Duration::from_millis(50)) else {
            panic!("a cluster client resolves without connecting");
        };
        assert!(!master.is_connected());
        // Nothing listens on port 1: the connect fails and the master backs off.
        let round_end = Instant::now() + Duration::from_millis(50);
        assert!(master.send(b"*1\r\n$4\r\nPING\r\n", round_end).is_err());
        assert!(matches!(
            master.send(b"*1\r\n$4\r\nPING\r\n", round_end),
            Err(Error::MasterUnavailable {
                reason: Unavailable::Backoff,
                ..
            })
        ));
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
