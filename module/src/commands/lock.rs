//! The Redlock commands: one master's part of a distributed lock, and the fencing check for
//! the protected resource.
//!
//! Every write replicates its effect with an absolute expiry (`SET key token PXAT <ms>`,
//! `PEXPIREAT key <ms>`), computed once from the master's clock, so a replica or an AOF reload
//! expires the lock at the same instant as the master instead of a full TTL after replaying.

use super::Request;
use crate::host::stats;
use crate::host::write::{commit, touch, Effect, Propagation};
use crate::keys::counter_key::CounterKey;
use crate::keys::lock_key::{expiry_after, LockKey};
use pottery_core::catalog::{EXTEND, FENCE_CHECK, LOCK, LOCK_FENCE, LOCK_FENCED, UNLOCK};
use pottery_core::integer::{format_i64, MAX_I64_DIGITS};
use pottery_core::lock::{
    distinct_fence_key, fence, fence_after_lock, fence_check, lock as decide_lock, ms_left,
    token as checked_token, ttl_ms, Fence, FenceCheck, Lock,
};
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisString, RedisValue};

/// Makes the lock at `key` held by `token` until `expires_at`: stores the token for a new
/// holder, then sets the absolute expiry.
fn take_or_refresh(
    ctx: &Context,
    key: &LockKey,
    decision: Lock,
    token: &[u8],
    expires_at: i64,
) -> Result<(), CommandError> {
    if decision == Lock::Acquire {
        key.set_token(ctx, token)?;
    }
    key.expire_at(expires_at)
}

/// Replicates and announces a lock that was acquired (`SET key token PXAT at`) or refreshed
/// (`PEXPIREAT key at`), plus the fence counter's new value when there is one.
fn commit_lock(
    ctx: &Context,
    name: &RedisString,
    decision: Lock,
    token: &[u8],
    expires_at: i64,
    event: &str,
    fence_counter: Option<(&RedisString, i64)>,
) {
    let mut at_digits = [0u8; MAX_I64_DIGITS];
    let at = format_i64(expires_at, &mut at_digits);
    let key = name.as_slice();
    let set_args: [&[u8]; 4] = [key, token, b"PXAT", at];
    let expire_args: [&[u8]; 2] = [key, at];
    let lock_effect = if decision == Lock::Acquire {
        Effect {
            command: "SET",
            args: &set_args,
        }
    } else {
        Effect {
            command: "PEXPIREAT",
            args: &expire_args,
        }
    };
    let mut counter_digits = [0u8; MAX_I64_DIGITS];
    match fence_counter {
        None => commit(
            ctx,
            name,
            NotifyEvent::STRING,
            event,
            Propagation::Effects(&[lock_effect]),
        ),
        Some((fence_name, value)) => {
            let value = format_i64(value, &mut counter_digits);
            // KEEPTTL: the counter is written in place, keeping any TTL, as INCR would.
            let counter_args: [&[u8]; 3] = [fence_name.as_slice(), value, b"KEEPTTL"];
            let counter_effect = Effect {
                command: "SET",
                args: &counter_args,
            };
            commit(
                ctx,
                name,
                NotifyEvent::STRING,
                event,
                Propagation::Effects(&[lock_effect, counter_effect]),
            );
            touch(ctx, fence_name, NotifyEvent::STRING, event);
        }
    }
}

/// `POTTERY.LOCK key token ttl_ms`: `1` acquired or refreshed, `0` held by another token.
pub fn lock(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, LOCK.name)?;
    parsed.finish()?;

    let key = LockKey::open_writable(ctx, name)?;
    let decision = decide_lock(key.holder()?.as_deref(), token);
    if decision == Lock::Refuse {
        stats::LOCKS_REFUSED.increment();
        return Ok(RedisValue::Integer(0));
    }
    stats::LOCKS_GRANTED.increment();
    let expires_at = expiry_after(ttl)?;
    take_or_refresh(ctx, &key, decision, token, expires_at)?;
    commit_lock(ctx, name, decision, token, expires_at, LOCK.name, None);
    Ok(RedisValue::Integer(1))
}

/// `POTTERY.LOCK.FENCED key fencekey token ttl_ms`: the fence counter when held by `token`
/// (incremented on a new acquisition), `0` when held by another token.
pub fn lock_fenced(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let fence_name = request.key(1)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, LOCK_FENCED.name)?;
    parsed.finish()?;
    distinct_fence_key(name.as_slice(), fence_name.as_slice())?;

    let key = LockKey::open_writable(ctx, name)?;
    let counter_key = CounterKey::open(ctx, fence_name)?;
    // Read (and so validate) the counter before writing anything: an error leaves both keys
    // untouched.
    let counter = counter_key.get()?;
    let decision = decide_lock(key.holder()?.as_deref(), token);
    let new_counter = fence_after_lock(decision, counter)?;
    if decision == Lock::Refuse {
        stats::LOCKS_REFUSED.increment();
        return Ok(RedisValue::Integer(0));
    }
    stats::LOCKS_GRANTED.increment();
    let expires_at = expiry_after(ttl)?;
    take_or_refresh(ctx, &key, decision, token, expires_at)?;
    if let Some(value) = new_counter {
        counter_key.set(value)?;
    }
    commit_lock(
        ctx,
        name,
        decision,
        token,
        expires_at,
        LOCK_FENCED.name,
        new_counter.map(|value| (fence_name, value)),
    );
    Ok(RedisValue::Integer(new_counter.or(counter).unwrap_or(0)))
}

/// `POTTERY.LOCK.FENCE key fencekey token value`: `[1, value]`, `[0, current]` (counter above
/// value) or `[-1, current]` (lock not held by `token`).
pub fn lock_fence(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let fence_name = request.key(1)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let value = parsed.next_i64()?;
    parsed.finish()?;
    distinct_fence_key(name.as_slice(), fence_name.as_slice())?;

    let key = LockKey::open_readable(ctx, name)?;
    let counter_key = CounterKey::open(ctx, fence_name)?;
    let outcome = fence(key.is_held_by(token)?, counter_key.get()?, value);
    if let Fence::Set {
        value,
        changed: true,
    } = outcome
    {
        counter_key.set(value)?;
        commit(
            ctx,
            fence_name,
            NotifyEvent::STRING,
            LOCK_FENCE.name,
            Propagation::Verbatim,
        );
    }
    Ok(RedisValue::Array(
        outcome
            .reply()
            .into_iter()
            .map(RedisValue::Integer)
            .collect(),
    ))
}

/// `POTTERY.UNLOCK key token`: `1` deleted, `0` not held by `token`.
pub fn unlock(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    parsed.finish()?;

    let key = LockKey::open_writable(ctx, name)?;
    if !key.is_held_by(token)? {
        return Ok(RedisValue::Integer(0));
    }
    key.delete()?;
    let delete_args: [&[u8]; 1] = [name.as_slice()];
    commit(
        ctx,
        name,
        NotifyEvent::GENERIC,
        UNLOCK.name,
        Propagation::Effects(&[Effect {
            command: "DEL",
            args: &delete_args,
        }]),
    );
    Ok(RedisValue::Integer(1))
}

/// `POTTERY.EXTEND key token ttl_ms`: `1` extended, `0` not held by `token` (never re-creates).
pub fn extend(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, EXTEND.name)?;
    parsed.finish()?;

    let key = LockKey::open_writable(ctx, name)?;
    if !key.is_held_by(token)? {
        return Ok(RedisValue::Integer(0));
    }
    let expires_at = expiry_after(ttl)?;
    key.expire_at(expires_at)?;
    let mut at_digits = [0u8; MAX_I64_DIGITS];
    let expire_args: [&[u8]; 2] = [name.as_slice(), format_i64(expires_at, &mut at_digits)];
    commit(
        ctx,
        name,
        NotifyEvent::GENERIC,
        EXTEND.name,
        Propagation::Effects(&[Effect {
            command: "PEXPIREAT",
            args: &expire_args,
        }]),
    );
    Ok(RedisValue::Integer(1))
}

/// `POTTERY.LOCKED key token`: milliseconds left if held by `token`, `-1` held without expiry,
/// `0` not held by `token`.
pub fn locked(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    parsed.finish()?;

    let key = LockKey::open_readable(ctx, name)?;
    if !key.is_held_by(token)? {
        return Ok(RedisValue::Integer(0));
    }
    Ok(RedisValue::Integer(ms_left(key.remaining_ms()?)))
}

/// `POTTERY.LOCK.HOLDER key`: `[token, ms_left]`, or nil when nobody holds the lock.
pub fn lock_holder(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    request.args().finish()?;

    let key = LockKey::open_readable(ctx, name)?;
    let Some(holder) = key.holder()? else {
        return Ok(RedisValue::Null);
    };
    let holder = holder.to_vec();
    Ok(RedisValue::Array(vec![
        RedisValue::StringBuffer(holder),
        RedisValue::Integer(ms_left(key.remaining_ms()?)),
    ]))
}

/// `POTTERY.FENCE.CHECK key token`: `1` accepted (stored if above), `0` stale.
pub fn fence_check_command(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = parsed.next_i64()?;
    parsed.finish()?;

    let key = CounterKey::open(ctx, name)?;
    match fence_check(key.get()?, token) {
        FenceCheck::Stale => Ok(RedisValue::Integer(0)),
        FenceCheck::Accept { store } => {
            if store {
                key.set(token)?;
                commit(
                    ctx,
                    name,
                    NotifyEvent::STRING,
                    FENCE_CHECK.name,
                    Propagation::Verbatim,
                );
            }
            Ok(RedisValue::Integer(1))
        }
    }
}
