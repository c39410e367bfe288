//! [`SyncMaster`]: the sync connection to one master, over pottery's own socket where it can
//! be (polled with the other masters), else a `redis::Connection` or a cluster connection.

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConfig, ClusterConnection};
use redis::ConnectionLike as _;
use redis::{Client, Connection, Value};

use crate::error::{Error, Result, Unavailable};
use crate::transport::master::{sequential_connect_waits, Backoff, Identity, Resolved};
use crate::transport::scripted::{self, is_noscript, Encoding, MasterMode, Scripted, PROBE};
use crate::transport::socket::{Endpoint, Socket};

/// Shortest read timeout: replies already buffered are still collected after a round's time is
/// up, and a zero timeout is an error for sockets.
const MIN_READ_TIMEOUT: Duration = Duration::from_millis(1);

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

/// A round's request, packed in every encoding a master may send it in: the module command
/// (or a plain command), and for a module command its script by hash and whole (see
/// [`crate::transport::scripted`]).
#[derive(Debug, Default)]
pub(crate) struct Request {
    module: Vec<u8>,
    scripted: Option<&'static Scripted>,
    by_hash: Vec<u8>,
    whole: Vec<u8>,
}

impl Request {
    /// Packs `command`; its script forms only when `scripts` (some master may send them).
    pub(crate) fn pack(&mut self, command: &redis::Cmd, scripts: bool) {
        self.module.clear();
        command.write_packed_command(&mut self.module);
        self.scripted = scripted::scripted(command);
        self.by_hash.clear();
        self.whole.clear();
        if let (Some(scripted), true) = (self.scripted, scripts) {
            scripted
                .invocation(command, true)
                .write_packed_command(&mut self.by_hash);
            scripted
                .invocation(command, false)
                .write_packed_command(&mut self.whole);
        }
    }

    /// Whether the command has a script (a module command).
    pub(crate) fn is_scripted(&self) -> bool {
        self.scripted.is_some()
    }

    /// A plain command, already packed.
    #[cfg(test)]
    pub(crate) fn plain(packed: &[u8]) -> Self {
        Self {
            module: packed.to_vec(),
            ..Self::default()
        }
    }
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
    id: Identity,
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
    /// Whether the module's commands or their scripts are sent.
    mode: MasterMode,
    /// The probe's reply comes after this many other replies (`None`: no probe under way).
    probe_in: Option<usize>,
    /// This round's request went as a script (its reply is decoded as one).
    used_script: bool,
    /// This round's request went by hash: a `NOSCRIPT` reply sends the script whole.
    by_hash: bool,
}

/// In which of the round's read passes a master is read (see [`SyncMaster::read_pass`]).
pub(crate) const READ_PASSES: [u8; 3] = [0, 1, 2];

/// Stale replies a connection may hold before the fan-out reads it first to drain them.
const MAX_STALE_REPLIES: usize = 3;

impl SyncMaster {
    /// The connection slot of master number `index`: connected on first use unless given open.
    pub(crate) fn new(
        resolved: Resolved,
        index: usize,
        timeout: Duration,
        mode: MasterMode,
    ) -> Result<Self> {
        let (reopen, link) = match resolved {
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
            Resolved::OpenCluster(connection) => {
                connection.set_write_timeout(Some(timeout))?;
                connection.set_read_timeout(Some(timeout))?;
                (None, Some(Link::Cluster(connection)))
            }
            Resolved::Cluster(client) => (Some(Reopen::Cluster(client)), None),
            #[cfg(feature = "tokio")]
            Resolved::OpenMultiplexed(_) => {
                return Err(Error::InvalidArgument {
                    argument: "masters",
                    problem: "an async redis::aio::MultiplexedConnection cannot serve a sync type",
                })
            }
        };
        Ok(Self {
            id: Identity { index, timeout },
            reopen,
            link,
            unread: 0,
            awaiting: false,
            in_round: false,
            proven: true,
            backoff: Backoff::default(),
            mode,
            probe_in: None,
            used_script: false,
            by_hash: false,
        })
    }

    pub(crate) fn index(&self) -> usize {
        self.id.index
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    /// Whether this master has not found out yet whether it has the module (in `Auto`, once
    /// per connection: a master to be reconnected asks again).
    pub(crate) fn must_ask_for_module(&self) -> bool {
        self.mode.must_ask_for_module(self.link.is_some())
    }

    /// Whether a waiting round may send this master the module command: found to have the
    /// module, or not reached yet to find out.
    pub(crate) fn may_wait(&self) -> bool {
        self.mode.may_wait(self.link.is_some())
    }

    /// Whether this round's request may go to this master as a script (so the round packs
    /// the script forms).
    pub(crate) fn may_send_scripts(&self) -> bool {
        self.mode.may_send_scripts(self.link.is_some())
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

    /// Before a request that may wait in the master: closes the connection if an earlier
    /// request on it is still unanswered (it may be waiting in the master's queue, and a new
    /// one written behind it would run only once it ends, maybe after the caller's release).
    /// The master drops a closed client's waits and unread requests; reopened on the send.
    pub(crate) fn drop_if_outstanding(&mut self) {
        if self.unread > 0 {
            self.link = None;
            self.unread = 0;
            self.awaiting = false;
        }
    }

    /// Stops waiting for this round's reply; it stays counted in `unread` and is skipped later.
    pub(crate) fn abandon(&mut self) {
        self.awaiting = false;
    }

    /// How this master sends `request` this round: the module command, the script by hash,
    /// or (mode unknown) the script whole, after the probe unless one is under way.
    fn encoding(&self, request: &Request) -> Encoding {
        match request.scripted {
            Some(scripted) => self.mode.encoding_for(scripted),
            None => Encoding::Module,
        }
    }

    /// Notes that `request` goes out with `encoding` (a script sent whole is cached).
    fn sending(&mut self, request: &Request, encoding: Encoding) {
        if let Some(scripted) = request.scripted {
            self.mode.sending(scripted, encoding);
        }
    }

    /// Writes `request` in this master's encoding, connecting first if needed with whatever
    /// time is left until `round_end` (at most the per-master timeout). A master that does not
    /// know yet whether it has the module pipelines the probe before the script, whose reply
    /// is right either way: no round trip is spent on finding out.
    pub(crate) fn send(&mut self, request: &Request, round_end: Instant) -> Result<()> {
        if self.link.is_none() {
            self.connect(round_end)?;
        }
        let mut encoding = self.encoding(request);
        if encoding != Encoding::Module && request.whole.is_empty() {
            // The round packed no scripts: only when every master was known to have the
            // module (see `may_send_scripts`).
            encoding = Encoding::Module;
        }
        self.used_script = encoding != Encoding::Module;
        self.by_hash = encoding == Encoding::Script;
        self.sending(request, encoding);
        let probe = encoding == Encoding::Probe && self.probe_in.is_none();
        let packed: &[u8] = match encoding {
            Encoding::Module => &request.module,
            Encoding::Script => &request.by_hash,
            Encoding::Probe | Encoding::Whole => &request.whole,
        };
        let parts: [&[u8]; 2] = if probe {
            [PROBE, packed]
        } else {
            [packed, &[]]
        };
        let mut sent = Ok(());
        for part in parts.into_iter().filter(|part| !part.is_empty()) {
            sent = match self.link.as_mut() {
                None => return Err(self.id.unavailable(Unavailable::ConnectionBroken)),
                Some(Link::Own(socket)) => socket.send(part).map_err(redis::RedisError::from),
                Some(Link::Redis { connection, .. }) => connection.send_packed_command(part),
                Some(Link::Cluster(_)) => {
                    // Sent by `request`, reply and all.
                    self.awaiting = true;
                    return Ok(());
                }
            };
            if sent.is_err() {
                break;
            }
            if probe && part == PROBE {
                self.probe_in = Some(self.unread);
            }
            self.unread += 1;
        }
        match sent {
            Ok(()) => {
                self.awaiting = true;
                Ok(())
            }
            Err(error) => Err(self.broke(error)),
        }
    }

    /// The reply to this round's request in the module command's shape (see
    /// [`scripted::finish`]).
    pub(crate) fn finish(&self, request: &Request, reply: Result<Value>) -> Result<Value> {
        scripted::finish(request.scripted, self.used_script, reply)
    }

    /// Waits for the reply to this round's request, skipping replies left unread by earlier
    /// rounds, until `round_end` (and at least [`MIN_READ_TIMEOUT`], to collect a reply that is
    /// already there).
    pub(crate) fn receive(&mut self, request: &Request, round_end: Instant) -> Result<Value> {
        loop {
            if let Some(reply) = self.buffered_reply(request) {
                return reply;
            }
            let wanted = round_end
                .saturating_duration_since(Instant::now())
                .max(MIN_READ_TIMEOUT);
            // Changing the timeout is a system call: skip it when the one set is close enough.
            let slack = (self.id.timeout / 8).min(Duration::from_millis(1));
            let read = match self.link.as_mut() {
                None | Some(Link::Cluster(_)) => {
                    return Err(self.id.unavailable(Unavailable::ConnectionBroken))
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
                        Ok(value) => match self.replied(value, request) {
                            Some(reply) => return reply,
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
    pub(crate) fn request(&mut self, request: &Request) -> Result<Value> {
        self.awaiting = false;
        let encoding = self.encoding(request);
        self.used_script = encoding != Encoding::Module;
        self.sending(request, encoding);
        let Some(Link::Cluster(connection)) = self.link.as_mut() else {
            return Err(self.id.unavailable(Unavailable::ConnectionBroken));
        };
        let mut reply = Ok(Value::Nil);
        if encoding == Encoding::Probe {
            reply = connection.req_packed_command(PROBE);
            if let Ok(info) = &reply {
                self.mode.learn(info);
            }
        }
        if reply.is_ok() {
            reply = connection.req_packed_command(match encoding {
                Encoding::Module => &request.module,
                Encoding::Script => &request.by_hash,
                Encoding::Probe | Encoding::Whole => &request.whole,
            });
        }
        let noscript = match &reply {
            Ok(value) => is_noscript(value),
            Err(error) => error.code() == Some("NOSCRIPT"),
        };
        if encoding == Encoding::Script && noscript {
            reply = connection.req_packed_command(&request.whole);
        }
        match reply {
            Ok(value) => {
                self.proven = true;
                self.backoff.succeeded();
                Ok(value)
            }
            Err(error) if error.is_timeout() || error.is_unrecoverable_error() => {
                Err(self.broke(error))
            }
            Err(error) => Err(self.id.error(error)),
        }
    }

    /// Reads what an own socket holds, after `poll` said it is readable; the reply to this
    /// round's request once it is complete (`None` while it is not).
    pub(crate) fn read_available(&mut self, request: &Request) -> Option<Result<Value>> {
        let read = match self.link.as_mut() {
            Some(Link::Own(socket)) => socket.read_available(),
            _ => return Some(Err(self.id.unavailable(Unavailable::ConnectionBroken))),
        };
        match read {
            Ok(()) => self.buffered_reply(request),
            // Readiness without data (a spurious wake-up): wait for the next.
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(error) => Some(Err(self.broke(error.into()))),
        }
    }

    /// The reply to this round's request if an own socket already read it, skipping stale
    /// replies; `None` when more bytes are needed (and always for a `redis::Connection`, which
    /// buffers inside the `redis` crate).
    fn buffered_reply(&mut self, request: &Request) -> Option<Result<Value>> {
        loop {
            let Some(Link::Own(socket)) = self.link.as_mut() else {
                return None;
            };
            match socket.next_reply() {
                Ok(None) => return None,
                Ok(Some(value)) => {
                    if let Some(reply) = self.replied(value, request) {
                        return Some(reply);
                    }
                }
                Err(error) => return Some(Err(self.broke(error))),
            }
        }
    }

    /// Accounts for one reply read; `Some` when it is the one this round waits for. The
    /// probe's reply sets the mode; a `NOSCRIPT` reply to the script by hash (a server that
    /// restarted or ran `SCRIPT FLUSH`) sends the script whole and waits for that reply.
    fn replied(&mut self, value: Value, request: &Request) -> Option<Result<Value>> {
        self.proven = true;
        self.backoff.succeeded();
        self.unread = self.unread.saturating_sub(1);
        match self.probe_in {
            Some(0) => {
                self.probe_in = None;
                self.mode.learn(&value);
                return None;
            }
            Some(before) => self.probe_in = Some(before - 1),
            None => {}
        }
        if self.unread > 0 {
            return None;
        }
        if self.by_hash && is_noscript(&value) {
            self.by_hash = false;
            let sent = match self.link.as_mut() {
                Some(Link::Own(socket)) => {
                    socket.send(&request.whole).map_err(redis::RedisError::from)
                }
                Some(Link::Redis { connection, .. }) => {
                    connection.send_packed_command(&request.whole)
                }
                _ => return Some(Err(self.id.unavailable(Unavailable::ConnectionBroken))),
            };
            return match sent {
                Ok(()) => {
                    self.unread += 1;
                    None
                }
                Err(error) => Some(Err(self.broke(error))),
            };
        }
        self.awaiting = false;
        if let Some(Link::Own(socket)) = &self.link {
            if socket.has_unparsed_bytes() {
                // More bytes than requests: the master sent something unasked, so the next
                // reply could not be trusted to answer the next request. Reopen next time.
                self.link = None;
            }
        }
        Some(Ok(value))
    }

    /// The round ended before this master's reply: the connection may yet receive it (or half
    /// of it), so it is dropped, and the master backs off.
    pub(crate) fn time_out(&mut self) -> Error {
        self.broke(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
    }

    fn connect(&mut self, round_end: Instant) -> Result<()> {
        let now = Instant::now();
        let Some(reopen) = &self.reopen else {
            return Err(self.id.unavailable(Unavailable::ConnectionBroken));
        };
        if !self.backoff.allows(now) {
            return Err(self.id.unavailable(Unavailable::Backoff));
        }
        let budget = round_end
            .saturating_duration_since(now)
            .min(self.id.timeout);
        if budget.is_zero() {
            return Err(self.id.timed_out());
        }
        let opened = match reopen {
            Reopen::Own(endpoint) => endpoint
                .connect(budget, self.id.timeout)
                .map(|socket| Link::Own(Box::new(socket)))
                .map_err(redis::RedisError::from),
            Reopen::Cluster(client) => {
                let config = ClusterConfig::new()
                    .set_connection_timeout(budget)
                    .set_response_timeout(self.id.timeout);
                client
                    .get_connection_with_config(config)
                    .map(|connection| Link::Cluster(Box::new(connection)))
            }
            Reopen::Redis(client) => {
                // The redis crate applies the timeout to each step of the connect separately.
                let per_step = budget / sequential_connect_waits(client);
                if per_step.is_zero() {
                    return Err(self.id.timed_out());
                }
                client
                    .get_connection_with_timeout(per_step)
                    .and_then(|connection| {
                        connection.set_write_timeout(Some(self.id.timeout))?;
                        connection.set_read_timeout(Some(self.id.timeout))?;
                        Ok(Link::Redis {
                            connection: Box::new(connection),
                            read_timeout: Some(self.id.timeout),
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
                self.probe_in = None;
                self.mode.reconnected();
                Ok(())
            }
            Err(error) => {
                self.backoff.failed(Instant::now());
                Err(self.id.error(error))
            }
        }
    }

    /// Drops a connection whose state is unknown after `error` (a timeout may leave half a
    /// reply on the socket) and says when to try again.
    fn broke(&mut self, error: redis::RedisError) -> Error {
        self.link = None;
        self.unread = 0;
        self.awaiting = false;
        self.probe_in = None;
        if error.is_timeout() || !self.proven {
            // A paused or overloaded master, or one that never answered on this connection:
            // reconnecting at once would likely cost another timeout. (A proven connection
            // that breaks otherwise, as when the server restarts, is reopened at once.)
            self.backoff.failed(Instant::now());
        }
        self.id.error(error)
    }
}
