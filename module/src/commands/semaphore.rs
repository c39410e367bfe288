//! The semaphore commands, `POTTERY.SEM.*`: permits held by named holders until their own
//! absolute expiry, in a hash (see `pottery_core::semaphore` for the layout and decisions).
//! RELEASE and EXTEND are the generic handlers of `super::holders`; ACQUIRE waits with
//! `BLOCK ms` through its [`acquire`](super::holders::acquire).

use super::holders::{self, after, inspect};
use super::{block_option, Request};
use pottery_core::catalog::SEM_ACQUIRE;
use pottery_core::holders::{holder as checked_holder, Queue};
use pottery_core::lock::ttl_ms;
use pottery_core::semaphore::{limit as checked_limit, permits as checked_permits, Semaphore};
use pottery_core::CommandError;
use redis_module::{Context, RedisValue};

/// `POTTERY.SEM.ACQUIRE key holder permits limit ttl_ms [BLOCK ms]`: `1` held, `0` not
/// enough free or others queue first (after waiting up to `ms` in the key's queue with
/// `BLOCK`; 0 waits without limit).
pub fn acquire(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let holder = checked_holder(parsed.next_bytes()?)?;
    let raw_permits = parsed.next_bytes()?;
    let limit = checked_limit(parsed.next_bytes()?)?;
    let permits = checked_permits(raw_permits, limit)?;
    let ttl = ttl_ms(parsed.next_bytes()?, SEM_ACQUIRE.name)?;
    let block = block_option(&mut parsed)?;
    parsed.finish()?;

    let decide = move |sem: &mut Semaphore, holder: &[u8], now, queue: Queue| {
        sem.acquire(holder, permits, limit, after(now, ttl)?, queue)
    };
    holders::acquire(ctx, name, SEM_ACQUIRE.name, holder, block, decide)
}

/// `POTTERY.SEM.AVAILABLE key limit`: the free permits.
pub fn available(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let limit = checked_limit(parsed.next_bytes()?)?;
    parsed.finish()?;

    let free = inspect(ctx, name, |sem: &Semaphore, _| sem.available(limit))?;
    Ok(RedisValue::Integer(free))
}

/// `POTTERY.SEM.INFO key`: `[limit, used, [[holder, permits, ms_left], ...]]` or nil.
pub fn info(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    request.args().finish()?;

    let Some(info) = inspect(ctx, name, |sem: &Semaphore, now| Ok(sem.info(now)))? else {
        return Ok(RedisValue::Null);
    };
    let holders = info
        .holders
        .into_iter()
        .map(|(holder, permits, ms_left)| {
            RedisValue::Array(vec![
                RedisValue::StringBuffer(holder),
                RedisValue::Integer(permits),
                RedisValue::Integer(ms_left),
            ])
        })
        .collect();
    Ok(RedisValue::Array(vec![
        RedisValue::Integer(info.limit),
        RedisValue::Integer(info.used),
        RedisValue::Array(holders),
    ]))
}
