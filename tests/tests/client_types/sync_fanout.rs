//! The sync fan-out's own sockets (shared by `NextId` and `Redlock`): replies that arrive in
//! pieces, replies that are garbage, the AUTH/SELECT handshake pottery sends itself, Unix
//! sockets, and rounds that mix own sockets with `redis::Connection`s given open.

use pottery::{Error, Mode, NextId, Redlock};
use pottery_tests::Server;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a fake master writes its replies.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Each reply in one write.
    Whole,
    /// Each reply one byte per TCP segment, with a pause between bytes.
    OneBytePerSegment,
    /// Each reply after a pause.
    Late,
    /// Bytes that are no RESP reply.
    Garbage,
    /// The header of a bulk string of 1 GiB, and nothing after it.
    Huge,
}

/// A master on a `TcpListener` that runs `POTTERY.NEXTID.CLAIM` on one counter shared by all
/// its connections, and answers as `answer` says.
fn fake_master(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound address").port();
    let counter = Arc::new(Mutex::new(0i64));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve(stream, answer, &counter));
        }
    });
    format!("redis://127.0.0.1:{port}/")
}

fn serve(mut stream: TcpStream, answer: Answer, counter: &Mutex<i64>) {
    stream.set_nodelay(true).expect("nodelay");
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some((args, used)) = parse_request(&received) {
            received.drain(..used);
            let reply = claim(&args, counter);
            let written = match answer {
                Answer::Whole => stream.write_all(&reply),
                Answer::OneBytePerSegment => reply.iter().try_for_each(|byte| {
                    std::thread::sleep(Duration::from_millis(1));
                    stream.write_all(std::slice::from_ref(byte))
                }),
                Answer::Late => {
                    std::thread::sleep(Duration::from_millis(50));
                    stream.write_all(&reply)
                }
                Answer::Garbage => stream.write_all(b"?this is not RESP\r\n"),
                Answer::Huge => stream.write_all(b"$1073741824\r\n"),
            };
            if written.is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
    }
}

/// One command (an array of bulk strings) from the start of `bytes`, and its length.
fn parse_request(bytes: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    fn line(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
        let end = at
            + bytes
                .get(at..)?
                .windows(2)
                .position(|pair| pair == b"\r\n")?;
        let number = std::str::from_utf8(&bytes[at + 1..end])
            .ok()?
            .parse()
            .ok()?;
        Some((number, end + 2))
    }
    let (count, mut at) = line(bytes, 0)?;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        let (length, start) = line(bytes, at)?;
        args.push(bytes.get(start..start + length)?.to_vec());
        at = start + length + 2;
    }
    (at <= bytes.len()).then_some((args, at))
}

/// `POTTERY.NEXTID.CLAIM key value [FROM first]` on `counter`, as the module runs it.
fn claim(args: &[Vec<u8>], counter: &Mutex<i64>) -> Vec<u8> {
    let number = |index: usize| -> i64 {
        std::str::from_utf8(&args[index])
            .ok()
            .and_then(|text| text.parse().ok())
            .expect("an integer argument")
    };
    assert_eq!(args[0], b"POTTERY.NEXTID.CLAIM", "the fake only claims");
    let value = number(2);
    let first = if args.len() == 5 { number(4) } else { value };
    let mut current = counter.lock().unwrap_or_else(|e| e.into_inner());
    if first > *current {
        *current = value;
        format!("*2\r\n:1\r\n:{value}\r\n").into_bytes()
    } else {
        format!("*2\r\n:0\r\n:{current}\r\n").into_bytes()
    }
}

fn ids_over<I>(masters: I) -> NextId
where
    I: IntoIterator,
    I::Item: Into<pottery::Master>,
{
    NextId::builder()
        .name("fanout")
        .masters(masters)
        .master_timeout(Duration::from_secs(2))
        .deadline(Duration::from_secs(5))
        // The fakes answer only the module's claim, not the probe of `Mode::Auto`.
        .mode(Mode::Module)
        .build()
        .expect("valid builder")
}

/// One attempt only, so that the error of that attempt comes back.
fn one_attempt<I>(masters: I) -> NextId
where
    I: IntoIterator,
    I::Item: Into<pottery::Master>,
{
    NextId::builder()
        .name("fanout")
        .masters(masters)
        .master_timeout(Duration::from_secs(2))
        .deadline(Duration::ZERO)
        .mode(Mode::Module)
        .build()
        .expect("valid builder")
}

/// The master's error behind a failed call: the last one of a quorum error, or the error
/// itself when retrying could not help.
fn master_error(result: pottery::Result<i64>) -> Error {
    match result {
        Err(Error::QuorumNotAchieved {
            last_error: Some(error),
            ..
        }) => *error,
        Err(error @ Error::Redis(_)) => error,
        other => panic!("expected a master's error, got {other:?}"),
    }
}

fn redis_kind(error: &Error) -> redis::ErrorKind {
    match error {
        Error::Redis(error) => error.kind(),
        other => panic!("expected a redis error, got {other:?}"),
    }
}

#[test]
fn fake_masters_answer_claims_like_the_module() {
    pottery_tests::requires_module!("its masters take the module's claims (Mode::Module)");
    let server = Server::start();
    let mut real = ids_over([server.url()]);
    let mut fake = ids_over([fake_master(Answer::Whole)]);
    for _ in 0..3 {
        assert_eq!(real.next_id().unwrap(), fake.next_id().unwrap());
    }
    assert_eq!(fake.next_ids(10).unwrap(), 4..=13);
}

#[test]
fn replies_in_one_byte_segments_are_read_whole() {
    let mut one = ids_over([fake_master(Answer::OneBytePerSegment)]);
    assert_eq!(one.next_id().unwrap(), 1);
    assert_eq!(one.next_ids(3).unwrap(), 2..=4);

    // Three trickling masters: the round polls them together, reads each reply as its bytes
    // arrive, and skips the replies a decided round left behind.
    let trickling: Vec<String> = (0..3)
        .map(|_| fake_master(Answer::OneBytePerSegment))
        .collect();
    let mut three = ids_over(trickling);
    let ids: Vec<i64> = (0..6).map(|_| three.next_id().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_garbage_reply_is_a_parse_error_and_the_other_masters_decide() {
    pottery_tests::requires_module!("its masters take the module's claims (Mode::Module)");
    let error = master_error(one_attempt([fake_master(Answer::Garbage)]).next_id());
    assert_eq!(redis_kind(&error), redis::ErrorKind::Parse);

    // One real master, one garbage, one correct but late: no majority without the late one,
    // so every round reads past the garbage and still decides.
    let server = Server::start();
    let mut ids = ids_over([
        server.url(),
        fake_master(Answer::Garbage),
        fake_master(Answer::Late),
    ]);
    for expected in 1..=5 {
        assert_eq!(ids.next_id().unwrap(), expected);
    }
}

#[test]
fn a_reply_announcing_a_gigabyte_is_refused_at_its_header() {
    // Refused as soon as the header arrives: a parse error, not a timeout waiting for 1 GiB.
    let error = master_error(one_attempt([fake_master(Answer::Huge)]).next_id());
    assert_eq!(redis_kind(&error), redis::ErrorKind::Parse);
}

/// A server where `default` needs the password `sesame` and `alice` (password `wonderland`)
/// may only touch `nextid:*` keys.
fn server_with_passwords() -> Server {
    let server = Server::start();
    let _: () = server
        .cmd(&[
            "ACL",
            "SETUSER",
            "alice",
            "on",
            ">wonderland",
            "~nextid:*",
            "+@all",
        ])
        .expect("ACL SETUSER");
    let _: () = server
        .cmd(&["CONFIG", "SET", "requirepass", "sesame"])
        .expect("CONFIG SET requirepass");
    server
}

fn counter_in(url: &str, key: &str) -> Option<String> {
    let mut connection = redis::Client::open(url)
        .and_then(|client| client.get_connection())
        .expect("connect with the password");
    redis::cmd("GET")
        .arg(key)
        .query(&mut connection)
        .expect("GET")
}

#[test]
fn the_handshake_authenticates_and_selects_the_database() {
    pottery_tests::requires_module!("its masters take the module's claims (Mode::Module)");
    let server = server_with_passwords();
    let port = server.port();
    let db3 = format!("redis://:sesame@127.0.0.1:{port}/3");
    let mut ids = ids_over([db3.as_str()]);
    assert_eq!(ids.next_id().unwrap(), 1);
    assert_eq!(ids.next_id().unwrap(), 2);
    assert_eq!(counter_in(&db3, "nextid:fanout").as_deref(), Some("2"));
    let db0 = format!("redis://:sesame@127.0.0.1:{port}/");
    assert_eq!(counter_in(&db0, "nextid:fanout"), None);

    // An ACL user, with a username and a password.
    let alice = format!("redis://alice:wonderland@127.0.0.1:{port}/");
    let mut ids = ids_over([alice.as_str()]);
    assert_eq!(ids.next_id().unwrap(), 1);
    assert_eq!(counter_in(&db0, "nextid:fanout").as_deref(), Some("1"));
    // Redlock goes through the same handshake; alice may not touch `redlock:*` keys.
    let lock = Redlock::builder()
        .name("door")
        .master(db3.as_str())
        .build()
        .unwrap();
    lock.acquire().unwrap().release().unwrap();
    let denied = Redlock::builder()
        .name("door")
        .master(alice.as_str())
        .acquire_timeout(Duration::ZERO)
        .build()
        .unwrap();
    assert!(matches!(
        denied.acquire(),
        Err(Error::QuorumNotAchieved { last_error: Some(ref error), .. })
            if matches!(&**error, Error::Redis(error) if error.code() == Some("NOPERM"))
    ));
}

#[test]
fn refused_handshakes_fail_as_the_redis_crate_reports_them() {
    pottery_tests::requires_module!("its masters take the module's claims (Mode::Module)");
    let server = server_with_passwords();
    let port = server.port();
    let redis_crate_kind = |url: &str| match redis::Client::open(url)
        .and_then(|client| client.get_connection())
        .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection))
    {
        Err(error) => error.kind(),
        Ok(_) => panic!("{url} should be refused"),
    };
    let cases = [
        format!("redis://:wrong@127.0.0.1:{port}/"),
        format!("redis://alice:wrong@127.0.0.1:{port}/"),
        format!("redis://:sesame@127.0.0.1:{port}/99"),
    ];
    for url in &cases {
        let error = master_error(one_attempt([url.as_str()]).next_id());
        assert_eq!(redis_kind(&error), redis_crate_kind(url), "{url}");
    }
    assert_eq!(
        redis_kind(&master_error(one_attempt([cases[0].as_str()]).next_id())),
        redis::ErrorKind::AuthenticationFailed
    );

    // Without a password, the command itself is refused.
    let error = master_error(one_attempt([format!("redis://127.0.0.1:{port}/")]).next_id());
    assert!(matches!(error, Error::Redis(ref error) if error.code() == Some("NOAUTH")));
}

#[test]
fn unix_socket_masters_work() {
    pottery_tests::requires_module!("its masters take the module's claims (Mode::Module)");
    let dir = std::env::temp_dir().join(format!("pottery-fanout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redis.sock");
    let server = Server::builder()
        .config("unixsocket", &path)
        .config("unixsocketperm", "700")
        .start();
    let url = format!("redis+unix://{}?db=2", path.display());
    let others = Server::start_many(2);
    let mut ids = ids_over([url.clone(), others[0].url(), others[1].url()]);
    assert_eq!(ids.next_id().unwrap(), 1);
    assert_eq!(ids.next_ids(5).unwrap(), 2..=6);
    let tcp = format!("{}2", server.url());
    assert_eq!(counter_in(&tcp, "nextid:fanout").as_deref(), Some("6"));
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rounds_mix_own_sockets_and_open_connections() {
    let servers = Server::start_many(5);
    let masters: Vec<pottery::Master> = servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            if index % 2 == 1 {
                server.connection().into()
            } else {
                server.url().into()
            }
        })
        .collect();
    let mut ids = NextId::builder()
        .name("mixed")
        .masters(masters)
        .master_timeout(Duration::from_millis(300))
        .deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut last = 0;
    for _ in 0..20 {
        let id = ids.next_id().unwrap();
        assert!(id > last);
        last = id;
    }
    // A paused master of either kind: the others still make a majority.
    for paused in [&servers[0], &servers[1]] {
        paused.pause();
        for _ in 0..10 {
            let id = ids.next_id().unwrap();
            assert!(id > last);
            last = id;
        }
        paused.resume();
    }
    assert!(ids.next_id().unwrap() > last);
}
