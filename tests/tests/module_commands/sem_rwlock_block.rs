//! `BLOCK ms` of `POTTERY.SEM.ACQUIRE`, `POTTERY.RWLOCK.READ` and `POTTERY.RWLOCK.WRITE` on
//! real servers: first come first served (a later, smaller request never overtakes), woken by
//! a release, by a hold expiring inside the hash and by DEL, timeouts, waiters that
//! disconnect, no blocking inside MULTI or scripts, a release answering its holder's own
//! waiter, bad BLOCK arguments, and the grants on a replica.

use super::lock_wait::{each_client, int as reply, send_blocking};
use super::synchronizers::{hash, int};
use pottery_tests::{wait_for_replication, Server};
use redis::{RedisResult, Value};
use std::io::Write;
use std::net::TcpStream;
use std::thread::JoinHandle;

/// The integer reply of `command` (arguments separated by spaces).
fn call(server: &Server, command: &str) -> i64 {
    int(server, &command.split(' ').collect::<Vec<_>>())
}

/// Sends `command` (arguments separated by spaces) on a connection of its own and waits until
/// `blocked` clients are blocked, this one included: its reply once it comes.
fn park(server: &Server, command: &str, blocked: usize) -> JoinHandle<RedisResult<Value>> {
    let waiter = send_blocking(server, &command.split(' ').collect::<Vec<_>>());
    server.await_blocked_clients(blocked);
    waiter
}

/// A holder's kind in `POTTERY.RWLOCK.INFO`, if it is listed.
fn rwlock_kind(server: &Server, key: &str, holder: &str) -> Option<String> {
    let holders: Vec<(String, String, i64)> = server.cmd(&["POTTERY.RWLOCK.INFO", key]).unwrap();
    holders
        .into_iter()
        .find(|(name, _, _)| name == holder)
        .map(|(_, kind, _)| kind)
}

/// Whether the hash at `key` has the fields `present` and not those `absent`.
fn assert_fields(server: &Server, key: &str, present: &[&str], absent: &[&str]) {
    let fields = hash(server, key);
    assert!(
        present.iter().all(|field| fields.contains_key(*field))
            && !absent.iter().any(|field| fields.contains_key(*field)),
        "{key}: {fields:?}, expected {present:?} and not {absent:?}"
    );
}

#[test]
fn semaphore_waiters_are_served_in_order_and_a_smaller_later_one_never_overtakes() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 3 3 60000"), 1);
    let big1 = park(&server, "POTTERY.SEM.ACQUIRE s big1 2 3 60000 BLOCK 0", 1);
    let big2 = park(&server, "POTTERY.SEM.ACQUIRE s big2 2 3 60000 BLOCK 0", 2);
    let small = park(&server, "POTTERY.SEM.ACQUIRE s small 1 3 60000 BLOCK 0", 3);

    // The release hands big1 its two permits in the same command; big2 needs two and only
    // one is free, and small, behind it, must not take that one.
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s a"), 1);
    assert_eq!(reply(big1), 1);
    server.await_blocked_clients(2);
    assert_eq!(call(&server, "POTTERY.SEM.AVAILABLE s 3"), 1);
    assert_fields(&server, "s", &["big1"], &["big2", "small"]);
    // Nor does a newcomer without BLOCK, while a holder's own retry still refreshes.
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s new 1 3 60000"), 0);
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s big1 2 3 60000"), 1);

    // big1's release serves big2, then small, in one go.
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s big1"), 1);
    assert_eq!(reply(big2), 1);
    assert_eq!(reply(small), 1);
    assert_eq!(server.blocked_clients(), 0);
    assert_fields(&server, "s", &["big2", "small"], &["big1", "new"]);
    // With nobody queued, the free permits go to whoever asks.
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s small"), 1);
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s new 1 3 60000"), 1);
}

#[test]
fn a_permit_expiring_inside_the_hash_wakes_the_queue() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s stays 1 2 600000"), 1);
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s ends 1 2 600000"), 1);
    let waiter = park(&server, "POTTERY.SEM.ACQUIRE s w 1 2 60000 BLOCK 0", 1);
    // Shorten one hold (EXTEND serves nobody) and let a refused newcomer look at the queue,
    // which re-arms its wake-up for that hold's end. The key lives on ("stays" holds), so no
    // key event fires when "ends" runs out: only that wake-up can serve the waiter.
    assert_eq!(call(&server, "POTTERY.SEM.EXTEND s ends 100"), 1);
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s probe 1 2 60000"), 0);
    assert_eq!(reply(waiter), 1);
    assert_fields(&server, "s", &["w", "stays"], &["ends", "probe"]);
}

#[test]
fn a_del_and_a_flushdb_wake_semaphore_and_read_write_lock_waiters() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 1 1 60000"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.WRITE rw a 60000 0"), 1);
    let sem = park(&server, "POTTERY.SEM.ACQUIRE s w 1 1 60000 BLOCK 0", 1);
    let reader = park(&server, "POTTERY.RWLOCK.READ rw r 60000 BLOCK 0", 2);
    assert_eq!(call(&server, "DEL s rw"), 2);
    assert_eq!(reply(sem), 1);
    assert_eq!(reply(reader), 1);
    assert_fields(&server, "s", &["w"], &["a"]);
    assert_eq!(rwlock_kind(&server, "rw", "r").as_deref(), Some("read"));
    // And a FLUSHDB.
    let flushed = park(&server, "POTTERY.SEM.ACQUIRE s v 1 1 60000 BLOCK 0", 1);
    let _: () = server.cmd(&["FLUSHDB"]).unwrap();
    assert_eq!(reply(flushed), 1);
    assert_fields(&server, "s", &["v"], &["w"]);
}

#[test]
fn waiters_time_out_with_zero_and_leave_the_queue() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 1 1 60000"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.WRITE rw a 60000 0"), 1);
    for request in [
        "POTTERY.SEM.ACQUIRE s late 1 1 60000 BLOCK 50",
        "POTTERY.RWLOCK.READ rw late-r 60000 BLOCK 50",
        "POTTERY.RWLOCK.WRITE rw late-w 60000 0 BLOCK 50",
    ] {
        assert_eq!(call(&server, request), 0, "{request}");
    }
    assert_eq!(server.blocked_clients(), 0);
    let timeouts = server.info_field("pottery", "pottery_wait_timeouts");
    assert_eq!(timeouts.as_deref(), Some("3"));
    // Nobody is queued any more: the releases leave both free.
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s a"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw a"), 1);
    assert_eq!(call(&server, "EXISTS s rw"), 0);
}

#[test]
fn a_waiter_that_disconnects_leaves_the_queue() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 2 2 60000"), 1);
    let mut gone = TcpStream::connect(server.addr()).unwrap();
    let args = [
        "POTTERY.SEM.ACQUIRE",
        "s",
        "gone",
        "2",
        "2",
        "60000",
        "BLOCK",
        "0",
    ];
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    gone.write_all(request.as_bytes()).unwrap();
    server.await_blocked_clients(1);
    let stays = park(&server, "POTTERY.SEM.ACQUIRE s stays 1 2 60000 BLOCK 0", 2);
    drop(gone);
    server.await_blocked_clients(1);
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s a"), 1);
    assert_eq!(reply(stays), 1);
    assert_fields(&server, "s", &["stays"], &["gone"]);
}

#[test]
fn multi_and_scripts_never_block() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 1 1 60000"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.WRITE rw a 60000 0"), 1);
    let mut connection = server.connection();
    let replies: (i64, i64, i64, i64) = redis::pipe()
        .atomic()
        .cmd("POTTERY.SEM.ACQUIRE")
        .arg(&["s", "b", "1", "1", "60000", "BLOCK", "0"])
        .cmd("POTTERY.RWLOCK.READ")
        .arg(&["rw", "b", "60000", "BLOCK", "0"])
        .cmd("POTTERY.RWLOCK.WRITE")
        .arg(&["rw", "c", "60000", "0", "BLOCK", "0"])
        .cmd("POTTERY.SEM.ACQUIRE")
        .arg(&["free", "b", "1", "1", "60000", "BLOCK", "0"])
        .query(&mut connection)
        .unwrap();
    assert_eq!(replies, (0, 0, 0, 1));
    let scripted: i64 = redis::cmd("EVAL")
        .arg("return redis.call('POTTERY.RWLOCK.READ', KEYS[1], 'b', 60000, 'BLOCK', 0)")
        .arg(1)
        .arg("rw")
        .query(&mut connection)
        .unwrap();
    assert_eq!(scripted, 0);
    assert_eq!(server.blocked_clients(), 0);
}

#[test]
fn a_release_answers_its_holders_own_waiter_and_refuses_its_late_requests() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.SEM.ACQUIRE s a 1 1 60000"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw a 60000"), 1);
    let sem = park(
        &server,
        "POTTERY.SEM.ACQUIRE s attempt 1 1 60000 BLOCK 0",
        1,
    );
    let writer = park(
        &server,
        "POTTERY.RWLOCK.WRITE rw attempt 60000 5000 BLOCK 0",
        2,
    );
    assert_eq!(
        rwlock_kind(&server, "rw", "attempt").as_deref(),
        Some("wait")
    );

    assert_eq!(
        call(&server, "POTTERY.SEM.RELEASE s attempt"),
        0,
        "held nothing"
    );
    assert_eq!(reply(sem), 0, "its wait is answered");
    // Withdrawing a parked writer's intent answers its wait too.
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw attempt"), 0);
    assert_eq!(reply(writer), 0);
    assert_eq!(rwlock_kind(&server, "rw", "attempt"), None);
    assert_eq!(server.blocked_clients(), 0);

    // A BLOCK request of that holder read after its release came late: refused, even free.
    assert_eq!(call(&server, "POTTERY.SEM.RELEASE s a"), 1);
    let late = "POTTERY.SEM.ACQUIRE s attempt 1 1 60000";
    assert_eq!(call(&server, &format!("{late} BLOCK 0")), 0);
    assert_eq!(call(&server, "EXISTS s"), 0);
    // Without BLOCK the holder may ask again at once.
    assert_eq!(call(&server, late), 1);
}

#[test]
fn bad_block_arguments_get_redis_errors() {
    let server = Server::start();
    for command in [
        "POTTERY.SEM.ACQUIRE k h 1 2 1000",
        "POTTERY.RWLOCK.READ k h 1000",
        "POTTERY.RWLOCK.WRITE k h 1000 0",
    ] {
        for (block, error) in [
            ("BLOCK -1", "timeout is negative"),
            ("BLOCK 1.5", "timeout is not an integer or out of range"),
            ("BLOCK soon", "timeout is not an integer or out of range"),
            ("BLOCK 1099511627777", "timeout is out of range"),
            ("BLOCK", "syntax error"),
            ("BLOCK 10 extra", "syntax error"),
            ("WAIT 10", "syntax error"),
        ] {
            let request = format!("{command} {block}");
            let args: Vec<&str> = request.split(' ').collect();
            let message = server.cmd::<i64>(&args).expect_err("an error").to_string();
            assert!(message.contains(error), "{request}: {message}");
        }
    }
    assert_eq!(call(&server, "EXISTS k"), 0);
}

#[test]
fn a_blocked_writer_waits_for_both_readers() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw r1 60000"), 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw r2 60000"), 1);
    let writer = park(&server, "POTTERY.RWLOCK.WRITE rw w 60000 500 BLOCK 0", 1);
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw r1"), 1);
    // r2 still reads: the writer still waits.
    server.await_blocked_clients(1);
    assert_ne!(rwlock_kind(&server, "rw", "w").as_deref(), Some("write"));
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw r2"), 1);
    assert_eq!(reply(writer), 1);
    assert_eq!(rwlock_kind(&server, "rw", "w").as_deref(), Some("write"));
    assert_eq!(server.blocked_clients(), 0);
}

#[test]
fn readers_after_a_queued_writer_wait_behind_it_and_enter_together() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw r0 60000"), 1);
    // No intent (intent_ms 0): only the queue keeps later readers out.
    let writer = park(&server, "POTTERY.RWLOCK.WRITE rw w 60000 0 BLOCK 0", 1);
    let readers: Vec<_> = ["r1", "r2", "r3"]
        .into_iter()
        .enumerate()
        .map(|(index, reader)| {
            let command = format!("POTTERY.RWLOCK.READ rw {reader} 60000 BLOCK 0");
            park(&server, &command, index + 2)
        })
        .collect();
    // A reader without BLOCK is refused too, though only readers hold; r0 may still refresh.
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw new 60000"), 0);
    assert_eq!(call(&server, "POTTERY.RWLOCK.READ rw r0 60000"), 1);
    assert_eq!(rwlock_kind(&server, "rw", "r1"), None);

    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw r0"), 1);
    assert_eq!(reply(writer), 1);
    server.await_blocked_clients(3);
    // The writer's release lets every reader queued behind it in, in one go.
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw w"), 1);
    for reader in readers {
        assert_eq!(reply(reader), 1);
    }
    for reader in ["r1", "r2", "r3"] {
        assert_eq!(rwlock_kind(&server, "rw", reader).as_deref(), Some("read"));
    }
    assert_eq!(server.blocked_clients(), 0);
}

#[test]
fn a_writer_queued_behind_a_reader_does_not_keep_it_out() {
    let server = Server::start();
    assert_eq!(call(&server, "POTTERY.RWLOCK.WRITE rw x 60000 0"), 1);
    let reader = park(&server, "POTTERY.RWLOCK.READ rw r 60000 BLOCK 0", 1);
    // A long intent: were it left, the reader ahead would wait for it to lapse.
    let writer = park(&server, "POTTERY.RWLOCK.WRITE rw w 60000 600000 BLOCK 0", 2);
    assert_eq!(
        rwlock_kind(&server, "rw", "w"),
        None,
        "no intent behind the queue"
    );
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw x"), 1);
    // Granted inside the release: the reader first, the writer (now the head) waits for it.
    assert_eq!(rwlock_kind(&server, "rw", "r").as_deref(), Some("read"));
    assert_eq!(reply(reader), 1);
    server.await_blocked_clients(1);
    assert_eq!(rwlock_kind(&server, "rw", "w").as_deref(), Some("wait"));
    assert_eq!(call(&server, "POTTERY.RWLOCK.RELEASE rw r"), 1);
    assert_eq!(reply(writer), 1);
    assert_eq!(rwlock_kind(&server, "rw", "w").as_deref(), Some("write"));
}

#[test]
fn grants_after_a_wait_replicate_with_the_same_fields_and_expiry() {
    let master = Server::start();
    let replica = Server::start();
    replica.replicate_from(&master);

    // A semaphore granted by a release, another by DEL (a timer), a read-write lock's
    // readers by the writer's release.
    assert_eq!(call(&master, "POTTERY.SEM.ACQUIRE s a 2 2 60000"), 1);
    let by_release = park(&master, "POTTERY.SEM.ACQUIRE s w 2 2 90000 BLOCK 0", 1);
    assert_eq!(call(&master, "POTTERY.SEM.RELEASE s a"), 1);
    assert_eq!(reply(by_release), 1);

    assert_eq!(call(&master, "POTTERY.SEM.ACQUIRE d a 1 1 60000"), 1);
    let by_del = park(&master, "POTTERY.SEM.ACQUIRE d w 1 1 90000 BLOCK 0", 1);
    assert_eq!(call(&master, "DEL d"), 1);
    assert_eq!(reply(by_del), 1);

    assert_eq!(call(&master, "POTTERY.RWLOCK.WRITE rw a 60000 0"), 1);
    let r1 = park(&master, "POTTERY.RWLOCK.READ rw r1 90000 BLOCK 0", 1);
    let r2 = park(&master, "POTTERY.RWLOCK.READ rw r2 90000 BLOCK 0", 2);
    assert_eq!(call(&master, "POTTERY.RWLOCK.RELEASE rw a"), 1);
    assert_eq!((reply(r1), reply(r2)), (1, 1));

    wait_for_replication(&master, &replica);
    for (key, granted) in [("s", ["w"]), ("d", ["w"]), ("rw", ["r2"])] {
        assert_fields(&master, key, &granted, &["a"]);
        assert_eq!(
            hash(&replica, key),
            hash(&master, key),
            "{key} on the replica"
        );
        let at = call(&master, &format!("PEXPIRETIME {key}"));
        assert!(at > 0, "{key} has an expiry");
        let replica_at = call(&replica, &format!("PEXPIRETIME {key}"));
        assert_eq!(replica_at, at, "{key}: the same absolute expiry");
    }
}

#[test]
fn twelve_blocking_clients_never_hold_more_than_the_limit() {
    let server = Server::start();
    each_client(&server, 12, |client, connection| {
        let mut run = |command: &str| -> i64 {
            let args: Vec<&str> = command.split(' ').collect();
            redis::cmd(args[0])
                .arg(&args[1..])
                .query(connection)
                .unwrap()
        };
        let permits = 1 + client % 2;
        for round in 0..25 {
            let holder = format!("c{client}-r{round}");
            // BLOCK 60000: a bound for a broken queue, not a timing expectation.
            let acquire = format!("POTTERY.SEM.ACQUIRE s {holder} {permits} 3 60000 BLOCK 60000");
            assert_eq!(run(&acquire), 1, "{holder} waited its turn");
            // Counted by hand inside the hold: never more than the limit at once.
            let held = run(&format!("INCRBY held {permits}"));
            assert!(held <= 3, "{held} permits held at once");
            run(&format!("DECRBY held {permits}"));
            assert_eq!(run(&format!("POTTERY.SEM.RELEASE s {holder}")), 1);
        }
    });
    assert_eq!(call(&server, "EXISTS s"), 0);
    assert_eq!(server.blocked_clients(), 0);
}
