//! How a container reaches Redis ([`Connector`]): one server or a Redis Cluster, and the one
//! connection it keeps.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConfig, ClusterConnection};
use redis::{Client, Connection, ConnectionLike, IntoConnectionInfo};

use crate::error::{Error, Result};
use crate::transport::cluster_identity::{KnownNodes, NodeIds};

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

/// The Redis server or Redis Cluster a container lives on, given to constructors such as
/// [`RedisDict::open`](crate::RedisDict::open).
///
/// Built with `From`/`Into` from:
/// - a URL (`&str`, `String`) or a [`redis::Client`]: the container connects on first use and
///   reconnects on the next call after a broken connection; connect, read and write timeouts
///   are [`DEFAULT_CONTAINER_TIMEOUT`];
/// - an open [`redis::Connection`]: used as it is (with the timeouts it has), never reopened;
/// - a [`redis::cluster::ClusterClient`] (or [`Connector::cluster`] with the nodes' URLs): a
///   Redis Cluster, connected on first use and reconnected like a client, with the same
///   timeouts; every command goes to the master of its key's hash slot, and `MOVED`/`ASK`
///   redirections are followed;
/// - an open [`redis::cluster::ClusterConnection`]: used as it is, never reopened.
///
/// On a cluster, an operation over several containers (set algebra between two
/// [`RedisSet`](crate::RedisSet)s, [`HyperLogLog::merge`](crate::HyperLogLog::merge)) needs
/// their keys in one hash slot: name them with a common hash tag, such as `{user:1}:a` and
/// `{user:1}:b`; otherwise it is [`Error::CrossSlot`] and nothing is sent. Containers on two
/// different clusters are combined as containers on two servers are (sets in the client), even
/// when their keys share a slot: to tell which cluster it is on, each container asks its
/// cluster for its node IDs (`CLUSTER NODES`) at the first such operation, then every 30 s.
///
/// # Example
///
/// ```no_run
/// use pottery::Connector;
///
/// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
/// let cluster = redis::cluster::ClusterClient::new(["redis://127.0.0.1:7000/"])?;
/// let connectors: Vec<Connector> = vec![
///     "redis://127.0.0.1:6379/".into(),
///     (&client).into(),
///     client.get_connection()?.into(),
///     (&cluster).into(),
///     cluster.get_connection()?.into(),
///     Connector::cluster(["redis://127.0.0.1:7000/", "redis://127.0.0.1:7001/"])?,
/// ];
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connector {
    source: Source,
}

enum Source {
    Url(String),
    Origin(Origin),
    Session(Session),
}

impl Connector {
    /// A Redis Cluster reached through any of `nodes` (URLs such as
    /// `"redis://127.0.0.1:7000/"`, or anything else `redis` turns into a connection info);
    /// the others are discovered. Shorthand for a [`redis::cluster::ClusterClient`] with default
    /// settings; nothing is connected until the container's first call.
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
}

impl fmt::Debug for Connector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a URL: it may carry a password.
        let kind = match &self.source {
            Source::Url(_) => "url",
            Source::Origin(Origin::Server(_)) => "client",
            Source::Origin(Origin::Cluster(_)) => "cluster client",
            Source::Session(Session::Server(_)) => "open connection",
            Source::Session(Session::Cluster(_)) => "open cluster connection",
        };
        formatter
            .debug_struct("Connector")
            .field("kind", &kind)
            .finish()
    }
}

impl From<&str> for Connector {
    fn from(url: &str) -> Self {
        Self {
            source: Source::Url(url.to_owned()),
        }
    }
}

impl From<String> for Connector {
    fn from(url: String) -> Self {
        Self {
            source: Source::Url(url),
        }
    }
}

impl From<&String> for Connector {
    fn from(url: &String) -> Self {
        Self::from(url.as_str())
    }
}

impl From<Client> for Connector {
    fn from(client: Client) -> Self {
        Self {
            source: Source::Origin(Origin::Server(Box::new(client))),
        }
    }
}

impl From<&Client> for Connector {
    fn from(client: &Client) -> Self {
        Self::from(client.clone())
    }
}

impl From<Connection> for Connector {
    fn from(connection: Connection) -> Self {
        Self {
            source: Source::Session(Session::Server(Box::new(connection))),
        }
    }
}

impl From<ClusterClient> for Connector {
    fn from(client: ClusterClient) -> Self {
        Self {
            source: Source::Origin(Origin::Cluster(Box::new(client))),
        }
    }
}

impl From<&ClusterClient> for Connector {
    fn from(client: &ClusterClient) -> Self {
        Self::from(client.clone())
    }
}

impl From<ClusterConnection> for Connector {
    fn from(connection: ClusterConnection) -> Self {
        Self {
            source: Source::Session(Session::Cluster(Box::new(OneKeyPipelines(connection)))),
        }
    }
}

/// What a container opens its connections from: one server's client, or a cluster's.
#[derive(Clone)]
pub(crate) enum Origin {
    Server(Box<Client>),
    Cluster(Box<ClusterClient>),
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
        }
    }
}

/// One open connection: to one server, or to the masters of a cluster (routed per key).
pub(crate) enum Session {
    Server(Box<Connection>),
    Cluster(Box<OneKeyPipelines>),
}

impl Session {
    /// The connection, for the `redis` crate's commands, pipelines and scripts.
    pub(crate) fn as_connection_like(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Self::Server(connection) => connection.as_mut(),
            Self::Cluster(connection) => connection.as_mut(),
        }
    }

    /// Sets the read timeout of every socket of the connection (and of those a cluster
    /// connection opens later).
    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> redis::RedisResult<()> {
        match self {
            Self::Server(connection) => connection.set_read_timeout(timeout),
            Self::Cluster(connection) => connection.0.set_read_timeout(timeout),
        }
    }
}

/// A cluster connection that lets `redis::Pipeline`s through.
///
/// The `redis` crate refuses pipelines on a cluster connection because their commands could
/// belong to different masters, yet routes one to the master of its first command's key when
/// asked. A container's pipelines (and `MULTI`/`EXEC` blocks) only ever touch its own key, so
/// they all belong to that master.
pub(crate) struct OneKeyPipelines(ClusterConnection);

impl ConnectionLike for OneKeyPipelines {
    fn req_packed_command(&mut self, command: &[u8]) -> redis::RedisResult<redis::Value> {
        self.0.req_packed_command(command)
    }

    fn req_packed_commands(
        &mut self,
        commands: &[u8],
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        self.0.req_packed_commands(commands, offset, count)
    }

    fn req_command(&mut self, command: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        // Routed by the command's own key specs, unlike packed bytes.
        self.0.req_command(command)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }

    fn supports_pipelining(&self) -> bool {
        true
    }

    fn check_connection(&mut self) -> bool {
        self.0.check_connection()
    }

    fn is_open(&self) -> bool {
        self.0.is_open()
    }
}

/// The connection of one container: reopened from its origin after a failure when it has one.
pub(crate) struct Link {
    origin: Option<Origin>,
    session: Option<Session>,
    cluster: bool,
    used: bool,
    /// The cluster's node IDs, once an operation over several containers needed them.
    cluster_nodes: Option<KnownNodes>,
}

impl Link {
    /// Resolves `connector`; URLs are parsed here, nothing is connected yet.
    pub(crate) fn new(connector: Connector) -> Result<Self> {
        let (origin, session) = match connector.source {
            Source::Url(url) => (Some(Origin::Server(Box::new(Client::open(url)?))), None),
            Source::Origin(origin) => (Some(origin), None),
            Source::Session(session) => (None, Some(session)),
        };
        let cluster = matches!(origin, Some(Origin::Cluster(_)))
            || matches!(session, Some(Session::Cluster(_)));
        Ok(Self {
            origin,
            session,
            cluster,
            used: false,
            cluster_nodes: None,
        })
    }

    /// Where further connections to the same server or cluster come from (for blocking calls
    /// that need their own connection), when the container was given one.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// Whether the container lives on a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The IDs of the nodes of the cluster the link leads to, which tell one cluster from
    /// another (see [`NodeIds`]): learned with one `CLUSTER NODES` on first call, kept for
    /// [`NODE_IDS_TRUSTED_FOR`](crate::transport::cluster_identity::NODE_IDS_TRUSTED_FOR), then learned
    /// again on the next call.
    ///
    /// `None` when the cluster refuses to tell (an ACL denying `CLUSTER NODES`, a proxy
    /// without it) or names no node; that answer is kept as long as a view would be.
    ///
    /// # Errors
    ///
    /// The connection's own errors (cannot connect, timeout): the cluster is unreachable.
    pub(crate) fn cluster_node_ids(&mut self) -> Result<Option<Arc<NodeIds>>> {
        if let Some(known) = &self.cluster_nodes {
            if !known.is_stale_at(Instant::now()) {
                return Ok(known.ids());
            }
        }
        let reply = self.run(|connection| {
            redis::cmd("CLUSTER")
                .arg("NODES")
                .query::<String>(connection)
        });
        let ids = match reply {
            Ok(text) => Some(Arc::new(NodeIds::parse(&text))).filter(|ids| !ids.is_empty()),
            // Refused, or a reply that is no node list: whether two clusters are one stays
            // unknown, and the caller combines keys in the client, right for any placement.
            Err(Error::Redis(error))
                if matches!(
                    error.kind(),
                    redis::ErrorKind::Server(_)
                        | redis::ErrorKind::Extension
                        | redis::ErrorKind::UnexpectedReturnType
                        | redis::ErrorKind::Parse
                ) =>
            {
                None
            }
            Err(error) => return Err(error),
        };
        self.cluster_nodes = Some(KnownNodes::new(ids.clone()));
        Ok(ids)
    }

    /// Whether any command was attempted: a container never used wrote nothing.
    pub(crate) fn was_used(&self) -> bool {
        self.used
    }

    /// Runs `work` on the connection, connecting first if needed; a connection that failed with
    /// an I/O error or a timeout is dropped, to be reopened by the next call.
    pub(crate) fn run<T>(
        &mut self,
        work: impl FnOnce(&mut dyn ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.used = true;
        if self.session.is_none() {
            let Some(origin) = &self.origin else {
                return Err(Error::ConnectionBroken);
            };
            self.session = Some(origin.open()?);
        }
        let Some(session) = self.session.as_mut() else {
            return Err(Error::ConnectionBroken);
        };
        match work(session.as_connection_like()) {
            Ok(value) => Ok(value),
            Err(error) => {
                if error.is_io_error() || error.is_timeout() || error.is_unrecoverable_error() {
                    // Half a reply may be left on a socket: never reuse it.
                    self.session = None;
                }
                Err(error.into())
            }
        }
    }
}
