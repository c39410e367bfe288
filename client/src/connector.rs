//! How a container reaches its Redis server ([`Connector`]), and the one connection it keeps.

use std::fmt;
use std::time::Duration;

use redis::{Client, Connection};

use crate::error::{Error, Result};

/// How long a container waits for a connection or a reply on connections it opens itself.
///
/// Give an open `redis::Connection` with your own timeouts for other values.
///
/// # Example
///
/// ```
/// assert_eq!(pottery::DEFAULT_CONTAINER_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_CONTAINER_TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis server a container lives on, given to constructors such as
/// [`RedisDict::open`](crate::RedisDict::open).
///
/// Built with `From`/`Into` from:
/// - a URL (`&str`, `String`) or a [`redis::Client`]: the container connects on first use and
///   reconnects on the next call after a broken connection; connect, read and write timeouts
///   are [`DEFAULT_CONTAINER_TIMEOUT`];
/// - an open [`redis::Connection`]: used as it is (with the timeouts it has), never reopened.
///
/// # Example
///
/// ```no_run
/// use pottery::Connector;
///
/// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
/// let connectors: Vec<Connector> = vec![
///     "redis://127.0.0.1:6379/".into(),
///     (&client).into(),
///     client.get_connection()?.into(),
/// ];
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connector {
    source: Source,
}

enum Source {
    Url(String),
    Client(Client),
    Connection(Box<Connection>),
}

impl fmt::Debug for Connector {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a URL: it may carry a password.
        let kind = match &self.source {
            Source::Url(_) => "url",
            Source::Client(_) => "client",
            Source::Connection(_) => "open connection",
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
            source: Source::Client(client),
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
            source: Source::Connection(Box::new(connection)),
        }
    }
}

/// The connection of one container: reopened from its client after a failure when it has one.
pub(crate) struct Link {
    reopen: Option<Client>,
    connection: Option<Connection>,
    used: bool,
}

impl Link {
    /// Resolves `connector`; URLs are parsed here, nothing is connected yet.
    pub(crate) fn new(connector: Connector) -> Result<Self> {
        Ok(match connector.source {
            Source::Url(url) => Self {
                reopen: Some(Client::open(url)?),
                connection: None,
                used: false,
            },
            Source::Client(client) => Self {
                reopen: Some(client),
                connection: None,
                used: false,
            },
            Source::Connection(connection) => Self {
                reopen: None,
                connection: Some(*connection),
                used: false,
            },
        })
    }

    /// A client to open further connections to the same server (for blocking calls that need
    /// their own connection), when the container was given one.
    pub(crate) fn client(&self) -> Option<&Client> {
        self.reopen.as_ref()
    }

    /// Whether any command was attempted: a container never used wrote nothing.
    pub(crate) fn was_used(&self) -> bool {
        self.used
    }

    /// Runs `work` on the connection, connecting first if needed; a connection that failed with
    /// an I/O error or a timeout is dropped, to be reopened by the next call.
    pub(crate) fn run<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.used = true;
        if self.connection.is_none() {
            let Some(client) = &self.reopen else {
                return Err(Error::ConnectionBroken);
            };
            let connection = client.get_connection_with_timeout(DEFAULT_CONTAINER_TIMEOUT)?;
            connection.set_read_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
            connection.set_write_timeout(Some(DEFAULT_CONTAINER_TIMEOUT))?;
            self.connection = Some(connection);
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(Error::ConnectionBroken);
        };
        match work(connection) {
            Ok(value) => Ok(value),
            Err(error) => {
                if error.is_io_error() || error.is_timeout() || error.is_unrecoverable_error() {
                    // Half a reply may be left on the socket: never reuse it.
                    self.connection = None;
                }
                Err(error.into())
            }
        }
    }
}
