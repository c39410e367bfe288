//! `POTTERY.RWLOCK.*` on real servers: readers sharing, one writer excluding, writer intents
//! keeping new readers out, abandoned and withdrawn intents, bad holders. (The replica,
//! error-table and persistence tests cover both synchronizers.)

use super::synchronizers::{error, holder_expiry, int, until_server_time_passes};
use pottery_tests::Server;

#[test]
fn readers_share_one_writer_excludes_and_an_intent_keeps_new_readers_out() {
    let server = Server::start();
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r1", "60000"]),
        1
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r2", "60000"]),
        1
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "0"]),
        0
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r3", "60000"]),
        1,
        "no intent: readers go on"
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "600000"]
        ),
        0
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r4", "60000"]),
        0,
        "the intent keeps new readers out"
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r1", "60000"]),
        1,
        "holders may refresh"
    );
    let info: Vec<(String, String, i64)> = server.cmd(&["POTTERY.RWLOCK.INFO", "rw"]).unwrap();
    let kinds: Vec<(&str, &str)> = info.iter().map(|h| (&h.0[..], &h.1[..])).collect();
    assert_eq!(
        kinds,
        [
            ("r1", "read"),
            ("r2", "read"),
            ("r3", "read"),
            ("w", "wait")
        ]
    );
    assert_eq!(
        error(&server, &["POTTERY.RWLOCK.WRITE", "rw", "r1", "10", "0"]),
        "ERR holder: holds the read lock"
    );
    assert_eq!(
        error(&server, &["POTTERY.RWLOCK.READ", "rw", "w", "10"]),
        "ERR holder: waits for the write lock"
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.EXTEND", "rw", "w", "60000"]),
        0,
        "an intent is no hold"
    );
    for reader in ["r1", "r2", "r3"] {
        assert_eq!(int(&server, &["POTTERY.RWLOCK.RELEASE", "rw", reader]), 1);
    }
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.WRITE", "rw", "w2", "60000", "0"]),
        1,
        "any writer may take a free lock"
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "600000"]
        ),
        0
    );
    assert_eq!(int(&server, &["POTTERY.RWLOCK.RELEASE", "rw", "w2"]), 1);
    assert_eq!(
        int(
            &server,
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "600000"]
        ),
        1
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.WRITE", "rw", "w", "90000", "0"]),
        1,
        "a retry refreshes"
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r1", "60000"]),
        0
    );
    assert_eq!(
        error(&server, &["POTTERY.RWLOCK.READ", "rw", "w", "10"]),
        "ERR holder: holds the write lock"
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.EXTEND", "rw", "w", "900000"]),
        1
    );
    assert_eq!(
        int(&server, &["PEXPIRETIME", "rw"]),
        holder_expiry(&server, "rw", "w")
    );
    assert_eq!(int(&server, &["POTTERY.RWLOCK.RELEASE", "rw", "w"]), 1);
    assert_eq!(int(&server, &["EXISTS", "rw"]), 0);
}

#[test]
fn an_abandoned_intent_expires_and_a_withdrawn_one_is_gone() {
    let server = Server::start();
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r1", "600000"]),
        1
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "20"]),
        0
    );
    until_server_time_passes(&server, holder_expiry(&server, "rw", "w"));
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r2", "600000"]),
        1
    );
    assert_eq!(int(&server, &["HEXISTS", "rw", "w"]), 0, "pruned");
    assert_eq!(
        int(
            &server,
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "60000", "600000"]
        ),
        0
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.RELEASE", "rw", "w"]),
        0,
        "withdrawn, not released"
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "r3", "600000"]),
        1
    );
}
