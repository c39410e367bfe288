//! The module behaves like a first-class part of Redis under ACLs and memory limits: key
//! permissions follow the explicit key specs (on Redis 7.0 module commands belong to no ACL
//! category, so key specs are all ACLs can go by), and growing writes are refused with `OOM`
//! at `maxmemory`.

use pottery_tests::Server;

fn error_code(result: redis::RedisResult<redis::Value>) -> String {
    match result {
        Ok(value) => format!("no error: {value:?}"),
        Err(error) => error.code().unwrap_or("?").to_string(),
    }
}

#[test]
fn read_only_key_permission_refuses_every_write_command() {
    let server = Server::start();
    let _: () = server
        .cmd(&["ACL", "SETUSER", "reader", "on", "nopass", "+@all", "%R~*"])
        .unwrap();
    let _: () = server.cmd(&["SET", "nextid:x", "5"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "60000"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "b", "x"]).unwrap();
    let _: i64 = server.cmd(&["PFADD", "h", "x"]).unwrap();
    let _: i64 = server.cmd(&["RPUSH", "d", "1", "2"]).unwrap();
    let mut reader = server.connection();
    let _: () = redis::cmd("AUTH")
        .arg(&["reader", "any"])
        .query(&mut reader)
        .unwrap();
    // Reading through plain Redis works with %R.
    let value: String = redis::cmd("GET")
        .arg("nextid:x")
        .query(&mut reader)
        .unwrap();
    assert_eq!(value, "5");
    // Keyless commands run; every write command is refused for its key.
    let help: Vec<String> = redis::cmd("POTTERY.HELP").query(&mut reader).unwrap();
    assert!(!help.is_empty());
    let read_only: &[&[&str]] = &[
        &["POTTERY.LOCKED", "l", "me"],
        &["POTTERY.LOCK.HOLDER", "l"],
        &["POTTERY.BF.EXISTS", "b", "x"],
        &["POTTERY.BF.MEXISTS", "b", "x", "y"],
        &["POTTERY.BF.CARD", "b"],
        &["POTTERY.BF.INFO", "b"],
        &["POTTERY.BF.SCANDUMP", "b", "0"],
        &["POTTERY.HLL.CONTAINS", "h", "x"],
    ];
    for args in read_only {
        let result: redis::RedisResult<redis::Value> =
            redis::cmd(args[0]).arg(&args[1..]).query(&mut reader);
        assert!(result.is_ok(), "{args:?}: {result:?}");
    }
    let writes: &[&[&str]] = &[
        &["POTTERY.NEXTID", "nextid:x"],
        &["POTTERY.NEXTID.CLAIM", "nextid:x", "10"],
        &["POTTERY.LOCK", "l", "me", "1000"],
        &["POTTERY.LOCK.FENCED", "l", "l:fence", "me", "1000"],
        &["POTTERY.LOCK.FENCE", "l", "l:fence", "me", "5"],
        &["POTTERY.UNLOCK", "l", "me"],
        &["POTTERY.EXTEND", "l", "me", "1000"],
        &["POTTERY.FENCE.CHECK", "r", "5"],
        &["POTTERY.DEQUE.ROTATE", "d", "1"],
        &["POTTERY.DEQUE.PUSH", "d", "LEFT", "-1", "x"],
        &["POTTERY.LIST.INSERT", "d", "0", "x"],
        &["POTTERY.LIST.POP", "d"],
        &["POTTERY.LIST.SETSLICE", "d", "0", "1"],
        &["POTTERY.BF.RESERVE", "b2", "0.01", "10"],
        &["POTTERY.BF.ADD", "b", "y"],
        &["POTTERY.BF.MADD", "b", "y"],
        &["POTTERY.BF.INSERT", "b", "ITEMS", "y"],
        &["POTTERY.BF.LOADCHUNK", "b2", "1", "data"],
    ];
    for args in writes {
        let result = redis::cmd(args[0]).arg(&args[1..]).query(&mut reader);
        assert_eq!(error_code(result), "NOPERM", "{args:?}");
    }
    let unchanged: String = server.cmd(&["GET", "nextid:x"]).unwrap();
    assert_eq!(unchanged, "5");

    // A user limited to other keys is refused too, and one allowed to write succeeds.
    let _: () = server
        .cmd(&[
            "ACL", "SETUSER", "other", "on", "nopass", "+@all", "~other:*",
        ])
        .unwrap();
    let mut other = server.connection();
    let _: () = redis::cmd("AUTH")
        .arg(&["other", "any"])
        .query(&mut other)
        .unwrap();
    let refused = redis::cmd("POTTERY.NEXTID")
        .arg("nextid:x")
        .query(&mut other);
    assert_eq!(error_code(refused), "NOPERM");
    let allowed: i64 = redis::cmd("POTTERY.NEXTID")
        .arg("other:ids")
        .query(&mut other)
        .unwrap();
    assert_eq!(allowed, 1);
}

#[test]
fn growing_writes_get_oom_at_maxmemory_and_nothing_is_half_written() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "nextid:kept", "1"]).unwrap();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "held", "me", "60000"])
        .unwrap();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "released", "me", "60000"])
        .unwrap();
    let _: i64 = server.cmd(&["RPUSH", "d", "1", "2"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "b", "x"]).unwrap();
    let _: () = server
        .cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        .unwrap();
    // Any limit below what the server already uses puts it over maxmemory.
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "1"]).unwrap();
    let growing: &[&[&str]] = &[
        &["POTTERY.NEXTID", "nextid:new"],
        &["POTTERY.NEXTID.CLAIM", "nextid:kept", "10"],
        &["POTTERY.LOCK", "new-lock", "me", "1000"],
        &[
            "POTTERY.LOCK.FENCED",
            "new-lock",
            "new-lock:fence",
            "me",
            "1000",
        ],
        &["POTTERY.DEQUE.PUSH", "d", "RIGHT", "-1", "3"],
        &["POTTERY.LIST.INSERT", "d", "0", "0"],
        &["POTTERY.LIST.SETSLICE", "d", "0", "0", "9"],
        &["POTTERY.BF.RESERVE", "b2", "0.01", "10"],
        &["POTTERY.BF.ADD", "b", "y"],
        &["POTTERY.BF.MADD", "b", "y"],
        &["POTTERY.BF.INSERT", "b", "ITEMS", "y"],
        &["POTTERY.BF.LOADCHUNK", "b2", "1", "data"],
    ];
    for args in growing {
        let result = server.cmd::<redis::Value>(args);
        assert_eq!(error_code(result), "OOM", "{args:?}");
    }
    // Holders can still renew and release a full server's locks.
    let extended: i64 = server
        .cmd(&["POTTERY.EXTEND", "held", "me", "90000"])
        .unwrap();
    assert_eq!(extended, 1);
    let released: i64 = server.cmd(&["POTTERY.UNLOCK", "released", "me"]).unwrap();
    assert_eq!(released, 1);
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "0"]).unwrap();
    for key in ["new-lock", "new-lock:fence", "b2"] {
        let exists: i64 = server.cmd(&["EXISTS", key]).unwrap();
        assert_eq!(exists, 0, "{key} was written at OOM");
    }
    let list: Vec<String> = server.cmd(&["LRANGE", "d", "0", "-1"]).unwrap();
    assert_eq!(list, ["1", "2"]);
    let exists: i64 = server.cmd(&["EXISTS", "nextid:new"]).unwrap();
    assert_eq!(exists, 0);
    let kept: String = server.cmd(&["GET", "nextid:kept"]).unwrap();
    assert_eq!(kept, "1");
}
