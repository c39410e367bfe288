//! The read-write lock commands, `POTTERY.RWLOCK.*`: shared read holds, one exclusive write
//! hold and writers' intents, each until its own absolute expiry, in a hash (see
//! `pottery_core::rwlock` for the layout, the decisions and how writers avoid starvation).
//! RELEASE and EXTEND are the generic handlers of `super::holders`; READ and WRITE wait with
//! `BLOCK ms` through its [`acquire`](super::holders::acquire): a writer queued so keeps
//! later readers behind it, and its release lets the readers queued behind it in at once.

use super::holders::{self, after, inspect};
use super::{block_option, Request};
use pottery_core::catalog::{RWLOCK_READ, RWLOCK_WRITE};
use pottery_core::holders::{holder as checked_holder, Queue};
use pottery_core::lock::ttl_ms;
use pottery_core::rwlock::{intent_ms, RwLock};
use pottery_core::CommandError;
use redis_module::{Context, RedisValue};

/// `POTTERY.RWLOCK.READ key holder ttl_ms [BLOCK ms]`: `1` held, `0` refused (after waiting
/// up to `ms` in the key's queue with `BLOCK`; 0 waits without limit).
pub fn read(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let holder = checked_holder(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, RWLOCK_READ.name)?;
    let block = block_option(&mut parsed)?;
    parsed.finish()?;

    let decide = move |lock: &mut RwLock, holder: &[u8], now, queue: Queue| {
        lock.read(holder, after(now, ttl)?, queue)
    };
    holders::acquire(ctx, name, RWLOCK_READ.name, holder, block, decide)
}

/// `POTTERY.RWLOCK.WRITE key holder ttl_ms intent_ms [BLOCK ms]`: `1` held, `0` refused
/// (intent left unless `intent_ms` is 0; after waiting up to `ms` in the key's queue with
/// `BLOCK`).
pub fn write(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let holder = checked_holder(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, RWLOCK_WRITE.name)?;
    let intent = intent_ms(parsed.next_bytes()?)?;
    let block = block_option(&mut parsed)?;
    parsed.finish()?;

    // A parked writer's every retry leaves an intent for the `intent_ms` it sent.
    let decide = move |lock: &mut RwLock, holder: &[u8], now, queue: Queue| {
        let intent_until = match intent {
            0 => None,
            ms => Some(after(now, ms)?),
        };
        lock.write(holder, after(now, ttl)?, intent_until, queue)
    };
    holders::acquire(ctx, name, RWLOCK_WRITE.name, holder, block, decide)
}

/// `POTTERY.RWLOCK.INFO key`: `[[holder, read|write|wait, ms_left], ...]`.
pub fn info(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    request.args().finish()?;

    let holders = inspect(ctx, name, |lock: &RwLock, now| Ok(lock.info(now)))?
        .into_iter()
        .map(|(holder, kind, ms_left)| {
            RedisValue::Array(vec![
                RedisValue::StringBuffer(holder),
                RedisValue::StringBuffer(kind.tag().to_vec()),
                RedisValue::Integer(ms_left),
            ])
        })
        .collect();
    Ok(RedisValue::Array(holders))
}
