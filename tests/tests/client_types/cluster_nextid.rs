//! NextId and Redlock through a Redis Cluster given as one master
//! (`Master::from(ClusterClient)`): each sequence's key lives on the shard master that owns its
//! slot, and sequences with keys on different shards work side by side, sync and async.

use pottery::{NextId, Redlock};
use pottery_tests::{start_cluster, Server};
use redis::cluster::ClusterClient;
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

const THREADS: usize = 4;
const IDS_PER_THREAD: usize = 50;

fn cluster_client(nodes: &[Server]) -> ClusterClient {
    ClusterClient::new(nodes.iter().map(Server::url).collect::<Vec<_>>()).expect("cluster client")
}

/// The node that owns `key`'s slot: the others answer `EXISTS` with a MOVED redirection.
fn owner(nodes: &[Server], key: &str) -> usize {
    let owners: Vec<usize> = (0..nodes.len())
        .filter(|&index| nodes[index].cmd::<i64>(&["EXISTS", key]).is_ok())
        .collect();
    assert_eq!(owners.len(), 1, "exactly one node owns {key}");
    owners[0]
}

/// One NextId name per node, each with its key on that node.
fn names_on_every_node(nodes: &[Server]) -> Vec<(String, usize)> {
    let mut found: Vec<(String, usize)> = Vec::new();
    for candidate in (0..1000).map(|n| format!("seq{n}")) {
        let node = owner(nodes, &format!("nextid:{candidate}"));
        if found.iter().all(|(_, taken)| *taken != node) {
            found.push((candidate, node));
        }
        if found.len() == nodes.len() {
            return found;
        }
    }
    panic!("no names cover every node: {found:?}");
}

fn next_id(client: &ClusterClient, name: &str) -> NextId {
    NextId::builder()
        .name(name)
        .master(client)
        .master_timeout(Duration::from_secs(1))
        .deadline(Duration::from_secs(10))
        .build()
        .expect("valid builder")
}

/// Every ID unique, every thread's IDs strictly increasing, and the owner's counter at the
/// largest ID handed out.
fn check(per_thread: &[Vec<i64>], nodes: &[Server], name: &str, node: usize) {
    let mut all = HashSet::new();
    for ids in per_thread {
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
        for id in ids {
            assert!(all.insert(*id), "{name}: {id} handed out twice");
        }
    }
    assert_eq!(all.len(), THREADS * IDS_PER_THREAD);
    let largest = all.iter().max().copied();
    let stored: Option<i64> = nodes[node]
        .cmd(&["GET", &format!("nextid:{name}")])
        .expect("GET on the owner");
    assert_eq!(stored, largest);
}

#[test]
fn sync_next_id_hands_out_unique_increasing_ids_on_every_shard() {
    let nodes = start_cluster(3);
    let client = cluster_client(&nodes);
    let names = names_on_every_node(&nodes);
    let nodes_used: BTreeSet<usize> = names.iter().map(|(_, node)| *node).collect();
    assert_eq!(nodes_used.len(), 3);
    std::thread::scope(|scope| {
        let runs: Vec<_> = names
            .iter()
            .map(|(name, node)| {
                let threads: Vec<_> = (0..THREADS)
                    .map(|_| {
                        let mut ids = next_id(&client, name);
                        assert_eq!((ids.masters(), ids.quorum()), (1, 1));
                        scope.spawn(move || {
                            (0..IDS_PER_THREAD)
                                .map(|_| ids.next_id().expect("an ID through the cluster"))
                                .collect::<Vec<i64>>()
                        })
                    })
                    .collect();
                (name, *node, threads)
            })
            .collect();
        for (name, node, threads) in runs {
            let per_thread: Vec<Vec<i64>> = threads
                .into_iter()
                .map(|thread| thread.join().expect("worker finished"))
                .collect();
            check(&per_thread, &nodes, name, node);
        }
    });
    // Blocks and reset go through the cluster too.
    let (name, node) = &names[0];
    let mut ids = next_id(&client, name);
    let block = ids.next_ids(10).unwrap();
    assert_eq!(*block.start(), (THREADS * IDS_PER_THREAD) as i64 + 1);
    ids.reset().unwrap();
    assert_eq!(owner(&nodes, &format!("nextid:{name}")), *node);
    assert_eq!(ids.next_id().unwrap(), 1);
}

#[test]
fn async_next_id_hands_out_unique_increasing_ids_on_every_shard() {
    let nodes = start_cluster(3);
    let client = cluster_client(&nodes);
    let names = names_on_every_node(&nodes);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut runs = Vec::new();
        for (name, node) in &names {
            let mut tasks = Vec::new();
            for _ in 0..THREADS {
                let mut ids: pottery::aio::NextId = NextId::builder()
                    .name(name)
                    .master(&client)
                    .master_timeout(Duration::from_secs(1))
                    .deadline(Duration::from_secs(10))
                    .build_async()
                    .await
                    .unwrap();
                tasks.push(tokio::spawn(async move {
                    let mut taken = Vec::with_capacity(IDS_PER_THREAD);
                    for _ in 0..IDS_PER_THREAD {
                        taken.push(ids.next_id().await.expect("an ID through the cluster"));
                    }
                    taken
                }));
            }
            runs.push((name, *node, tasks));
        }
        for (name, node, tasks) in runs {
            let mut per_task = Vec::new();
            for task in tasks {
                per_task.push(task.await.expect("task finished"));
            }
            check(&per_task, &nodes, name, node);
        }
    });
}

#[test]
fn redlock_works_through_the_cluster() {
    let nodes = start_cluster(3);
    let client = cluster_client(&nodes);
    let lock = |name: &str, fencing: bool| {
        Redlock::builder()
            .name(name)
            .master(&client)
            .ttl(Duration::from_secs(10))
            .acquire_timeout(Duration::ZERO)
            .fencing(fencing)
            .build()
            .unwrap()
    };
    let printer = lock("printer", false);
    let rival = lock("printer", false);
    let guard = printer.acquire().unwrap();
    assert!(rival.try_acquire().unwrap().is_none());
    assert!(rival.is_locked().unwrap());
    guard.release().unwrap();
    assert!(!rival.is_locked().unwrap());
    let held = rival.try_acquire().unwrap();
    assert!(held.is_some());

    // With fencing, the lock key and its counter share a slot through a hash tag.
    let fenced = lock("{door}", true);
    let first = fenced.acquire().unwrap();
    let first_token = first.fencing_token().expect("a fenced lock has a token");
    first.release().unwrap();
    let second = fenced.acquire().unwrap();
    assert!(second.fencing_token().expect("a token") > first_token);
    second.release().unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let lock = Redlock::builder()
            .name("printer")
            .master(&client)
            .acquire_timeout(Duration::ZERO)
            .build_async()
            .await
            .unwrap();
        assert!(lock.try_acquire().await.unwrap().is_none(), "still held");
        assert!(lock.is_locked().await.unwrap());
    });
    drop(held);
    assert!(!printer.is_locked().unwrap());
}
