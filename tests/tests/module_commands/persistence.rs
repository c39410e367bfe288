//! Every write command, replayed: after a scripted mix of all of them, a replica holds exactly
//! the master's data, and so does the master after RDB save + restart, after AOF + restart and
//! after BGREWRITEAOF (without the RDB preamble, so the module's AOF rewrite runs) + restart —
//! values and absolute expiry times compared key by key, and the whole dataset by DEBUG DIGEST.

use pottery_tests::{wait_for_replication, Server};
use std::collections::BTreeMap;
use std::time::Duration;

/// A mix of every pottery write command, with TTLs long enough to outlive the test.
fn every_write(server: &Server) {
    let scripted: &[&[&str]] = &[
        // NextID
        &["POTTERY.NEXTID", "nextid:a"],
        &["POTTERY.NEXTID", "nextid:a"],
        &["POTTERY.NEXTID.CLAIM", "nextid:a", "100", "FROM", "50"],
        &["POTTERY.NEXTID.CLAIM", "nextid:b", "7"],
        // Locks: relative TTLs in, absolute expiry times replicated.
        &["POTTERY.LOCK", "redlock:plain", "token-1", "600000"],
        &["POTTERY.LOCK", "redlock:plain", "token-1", "700000"],
        &[
            "POTTERY.LOCK.FENCED",
            "redlock:f",
            "redlock:f:fence",
            "token-2",
            "600000",
        ],
        &[
            "POTTERY.LOCK.FENCE",
            "redlock:f",
            "redlock:f:fence",
            "token-2",
            "42",
        ],
        &["POTTERY.LOCK", "redlock:gone", "token-3", "600000"],
        &["POTTERY.UNLOCK", "redlock:gone", "token-3"],
        &["POTTERY.LOCK", "redlock:extended", "token-4", "1000"],
        &["POTTERY.EXTEND", "redlock:extended", "token-4", "900000"],
        &["POTTERY.FENCE.CHECK", "resource:fence", "17"],
        // A rate limit: its TAT with an absolute expiry.
        &["POTTERY.THROTTLE", "throttle", "9", "1", "3600", "3"],
        // Semaphores and read-write locks: holders' absolute expiries in the hash, the key's
        // PEXPIREAT at the latest one; a short hold expires and is pruned by the next write.
        &["POTTERY.SEM.ACQUIRE", "sem", "h1", "2", "5", "600000"],
        &["POTTERY.SEM.ACQUIRE", "sem", "h2", "1", "5", "700000"],
        &["POTTERY.SEM.ACQUIRE", "sem", "short", "1", "5", "1"],
        &["POTTERY.SEM.ACQUIRE", "sem", "h1", "2", "5", "800000"],
        &["POTTERY.SEM.EXTEND", "sem", "h2", "900000"],
        &["POTTERY.SEM.ACQUIRE", "sem:gone", "h", "1", "1", "600000"],
        &["POTTERY.SEM.RELEASE", "sem:gone", "h"],
        &["POTTERY.RWLOCK.READ", "rw:read", "r1", "600000"],
        &["POTTERY.RWLOCK.READ", "rw:read", "r2", "650000"],
        &["POTTERY.RWLOCK.WRITE", "rw:read", "w", "600000", "500000"],
        &["POTTERY.RWLOCK.RELEASE", "rw:read", "r2"],
        &["POTTERY.RWLOCK.WRITE", "rw:write", "w", "600000", "0"],
        &["POTTERY.RWLOCK.EXTEND", "rw:write", "w", "900000"],
        // Lists and deques.
        &[
            "POTTERY.DEQUE.PUSH",
            "deque",
            "RIGHT",
            "-1",
            "\"a\"",
            "\"b\"",
            "\"c\"",
            "\"d\"",
        ],
        &["POTTERY.DEQUE.PUSH", "deque", "LEFT", "5", "\"z\"", "\"y\""],
        &["POTTERY.DEQUE.ROTATE", "deque", "2"],
        &["POTTERY.LIST.INSERT", "list", "0", "1"],
        &["POTTERY.LIST.INSERT", "list", "-1", "\"ünïcode 🔑\""],
        &["POTTERY.LIST.INSERT", "list", "99", "3.5"],
        &[
            "POTTERY.LIST.SETSLICE",
            "list",
            "1",
            "2",
            "\"x\"",
            "\"y\"",
            "\"z\"",
        ],
        &["POTTERY.LIST.POP", "list", "0"],
        &["POTTERY.LIST.INSERT", "emptied", "0", "1"],
        &["POTTERY.LIST.POP", "emptied"],
        // Bloom filters: reserved, auto-created with defaults, scaled, inserted, non-scaling.
        &[
            "POTTERY.BF.RESERVE",
            "bf:reserved",
            "0.001",
            "50",
            "EXPANSION",
            "4",
        ],
        &["POTTERY.BF.ADD", "bf:default", "first"],
        &[
            "POTTERY.BF.INSERT",
            "bf:inserted",
            "CAPACITY",
            "10",
            "ERROR",
            "0.05",
            "NONSCALING",
            "ITEMS",
            "a",
            "b",
        ],
    ];
    let mut connection = server.connection();
    for args in scripted {
        let _: redis::Value = redis::cmd(args[0])
            .arg(&args[1..])
            .query(&mut connection)
            .unwrap_or_else(|error| panic!("{args:?}: {error}"));
    }
    let many: Vec<String> = (0..400).map(|n| format!("item-{n}")).collect();
    let _: redis::Value = redis::cmd("POTTERY.BF.MADD")
        .arg("bf:reserved")
        .arg(&many)
        .query(&mut connection)
        .unwrap();
    // A filter restored chunk by chunk from another's dump.
    let mut cursor = 0i64;
    loop {
        let (next, chunk): (i64, Vec<u8>) = redis::cmd("POTTERY.BF.SCANDUMP")
            .arg(&["bf:reserved", &cursor.to_string()])
            .query(&mut connection)
            .unwrap();
        if next == 0 {
            break;
        }
        let _: () = redis::cmd("POTTERY.BF.LOADCHUNK")
            .arg("bf:copy")
            .arg(next)
            .arg(chunk)
            .query(&mut connection)
            .unwrap();
        cursor = next;
    }
}

/// Every key with its type, absolute expiry time and value digest, plus the dataset's digest.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    keys: BTreeMap<Vec<u8>, (String, i64, String)>,
    digest: String,
}

fn snapshot(server: &Server) -> Snapshot {
    let mut connection = server.connection();
    let names: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut connection).unwrap();
    let mut keys = BTreeMap::new();
    for name in names {
        let kind: String = redis::cmd("TYPE")
            .arg(&name)
            .query(&mut connection)
            .unwrap();
        let expires: i64 = redis::cmd("PEXPIRETIME")
            .arg(&name)
            .query(&mut connection)
            .unwrap();
        let digest: String = redis::cmd("DEBUG")
            .arg("DIGEST-VALUE")
            .arg(&name)
            .query::<Vec<String>>(&mut connection)
            .unwrap()
            .concat();
        keys.insert(name, (kind, expires, digest));
    }
    let digest: String = redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(&mut connection)
        .unwrap();
    Snapshot { keys, digest }
}

fn assert_complete(snapshot: &Snapshot) {
    let names: Vec<String> = snapshot
        .keys
        .keys()
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect();
    for expected in [
        "nextid:a",
        "redlock:plain",
        "redlock:f:fence",
        "redlock:extended",
        "resource:fence",
        "deque",
        "list",
        "bf:reserved",
        "bf:default",
        "bf:inserted",
        "bf:copy",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} missing: {names:?}"
        );
    }
    for absent in ["redlock:gone", "emptied"] {
        assert!(
            !names.contains(&absent.to_string()),
            "{absent} should be gone"
        );
    }
    let lock = &snapshot.keys[b"redlock:plain".as_slice()];
    assert!(lock.1 > 0, "the lock lost its expiry");
}

#[test]
fn a_replica_holds_exactly_the_masters_data() {
    let master = Server::start();
    let replica = Server::start();
    replica.replicate_from(&master);
    every_write(&master);
    wait_for_replication(&master, &replica);
    let on_master = snapshot(&master);
    assert_complete(&on_master);
    assert_eq!(snapshot(&replica), on_master);
}

#[test]
fn rdb_save_and_restart_keep_everything() {
    let server = Server::builder().rdb(true).start();
    every_write(&server);
    let before = snapshot(&server);
    assert_complete(&before);
    let _: () = server.cmd(&["SAVE"]).unwrap();
    server.kill();
    server.restart();
    assert_eq!(snapshot(&server), before);
}

#[test]
fn aof_and_restart_keep_everything() {
    let server = Server::builder().aof(true).fsync_always(true).start();
    every_write(&server);
    let before = snapshot(&server);
    assert_complete(&before);
    server.kill();
    server.restart();
    assert_eq!(snapshot(&server), before);
}

#[test]
fn bgrewriteaof_and_restart_keep_everything() {
    let server = Server::builder()
        .aof(true)
        .fsync_always(true)
        .config("aof-use-rdb-preamble", "no")
        .start();
    every_write(&server);
    let before = snapshot(&server);
    assert_complete(&before);
    let _: String = server.cmd(&["BGREWRITEAOF"]).unwrap();
    assert!(
        server.aof_rewrite_finished_within(Duration::from_secs(30)),
        "the rewrite never finished"
    );
    assert_eq!(
        server
            .info_field("persistence", "aof_last_bgrewrite_status")
            .as_deref(),
        Some("ok")
    );
    server.kill();
    server.restart();
    assert_eq!(snapshot(&server), before);
}
