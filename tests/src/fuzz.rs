//! Random `POTTERY.*` commands against a real server: every reply must be a value or an error,
//! the server must stay up, and its memory must stay bounded.
//!
//! The commands and their keywords are discovered from the server itself (`COMMAND LIST
//! FILTERBY MODULE pottery`, `COMMAND INFO`, `COMMAND DOCS`), so every command added to the
//! module is fuzzed without touching this file. Arguments mix the command's own keywords in
//! random places, integers at and beyond every edge, random bytes and unicode, and keys of
//! every Redis type (including corrupt HyperLogLog strings).

use crate::Server;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::Value;
use std::collections::BTreeMap;

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct FuzzReport {
    /// Commands sent.
    pub commands: u64,
    /// Replies that were errors.
    pub errors: u64,
    /// Per command name: (replies that were values, replies that were errors).
    pub per_command: BTreeMap<String, (u64, u64)>,
    /// Highest `used_memory` seen, in bytes.
    pub peak_memory: u64,
}

/// Options of a fuzz run.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// How many commands to send.
    pub commands: u64,
    /// Seed of the random generator: the same seed replays the same commands.
    pub seed: u64,
    /// Commands per pipeline (the server is checked between batches).
    pub batch: usize,
    /// Flush and recreate the typed keys every this many commands, so data stays small.
    pub reset_every: u64,
    /// Fail if `used_memory` exceeds this many bytes.
    pub memory_limit: u64,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            commands: 20_000,
            seed: 1,
            batch: 200,
            reset_every: 5_000,
            memory_limit: 1 << 30,
        }
    }
}

/// One module command as the server describes it.
#[derive(Debug, Clone)]
struct Shape {
    name: String,
    arity: i64,
    first_key: i64,
    last_key: i64,
    key_step: i64,
    tokens: Vec<String>,
    /// Flagged `blocking`: sent inside `MULTI`, where it replies at once, so that a random
    /// `BLOCK 0` never stalls the fuzzer's pipeline.
    blocking: bool,
    /// The documented arguments, for structurally valid commands.
    args: Vec<ArgDoc>,
}

/// One argument as `COMMAND DOCS` describes it.
#[derive(Debug, Clone, Default)]
struct ArgDoc {
    kind: String,
    token: Option<String>,
    optional: bool,
    multiple: bool,
    children: Vec<ArgDoc>,
}

const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "100",
    "1000000",
    "-1000000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "99999999999999999999999999",
    "1099511627776",
    "1099511627777",
    "4294967296",
    "32768",
    "32769",
    "0.5",
    "0.01",
    "0.999999",
    "1e-300",
    "1e308",
    "-0",
    "00",
    "+1",
    " 1",
    "nan",
    "inf",
    "-inf",
    "1e3",
    "0x10",
    "",
];

/// Keys of every type the fuzzer creates before each round.
const TYPED_KEYS: &[&str] = &[
    "k:string",
    "k:int",
    "k:list",
    "k:hash",
    "k:set",
    "k:zset",
    "k:stream",
    "k:hll-sparse",
    "k:hll-dense",
    "k:hll-corrupt",
    "k:bloom",
    "k:missing",
    "redlock:k",
    "redlock:k:fence",
    "k:sem",
    "k:rwlock",
    "nextid:k",
    "k:tat",
];

/// Runs the fuzzer against `server` and returns what it saw, or why it failed.
pub fn fuzz(server: &Server, options: &FuzzOptions) -> Result<FuzzReport, String> {
    let mut connection = server.connection();
    let shapes = discover(&mut connection)?;
    if shapes.is_empty() {
        return Err("the server lists no pottery commands".into());
    }
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut report = FuzzReport::default();
    create_typed_keys(&mut connection, &mut rng)?;
    let mut since_reset = 0;
    // Chunks that SCANDUMP replied, replayed (and corrupted) into LOADCHUNK.
    let mut chunks: Vec<(i64, Vec<u8>)> = Vec::new();
    while report.commands < options.commands {
        let size = options
            .batch
            .min((options.commands - report.commands) as usize);
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors();
        let mut names = Vec::with_capacity(size);
        for _ in 0..size {
            let shape = &shapes[rng.random_range(0..shapes.len())];
            let args = arguments(shape, &shapes, &chunks, &mut rng);
            if shape.blocking {
                pipeline.cmd("MULTI");
                names.push(None);
            }
            let command = pipeline.cmd(&shape.name);
            for arg in &args {
                command.arg(arg.as_slice());
            }
            if shape.blocking {
                // The command's reply (or EXECABORT) comes with EXEC.
                names.push(None);
                pipeline.cmd("EXEC");
            }
            names.push(Some(shape.name.clone()));
        }
        let replies: Vec<Value> = pipeline.query(&mut connection).map_err(|error| {
            format!(
                "the server failed a batch (seed {}): {error}\n{}",
                options.seed,
                tail(&server.log())
            )
        })?;
        if replies.len() != names.len() {
            return Err(format!(
                "{} replies to {} commands",
                replies.len(),
                names.len()
            ));
        }
        for (name, reply) in names.into_iter().zip(replies) {
            let Some(name) = name else { continue };
            if name.ends_with("scandump") {
                keep_chunk(&reply, &mut chunks, &mut rng);
            }
            let entry = report.per_command.entry(name).or_default();
            if matches!(reply, Value::ServerError(_)) {
                entry.1 += 1;
                report.errors += 1;
            } else {
                entry.0 += 1;
            }
        }
        report.commands += size as u64;
        since_reset += size as u64;

        let memory = used_memory(&mut connection).map_err(|error| {
            format!(
                "the server stopped answering (seed {}): {error}\n{}",
                options.seed,
                tail(&server.log())
            )
        })?;
        report.peak_memory = report.peak_memory.max(memory);
        if memory > options.memory_limit {
            return Err(format!(
                "used_memory {memory} exceeds {} (seed {})",
                options.memory_limit, options.seed
            ));
        }
        if since_reset >= options.reset_every {
            let _: () = redis::cmd("FLUSHALL")
                .query(&mut connection)
                .map_err(|e| e.to_string())?;
            create_typed_keys(&mut connection, &mut rng)?;
            since_reset = 0;
        }
    }
    Ok(report)
}

fn keep_chunk(reply: &Value, chunks: &mut Vec<(i64, Vec<u8>)>, rng: &mut StdRng) {
    if let Value::Array(parts) = reply {
        if let [Value::Int(iterator), Value::BulkString(data)] = parts.as_slice() {
            if chunks.len() < 64 {
                chunks.push((*iterator, data.clone()));
            } else {
                let slot = rng.random_range(0..chunks.len());
                chunks[slot] = (*iterator, data.clone());
            }
        }
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn used_memory(connection: &mut redis::Connection) -> redis::RedisResult<u64> {
    let info: String = redis::cmd("INFO").arg("memory").query(connection)?;
    Ok(crate::info_field(&info, "used_memory")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0))
}

fn discover(connection: &mut redis::Connection) -> Result<Vec<Shape>, String> {
    let names: Vec<String> = redis::cmd("COMMAND")
        .arg(&["LIST", "FILTERBY", "MODULE", "pottery"])
        .query(connection)
        .map_err(|e| e.to_string())?;
    let mut shapes = Vec::new();
    for name in names {
        let info: Vec<Value> = redis::cmd("COMMAND")
            .arg("INFO")
            .arg(&name)
            .query(connection)
            .map_err(|e| e.to_string())?;
        let Some(Value::Array(fields)) = info.into_iter().next() else {
            return Err(format!("no COMMAND INFO for {name}"));
        };
        let integer = |index: usize| match fields.get(index) {
            Some(Value::Int(value)) => *value,
            _ => 0,
        };
        let docs: Value = redis::cmd("COMMAND")
            .arg("DOCS")
            .arg(&name)
            .query(connection)
            .map_err(|e| e.to_string())?;
        let mut tokens = Vec::new();
        collect_tokens(&docs, &mut tokens);
        let args = match &docs {
            Value::Array(entries) => entries
                .get(1)
                .and_then(|doc| field(doc, "arguments"))
                .map(parse_args)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let blocking = matches!(fields.get(2), Some(Value::Array(flags))
            if flags.iter().any(|flag| matches!(flag,
                Value::SimpleString(text) if text == "blocking")));
        shapes.push(Shape {
            args,
            blocking,
            arity: integer(1),
            first_key: integer(3),
            last_key: integer(4),
            key_step: integer(5),
            name,
            tokens,
        });
    }
    Ok(shapes)
}

/// The value after `name` in a flat key/value array (RESP2's form of a map).
fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let Value::Array(items) = value else {
        return None;
    };
    items
        .chunks(2)
        .find(|pair| text(&pair[0]) == Some(name.as_bytes()))
        .and_then(|pair| pair.get(1))
}

fn parse_args(value: &Value) -> Vec<ArgDoc> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let string = |name: &str| {
                field(item, name)
                    .and_then(text)
                    .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            };
            let flags = field(item, "flags");
            let has_flag = |flag: &str| match flags {
                Some(Value::Array(flags)) => flags.iter().any(|f| text(f) == Some(flag.as_bytes())),
                _ => false,
            };
            ArgDoc {
                kind: string("type").unwrap_or_default(),
                token: string("token"),
                optional: has_flag("optional"),
                multiple: has_flag("multiple"),
                children: field(item, "arguments").map(parse_args).unwrap_or_default(),
            }
        })
        .collect()
}

/// Every `token` value anywhere in a `COMMAND DOCS` reply (a nest of key/value arrays).
fn collect_tokens(value: &Value, tokens: &mut Vec<String>) {
    let items: Vec<&Value> = match value {
        Value::Array(items) | Value::Set(items) => items.iter().collect(),
        Value::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => return,
    };
    for pair in items.windows(2) {
        if text(pair[0]) == Some(b"token".as_slice()) {
            if let Some(token) = text(pair[1]) {
                tokens.push(String::from_utf8_lossy(token).into_owned());
            }
        }
    }
    for item in items {
        collect_tokens(item, tokens);
    }
}

fn text(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

fn create_typed_keys(connection: &mut redis::Connection, rng: &mut StdRng) -> Result<(), String> {
    let mut pipeline = redis::pipe();
    pipeline
        .cmd("SET")
        .arg("k:string")
        .arg("hello")
        .cmd("SET")
        .arg("k:int")
        .arg("42")
        .cmd("RPUSH")
        .arg("k:list")
        .arg(&["\"a\"", "\"b\"", "1", "2.5", "null"])
        .cmd("HSET")
        .arg("k:hash")
        .arg(&["\"f\"", "1", "\"g\"", "2"])
        .cmd("SADD")
        .arg("k:set")
        .arg(&["\"x\"", "\"y\""])
        .cmd("ZADD")
        .arg("k:zset")
        .arg(&["1", "a"])
        .cmd("XADD")
        .arg("k:stream")
        .arg(&["*", "f", "v"])
        .cmd("PFADD")
        .arg("k:hll-sparse")
        .arg(&["\"a\"", "\"b\"", "\"c\""])
        .cmd("SET")
        .arg("redlock:k")
        .arg("some-token")
        .arg("PX")
        .arg(600_000)
        .cmd("SET")
        .arg("redlock:k:fence")
        .arg("5")
        .cmd("SET")
        .arg("nextid:k")
        .arg("7")
        // A rate limit's TAT an hour ahead, as POTTERY.THROTTLE and redis-cell store it.
        .cmd("POTTERY.THROTTLE")
        .arg(&["k:tat", "9", "1", "3600", "1"])
        // A semaphore (limit 3) and a read-write lock with a reader and a waiting writer.
        .cmd("POTTERY.SEM.ACQUIRE")
        .arg(&["k:sem", "holder", "2", "3", "600000"])
        .cmd("POTTERY.RWLOCK.READ")
        .arg(&["k:rwlock", "reader", "600000"])
        .cmd("POTTERY.RWLOCK.WRITE")
        .arg(&["k:rwlock", "writer", "600000", "600000"]);
    let items: Vec<String> = (0..300).map(|n| format!("item-{n}")).collect();
    pipeline
        .cmd("POTTERY.BF.RESERVE")
        .arg(&["k:bloom", "0.01", "100"])
        .cmd("POTTERY.BF.MADD")
        .arg("k:bloom")
        .arg(&items);
    let dense: Vec<String> = (0..4000).map(|n| format!("\"e{n}\"")).collect();
    pipeline.cmd("PFADD").arg("k:hll-dense").arg(&dense);
    // A string that starts like an HLL but whose payload is garbage.
    let mut corrupt = b"HYLL".to_vec();
    corrupt.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
    pipeline.cmd("SET").arg("k:hll-corrupt").arg(corrupt);
    pipeline
        .query::<()>(connection)
        .map_err(|e| format!("could not create the typed keys: {e}"))
}

/// Arguments that follow the command's documented syntax, with plausible values, so that the
/// fuzzer also reaches the code behind a successful parse.
fn structured(args: &[ArgDoc], rng: &mut StdRng, out: &mut Vec<Vec<u8>>) {
    for arg in args {
        if arg.optional && rng.random_bool(0.5) {
            continue;
        }
        let repeats = if arg.multiple {
            rng.random_range(1..5)
        } else {
            1
        };
        for _ in 0..repeats {
            if let (Some(token), false) = (&arg.token, arg.kind == "pure-token") {
                out.push(token.clone().into_bytes());
            }
            match arg.kind.as_str() {
                "key" => out.push(key(rng)),
                "integer" => out.push(
                    match rng.random_range(0..10) {
                        0 => EDGE_NUMBERS[rng.random_range(0..EDGE_NUMBERS.len())].to_string(),
                        1..=2 => rng.random_range(-3i64..4).to_string(),
                        _ => rng.random_range(1i64..2000).to_string(),
                    }
                    .into_bytes(),
                ),
                "double" => out.push(format!("{}", rng.random_range(0.0001..0.5)).into_bytes()),
                "pure-token" => out.extend(arg.token.clone().map(String::into_bytes)),
                "oneof" if !arg.children.is_empty() => {
                    let choice = rng.random_range(0..arg.children.len());
                    structured(&arg.children[choice..=choice], rng, out)
                }
                "block" => structured(&arg.children, rng, out),
                _ => out.push(format!("item-{}", rng.random_range(0..500)).into_bytes()),
            }
        }
    }
}

fn arguments(
    shape: &Shape,
    shapes: &[Shape],
    chunks: &[(i64, Vec<u8>)],
    rng: &mut StdRng,
) -> Vec<Vec<u8>> {
    if shape.name.ends_with("loadchunk") && !chunks.is_empty() && rng.random_bool(0.6) {
        // A real dump chunk, maybe corrupted, maybe out of order, maybe into another key.
        let (iterator, data) = &chunks[rng.random_range(0..chunks.len())];
        let mut data = data.clone();
        for _ in 0..rng.random_range(0..4) {
            if !data.is_empty() {
                let at = rng.random_range(0..data.len());
                data[at] = rng.random();
            }
        }
        if rng.random_bool(0.2) {
            data.truncate(rng.random_range(0..=data.len()));
        }
        let iterator = if rng.random_bool(0.8) {
            *iterator
        } else {
            iterator.wrapping_add(rng.random_range(-64..64))
        };
        return vec![key(rng), iterator.to_string().into_bytes(), data];
    }
    if rng.random_bool(0.5) {
        let mut out = Vec::new();
        structured(&shape.args, rng, &mut out);
        return out;
    }
    let minimum = (shape.arity.unsigned_abs() as usize).saturating_sub(1);
    let count = if rng.random_bool(0.8) {
        if shape.arity > 0 {
            minimum
        } else {
            minimum + rng.random_range(0..6)
        }
    } else {
        rng.random_range(0..minimum + 4)
    };
    (1..=count as i64)
        .map(|position| {
            let is_key = shape.first_key > 0
                && position >= shape.first_key
                && position <= shape.last_key.max(shape.first_key)
                && shape.key_step > 0
                && (position - shape.first_key) % shape.key_step == 0;
            if is_key && rng.random_bool(0.9) {
                key(rng)
            } else {
                value(shape, shapes, rng)
            }
        })
        .collect()
}

fn key(rng: &mut StdRng) -> Vec<u8> {
    if rng.random_bool(0.8) {
        TYPED_KEYS[rng.random_range(0..TYPED_KEYS.len())]
            .as_bytes()
            .to_vec()
    } else {
        format!("k:new:{}", rng.random_range(0..50)).into_bytes()
    }
}

fn value(shape: &Shape, shapes: &[Shape], rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..100) {
        0..=29 if !shape.tokens.is_empty() => {
            let token = &shape.tokens[rng.random_range(0..shape.tokens.len())];
            if rng.random_bool(0.5) {
                token.to_ascii_lowercase().into_bytes()
            } else {
                token.clone().into_bytes()
            }
        }
        0..=59 => EDGE_NUMBERS[rng.random_range(0..EDGE_NUMBERS.len())]
            .as_bytes()
            .to_vec(),
        60..=64 => {
            let other = &shapes[rng.random_range(0..shapes.len())];
            match other.tokens.first() {
                Some(token) => token.clone().into_bytes(),
                None => other.name.clone().into_bytes(),
            }
        }
        65..=74 => {
            let number: i64 = rng.random();
            (number >> rng.random_range(0..63)).to_string().into_bytes()
        }
        75..=84 => "ключ-🔑-\u{0}-\u{7f}-\"quoted\"".as_bytes().to_vec(),
        85..=98 => (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
        _ => {
            // Rarely, a large argument.
            let mut large = vec![0u8; rng.random_range(1_000..200_000)];
            rng.fill(&mut large[..]);
            large
        }
    }
}
