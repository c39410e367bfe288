//! [`Source`]: what a user hands over to reach Redis, behind both [`Connector`] (containers)
//! and [`Master`] (Redlock and NextId masters), so that both take the same things and turn
//! them into connections the same way.
//!
//! [`Connector`]: crate::Connector
//! [`Master`]: crate::Master

use std::fmt;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Client, Connection, ConnectionInfo};

/// A URL, a connection info or a client to (re)connect with, a cluster client, or an
/// already open connection to use as it is.
pub(crate) enum Source {
    Url(String),
    Info(Box<ConnectionInfo>),
    Client(Box<Client>),
    Connection(Box<Connection>),
    Cluster(Box<ClusterClient>),
    ClusterConnection(Box<ClusterConnection>),
    #[cfg(feature = "tokio")]
    Multiplexed(redis::aio::MultiplexedConnection),
    /// Nothing to connect with: a URL that did not parse, or a master made from a connector
    /// that was given an open sync connection. Reported when the container or master is made.
    Invalid(redis::RedisError),
}

impl Source {
    /// What kind of source this is, for `Debug` output that never shows a URL (which may
    /// carry a password).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Url(_) => "url",
            Self::Info(_) => "connection info",
            Self::Client(_) => "client",
            Self::Connection(_) => "open connection",
            Self::Cluster(_) => "cluster client",
            Self::ClusterConnection(_) => "open cluster connection",
            #[cfg(feature = "tokio")]
            Self::Multiplexed(_) => "open multiplexed connection",
            Self::Invalid(_) => "invalid",
        }
    }

    /// The client to open connections with, for sources that can reconnect to one server.
    /// URLs are parsed here.
    pub(crate) fn client(&self) -> redis::RedisResult<Option<Client>> {
        Ok(match self {
            Self::Url(url) => Some(Client::open(url.as_str())?),
            Self::Info(info) => Some(Client::open(ConnectionInfo::clone(info))?),
            Self::Client(client) => Some(Client::clone(client)),
            _ => None,
        })
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.kind())
    }
}

/// `From` conversions into [`Source`] for a public type that wraps one (`Connector`,
/// `Master`), so both accept exactly the same arguments.
macro_rules! from_sources {
    ($target:ty, $wrap:expr) => {
        impl From<&str> for $target {
            fn from(url: &str) -> Self {
                $wrap($crate::transport::source::Source::Url(url.to_owned()))
            }
        }

        impl From<String> for $target {
            fn from(url: String) -> Self {
                $wrap($crate::transport::source::Source::Url(url))
            }
        }

        impl From<&String> for $target {
            fn from(url: &String) -> Self {
                Self::from(url.as_str())
            }
        }

        impl From<redis::ConnectionInfo> for $target {
            fn from(info: redis::ConnectionInfo) -> Self {
                $wrap($crate::transport::source::Source::Info(Box::new(info)))
            }
        }

        impl From<redis::Client> for $target {
            fn from(client: redis::Client) -> Self {
                $wrap($crate::transport::source::Source::Client(Box::new(client)))
            }
        }

        impl From<&redis::Client> for $target {
            fn from(client: &redis::Client) -> Self {
                Self::from(client.clone())
            }
        }

        impl From<redis::Connection> for $target {
            fn from(connection: redis::Connection) -> Self {
                $wrap($crate::transport::source::Source::Connection(Box::new(
                    connection,
                )))
            }
        }

        impl From<redis::cluster::ClusterClient> for $target {
            fn from(client: redis::cluster::ClusterClient) -> Self {
                $wrap($crate::transport::source::Source::Cluster(Box::new(client)))
            }
        }

        impl From<&redis::cluster::ClusterClient> for $target {
            fn from(client: &redis::cluster::ClusterClient) -> Self {
                Self::from(client.clone())
            }
        }

        impl From<redis::cluster::ClusterConnection> for $target {
            fn from(connection: redis::cluster::ClusterConnection) -> Self {
                $wrap($crate::transport::source::Source::ClusterConnection(
                    Box::new(connection),
                ))
            }
        }

        #[cfg(feature = "tokio")]
        impl From<redis::aio::MultiplexedConnection> for $target {
            fn from(connection: redis::aio::MultiplexedConnection) -> Self {
                $wrap($crate::transport::source::Source::Multiplexed(connection))
            }
        }
    };
}

pub(crate) use from_sources;
