//! Commands that only read a string value leave `OBJECT ENCODING` as it was, as Redis's own
//! `GET` does: counters set by `SET`/`INCR` stay `int`, short tokens stay `embstr`, whether the
//! command is read-only or a write that ends up changing nothing.

use pottery_tests::{Server, Software};

fn encoding(server: &Server, key: &str) -> String {
    server
        .cmd(&["OBJECT", "ENCODING", key])
        .expect("OBJECT ENCODING answers")
}

fn pair(server: &Server, args: &[&str]) -> (i64, i64) {
    let reply: Vec<i64> = server.cmd(args).expect("a two-integer reply");
    match reply[..] {
        [first, second] => (first, second),
        _ => panic!("{args:?} replied {reply:?}"),
    }
}

#[test]
fn counters_stay_integers_when_read() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "nextid:x", "5"]).unwrap();
    assert_eq!(encoding(&server, "nextid:x"), "int");

    assert_eq!(
        pair(&server, &["POTTERY.NEXTID.CLAIM", "nextid:x", "3"]),
        (0, 5)
    );
    assert_eq!(
        pair(&server, &["POTTERY.NEXTID.CLAIM", "nextid:x", "5"]),
        (0, 5)
    );
    assert_eq!(encoding(&server, "nextid:x"), "int");

    // Stale, and equal to the highest (accepted without storing).
    let stale: i64 = server
        .cmd(&["POTTERY.FENCE.CHECK", "nextid:x", "4"])
        .unwrap();
    assert_eq!(stale, 0);
    let equal: i64 = server
        .cmd(&["POTTERY.FENCE.CHECK", "nextid:x", "5"])
        .unwrap();
    assert_eq!(equal, 1);
    assert_eq!(encoding(&server, "nextid:x"), "int");

    // The largest counter still fits Redis's integer encoding, and a negative one too.
    let _: () = server.cmd(&["SET", "big", "9223372036854775807"]).unwrap();
    let _: () = server.cmd(&["SET", "negative", "-7"]).unwrap();
    assert_eq!(
        pair(&server, &["POTTERY.NEXTID.CLAIM", "big", "1"]),
        (0, i64::MAX)
    );
    assert_eq!(
        pair(&server, &["POTTERY.NEXTID.CLAIM", "negative", "-9"]),
        (0, -7)
    );
    assert_eq!(encoding(&server, "big"), "int");
    assert_eq!(encoding(&server, "negative"), "int");

    // Writes still write: a winning claim stores the new value, which INCR keeps counting.
    assert_eq!(
        pair(&server, &["POTTERY.NEXTID.CLAIM", "nextid:x", "9"]),
        (1, 9)
    );
    let next: i64 = server.cmd(&["POTTERY.NEXTID", "nextid:x"]).unwrap();
    assert_eq!(next, 10);
    let incremented: i64 = server.cmd(&["INCR", "nextid:x"]).unwrap();
    assert_eq!(incremented, 11);
}

#[test]
fn short_strings_that_are_not_counters_keep_their_encoding_and_error() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "word", "abc"]).unwrap();
    assert_eq!(encoding(&server, "word"), "embstr");
    for args in [
        &["POTTERY.NEXTID", "word"][..],
        &["POTTERY.NEXTID.CLAIM", "word", "3"],
        &["POTTERY.FENCE.CHECK", "word", "3"],
    ] {
        let error = server.cmd::<i64>(args).unwrap_err();
        assert!(
            error.to_string().contains("not an integer"),
            "{args:?}: {error}"
        );
    }
    assert_eq!(encoding(&server, "word"), "embstr");
}

#[test]
fn lock_tokens_stay_embedded_when_read_or_not_held() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "redlock:x", "abc"]).unwrap();
    let _: () = server.cmd(&["SET", "fence:{x}", "5"]).unwrap();
    let _: () = server.cmd(&["SET", "redlock:{x}", "abc"]).unwrap();
    assert_eq!(encoding(&server, "redlock:x"), "embstr");

    let held: i64 = server.cmd(&["POTTERY.LOCKED", "redlock:x", "abc"]).unwrap();
    assert_eq!(held, -1, "held without expiry");
    let other: i64 = server.cmd(&["POTTERY.LOCKED", "redlock:x", "xyz"]).unwrap();
    assert_eq!(other, 0);
    let (holder, ms_left): (Vec<u8>, i64) =
        server.cmd(&["POTTERY.LOCK.HOLDER", "redlock:x"]).unwrap();
    assert_eq!((holder.as_slice(), ms_left), (&b"abc"[..], -1));
    let unlocked: i64 = server.cmd(&["POTTERY.UNLOCK", "redlock:x", "xyz"]).unwrap();
    assert_eq!(unlocked, 0);
    let extended: i64 = server
        .cmd(&["POTTERY.EXTEND", "redlock:x", "xyz", "1000"])
        .unwrap();
    assert_eq!(extended, 0);
    let refused: i64 = server
        .cmd(&["POTTERY.LOCK", "redlock:x", "xyz", "1000"])
        .unwrap();
    assert_eq!(refused, 0);
    assert_eq!(encoding(&server, "redlock:x"), "embstr");

    // The holder refreshing its lock changes the TTL, not the token.
    let refreshed: i64 = server
        .cmd(&["POTTERY.LOCK", "redlock:x", "abc", "100000"])
        .unwrap();
    assert_eq!(refreshed, 1);
    assert_eq!(encoding(&server, "redlock:x"), "embstr");

    // Fenced commands by a non-holder read both keys and change neither.
    let fenced: i64 = server
        .cmd(&[
            "POTTERY.LOCK.FENCED",
            "redlock:{x}",
            "fence:{x}",
            "xyz",
            "1000",
        ])
        .unwrap();
    assert_eq!(fenced, 0);
    assert_eq!(
        pair(
            &server,
            &["POTTERY.LOCK.FENCE", "redlock:{x}", "fence:{x}", "xyz", "9"]
        ),
        (-1, 5)
    );
    assert_eq!(
        pair(
            &server,
            &["POTTERY.LOCK.FENCE", "redlock:{x}", "fence:{x}", "abc", "4"]
        ),
        (0, 5)
    );
    assert_eq!(encoding(&server, "redlock:{x}"), "embstr");
    assert_eq!(encoding(&server, "fence:{x}"), "int");
}

#[test]
fn integer_tokens_stay_integers() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "redlock:n", "12345"]).unwrap();
    assert_eq!(encoding(&server, "redlock:n"), "int");
    let held: i64 = server
        .cmd(&["POTTERY.LOCKED", "redlock:n", "12345"])
        .unwrap();
    assert_eq!(held, -1);
    let (holder, _): (String, i64) = server.cmd(&["POTTERY.LOCK.HOLDER", "redlock:n"]).unwrap();
    assert_eq!(holder, "12345");
    let unlocked: i64 = server
        .cmd(&["POTTERY.UNLOCK", "redlock:n", "1234"])
        .unwrap();
    assert_eq!(unlocked, 0);
    assert_eq!(encoding(&server, "redlock:n"), "int");
    // The holder's unlock still deletes.
    let unlocked: i64 = server
        .cmd(&["POTTERY.UNLOCK", "redlock:n", "12345"])
        .unwrap();
    assert_eq!(unlocked, 1);
}

/// The longest string value `SET` stores embedded (`embstr`) under `key`. Redis embeds up to 44
/// bytes whatever the key; Valkey (8.1 on) embeds the key in the same allocation, so its limit
/// depends on the key's length.
fn longest_embedded(server: &Server, key: &str) -> usize {
    let embedded = |length: usize| {
        let _: () = server.cmd(("SET", key, "a".repeat(length))).unwrap();
        encoding(server, key) == "embstr"
    };
    // Invariant: `low` bytes are embedded, `high` are not.
    let (mut low, mut high) = (1, 4096);
    assert!(embedded(low) && !embedded(high));
    while high - low > 1 {
        let middle = (low + high) / 2;
        if embedded(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    let _: i64 = server.cmd(&["DEL", key]).unwrap();
    low
}

#[test]
fn tokens_either_side_of_the_embedded_limit_read_the_same() {
    // The module copies values of up to 128 bytes (which may be embedded) to read them, and
    // reads longer ones (always raw) in place.
    let server = Server::start();
    let key = "redlock:token";
    let limit = longest_embedded(&server, key);
    if server.software() == Software::Redis {
        assert_eq!(limit, 44);
    }
    assert!(limit < 128, "{limit}");
    for length in [limit, limit + 1, 128, 129, 1000] {
        let stored_as = if length <= limit { "embstr" } else { "raw" };
        let token: Vec<u8> = (0..length).map(|i| b"a\0\xff"[i % 3]).collect();
        let _: () = server.cmd(("SET", key, &token)).unwrap();
        assert_eq!(encoding(&server, key), stored_as);
        let held: i64 = server.cmd(("POTTERY.LOCKED", key, &token)).unwrap();
        assert_eq!(held, -1, "{length} bytes");
        let mut other = token.clone();
        other[length - 1] = b'z';
        let not_held: i64 = server.cmd(("POTTERY.LOCKED", key, &other)).unwrap();
        assert_eq!(not_held, 0, "{length} bytes");
        let (holder, _): (Vec<u8>, i64) = server.cmd(("POTTERY.LOCK.HOLDER", key)).unwrap();
        assert_eq!(holder, token, "{length} bytes");
        assert_eq!(encoding(&server, key), stored_as);
    }
}
