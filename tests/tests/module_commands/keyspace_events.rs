//! Every change fires the keyspace event `pottery.<command>` for the key it changed, and a
//! command that changed nothing fires nothing (checked with a real subscriber).

use pottery_tests::Server;
use std::collections::BTreeSet;
use std::time::Duration;

/// The (event, key) pairs published since the last call: everything before a marker that
/// this call publishes itself, so no timeout decides what "nothing" means.
fn events(pubsub: &mut redis::PubSub<'_>, server: &Server) -> BTreeSet<(String, String)> {
    let _: i64 = server
        .cmd(&["PUBLISH", "__keyevent@0__:marker", "end"])
        .unwrap();
    let mut seen = BTreeSet::new();
    loop {
        let message = pubsub.get_message().expect("the marker arrives");
        let event = message
            .get_channel_name()
            .trim_start_matches("__keyevent@0__:")
            .to_string();
        if event == "marker" {
            return seen;
        }
        seen.insert((event, message.get_payload::<String>().unwrap_or_default()));
    }
}

fn run(server: &Server, args: &[&str]) -> redis::Value {
    server
        .cmd(args)
        .unwrap_or_else(|error| panic!("{args:?}: {error}"))
}

#[test]
fn every_change_fires_its_event_and_no_change_fires_nothing() {
    let server = Server::start();
    let _: () = server
        .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"])
        .unwrap();
    let mut connection = server.connection();
    let mut subscriber = connection.as_pubsub();
    subscriber.psubscribe("__keyevent@0__:*").unwrap();
    subscriber
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let changes: &[(&[&str], &[&str])] = &[
        (&["POTTERY.NEXTID", "n"], &["n"]),
        (&["POTTERY.NEXTID.CLAIM", "n", "10"], &["n"]),
        (&["POTTERY.LOCK", "l", "t", "60000"], &["l"]),
        (&["POTTERY.LOCK", "l", "t", "70000"], &["l"]),
        (&["POTTERY.EXTEND", "l", "t", "90000"], &["l"]),
        (&["POTTERY.UNLOCK", "l", "t"], &["l"]),
        (
            &["POTTERY.LOCK.FENCED", "l2", "f", "t", "60000"],
            &["l2", "f"],
        ),
        (&["POTTERY.LOCK.FENCE", "l2", "f", "t", "5"], &["f"]),
        (&["POTTERY.FENCE.CHECK", "r", "3"], &["r"]),
        (
            &["POTTERY.DEQUE.PUSH", "d", "RIGHT", "-1", "a", "b", "c"],
            &["d"],
        ),
        (&["POTTERY.DEQUE.ROTATE", "d", "1"], &["d"]),
        (&["POTTERY.LIST.INSERT", "d", "0", "x"], &["d"]),
        (&["POTTERY.LIST.SETSLICE", "d", "0", "1", "y"], &["d"]),
        (&["POTTERY.LIST.POP", "d"], &["d"]),
        (&["POTTERY.BF.RESERVE", "b", "0.01", "100"], &["b"]),
        (&["POTTERY.BF.ADD", "b", "i"], &["b"]),
        (&["POTTERY.BF.MADD", "b", "j", "k"], &["b"]),
        (&["POTTERY.BF.INSERT", "b", "ITEMS", "z"], &["b"]),
        (&["POTTERY.THROTTLE", "rate", "0", "1", "3600"], &["rate"]),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "h", "1", "2", "60000"],
            &["s"],
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "h", "1", "2", "70000"],
            &["s"],
        ),
        (&["POTTERY.SEM.EXTEND", "s", "h", "80000"], &["s"]),
        (&["POTTERY.SEM.RELEASE", "s", "h"], &["s"]),
        (&["POTTERY.RWLOCK.READ", "rw", "r", "60000"], &["rw"]),
        (
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "5000"],
            &["rw"],
        ),
        (&["POTTERY.RWLOCK.EXTEND", "rw", "r", "60000"], &["rw"]),
        (&["POTTERY.RWLOCK.RELEASE", "rw", "w"], &["rw"]),
        (&["POTTERY.RWLOCK.RELEASE", "rw", "r"], &["rw"]),
    ];
    for (args, keys) in changes {
        run(&server, args);
        let event = args[0].to_ascii_lowercase();
        let seen = events(&mut subscriber, &server);
        let expected: BTreeSet<(String, String)> = keys
            .iter()
            .map(|key| (event.clone(), key.to_string()))
            .collect();
        assert_eq!(seen, expected, "events of {args:?}");
    }

    // A filter restored from chunks fires LOADCHUNK's event.
    let (next, header): (i64, Vec<u8>) = server.cmd(&["POTTERY.BF.SCANDUMP", "b", "0"]).unwrap();
    let _: () = redis::cmd("POTTERY.BF.LOADCHUNK")
        .arg("b2")
        .arg(next)
        .arg(header)
        .query(&mut server.connection())
        .unwrap();
    assert_eq!(
        events(&mut subscriber, &server),
        BTreeSet::from([("pottery.bf.loadchunk".to_string(), "b2".to_string())])
    );

    // A full semaphore and a write-held lock, for the refusals below.
    run(
        &server,
        &["POTTERY.SEM.ACQUIRE", "s2", "a", "2", "2", "60000"],
    );
    run(&server, &["POTTERY.RWLOCK.WRITE", "s3", "w", "60000", "0"]);
    events(&mut subscriber, &server);

    let unchanged: &[&[&str]] = &[
        &["POTTERY.NEXTID.CLAIM", "n", "5"],
        &["POTTERY.LOCK", "l2", "other", "1000"],
        &["POTTERY.LOCK.FENCED", "l2", "f", "other", "1000"],
        &["POTTERY.LOCK.FENCE", "l2", "f", "t", "1"],
        &["POTTERY.LOCK.FENCE", "l2", "f", "other", "100"],
        &["POTTERY.UNLOCK", "l2", "other"],
        &["POTTERY.EXTEND", "l2", "other", "1000"],
        &["POTTERY.EXTEND", "missing", "t", "1000"],
        &["POTTERY.FENCE.CHECK", "r", "1"],
        &["POTTERY.LIST.POP", "missing"],
        &["POTTERY.LIST.POP", "d", "99"],
        &["POTTERY.DEQUE.ROTATE", "missing", "3"],
        &["POTTERY.BF.ADD", "b", "i"],
        &["POTTERY.BF.MADD", "b", "j", "k"],
        &["POTTERY.LOCKED", "l2", "t"],
        &["POTTERY.LOCK.HOLDER", "l2"],
        &["POTTERY.BF.EXISTS", "b", "i"],
        &["POTTERY.HLL.CONTAINS", "missing", "a"],
        // A refused request and a peek.
        &["POTTERY.THROTTLE", "rate", "0", "1", "3600"],
        &["POTTERY.THROTTLE", "rate", "0", "1", "3600", "0"],
        &["POTTERY.SEM.ACQUIRE", "s2", "b", "1", "2", "60000"],
        &["POTTERY.SEM.RELEASE", "s2", "b"],
        &["POTTERY.SEM.EXTEND", "s2", "b", "1000"],
        &["POTTERY.SEM.RELEASE", "missing", "b"],
        &["POTTERY.SEM.AVAILABLE", "s2", "2"],
        &["POTTERY.SEM.INFO", "s2"],
        &["POTTERY.RWLOCK.READ", "s3", "r", "60000"],
        &["POTTERY.RWLOCK.WRITE", "s3", "w2", "60000", "0"],
        &["POTTERY.RWLOCK.EXTEND", "s3", "r", "1000"],
        &["POTTERY.RWLOCK.RELEASE", "missing", "r"],
        &["POTTERY.RWLOCK.INFO", "s3"],
    ];
    for args in unchanged {
        run(&server, args);
        assert_eq!(
            events(&mut subscriber, &server),
            BTreeSet::new(),
            "{args:?} changed nothing"
        );
    }
}
