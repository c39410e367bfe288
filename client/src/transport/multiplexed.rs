//! The async side of a connector: one multiplexed connection that every async container made
//! from it shares, and dedicated connections for calls that block in the server.
//!
//! Requests of any number of tasks are pipelined on the shared connection: pottery's own
//! ([`AsyncConnection`], driven by the calling tasks themselves), or the `redis` crate's
//! `MultiplexedConnection` where pottery's cannot go (TLS, or a connection the user gave), or
//! its async cluster connection, which multiplexes per node. A task that drops its call mid-way
//! leaves the connection usable: the reply is read and discarded when it comes. When the
//! connection breaks, the call that saw it fails and the next call of any container opens a new
//! one (one connect, however many tasks ask at once).

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::{ConnectionLike as _, MultiplexedConnection};
use redis::cluster::ClusterConfig;
use redis::{AsyncConnectionConfig, Value};

use crate::error::{Error, Result};
use crate::face::operation::Request;
use crate::transport::async_socket::AsyncConnection;
use crate::transport::connector::{
    breaks_connection, into_error, keep_idle, lock, moved_before_running, Origin, Shared,
    DEFAULT_CONTAINER_TIMEOUT,
};
use crate::transport::socket::Endpoint;

/// An open async connection; both kinds serve several requests at once and are cheap to clone.
#[derive(Clone)]
pub(crate) enum AsyncSession {
    /// Pottery's own connection to a server.
    Own(AsyncConnection),
    /// The `redis` crate's, to a server pottery's cannot reach (TLS), or given by the user.
    Server(MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl AsyncSession {
    async fn send(&mut self, request: &Request, key: &str) -> redis::RedisResult<Value> {
        match (self, request) {
            (Self::Own(connection), Request::Command(command)) => {
                connection.send_command(command).await
            }
            (Self::Own(connection), Request::Pipeline(pipeline)) => {
                pipeline.query_async::<Value>(connection).await
            }
            (Self::Server(connection), Request::Command(command)) => {
                connection.req_packed_command(command).await
            }
            (Self::Server(connection), Request::Pipeline(pipeline)) => {
                pipeline.query_async::<Value>(connection).await
            }
            (Self::Cluster(connection), Request::Command(command)) => {
                connection.req_packed_command(command).await
            }
            (Self::Cluster(connection), Request::Pipeline(pipeline)) => {
                match pipeline.query_async::<Value>(connection).await {
                    Err(error) if moved_before_running(&error, pipeline) => {
                        // As for sync cluster connections (see `session::send`).
                        redis::cmd("EXISTS").arg(key).exec_async(connection).await?;
                        pipeline.query_async::<Value>(connection).await
                    }
                    other => other,
                }
            }
        }
    }

    /// Whether `error`, returned by this session, means that it must not be used again.
    fn broken_by(&self, error: &redis::RedisError) -> bool {
        breaks_connection(error) || matches!(self, Self::Own(connection) if connection.is_broken())
    }

    /// Sets how long the calls through this clone wait for replies (a cluster connection keeps
    /// the timeout it was opened with).
    fn set_response_timeout(&mut self, timeout: Duration) {
        match self {
            Self::Own(connection) => connection.set_response_timeout(timeout),
            Self::Server(connection) => connection.set_response_timeout(timeout),
            Self::Cluster(_) => {}
        }
    }
}

/// The shared connection (with a number that tells one connection from the next) and the
/// idle dedicated ones.
pub(crate) struct Multiplexed {
    current: Mutex<Option<(u64, AsyncSession)>>,
    /// Held while connecting, so that concurrent first calls open one connection.
    connecting: tokio::sync::Mutex<u64>,
    /// An open connection the user gave: never replaced.
    given: bool,
    dedicated: Mutex<Vec<AsyncSession>>,
}

impl Multiplexed {
    pub(crate) fn new(given: Option<MultiplexedConnection>) -> Self {
        let given_connection = given.is_some();
        Self {
            current: Mutex::new(given.map(|connection| (0, AsyncSession::Server(connection)))),
            connecting: tokio::sync::Mutex::new(0),
            given: given_connection,
            dedicated: Mutex::new(Vec::new()),
        }
    }

    async fn session(&self, origin: Option<&Origin>) -> Result<(u64, AsyncSession)> {
        if let Some(current) = lock(&self.current).clone() {
            return Ok(current);
        }
        let mut opened = self.connecting.lock().await;
        if let Some(current) = lock(&self.current).clone() {
            // Another task connected while this one waited.
            return Ok(current);
        }
        let Some(origin) = origin.filter(|_| !self.given) else {
            return Err(Error::ConnectionBroken);
        };
        let session = open(origin, DEFAULT_CONTAINER_TIMEOUT).await?;
        *opened = opened.wrapping_add(1);
        *lock(&self.current) = Some((*opened, session.clone()));
        Ok((*opened, session))
    }

    /// The open connection the user gave, if any (a clone: it is multiplexed).
    pub(crate) fn given(&self) -> Option<MultiplexedConnection> {
        if !self.given {
            return None;
        }
        match lock(&self.current).as_ref() {
            Some((_, AsyncSession::Server(connection))) => Some(connection.clone()),
            _ => None,
        }
    }

    /// Forgets connection number `number` if it is still the current one.
    fn broke(&self, number: u64) {
        if self.given {
            return;
        }
        let mut current = lock(&self.current);
        if current
            .as_ref()
            .is_some_and(|(current, _)| *current == number)
        {
            *current = None;
        }
    }
}

/// Opens an async connection whose replies time out after `response_timeout` (the redis
/// crate's default of 500 ms is far too short for a loaded server).
async fn open(origin: &Origin, response_timeout: Duration) -> redis::RedisResult<AsyncSession> {
    match origin {
        Origin::Server(client) => {
            if let Some(endpoint) = Endpoint::for_info(client.get_connection_info()) {
                let connection = AsyncConnection::open(&endpoint, response_timeout).await?;
                return Ok(AsyncSession::Own(connection));
            }
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))
                .set_response_timeout(Some(response_timeout));
            let connection = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            Ok(AsyncSession::Server(connection))
        }
        Origin::Cluster(client) => {
            let config = ClusterConfig::new()
                .set_connection_timeout(DEFAULT_CONTAINER_TIMEOUT)
                .set_response_timeout(response_timeout);
            let connection = client.get_async_connection_with_config(config).await?;
            Ok(AsyncSession::Cluster(connection))
        }
        Origin::Invalid(error) => Err(error.clone()),
    }
}

/// How long a dedicated connection for blocking calls waits for replies: the longest blocking
/// wait plus the usual timeout (set per call on server connections; a cluster connection keeps
/// the one it was opened with).
const DEDICATED_RESPONSE_TIMEOUT: Duration = Duration::from_millis((1 << 40) + 5_000);

impl Shared {
    /// Sends `request` over the shared multiplexed connection, or, for a request that blocks
    /// in the server for up to `blocking`, over a dedicated connection.
    pub(crate) async fn send_async(
        &self,
        request: &Request,
        key: &str,
        blocking: Option<Duration>,
    ) -> Result<Value> {
        if let (Some(wait), Some(origin)) = (blocking, self.origin()) {
            if !self.multiplexed.given {
                return self.send_dedicated_async(origin, request, key, wait).await;
            }
        }
        let (number, mut session) = self.multiplexed.session(self.origin()).await?;
        if let Some(wait) = blocking {
            // A connection the user gave: this clone of it waits longer than the others.
            session.set_response_timeout(wait + DEFAULT_CONTAINER_TIMEOUT);
        }
        let sent = session.send(request, key).await;
        sent.map_err(|error| {
            if error.is_unrecoverable_error() || session.broken_by(&error) {
                self.multiplexed.broke(number);
            }
            into_error(error)
        })
    }

    async fn send_dedicated_async(
        &self,
        origin: &Origin,
        request: &Request,
        key: &str,
        wait: Duration,
    ) -> Result<Value> {
        let idle = lock(&self.multiplexed.dedicated).pop();
        let mut session = match idle {
            Some(session) => session,
            None => open(origin, DEDICATED_RESPONSE_TIMEOUT).await?,
        };
        session.set_response_timeout(wait + DEFAULT_CONTAINER_TIMEOUT);
        // Dropped with this future if the caller gives up: a reply still owed to a connection
        // must never answer the next blocking call.
        match session.send(request, key).await {
            Ok(value) => {
                keep_idle(&self.multiplexed.dedicated, session);
                Ok(value)
            }
            Err(error) if !session.broken_by(&error) => {
                keep_idle(&self.multiplexed.dedicated, session);
                Err(into_error(error))
            }
            Err(error) => Err(into_error(error)),
        }
    }
}
