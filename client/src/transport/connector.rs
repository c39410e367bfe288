//! How containers reach Redis ([`Connector`]): one server or a Redis Cluster, and the
//! connections every container made from one connector shares.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConfig};
use redis::{Client, IntoConnectionInfo, Value};

use crate::error::{Error, Result};
use crate::face::operation::Request;
use crate::transport::cluster_identity::{KnownNodes, NodeIds};
use crate::transport::mode::{Mode, ModuleState};
use crate::transport::pool::{Pool, DEFAULT_POOL_SIZE};
use crate::transport::session::{send, OneKeyPipelines, Session};
use crate::transport::source::{from_sources, Source};

/// How long a container waits for a connection or a reply on connections it opens itself.
///
/// Give an open `redis::Connection` (or `redis::cluster::ClusterConnection`) with your own
/// timeouts for other values.
///
/// # Example
///
/// ```
/// assert_eq!(pottery::DEFAULT_CONTAINER_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_CONTAINER_TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis server or Redis Cluster that containers live on, and the connections they share.
///
/// Build one connector and open every container from it (`&connector` converts): the
/// containers, their clones and any number of handles share its connections, and opening a
/// container costs neither a round trip nor a socket.
///
/// - **Sync containers** share a small pool of connections, opened as needed up to
///   [`pool_size`](Self::with_pool_size) (16 by default); a call takes one for its round trip
///   and gives it back, so up to that many threads are served at once and further ones wait
///   (at most [`DEFAULT_CONTAINER_TIMEOUT`], then [`Error::PoolTimeout`]).
/// - **Async containers** ([`aio`](crate::aio)) share *one* multiplexed connection per server
///   (pottery's own, driven by the calling tasks with no background task; a
///   `redis::aio::MultiplexedConnection` over TLS; one cluster connection for a Redis
///   Cluster): requests of every task are pipelined on it, and a task that drops a call
///   mid-way leaves it usable for the others.
/// - **Blocking calls** ([`RedisQueue::get`](crate::containers::RedisQueue::get)) wait on
///   connections of
///   their own, kept for the next blocking call, so they never hold up the shared ones.
///
/// A connection that breaks (the server restarted, the network failed) fails the call that
/// was using it; the connector then drops every idle connection it had to that server, and
/// the next call of any container opens a new one: handles recover on their next call.
///
/// Built with `From`/`Into` from:
/// - a URL (`&str`, `String`), a [`redis::ConnectionInfo`] or a [`redis::Client`]: connected
///   on first use, with connect, read and write timeouts of [`DEFAULT_CONTAINER_TIMEOUT`];
/// - a [`redis::cluster::ClusterClient`] (or [`Connector::cluster`] with the nodes' URLs): a
///   Redis Cluster, connected on first use; every command goes to the master of its key's
///   hash slot, and `MOVED`/`ASK` redirections are followed;
/// - an open [`redis::Connection`] or [`redis::cluster::ClusterConnection`] (sync containers
///   only) or [`redis::aio::MultiplexedConnection`] (async containers only): used as it is,
///   with the timeouts it has, by one call at a time, and never reopened.
///
/// A container given a URL or a client directly (`RedisDict::open("redis://...", ...)`) gets a
/// connector of its own: share one `Connector` to share connections.
///
/// On a cluster, an operation over several containers (set algebra between two
/// [`RedisSet`](crate::RedisSet)s, [`HyperLogLog::merge`](crate::HyperLogLog::merge)) needs
/// their keys in one hash slot: name them with a common hash tag, such as `{user:1}:a` and
/// `{user:1}:b`; otherwise it is [`Error::CrossSlot`] and nothing is sent. Containers on two
/// different clusters are combined as containers on two servers are (sets in the client), even
/// when their keys share a slot: to tell which cluster it is on, a connector asks its cluster
/// for its node IDs (`CLUSTER NODES`) at the first such operation, then every 30 s.
///
/// # Example
///
/// ```no_run
/// use pottery::{Connector, RedisDict};
///
/// let redis = Connector::from("redis://127.0.0.1:6379/");
/// // 10,000 handles, one pool of at most 16 connections between them.
/// let users: Vec<RedisDict<String, u64>> = (0..10_000)
///     .map(|user| RedisDict::open(&redis, &format!("user:{user}")))
///     .collect::<pottery::Result<_>>()?;
/// users[7].insert("visits", &1)?;
///
/// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
/// let cluster = redis::cluster::ClusterClient::new(["redis://127.0.0.1:7000/"])?;
/// let connectors: Vec<Connector> = vec![
///     (&client).into(),
///     client.get_connection()?.into(),
///     (&cluster).into(),
///     cluster.get_connection()?.into(),
///     Connector::cluster(["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/"])?,
/// ];
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Connector {
    shared: Arc<Shared>,
}

/// What the clones of one connector share.
pub(crate) struct Shared {
    /// What the connector was made from, for `Debug`.
    kind: &'static str,
    /// What new connections are opened from; `None` for a connector given an open connection.
    origin: Option<Origin>,
    /// Where the keys live, for deciding whether several keys meet in one command.
    placement: Placement,
    /// For a connector given an open connection: whether it is an async one.
    given_async: Option<bool>,
    /// Connections for sync calls.
    pool: Pool,
    /// Connections for sync calls that block in the server (`BLPOP`), idle between them.
    blocking: Mutex<Vec<Session>>,
    /// The multiplexed connection of async calls, and their dedicated blocking connections.
    #[cfg(feature = "tokio")]
    pub(crate) multiplexed: crate::transport::multiplexed::Multiplexed,
    /// The cluster's node IDs, once an operation over several containers needed them.
    cluster_nodes: Mutex<Option<KnownNodes>>,
    /// Whether containers use the pottery module's commands.
    pub(crate) module: ModuleState,
}

impl Connector {
    /// A Redis Cluster reached through any of `nodes` (URLs such as
    /// `"redis://127.0.0.1:7000/"`, or anything else `redis` turns into a connection info);
    /// the others are discovered. Shorthand for a [`redis::cluster::ClusterClient`] with default
    /// settings; nothing is connected until a container's first call.
    ///
    /// # Errors
    ///
    /// [`Error::Redis`] when a URL is invalid, or the nodes disagree on credentials.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::{Connector, RedisDict};
    ///
    /// let nodes = ["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/", "redis://127.0.0.1:7002/"];
    /// let sessions: RedisDict<String, u64> = RedisDict::open(Connector::cluster(nodes)?, "sessions")?;
    /// sessions.insert("ada", &1)?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn cluster<T: IntoConnectionInfo>(nodes: impl IntoIterator<Item = T>) -> Result<Self> {
        Ok(ClusterClient::new(nodes)?.into())
    }

    /// Sets how many connections sync containers may open at once through this connector
    /// (at least 1; 16 by default). Takes effect for connections opened from then on.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/").with_pool_size(4);
    /// assert_eq!(redis.pool_size(), 4);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn with_pool_size(self, size: usize) -> Self {
        self.shared.pool.set_size(size.max(1));
        self
    }

    /// Sets whether containers use the pottery module's commands ([`Mode::Auto`] by default:
    /// ask the server once).
    ///
    /// # Example
    ///
    /// ```
    /// use pottery::{Connector, Mode};
    ///
    /// let redis = Connector::from("redis://127.0.0.1:6379/").with_mode(Mode::WithoutModule);
    /// assert_eq!(redis.mode(), Mode::WithoutModule);
    /// ```
    pub fn with_mode(self, mode: Mode) -> Self {
        self.shared.module.set_mode(mode);
        self
    }

    /// Whether containers use the pottery module's commands (see [`Mode`]).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(pottery::Connector::from("redis://127.0.0.1:6379/").mode(), pottery::Mode::Auto);
    /// ```
    pub fn mode(&self) -> Mode {
        self.shared.module.mode()
    }

    /// How many connections sync containers may open at once through this connector.
    ///
    /// # Example
    ///
    /// ```
    /// let redis = pottery::Connector::from("redis://127.0.0.1:6379/");
    /// assert_eq!(redis.pool_size(), 16);
    /// ```
    pub fn pool_size(&self) -> usize {
        self.shared.pool.size()
    }

    fn from_source(source: Source) -> Self {
        Self {
            shared: Arc::new(Shared::new(source)),
        }
    }

    /// Refuses a URL that does not parse before a container is made from it.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.shared.origin {
            Some(Origin::Invalid(error)) => Err(Error::Redis(error.clone())),
            _ => Ok(()),
        }
    }

    /// Whether containers of the sync or async face (`asynchronous`) can use this connector:
    /// an open connection serves its own face only.
    pub(crate) fn serves(&self, asynchronous: bool) -> bool {
        self.shared
            .given_async
            .is_none_or(|given| given == asynchronous)
    }

    /// Whether the connector leads to a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.shared.placement, Placement::Cluster)
    }

    /// Whether two connectors lead to the same server and database, as far as the URLs and
    /// clients they were given tell (`None` for open connections: nobody knows).
    pub(crate) fn same_server(&self, other: &Self) -> Option<bool> {
        if Arc::ptr_eq(&self.shared, &other.shared) {
            return Some(true);
        }
        match (&self.shared.placement, &other.shared.placement) {
            (Placement::Server(mine), Placement::Server(theirs)) => Some(mine == theirs),
            (Placement::Unknown, Placement::Unknown) => None,
            _ => Some(false),
        }
    }

    /// Whether two connectors are one connector (clones of it).
    pub(crate) fn is(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Where a dedicated connection can be opened from, when the connector can open one.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.shared.origin.as_ref()
    }

    /// For a connector given an open connection: what a [`Master`](crate::Master) made from it
    /// gets. An async connection is multiplexed, so the master shares it; a sync one serves
    /// one caller at a time and stays the connector's.
    pub(crate) fn given_source(&self) -> Source {
        #[cfg(feature = "tokio")]
        if let Some(connection) = self.shared.multiplexed.given() {
            return Source::Multiplexed(connection);
        }
        Source::Invalid(redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "a connector given an open sync connection cannot open connections for a master",
        )))
    }

    /// The cluster's node IDs as the connector last learned them, while still fresh.
    pub(crate) fn known_cluster_nodes(&self) -> Option<Option<Arc<NodeIds>>> {
        let known = lock(&self.shared.cluster_nodes);
        known
            .as_ref()
            .filter(|known| !known.is_stale_at(Instant::now()))
            .map(KnownNodes::ids)
    }

    /// Keeps what a `CLUSTER NODES` reply (or its refusal) said of the cluster.
    pub(crate) fn learn_cluster_nodes(&self, ids: Option<Arc<NodeIds>>) {
        *lock(&self.shared.cluster_nodes) = Some(KnownNodes::new(ids));
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a URL: it may carry a password.
        formatter
            .debug_struct("Connector")
            .field("kind", &self.shared.kind)
            .finish_non_exhaustive()
    }
}

from_sources!(Connector, Connector::from_source);

impl From<&Connector> for Connector {
    fn from(connector: &Connector) -> Self {
        connector.clone()
    }
}

/// What a connector opens its connections from: one server's client, or a cluster's.
#[derive(Clone)]
pub(crate) enum Origin {
    Server(Box<Client>),
    Cluster(Box<ClusterClient>),
    /// A URL that does not parse: every container made from it says so.
    Invalid(redis::RedisError),
}

impl Origin {
    /// A new connection with [`DEFAULT_CONTAINER_TIMEOUT`] for connecting, reading and writing.
    pub(crate) fn open(&self) -> redis::RedisResult<Session> {
        match self {
            Self::Server(client) => {
                let connection = client.get_connection_with_timeout(DEFAULT_CONTAINER_TIMEOUT)?;
                connection.set_read_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
                connection.set_write_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
                Ok(Session::Server(Box::new(connection)))
            }
            Self::Cluster(client) => {
                let config = ClusterConfig::new()
                    .set_connection_timeout(DEFAULT_CONTAINER_TIMEOUT)
                    .set_response_timeout(DEFAULT_CONTAINER_TIMEOUT);
                let connection = client.get_connection_with_config(config)?;
                connection.set_write_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
                Ok(Session::Cluster(Box::new(OneKeyPipelines(connection))))
            }
            Self::Invalid(error) => Err(error.clone()),
        }
    }
}

/// Where a connector's keys live, as far as combining them with other keys goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// One server and database, known from the URL or client.
    Server(ServerAddress),
    /// A Redis Cluster: which one is learned only when needed (by node IDs).
    Cluster,
    /// An open connection given as it is: the server behind it is unknown.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerAddress {
    address: String,
    database: i64,
}

impl Shared {
    fn new(source: Source) -> Self {
        let kind = source.kind();
        let mut initial = None;
        #[cfg(feature = "tokio")]
        let mut multiplexed = None;
        let origin = match source {
            Source::Url(_) | Source::Info(_) | Source::Client(_) => match source.client() {
                Ok(Some(client)) => Some(Origin::Server(Box::new(client))),
                Ok(None) => None,
                Err(error) => Some(Origin::Invalid(error)),
            },
            Source::Cluster(client) => Some(Origin::Cluster(client)),
            Source::Connection(connection) => {
                initial = Some(Session::Server(connection));
                None
            }
            Source::ClusterConnection(connection) => {
                initial = Some(Session::Cluster(Box::new(OneKeyPipelines(*connection))));
                None
            }
            #[cfg(feature = "tokio")]
            Source::Multiplexed(connection) => {
                multiplexed = Some(connection);
                None
            }
            Source::Invalid(error) => Some(Origin::Invalid(error)),
        };
        let placement = match (&origin, &initial) {
            (Some(Origin::Cluster(_)), _) | (None, Some(Session::Cluster(_))) => Placement::Cluster,
            (Some(Origin::Server(client)), _) => {
                let info = client.get_connection_info();
                Placement::Server(ServerAddress {
                    address: info.addr().to_string(),
                    database: info.redis_settings().db(),
                })
            }
            _ => Placement::Unknown,
        };
        #[cfg(feature = "tokio")]
        let given_async = if multiplexed.is_some() {
            Some(true)
        } else {
            initial.as_ref().map(|_| false)
        };
        #[cfg(not(feature = "tokio"))]
        let given_async = initial.as_ref().map(|_| false);
        Self {
            kind,
            given_async,
            pool: Pool::new(DEFAULT_POOL_SIZE, initial),
            blocking: Mutex::new(Vec::new()),
            #[cfg(feature = "tokio")]
            multiplexed: crate::transport::multiplexed::Multiplexed::new(multiplexed),
            origin,
            placement,
            cluster_nodes: Mutex::new(None),
            module: ModuleState::new(),
        }
    }

    /// Where the async side opens its connections from.
    #[cfg(feature = "tokio")]
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.placement, Placement::Cluster)
    }

    /// Sends `request` over a pooled connection (one round trip), or, for a request that
    /// blocks in the server for up to `blocking`, over a dedicated one. `key` routes a
    /// transaction again after its slot moved.
    pub(crate) fn send_blocking(
        &self,
        request: &Request,
        key: &str,
        blocking: Option<Duration>,
    ) -> Result<Value> {
        if let (Some(wait), Some(origin)) = (blocking, &self.origin) {
            return self.send_dedicated(origin, request, key, wait);
        }
        let cluster = self.is_cluster();
        self.pool.run(self.origin.as_ref(), |session| {
            let Some(wait) = blocking else {
                return send(session, request, key, cluster);
            };
            // An open connection given by the user: the only one there is.
            session.set_read_timeout(Some(wait + DEFAULT_CONTAINER_TIMEOUT))?;
            let reply = send(session, request, key, cluster)?;
            session.set_read_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
            Ok(reply)
        })
    }

    fn send_dedicated(
        &self,
        origin: &Origin,
        request: &Request,
        key: &str,
        wait: Duration,
    ) -> Result<Value> {
        let idle = lock(&self.blocking).pop();
        let mut session = match idle {
            Some(session) => session,
            None => origin.open()?,
        };
        session.set_read_timeout(Some(wait + DEFAULT_CONTAINER_TIMEOUT))?;
        match send(&mut session, request, key, self.is_cluster()) {
            Ok(value) => {
                keep_idle(&self.blocking, session);
                Ok(value)
            }
            // A late reply may still arrive on this socket: it is dropped with it.
            Err(error) => Err(into_error(error)),
        }
    }
}

/// Dedicated connections for blocking calls kept idle per connector, per face.
const MAX_IDLE_DEDICATED: usize = 4;

/// Keeps a dedicated connection for the next blocking call, unless enough are kept already.
pub(crate) fn keep_idle<T>(idle: &Mutex<Vec<T>>, connection: T) {
    let mut idle = lock(idle);
    if idle.len() < MAX_IDLE_DEDICATED {
        idle.push(connection);
    }
}

/// Whether `error` leaves the connection in an unknown state (half a reply may be on the
/// socket, or the socket is gone): it must not be used again.
pub(crate) fn breaks_connection(error: &redis::RedisError) -> bool {
    error.is_io_error() || error.is_timeout() || error.is_unrecoverable_error()
}

/// The crate's error for a failed request: a failed pipeline reports all its failed commands
/// in one error that has no `code()`; the first command's own error (`WRONGTYPE`, `OOM`, ...)
/// is what a caller matches on, as it would for the same command sent alone.
pub(crate) fn into_error(error: redis::RedisError) -> Error {
    if error.code().is_some() {
        return Error::Redis(error);
    }
    let first = error
        .clone()
        .into_server_errors()
        .and_then(|errors| errors.first().map(|(_, error)| error.clone()));
    Error::Redis(first.map_or(error, redis::RedisError::from))
}

/// Whether `pipeline` is a `MULTI`/`EXEC` block that the server aborted because its key's slot
/// had moved to another master (`MOVED` while queueing), so none of it ran. (A plain pipeline
/// needs no such care: the cluster connection sees its first `MOVED` reply and sends it again
/// to the new master.)
pub(crate) fn moved_before_running(error: &redis::RedisError, pipeline: &redis::Pipeline) -> bool {
    if !pipeline.is_transaction()
        || error.kind() != redis::ErrorKind::Server(redis::ServerErrorKind::ExecAbort)
    {
        return false;
    }
    let errors = error.clone().into_server_errors().unwrap_or_default();
    errors.iter().any(|(_, error)| error.code() == "MOVED")
}

/// Where an operation's request goes: a connector, and the key that routes it on a cluster.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: Arc<str>,
    /// How long the request may block in the server (`BLPOP`): it then needs a dedicated
    /// connection with a read timeout beyond that.
    pub(crate) blocking: Option<Duration>,
}

impl Route {
    pub(crate) fn new(connector: &Connector, key: Arc<str>) -> Self {
        Self {
            shared: Arc::clone(&connector.shared),
            key,
            blocking: None,
        }
    }

    /// The same route for a request that blocks in the server for up to `wait`.
    pub(crate) fn blocking(mut self, wait: Duration) -> Self {
        self.blocking = Some(wait);
        self
    }

    /// Sends `request` with a sync connection and waits for the reply.
    pub(crate) fn send_blocking(&self, request: &Request) -> Result<Value> {
        self.shared.send_blocking(request, &self.key, self.blocking)
    }

    /// Sends `request` with an async connection and waits for the reply.
    #[cfg(feature = "tokio")]
    pub(crate) async fn send_async(&self, request: &Request) -> Result<Value> {
        self.shared
            .send_async(request, &self.key, self.blocking)
            .await
    }
}

/// Locks a mutex whose data stays consistent even if a thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
