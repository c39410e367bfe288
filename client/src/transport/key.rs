//! The key a container lives at, who owns it, and the connector its requests go through.
//!
//! A key the user named is never deleted by `pottery`, whatever its prefix. A container made
//! without a name gets a random key `pottery:<uuid4>` (no TTL, like Python pottery) that it
//! owns: clones of the container share the ownership, and the last one dropped `UNLINK`s the
//! key, so temporary containers do not leak into the keyspace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::Rng;
use redis::cluster_routing::Slot;
use redis::FromRedisValue;

use crate::error::{Error, Result};
use crate::face::operation::{Operation, Request};
use crate::face::Face;
use crate::transport::cluster_identity::NodeIds;
use crate::transport::connector::{Connector, Route};

/// Prefix of random keys; Python pottery uses the same one.
pub(crate) const RANDOM_KEY_PREFIX: &str = "pottery:";

/// A random UUID version 4 in its usual text form (lowercase, hyphenated), as Python's
/// `uuid.uuid4()` prints it: random keys and lock tokens.
pub(crate) fn uuid4() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let mut text = String::with_capacity(36);
    for (position, byte) in bytes.iter().enumerate() {
        if matches!(position, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

/// A random key `pottery:<uuid4>` as Python pottery makes it.
pub(crate) fn random_key() -> String {
    format!("{RANDOM_KEY_PREFIX}{}", uuid4())
}

/// Whether the container deletes its key when the last handle goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// The user named the key: never deleted.
    Named,
    /// A random key made for this container: `UNLINK`ed on the last drop.
    Owned,
}

/// A container's key and connector, shared by its clones and its iterators.
pub(crate) struct KeyHandle {
    name: Arc<str>,
    ownership: Ownership,
    connector: Connector,
    /// Whether the handle's calls are futures (its key is then cleaned up by a spawned task).
    #[cfg(feature = "tokio")]
    asynchronous: bool,
    /// Whether any command was attempted: a container never used wrote nothing.
    used: AtomicBool,
}

impl KeyHandle {
    /// A handle on `name`, or on a fresh random key (owned) when `name` is `None`, for
    /// containers of face `F`. Opens nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Redis`] for a URL that does not parse; [`Error::InvalidArgument`] for an open
    /// connection of the other face (a sync `redis::Connection` for an async container, or
    /// the other way round).
    pub(crate) fn new<F: Face>(connector: Connector, name: Option<&str>) -> Result<Arc<Self>> {
        connector.check()?;
        if !connector.serves(F::ASYNC) {
            return Err(Error::InvalidArgument {
                argument: "connector",
                problem: if F::ASYNC {
                    "an open sync connection cannot serve an async container"
                } else {
                    "an open async connection cannot serve a sync container"
                },
            });
        }
        let (name, ownership) = match name {
            Some(name) => (Arc::from(name), Ownership::Named),
            None => (Arc::from(random_key()), Ownership::Owned),
        };
        Ok(Arc::new(Self {
            name,
            ownership,
            connector,
            #[cfg(feature = "tokio")]
            asynchronous: F::ASYNC,
            used: AtomicBool::new(false),
        }))
    }

    /// The Redis key.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the handle's calls are futures.
    pub(crate) fn asynchronous(&self) -> bool {
        #[cfg(feature = "tokio")]
        return self.asynchronous;
        #[cfg(not(feature = "tokio"))]
        false
    }

    pub(crate) fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Where this key's requests go.
    pub(crate) fn route(&self) -> Route {
        self.used.store(true, Ordering::Relaxed);
        Route::new(&self.connector, Arc::clone(&self.name))
    }

    /// A command whose reply converts to `T`.
    pub(crate) fn request<T: FromRedisValue + Send + 'static>(
        &self,
        command: redis::Cmd,
    ) -> Operation<T> {
        Operation::query(self.route(), Request::Command(command))
    }

    /// `command` (a `POTTERY.*` command named `name`, with no script form) once the
    /// connector's [`Mode`](crate::Mode) says the module is there, else
    /// [`Error::ModuleRequired`] with nothing sent.
    pub(crate) fn module_request<T: FromRedisValue + Send + 'static>(
        &self,
        name: &'static str,
        command: redis::Cmd,
    ) -> Operation<T> {
        self.module_request_waiting(name, command, None)
    }

    /// [`module_request`](Self::module_request) for a command that may wait in the server
    /// for up to `wait` (`BLOCK`): then over a dedicated connection, as
    /// [`request_blocking`](Self::request_blocking).
    pub(crate) fn module_request_waiting<T: FromRedisValue + Send + 'static>(
        &self,
        name: &'static str,
        command: redis::Cmd,
        wait: Option<std::time::Duration>,
    ) -> Operation<T> {
        let route = match wait {
            Some(wait) => self.route().blocking(wait),
            None => self.route(),
        };
        crate::transport::mode::module_loaded(self.route()).and_then_send(move |loaded| {
            if !loaded {
                return Operation::done(Err(Error::ModuleRequired { command: name }));
            }
            Operation::query(route, Request::Command(command))
        })
    }

    /// A pipeline (atomic if built with `.atomic()`) whose replies convert to `T`.
    ///
    /// Every command of the pipeline must be on this handle's key: on a cluster the whole
    /// pipeline goes to the master of its first command's key.
    pub(crate) fn request_pipeline<T: FromRedisValue + Send + 'static>(
        &self,
        pipeline: redis::Pipeline,
    ) -> Operation<T> {
        Operation::query(self.route(), Request::Pipeline(pipeline))
    }

    /// A command that blocks in the server for up to `wait` (`BLPOP`): it goes over a
    /// dedicated connection of the connector, so it never holds up the shared ones.
    pub(crate) fn request_blocking<T: FromRedisValue + Send + 'static>(
        &self,
        command: redis::Cmd,
        wait: std::time::Duration,
    ) -> Operation<T> {
        Operation::query(self.route().blocking(wait), Request::Command(command))
    }

    /// A command naming this handle's key first: `NAME key`.
    pub(crate) fn command(&self, name: &str) -> redis::Cmd {
        let mut command = redis::cmd(name);
        command.arg(self.name());
        command
    }

    /// Where the key lives, as far as combining it with other keys in one command goes.
    fn placement(&self) -> Placement {
        if self.connector.is_cluster() {
            return Placement::Cluster(Slot::for_key(self.name()));
        }
        Placement::Connector
    }
}

impl Drop for KeyHandle {
    fn drop(&mut self) {
        if self.ownership != Ownership::Owned || !*self.used.get_mut() {
            return;
        }
        // Best effort: a server that is gone cannot keep the key either way.
        let unlink = self.request::<()>(self.command("UNLINK"));
        crate::face::run_detached(unlink, self.asynchronous());
    }
}

/// Where a key lives, for deciding whether several keys can meet in one server-side command.
#[derive(Debug, PartialEq, Eq)]
enum Placement {
    /// Wherever its connector leads (one server, or an open connection).
    Connector,
    /// A Redis Cluster, in this hash slot. Which cluster is learned only when needed (see
    /// [`on_one_cluster`]): the same slot on two clusters is two different places.
    Cluster(Slot),
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

/// Where the keys of `first` and `others` live relative to each other, for a command that
/// `first` runs over all of them.
///
/// Containers on servers are placed by the URL or client their connector was given, with no
/// round trip. Containers on clusters may be on different clusters: the first such call of
/// each connector asks its cluster for its node IDs (one `CLUSTER NODES`, kept for a while),
/// see [`on_one_cluster`].
///
/// # Errors
///
/// [`Error::CrossSlot`] when they all live on one cluster but not in one hash slot: no node
/// could run the command, and reading the keys one by one would silently give up the
/// atomicity the caller asked for. The connection's errors when a cluster cannot be reached to
/// learn its node IDs.
pub(crate) fn colocation(
    first: &Arc<KeyHandle>,
    others: &[Arc<KeyHandle>],
) -> Operation<Colocation> {
    let mine = first.placement();
    let theirs: Vec<Placement> = others.iter().map(|other| other.placement()).collect();
    if mine == Placement::Connector {
        if !theirs
            .iter()
            .all(|placement| *placement == Placement::Connector)
        {
            return Operation::done(Ok(Colocation::Apart));
        }
        let mut relation = Colocation::Together;
        for other in others {
            match first.connector().same_server(other.connector()) {
                Some(true) => {}
                Some(false) => return Operation::done(Ok(Colocation::Apart)),
                None => relation = Colocation::Unknown,
            }
        }
        return Operation::done(Ok(relation));
    }
    if !theirs
        .iter()
        .all(|placement| matches!(placement, Placement::Cluster(_)))
    {
        return Operation::done(Ok(Colocation::Apart));
    }
    let one_slot = theirs.iter().all(|placement| *placement == mine);
    let keys: Vec<String> = std::iter::once(first)
        .chain(others)
        .map(|handle| handle.name().to_owned())
        .collect();
    on_one_cluster(first, others).and_then(move |together| match (together, one_slot) {
        (false, _) => Ok(Colocation::Apart),
        (true, true) => Ok(Colocation::Together),
        (true, false) => Err(Error::CrossSlot { keys }),
    })
}

/// Whether every one of `others`, all on clusters like `first`, is on the cluster of `first`.
///
/// Two views of clusters that name a common node ID are of one cluster (IDs are random 160-bit
/// values: see [`crate::transport::cluster_identity`]). A cluster that refuses to name its
/// nodes (an ACL denying `CLUSTER NODES`) is taken as another cluster: the keys are then
/// combined in the client, which is right wherever they live, only slower than one
/// server-side command.
fn on_one_cluster(first: &Arc<KeyHandle>, others: &[Arc<KeyHandle>]) -> Operation<bool> {
    // Clones of one container, or containers of one connector, are on one cluster: nothing
    // to ask.
    let strangers: Vec<Arc<KeyHandle>> = others
        .iter()
        .filter(|other| !other.connector().is(first.connector()))
        .cloned()
        .collect();
    if strangers.is_empty() {
        return Operation::done(Ok(true));
    }
    node_ids(first).and_then_send(move |ours| {
        let Some(ours) = ours else {
            return Operation::done(Ok(false));
        };
        let theirs: Vec<Operation<Option<Arc<NodeIds>>>> = strangers.iter().map(node_ids).collect();
        crate::face::operation::all(theirs).map(move |theirs| {
            theirs
                .iter()
                .all(|ids| ids.as_ref().is_some_and(|ids| ours.overlap(ids)))
        })
    })
}

/// The IDs of the nodes of the cluster the handle's connector leads to, which tell one
/// cluster from another (see [`NodeIds`]): learned with one `CLUSTER NODES`, kept by the
/// connector for
/// [`NODE_IDS_TRUSTED_FOR`](crate::transport::cluster_identity::NODE_IDS_TRUSTED_FOR).
///
/// `None` when the cluster refuses to tell (an ACL denying `CLUSTER NODES`, a proxy
/// without it) or names no node; that answer is kept as long as a view would be.
fn node_ids(handle: &Arc<KeyHandle>) -> Operation<Option<Arc<NodeIds>>> {
    if let Some(known) = handle.connector().known_cluster_nodes() {
        return Operation::done(Ok(known));
    }
    let connector = handle.connector().clone();
    let mut command = redis::cmd("CLUSTER");
    command.arg("NODES");
    handle.request::<String>(command).then(move |reply| {
        let ids = match reply {
            Ok(text) => Some(Arc::new(NodeIds::parse(&text))).filter(|ids| !ids.is_empty()),
            // Refused, or a reply that is no node list: whether two clusters are one stays
            // unknown, and the caller combines keys in the client, right for any placement.
            Err(Error::Redis(error))
                if matches!(
                    error.kind(),
                    redis::ErrorKind::Server(_)
                        | redis::ErrorKind::Extension
                        | redis::ErrorKind::UnexpectedReturnType
                        | redis::ErrorKind::Parse
                ) =>
            {
                None
            }
            Err(error) => return Operation::done(Err(error)),
        };
        connector.learn_cluster_nodes(ids.clone());
        Operation::done(Ok(ids))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Blocking;

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
        KeyHandle::new::<Blocking>(url.into(), Some(key)).unwrap()
    }

    /// A handle on a cluster that cannot be reached (nothing listens on port 1): usable as
    /// long as no command is sent.
    fn on_unreachable_cluster(key: &str) -> Arc<KeyHandle> {
        let client = redis::cluster::ClusterClient::new(["redis://127.0.0.1:1/"]).unwrap();
        KeyHandle::new::<Blocking>(client.into(), Some(key)).unwrap()
    }

    fn placed(first: &Arc<KeyHandle>, others: &[&Arc<KeyHandle>]) -> Result<Colocation> {
        let others: Vec<Arc<KeyHandle>> = others.iter().map(|other| Arc::clone(other)).collect();
        Blocking::run(colocation(first, &others))
    }

    #[test]
    fn keys_of_one_server_and_database_are_together() {
        let url = "redis://127.0.0.1:6379/";
        let (a, b) = (on_server(url, "a"), on_server(url, "b"));
        assert_eq!(placed(&a, &[&b]).unwrap(), Colocation::Together);
        assert_eq!(placed(&a, &[]).unwrap(), Colocation::Together);
        let other_database = on_server("redis://127.0.0.1:6379/1", "b");
        assert_eq!(
            placed(&a, &[&b, &other_database]).unwrap(),
            Colocation::Apart
        );
        let other_port = on_server("redis://127.0.0.1:6380/", "b");
        assert_eq!(placed(&a, &[&other_port]).unwrap(), Colocation::Apart);
    }

    #[test]
    fn cluster_keys_depend_on_their_clusters_and_slots() {
        // Only the first {...} counts, and an empty one does not.
        assert_eq!(Slot::for_key("{user:1}:a"), Slot::for_key("x{user:1}{z}"));
        assert_ne!(Slot::for_key("{user:1}:a"), Slot::for_key("{}{user:1}"));
        assert_ne!(Slot::for_key("a"), Slot::for_key("b"));
        // A cluster and a single server are different servers: combined in the client, and
        // nothing is asked of either.
        let server = on_server("redis://127.0.0.1:6379/", "{user:1}:b");
        let cluster = on_unreachable_cluster("{user:1}:a");
        assert_eq!(placed(&cluster, &[&server]).unwrap(), Colocation::Apart);
        assert_eq!(placed(&server, &[&cluster]).unwrap(), Colocation::Apart);
    }

    #[test]
    fn cluster_keys_of_one_connector_meet_without_asking_the_cluster() {
        let client = redis::cluster::ClusterClient::new(["redis://127.0.0.1:1/"]).unwrap();
        let connector = Connector::from(client);
        let a = KeyHandle::new::<Blocking>(connector.clone(), Some("{t}:a")).unwrap();
        let b = KeyHandle::new::<Blocking>(connector.clone(), Some("{t}:b")).unwrap();
        let elsewhere = KeyHandle::new::<Blocking>(connector, Some("x")).unwrap();
        assert_eq!(placed(&a, &[]).unwrap(), Colocation::Together);
        assert_eq!(placed(&a, &[&a, &b]).unwrap(), Colocation::Together);
        // One cluster (one connector), two slots: no node could run the command.
        assert!(matches!(
            placed(&a, &[&elsewhere]),
            Err(Error::CrossSlot { keys }) if keys == ["{t}:a", "x"]
        ));
        assert!(!a.used.load(Ordering::Relaxed));
    }

    #[test]
    fn an_unreachable_cluster_is_an_error_not_a_guess() {
        let (a, b) = (
            on_unreachable_cluster("{t}:a"),
            on_unreachable_cluster("{t}:b"),
        );
        assert!(matches!(placed(&a, &[&b]), Err(Error::Redis(_))));
    }
}
