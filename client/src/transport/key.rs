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

use crate::error::{Error, Result};
use crate::transport::connector::{Connector, Link, Origin};

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

/// A failed pipeline reports all its failed commands in one error that has no `code()`; the
/// first command's own error (`WRONGTYPE`, `OOM`, ...) is what a caller matches on, as it
/// would for the same command sent alone.
fn first_command_error(error: Error) -> Error {
    let Error::Redis(pipeline_error) = error else {
        return error;
    };
    if pipeline_error.code().is_some() {
        return Error::Redis(pipeline_error);
    }
    let first = pipeline_error
        .clone()
        .into_server_errors()
        .and_then(|errors| errors.first().map(|(_, error)| error.clone()));
    Error::Redis(first.map_or(pipeline_error, redis::RedisError::from))
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
        let result = match link.run(|connection| pipeline.query(connection)) {
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
        };
        result.map_err(first_command_error)
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
    /// A Redis Cluster, in this hash slot. Which cluster is learned only when needed (see
    /// [`on_one_cluster`]): the same slot on two clusters is two different places.
    Cluster(Slot),
    /// An open connection given as it is: the server behind it is unknown.
    Unknown,
}

/// Whether the keys of several containers can be used in one server-side command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Colocation {
    /// Same server and database, or same hash slot of one cluster: one command, through the
    /// first container's connection, sees every key.
    Together,
    /// Different servers, different clusters, or a cluster and a server: each key must be
    /// read through its own container.
    Apart,
    /// Every container was given an open connection: pottery cannot tell where they lead.
    Unknown,
}

/// What the placements alone tell about several keys.
#[derive(Debug, PartialEq, Eq)]
enum Relation {
    /// Decided without asking any server.
    Known(Colocation),
    /// Every key is on a cluster: [`Colocation::Apart`] if not all on one cluster, and
    /// otherwise [`Colocation::Together`] when they share a slot, [`Error::CrossSlot`] if not.
    OnClusters { one_slot: bool },
}

fn relate(mine: &Placement, theirs: &[Placement]) -> Relation {
    let same = theirs.iter().all(|placement| placement == mine);
    match mine {
        Placement::Cluster(_) if theirs.iter().all(|p| matches!(p, Placement::Cluster(_))) => {
            Relation::OnClusters { one_slot: same }
        }
        Placement::Unknown if same => Relation::Known(Colocation::Unknown),
        Placement::Server { .. } if same => Relation::Known(Colocation::Together),
        _ => Relation::Known(Colocation::Apart),
    }
}

/// Where the keys of `first` and `others` live relative to each other, for a command that
/// `first` runs over all of them.
///
/// Containers on servers are placed by the URL or client they were given, with no round trip.
/// Containers on clusters may be on different clusters: the first such call of each container
/// asks its cluster for its node IDs (one `CLUSTER NODES`, kept for a while), see
/// [`on_one_cluster`].
///
/// # Errors
///
/// [`Error::CrossSlot`] when they all live on one cluster but not in one hash slot: no node
/// could run the command, and reading the keys one by one would silently give up the
/// atomicity the caller asked for. The connection's errors when a cluster cannot be reached to
/// learn its node IDs.
pub(crate) fn colocation<'a>(
    first: &'a KeyHandle,
    others: impl IntoIterator<Item = &'a KeyHandle>,
) -> Result<Colocation> {
    let others: Vec<&KeyHandle> = others.into_iter().collect();
    let mine = first.placement();
    let theirs: Vec<Placement> = others.iter().map(|other| other.placement()).collect();
    let one_slot = match relate(&mine, &theirs) {
        Relation::Known(colocation) => return Ok(colocation),
        Relation::OnClusters { one_slot } => one_slot,
    };
    if !on_one_cluster(first, &others)? {
        return Ok(Colocation::Apart);
    }
    if one_slot {
        return Ok(Colocation::Together);
    }
    let keys = std::iter::once(first).chain(others);
    Err(Error::CrossSlot {
        keys: keys.map(|handle| handle.name().to_owned()).collect(),
    })
}

/// Whether every one of `others`, all on clusters like `first`, is on the cluster of `first`.
///
/// Two views of clusters that name a common node ID are of one cluster (IDs are random 160-bit
/// values: see [`crate::transport::cluster_identity`]). A cluster that refuses to name its nodes (an ACL
/// denying `CLUSTER NODES`) is taken as another cluster: the keys are then combined in the
/// client, which is right wherever they live, only slower than one server-side command.
fn on_one_cluster(first: &KeyHandle, others: &[&KeyHandle]) -> Result<bool> {
    // Asked at most once, and only when another container is involved: clones of one
    // container share a handle, so one key, one cluster, nothing to ask.
    let mut ours = None;
    for other in others {
        if std::ptr::eq(*other, first) {
            continue;
        }
        if ours.is_none() {
            // One lock at a time: two operations locking the same two handles in opposite
            // orders cannot wait on each other.
            ours = first.lock().cluster_node_ids()?;
            if ours.is_none() {
                return Ok(false);
            }
        }
        let theirs = other.lock().cluster_node_ids()?;
        if !matches!((&ours, theirs), (Some(ours), Some(theirs)) if ours.overlap(&theirs)) {
            return Ok(false);
        }
    }
    Ok(true)
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

    /// A handle on a cluster that cannot be reached (nothing listens on port 1): usable as
    /// long as no command is sent.
    fn on_unreachable_cluster(key: &str) -> Arc<KeyHandle> {
        let client = redis::cluster::ClusterClient::new(["redis://127.0.0.1:1/"]).unwrap();
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

    fn slot_of(key: &str) -> Placement {
        Placement::Cluster(Slot::for_key(key))
    }

    #[test]
    fn cluster_keys_depend_on_their_clusters_and_slots() {
        let together = Relation::OnClusters { one_slot: true };
        let apart = Relation::OnClusters { one_slot: false };
        let tagged = slot_of("{user:1}:a");
        assert_eq!(relate(&tagged, &[slot_of("{user:1}:b")]), together);
        assert_eq!(relate(&tagged, &[]), together);
        // Only the first {...} counts, and an empty one does not.
        assert_eq!(relate(&tagged, &[slot_of("x{user:1}{z}")]), together);
        assert_eq!(relate(&tagged, &[slot_of("{}{user:1}")]), apart);
        assert_ne!(Slot::for_key("a"), Slot::for_key("b"));
        assert_eq!(relate(&slot_of("a"), &[slot_of("b"), tagged]), apart);
        // A cluster and a single server are different servers: combined in the client, and
        // nothing is asked of either.
        let server = Placement::Server {
            address: "127.0.0.1:6379".to_owned(),
            database: 0,
        };
        let slot = slot_of("{user:1}:b");
        let apart = Relation::Known(Colocation::Apart);
        assert_eq!(relate(&slot, &[Placement::Unknown]), apart);
        assert_eq!(relate(&slot, &[slot_of("{user:1}:b"), server]), apart);
        let server = on_server("redis://127.0.0.1:6379/", "{user:1}:b");
        let cluster = on_unreachable_cluster("{user:1}:a");
        assert_eq!(colocation(&cluster, [&*server]).unwrap(), Colocation::Apart);
        assert_eq!(colocation(&server, [&*cluster]).unwrap(), Colocation::Apart);
    }

    #[test]
    fn cluster_keys_meet_their_own_handle_without_asking_the_cluster() {
        let a = on_unreachable_cluster("a");
        assert_eq!(colocation(&a, []).unwrap(), Colocation::Together);
        assert_eq!(colocation(&a, [&*a, &*a]).unwrap(), Colocation::Together);
        assert!(!a.lock().was_used());
    }

    #[test]
    fn an_unreachable_cluster_is_an_error_not_a_guess() {
        let (a, b) = (
            on_unreachable_cluster("{t}:a"),
            on_unreachable_cluster("{t}:b"),
        );
        assert!(matches!(colocation(&a, [&*b]), Err(Error::Redis(_))));
    }
}
