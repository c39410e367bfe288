//! The own async connection against a fake server on a local socket: replies in one-byte
//! segments, many callers at once, calls dropped at every stage, and broken connections.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use redis::{cmd, ErrorKind, IntoConnectionInfo, RedisError};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::*;
use crate::transport::resp::ReplyParser;

/// How the fake server sends its replies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Whole,
    OneByte,
}

/// A fake server that answers one connection:
/// - `ECHO x` with `x`, `LEN x` with the length of `x`;
/// - `HALF` with the first half of `"half!"`, then the rest once `hold` is notified;
/// - `GARBAGE` with bytes that are not RESP2, `CLOSE` by closing, `SILENT` not at all;
/// - `AUTH [user] pass` with `+OK` if `pass` is `right`, `SELECT` with `+OK`;
/// - `MULTI`/`EXEC` as Redis does, `BAD` with an error (so that an `EXEC` after it aborts).
async fn serve(listener: TcpListener, delivery: Delivery, hold: Arc<Notify>) {
    let (stream, _) = listener.accept().await.expect("accept");
    stream.set_nodelay(true).expect("nodelay");
    let mut parser = ReplyParser::default();
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut queued: Option<Vec<Vec<u8>>> = None;
    let mut aborted = false;
    loop {
        let read = read_some(&stream, &mut chunk).await;
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
        loop {
            let (used, command) = parser.parse(&buffer).expect("a RESP request");
            buffer.drain(..used);
            let Some(Value::Array(args)) = command else {
                break;
            };
            let args: Vec<Vec<u8>> = args
                .into_iter()
                .map(|arg| match arg {
                    Value::BulkString(bytes) => bytes,
                    other => panic!("not a bulk string: {other:?}"),
                })
                .collect();
            let reply = match (args[0].as_slice(), queued.as_mut()) {
                (b"MULTI", _) => {
                    queued = Some(Vec::new());
                    b"+OK\r\n".to_vec()
                }
                (b"EXEC", Some(_)) => {
                    let replies = queued.take().unwrap_or_default();
                    if std::mem::take(&mut aborted) {
                        b"-EXECABORT Transaction discarded because of previous errors.\r\n".to_vec()
                    } else {
                        let mut reply = format!("*{}\r\n", replies.len()).into_bytes();
                        replies.iter().for_each(|one| reply.extend_from_slice(one));
                        reply
                    }
                }
                (b"BAD", Some(_)) => {
                    aborted = true;
                    b"-ERR unknown command 'BAD'\r\n".to_vec()
                }
                (_, Some(replies)) => {
                    replies.push(answer(&args));
                    b"+QUEUED\r\n".to_vec()
                }
                (b"HALF", None) => {
                    send(&stream, b"$5\r\nhal", delivery).await;
                    hold.notified().await;
                    b"f!\r\n".to_vec()
                }
                (b"CLOSE", None) => return,
                (b"SILENT", None) => continue,
                (_, None) => answer(&args),
            };
            send(&stream, &reply, delivery).await;
        }
    }
}

/// The reply to a command outside a transaction.
fn answer(args: &[Vec<u8>]) -> Vec<u8> {
    match args[0].as_slice() {
        b"ECHO" => {
            let mut reply = format!("${}\r\n", args[1].len()).into_bytes();
            reply.extend_from_slice(&args[1]);
            reply.extend_from_slice(b"\r\n");
            reply
        }
        b"LEN" => format!(":{}\r\n", args[1].len()).into_bytes(),
        b"AUTH" if args.last().is_some_and(|pass| pass == b"right") => b"+OK\r\n".to_vec(),
        b"AUTH" => b"-WRONGPASS invalid username-password pair\r\n".to_vec(),
        b"SELECT" => b"+OK\r\n".to_vec(),
        b"GARBAGE" => b"?what\r\n".to_vec(),
        b"BAD" => b"-ERR unknown command 'BAD'\r\n".to_vec(),
        other => panic!("the fake server has no {other:?}"),
    }
}

/// Reads what comes (0 at end of file or on an error).
async fn read_some(stream: &TcpStream, buffer: &mut [u8]) -> usize {
    loop {
        if stream.readable().await.is_err() {
            return 0;
        }
        match stream.try_read(buffer) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return 0,
            Ok(read) => return read,
        }
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
            Ok(written) => bytes = &bytes[written..],
        }
    }
    Ok(())
}

async fn send(stream: &TcpStream, bytes: &[u8], delivery: Delivery) {
    let sent = match delivery {
        Delivery::Whole => write_all(stream, bytes).await,
        Delivery::OneByte => {
            let mut sent = Ok(());
            for byte in bytes {
                sent = write_all(stream, std::slice::from_ref(byte)).await;
                if sent.is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            sent
        }
    };
    // The client may be gone (tests that break the connection).
    let _ = sent;
}

/// A connection to a new fake server, with replies timing out after `timeout`.
async fn connection_with(
    delivery: Delivery,
    timeout: Duration,
) -> (AsyncConnection, Arc<Notify>, Endpoint) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let hold = Arc::new(Notify::new());
    tokio::spawn(serve(listener, delivery, Arc::clone(&hold)));
    let info = format!("redis://127.0.0.1:{port}/")
        .into_connection_info()
        .expect("info");
    let endpoint = Endpoint::for_info(&info).expect("an endpoint");
    let connection = AsyncConnection::open(&endpoint, timeout)
        .await
        .expect("connect");
    (connection, hold, endpoint)
}

async fn connection(delivery: Delivery) -> (AsyncConnection, Arc<Notify>) {
    let (connection, hold, _) = connection_with(delivery, DEFAULT_CONTAINER_TIMEOUT).await;
    (connection, hold)
}

async fn echo(connection: &AsyncConnection, text: &str) -> RedisResult<Value> {
    connection.send_command(cmd("ECHO").arg(text)).await
}

fn bulk(text: &str) -> Value {
    Value::BulkString(text.as_bytes().to_vec())
}

#[tokio::test]
async fn replies_in_one_byte_segments_are_read_whole() {
    let (mut connection, _) = connection(Delivery::OneByte).await;
    for text in ["a", "", "a longer reply\r\nwith a line break"] {
        assert_eq!(echo(&connection, text).await.expect("echo"), bulk(text));
    }
    let mut pipeline = redis::pipe();
    pipeline.cmd("ECHO").arg("x").cmd("LEN").arg("four");
    let replies: (String, i64) = pipeline.query_async(&mut connection).await.expect("pipe");
    assert_eq!(replies, ("x".to_owned(), 4));
    assert_eq!(connection.get_db(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_callers_get_their_own_replies() {
    for delivery in [Delivery::Whole, Delivery::OneByte] {
        let (connection, _) = connection(delivery).await;
        let calls = (0..300).map(|number| {
            let connection = connection.clone();
            tokio::spawn(async move {
                let text = format!("caller {number}");
                assert_eq!(echo(&connection, &text).await.expect("echo"), bulk(&text));
            })
        });
        for call in join_all(calls).await {
            call.expect("a caller panicked");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_dropped_while_waiting_leave_the_others_their_replies() {
    let (connection, _) = connection(Delivery::OneByte).await;
    let calls = (0..300).map(|number| {
        let connection = connection.clone();
        tokio::spawn(async move {
            let text = format!("caller {number}");
            if number % 3 == 0 {
                // Polled once (written, waiting or reading), then dropped.
                let _ = tokio::time::timeout(Duration::ZERO, echo(&connection, &text)).await;
            } else {
                assert_eq!(echo(&connection, &text).await.expect("echo"), bulk(&text));
            }
        })
    });
    for call in join_all(calls).await {
        call.expect("a caller panicked");
    }
    assert_eq!(
        echo(&connection, "after").await.expect("echo"),
        bulk("after")
    );
    assert!(!connection.is_broken());
}

#[tokio::test]
async fn a_reader_dropped_mid_reply_leaves_the_rest_of_it_to_be_discarded() {
    let (connection, hold) = connection(Delivery::Whole).await;
    let command = cmd("HALF");
    let half = connection.send_command(&command);
    let given_up = tokio::time::timeout(Duration::from_millis(50), half).await;
    assert!(given_up.is_err(), "the server holds the rest of the reply");
    let next = echo(&connection, "next");
    hold.notify_one();
    assert_eq!(next.await.expect("echo"), bulk("next"));
    assert!(!connection.is_broken());
}

#[tokio::test]
async fn a_request_dropped_mid_write_is_still_written_whole() {
    let (connection, _) = connection(Delivery::Whole).await;
    let large = "x".repeat(8 << 20);
    let mut command = cmd("LEN");
    command.arg(&large);
    let write = connection.send_command(&command);
    // Dropped before the socket took all 8 MiB (or after, which is fine too).
    let _ = tokio::time::timeout(Duration::from_millis(1), write).await;
    assert_eq!(
        echo(&connection, "small").await.expect("echo"),
        bulk("small")
    );
    assert!(!connection.is_broken());
}

#[tokio::test]
async fn a_transaction_gives_exec_replies_or_its_first_queued_error() {
    let (mut connection, _) = connection(Delivery::OneByte).await;
    let mut transaction = redis::pipe();
    transaction
        .atomic()
        .cmd("ECHO")
        .arg("a")
        .cmd("LEN")
        .arg("abc");
    let replies: (String, i64) = transaction.query_async(&mut connection).await.expect("tx");
    assert_eq!(replies, ("a".to_owned(), 3));
    let mut failing = redis::pipe();
    failing.atomic().cmd("ECHO").arg("a").cmd("BAD");
    let error = failing
        .query_async::<Value>(&mut connection)
        .await
        .expect_err("aborted");
    assert_eq!(error.code(), Some("ERR"));
    assert_eq!(
        echo(&connection, "still").await.expect("echo"),
        bulk("still")
    );
}

/// The error every call gets on a broken connection.
fn assert_breaks(error: &RedisError) {
    assert!(error.is_io_error(), "{error:?}");
    assert!(error.is_unrecoverable_error(), "{error:?}");
}

#[tokio::test]
async fn garbage_breaks_the_connection() {
    let (connection, _) = connection(Delivery::OneByte).await;
    let error = connection
        .send_command(&cmd("GARBAGE"))
        .await
        .expect_err("not RESP2");
    assert_breaks(&error);
    assert!(connection.is_broken());
    assert_breaks(&echo(&connection, "later").await.expect_err("broken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_file_fails_every_pending_and_later_call() {
    let (connection, _) = connection(Delivery::Whole).await;
    let silent = (0..10).map(|_| {
        let connection = connection.clone();
        tokio::spawn(async move { connection.send_command(&cmd("SILENT")).await })
    });
    let silent: Vec<_> = silent.collect();
    tokio::task::yield_now().await;
    let error = connection
        .send_command(&cmd("CLOSE"))
        .await
        .expect_err("closed");
    assert_breaks(&error);
    for call in join_all(silent).await {
        assert_breaks(&call.expect("no panic").expect_err("closed"));
    }
    assert_breaks(&echo(&connection, "later").await.expect_err("broken"));
}

#[tokio::test]
async fn a_reply_that_times_out_breaks_the_connection() {
    let (connection, _, _) = connection_with(Delivery::Whole, Duration::from_millis(50)).await;
    let error = connection
        .send_command(&cmd("SILENT"))
        .await
        .expect_err("no reply");
    assert!(error.is_timeout() && error.is_io_error(), "{error:?}");
    assert!(connection.is_broken());
    assert_breaks(&echo(&connection, "later").await.expect_err("broken"));
}

#[tokio::test]
async fn the_handshake_goes_out_with_the_first_request() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(serve(listener, Delivery::OneByte, Arc::new(Notify::new())));
    let info = format!("redis://user:right@127.0.0.1:{port}/3")
        .into_connection_info()
        .expect("info");
    let endpoint = Endpoint::for_info(&info).expect("an endpoint");
    let connection = AsyncConnection::open(&endpoint, DEFAULT_CONTAINER_TIMEOUT)
        .await
        .expect("connect");
    assert_eq!(connection.db, 3);
    assert_eq!(echo(&connection, "in").await.expect("echo"), bulk("in"));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(serve(listener, Delivery::Whole, Arc::new(Notify::new())));
    let info = format!("redis://user:wrong@127.0.0.1:{port}/")
        .into_connection_info()
        .expect("info");
    let endpoint = Endpoint::for_info(&info).expect("an endpoint");
    let connection = AsyncConnection::open(&endpoint, DEFAULT_CONTAINER_TIMEOUT)
        .await
        .expect("connect");
    let error = echo(&connection, "in").await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    assert!(connection.is_broken());
}
