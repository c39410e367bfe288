//! [`AsyncMaster`]: the async connection to one master, a multiplexed or cluster connection
//! (re)opened lazily.

use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionLike as _, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::{AsyncConnectionConfig, Client, Value};

use crate::error::{Error, Result, Unavailable};
use crate::transport::async_socket::AsyncConnection;
use crate::transport::master::{Backoff, Identity, Resolved};
use crate::transport::scripted::{self, is_noscript, probe, Encoding, MasterMode, Scripted};
use crate::transport::socket::Endpoint;

/// The `redis` crate's error for a reply that did not come in time.
fn timed_out() -> redis::RedisError {
    std::io::Error::from(std::io::ErrorKind::TimedOut).into()
}

/// How an async master's connection is reopened.
enum AsyncReopen {
    /// Pottery's own connection ([`AsyncConnection`]): plain TCP and Unix sockets.
    Own(Box<Endpoint>),
    /// The `redis` crate's multiplexed connection, for what pottery does not do itself (TLS).
    Client(Box<Client>),
    Cluster(Box<ClusterClient>),
}

/// An open async connection; every kind may be used by several requests at once.
enum AsyncLink {
    Own(AsyncConnection),
    Multiplexed(MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

/// A connection attempt in progress, kept across calls so that a fan-out that stops early (its
/// quorum reached) does not throw away a half-made connection.
type Connecting = BoxFuture<'static, redis::RedisResult<AsyncLink>>;

/// The async connection to one master: a multiplexed or cluster connection, (re)opened lazily.
pub(crate) struct AsyncMaster {
    id: Identity,
    reopen: Option<AsyncReopen>,
    connection: Option<AsyncLink>,
    /// In a `Mutex` only so that `AsyncMaster` is `Sync` (a boxed future is not); it is only
    /// ever reached through `&mut self`, with `get_mut`, which never locks.
    connecting: Option<std::sync::Mutex<Connecting>>,
    backoff: Backoff,
    /// Whether the module's commands or their scripts are sent.
    mode: MasterMode,
    /// The redis crate's connections time replies out after the per-master timeout, unless
    /// this connection serves rounds that wait in the master (which bound the wait instead).
    bounded_replies: bool,
}

/// A round's command, and for a module command its script by hash and whole when some master
/// sends scripts (see [`crate::transport::scripted`]).
pub(crate) struct Request<'a> {
    module: &'a redis::Cmd,
    scripted: Option<&'static Scripted>,
    by_hash: redis::Cmd,
    whole: redis::Cmd,
}

impl<'a> Request<'a> {
    /// The encodings of `command`; its script forms only when `scripts`.
    pub(crate) fn new(command: &'a redis::Cmd, scripts: bool) -> Self {
        let scripted = scripted::scripted(command);
        let (by_hash, whole) = match scripted {
            Some(scripted) if scripts => (
                scripted.invocation(command, true),
                scripted.invocation(command, false),
            ),
            _ => (redis::Cmd::new(), redis::Cmd::new()),
        };
        Self {
            module: command,
            scripted,
            by_hash,
            whole,
        }
    }
}

impl AsyncMaster {
    /// The connection slot of master number `index`: connected on first use unless given open.
    pub(crate) fn new(
        resolved: Resolved,
        index: usize,
        timeout: Duration,
        mode: MasterMode,
    ) -> Result<Self> {
        let (reopen, connection) = match resolved {
            Resolved::Reconnectable(client) => {
                let reopen = match Endpoint::for_info(client.get_connection_info()) {
                    Some(endpoint) => AsyncReopen::Own(Box::new(endpoint)),
                    None => AsyncReopen::Client(Box::new(client)),
                };
                (Some(reopen), None)
            }
            Resolved::Cluster(client) => (Some(AsyncReopen::Cluster(client)), None),
            Resolved::OpenMultiplexed(mut connection) => {
                connection.set_response_timeout(timeout);
                (None, Some(AsyncLink::Multiplexed(connection)))
            }
            Resolved::Open(_) | Resolved::OpenCluster(_) => {
                return Err(Error::InvalidArgument {
                    argument: "masters",
                    problem: "an open sync connection cannot serve an async type",
                })
            }
        };
        Ok(Self {
            id: Identity { index, timeout },
            reopen,
            connection,
            connecting: None,
            backoff: Backoff::default(),
            mode,
            bounded_replies: true,
        })
    }

    /// This slot for rounds that wait in the master: no response timeout of the redis crate's
    /// below the round's own bound.
    pub(crate) fn unbounded_replies(mut self) -> Self {
        self.bounded_replies = false;
        self
    }

    /// Closes the connection (reopened on the next request): an earlier request on it may
    /// still wait in the master's queue, and one sent behind it would run only once it ends.
    pub(crate) fn reopen_next(&mut self) {
        if self.reopen.is_some() {
            self.connection = None;
        }
    }

    pub(crate) fn index(&self) -> usize {
        self.id.index
    }

    /// Whether this master has not found out yet whether it has the module (in `Auto`, once
    /// per connection: a master to be reconnected asks again).
    pub(crate) fn must_ask_for_module(&self) -> bool {
        self.mode.must_ask_for_module(self.connection.is_some())
    }

    /// Whether a waiting round may send this master the module command: found to have the
    /// module, or not reached yet to find out.
    pub(crate) fn may_wait(&self) -> bool {
        self.mode.may_wait(self.connection.is_some())
    }

    /// Whether this round's request may go to this master as a script (so the round makes
    /// the script forms).
    pub(crate) fn may_send_scripts(&self) -> bool {
        self.mode.may_send_scripts(self.connection.is_some())
    }

    /// Sends `request` in this master's encoding and waits for its reply, in the module
    /// command's shape, until `round_end`. A master that does not know yet whether it has the
    /// module asks first (once per connection); a `NOSCRIPT` reply to the script by hash sends
    /// it whole.
    pub(crate) async fn request(
        &mut self,
        request: &Request<'_>,
        round_end: tokio::time::Instant,
    ) -> Result<Value> {
        let mut encoding = Encoding::Module;
        if let Some(scripted) = request.scripted {
            encoding = self.mode.encoding_for(scripted);
            if encoding == Encoding::Probe {
                let info = self.send(&probe(), round_end).await?;
                self.mode.learn(&info);
                // Still unknown (the server refused COMMAND): the script whole is right anyway.
                encoding = self.mode.encoding_for(scripted);
            }
            if encoding != Encoding::Module && request.whole.args_iter().next().is_none() {
                // No scripts made: only when every master was known to have the module.
                encoding = Encoding::Module;
            }
            self.mode.sending(scripted, encoding);
        }
        let command = match encoding {
            Encoding::Module => request.module,
            Encoding::Script => &request.by_hash,
            Encoding::Probe | Encoding::Whole => &request.whole,
        };
        let mut reply = self.send(command, round_end).await;
        let noscript = match &reply {
            Ok(value) => is_noscript(value),
            Err(Error::Redis(error)) => error.code() == Some("NOSCRIPT"),
            Err(_) => false,
        };
        if encoding == Encoding::Script && noscript {
            reply = self.send(&request.whole, round_end).await;
        }
        scripted::finish(request.scripted, encoding != Encoding::Module, reply)
    }

    /// Sends `command` and waits for its reply until `round_end` (dropping this future mid-way
    /// leaves the connection usable). Pottery's own connection bounds the wait itself; the
    /// redis crate's connections get a timer.
    async fn send(
        &mut self,
        command: &redis::Cmd,
        round_end: tokio::time::Instant,
    ) -> Result<Value> {
        if self.connection.is_none() {
            let connecting = tokio::time::timeout_at(round_end, self.connect()).await;
            connecting.unwrap_or_else(|_| Err(self.id.timed_out()))?;
        }
        let left = round_end.saturating_duration_since(tokio::time::Instant::now());
        let sent = match self.connection.as_mut() {
            None => return Err(self.id.unavailable(Unavailable::ConnectionBroken)),
            Some(AsyncLink::Own(connection)) => connection.send_command_within(command, left).await,
            Some(AsyncLink::Multiplexed(connection)) => {
                let reply = tokio::time::timeout(left, connection.send_packed_command(command));
                reply.await.unwrap_or_else(|_| Err(timed_out()))
            }
            Some(AsyncLink::Cluster(connection)) => {
                let reply = tokio::time::timeout(left, connection.req_packed_command(command));
                reply.await.unwrap_or_else(|_| Err(timed_out()))
            }
        };
        match sent {
            Ok(value) => {
                self.backoff.succeeded();
                Ok(value)
            }
            Err(error) => {
                let own_broke =
                    matches!(&self.connection, Some(AsyncLink::Own(own)) if own.is_broken());
                if error.is_unrecoverable_error() || own_broke {
                    // The connection's socket is gone: reopen it on the next request.
                    self.connection = None;
                }
                Err(self.id.error(error))
            }
        }
    }

    async fn connect(&mut self) -> Result<()> {
        let Some(reopen) = &self.reopen else {
            return Err(self.id.unavailable(Unavailable::ConnectionBroken));
        };
        if self.connecting.is_none() {
            if !self.backoff.allows(Instant::now()) {
                return Err(self.id.unavailable(Unavailable::Backoff));
            }
            let timeout = self.id.timeout;
            let connecting: Connecting = match reopen {
                AsyncReopen::Own(endpoint) => {
                    let endpoint = Endpoint::clone(endpoint);
                    Box::pin(async move {
                        AsyncConnection::open_within(&endpoint, timeout, timeout)
                            .await
                            .map(AsyncLink::Own)
                    })
                }
                AsyncReopen::Client(client) => {
                    let client = Client::clone(client);
                    // redis 1.x times replies out after 500 ms unless told otherwise.
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(self.bounded_replies.then_some(timeout));
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
            return Err(self.id.unavailable(Unavailable::Backoff));
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
                self.mode.reconnected();
                Ok(())
            }
            Err(error) => {
                self.backoff.failed(Instant::now());
                Err(self.id.error(error))
            }
        }
    }
}
