//! One open sync connection ([`Session`]), and how a request goes over it.

use std::time::Duration;

use redis::cluster::ClusterConnection;
use redis::{Connection, ConnectionLike, Value};

use crate::face::operation::Request;
use crate::transport::connector::moved_before_running;

/// One open sync connection: to one server, or to the masters of a cluster (routed per key).
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
pub(crate) struct OneKeyPipelines(pub(super) ClusterConnection);

impl ConnectionLike for OneKeyPipelines {
    fn req_packed_command(&mut self, command: &[u8]) -> redis::RedisResult<Value> {
        self.0.req_packed_command(command)
    }

    fn req_packed_commands(
        &mut self,
        commands: &[u8],
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<Value>> {
        self.0.req_packed_commands(commands, offset, count)
    }

    fn req_command(&mut self, command: &redis::Cmd) -> redis::RedisResult<Value> {
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

/// Sends one request over a sync session.
pub(crate) fn send(
    session: &mut Session,
    request: &Request,
    key: &str,
    cluster: bool,
) -> redis::RedisResult<Value> {
    let connection = session.as_connection_like();
    match request {
        Request::Command(command) => connection.req_command(command),
        Request::Pipeline(pipeline) => match pipeline.query::<Value>(connection) {
            Err(error) if cluster && moved_before_running(&error, pipeline) => {
                // The cluster connection follows MOVED for a single command only. One routed by
                // the same key makes it follow the slot and refresh its map; nothing of the
                // pipeline ran, so it can go again, to the new master.
                redis::cmd("EXISTS").arg(key).exec(connection)?;
                pipeline.query::<Value>(connection)
            }
            other => other,
        },
    }
}
