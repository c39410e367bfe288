//! A bare RESP2/RESP3 connection that keeps every reply exactly as the server sent it: the
//! error text with its code (or without one, as some of RedisBloom's have none), simple
//! strings apart from bulk strings, booleans, maps in order and nulls.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One reply, as sent.
#[derive(Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    Bool(bool),
    Double(String),
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Simple(text) => write!(f, "+{text}"),
            Reply::Error(text) => write!(f, "-{text:?}"),
            Reply::Integer(value) => write!(f, ":{value}"),
            Reply::Bulk(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Reply::Null => f.write_str("null"),
            Reply::Bool(value) => write!(f, "#{value}"),
            Reply::Double(text) => write!(f, ",{text}"),
            Reply::Array(items) => f.debug_list().entries(items).finish(),
            Reply::Map(entries) => f
                .debug_map()
                .entries(entries.iter().map(|(k, v)| (k, v)))
                .finish(),
        }
    }
}

/// A connection speaking `protocol` (2, or 3 after `HELLO 3`).
pub struct Resp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Resp {
    pub fn connect(port: u16, protocol: u8) -> Resp {
        let writer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let reader = BufReader::new(writer.try_clone().expect("clone the socket"));
        let mut resp = Resp { reader, writer };
        if protocol == 3 {
            let hello = resp.call(&[b"HELLO".to_vec(), b"3".to_vec()]);
            assert!(matches!(hello, Reply::Map(_)), "HELLO 3: {hello:?}");
        }
        resp
    }

    /// Sends one command and reads its reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> Reply {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&request).expect("send");
        self.read()
    }

    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).expect("read");
        assert!(line.ends_with(b"\r\n"), "a truncated reply: {line:?}");
        line.truncate(line.len() - 2);
        String::from_utf8(line).expect("a text line")
    }

    fn read(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        let number = || rest.parse::<i64>().expect("a length");
        match kind {
            "+" => Reply::Simple(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Integer(number()),
            "_" => Reply::Null,
            "#" => Reply::Bool(rest == "t"),
            "," => Reply::Double(rest.to_owned()),
            "$" if number() < 0 => Reply::Null,
            "$" => {
                let mut bytes = vec![0; number() as usize + 2];
                self.reader.read_exact(&mut bytes).expect("read a bulk");
                bytes.truncate(bytes.len() - 2);
                Reply::Bulk(bytes)
            }
            "*" | "~" | ">" if number() < 0 => Reply::Null,
            "*" | "~" | ">" => Reply::Array((0..number()).map(|_| self.read()).collect()),
            "%" => Reply::Map((0..number()).map(|_| (self.read(), self.read())).collect()),
            other => panic!("an unknown RESP type {other:?} in {line:?}"),
        }
    }
}
