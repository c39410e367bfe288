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
mod tests;

#[cfg(test)]
mod parser_tests;
