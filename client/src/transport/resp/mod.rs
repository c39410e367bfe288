//! RESP2 on the wire without the `redis` crate's connection: packing commands, and parsing
//! replies incrementally.
//!
//! The sync fan-out's own sockets send their handshake (`AUTH`, `SELECT`) packed here, in front
//! of the first command; integers are formatted on the stack.
//!
//! Replies read from the fan-out's own sockets ([`crate::transport::socket`]) arrive in whatever pieces TCP
//! delivers; [`ReplyParser`] takes them as they come and produces each reply as the `redis`
//! crate's parser would for the same bytes, so the code that interprets replies cannot tell the
//! two paths apart. It accepts what a RESP2 server sends (`+ - : $ *`) and nothing of RESP3, and
//! bounds what a broken or hostile server can make it hold (see [`ProtocolError`]).

use redis::Value;

/// One argument of a command.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// A binary-safe string.
    Bytes(&'a [u8]),
    /// A signed integer, sent in decimal.
    Int(i64),
}

/// Appends the RESP array header for `count` arguments (`*<count>\r\n`).
pub(crate) fn push_array_header(buffer: &mut Vec<u8>, count: usize) {
    buffer.push(b'*');
    push_length(buffer, count);
    buffer.extend_from_slice(b"\r\n");
}

/// Appends one argument as a RESP bulk string (`$<len>\r\n<bytes>\r\n`).
pub(crate) fn push_arg(buffer: &mut Vec<u8>, arg: Arg<'_>) {
    match arg {
        Arg::Bytes(bytes) => {
            buffer.push(b'$');
            push_length(buffer, bytes.len());
            buffer.extend_from_slice(b"\r\n");
            buffer.extend_from_slice(bytes);
        }
        Arg::Int(value) => {
            let mut digits = [0u8; 20];
            let text = format_decimal(&mut digits, value.unsigned_abs());
            let negative = value < 0;
            buffer.push(b'$');
            push_length(buffer, text.len() + usize::from(negative));
            buffer.extend_from_slice(b"\r\n");
            if negative {
                buffer.push(b'-');
            }
            buffer.extend_from_slice(text);
        }
    }
    buffer.extend_from_slice(b"\r\n");
}

/// Appends one command to `buffer` after what it holds, for several commands sent in one write.
pub(crate) fn append(buffer: &mut Vec<u8>, args: &[Arg<'_>]) {
    push_array_header(buffer, args.len());
    for arg in args {
        push_arg(buffer, *arg);
    }
}

fn push_length(buffer: &mut Vec<u8>, length: usize) {
    let mut digits = [0u8; 20];
    // usize is at most 64 bits on every target Rust supports, so this cannot truncate.
    buffer.extend_from_slice(format_decimal(&mut digits, length as u64));
}

/// Writes `value` in decimal at the end of `digits` and returns the written part.
fn format_decimal(digits: &mut [u8; 20], mut value: u64) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        // `value % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &digits[start..];
        }
    }
}

/// What one reply may take at most, so that a broken or hostile server cannot make the parser
/// hold memory without bound: each reply is refused as soon as it passes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The longest line (simple string, error, integer or length), without its CRLF.
    pub(crate) line: usize,
    /// The longest bulk string.
    pub(crate) bulk: usize,
    /// The most elements one array may announce.
    pub(crate) array: usize,
    /// The most bytes one reply may take on the wire, nested values included.
    pub(crate) reply: usize,
    /// The deepest nesting of arrays (the replies pottery reads nest at most twice).
    pub(crate) depth: usize,
}

impl Limits {
    /// Far above any reply pottery's commands get, far below what would hurt a client.
    pub(crate) const DEFAULT: Self = Self {
        line: 64 * 1024,
        bulk: 16 * 1024 * 1024,
        array: 1 << 20,
        reply: 64 * 1024 * 1024,
        depth: 32,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Elements reserved up front for an array, whatever length it announces: the rest is
/// allocated as elements actually arrive.
const ARRAY_RESERVE: usize = 16;

/// Bytes that are not a RESP2 reply, or a reply over the parser's bounds. The connection that
/// sent them cannot be trusted any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtocolError {
    /// A type byte RESP2 does not have (RESP3 types included: pottery speaks RESP2).
    UnknownType,
    /// An integer or a length that is not a decimal 64-bit integer.
    BadInteger,
    /// A simple string or error line that is not UTF-8.
    NotUtf8,
    /// A bulk string not followed by CRLF.
    MissingCrlf,
    /// A line, bulk string, array or whole reply over the parser's bounds.
    TooLarge,
    /// Arrays nested deeper than the parser's bound.
    TooDeep,
}

impl ProtocolError {
    fn message(self) -> &'static str {
        match self {
            Self::UnknownType => "reply with an unknown type byte",
            Self::BadInteger => "reply with an invalid integer or length",
            Self::NotUtf8 => "reply line that is not UTF-8",
            Self::MissingCrlf => "bulk string not terminated by CRLF",
            Self::TooLarge => "reply larger than pottery accepts",
            Self::TooDeep => "reply nested deeper than pottery accepts",
        }
    }
}

impl From<ProtocolError> for redis::RedisError {
    fn from(error: ProtocolError) -> Self {
        (redis::ErrorKind::Parse, error.message()).into()
    }
}

/// An array whose elements are still arriving.
#[derive(Debug)]
struct OpenArray {
    items: Vec<Value>,
    missing: usize,
}

/// Parses RESP2 replies from a byte stream delivered in arbitrary pieces.
///
/// Feed it the unconsumed bytes with [`parse`](Self::parse); it says how many it consumed
/// (drop those) and returns a reply once one is complete. Between calls it keeps the arrays
/// being filled, a bulk string's announced length and how far it already searched the pending
/// line, so a reply delivered one byte at a time costs linear time, not quadratic.
#[derive(Debug, Default)]
pub(crate) struct ReplyParser {
    limits: Limits,
    open: Vec<OpenArray>,
    /// The length of a bulk string whose header was consumed and whose body was not.
    bulk: Option<usize>,
    /// Bytes at the start of the unconsumed input already searched for a line's end.
    scanned: usize,
    /// Bytes of the current reply consumed so far.
    reply_bytes: usize,
}

impl ReplyParser {
    /// A parser that refuses replies over `limits`.
    #[cfg(test)]
    pub(crate) fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Parses from `input` (the bytes not consumed yet) until a reply is complete or the input
    /// runs out. Returns the bytes consumed and the reply, if complete. After an error the
    /// parser's state is meaningless: drop the connection.
    pub(crate) fn parse(&mut self, input: &[u8]) -> Result<(usize, Option<Value>), ProtocolError> {
        let mut at = 0;
        loop {
            let rest = &input[at..];
            let mut value = if let Some(length) = self.bulk {
                let Some(body) = rest.get(..length + 2) else {
                    return Ok((at, None));
                };
                if !body.ends_with(b"\r\n") {
                    return Err(ProtocolError::MissingCrlf);
                }
                self.bulk = None;
                self.consume(&mut at, length + 2)?;
                Value::BulkString(body[..length].to_vec())
            } else {
                let Some(&kind) = rest.first() else {
                    return Ok((at, None));
                };
                if !matches!(kind, b'+' | b'-' | b':' | b'$' | b'*') {
                    return Err(ProtocolError::UnknownType);
                }
                let Some(end) = self.line_end(rest)? else {
                    return Ok((at, None));
                };
                let line = &rest[1..end];
                let whole = &rest[..end + 2];
                self.consume(&mut at, end + 2)?;
                match kind {
                    b'+' => simple_string(line)?,
                    b'-' => server_error(whole)?,
                    b':' => Value::Int(integer(line)?),
                    b'$' => match usize::try_from(integer(line)?) {
                        Err(_) => Value::Nil,
                        Ok(length) if length > self.limits.bulk => {
                            return Err(ProtocolError::TooLarge)
                        }
                        Ok(length) => {
                            self.bulk = Some(length);
                            continue;
                        }
                    },
                    _ => match usize::try_from(integer(line)?) {
                        Err(_) => Value::Nil,
                        Ok(0) => Value::Array(Vec::new()),
                        Ok(length) if length > self.limits.array => {
                            return Err(ProtocolError::TooLarge)
                        }
                        Ok(length) => {
                            if self.open.len() >= self.limits.depth {
                                return Err(ProtocolError::TooDeep);
                            }
                            self.open.push(OpenArray {
                                items: Vec::with_capacity(length.min(ARRAY_RESERVE)),
                                missing: length,
                            });
                            continue;
                        }
                    },
                }
            };
            // Place the value in its array; every array it completes is placed in turn.
            loop {
                let Some(array) = self.open.last_mut() else {
                    self.reply_bytes = 0;
                    return Ok((at, Some(value)));
                };
                array.items.push(value);
                array.missing -= 1;
                if array.missing > 0 {
                    break;
                }
                let Some(done) = self.open.pop() else {
                    break;
                };
                value = Value::Array(done.items);
            }
        }
    }

    /// Where the line at the start of `rest` ends (the index of its CR), if it is complete.
    fn line_end(&mut self, rest: &[u8]) -> Result<Option<usize>, ProtocolError> {
        // A line's LF is at index 2 at the earliest: type byte, CR, LF.
        let from = self.scanned.max(2);
        let found = rest
            .get(from..)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .find(|&(offset, &byte)| byte == b'\n' && rest[from + offset - 1] == b'\r')
            .map(|(offset, _)| from + offset - 1);
        match found {
            Some(end) => {
                self.scanned = 0;
                if end > self.limits.line {
                    return Err(ProtocolError::TooLarge);
                }
                Ok(Some(end))
            }
            None if rest.len() > self.limits.line + 2 => Err(ProtocolError::TooLarge),
            None => {
                self.scanned = rest.len();
                Ok(None)
            }
        }
    }

    fn consume(&mut self, at: &mut usize, bytes: usize) -> Result<(), ProtocolError> {
        *at += bytes;
        self.reply_bytes += bytes;
        if self.reply_bytes > self.limits.reply {
            return Err(ProtocolError::TooLarge);
        }
        Ok(())
    }
}

fn simple_string(line: &[u8]) -> Result<Value, ProtocolError> {
    match std::str::from_utf8(line) {
        Ok("OK") => Ok(Value::Okay),
        Ok(text) => Ok(Value::SimpleString(text.to_owned())),
        Err(_) => Err(ProtocolError::NotUtf8),
    }
}

/// The redis crate's own parser builds the error, so that its kind and code are exactly what a
/// `redis::Connection` would report (its constructor is private to that crate). Error replies
/// are rare; the extra parse does not matter.
fn server_error(whole: &[u8]) -> Result<Value, ProtocolError> {
    match redis::parse_redis_value(whole) {
        Ok(error @ Value::ServerError(_)) => Ok(error),
        _ => Err(ProtocolError::NotUtf8),
    }
}

/// An integer line as the redis crate reads it: UTF-8, surrounding whitespace ignored.
fn integer(line: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or(ProtocolError::BadInteger)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(args: &[Arg<'_>]) -> Vec<u8> {
        let mut buffer = Vec::new();
        append(&mut buffer, args);
        buffer
    }

    #[test]
    fn packs_like_the_redis_crate() {
        for value in [0, 7, -1, 10, 1234567890, i64::MAX, i64::MIN] {
            let args = [
                Arg::Bytes(b"POTTERY.NEXTID.CLAIM"),
                Arg::Bytes(b"nextid:\xffx"),
                Arg::Int(value),
                Arg::Bytes(b""),
            ];
            let expected = redis::cmd("POTTERY.NEXTID.CLAIM")
                .arg(&b"nextid:\xffx"[..])
                .arg(value)
                .arg("")
                .get_packed_command();
            assert_eq!(packed(&args), expected, "value {value}");
        }
    }

    #[test]
    fn packs_a_bare_command() {
        assert_eq!(packed(&[Arg::Bytes(b"PING")]), b"*1\r\n$4\r\nPING\r\n");
    }
}

#[cfg(test)]
mod parser_tests {
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
}
