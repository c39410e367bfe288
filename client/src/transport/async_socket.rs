//! The async face's own multiplexed connection to a server: requests of any number of tasks
//! pipelined on one TCP or Unix socket, with no driver task and no channel.
//!
//! The callers drive the socket themselves. A call appends its packed request to the shared out
//! buffer, queues a reply slot and writes what the socket takes; then one waiting call at a
//! time is the *reader*: it reads, parses and hands every complete reply to the slot at the head
//! of the queue (waking that slot's task), until its own reply is in, and then passes the role
//! to the next waiting call. One task alone thus writes and reads its own reply, as a sync call
//! does; many tasks share the reads. Everything is behind one `std::sync::Mutex`, never held
//! across an await: each poll does non-blocking I/O under the lock and returns.
//!
//! A call dropped at any point leaves the connection usable: its slot is *abandoned* (its
//! replies are read and discarded when they come), a request it only partly wrote stays in the
//! out buffer and goes out with the next write, a reply half parsed stays in the shared read
//! buffer and parser, and the reader role passes on. A call whose reply does not come within
//! its response timeout, an I/O error, end of file or bytes that are not RESP2 break the
//! connection: every pending and later call fails with an I/O error, and the connector opens a
//! new one.
//!
//! It is opened from the same [`Endpoint`] as the sync fan-out's own sockets, with the same
//! pipelined `AUTH`/`SELECT` handshake, and always speaks RESP2 ([`ReplyParser`] produces the
//! `redis::Value`s the `redis` crate would). TLS stays with the `redis` crate's
//! `MultiplexedConnection`.

use std::fmt;
use std::io::{self, Read as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::io::tcp::socket2::SockRef;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use tokio::io::{AsyncWrite, Interest};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

use crate::transport::connector::{lock, DEFAULT_CONTAINER_TIMEOUT};
use crate::transport::socket::{Address, Endpoint, Handshake};

mod call;

use call::{Call, State};

/// An open connection; clones share it (each with its own response timeout).
#[derive(Clone)]
pub(crate) struct AsyncConnection {
    shared: Arc<Mutex<State>>,
    db: i64,
    response_timeout: Duration,
}

impl fmt::Debug for AsyncConnection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AsyncConnection")
            .field("db", &self.db)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl AsyncConnection {
    /// Connects to `endpoint` within [`DEFAULT_CONTAINER_TIMEOUT`]; the handshake goes out
    /// with the first request. Replies time out after `response_timeout`.
    pub(crate) async fn open(endpoint: &Endpoint, response_timeout: Duration) -> RedisResult<Self> {
        Self::open_within(endpoint, DEFAULT_CONTAINER_TIMEOUT, response_timeout).await
    }

    /// Connects to `endpoint` within `connect_timeout` (a master's own timeout); the rest as
    /// [`open`](Self::open).
    pub(crate) async fn open_within(
        endpoint: &Endpoint,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let stream = match tokio::time::timeout(connect_timeout, connect(endpoint)).await {
            Ok(stream) => stream?,
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connecting to the Redis server timed out",
                )
                .into())
            }
        };
        let (handshake, replies) = endpoint.handshake();
        Ok(Self::over(
            stream,
            handshake,
            replies,
            endpoint.db(),
            response_timeout,
        ))
    }

    fn over(
        stream: Stream,
        handshake: &[u8],
        replies: Handshake,
        db: i64,
        response_timeout: Duration,
    ) -> Self {
        let state = State::new(stream, handshake, replies);
        Self {
            shared: Arc::new(Mutex::new(state)),
            db,
            response_timeout,
        }
    }

    /// Sets how long this clone's calls wait for their replies.
    pub(crate) fn set_response_timeout(&mut self, timeout: Duration) {
        self.response_timeout = timeout;
    }

    /// Whether the connection broke: no call can succeed on it any more.
    pub(crate) fn is_broken(&self) -> bool {
        lock(&self.shared).is_broken()
    }

    /// Sends `command` and awaits its reply.
    pub(crate) async fn send_command(&self, command: &Cmd) -> RedisResult<Value> {
        self.send_command_within(command, self.response_timeout)
            .await
    }

    /// Sends `command` and awaits its reply for at most `timeout` (then the call fails with
    /// a timeout and the connection breaks: the reply may still come). The connection's own
    /// timer bounds the wait, so a round needs no timer of its own per master.
    pub(crate) async fn send_command_within(
        &self,
        command: &Cmd,
        timeout: Duration,
    ) -> RedisResult<Value> {
        let write = |out: &mut Vec<u8>| command.write_packed_command(out);
        let mut replies = Call::start(&self.shared, write, 0, 1, timeout)?.await?;
        Ok(replies.pop().unwrap_or(Value::Nil))
    }

    /// Sends `pipeline` and awaits `offset + count` replies; returns the last `count`. A server
    /// error among the first `offset` (a `MULTI`/`EXEC` block's queued commands) is the error.
    pub(crate) async fn send_pipeline(
        &self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let write = |out: &mut Vec<u8>| {
            let packed = pipeline.get_packed_pipeline();
            if out.is_empty() {
                *out = packed;
            } else {
                out.extend_from_slice(&packed);
            }
        };
        self.request(write, offset, count).await
    }

    async fn request(
        &self,
        write: impl FnOnce(&mut Vec<u8>),
        skip: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        Call::start(&self.shared, write, skip, count, self.response_timeout)?.await
    }
}

impl ConnectionLike for AsyncConnection {
    fn req_packed_command<'a>(&'a mut self, command: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(self.send_command(command))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.send_pipeline(pipeline, offset, count))
    }

    fn get_db(&self) -> i64 {
        self.db
    }
}

async fn connect(endpoint: &Endpoint) -> io::Result<Stream> {
    match endpoint.address() {
        Address::Tcp(host, port) => {
            let mut last_error = None;
            for address in tokio::net::lookup_host((host.as_str(), *port)).await? {
                match TcpStream::connect(address).await {
                    Ok(stream) => {
                        stream.set_nodelay(true)?;
                        endpoint.configure(SockRef::from(&stream))?;
                        return Ok(Stream::Tcp(stream));
                    }
                    Err(error) => last_error = Some(error),
                }
            }
            Err(last_error.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "no address for the server's host")
            }))
        }
        #[cfg(unix)]
        Address::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
    }
}

/// The socket under a connection.
enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    /// Reads what the socket holds, once it is readable.
    ///
    /// A read that does not fill `buffer` drained the socket, so the socket is then marked
    /// not readable: the next call waits for the event loop at once, instead of first finding
    /// out with a read that fails with `EAGAIN`, one system call per round trip fewer.
    /// (tokio keeps the mark only if no readiness event came in since.)
    fn poll_read(
        &mut self,
        context: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self {
                Self::Tcp(stream) => ready!(stream.poll_read_ready(context))?,
                #[cfg(unix)]
                Self::Unix(stream) => ready!(stream.poll_read_ready(context))?,
            }
            let mut drained = 0;
            let mut read_drained = |socket: SockRef<'_>| {
                let read = (&*socket).read(buffer)?;
                if read > 0 && read < buffer.len() {
                    drained = read;
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(read)
            };
            let outcome = match self {
                Self::Tcp(stream) => {
                    stream.try_io(Interest::READABLE, || read_drained(SockRef::from(&*stream)))
                }
                #[cfg(unix)]
                Self::Unix(stream) => {
                    stream.try_io(Interest::READABLE, || read_drained(SockRef::from(&*stream)))
                }
            };
            match outcome {
                Ok(read) => return Poll::Ready(Ok(read)),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    if drained > 0 {
                        return Poll::Ready(Ok(drained));
                    }
                }
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }

    fn poll_write(&mut self, context: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Self::Tcp(stream) => Pin::new(stream).poll_write(context, bytes),
            #[cfg(unix)]
            Self::Unix(stream) => Pin::new(stream).poll_write(context, bytes),
        }
    }

    /// Tells the server at once that this connection is done with (its clones may live on).
    fn shutdown(&self) {
        let socket = match self {
            Self::Tcp(stream) => SockRef::from(stream),
            #[cfg(unix)]
            Self::Unix(stream) => SockRef::from(stream),
        };
        // The connection is given up either way; a socket already closed is fine.
        let _ = socket.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests;
