//! `POTTERY.BF.*`: the Bloom filter commands over the native type of
//! [`crate::keys::bloom_type`].
//!
//! Creation replicates as a command with every parameter explicit (`POTTERY.BF.INSERT key
//! CAPACITY c ERROR e EXPANSION x|NONSCALING ITEMS ...`, or `POTTERY.BF.RESERVE` with the same
//! for an empty filter), because the defaults come from configs a replica or an AOF reload may
//! not share. Writes to an existing filter are deterministic and replicate verbatim.

use super::Request;
use crate::host::write::{commit, Effect, Propagation};
use crate::host::{config, stats};
use crate::keys::bloom_key::{filter_mut, filter_ref, store, BloomKey};
use pottery_core::bloom::options::{chunk_start, parse_insert, parse_reserve, text};
use pottery_core::bloom::{
    check_capacity, format_error_rate, BloomError, BloomFilter, Growth, ItemHashes, Params,
};
use pottery_core::bloom_dump::{decode_header, scan, write_at, ChunkError, Scan};
use pottery_core::catalog::{BF_ADD, BF_INFO, BF_INSERT, BF_LOADCHUNK, BF_MADD, BF_RESERVE};
use pottery_core::integer::parse_i64;
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::key::RedisKeyWritable;
use redis_module::{raw, Context, ContextFlags, KeyType, NotifyEvent, RedisString, RedisValue};
use std::ops::Deref;
use std::os::raw::c_long;

const ITEM_EXISTS: CommandError = CommandError::Reply("ERR item exists");
const NOT_FOUND: CommandError = CommandError::Reply("ERR not found");

/// The explicit creation parameters as replication words them: `CAPACITY c ERROR e EXPANSION x`
/// or `... NONSCALING`.
fn creation_args(key: &RedisString, params: &Params) -> Vec<Vec<u8>> {
    let mut out = vec![
        key.as_slice().to_vec(),
        b"CAPACITY".to_vec(),
        params.capacity.to_string().into_bytes(),
        b"ERROR".to_vec(),
        format_error_rate(params.error_rate).into_bytes(),
    ];
    match params.growth {
        Growth::Scaling(expansion) => {
            out.push(b"EXPANSION".to_vec());
            out.push(expansion.to_string().into_bytes());
        }
        Growth::NonScaling => out.push(b"NONSCALING".to_vec()),
    }
    out
}

fn default_params() -> Result<Params, CommandError> {
    Ok(Params {
        capacity: check_capacity(config::default_capacity())?,
        error_rate: config::default_error_rate(),
        growth: config::default_growth(),
    })
}

/// `POTTERY.BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]`.
pub fn reserve(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let reserve = parse_reserve(BF_RESERVE.name, request.args().rest())?;
    let key = ctx.open_key_writable(name);
    match key.key_type() {
        KeyType::Empty => {}
        KeyType::Module if filter_mut(&key)?.is_some() => return Err(ITEM_EXISTS),
        _ => return Err(CommandError::WrongType),
    }
    let params = Params {
        capacity: reserve.capacity,
        error_rate: reserve.error_rate,
        growth: reserve.growth.unwrap_or_else(config::default_growth),
    };
    let filter = BloomFilter::new(params, config::max_bytes())?;
    store(&key, filter)?;
    let mut replicated = creation_args(name, &params);
    // RESERVE's own order: key error_rate capacity, then the growth words.
    replicated.drain(1..5);
    replicated.insert(1, format_error_rate(params.error_rate).into_bytes());
    replicated.insert(2, params.capacity.to_string().into_bytes());
    let replicated: Vec<&[u8]> = replicated.iter().map(Vec::as_slice).collect();
    commit(
        ctx,
        name,
        NotifyEvent::MODULE,
        BF_RESERVE.name,
        Propagation::Effects(&[Effect {
            command: "POTTERY.BF.RESERVE",
            args: &replicated,
        }]),
    );
    Ok(RedisValue::SimpleStringStatic("OK"))
}

/// The outcome of adding items, before it is replied.
struct Added {
    replies: Vec<Result<bool, BloomError>>,
    changed: bool,
}

/// Adds one item, counting a new sub-filter's bytes for `INFO pottery`.
fn insert_one(filter: &mut BloomFilter, item: &[u8]) -> Result<bool, BloomError> {
    let filters = filter.filters().len();
    let result = filter.insert(&ItemHashes::of(item), config::max_bytes());
    if filter.filters().len() != filters {
        let grown = filter
            .filters()
            .last()
            .map_or(0, |sub| sub.bytes.len() as u64);
        stats::bloom_grown(grown);
    }
    result
}

fn add_items<Item: Deref<Target = [u8]>>(filter: &mut BloomFilter, items: &[Item]) -> Added {
    let mut replies: Vec<Result<bool, BloomError>> = Vec::with_capacity(items.len());
    for item in items {
        let reply = insert_one(filter, item);
        let refused = reply.is_err();
        replies.push(reply);
        if refused {
            // As RedisBloom: the reply ends with the first item that does not fit, and the
            // items after it are not tried (they could fit only by chance, as duplicates).
            break;
        }
    }
    let changed = replies.iter().any(|reply| matches!(reply, Ok(true)));
    Added { replies, changed }
}

fn reply_of(result: &Result<bool, BloomError>) -> RedisValue {
    match result {
        // A boolean for RESP3 clients as in RedisBloom; RESP2 clients get 1 or 0.
        Ok(added) => RedisValue::Bool(*added),
        Err(error) => RedisValue::StaticError(error.text()),
    }
}

/// Adds `items` to the filter at `key` (named `name`), creating it with `create` when absent
/// (`None`: the key must exist), then replicates and notifies as `spec` if anything changed.
fn add_to<Item: Deref<Target = [u8]>>(
    ctx: &Context,
    key: &RedisKeyWritable,
    name: &RedisString,
    spec: &CommandSpec,
    items: &[Item],
    create: Option<Params>,
) -> Result<Added, CommandError> {
    let (filter, created) = match filter_mut(key)? {
        Some(filter) => (filter, None),
        None => {
            let params = create.ok_or(NOT_FOUND)?;
            store(key, BloomFilter::new(params, config::max_bytes())?)?;
            let filter = filter_mut(key)?.ok_or(CommandError::Internal(
                "ERR could not store the Bloom filter",
            ))?;
            (filter, Some(params))
        }
    };
    let added = add_items(filter, items);
    match created {
        Some(params) => {
            let mut replicated = creation_args(name, &params);
            replicated.push(b"ITEMS".to_vec());
            replicated.extend(items.iter().map(|item| item.to_vec()));
            let replicated: Vec<&[u8]> = replicated.iter().map(Vec::as_slice).collect();
            let effect = Effect {
                command: "POTTERY.BF.INSERT",
                args: &replicated,
            };
            let propagation = Propagation::Effects(std::slice::from_ref(&effect));
            commit(ctx, name, NotifyEvent::MODULE, spec.name, propagation);
        }
        None if added.changed => {
            commit(
                ctx,
                name,
                NotifyEvent::MODULE,
                spec.name,
                Propagation::Verbatim,
            );
        }
        None => {}
    }
    Ok(added)
}

/// `POTTERY.BF.ADD key item`. Adding to an existing filter, the hot path, allocates nothing.
pub fn add(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let item = parsed.next_item()?;
    parsed.finish()?;
    let mut hot = BloomKey::open(ctx, name, true);
    if let Some(filter) = hot.filter()? {
        let new = insert_one(filter, item)?;
        if new {
            commit(
                ctx,
                name,
                NotifyEvent::MODULE,
                BF_ADD.name,
                Propagation::Verbatim,
            );
        }
        return Ok(RedisValue::Bool(new));
    }
    drop(hot);
    let key = ctx.open_key_writable(name);
    let items = std::slice::from_ref(item);
    let added = add_to(ctx, &key, name, &BF_ADD, items, Some(default_params()?))?;
    match added.replies.first() {
        Some(Ok(new)) => Ok(RedisValue::Bool(*new)),
        Some(Err(error)) => Err((*error).into()),
        None => Err(CommandError::Syntax),
    }
}

/// `POTTERY.BF.MADD key item [item ...]`.
pub fn madd(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let items = request.args().rest();
    if items.is_empty() {
        return Err(CommandError::WrongArity {
            command: BF_MADD.name,
        });
    }
    let key = ctx.open_key_writable(name);
    let added = add_to(ctx, &key, name, &BF_MADD, items, Some(default_params()?))?;
    Ok(RedisValue::Array(
        added.replies.iter().map(reply_of).collect(),
    ))
}

/// `POTTERY.BF.INSERT key [CAPACITY c] [ERROR e] [EXPANSION n] [NOCREATE] [NONSCALING] ITEMS
/// item [item ...]`.
pub fn insert(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let insert = parse_insert(BF_INSERT.name, request.args().rest())?;
    let create = if insert.no_create {
        None
    } else {
        Some(Params {
            capacity: match insert.capacity {
                Some(capacity) => capacity,
                None => check_capacity(config::default_capacity())?,
            },
            error_rate: insert.error_rate.unwrap_or_else(config::default_error_rate),
            growth: insert.growth.unwrap_or_else(config::default_growth),
        })
    };
    let key = ctx.open_key_writable(name);
    let added = add_to(ctx, &key, name, &BF_INSERT, insert.items, create)?;
    Ok(RedisValue::Array(
        added.replies.iter().map(reply_of).collect(),
    ))
}

/// Whether `item` may be in the filter (a missing key has nothing), as a boolean for RESP3
/// clients like RedisBloom's; RESP2 clients get 1 or 0.
fn contains(filter: Option<&BloomFilter>, item: &[u8]) -> RedisValue {
    RedisValue::Bool(filter.is_some_and(|filter| filter.contains(&ItemHashes::of(item))))
}

/// `POTTERY.BF.EXISTS key item`.
pub fn exists(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let item = parsed.next_bytes()?;
    parsed.finish()?;
    let mut key = BloomKey::open(ctx, name, false);
    Ok(contains(key.filter()?.map(|filter| &*filter), item))
}

/// `POTTERY.BF.MEXISTS key item [item ...]`.
pub fn mexists(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let items = request.args().rest();
    let key = ctx.open_key(name);
    let filter = filter_ref(&key)?;
    Ok(RedisValue::Array(
        items.iter().map(|item| contains(filter, item)).collect(),
    ))
}

/// `POTTERY.BF.CARD key`.
pub fn card(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let key = ctx.open_key(name);
    let items = filter_ref(&key)?.map_or(0, BloomFilter::items);
    Ok(RedisValue::Integer(saturating_i64(items)))
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `POTTERY.BF.INFO key [CAPACITY|SIZE|FILTERS|ITEMS|EXPANSION]`, checked in RedisBloom's order:
/// the argument count, the key, then the field.
pub fn info(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let rest = request.args().rest();
    if rest.len() > 1 {
        return Err(CommandError::WrongArity {
            command: BF_INFO.name,
        });
    }
    let fields = [
        ("CAPACITY", "Capacity"),
        ("SIZE", "Size"),
        ("FILTERS", "Number of filters"),
        ("ITEMS", "Number of items inserted"),
        ("EXPANSION", "Expansion rate"),
    ];
    let key = ctx.open_key(name);
    let filter = filter_ref(&key)?.ok_or(NOT_FOUND)?;
    let shown = match rest.first() {
        None => 0..fields.len(),
        Some(word) => {
            let field = fields
                .iter()
                .position(|(keyword, _)| word.eq_ignore_ascii_case(keyword.as_bytes()))
                .ok_or(CommandError::Reply(text::INFO_FIELD))?;
            field..field + 1
        }
    };
    let values = [
        RedisValue::Integer(saturating_i64(filter.capacity())),
        RedisValue::Integer(saturating_i64(filter.bytes())),
        RedisValue::Integer(filter.filters().len() as i64),
        RedisValue::Integer(saturating_i64(filter.items())),
        filter
            .growth()
            .expansion()
            .map_or(RedisValue::Null, |x| RedisValue::Integer(i64::from(x))),
    ];
    let resp3 = ctx.get_flags().contains(ContextFlags::FLAGS_RESP3);
    if shown.len() == 1 && !resp3 {
        // RESP2 gets a field alone as `[value]`, as from RedisBloom.
        return Ok(RedisValue::Array(
            values.into_iter().skip(shown.start).take(1).collect(),
        ));
    }
    // A map for RESP3 clients, as RedisBloom replies (one entry for one field); Redis flattens
    // it into RedisBloom's flat array for RESP2 clients. Written field by field, because
    // `RedisValue`'s maps would sort or shuffle the fields.
    raw::reply_with_map(ctx.ctx, shown.len() as c_long);
    for ((_, label), value) in fields
        .iter()
        .zip(values)
        .skip(shown.start)
        .take(shown.len())
    {
        ctx.reply(Ok(RedisValue::SimpleStringStatic(label)));
        ctx.reply(Ok(value));
    }
    Ok(RedisValue::NoReply)
}

/// `POTTERY.BF.SCANDUMP key iterator`: the key is checked before the iterator, and a negative
/// iterator is past the end, as in RedisBloom.
pub fn scandump(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let iterator = parsed.next_bytes()?;
    parsed.finish()?;
    let key = ctx.open_key(name);
    let filter = filter_ref(&key)?.ok_or(NOT_FOUND)?;
    let iterator = parse_i64(iterator).ok_or(CommandError::Reply(text::SCANDUMP_ITERATOR))?;
    let (next, chunk) = match scan(filter, iterator) {
        Some(Scan::Header(header)) => (1, header),
        Some(Scan::Data(next, chunk)) => (next, chunk.to_vec()),
        Some(Scan::Done) | None => (0, Vec::new()),
    };
    Ok(RedisValue::Array(vec![
        RedisValue::Integer(next),
        RedisValue::StringBuffer(chunk),
    ]))
}

/// `POTTERY.BF.LOADCHUNK key iterator data`, refused in RedisBloom's order and words: the
/// iterator, the key (`ERR not found` unless the iterator is 1, the header), then the header
/// or the chunk's place. A header for an existing key is a data chunk at iterator 1, which
/// cannot fit (`ERR received bad data`), as in RedisBloom.
pub fn loadchunk(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let iterator =
        parse_i64(parsed.next_bytes()?).ok_or(CommandError::Reply(text::LOADCHUNK_ITERATOR))?;
    let data = parsed.next_bytes()?;
    parsed.finish()?;
    let key = ctx.open_key_writable(name);
    match filter_mut(&key)? {
        None if iterator == 1 => {
            let filter = decode_header(data, config::max_bytes()).map_err(|error| match error {
                // Ours: RedisBloom has no byte limit to report.
                ChunkError::TooLarge => CommandError::Reply(error.text()),
                ChunkError::Invalid => CommandError::Reply(text::BAD_DATA),
            })?;
            store(&key, filter)?;
        }
        None => return Err(NOT_FOUND),
        Some(filter) => {
            let start =
                chunk_start(iterator, data.len(), filter.bytes()).map_err(CommandError::Reply)?;
            if !data.is_empty() {
                write_at(filter, start, data)?;
            }
        }
    }
    commit(
        ctx,
        name,
        NotifyEvent::MODULE,
        BF_LOADCHUNK.name,
        Propagation::Verbatim,
    );
    Ok(RedisValue::SimpleStringStatic("OK"))
}
