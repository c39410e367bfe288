//! How a master is specified ([`Master`]) and what it resolves to before a sync
//! ([`SyncMaster`](crate::transport::sync_master::SyncMaster)) or async
//! (`AsyncMaster`) connection slot is made of it.
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
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Client, Connection, ConnectionInfo};

use crate::error::{Error, Result, Unavailable};
#[cfg(feature = "tokio")]
use crate::transport::async_master::AsyncMaster;
use crate::transport::connector::{Connector, Origin};
use crate::transport::mode::Mode;
use crate::transport::scripted::MasterMode;
use crate::transport::source::{from_sources, Source};
use crate::transport::sync_master::SyncMaster;

/// First delay before reconnecting to a master that failed.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
/// Longest delay before reconnecting to a master that keeps failing.
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// One Redis master, as given to a builder such as [`NextIdBuilder::masters`](crate::NextIdBuilder::masters).
///
/// Built with `From`/`Into` from exactly what a [`Connector`] is built from:
/// - a URL (`&str`, `String`), parsed when the builder's `build` runs;
/// - a [`redis::ConnectionInfo`] or a [`redis::Client`];
/// - an already open [`redis::Connection`] or [`redis::cluster::ClusterConnection`] (sync types
///   only) or [`redis::aio::MultiplexedConnection`] (async types only). `pottery` takes it
///   over, sets its timeouts, and cannot reopen it if it breaks
///   ([`Unavailable::ConnectionBroken`]);
/// - a [`redis::cluster::ClusterClient`]: a whole Redis Cluster as *one* master (see
///   [below](#a-redis-cluster-as-one-master));
/// - a [`Connector`] (or `&Connector`): a master reached through what the connector opens its
///   own connections from (its URL, client or cluster client), with connections of the
///   master's own. A connector given an open connection has nothing to open another from; it
///   is refused when the builder's `build` runs, except an async one for async types (the
///   multiplexed connection is shared).
///
/// Each master is sent the pottery module's commands or, for servers without the module
/// (most hosted Redis services), Lua scripts that do the same: see [`Master::with_mode`] and
/// [`Mode`].
///
/// Those that can reconnect are connected on first use and reconnected after failures, with
/// the per-master timeout as connect timeout and a short backoff after a failure
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
/// # A Redis Cluster as one master
///
/// Each command goes to the shard master that owns its key, and the cluster's own replication
/// stands in for independent masters. The sync types open a `redis::cluster::ClusterConnection`
/// from a [`redis::cluster::ClusterClient`], the async types a
/// `redis::cluster_async::ClusterConnection`, with the per-master timeout as connection and
/// response timeout; the client's own settings (retries, redirects) apply beyond that. A
/// cluster cannot send a request in one step and read its reply in another, so its request
/// runs whole within the round, after the other masters' requests are on their way: a cluster
/// master is usually the only master.
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
/// use pottery::{Connector, Master};
///
/// let client = redis::Client::open("redis://10.0.0.2:6379/")?;
/// let redis = Connector::from("redis://10.0.0.4:6379/");
/// let masters: Vec<Master> = vec![
///     "redis://10.0.0.1:6379/".into(),
///     client.into(),
///     redis::Client::open("redis://10.0.0.3:6379/")?.get_connection()?.into(),
///     (&redis).into(),
///     "redis://10.0.0.5:6379/".into(),
/// ];
/// let ids = pottery::NextId::builder().masters(masters).build()?;
///
/// let cluster = redis::cluster::ClusterClient::new(vec![
///     "redis://10.0.0.1:7000/",
///     "redis://10.0.0.2:7000/",
///     "redis://10.0.0.3:7000/",
/// ])?;
/// let mut ids = pottery::NextId::builder().name("orders").master(cluster).build()?;
/// let id = ids.next_id()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Master {
    source: Source,
    mode: Mode,
}

impl Master {
    fn from_source(source: Source) -> Self {
        Self {
            source,
            mode: Mode::Auto,
        }
    }

    /// Sets whether this master is sent the pottery module's commands or their Lua scripts
    /// (see [`Mode`]; [`Mode::Auto`] by default, or the connector's mode for a master made
    /// from a [`Connector`]). A builder's `mode` overrides it for all its masters.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::{Master, Mode};
    ///
    /// let hosted = Master::from("redis://cache.example:6379/").with_mode(Mode::WithoutModule);
    /// let lock = pottery::Redlock::builder().name("printer").master(hosted).build()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether this master is sent the module's commands or their scripts (see [`Mode`]).
    ///
    /// # Example
    ///
    /// ```
    /// let master = pottery::Master::from("redis://127.0.0.1:6379/");
    /// assert_eq!(master.mode(), pottery::Mode::Auto);
    /// ```
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

impl fmt::Debug for Master {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a URL: it may carry a password.
        formatter
            .debug_struct("Master")
            .field("kind", &self.source.kind())
            .field("mode", &self.mode)
            .finish()
    }
}

from_sources!(Master, Master::from_source);

/// A master reached through what the connector opens its connections from; see [`Master`].
impl From<&Connector> for Master {
    fn from(connector: &Connector) -> Self {
        let source = match connector.origin() {
            Some(Origin::Server(client)) => Source::Client(client.clone()),
            Some(Origin::Cluster(client)) => Source::Cluster(client.clone()),
            Some(Origin::Invalid(error)) => Source::Invalid(error.clone()),
            None => connector.given_source(),
        };
        Self {
            source,
            mode: connector.mode(),
        }
    }
}

impl From<Connector> for Master {
    fn from(connector: Connector) -> Self {
        Self::from(&connector)
    }
}

/// The masters with the builder's mode, when it set one (see [`Master::with_mode`]).
pub(crate) fn with_builder_mode(masters: Vec<Master>, mode: Option<Mode>) -> Vec<Master> {
    match mode {
        Some(mode) => masters
            .into_iter()
            .map(|master| master.with_mode(mode))
            .collect(),
        None => masters,
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
pub(crate) fn sequential_connect_waits(client: &Client) -> u32 {
    let settings = client.get_connection_info().redis_settings();
    let authenticates = settings.protocol().supports_resp3() || settings.password().is_some();
    let retries_auth = authenticates && settings.username().is_some();
    1 + u32::from(authenticates) + u32::from(settings.db() != 0) + u32::from(retries_auth)
}

/// What a master resolves to: something to (re)connect with, or an open connection.
pub(crate) enum Resolved {
    Reconnectable(Client),
    Open(Box<Connection>),
    OpenCluster(Box<ClusterConnection>),
    #[cfg(feature = "tokio")]
    OpenMultiplexed(redis::aio::MultiplexedConnection),
    Cluster(Box<ClusterClient>),
}

impl Master {
    /// Parses URLs and opens nothing.
    pub(crate) fn resolve(self) -> Result<Resolved> {
        let Self { source, .. } = self;
        Ok(match source {
            Source::Url(url) => Resolved::Reconnectable(without_lib_name(
                Client::open(url.as_str())?.get_connection_info(),
            )?),
            Source::Info(info) => Resolved::Reconnectable(without_lib_name(&info)?),
            Source::Client(client) => {
                Resolved::Reconnectable(without_lib_name(client.get_connection_info())?)
            }
            Source::Connection(connection) => Resolved::Open(connection),
            Source::ClusterConnection(connection) => Resolved::OpenCluster(connection),
            #[cfg(feature = "tokio")]
            Source::Multiplexed(connection) => Resolved::OpenMultiplexed(connection),
            Source::Cluster(client) => Resolved::Cluster(client),
            Source::Invalid(error) => return Err(Error::Redis(error)),
        })
    }

    /// Another master for the same server, to open a second connection to it: `None` for an
    /// open connection (which cannot be opened twice) and for a cluster (whose connection
    /// cannot wait longer than its response timeout).
    pub(crate) fn duplicate(&self) -> Option<Master> {
        let source = match &self.source {
            Source::Url(url) => Source::Url(url.clone()),
            Source::Info(info) => Source::Info(info.clone()),
            Source::Client(client) => Source::Client(client.clone()),
            _ => return None,
        };
        Some(Self {
            source,
            mode: self.mode,
        })
    }

    /// Turns the specification into the sync connection slot of master number `index`.
    pub(crate) fn into_sync(self, index: usize, timeout: Duration) -> Result<SyncMaster> {
        let mode = MasterMode::new(self.mode);
        SyncMaster::new(self.resolve()?, index, timeout, mode)
    }

    /// Turns the specification into the async connection slot of master number `index`.
    #[cfg(feature = "tokio")]
    pub(crate) fn into_async(self, index: usize, timeout: Duration) -> Result<AsyncMaster> {
        let mode = MasterMode::new(self.mode);
        AsyncMaster::new(self.resolve()?, index, timeout, mode)
    }
}

/// Which master a connection slot serves, and its per-master timeout: what its errors say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) index: usize,
    pub(crate) timeout: Duration,
}

impl Identity {
    /// This master's request ran out of its time. (Also when no time is left in the round to
    /// connect: no attempt was made then, so no backoff either.)
    pub(crate) fn timed_out(self) -> Error {
        Error::Timeout {
            master: self.index,
            timeout: self.timeout,
        }
    }

    /// The crate's error for a failed request: a timeout says which master it was.
    pub(crate) fn error(self, error: redis::RedisError) -> Error {
        if error.is_timeout() {
            self.timed_out()
        } else {
            Error::Redis(error)
        }
    }

    pub(crate) fn unavailable(self, reason: Unavailable) -> Error {
        Error::MasterUnavailable {
            master: self.index,
            reason,
        }
    }
}

/// When a failing master may be tried again.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// `None` while the master is healthy.
    retry_at: Option<Instant>,
    /// The delay the next failure waits (zero: not failing).
    next_delay: Duration,
}

impl Backoff {
    pub(crate) fn allows(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|retry_at| now >= retry_at)
    }

    pub(crate) fn failed(&mut self, now: Instant) {
        let delay = if self.next_delay.is_zero() {
            BACKOFF_FIRST
        } else {
            self.next_delay
        };
        self.retry_at = Some(now + delay);
        self.next_delay = delay.saturating_mul(2).min(BACKOFF_MAX);
    }

    pub(crate) fn succeeded(&mut self) {
        self.retry_at = None;
        self.next_delay = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::sync_master::Request;

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
    fn a_connector_lends_its_origin_to_a_master() {
        let connector = Connector::from("redis://127.0.0.1:1/");
        let master = Master::from(&connector);
        assert_eq!(
            format!("{master:?}"),
            r#"Master { kind: "client", mode: Auto }"#
        );
        assert!(master.into_sync(0, Duration::from_millis(10)).is_ok());
        let cluster = Connector::cluster(["redis://127.0.0.1:1/"]);
        let Ok(cluster) = cluster else {
            panic!("valid cluster url");
        };
        assert_eq!(
            format!("{:?}", Master::from(cluster)),
            r#"Master { kind: "cluster client", mode: Auto }"#
        );
        let invalid = Master::from(Connector::from("not a url"));
        assert!(matches!(
            invalid.into_sync(0, Duration::from_millis(10)),
            Err(Error::Redis(_))
        ));
    }

    #[test]
    fn a_master_takes_the_connectors_mode_and_the_builders_overrides_it() {
        let connector = Connector::from("redis://127.0.0.1:1/").with_mode(Mode::WithoutModule);
        assert_eq!(Master::from(&connector).mode(), Mode::WithoutModule);
        let masters = vec![
            Master::from(&connector),
            Master::from("redis://127.0.0.1:2/"),
        ];
        let kept: Vec<Mode> = with_builder_mode(masters, None)
            .iter()
            .map(Master::mode)
            .collect();
        assert_eq!(kept, [Mode::WithoutModule, Mode::Auto]);
        let masters = vec![
            Master::from(&connector),
            Master::from("redis://127.0.0.1:2/"),
        ];
        let set = with_builder_mode(masters, Some(Mode::Module));
        assert!(set.iter().all(|master| master.mode() == Mode::Module));
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
            r#"Master { kind: "cluster client", mode: Auto }"#
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
        assert!(master
            .send(&Request::plain(b"*1\r\n$4\r\nPING\r\n"), round_end)
            .is_err());
        assert!(matches!(
            master.send(&Request::plain(b"*1\r\n$4\r\nPING\r\n"), round_end),
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
            master.send(&Request::plain(b"*1\r\n$4\r\nPING\r\n"), round_end),
            Err(Error::Redis(_))
        ));
        assert!(matches!(
            master.send(&Request::plain(b"*1\r\n$4\r\nPING\r\n"), round_end),
            Err(Error::MasterUnavailable {
                master: 0,
                reason: Unavailable::Backoff
            })
        ));
    }
}
