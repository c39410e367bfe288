//! `POTTERY.LOCK ... BLOCK ms` on real servers: first come first served, woken by UNLOCK,
//! expiry and DEL, timeouts, waiters that disconnect, no blocking inside MULTI or scripts,
//! the grants on a replica and after an AOF reload, and mutual exclusion under contention.

use pottery_tests::{wait_for_replication, Server};
use std::io::Write;
use std::net::TcpStream;
use std::thread::{self, JoinHandle};

fn get(server: &Server, key: &str) -> Option<String> {
    server.cmd(&["GET", key]).expect("GET answers")
}

/// Sends `args` on a connection of its own, in a thread: its reply once it comes.
pub(super) fn send_blocking(
    server: &Server,
    args: &[&str],
) -> JoinHandle<redis::RedisResult<redis::Value>> {
    let mut connection = server.connection();
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    thread::spawn(move || redis::cmd(&args[0]).arg(&args[1..]).query(&mut connection))
}

/// The integer a [`send_blocking`] request was answered.
pub(super) fn int(reply: JoinHandle<redis::RedisResult<redis::Value>>) -> i64 {
    match reply.join().expect("the waiter thread ends") {
        Ok(redis::Value::Int(value)) => value,
        other => panic!("expected an integer reply, got {other:?}"),
    }
}

#[test]
fn waiters_get_the_lock_in_arrival_order_as_each_holder_releases() {
    let server = Server::start();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "t0", "60000"]).unwrap();
    let mut waiters = Vec::new();
    for index in 1..=4 {
        let token = format!("t{index}");
        waiters.push(send_blocking(
            &server,
            &["POTTERY.LOCK", "l", &token, "60000", "BLOCK", "0"],
        ));
        // Each waiter is queued before the next arrives.
        server.await_blocked_clients(index);
    }
    // A newcomer without BLOCK does not overtake the queue, nor does one with BLOCK.
    let newcomer: i64 = server.cmd(&["POTTERY.LOCK", "l", "new", "60000"]).unwrap();
    assert_eq!(newcomer, 0);
    for index in 1..=4 {
        let holder = format!("t{}", index - 1);
        let released: i64 = server.cmd(&["POTTERY.UNLOCK", "l", &holder]).unwrap();
        assert_eq!(released, 1);
        // The grant happened inside UNLOCK: the next holder is already there.
        assert_eq!(get(&server, "l"), Some(format!("t{index}")));
        let ttl: i64 = server.cmd(&["PTTL", "l"]).unwrap();
        assert!(
            (1..=60000).contains(&ttl),
            "granted with its own TTL: {ttl}"
        );
    }
    for waiter in waiters {
        assert_eq!(int(waiter), 1);
    }
    assert_eq!(server.blocked_clients(), 0);
    assert_eq!(
        server.info_field("pottery", "pottery_waits").as_deref(),
        Some("4")
    );
}

#[test]
fn an_expiry_a_del_and_a_flushdb_wake_the_head_waiter() {
    let server = Server::start();
    // Expiry: nobody touches the key; the module looks at the queue when the TTL is over.
    let _: i64 = server.cmd(&["POTTERY.LOCK", "e", "old", "150"]).unwrap();
    let waiter = send_blocking(
        &server,
        &["POTTERY.LOCK", "e", "new", "60000", "BLOCK", "0"],
    );
    assert_eq!(int(waiter), 1);
    assert_eq!(get(&server, "e").as_deref(), Some("new"));

    // DEL and UNLINK by a plain client, and FLUSHDB.
    for (key, free) in [
        ("d", vec!["DEL", "d"]),
        ("u", vec!["UNLINK", "u"]),
        ("f", vec!["FLUSHDB"]),
    ] {
        let _: i64 = server.cmd(&["POTTERY.LOCK", key, "old", "60000"]).unwrap();
        let waiter = send_blocking(
            &server,
            &["POTTERY.LOCK", key, "new", "60000", "BLOCK", "0"],
        );
        server.await_blocked_clients(1);
        let _: redis::Value = server.cmd(&free).unwrap();
        assert_eq!(int(waiter), 1, "woken by {free:?}");
        assert_eq!(get(&server, key).as_deref(), Some("new"), "after {free:?}");
    }
}

#[test]
fn a_waiter_times_out_with_zero_and_leaves_the_queue() {
    let server = Server::start();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "holder", "60000"])
        .unwrap();
    let refused: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "late", "60000", "BLOCK", "50"])
        .unwrap();
    assert_eq!(refused, 0);
    let fenced: i64 = server
        .cmd(&[
            "POTTERY.LOCK.FENCED",
            "l",
            "l:fence",
            "late",
            "60000",
            "BLOCK",
            "50",
        ])
        .unwrap();
    assert_eq!(fenced, 0);
    assert_eq!(server.blocked_clients(), 0);
    // Timed-out waiters are gone: the release leaves the lock free.
    let _: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "holder"]).unwrap();
    assert_eq!(get(&server, "l"), None);
    assert_eq!(
        server
            .info_field("pottery", "pottery_wait_timeouts")
            .as_deref(),
        Some("2")
    );
    // The holder's own token re-acquires at once, BLOCK or not (an idempotent retry).
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "1000"]).unwrap();
    let again: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "me", "60000", "BLOCK", "0"])
        .unwrap();
    assert_eq!(again, 1);
    let ttl: i64 = server.cmd(&["PTTL", "l"]).unwrap();
    assert!(ttl > 1000, "the retry reset the TTL");
}

#[test]
fn a_waiter_that_disconnects_leaves_the_queue() {
    let server = Server::start();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "holder", "60000"])
        .unwrap();
    let mut gone = TcpStream::connect(server.addr()).unwrap();
    gone.write_all(b"*6\r\n$12\r\nPOTTERY.LOCK\r\n$1\r\nl\r\n$4\r\ngone\r\n$5\r\n60000\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n")
        .unwrap();
    server.await_blocked_clients(1);
    let stays = send_blocking(
        &server,
        &["POTTERY.LOCK", "l", "stays", "60000", "BLOCK", "0"],
    );
    server.await_blocked_clients(2);
    drop(gone);
    server.await_blocked_clients(1);
    let _: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "holder"]).unwrap();
    assert_eq!(int(stays), 1);
    assert_eq!(get(&server, "l").as_deref(), Some("stays"));
}

#[test]
fn unlock_answers_its_tokens_waiter_and_refuses_its_late_requests() {
    let server = Server::start();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "holder", "60000"])
        .unwrap();
    // A Redlock attempt that fell short of a majority releases on every master, this one
    // included, where it still waits.
    let gave_up = send_blocking(
        &server,
        &["POTTERY.LOCK", "l", "attempt", "60000", "BLOCK", "0"],
    );
    server.await_blocked_clients(1);
    let released: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "attempt"]).unwrap();
    assert_eq!(released, 0, "not its lock");
    assert_eq!(int(gave_up), 0, "its wait is answered");
    assert_eq!(server.blocked_clients(), 0);
    // A request of that token read only after the release is refused, not queued, even once
    // the lock is free: nobody would release what it took.
    let _: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "holder"]).unwrap();
    let late: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "attempt", "60000", "BLOCK", "0"])
        .unwrap();
    assert_eq!(late, 0);
    assert_eq!(get(&server, "l"), None);
    // Without BLOCK a token may be used again at once, as before.
    let plain: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "attempt", "60000"])
        .unwrap();
    assert_eq!(plain, 1);
}

#[test]
fn multi_and_scripts_never_block() {
    let server = Server::start();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "holder", "60000"])
        .unwrap();
    let mut connection = server.connection();
    let replies: (i64, i64) = redis::pipe()
        .atomic()
        .cmd("POTTERY.LOCK")
        .arg(&["l", "other", "60000", "BLOCK", "0"])
        .cmd("POTTERY.LOCK")
        .arg(&["free", "other", "60000", "BLOCK", "0"])
        .query(&mut connection)
        .unwrap();
    assert_eq!(replies, (0, 1));
    let scripted: i64 = redis::cmd("EVAL")
        .arg("return redis.call('POTTERY.LOCK', KEYS[1], 'other', 60000, 'BLOCK', 0)")
        .arg(1)
        .arg("l")
        .query(&mut connection)
        .unwrap();
    assert_eq!(scripted, 0);
    assert_eq!(server.blocked_clients(), 0);
}

#[test]
fn bad_block_arguments_get_redis_errors() {
    let server = Server::start();
    for (block, error) in [
        (vec!["BLOCK", "-1"], "timeout is negative"),
        (
            vec!["BLOCK", "1.5"],
            "timeout is not an integer or out of range",
        ),
        (vec!["BLOCK", "1099511627777"], "timeout is out of range"),
        (vec!["BLOCK"], "syntax error"),
        (vec!["BLOCK", "10", "extra"], "syntax error"),
        (vec!["WAIT", "10"], "syntax error"),
    ] {
        let mut args = vec!["POTTERY.LOCK", "l", "t", "1000"];
        args.extend(&block);
        let reply: redis::RedisResult<i64> = server.cmd(&args);
        let message = reply.expect_err("an error").to_string();
        assert!(message.contains(error), "{block:?}: {message}");
    }
    assert_eq!(get(&server, "l"), None);
}

#[test]
fn grants_after_a_wait_replicate_and_survive_an_aof_reload() {
    let master = Server::builder().aof(true).fsync_always(true).start();
    let replica = Server::start();
    replica.replicate_from(&master);

    // Granted by UNLOCK, by expiry (a timer) and by DEL, plain and fenced.
    let _: i64 = master.cmd(&["POTTERY.LOCK", "u", "old", "60000"]).unwrap();
    let by_unlock = send_blocking(
        &master,
        &["POTTERY.LOCK", "u", "new", "60000", "BLOCK", "0"],
    );
    master.await_blocked_clients(1);
    let _: i64 = master.cmd(&["POTTERY.UNLOCK", "u", "old"]).unwrap();
    assert_eq!(int(by_unlock), 1);

    let _: i64 = master
        .cmd(&["POTTERY.LOCK.FENCED", "e", "e:fence", "old", "100"])
        .unwrap();
    let by_expiry = send_blocking(
        &master,
        &[
            "POTTERY.LOCK.FENCED",
            "e",
            "e:fence",
            "new",
            "60000",
            "BLOCK",
            "0",
        ],
    );
    assert_eq!(
        int(by_expiry),
        2,
        "the waiter's grant counts as a new holder"
    );

    let _: i64 = master.cmd(&["POTTERY.LOCK", "d", "old", "60000"]).unwrap();
    let by_del = send_blocking(
        &master,
        &["POTTERY.LOCK", "d", "new", "60000", "BLOCK", "0"],
    );
    master.await_blocked_clients(1);
    let _: i64 = master.cmd(&["DEL", "d"]).unwrap();
    assert_eq!(int(by_del), 1);

    wait_for_replication(&master, &replica);
    let expiry = |server: &Server, key: &str| -> i64 { server.cmd(&["PEXPIRETIME", key]).unwrap() };
    let keys = ["u", "e", "d"];
    for key in keys {
        assert_eq!(
            get(&replica, key).as_deref(),
            Some("new"),
            "{key} on the replica"
        );
        let at = expiry(&master, key);
        assert!(at > 0, "{key} has an expiry");
        assert_eq!(expiry(&replica, key), at, "{key}: the same absolute expiry");
    }
    assert_eq!(get(&replica, "e:fence").as_deref(), Some("2"));

    let expiries: Vec<i64> = keys.iter().map(|key| expiry(&master, key)).collect();
    master.kill();
    master.restart();
    for (key, at) in keys.iter().zip(expiries) {
        assert_eq!(
            get(&master, key).as_deref(),
            Some("new"),
            "{key} after the reload"
        );
        assert_eq!(
            expiry(&master, key),
            at,
            "{key}: the expiry after the reload"
        );
    }
    assert_eq!(get(&master, "e:fence").as_deref(), Some("2"));
}

/// Runs `work(client, connection)` for `clients` clients at once, each on a connection and a
/// thread of its own, until all are done (a failed assertion in one fails the test).
pub(super) fn each_client(
    server: &Server,
    clients: usize,
    work: fn(usize, &mut redis::Connection),
) {
    let workers: Vec<JoinHandle<()>> = (0..clients)
        .map(|client| {
            let mut connection = server.connection();
            thread::spawn(move || work(client, &mut connection))
        })
        .collect();
    for worker in workers {
        worker.join().expect("no worker failed");
    }
}

#[test]
fn sixteen_blocking_clients_lose_no_increment() {
    const CLIENTS: usize = 16;
    const ROUNDS: usize = 40;
    let server = Server::start();
    each_client(&server, CLIENTS, |client, connection| {
        for round in 0..ROUNDS {
            let token = format!("c{client}-r{round}");
            let got: i64 = redis::cmd("POTTERY.LOCK")
                .arg(&["l", &token, "60000", "BLOCK", "0"])
                .query(connection)
                .unwrap();
            assert_eq!(got, 1);
            // A read-modify-write that only mutual exclusion keeps whole.
            let value: Option<i64> = redis::cmd("GET").arg("n").query(connection).unwrap();
            let () = redis::cmd("SET")
                .arg("n")
                .arg(value.unwrap_or(0) + 1)
                .query(connection)
                .unwrap();
            let released: i64 = redis::cmd("POTTERY.UNLOCK")
                .arg(&["l", &token])
                .query(connection)
                .unwrap();
            assert_eq!(released, 1);
        }
    });
    let total: i64 = server.cmd(&["GET", "n"]).unwrap();
    assert_eq!(total, (CLIENTS * ROUNDS) as i64);
    assert_eq!(get(&server, "l"), None);
}
