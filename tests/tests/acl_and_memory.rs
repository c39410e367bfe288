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
    for args in [
        vec!["POTTERY.NEXTID", "nextid:x"],
        vec!["POTTERY.NEXTID.CLAIM", "nextid:x", "10"],
    ] {
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
    let _: () = server
        .cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        .unwrap();
    // Any limit below what the server already uses puts it over maxmemory.
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "1"]).unwrap();
    for args in [
        vec!["POTTERY.NEXTID", "nextid:new"],
        vec!["POTTERY.NEXTID.CLAIM", "nextid:kept", "10"],
    ] {
        let result = server.cmd::<redis::Value>(&args);
        assert_eq!(error_code(result), "OOM", "{args:?}");
    }
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "0"]).unwrap();
    let exists: i64 = server.cmd(&["EXISTS", "nextid:new"]).unwrap();
    assert_eq!(exists, 0);
    let kept: String = server.cmd(&["GET", "nextid:kept"]).unwrap();
    assert_eq!(kept, "1");
}
