//! `POTTERY.HLL.CONTAINS` against Redis's own HyperLogLog: agreement with `PFADD` on sparse and
//! dense values, no false negatives, nothing written, and Redis's error texts.

use pottery_tests::Server;
use redis::Value;

fn contains(server: &Server, key: &str, elements: &[String]) -> Vec<i64> {
    let mut connection = server.connection();
    elements
        .chunks(1000)
        .flat_map(|batch| {
            redis::cmd("POTTERY.HLL.CONTAINS")
                .arg(key)
                .arg(batch)
                .query::<Vec<i64>>(&mut connection)
                .expect("CONTAINS answers")
        })
        .collect()
}

fn pfadd(server: &Server, key: &str, elements: &[String]) {
    let mut connection = server.connection();
    for batch in elements.chunks(1000) {
        let _: i64 = redis::cmd("PFADD")
            .arg(key)
            .arg(batch)
            .query(&mut connection)
            .unwrap();
    }
}

/// The encoding byte of the HLL header: 0 dense, 1 sparse.
fn encoding(server: &Server, key: &str) -> u8 {
    let byte: Vec<u8> = server.cmd(&["GETRANGE", key, "4", "4"]).unwrap();
    byte[0]
}

/// Checks CONTAINS against what PFADD does on a copy, element by element, and that every added
/// element is reported present.
fn check_against_pfadd(server: &Server, key: &str, added: &[String], probes: &[String]) {
    assert!(
        contains(server, key, added).iter().all(|c| *c == 1),
        "a false negative in {key}"
    );
    let answers = contains(server, key, probes);
    let mut absent = 0;
    for (probe, answer) in probes.iter().zip(&answers) {
        let _: i64 = server.cmd(&["COPY", key, "scratch", "REPLACE"]).unwrap();
        let changed: i64 = server.cmd(&["PFADD", "scratch", probe]).unwrap();
        assert_eq!(*answer, 1 - changed, "{probe} in {key}");
        absent += usize::from(*answer == 0);
    }
    let _: i64 = server.cmd(&["DEL", "scratch"]).unwrap();
    assert!(
        absent > 0,
        "every probe reported present in {key}: the test proves nothing"
    );
}

fn elements(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}-ключ")).collect()
}

#[test]
fn agrees_with_pfadd_on_sparse_and_dense_values() {
    let server = Server::start();
    let few = elements("few", 300);
    pfadd(&server, "sparse", &few);
    assert_eq!(encoding(&server, "sparse"), 1, "expected a sparse HLL");
    check_against_pfadd(&server, "sparse", &few, &elements("probe", 400));

    let many = elements("many", 3000);
    pfadd(&server, "dense", &many);
    assert_eq!(encoding(&server, "dense"), 0, "expected a dense HLL");
    check_against_pfadd(&server, "dense", &many, &elements("probe", 400));

    // A missing key contains nothing; binary and empty elements work.
    let missing: Vec<i64> = server
        .cmd(&["POTTERY.HLL.CONTAINS", "missing", "a", ""])
        .unwrap();
    assert_eq!(missing, vec![0, 0]);
    let binary: Vec<u8> = (0..=255u8).collect();
    let _: i64 = redis::cmd("PFADD")
        .arg("bin")
        .arg(&binary[..])
        .arg("")
        .query(&mut server.connection())
        .unwrap();
    let found: Vec<i64> = redis::cmd("POTTERY.HLL.CONTAINS")
        .arg("bin")
        .arg(&binary[..])
        .arg("")
        .query(&mut server.connection())
        .unwrap();
    assert_eq!(found, vec![1, 1]);
}

#[test]
fn reading_changes_nothing() {
    let server = Server::start();
    let added = elements("e", 200);
    pfadd(&server, "h", &added);
    let _: i64 = server.cmd(&["PFCOUNT", "h"]).unwrap(); // caches the cardinality
    let before: Vec<u8> = server.cmd(&["GET", "h"]).unwrap();
    let dirty = server.info_field("persistence", "rdb_changes_since_last_save");
    let keys_before: i64 = server.cmd(&["DBSIZE"]).unwrap();
    let _ = contains(&server, "h", &elements("probe", 5000));
    let _ = contains(&server, "h", &added);
    let after: Vec<u8> = server.cmd(&["GET", "h"]).unwrap();
    assert_eq!(before, after);
    assert_eq!(
        server.info_field("persistence", "rdb_changes_since_last_save"),
        dirty
    );
    assert_eq!(server.cmd::<i64>(&["DBSIZE"]).unwrap(), keys_before);
    let commands = server.info("commandstats");
    assert!(
        !commands.contains("cmdstat_pfadd:calls=2") && !commands.contains("cmdstat_del"),
        "{commands}"
    );
}

/// The error Redis's own PFCOUNT gives for `key`, beside ours.
fn errors(server: &Server, key: &str) -> (String, String) {
    let mut connection = server.connection();
    let text = |error: redis::RedisError| pottery_tests::error_text(&error);
    let ours = redis::cmd("POTTERY.HLL.CONTAINS")
        .arg(key)
        .arg("x")
        .query::<Value>(&mut connection)
        .unwrap_err();
    let redis = redis::cmd("PFCOUNT")
        .arg(key)
        .query::<Value>(&mut connection)
        .unwrap_err();
    (text(ours), text(redis))
}

#[test]
fn errors_use_redis_texts() {
    let server = Server::start();
    let _: () = server
        .cmd(&["SET", "text", "not a hyperloglog at all"])
        .unwrap();
    let _: () = server.cmd(&["SET", "number", "12345678901234567"]).unwrap();
    let _: i64 = server.cmd(&["RPUSH", "list", "a"]).unwrap();
    // The last header byte's top bit marks the cached cardinality stale, so PFCOUNT reads the
    // registers too.
    let mut bad_sparse = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
    bad_sparse.extend_from_slice(&[0x7f, 0xfe]); // covers 16383 registers, one short
    let _: () = redis::cmd("SET")
        .arg("corrupt")
        .arg(bad_sparse)
        .query(&mut server.connection())
        .unwrap();
    let mut short_dense = b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    short_dense.extend_from_slice(&[0; 100]);
    let _: () = redis::cmd("SET")
        .arg("short")
        .arg(short_dense)
        .query(&mut server.connection())
        .unwrap();

    for key in ["text", "number", "short"] {
        let (ours, theirs) = errors(&server, key);
        assert_eq!(
            ours,
            "WRONGTYPE Key is not a valid HyperLogLog string value."
        );
        assert_eq!(ours, theirs, "for {key}");
    }
    let (ours, theirs) = errors(&server, "list");
    assert_eq!(
        ours,
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(ours, theirs);
    let (ours, theirs) = errors(&server, "corrupt");
    assert_eq!(ours, "INVALIDOBJ Corrupted HLL object detected");
    assert_eq!(ours, theirs);
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

#[test]
fn small_embedded_values_keep_their_encoding() {
    // After a reload, a sparse HyperLogLog of a few elements is an embedded string (at most 44
    // bytes): reading it must not make Redis re-encode it.
    let server = Server::builder()
        .config("enable-debug-command", "yes")
        .start();
    let _: i64 = server.cmd(&["PFADD", "small", "a", "b"]).unwrap();
    let _: () = server.cmd(&["DEBUG", "RELOAD"]).unwrap();
    let encoding = |key: &str| -> String { server.cmd(&["OBJECT", "ENCODING", key]).unwrap() };
    assert_eq!(encoding("small"), "embstr");
    let found: Vec<i64> = server
        .cmd(&["POTTERY.HLL.CONTAINS", "small", "a", "b", "zzz"])
        .unwrap();
    assert_eq!(found[..2], [1, 1]);
    assert_eq!(encoding("small"), "embstr");
    // Integer-encoded strings are no HyperLogLog, and stay integers.
    let _: () = server.cmd(&["SET", "number", "12345"]).unwrap();
    assert!(server
        .cmd::<Vec<i64>>(&["POTTERY.HLL.CONTAINS", "number", "x"])
        .is_err());
    assert_eq!(encoding("number"), "int");
}
