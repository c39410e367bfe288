//! The Redlock commands: one master's part of a distributed lock, and the fencing check for
//! the protected resource.
//!
//! Every write replicates its effect with an absolute expiry (`SET key token PXAT <ms>`,
//! `PEXPIREAT key <ms>`), computed once from the master's clock, so a replica or an AOF reload
//! expires the lock at the same instant as the master instead of a full TTL after replaying.
//!
//! `LOCK ... BLOCK ms` parks a refused caller in the key's first-come-first-served queue
//! (`host::waiters`); `UNLOCK`, an expiry or a deletion hands the lock to the oldest waiter,
//! written and replicated (`SET key token PXAT <ms>`) in that same step, so nobody slips in.

use super::{block_option, Request};
use crate::host::stats;
use crate::host::waiters::{self, Claim, Claimed};
use crate::host::write::{commit, touch, Effect, Propagation};
use crate::keys::counter_key::CounterKey;
use crate::keys::lock_key::{expiry_after, now_ms, LockKey};
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

/// One acquisition attempt's outcome.
enum Attempt {
    /// Held by the caller now (new or refreshed): the command's reply, `1` for `LOCK`, the
    /// fence counter for `LOCK.FENCED`.
    Granted(i64),
    /// Held by another token, until this absolute time if it has a TTL.
    Held { expires_at: Option<i64> },
}

/// Takes or refreshes the lock at `name` for `token`, with the fence counter at `fence_name`
/// when there is one; announces it as `event`. Shared by the commands and by their parked
/// waiters ([`LockClaim`]), so a grant after a wait writes and replicates exactly what an
/// immediate one does.
fn attempt(
    ctx: &Context,
    name: &RedisString,
    fence_name: Option<&RedisString>,
    token: &[u8],
    ttl: i64,
    event: &str,
) -> Result<Attempt, CommandError> {
    let key = LockKey::open_writable(ctx, name)?;
    let counter_key = fence_name
        .map(|fence| CounterKey::open(ctx, fence))
        .transpose()?;
    // Read (and so validate) the counter before writing anything: an error leaves both keys
    // untouched.
    let counter = match &counter_key {
        Some(counter_key) => counter_key.get()?,
        None => None,
    };
    let decision = decide_lock(key.holder()?.as_deref(), token);
    let new_counter = match counter_key {
        Some(_) => fence_after_lock(decision, counter)?,
        None => None,
    };
    if decision == Lock::Refuse {
        let expires_at = match key.remaining_ms()? {
            Some(left) => Some(now_ms()?.saturating_add(left)),
            None => None,
        };
        return Ok(Attempt::Held { expires_at });
    }
    stats::LOCKS_GRANTED.increment();
    let expires_at = expiry_after(ttl)?;
    take_or_refresh(ctx, &key, decision, token, expires_at)?;
    if let (Some(counter_key), Some(value)) = (&counter_key, new_counter) {
        counter_key.set(value)?;
    }
    let fenced = fence_name.zip(new_counter);
    commit_lock(ctx, name, decision, token, expires_at, event, fenced);
    Ok(Attempt::Granted(match fence_name {
        None => 1,
        Some(_) => new_counter.or(counter).unwrap_or(0),
    }))
}

/// A client parked by `LOCK ... BLOCK` (or `LOCK.FENCED ... BLOCK`): its attempt, retried
/// when the lock is released, expires or is deleted. The timeout reply is `0`, the same as
/// "held by another", so a client reads both forms alike.
struct LockClaim {
    name: Vec<u8>,
    fence_name: Option<Vec<u8>>,
    token: Vec<u8>,
    ttl: i64,
    event: &'static str,
}

impl Claim for LockClaim {
    fn try_claim(&self, ctx: &Context) -> Result<Claimed, CommandError> {
        // Not `ctx.create_string`: it goes through a C string and would panic on a NUL byte.
        let name = RedisString::create_from_slice(ctx.ctx, &self.name);
        let fence_name = self
            .fence_name
            .as_ref()
            .map(|fence| RedisString::create_from_slice(ctx.ctx, fence));
        let attempt = attempt(
            ctx,
            &name,
            fence_name.as_ref(),
            &self.token,
            self.ttl,
            self.event,
        )?;
        Ok(match attempt {
            Attempt::Granted(reply) => Claimed::Granted(RedisValue::Integer(reply)),
            Attempt::Held { expires_at } => Claimed::Busy {
                retry_at: expires_at,
            },
        })
    }

    fn refused(&self) -> RedisValue {
        stats::LOCKS_REFUSED.increment();
        RedisValue::Integer(0)
    }

    fn is_owned_by(&self, owner: &[u8]) -> bool {
        self.token == owner
    }
}

/// Both lock commands after parsing: earlier waiters first, then the caller's attempt, then
/// (if refused and asked to) the caller's wait in the key's queue.
fn acquire(
    ctx: &Context,
    name: &RedisString,
    fence_name: Option<&RedisString>,
    token: &[u8],
    ttl: i64,
    block: Option<i64>,
    event: &'static str,
) -> Result<RedisValue, CommandError> {
    // A waiting request of a token released lately came late (the client gave up on it):
    // it must not take the lock.
    if block.is_some() && waiters::was_released(ctx, name, token) {
        stats::LOCKS_REFUSED.increment();
        return Ok(RedisValue::Integer(0));
    }
    // A lock that expired or was deleted while clients waited is theirs, not the caller's.
    waiters::serve(ctx, name);
    match attempt(ctx, name, fence_name, token, ttl, event)? {
        Attempt::Granted(reply) => Ok(RedisValue::Integer(reply)),
        Attempt::Held { expires_at } => {
            let claim = LockClaim {
                name: name.as_slice().to_vec(),
                fence_name: fence_name.map(|fence| fence.as_slice().to_vec()),
                token: token.to_vec(),
                ttl,
                event,
            };
            match block {
                None => Ok(claim.refused()),
                Some(timeout) => waiters::park(ctx, name, timeout, expires_at, Box::new(claim)),
            }
        }
    }
}

/// `POTTERY.LOCK key token ttl_ms [BLOCK ms]`: `1` acquired or refreshed, `0` held by another
/// token (after waiting up to `ms` in the key's queue with `BLOCK`; 0 waits without limit).
pub fn lock(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, LOCK.name)?;
    let block = block_option(&mut parsed)?;
    parsed.finish()?;
    acquire(ctx, name, None, token, ttl, block, LOCK.name)
}

/// `POTTERY.LOCK.FENCED key fencekey token ttl_ms [BLOCK ms]`: the fence counter when held by
/// `token` (incremented on a new acquisition), `0` when held by another token.
pub fn lock_fenced(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let fence_name = request.key(1)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, LOCK_FENCED.name)?;
    let block = block_option(&mut parsed)?;
    parsed.finish()?;
    distinct_fence_key(name.as_slice(), fence_name.as_slice())?;
    acquire(
        ctx,
        name,
        Some(fence_name),
        token,
        ttl,
        block,
        LOCK_FENCED.name,
    )
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

/// `POTTERY.UNLOCK key token`: `1` deleted, `0` not held by `token`. Either way a waiter of
/// `token` queued on `key` is answered `0` and leaves, and a `BLOCK` request of `token` in
/// the next 30 s is refused (it can only be a late one of a client that gave up).
pub fn unlock(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let token = checked_token(parsed.next_bytes()?)?;
    parsed.finish()?;

    // A client that releases gives up on any wait of its token too (a Redlock attempt that
    // fell short of a majority may still be queued on this master).
    waiters::cancel(ctx, name, token);
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
    // The next waiter takes the lock in this same command: nobody can slip in between.
    waiters::serve(ctx, name);
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
