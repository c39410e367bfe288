use super::*;
use proptest::prelude::*;

/// Feeds `chunks` one after the other into a buffer, as socket reads would, and collects
/// every reply (or the first error).
fn parse_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Value>, ProtocolError> {
    let mut parser = ReplyParser::default();
    let mut buffer = Vec::new();
    let mut replies = Vec::new();
    for chunk in chunks {
        buffer.extend_from_slice(chunk);
        loop {
            let (used, reply) = parser.parse(&buffer)?;
            buffer.drain(..used);
            match reply {
                Some(reply) => replies.push(reply),
                None => break,
            }
        }
    }
    Ok(replies)
}

fn parse_whole(bytes: &[u8]) -> Result<Vec<Value>, ProtocolError> {
    parse_chunks([bytes])
}

fn redis_crate(bytes: &[u8]) -> Value {
    match redis::parse_redis_value(bytes) {
        Ok(value) => value,
        Err(error) => panic!("the redis crate rejects {bytes:?}: {error}"),
    }
}

#[test]
fn parses_every_resp2_type_like_the_redis_crate() {
    let cases: &[&[u8]] = &[
        b"+OK\r\n",
        b"+QUEUED\r\n",
        b"+\r\n",
        b":0\r\n",
        b":-9223372036854775808\r\n",
        b": 42 \r\n",
        b"$0\r\n\r\n",
        b"$4\r\na\r\nb\r\n",
        b"$3\r\n\xff\x00\xfe\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"*2\r\n:1\r\n:42\r\n",
        b"*2\r\n$36\r\n0d7c1a5e-0000-4000-8000-000000000000\r\n:9500\r\n",
        b"*3\r\n*1\r\n*0\r\n$-1\r\n*2\r\n+a\r\n-ERR inner\r\n",
        b"-ERR unknown command 'X'\r\n",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        b"-LOADING Redis is loading the dataset in memory\r\n",
        b"-NOAUTH Authentication required.\r\n",
        b"-ERR\r\n",
    ];
    for &case in cases {
        assert_eq!(
            parse_whole(case),
            Ok(vec![redis_crate(case)]),
            "{}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn consecutive_replies_come_out_in_order() {
    let replies = parse_whole(b":1\r\n+OK\r\n*1\r\n:2\r\n$1\r\nx\r\n");
    assert_eq!(
        replies,
        Ok(vec![
            Value::Int(1),
            Value::Okay,
            Value::Array(vec![Value::Int(2)]),
            Value::BulkString(b"x".to_vec()),
        ])
    );
}

#[test]
fn an_incomplete_reply_consumes_only_finished_lines() {
    let mut parser = ReplyParser::default();
    assert_eq!(parser.parse(b""), Ok((0, None)));
    assert_eq!(parser.parse(b":12"), Ok((0, None)));
    assert_eq!(parser.parse(b"*2\r\n:1\r"), Ok((4, None)));
    // The caller dropped the 4 consumed bytes; the rest arrives.
    assert_eq!(
        parser.parse(b":1\r\n:2\r\n"),
        Ok((8, Some(Value::Array(vec![Value::Int(1), Value::Int(2)]))))
    );
    assert_eq!(parser.parse(b"$5\r\nab"), Ok((4, None)));
    assert_eq!(
        parser.parse(b"abcde\r\n"),
        Ok((7, Some(Value::BulkString(b"abcde".to_vec()))))
    );
}

#[test]
fn garbage_is_a_protocol_error() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"hello\r\n", ProtocolError::UnknownType),
        (b"\r\n", ProtocolError::UnknownType),
        (b"_\r\n", ProtocolError::UnknownType),
        (b"%1\r\n:1\r\n:2\r\n", ProtocolError::UnknownType),
        (b"*1\r\n#t\r\n", ProtocolError::UnknownType),
        (b":12x\r\n", ProtocolError::BadInteger),
        (b":\r\n", ProtocolError::BadInteger),
        (b":99999999999999999999\r\n", ProtocolError::BadInteger),
        (b"$abc\r\n", ProtocolError::BadInteger),
        (b"+caf\xc3\r\n", ProtocolError::NotUtf8),
        (b"-ERR \xff\r\n", ProtocolError::NotUtf8),
        (b"$3\r\nabcd\r\n", ProtocolError::MissingCrlf),
        (b"$16777217\r\n", ProtocolError::TooLarge),
        (b"*1048577\r\n", ProtocolError::TooLarge),
        (b"*9223372036854775807\r\n", ProtocolError::TooLarge),
    ];
    for &(bytes, expected) in cases {
        assert_eq!(
            parse_whole(bytes),
            Err(expected),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn bounds_hold_before_the_bytes_arrive() {
    let limits = Limits {
        line: 10,
        bulk: 8,
        array: 5,
        reply: 40,
        depth: 3,
    };
    let parse = |bytes: &[u8]| {
        let mut parser = ReplyParser::with_limits(limits);
        parser.parse(bytes).map(|(_, reply)| reply)
    };
    // A line that never ends is refused once it is longer than the bound.
    assert_eq!(parse(b"+0123456789"), Ok(None));
    assert_eq!(parse(b"+0123456789ab"), Err(ProtocolError::TooLarge));
    assert_eq!(parse(b"+0123456789a\r\n"), Err(ProtocolError::TooLarge));
    // Bulk strings and arrays are refused on their header, before their bytes arrive.
    assert_eq!(parse(b"$8\r\n"), Ok(None));
    assert_eq!(parse(b"$9\r\n"), Err(ProtocolError::TooLarge));
    assert_eq!(parse(b"*6\r\n"), Err(ProtocolError::TooLarge));
    // Nesting: `depth` arrays are fine, one more is not.
    assert_eq!(
        parse(b"*1\r\n*1\r\n*1\r\n:7\r\n"),
        Ok(Some(Value::Array(vec![Value::Array(vec![Value::Array(
            vec![Value::Int(7)]
        )])])))
    );
    assert_eq!(
        parse(b"*1\r\n*1\r\n*1\r\n*1\r\n"),
        Err(ProtocolError::TooDeep)
    );
    // The whole reply: five bulk strings of 8 bytes pass 40 bytes on the wire.
    let mut parser = ReplyParser::with_limits(limits);
    let mut outcome = parser.parse(b"*5\r\n");
    for _ in 0..5 {
        if outcome.is_err() {
            break;
        }
        outcome = parser.parse(b"$8\r\n01234567\r\n");
    }
    assert_eq!(outcome, Err(ProtocolError::TooLarge));
    // The bound is per reply: the next reply starts from zero.
    let mut parser = ReplyParser::with_limits(limits);
    for _ in 0..10 {
        assert_eq!(
            parser.parse(b"$8\r\n01234567\r\n").map(|(used, _)| used),
            Ok(14)
        );
    }
}

#[test]
fn an_announced_length_reserves_only_a_little() {
    let mut parser = ReplyParser::default();
    assert_eq!(parser.parse(b"*1000000\r\n*1000000\r\n"), Ok((20, None)));
    assert_eq!(parser.open.len(), 2);
    assert!(parser
        .open
        .iter()
        .all(|array| array.items.capacity() <= ARRAY_RESERVE));
}

/// RESP2 values as a server sends them (no `Okay`/`SimpleString` distinction needed: the
/// parser makes `+OK` into `Okay` itself).
fn resp2_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::BulkString),
        "[^\r\n]{0,20}".prop_map(|text| if text == "OK" {
            Value::Okay
        } else {
            Value::SimpleString(text)
        }),
        Just(Value::Nil),
        "(ERR|WRONGTYPE|LOADING|NOPERM|BUSY)( [a-z ]{0,20})?"
            .prop_map(|line| redis_crate(format!("-{line}\r\n").as_bytes())),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        proptest::collection::vec(inner, 0..6).prop_map(Value::Array)
    })
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Int(number) => out.extend_from_slice(format!(":{number}\r\n").as_bytes()),
        Value::BulkString(bytes) => {
            out.extend_from_slice(format!("${}\r\n", bytes.len()).as_bytes());
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        Value::Okay => out.extend_from_slice(b"+OK\r\n"),
        Value::SimpleString(text) => out.extend_from_slice(format!("+{text}\r\n").as_bytes()),
        Value::Nil => out.extend_from_slice(b"$-1\r\n"),
        Value::ServerError(error) => {
            out.push(b'-');
            out.extend_from_slice(error.code().as_bytes());
            if let Some(details) = error.details() {
                out.push(b' ');
                out.extend_from_slice(details.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        Value::Array(items) => {
            out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
            for item in items {
                encode(item, out);
            }
        }
        other => panic!("not generated: {other:?}"),
    }
}

proptest! {
    #[test]
    fn any_split_of_any_replies_parses_like_the_redis_crate(
        values in proptest::collection::vec(resp2_value(), 1..4)
    ) {
        let mut bytes = Vec::new();
        for value in &values {
            encode(value, &mut bytes);
        }
        let expected: Vec<Value> = values
            .iter()
            .map(|value| {
                let mut one = Vec::new();
                encode(value, &mut one);
                redis_crate(&one)
            })
            .collect();
        prop_assert_eq!(&expected, &values);
        for split in 0..=bytes.len() {
            let (head, tail) = bytes.split_at(split);
            prop_assert_eq!(parse_chunks([head, tail]), Ok(expected.clone()));
        }
        prop_assert_eq!(parse_chunks(bytes.chunks(1)), Ok(expected.clone()));
        prop_assert_eq!(parse_chunks(bytes.chunks(3)), Ok(expected));
    }

    #[test]
    fn whatever_it_accepts_the_redis_crate_reads_the_same(
        bytes in proptest::collection::vec(
            prop_oneof![
                4 => prop::sample::select(b"+-:$*\r\n0123-".to_vec()),
                1 => any::<u8>(),
            ],
            0..40,
        )
    ) {
        let mut parser = ReplyParser::default();
        if let Ok((used, Some(value))) = parser.parse(&bytes) {
            prop_assert_eq!(redis::parse_redis_value(&bytes[..used]).ok(), Some(value));
        }
    }
}
