//! The client's containers, `BloomFilter` and `HyperLogLog` through a Redis Cluster connection,
//! on one 3-master loopback cluster shared by the tests of this file: every type with its keys
//! on each of the three masters, operations over several containers with and without hash tags,
//! open cluster connections, and a slot moved to another master under a container. A second
//! cluster, shared by the tests that need two, checks that containers on different clusters are
//! never combined in one command, even with keys in the same slot.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use pottery::{
    BloomFilter, CachedOrderedDict, Connector, Error, HyperLogLog, RedisCache, RedisCounter,
    RedisDeque, RedisDict, RedisList, RedisQueue, RedisSet,
};
use pottery_tests::{start_cluster, Server};
use redis::cluster::ClusterClient;

/// The cluster of this file, started by the first test that needs it.
struct Cluster {
    nodes: Vec<Server>,
    client: ClusterClient,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// A second cluster, independent of [`cluster`], started by the first test that needs two.
fn other_cluster() -> &'static Cluster {
    static OTHER: OnceLock<Cluster> = OnceLock::new();
    OTHER.get_or_init(Cluster::start)
}

impl Cluster {
    fn start() -> Self {
        let nodes = start_cluster(3);
        let client = ClusterClient::new(nodes.iter().map(Server::url).collect::<Vec<_>>())
            .expect("the nodes' URLs are valid");
        Cluster { nodes, client }
    }

    fn connector(&self) -> Connector {
        Connector::from(&self.client)
    }

    /// The hash slot of `key`, as the cluster computes it.
    fn slot(&self, key: &str) -> u16 {
        self.nodes[0].cmd(&["CLUSTER", "KEYSLOT", key]).unwrap()
    }

    /// The node whose master serves `slot`, read from `CLUSTER NODES` of the first node.
    fn master_of_slot(&self, slot: u16) -> &Server {
        let text: String = self.nodes[0].cmd(&["CLUSTER", "NODES"]).unwrap();
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let serves = fields.iter().skip(8).any(|range| {
                let mut bounds = range.split('-').map(str::parse::<u16>);
                match (bounds.next(), bounds.next()) {
                    (Some(Ok(first)), Some(Ok(last))) => (first..=last).contains(&slot),
                    (Some(Ok(only)), None) => only == slot,
                    _ => false, // a migration marker such as [42->-id]
                }
            });
            if serves && fields[2].contains("master") {
                let port: u16 = fields[1]
                    .split(['@', ':'])
                    .nth(1)
                    .and_then(|port| port.parse().ok())
                    .expect("CLUSTER NODES gives host:port@cport");
                return self
                    .nodes
                    .iter()
                    .find(|node| node.port() == port)
                    .expect("the master is one of ours");
            }
        }
        panic!("no master serves slot {slot}:\n{text}")
    }

    fn master_of(&self, key: &str) -> &Server {
        self.master_of_slot(self.slot(key))
    }

    /// Three key names starting with `prefix`, served by three different masters.
    fn keys_on_every_master(&self, prefix: &str) -> Vec<String> {
        let mut by_master: HashMap<u16, String> = HashMap::new();
        for n in 0.. {
            let key = format!("{prefix}:{n}");
            by_master.entry(self.master_of(&key).port()).or_insert(key);
            if by_master.len() == self.nodes.len() {
                break;
            }
        }
        let keys: Vec<String> = by_master.into_values().collect();
        assert_eq!(keys.len(), 3);
        keys
    }

    /// Moves the slot of `key`, with its keys, to another master, as `redis-cli --cluster
    /// reshard` does: IMPORTING/MIGRATING, `MIGRATE`, then `SETSLOT NODE` on every master.
    fn move_slot_of(&self, key: &str) {
        let slot = self.slot(key).to_string();
        let source = self.master_of(key);
        let target = self
            .nodes
            .iter()
            .find(|node| node.port() != source.port())
            .unwrap();
        let id = |node: &Server| -> String { node.cmd(&["CLUSTER", "MYID"]).unwrap() };
        let (source_id, target_id) = (id(source), id(target));
        let _: () = target
            .cmd(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source_id])
            .unwrap();
        let _: () = source
            .cmd(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target_id])
            .unwrap();
        let keys: Vec<String> = source
            .cmd(&["CLUSTER", "GETKEYSINSLOT", &slot, "1000"])
            .unwrap();
        if !keys.is_empty() {
            let port = target.port().to_string();
            let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
            migrate.extend(keys.iter().map(String::as_str));
            let _: () = source.cmd(&migrate).unwrap();
        }
        for node in &self.nodes {
            let _: () = node
                .cmd(&["CLUSTER", "SETSLOT", &slot, "NODE", &target_id])
                .unwrap();
        }
    }

    /// The members of the set at `key`, asked of the master that serves it.
    fn members_of(&self, key: &str) -> HashSet<String> {
        self.master_of(key).cmd(&["SMEMBERS", key]).unwrap()
    }

    /// Whether `key` exists, asked of the master that serves it (directly, not redirected).
    fn stored_on_its_master(&self, key: &str) -> bool {
        let slot = self.slot(key).to_string();
        let in_slot: i64 = self
            .master_of(key)
            .cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot])
            .unwrap();
        let found: i64 = self
            .master_of(key)
            .cmd(&["EXISTS", key])
            .expect("the master serving a key answers for it without a redirection");
        in_slot > 0 && found == 1
    }
}

#[test]
fn dicts_sets_and_counters_work_on_every_master() {
    let cluster = cluster();
    for key in cluster.keys_on_every_master("dict") {
        let dict: RedisDict<String, u32> = RedisDict::open(cluster.connector(), &key).unwrap();
        assert_eq!(dict.insert("a", &1).unwrap(), None);
        assert_eq!(dict.insert("a", &2).unwrap(), Some(1)); // MULTI/EXEC
        assert_eq!(dict.setdefault("b", &3).unwrap(), 3);
        dict.extend((0..1500).map(|n| (format!("n{n}"), n)))
            .unwrap();
        assert_eq!(dict.remove("b").unwrap(), Some(3));
        assert_eq!(dict.len().unwrap(), 1501);
        let scanned: HashMap<String, u32> = dict.iter().map(Result::unwrap).collect(); // HSCAN
        assert_eq!(scanned, dict.to_hashmap().unwrap());
        assert_eq!(scanned.get("n1499"), Some(&1499));
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
    for key in cluster.keys_on_every_master("set") {
        let set: RedisSet<u32> = RedisSet::open(cluster.connector(), &key).unwrap();
        set.extend(0..2500).unwrap();
        assert!(set.insert(&9999).unwrap());
        assert_eq!(
            set.contains_many([&1, &2500, &9999]).unwrap(),
            [true, false, true]
        );
        let scanned: HashSet<u32> = set.iter().map(Result::unwrap).collect(); // SSCAN
        assert_eq!(scanned.len(), 2501);
        assert!(set.pop().unwrap().is_some());
        assert_eq!(set.len().unwrap(), 2500);
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
    for key in cluster.keys_on_every_master("counter") {
        let counter: RedisCounter<String> = RedisCounter::open(cluster.connector(), &key).unwrap();
        counter
            .update("the cat saw the hat".split(' ').map(String::from))
            .unwrap();
        assert_eq!(counter.increment("cat", 2).unwrap(), 3);
        assert_eq!(counter.remove("saw").unwrap(), Some(1));
        assert_eq!(
            counter.most_common(Some(1)).unwrap(),
            [("cat".to_owned(), 3)]
        );
        assert_eq!(counter.total().unwrap(), 6);
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
}

#[test]
fn lists_deques_and_queues_work_on_every_master() {
    let cluster = cluster();
    for key in cluster.keys_on_every_master("list") {
        let list: RedisList<i32> = RedisList::open(cluster.connector(), &key).unwrap();
        list.extend([5, 3, 9]).unwrap();
        assert_eq!(list.insert(1, &7).unwrap(), 4); // POTTERY.LIST.INSERT
        assert_eq!(list.remove(0).unwrap(), Some(5)); // POTTERY.LIST.POP
        assert_eq!(list.set_slice(0, 1, &[1, 2]).unwrap(), 4);
        list.sort().unwrap(); // a MULTI/EXEC rewrite
        assert_eq!(list.to_vec().unwrap(), [1, 2, 3, 9]);
        assert_eq!(
            list.iter().map(Result::unwrap).collect::<Vec<_>>(),
            [1, 2, 3, 9]
        );
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
    for key in cluster.keys_on_every_master("deque") {
        let deque: RedisDeque<i32> = RedisDeque::open(cluster.connector(), &key)
            .unwrap()
            .with_maxlen(3);
        deque.extend([1, 2, 3, 4]).unwrap(); // POTTERY.DEQUE.PUSH trims to maxlen
        deque.push_front(&0).unwrap();
        assert_eq!(deque.rotate(1).unwrap(), 3);
        assert_eq!(deque.to_vec().unwrap(), [3, 0, 2]);
        assert_eq!(deque.pop_front().unwrap(), Some(3));
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
    for key in cluster.keys_on_every_master("queue") {
        let queue: RedisQueue<String> = RedisQueue::open(cluster.connector(), &key).unwrap();
        assert_eq!(queue.get(Duration::from_millis(20)).unwrap(), None);
        let producer = queue.clone();
        let feeder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            producer.put("job").unwrap();
            producer.put("next").unwrap();
        });
        // BLPOP on the queue's own cluster connection, on the master of its key.
        assert_eq!(
            queue.get(Duration::from_secs(30)).unwrap().as_deref(),
            Some("job")
        );
        feeder.join().unwrap();
        assert!(cluster.stored_on_its_master(&key), "{key}");
        assert_eq!(queue.get_nowait().unwrap().as_deref(), Some("next"));
        assert!(queue.is_empty().unwrap());
    }
}

#[test]
fn caches_and_hyperloglogs_work_on_every_master() {
    let cluster = cluster();
    for key in cluster.keys_on_every_master("cache") {
        let cache = RedisCache::open(cluster.connector(), &key)
            .unwrap()
            .with_ttl(Duration::from_secs(600));
        let square: i64 = cache.get_or_compute("square", &(12,), || 144).unwrap();
        let again: i64 = cache
            .get_or_compute("square", &(12,), || unreachable!("a hit"))
            .unwrap();
        assert_eq!((square, again), (144, 144));
        let ttl: i64 = cluster.master_of(&key).cmd(&["PTTL", &key]).unwrap();
        assert!(ttl > 0, "{ttl}");
    }
    for key in cluster.keys_on_every_master("ordered") {
        let mut docs: CachedOrderedDict<String, u32> =
            CachedOrderedDict::open(cluster.connector(), &key, ["b".to_owned(), "a".to_owned()])
                .unwrap();
        assert_eq!(docs.misses().count(), 2);
        docs.fill_misses_with(|name| name.len() as u32).unwrap();
        let reread: CachedOrderedDict<String, u32> =
            CachedOrderedDict::open(cluster.connector(), &key, ["a".to_owned(), "c".to_owned()])
                .unwrap();
        assert_eq!(reread.get("a"), Some(&1));
        assert_eq!(reread.misses().collect::<Vec<_>>(), ["c"]);
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
    for key in cluster.keys_on_every_master("hll") {
        let hll: HyperLogLog<String> = HyperLogLog::open(cluster.connector(), &key).unwrap();
        assert!(hll
            .extend(["ada", "grace", "ada"].map(String::from))
            .unwrap());
        assert_eq!(hll.len().unwrap(), 2);
        assert_eq!(hll.contains_many(["ada", "linus"]).unwrap(), [true, false]);
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
}

#[test]
fn bloom_filters_work_on_every_master() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let cluster = cluster();
    for key in cluster.keys_on_every_master("bloom") {
        let filter: BloomFilter<u32> =
            BloomFilter::open(cluster.connector(), &key, 1000, 0.01).unwrap();
        assert_eq!(filter.extend(0..100).unwrap(), 100);
        assert!(filter.add(&100).unwrap());
        assert_eq!(filter.contains_many([&1, &100]).unwrap(), [true, true]);
        assert_eq!(filter.len().unwrap(), 101);
        assert!(filter.info().unwrap().is_some());
        assert!(cluster.stored_on_its_master(&key), "{key}");
    }
}

#[test]
fn unnamed_containers_use_random_keys_and_delete_them_on_drop() {
    let cluster = cluster();
    let mut keys = Vec::new();
    for _ in 0..6 {
        let dict: RedisDict<u32, u32> =
            RedisDict::from_iter_in(cluster.connector(), [(1, 1)]).unwrap();
        assert!(dict.key().starts_with("pottery:"));
        assert!(cluster.stored_on_its_master(dict.key()));
        keys.push(dict.key().to_owned());
    }
    for key in &keys {
        assert!(!cluster.stored_on_its_master(key), "{key} was not unlinked");
    }
}

#[test]
fn set_algebra_runs_on_the_server_when_keys_share_a_hash_slot() {
    let cluster = cluster();
    // Two tags on two different masters, to see both work.
    // A key `{team:N}:x` hashes as `team:N` alone.
    let tags: Vec<String> = cluster
        .keys_on_every_master("team")
        .into_iter()
        .map(|key| format!("{{{key}}}"))
        .collect();
    for tag in &tags[..2] {
        let open = |name: &str| -> RedisSet<u32> {
            let set = RedisSet::open(cluster.connector(), &format!("{tag}:{name}")).unwrap();
            set.clear().unwrap();
            set
        };
        let (a, b, c) = (open("a"), open("b"), open("c"));
        assert_eq!(cluster.slot(a.key()), cluster.slot(c.key()));
        a.extend([1, 2, 3]).unwrap();
        b.extend([2, 3, 4]).unwrap();
        c.extend([3, 5]).unwrap();
        assert_eq!(a.union(&[&b, &c]).unwrap(), [1, 2, 3, 4, 5].into());
        assert_eq!(a.intersection(&[&b, &c]).unwrap(), [3].into());
        assert_eq!(a.difference(&[&b]).unwrap(), [1].into());
        assert_eq!(a.symmetric_difference(&b).unwrap(), [1, 4].into());
        assert_eq!(a.symmetric_difference_update(&c).unwrap(), 3); // a script
        assert_eq!(a.to_hashset().unwrap(), [1, 2, 5].into());
        assert_eq!(a.union_update(&[&b]).unwrap(), 5);
        assert_eq!(a.intersection_update(&[&c]).unwrap(), 2);
        assert_eq!(a.difference_update(&[&b]).unwrap(), 1);
        assert_eq!(a.to_hashset().unwrap(), [5].into());
        assert!(cluster.stored_on_its_master(a.key()));
    }
}

#[test]
fn set_algebra_across_hash_slots_is_cross_slot_and_writes_nothing() {
    let cluster = cluster();
    let keys = cluster.keys_on_every_master("apart");
    let sets: Vec<RedisSet<u32>> = keys
        .iter()
        .map(|key| {
            let set = RedisSet::open(cluster.connector(), key).unwrap();
            set.clear().unwrap();
            set
        })
        .collect();
    sets[0].extend([1, 2]).unwrap();
    sets[1].extend([2, 3]).unwrap();
    let cross_slot = |result: Result<_, Error>, expected: &[&String]| match result {
        Err(Error::CrossSlot { keys }) => {
            assert_eq!(keys.iter().collect::<Vec<_>>(), expected);
        }
        other => panic!("expected CrossSlot, got {other:?}"),
    };
    let (a, b, c) = (&sets[0], &sets[1], &sets[2]);
    cross_slot(a.union(&[b]).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(
        a.intersection(&[b, c]).map(drop),
        &[&keys[0], &keys[1], &keys[2]],
    );
    cross_slot(a.difference(&[b]).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(a.symmetric_difference(b).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(a.union_update(&[b]).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(c.union_update(&[a]).map(drop), &[&keys[2], &keys[0]]);
    cross_slot(a.intersection_update(&[b]).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(a.difference_update(&[b]).map(drop), &[&keys[0], &keys[1]]);
    cross_slot(
        a.symmetric_difference_update(b).map(drop),
        &[&keys[0], &keys[1]],
    );
    // Nothing was written by any of them.
    assert_eq!(a.to_hashset().unwrap(), [1, 2].into());
    assert_eq!(b.to_hashset().unwrap(), [2, 3].into());
    assert!(c.is_empty().unwrap());
    // The message tells what to do.
    let message = a.union(&[b]).unwrap_err().to_string();
    assert!(message.contains("hash tag"), "{message}");
    assert!(message.contains("{user:1}:a"), "{message}");
    assert!(message.contains(&keys[1]), "{message}");
    // An operation over one set alone needs no tag.
    assert_eq!(a.union(&[]).unwrap(), [1, 2].into());
    assert_eq!(a.union(&[a]).unwrap(), [1, 2].into());
}

#[test]
fn two_unnamed_sets_in_different_slots_are_cross_slot() {
    let cluster = cluster();
    let first: RedisSet<u32> = RedisSet::from_iter_in(cluster.connector(), [1]).unwrap();
    // Random keys share a slot once in 16384 draws: draw again until they differ.
    let second =
        std::iter::repeat_with(|| RedisSet::<u32>::from_iter_in(cluster.connector(), [2]).unwrap())
            .find(|set| cluster.slot(set.key()) != cluster.slot(first.key()))
            .unwrap();
    assert!(matches!(
        first.union(&[&second]),
        Err(Error::CrossSlot { .. })
    ));
}

#[test]
fn a_cluster_set_and_a_single_server_set_combine_in_the_client() {
    let cluster = cluster();
    let server = Server::start();
    let on_cluster: RedisSet<u32> = RedisSet::from_iter_in(cluster.connector(), [1, 2, 3]).unwrap();
    let on_server: RedisSet<u32> = RedisSet::from_iter_in(server.url(), [2, 3, 4]).unwrap();
    assert_eq!(
        on_cluster.intersection(&[&on_server]).unwrap(),
        [2, 3].into()
    );
    assert_eq!(
        on_server.union(&[&on_cluster]).unwrap(),
        [1, 2, 3, 4].into()
    );
    assert_eq!(on_cluster.difference_update(&[&on_server]).unwrap(), 1);
    assert_eq!(on_cluster.to_hashset().unwrap(), [1].into());
}

#[test]
fn hyperloglogs_merge_within_a_hash_slot_only() {
    let cluster = cluster();
    let open =
        |key: &str| -> HyperLogLog<String> { HyperLogLog::open(cluster.connector(), key).unwrap() };
    let monday = open("visitors:{site}:monday");
    let tuesday = open("visitors:{site}:tuesday");
    let week = open("visitors:{site}:week");
    monday.extend(["ada", "grace"].map(String::from)).unwrap();
    tuesday
        .extend(["grace", "linus"].map(String::from))
        .unwrap();
    week.merge(&[&monday, &tuesday]).unwrap();
    assert_eq!(week.len().unwrap(), 3);

    let keys = cluster.keys_on_every_master("visitors");
    let apart: Vec<HyperLogLog<String>> = keys.iter().map(|key| open(key)).collect();
    apart[1].add("ada").unwrap();
    match apart[0].merge(&[&apart[1]]) {
        Err(Error::CrossSlot { keys: named }) => assert_eq!(named, keys[..2]),
        other => panic!("expected CrossSlot, got {other:?}"),
    }
    assert!(apart[0].is_empty().unwrap(), "nothing was merged");
}

#[test]
fn open_cluster_connections_are_used_as_they_are() {
    let cluster = cluster();
    let connection = cluster.client.get_connection().unwrap();
    let queue: RedisQueue<u32> = RedisQueue::open(connection, "queue:{open}").unwrap();
    queue.put(&7).unwrap();
    // A blocking get needs a connection of its own, which an open connection cannot give.
    assert!(matches!(
        queue.get(Duration::from_millis(10)),
        Err(Error::InvalidArgument {
            argument: "connector",
            ..
        })
    ));
    assert_eq!(queue.get_nowait().unwrap(), Some(7));
    let tags: RedisSet<String> =
        RedisSet::open(cluster.client.get_connection().unwrap(), "tags:{open}").unwrap();
    let more: RedisSet<String> = RedisSet::open(cluster.connector(), "more:{open}").unwrap();
    tags.insert("a").unwrap();
    more.insert("b").unwrap();
    // Both on the cluster and in one slot: one SUNIONSTORE, whatever the connectors.
    assert_eq!(tags.union_update(&[&more]).unwrap(), 2);
    assert!(format!(
        "{:?}",
        Connector::from(cluster.client.get_connection().unwrap())
    )
    .contains("open cluster connection"));
}

#[test]
fn containers_follow_their_slot_to_another_master() {
    let cluster = cluster();
    let dict: RedisDict<String, u32> =
        RedisDict::open(cluster.connector(), "moving:{slot}").unwrap();
    let set: RedisSet<u32> = RedisSet::open(cluster.connector(), "moving:{slot}:set").unwrap();
    // The connections learn the slot's master.
    dict.insert("before", &1).unwrap();
    set.insert(&0).unwrap();
    let first_home = cluster.master_of(dict.key()).port();

    cluster.move_slot_of(dict.key());
    // The old master answers MOVED to every command of the MULTI/EXEC block.
    assert_eq!(dict.insert("after", &2).unwrap(), None);
    assert_eq!(
        dict.to_hashmap().unwrap(),
        [("before".to_owned(), 1), ("after".to_owned(), 2)].into()
    );
    assert_ne!(cluster.master_of(dict.key()).port(), first_home);
    assert!(cluster.stored_on_its_master(dict.key()));
    assert_eq!(set.len().unwrap(), 1); // a single command: the set's connection follows too

    cluster.move_slot_of(set.key());
    // A plain pipeline of two SADDs: the cluster connection sends it again to the new master.
    set.extend(1..1500).unwrap();
    assert_eq!(set.len().unwrap(), 1500);
    assert!(cluster.stored_on_its_master(set.key()));
}

/// Sets named `names` on `cluster`, emptied, then filled with `members`.
fn sets_on(cluster: &Cluster, names: &[&str], members: &[&[u32]]) -> Vec<RedisSet<u32>> {
    names
        .iter()
        .zip(members)
        .map(|(name, members)| {
            let set = RedisSet::open(cluster.connector(), name).unwrap();
            set.clear().unwrap();
            set.extend(members.iter().copied()).unwrap();
            set
        })
        .collect()
}

/// The members as JSON, as the sets store them.
fn json(members: &[u32]) -> HashSet<String> {
    members.iter().map(u32::to_string).collect()
}

#[test]
fn sets_on_two_clusters_combine_in_the_client_even_in_one_slot() {
    let (here, there) = (cluster(), other_cluster());
    // One key name on both clusters: one slot, two different sets.
    let name = "{twins}:set";
    let mine = &sets_on(here, &[name], &[&[1, 2, 3]])[0];
    let theirs = &sets_on(there, &[name], &[&[3, 4]])[0];
    assert_eq!(mine.union(&[theirs]).unwrap(), [1, 2, 3, 4].into());
    assert_eq!(mine.intersection(&[theirs]).unwrap(), [3].into());
    assert_eq!(mine.difference(&[theirs]).unwrap(), [1, 2].into());
    assert_eq!(theirs.difference(&[mine]).unwrap(), [4].into());
    assert_eq!(mine.symmetric_difference(theirs).unwrap(), [1, 2, 4].into());
    // Two names in one slot: on one cluster the other's key would be missing.
    let (a, b) = ("{pair}:a", "{pair}:b");
    assert_eq!(here.slot(a), here.slot(b));
    let a_here = &sets_on(here, &[a], &[&[5, 6]])[0];
    let b_there = &sets_on(there, &[b], &[&[6, 7]])[0];
    assert_eq!(a_here.intersection(&[b_there]).unwrap(), [6].into());
    assert_eq!(b_there.union(&[a_here]).unwrap(), [5, 6, 7].into());
    assert_eq!(a_here.union_update(&[b_there]).unwrap(), 3);
    assert_eq!(here.members_of(a), json(&[5, 6, 7]));
    assert_eq!(b_there.difference_update(&[a_here]).unwrap(), 0);
    assert_eq!(b_there.symmetric_difference_update(a_here).unwrap(), 3);
    assert_eq!(there.members_of(b), json(&[5, 6, 7]));
    assert_eq!(a_here.intersection_update(&[b_there, mine]).unwrap(), 0);
    // Every write went to the container's own cluster, none to the other one.
    assert!(
        !here.stored_on_its_master(b),
        "{b} written on the wrong cluster"
    );
    assert!(
        !there.stored_on_its_master(a),
        "{a} written on the wrong cluster"
    );
    assert_eq!(here.members_of(name), json(&[1, 2, 3]));
    assert_eq!(there.members_of(name), json(&[3, 4]));
    // In different slots of different clusters: combined in the client too, no CrossSlot.
    let keys = here.keys_on_every_master("twins");
    let far = &sets_on(there, &[&keys[1]], &[&[1, 9]])[0];
    assert_ne!(here.slot(&keys[1]), here.slot(name));
    assert_eq!(mine.intersection(&[far]).unwrap(), [1].into());
    assert_eq!(far.union(&[mine, theirs]).unwrap(), [1, 2, 3, 4, 9].into());
    // One cluster reached through two clients seeded with different nodes is still one
    // cluster: different slots are CrossSlot there, whatever the clients.
    let seeded = |node: &Server| ClusterClient::new([node.url()]).unwrap();
    let near: RedisSet<u32> = RedisSet::open(seeded(&here.nodes[2]), &keys[1]).unwrap();
    assert!(matches!(mine.union(&[&near]), Err(Error::CrossSlot { .. })));
}

#[test]
fn hyperloglogs_on_two_clusters_do_not_merge_even_in_one_slot() {
    let (here, there) = (cluster(), other_cluster());
    let open = |cluster: &Cluster, key: &str, elements: &[&str]| -> HyperLogLog<String> {
        let hll = HyperLogLog::open(cluster.connector(), key).unwrap();
        let _: () = cluster.master_of(key).cmd(&["UNLINK", key]).unwrap();
        hll.extend(elements.iter().map(|element| element.to_string()))
            .unwrap();
        hll
    };
    let refused = |result: Result<(), Error>| match result {
        Err(Error::InvalidArgument {
            argument: "others", ..
        }) => {}
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    // One key name on both clusters.
    let name = "visitors:{twins}";
    let mine = open(here, name, &["ada", "grace"]);
    let theirs = open(there, name, &["linus", "ken", "dennis"]);
    refused(mine.merge(&[&theirs]));
    refused(theirs.merge(&[&mine]));
    assert_eq!(mine.len().unwrap(), 2);
    assert_eq!(theirs.len().unwrap(), 3);
    // Two names in one slot, and the week on the other cluster.
    let monday = open(here, "visitors:{trip}:mon", &["ada"]);
    let tuesday = open(here, "visitors:{trip}:tue", &["grace"]);
    let week = open(there, "visitors:{trip}:week", &["linus"]);
    refused(week.merge(&[&monday, &tuesday]));
    refused(monday.merge(&[&tuesday, &week]));
    assert_eq!(week.len().unwrap(), 1);
    assert_eq!(monday.len().unwrap(), 1);
    assert!(!here.stored_on_its_master(week.key()));
    assert!(!there.stored_on_its_master(monday.key()));
    assert!(!there.stored_on_its_master(tuesday.key()));
    // The same cluster through a client seeded with another node: merged on the server.
    let seeded = ClusterClient::new([here.nodes[1].url()]).unwrap();
    let same_week: HyperLogLog<String> =
        HyperLogLog::open(&seeded, "visitors:{trip}:both").unwrap();
    same_week.merge(&[&monday, &tuesday]).unwrap();
    assert_eq!(same_week.len().unwrap(), 2);
}

#[test]
fn a_cluster_that_will_not_name_its_nodes_is_combined_in_the_client() {
    let there = other_cluster();
    // A user that may run everything but CLUSTER NODES, on every node (ACLs are per node).
    for node in &there.nodes {
        let _: () = node
            .cmd(&[
                "ACL",
                "SETUSER",
                "nonodes",
                "on",
                ">secret",
                "~*",
                "&*",
                "+@all",
                "-cluster|nodes",
            ])
            .unwrap();
    }
    let limited = |node: &Server| {
        let url = format!("redis://nonodes:secret@{}/", node.addr());
        ClusterClient::new([url]).unwrap()
    };
    let a: RedisSet<u32> = RedisSet::open(limited(&there.nodes[0]), "{limited}:a").unwrap();
    let b: RedisSet<u32> = RedisSet::open(limited(&there.nodes[1]), "{limited}:b").unwrap();
    a.clear().unwrap();
    b.clear().unwrap();
    a.extend([1, 2]).unwrap();
    b.extend([2, 3]).unwrap();
    // Whether they share a cluster is unknown: read one by one, which is right either way.
    assert_eq!(a.union(&[&b]).unwrap(), [1, 2, 3].into());
    assert_eq!(a.intersection_update(&[&b]).unwrap(), 1);
    assert_eq!(there.members_of("{limited}:a"), json(&[2]));
    let hll = |client: ClusterClient, key: &str| -> HyperLogLog<u32> {
        HyperLogLog::open(client, key).unwrap()
    };
    let day = hll(limited(&there.nodes[0]), "{limited}:day");
    day.add(&1).unwrap();
    let week = hll(limited(&there.nodes[2]), "{limited}:week");
    assert!(matches!(
        week.merge(&[&day]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(week.is_empty().unwrap());
}

#[test]
fn rate_limiters_run_on_the_master_of_their_key() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let cluster = cluster();
    let day = Duration::from_secs(86_400);
    let mut masters = HashSet::new();
    for name in ["rate:a", "rate:b", "rate:c", "rate:d", "rate:e", "rate:f"] {
        let limit =
            pottery::RateLimiter::open(cluster.connector(), name, 1, 1, day).expect("valid");
        let allowed: Vec<bool> = (0..3)
            .map(|_| limit.try_acquire(1).expect("THROTTLE").allowed)
            .collect();
        assert_eq!(allowed, [true, true, false], "{name}");
        let master = cluster.master_of_slot(cluster.slot(name));
        let tat: Option<String> = master.cmd(&["GET", name]).unwrap();
        assert!(tat.is_some(), "{name} is not on the master of its slot");
        masters.insert(master.port());
    }
    assert!(masters.len() > 1, "every key landed on one master");
}
