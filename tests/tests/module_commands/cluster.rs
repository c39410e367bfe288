//! Cluster readiness: `COMMAND INFO`/`COMMAND GETKEYS` name every key of every command, and the
//! module's commands work through a cluster connection on a 3-master loopback cluster, with
//! hash tags for commands that take two keys.

use pottery_tests::{start_cluster, Server};
use redis::cluster::ClusterClient;
use std::collections::BTreeSet;

/// One invocation of every command and the keys `COMMAND GETKEYS` must find in it.
const SAMPLES: &[(&[&str], &[&str])] = &[
    (&["POTTERY.HELP"], &[]),
    (&["POTTERY.NEXTID", "n"], &["n"]),
    (&["POTTERY.NEXTID.CLAIM", "n", "5", "FROM", "2"], &["n"]),
    (&["POTTERY.LOCK", "l", "t", "100"], &["l"]),
    (&["POTTERY.LOCK.FENCED", "l", "f", "t", "100"], &["l", "f"]),
    (&["POTTERY.LOCK.FENCE", "l", "f", "t", "9"], &["l", "f"]),
    (&["POTTERY.UNLOCK", "l", "t"], &["l"]),
    (&["POTTERY.EXTEND", "l", "t", "100"], &["l"]),
    (&["POTTERY.LOCKED", "l", "t"], &["l"]),
    (&["POTTERY.LOCK.HOLDER", "l"], &["l"]),
    (&["POTTERY.FENCE.CHECK", "r", "3"], &["r"]),
    (&["POTTERY.DEQUE.ROTATE", "d", "1"], &["d"]),
    (&["POTTERY.DEQUE.PUSH", "d", "LEFT", "-1", "a", "b"], &["d"]),
    (&["POTTERY.LIST.INSERT", "d", "0", "a"], &["d"]),
    (&["POTTERY.LIST.POP", "d", "0"], &["d"]),
    (&["POTTERY.LIST.SETSLICE", "d", "0", "1", "x"], &["d"]),
    (
        &["POTTERY.BF.RESERVE", "b", "0.01", "100", "NONSCALING"],
        &["b"],
    ),
    (&["POTTERY.BF.ADD", "b", "i"], &["b"]),
    (&["POTTERY.BF.MADD", "b", "i", "j"], &["b"]),
    (
        &["POTTERY.BF.INSERT", "b", "CAPACITY", "10", "ITEMS", "i"],
        &["b"],
    ),
    (&["POTTERY.BF.EXISTS", "b", "i"], &["b"]),
    (&["POTTERY.BF.MEXISTS", "b", "i", "j"], &["b"]),
    (&["POTTERY.BF.CARD", "b"], &["b"]),
    (&["POTTERY.BF.INFO", "b", "SIZE"], &["b"]),
    (&["POTTERY.BF.SCANDUMP", "b", "0"], &["b"]),
    (&["POTTERY.BF.LOADCHUNK", "b", "1", "data"], &["b"]),
    (&["POTTERY.HLL.CONTAINS", "h", "a", "b"], &["h"]),
    (
        &["POTTERY.THROTTLE", "t", "15", "30", "60", "1", "MS"],
        &["t"],
    ),
    (&["POTTERY.SEM.ACQUIRE", "s", "h", "1", "2", "100"], &["s"]),
    (&["POTTERY.SEM.RELEASE", "s", "h"], &["s"]),
    (&["POTTERY.SEM.EXTEND", "s", "h", "100"], &["s"]),
    (&["POTTERY.SEM.AVAILABLE", "s", "2"], &["s"]),
    (&["POTTERY.SEM.INFO", "s"], &["s"]),
    (&["POTTERY.RWLOCK.READ", "w", "h", "100"], &["w"]),
    (&["POTTERY.RWLOCK.WRITE", "w", "h", "100", "10"], &["w"]),
    (&["POTTERY.RWLOCK.RELEASE", "w", "h"], &["w"]),
    (&["POTTERY.RWLOCK.EXTEND", "w", "h", "100"], &["w"]),
    (&["POTTERY.RWLOCK.INFO", "w"], &["w"]),
];

#[test]
fn command_getkeys_and_info_name_every_key_of_every_command() {
    let server = Server::start();
    let listed: BTreeSet<String> = server
        .cmd::<Vec<String>>(&["COMMAND", "LIST", "FILTERBY", "MODULE", "pottery"])
        .unwrap()
        .into_iter()
        .collect();
    let sampled: BTreeSet<String> = SAMPLES
        .iter()
        .map(|(args, _)| args[0].to_ascii_lowercase())
        .collect();
    assert_eq!(listed, sampled, "every command needs a sample here");
    for (args, keys) in SAMPLES {
        let found: Vec<String> = if keys.is_empty() {
            let error = server
                .cmd::<Vec<String>>([&["COMMAND", "GETKEYS"][..], args].concat())
                .unwrap_err();
            // Redis refuses GETKEYS for a command without key arguments (7.0 words it as an
            // arity error when the command has no arguments at all).
            let text = error.to_string();
            assert!(
                text.contains("no key arguments") || text.contains("wrong number of arguments"),
                "{args:?}: {text}"
            );
            Vec::new()
        } else {
            server
                .cmd([&["COMMAND", "GETKEYS"][..], args].concat())
                .unwrap()
        };
        assert_eq!(found, *keys, "COMMAND GETKEYS {args:?}");
        // COMMAND INFO's legacy key range agrees with the key specs.
        let info: Vec<redis::Value> = server.cmd(&["COMMAND", "INFO", args[0]]).unwrap();
        let Some(redis::Value::Array(fields)) = info.first() else {
            panic!("no COMMAND INFO for {}", args[0]);
        };
        let first_key = match fields.get(3) {
            Some(redis::Value::Int(first)) => *first,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            first_key,
            if keys.is_empty() { 0 } else { 1 },
            "{}",
            args[0]
        );
    }
}

#[test]
fn module_commands_work_through_a_cluster_connection() {
    let nodes = start_cluster(3);
    let client = ClusterClient::new(nodes.iter().map(Server::url).collect::<Vec<_>>()).unwrap();
    let mut cluster = client.get_connection().unwrap();
    let query = |cluster: &mut redis::cluster::ClusterConnection, args: &[&str]| {
        redis::cmd(args[0])
            .arg(&args[1..])
            .query::<redis::Value>(cluster)
    };
    for n in 0..30 {
        let ids = format!("nextid:{n}");
        let id: i64 = redis::cmd("POTTERY.NEXTID")
            .arg(&ids)
            .query(&mut cluster)
            .unwrap();
        assert_eq!(id, 1);
        let lock = format!("redlock:{n}");
        query(&mut cluster, &["POTTERY.LOCK", &lock, "me", "60000"]).unwrap();
        let holder = query(&mut cluster, &["POTTERY.LOCK.HOLDER", &lock]).unwrap();
        assert!(format!("{holder:?}").contains("me"), "{holder:?}");
        let deque = format!("deque:{n}");
        query(
            &mut cluster,
            &["POTTERY.DEQUE.PUSH", &deque, "RIGHT", "-1", "1", "2", "3"],
        )
        .unwrap();
        query(&mut cluster, &["POTTERY.DEQUE.ROTATE", &deque, "1"]).unwrap();
        let popped: String = redis::cmd("POTTERY.LIST.POP")
            .arg(&deque)
            .arg(0)
            .query(&mut cluster)
            .unwrap();
        assert_eq!(popped, "3");
        let bloom = format!("bloom:{n}");
        query(&mut cluster, &["POTTERY.BF.ADD", &bloom, "x"]).unwrap();
        let exists: i64 = redis::cmd("POTTERY.BF.EXISTS")
            .arg(&[&bloom, "x"])
            .query(&mut cluster)
            .unwrap();
        assert_eq!(exists, 1);
        let hll = format!("hll:{n}");
        query(&mut cluster, &["PFADD", &hll, "a"]).unwrap();
        let contains: Vec<i64> = redis::cmd("POTTERY.HLL.CONTAINS")
            .arg(&[&hll, "a"])
            .query(&mut cluster)
            .unwrap();
        assert_eq!(contains, vec![1]);
    }
    // The keys really are spread over the masters.
    let holding = nodes
        .iter()
        .filter(|node| node.cmd::<i64>(&["DBSIZE"]).unwrap() > 0)
        .count();
    assert_eq!(holding, 3);

    // Two keys must share a slot: hash tags work, different slots are refused by Redis.
    let fenced = query(
        &mut cluster,
        &[
            "POTTERY.LOCK.FENCED",
            "redlock:{job}",
            "redlock:{job}:fence",
            "me",
            "60000",
        ],
    )
    .unwrap();
    assert_eq!(fenced, redis::Value::Int(1));
    let crossed = query(
        &mut cluster,
        &[
            "POTTERY.LOCK.FENCED",
            "redlock:a",
            "redlock:b:fence",
            "me",
            "60000",
        ],
    )
    .unwrap_err();
    assert_eq!(crossed.code(), Some("CROSSSLOT"), "{crossed}");
}
