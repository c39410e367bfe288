//! The sync fan-out's own connection to a master: a plain TCP or Unix socket that `pottery`
//! opens, authenticates and reads itself, so that a round can `poll(2)` every master at once
//! and read each reply as soon as it arrives (a `redis::Connection` exposes no socket to poll).
//! Its [`Endpoint`] (address, TCP settings, handshake) also opens the async face's own
//! connections (`transport::async_socket`).
//!
//! The handshake is pipelined: `AUTH` and `SELECT` go out with the first command, and their
//! replies are checked when they come back, before the command's. It always speaks RESP2, whose
//! replies [`ReplyParser`] reads into the same `redis::Value`s the `redis` crate produces, so a
//! master's RESP3 setting does not matter here. What this cannot do (TLS) stays with the
//! `redis` crate ([`Endpoint::for_info`] declines it).

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use redis::io::tcp::{socket2::SockRef, TcpSettings};
use redis::{ConnectionAddr, ConnectionInfo, ErrorKind, RedisError, Value};
use rustix::net::{RecvFlags, SendFlags};

use crate::transport::resp::{self, Arg, ReplyParser};

/// Bytes read from a socket in one system call at most; replies to pottery's commands are a few
/// dozen bytes, and the buffer grows only for a reply that does not fit.
const READ_CHUNK: usize = 4096;

/// Where a master listens.
#[derive(Debug, Clone)]
pub(crate) enum Address {
    Tcp(String, u16),
    #[cfg(unix)]
    Unix(PathBuf),
}

/// A handshake command whose reply is checked before the first command's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Auth,
    Select,
}

/// How to open (and reopen) an own connection to one server: the sync fan-out's [`Socket`], and
/// the async face's shared connection (`transport::async_socket`).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    address: Address,
    tcp: TcpSettings,
    /// `AUTH` and `SELECT` as needed, packed once; sent before the first command.
    handshake: Vec<u8>,
    steps: Vec<Step>,
    /// The database selected, for `get_db` of the async connection.
    #[cfg(feature = "tokio")]
    db: i64,
}

impl Endpoint {
    /// The endpoint for `info`, or `None` when the `redis` crate must connect (TLS, or a
    /// wildcard address, which it refuses with a clear error).
    pub(crate) fn for_info(info: &ConnectionInfo) -> Option<Self> {
        let address = match info.addr() {
            ConnectionAddr::Tcp(host, _) if matches!(host.as_str(), "0.0.0.0" | "::") => {
                return None
            }
            ConnectionAddr::Tcp(host, port) => Address::Tcp(host.clone(), *port),
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => Address::Unix(path.clone()),
            _ => return None,
        };
        let settings = info.redis_settings();
        let mut handshake = Vec::new();
        let mut steps = Vec::new();
        if let Some(password) = settings.password() {
            let mut args = vec![Arg::Bytes(b"AUTH")];
            if let Some(username) = settings.username() {
                args.push(Arg::Bytes(username.as_bytes()));
            }
            args.push(Arg::Bytes(password.as_bytes()));
            resp::append(&mut handshake, &args);
            steps.push(Step::Auth);
        }
        if settings.db() != 0 {
            resp::append(
                &mut handshake,
                &[Arg::Bytes(b"SELECT"), Arg::Int(settings.db())],
            );
            steps.push(Step::Select);
        }
        Some(Self {
            address,
            tcp: info.tcp_settings().clone(),
            handshake,
            steps,
            #[cfg(feature = "tokio")]
            db: settings.db(),
        })
    }

    /// Where the server listens.
    #[cfg(feature = "tokio")]
    pub(crate) fn address(&self) -> &Address {
        &self.address
    }

    /// The database the connection selects.
    #[cfg(feature = "tokio")]
    pub(crate) fn db(&self) -> i64 {
        self.db
    }

    /// The packed `AUTH` and `SELECT` to write before the first command (empty when neither is
    /// needed), and the checker of their replies.
    pub(crate) fn handshake(&self) -> (&[u8], Handshake) {
        let pending = self.steps.iter().rev().copied().collect();
        (&self.handshake, Handshake { pending })
    }

    /// Connects within `budget` and writes the handshake. `write_timeout` bounds every later
    /// write. The handshake's replies are checked as replies are read.
    pub(crate) fn connect(&self, budget: Duration, write_timeout: Duration) -> io::Result<Socket> {
        let deadline = Instant::now() + budget;
        let stream = match &self.address {
            Address::Tcp(host, port) => Stream::Tcp(self.connect_tcp(host, *port, deadline)?),
            #[cfg(unix)]
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        };
        stream.set_write_timeout(write_timeout)?;
        let (handshake, steps) = self.handshake();
        let mut socket = Socket {
            stream,
            inbox: Vec::with_capacity(READ_CHUNK),
            start: 0,
            parser: ReplyParser::default(),
            handshake: steps,
            read_timeout: None,
        };
        if !handshake.is_empty() {
            socket.send(handshake)?;
        }
        Ok(socket)
    }

    fn connect_tcp(&self, host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
        let mut last_error = None;
        for address in (host, port).to_socket_addrs()? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            match TcpStream::connect_timeout(&address, left) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    self.configure(SockRef::from(&stream))?;
                    return Ok(stream);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no address for the master's host")
        }))
    }

    /// The user's TCP settings, as the `redis` crate applies them, except that a linger time is
    /// not applied: `TcpSettings` does not reveal it. (Nagle's algorithm is turned off by the
    /// caller, on its stream type: every request is one small write that must leave at once.)
    pub(crate) fn configure(&self, socket: SockRef<'_>) -> io::Result<()> {
        if let Some(keepalive) = self.tcp.keepalive() {
            socket.set_tcp_keepalive(keepalive)?;
        }
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        if let Some(timeout) = self.tcp.user_timeout() {
            socket.set_tcp_user_timeout(Some(timeout))?;
        }
        Ok(())
    }
}

/// The stream under a [`Socket`].
#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.set_write_timeout(Some(timeout)),
            #[cfg(unix)]
            Self::Unix(stream) => stream.set_write_timeout(Some(timeout)),
        }
    }

    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.set_read_timeout(Some(timeout)),
            #[cfg(unix)]
            Self::Unix(stream) => stream.set_read_timeout(Some(timeout)),
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Tcp(stream) => stream.as_fd(),
            #[cfg(unix)]
            Self::Unix(stream) => stream.as_fd(),
        }
    }
}

/// An open own connection: the stream, the bytes read but not parsed yet, and the handshake
/// replies still expected.
#[derive(Debug)]
pub(crate) struct Socket {
    stream: Stream,
    /// Bytes read; those before `start` are parsed already.
    inbox: Vec<u8>,
    start: usize,
    parser: ReplyParser,
    /// Handshake replies still to come.
    handshake: Handshake,
    /// The `SO_RCVTIMEO` set on the socket, to skip redundant `setsockopt` calls.
    read_timeout: Option<Duration>,
}

impl Socket {
    /// Writes all of `bytes`; a write that blocks longer than the write timeout is an error.
    pub(crate) fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            // NOSIGNAL: a master that closed the connection is an error, not a SIGPIPE.
            match rustix::net::send(&self.stream, bytes, SendFlags::NOSIGNAL) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => bytes = &bytes[written..],
                Err(rustix::io::Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// The file descriptor to poll for readability.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// Reads what the socket holds without blocking (after `poll` said it is readable). An
    /// error when the master closed the connection.
    pub(crate) fn read_available(&mut self) -> io::Result<()> {
        self.read(RecvFlags::DONTWAIT)
    }

    /// Waits up to `timeout` for bytes and reads them; a timeout is an error of kind
    /// `WouldBlock` or `TimedOut`. `slack` is how far the timeout may be off to spare the
    /// system call that changes it.
    pub(crate) fn read_blocking(&mut self, timeout: Duration, slack: Duration) -> io::Result<()> {
        if self
            .read_timeout
            .is_none_or(|current| current.abs_diff(timeout) > slack)
        {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = Some(timeout);
        }
        self.read(RecvFlags::empty())
    }

    fn read(&mut self, flags: RecvFlags) -> io::Result<()> {
        if self.start == self.inbox.len() {
            self.inbox.clear();
            self.start = 0;
        } else if self.start > 0 {
            self.inbox.drain(..self.start);
            self.start = 0;
        }
        self.inbox.reserve(READ_CHUNK);
        loop {
            let spare = rustix::buffer::spare_capacity(&mut self.inbox);
            match rustix::net::recv(&self.stream, spare, flags) {
                Ok((0, _)) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The next complete reply among the bytes read, if any. Handshake replies are checked and
    /// consumed here: a refused `AUTH` or `SELECT` is an error, as the `redis` crate reports it.
    pub(crate) fn next_reply(&mut self) -> Result<Option<Value>, RedisError> {
        loop {
            let (used, reply) = self.parser.parse(&self.inbox[self.start..])?;
            self.start += used;
            let Some(reply) = reply else {
                return Ok(None);
            };
            if let Some(reply) = self.handshake.accept(reply)? {
                return Ok(Some(reply));
            }
        }
    }

    /// Whether bytes that are not part of a complete reply were read (a reply in progress, or
    /// bytes the master sent unasked).
    pub(crate) fn has_unparsed_bytes(&self) -> bool {
        self.start < self.inbox.len()
    }
}

/// The replies of a pipelined handshake, still to come: the first replies read on a new
/// connection are checked and consumed here, before any command's.
#[derive(Debug, Default)]
pub(crate) struct Handshake {
    /// The steps whose replies are still to come, the next one last.
    pending: Vec<Step>,
}

impl Handshake {
    /// Takes `reply` if it answers a handshake step (`None`; a refused `AUTH` or `SELECT` is
    /// an error, as the `redis` crate reports it), or gives it back as a command's reply.
    pub(crate) fn accept(&mut self, reply: Value) -> Result<Option<Value>, RedisError> {
        match self.pending.pop() {
            None => Ok(Some(reply)),
            Some(step) => check_handshake(step, &reply).map(|()| None),
        }
    }
}

/// The errors the `redis` crate gives when a handshake step is refused.
fn check_handshake(step: Step, reply: &Value) -> Result<(), RedisError> {
    match (step, reply) {
        (Step::Auth, Value::Okay) => Ok(()),
        (Step::Auth, Value::ServerError(_)) => Err((
            ErrorKind::AuthenticationFailed,
            "Password authentication failed",
        )
            .into()),
        (Step::Auth, _) => Err((
            redis::ServerErrorKind::ResponseError.into(),
            "Redis server refused to authenticate, returns Ok() != Value::Okay",
        )
            .into()),
        (Step::Select, Value::ServerError(error)) => Err((
            redis::ServerErrorKind::ResponseError.into(),
            "Redis server refused to switch database",
            error.details().unwrap_or_default().to_owned(),
        )
            .into()),
        (Step::Select, _) => Ok(()),
    }
}
