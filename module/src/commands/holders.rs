//! What the semaphore and read-write lock commands share: reading a hash of holders at the
//! server's time, applying, replicating and announcing what a command changed, and waiting
//! with `BLOCK ms` in the key's first-come-first-served queue ([`acquire`]).
//!
//! The effect is replicated, not the command (which reads the clock): `HDEL` of the pruned and
//! released holders, `HSET` of the written ones, `PEXPIREAT` of the key at the latest holder
//! expiry; or `DEL` once no holder is left. A replica or an AOF reload thus holds the same
//! fields and expires the key at the same instant as the master.

use super::Request;
use crate::host::waiters::{self, Claim, Claimed};
use crate::host::write::{commit, Effect, Propagation};
use crate::keys::hash_key::{Fields, HashKey};
use crate::keys::lock_key::now_ms;
use pottery_core::holders::{holder as checked_holder, Changes, Holders, Queue};
use pottery_core::integer::{format_i64, MAX_I64_DIGITS};
use pottery_core::lock::ttl_ms;
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisString, RedisValue};
use std::marker::PhantomData;

/// Runs one write command on the object at `name`: loads it at the server's time, lets
/// `decide` change it (given that time), then applies, replicates and announces what changed.
pub fn update<S: Holders, R>(
    ctx: &Context,
    name: &RedisString,
    event: &str,
    decide: impl FnOnce(&mut S, i64) -> Result<R, CommandError>,
) -> Result<R, CommandError> {
    let key = HashKey::open_writable(ctx, name)?;
    let (fields, now) = (key.fields()?, now_ms()?);
    let mut state = S::load(pairs(&fields), now)?;
    let outcome = decide(&mut state, now)?;
    apply(ctx, &key, name, state.changes(), event)?;
    Ok(outcome)
}

/// Runs one read-only command on the object at `name`, loaded at the server's time (expired
/// holders are skipped, not pruned).
pub fn inspect<S: Holders, R>(
    ctx: &Context,
    name: &RedisString,
    look: impl FnOnce(&S, i64) -> Result<R, CommandError>,
) -> Result<R, CommandError> {
    let key = HashKey::open_readable(ctx, name)?;
    let (fields, now) = (key.fields()?, now_ms()?);
    look(&S::load(pairs(&fields), now)?, now)
}

/// One attempt of a blocking holders command's request for `holder` on the object at `name`:
/// `decide` is the command's decision (given whether others queue ahead), written, replicated
/// and announced as `event` like any command. Granted (`1`), or busy until the first hold of
/// another ends by itself.
fn attempt<S: Holders>(
    ctx: &Context,
    name: &RedisString,
    event: &str,
    holder: &[u8],
    queue: Queue,
    decide: &impl Decide<S>,
) -> Result<Claimed, CommandError> {
    update(ctx, name, event, |object: &mut S, now| {
        Ok(if decide(object, holder, now, queue)? {
            Claimed::Granted(RedisValue::Integer(1))
        } else {
            Claimed::Busy {
                retry_at: object.frees_at(holder),
            }
        })
    })
}

/// The decision of a blocking holders command (`SEM.ACQUIRE`, `RWLOCK.READ`/`WRITE`) for a
/// holder at a time (Unix ms), given whether others queue ahead: whether the holder holds now.
/// A waiting request keeps it to decide again.
pub trait Decide<S>:
    Fn(&mut S, &[u8], i64, Queue) -> Result<bool, CommandError> + Send + 'static
{
}

impl<S, F> Decide<S> for F where
    F: Fn(&mut S, &[u8], i64, Queue) -> Result<bool, CommandError> + Send + 'static
{
}

/// A client parked by a blocking holders command: its request, decided again through the
/// same write path whenever the key may have freed (a release, an expiry inside the hash, a
/// deletion). It runs as the head of the queue, so nobody queues ahead of it. The timeout
/// reply is `0`, the same as a refusal.
struct HoldClaim<S, F> {
    name: Vec<u8>,
    holder: Vec<u8>,
    event: &'static str,
    decide: F,
    object: PhantomData<fn(&mut S)>,
}

impl<S: Holders + 'static, F: Decide<S>> Claim for HoldClaim<S, F> {
    fn try_claim(&self, ctx: &Context) -> Result<Claimed, CommandError> {
        // Not `ctx.create_string`: it goes through a C string and would panic on a NUL byte.
        let name = RedisString::create_from_slice(ctx.ctx, &self.name);
        attempt(
            ctx,
            &name,
            self.event,
            &self.holder,
            Queue::Clear,
            &self.decide,
        )
    }

    fn refused(&self) -> RedisValue {
        RedisValue::Integer(0)
    }

    fn is_owned_by(&self, owner: &[u8]) -> bool {
        self.holder == owner
    }
}

/// A blocking holders command after parsing: `1` held, `0` refused (at once without `block`,
/// else after waiting up to `block` ms in the key's queue, 0 without limit). Earlier waiters
/// are served first; while some still wait, a new holder queues behind them (or is refused)
/// even if what it asks for is free, so a request for one permit never passes a waiter for
/// three. A request of a holder released lately comes late and is refused at once.
pub fn acquire<S: Holders + 'static>(
    ctx: &Context,
    name: &RedisString,
    event: &'static str,
    holder: &[u8],
    block: Option<i64>,
    decide: impl Decide<S>,
) -> Result<RedisValue, CommandError> {
    if block.is_some() && waiters::was_released(ctx, name, holder) {
        return Ok(RedisValue::Integer(0));
    }
    waiters::serve(ctx, name);
    let queue = if waiters::is_waited_on(ctx, name) {
        Queue::Waited
    } else {
        Queue::Clear
    };
    match attempt(ctx, name, event, holder, queue, &decide)? {
        Claimed::Granted(reply) => Ok(reply),
        Claimed::Busy { retry_at } => match block {
            None => Ok(RedisValue::Integer(0)),
            Some(timeout) => {
                let claim = HoldClaim {
                    name: name.as_slice().to_vec(),
                    holder: holder.to_vec(),
                    event,
                    decide,
                    object: PhantomData,
                };
                waiters::park(ctx, name, timeout, retry_at, Box::new(claim))
            }
        },
    }
}

/// `<RELEASE> key holder` for any object in the holders layout: `1` released, `0` held
/// nothing. Either way a waiter of `holder` queued on `key` is answered `0` and leaves (a
/// `BLOCK` request of `holder` in the next 30 s is refused as a late one), and what the
/// release freed goes to the key's waiters, oldest first, in this same command.
pub fn release<S: Holders>(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let holder = checked_holder(parsed.next_bytes()?)?;
    parsed.finish()?;

    let released = update(ctx, name, request.command(), |state: &mut S, _| {
        Ok(state.release(holder))
    })?;
    waiters::cancel(ctx, name, holder);
    // Also after a release that found nothing: a hold pruned as expired frees room too.
    waiters::serve(ctx, name);
    Ok(RedisValue::Integer(i64::from(released)))
}

/// `<EXTEND> key holder ttl_ms` for any object in the holders layout: `1` extended, `0` not
/// held (never re-creates a hold).
pub fn extend<S: Holders>(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let holder = checked_holder(parsed.next_bytes()?)?;
    let ttl = ttl_ms(parsed.next_bytes()?, request.command())?;
    parsed.finish()?;

    let extended = update(ctx, name, request.command(), |state: &mut S, now| {
        Ok(state.extend(holder, after(now, ttl)?))
    })?;
    Ok(RedisValue::Integer(i64::from(extended)))
}

fn pairs(fields: &Fields) -> impl Iterator<Item = (&[u8], &[u8])> {
    fields
        .iter()
        .map(|(field, value)| (field.as_slice(), value.as_slice()))
}

/// `now + ttl_ms`, checked (`ttl_ms` is at most 2^40, so only an absurd clock overflows).
pub fn after(now: i64, ttl_ms: i64) -> Result<i64, CommandError> {
    now.checked_add(ttl_ms).ok_or(CommandError::Internal(
        "ERR the server clock is out of range",
    ))
}

/// Writes `changes` (if any) to `key` at `name`, then replicates, signals and fires `event`.
fn apply(
    ctx: &Context,
    key: &HashKey,
    name: &RedisString,
    changes: Option<Changes>,
    event: &str,
) -> Result<(), CommandError> {
    let Some(changes) = changes else {
        return Ok(());
    };
    key.apply(&changes)?;
    let key_name = name.as_slice();
    let Some(expire_at) = changes.expire_at else {
        let delete_args: [&[u8]; 1] = [key_name];
        let effects = [Effect {
            command: "DEL",
            args: &delete_args,
        }];
        commit(
            ctx,
            name,
            NotifyEvent::GENERIC,
            event,
            Propagation::Effects(&effects),
        );
        return Ok(());
    };
    let mut removed_args: Vec<&[u8]> = Vec::with_capacity(changes.removed.len() + 1);
    removed_args.push(key_name);
    removed_args.extend(changes.removed.iter().map(Vec::as_slice));
    let mut written_args: Vec<&[u8]> = Vec::with_capacity(changes.written.len() * 2 + 1);
    written_args.push(key_name);
    for (field, value) in &changes.written {
        written_args.extend([field.as_slice(), value.as_slice()]);
    }
    let mut digits = [0u8; MAX_I64_DIGITS];
    let expire_args: [&[u8]; 2] = [key_name, format_i64(expire_at, &mut digits)];
    let mut effects = Vec::with_capacity(3);
    if !changes.removed.is_empty() {
        effects.push(Effect {
            command: "HDEL",
            args: &removed_args,
        });
    }
    if !changes.written.is_empty() {
        effects.push(Effect {
            command: "HSET",
            args: &written_args,
        });
    }
    effects.push(Effect {
        command: "PEXPIREAT",
        args: &expire_args,
    });
    commit(
        ctx,
        name,
        NotifyEvent::HASH,
        event,
        Propagation::Effects(&effects),
    );
    Ok(())
}
