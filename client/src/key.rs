//! The key a container lives at, who owns it, and the connection used for it.
//!
//! A key the user named is never deleted by `pottery`, whatever its prefix. A container made
//! without a name gets a random key `pottery:<uuid4>` (no TTL, like Python pottery) that it
//! owns: clones of the container share the ownership, and the last one dropped `UNLINK`s the
//! key, so temporary containers do not leak into the keyspace.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::Rng;
use redis::cluster_routing::Slot;
use redis::ConnectionLike;

use crate::connector::{Connector, Link, Origin};
use crate::error::{Error, Result};

/// Prefix of random keys; Python pottery uses the same one.
pub(crate) const RANDOM_KEY_PREFIX: &str = "pottery:";

/// A random key `pottery:<uuid4>` as Python pottery makes it (lowercase, hyphenated, version 4).
pub(crate) fn random_key() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let mut key = String::with_capacity(RANDOM_KEY_PREFIX.len() + 36);
    key.push_str(RANDOM_KEY_PREFIX);
    for (position, byte) in bytes.iter().enumerate() {
        if matches!(position, 4 | 6 | 8 | 10) {
            key.push('-');
        }
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

/// Whether the container deletes its key when the last handle goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// The user named the key: never deleted.
    Named,
    /// A random key made for this container: `UNLINK`ed on the last drop.
    Owned,
}

/// A container's key and connection, shared by its clones and its iterators.
pub(crate) struct KeyHandle {
    name: String,
    ownership: Ownership,
    link: Mutex<Link>,
}

impl KeyHandle {
    /// A handle on `name`, or on a fresh random key (owned) when `name` is `None`.
    pub(crate) fn new(connector: Connector, name: Option<&str>) -> Result<Arc<Self>> {
        let link = Link::new(connector)?;
        let (name, ownership) = match name {
            Some(name) => (name.to_owned(), Ownership::Named),
            None => (random_key(), Ownership::Owned),
        };
        Ok(Arc::new(Self {
            name,
            ownership,
            link: Mutex::new(link),
        }))
    }

    /// The Redis key.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Runs `work` on the connection; one call at a time per handle.
    pub(crate) fn run<T>(
        &self,
        work: impl FnOnce(&mut dyn ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.lock().run(work)
    }

    /// Runs one command and converts its reply.
    pub(crate) fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T> {
        self.run(|connection| command.query(connection))
    }

    /// Runs a pipeline (atomic if built with `.atomic()`) and converts its replies.
    ///
    /// Every command of the pipeline must be on this handle's key: on a cluster the whole
    /// pipeline goes to the master of its first command's key.
    pub(crate) fn query_pipeline<T: redis::FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
    ) -> Result<T> {
        let mut link = self.lock();
        match link.run(|connection| pipeline.query(connection)) {
            Err(Error::Redis(error))
                if link.is_cluster() && moved_before_running(&error, pipeline) =>
            {
                // The cluster connection follows MOVED for a single command only. One routed by
                // the same key makes it follow the slot and refresh its map; nothing of the
                // pipeline ran, so it can go again, to the new master.
                link.run(|connection| redis::cmd("EXISTS").arg(&self.name).exec(connection))?;
                link.run(|connection| pipeline.query(connection))
            }
            other => other,
        }
    }

    /// Where a dedicated connection to the same server or cluster can be opened from, if the
    /// container was given a URL or a client.
    pub(crate) fn origin(&self) -> Option<Origin> {
        self.lock().origin().cloned()
    }

    /// Where the key lives, as far as combining it with other keys in one command goes.
    fn placement(&self) -> Placement {
        let link = self.lock();
        if link.is_cluster() {
            return Placement::Cluster(Slot::for_key(&self.name));
        }
        match link.origin() {
            Some(Origin::Server(client)) => {
                let info = client.get_connection_info();
                Placement::Server {
                    address: info.addr().to_string(),
                    database: info.redis_settings().db(),
                }
            }
            _ => Placement::Unknown,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Link> {
        // A panic in another thread mid-call leaves at worst a connection that the next
        // failure replaces; the data lives in Redis, so poisoning protects nothing here.
        self.link.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for KeyHandle {
    fn drop(&mut self) {
        if self.ownership == Ownership::Owned {
            // Best effort: a server that is gone cannot keep the key either way.
            let name = std::mem::take(&mut self.name);
            let link = self.link.get_mut().unwrap_or_else(PoisonError::into_inner);
            if link.was_used() {
                let _ = link.run(|connection| redis::cmd("UNLINK").arg(&name).exec(connection));
            }
        }
    }
}

/// Whether `pipeline` is a `MULTI`/`EXEC` block that the server aborted because its key's slot
/// had moved to another master (`MOVED` while queueing), so none of it ran. (A plain pipeline
/// needs no such care: the cluster connection sees its first `MOVED` reply and sends it again
/// to the new master.)
fn moved_before_running(error: &redis::RedisError, pipeline: &redis::Pipeline) -> bool {
    if !pipeline.is_transaction()
        || error.kind() != redis::ErrorKind::Server(redis::ServerErrorKind::ExecAbort)
    {
        return false;
    }
    let errors = error.clone().into_server_errors().unwrap_or_default();
    errors.iter().any(|(_, error)| error.code() == "MOVED")
}

/// Where a key lives, for deciding whether several keys can meet in one server-side command.
#[derive(Debug, PartialEq, Eq)]
enum Placement {
    /// One server, known from the URL or client the container was given.
    Server { address: String, database: i64 },
    /// A Redis Cluster, in this hash slot.
    Cluster(Slot),
    /// An open connection given as it is: the server behind it is unknown.
    Unknown,
}

/// Whether the keys of several containers can be used in one server-side command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Colocation {
    /// Same server and database, or same hash slot of a cluster: one command, through the
    /// first container's connection, sees every key.
    Together,
    /// Different servers (or a cluster and a server): each key must be read through its own
    /// container.
    Apart,
    /// Every container was given an open connection: pottery cannot tell where they lead.
    Unknown,
}

/// Where the keys of `first` and `others` live relative to each other, for a command that
/// `first` runs over all of them.
///
/// # Errors
///
/// [`Error::CrossSlot`] when they all live on a cluster but not in one hash slot: no node
/// could run the command, and reading the keys one by one would silently give up the
/// atomicity the caller asked for.
pub(crate) fn colocation<'a>(
    first: &'a KeyHandle,
    others: impl IntoIterator<Item = &'a KeyHandle>,
) -> Result<Colocation> {
    let others: Vec<&KeyHandle> = others.into_iter().collect();
    let mine = first.placement();
    let theirs: Vec<Placement> = others.iter().map(|other| other.placement()).collect();
    if theirs.iter().all(|placement| *placement == mine) {
        return Ok(match mine {
            Placement::Unknown => Colocation::Unknown,
            Placement::Server { .. } | Placement::Cluster(_) => Colocation::Together,
        });
    }
    let on_cluster = |placement: &Placement| matches!(placement, Placement::Cluster(_));
    if on_cluster(&mine) && theirs.iter().all(on_cluster) {
        let keys = std::iter::once(first).chain(others);
        return Err(Error::CrossSlot {
            keys: keys.map(|handle| handle.name().to_owned()).collect(),
        });
    }
    Ok(Colocation::Apart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_prefixed_uuid4s() {
        let key = random_key();
        let uuid = key.strip_prefix("pottery:").unwrap_or_default();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|group| group.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(uuid
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert!(groups[2].starts_with('4'));
        assert!(matches!(
            groups[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
        assert_ne!(random_key(), key);
    }

    fn on_server(url: &str, key: &str) -> Arc<KeyHandle> {
        KeyHandle::new(url.into(), Some(key)).unwrap()
    }

    fn on_cluster(key: &str) -> Arc<KeyHandle> {
        let client = redis::cluster::ClusterClient::new(["redis://127.0.0.1:7000/"]).unwrap();
        KeyHandle::new(client.into(), Some(key)).unwrap()
    }

    #[test]
    fn keys_of_one_server_and_database_are_together() {
        let url = "redis://127.0.0.1:6379/";
        let (a, b) = (on_server(url, "a"), on_server(url, "b"));
        assert_eq!(colocation(&a, [&*b]).unwrap(), Colocation::Together);
        assert_eq!(colocation(&a, []).unwrap(), Colocation::Together);
        let other_database = on_server("redis://127.0.0.1:6379/1", "b");
        assert_eq!(
            colocation(&a, [&*b, &*other_database]).unwrap(),
            Colocation::Apart
        );
        let other_port = on_server("redis://127.0.0.1:6380/", "b");
        assert_eq!(colocation(&a, [&*other_port]).unwrap(), Colocation::Apart);
    }

    #[test]
    fn cluster_keys_are_together_in_one_hash_slot_only() {
        let (a, b) = (on_cluster("{user:1}:a"), on_cluster("{user:1}:b"));
        assert_eq!(colocation(&a, [&*b]).unwrap(), Colocation::Together);
        // Only the first {...} counts, and an empty one does not.
        let (c, d) = (on_cluster("x{user:1}{z}"), on_cluster("{}{user:1}"));
        assert_eq!(colocation(&a, [&*c]).unwrap(), Colocation::Together);
        let apart = [on_cluster("a"), on_cluster("b")];
        assert_ne!(Slot::for_key("a"), Slot::for_key("b"));
        match colocation(&apart[0], [&*apart[1], &*a]) {
            Err(Error::CrossSlot { keys }) => assert_eq!(keys, ["a", "b", "{user:1}:a"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            colocation(&a, [&*d]),
            Err(Error::CrossSlot { .. })
        ));
        // A cluster and a single server are different servers: combined in the client.
        let server = on_server("redis://127.0.0.1:6379/", "{user:1}:b");
        assert_eq!(colocation(&a, [&*server]).unwrap(), Colocation::Apart);
        assert_eq!(colocation(&server, [&*a]).unwrap(), Colocation::Apart);
    }
}
