//! `INFO pottery` counts what the module did: locks granted and refused, claims won and lost,
//! NextID increments, throttled requests allowed and limited, and the Bloom filters (and bytes
//! of bit arrays) the server holds, through creation, growth, copies, reloads and deletion.

use pottery_tests::{Server, DEFAULT_READY_TIMEOUT};
use std::time::{Duration, Instant};

fn stats(server: &Server) -> Vec<(String, i64)> {
    let info: String = server.cmd(&["INFO", "pottery"]).unwrap();
    info.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().parse().unwrap_or(-999)))
        .collect()
}

fn stat(server: &Server, name: &str) -> i64 {
    stats(server)
        .into_iter()
        .find(|(field, _)| field == name)
        .unwrap_or_else(|| panic!("INFO pottery has no {name}: {:?}", stats(server)))
        .1
}

/// Waits until the server's lazyfree thread has freed everything handed to it
/// (`lazyfree_pending_objects:0`). Valkey frees the dataset a `DEBUG RELOAD` replaces in the
/// background (its `lazyfree-*` options default to yes), and the module's `free` callback, which
/// keeps the Bloom gauges, runs there.
fn background_frees_done(server: &Server) {
    let deadline = Instant::now() + DEFAULT_READY_TIMEOUT;
    while server
        .info_field("memory", "lazyfree_pending_objects")
        .as_deref()
        != Some("0")
    {
        assert!(Instant::now() < deadline, "lazyfree never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn bloom_size(server: &Server, key: &str) -> i64 {
    // Like RedisBloom, BF.INFO with one field replies a one-element array.
    let size: Vec<i64> = server.cmd(&["POTTERY.BF.INFO", key, "SIZE"]).unwrap();
    size[0]
}

#[test]
fn info_pottery_counts_what_the_module_did() {
    let server = Server::start();
    for name in [
        "pottery_locks_granted",
        "pottery_locks_refused",
        "pottery_claims_won",
        "pottery_claims_lost",
        "pottery_nextid_increments",
        "pottery_throttle_allowed",
        "pottery_throttle_limited",
        "pottery_bloom_filters",
        "pottery_bloom_bytes",
    ] {
        assert_eq!(stat(&server, name), 0, "{name} starts at 0");
    }
    let _: i64 = server.cmd(&["POTTERY.NEXTID", "n"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.NEXTID", "n"]).unwrap();
    let _: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "n", "10"]).unwrap();
    let _: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "n", "10"]).unwrap();
    let _: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "n", "3"]).unwrap();
    assert_eq!(stat(&server, "pottery_nextid_increments"), 2);
    assert_eq!(stat(&server, "pottery_claims_won"), 1);
    assert_eq!(stat(&server, "pottery_claims_lost"), 2);

    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "60000"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "60000"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "you", "60000"]).unwrap();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK.FENCED", "l", "f", "you", "60000"])
        .unwrap();
    assert_eq!(stat(&server, "pottery_locks_granted"), 2);
    assert_eq!(stat(&server, "pottery_locks_refused"), 2);

    for (quantity, limited) in [("1", 0), ("0", 0), ("2", 1), ("1", 1)] {
        let reply: Vec<i64> = server
            .cmd(&["POTTERY.THROTTLE", "rate", "0", "1", "3600", quantity])
            .unwrap();
        assert_eq!(reply[0], limited);
    }
    assert_eq!(stat(&server, "pottery_throttle_allowed"), 2);
    assert_eq!(stat(&server, "pottery_throttle_limited"), 2);

    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "b", "0.01", "100"])
        .unwrap();
    assert_eq!(stat(&server, "pottery_bloom_filters"), 1);
    assert_eq!(
        stat(&server, "pottery_bloom_bytes"),
        bloom_size(&server, "b")
    );
    // Growth: filling past capacity adds sub-filters.
    let items: Vec<String> = (0..500).map(|n| format!("item-{n}")).collect();
    let _: Vec<i64> = redis::cmd("POTTERY.BF.MADD")
        .arg("b")
        .arg(&items)
        .query(&mut server.connection())
        .unwrap();
    let grown = bloom_size(&server, "b");
    assert!(grown > 0);
    assert_eq!(stat(&server, "pottery_bloom_bytes"), grown);
    // A copy counts as a second filter; a reload keeps the same totals; deletion frees.
    let _: i64 = server.cmd(&["COPY", "b", "b2"]).unwrap();
    assert_eq!(stat(&server, "pottery_bloom_filters"), 2);
    assert_eq!(stat(&server, "pottery_bloom_bytes"), 2 * grown);
    let _: String = server.cmd(&["DEBUG", "RELOAD"]).unwrap();
    background_frees_done(&server);
    assert_eq!(stat(&server, "pottery_bloom_filters"), 2);
    assert_eq!(stat(&server, "pottery_bloom_bytes"), 2 * grown);
    let _: i64 = server.cmd(&["DEL", "b", "b2"]).unwrap();
    background_frees_done(&server);
    assert_eq!(stat(&server, "pottery_bloom_filters"), 0);
    assert_eq!(stat(&server, "pottery_bloom_bytes"), 0);
}

#[test]
fn the_server_log_names_the_loaded_module_and_its_commands() {
    let server = Server::start();
    let commands: Vec<String> = server
        .cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "pottery"])
        .unwrap();
    let expected = format!(
        "pottery: module version 100 loaded with {} commands",
        commands.len()
    );
    assert!(
        server.log().contains(&expected),
        "no notice {expected:?} in the server log:\n{}",
        server.log()
    );
}
