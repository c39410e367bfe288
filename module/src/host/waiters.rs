//! The waiting room of blocking commands: clients parked per key, first come first served, and
//! handed what they wait for the moment it can be theirs.
//!
//! # API (for any blocking command: `POTTERY.LOCK`, `POTTERY.SEM.ACQUIRE`, `POTTERY.RWLOCK.READ`
//! and `POTTERY.RWLOCK.WRITE` with `BLOCK`)
//!
//! - Implement [`Claim`] for what a waiter waits for. [`Claim::try_claim`] takes it if it is
//!   free now and returns the waiter's reply ([`Claimed::Granted`]), or says it is not free
//!   ([`Claimed::Busy`], with the time it frees itself if it does, such as a lock's expiry).
//!   It runs in whatever context frees the key — the releasing command, a timer — so it
//!   writes through `host::write` like any command: effects with absolute expiry, signal,
//!   keyspace event. [`Claim::refused`] is the reply on timeout, and at once where a client
//!   cannot block (inside `MULTI`, a script, on a replica).
//! - In the blocking command: call [`serve`] first, so earlier waiters go before the caller,
//!   then try the claim; if busy and the caller asked to block, reply with [`park`]. Where
//!   one grant can leave room for more (a semaphore's permits), a caller that would fit must
//!   still not overtake waiters the head left behind: [`is_waited_on`] says whether any are.
//! - A command that frees something calls [`serve`] on its key after its own write; one by
//!   which a client gives up (a release naming its token) calls [`cancel`] for its waiters.
//! - Deletions, expiries, evictions, renames and moves of a key someone waits on (keyspace
//!   notifications), `FLUSHDB`/`FLUSHALL` and `SWAPDB` (server events), and the `retry_at` of
//!   a busy claim, wake the key's queue through a timer: writing from a notification is not
//!   safe, and a timer runs as its own execution unit whose effects replicate in order.
//!
//! Only the head of a queue is tried: a busy head keeps the waiters behind it waiting (no
//! one overtakes), a granted head lets the next one try at once (several waiters of a
//! semaphore can be served by one release). A waiter that times out or disconnects leaves its
//! queue; a granted one cannot be taken back (a client that vanished between the grant and
//! the reply leaves the lock to expire). Waiters are not persisted: after a restart or a
//! failover their clients retry. Redis's `RedisModule_BlockClientOnKeys` does not serve
//! clients waiting for a key to be *deleted* on Redis 7.0, hence a queue of our own over
//! `RedisModule_BlockClient`.

use crate::host::dispatch::reply_error;
use crate::host::stats;
use pottery_core::waiters::{Released, WaitQueues};
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString, RedisValue};
use std::collections::HashMap;
use std::ffi::{c_void, CStr};
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{LazyLock, Mutex, MutexGuard, TryLockError};

/// What a parked waiter waits for.
pub trait Claim: Send {
    /// Takes it if it is free now (writing and replicating like a command), else says it is
    /// busy. Runs in the context of whoever freed the key, with the key's database selected.
    fn try_claim(&self, ctx: &Context) -> Result<Claimed, CommandError>;

    /// The reply when the waiter gives up (timeout), is cancelled, or cannot wait at all.
    fn refused(&self) -> RedisValue;

    /// Whether this waiter is `owner`'s (a lock waiter's token), for [`cancel`].
    fn is_owned_by(&self, owner: &[u8]) -> bool;
}

/// The outcome of [`Claim::try_claim`].
pub enum Claimed {
    /// Taken: the waiter's reply.
    Granted(RedisValue),
    /// Not free; `retry_at` (Unix ms) when it frees itself without a command, if it does.
    Busy { retry_at: Option<i64> },
}

/// A key in one database.
#[derive(Clone, PartialEq, Eq, Hash)]
struct QueueKey {
    db: c_int,
    name: Vec<u8>,
}

/// A parked client and what it waits for.
struct Waiter {
    client: *mut raw::RedisModuleBlockedClient,
    claim: Box<dyn Claim>,
}

/// The queues and each waited-on key's wake-up timer (its id and due time).
#[derive(Default)]
struct Room {
    queues: WaitQueues<QueueKey, usize, Waiter>,
    timers: HashMap<QueueKey, (raw::RedisModuleTimerID, i64)>,
    released: Released<QueueKey>,
}

// SAFETY: the blocked-client handles are only used on Redis's main thread, where every
// command, timer and callback of the module runs; the mutex only satisfies `static`.
unsafe impl Send for Room {}

static ROOM: LazyLock<Mutex<Room>> = LazyLock::new(Mutex::default);

/// The room, unless it is in use further up this call stack (a bug, answered by not
/// waiting rather than by a deadlock of the server).
fn room() -> Option<MutexGuard<'static, Room>> {
    match ROOM.try_lock() {
        Ok(room) => Some(room),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The reply a granted waiter gets, handed over as the blocked client's private data.
type Outcome = Result<RedisValue, CommandError>;

fn now_ms() -> i64 {
    unsafe { raw::RedisModule_Milliseconds }.map_or(0, |milliseconds| unsafe { milliseconds() })
}

fn selected_db(ctx: &Context) -> c_int {
    unsafe { raw::RedisModule_GetSelectedDb }.map_or(0, |db| unsafe { db(ctx.ctx) })
}

fn queue_key(ctx: &Context, name: &[u8]) -> QueueKey {
    QueueKey {
        db: selected_db(ctx),
        name: name.to_vec(),
    }
}

/// Whether the calling client may block: not inside `MULTI` or a script, not while loading,
/// not on a replica (whose data only its master writes).
fn can_block(ctx: &Context) -> bool {
    let flags = unsafe { raw::RedisModule_GetContextFlags }
        .map_or(0, |flags| unsafe { flags(ctx.ctx) }) as u32;
    let forbidden = raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING
        | raw::REDISMODULE_CTX_FLAGS_LOADING
        | raw::REDISMODULE_CTX_FLAGS_SLAVE;
    flags & forbidden == 0
}

/// Parks the calling client on `key` for up to `timeout_ms` (0: no limit) behind the waiters
/// already there; its reply comes when `claim` is granted, or `claim.refused()` at the
/// timeout. `retry_at` is when the key frees itself (a lock's expiry), to look again then.
/// Where the client cannot block, replies `claim.refused()` at once.
pub fn park(
    ctx: &Context,
    key: &RedisString,
    timeout_ms: i64,
    retry_at: Option<i64>,
    claim: Box<dyn Claim>,
) -> Result<RedisValue, CommandError> {
    let Some(block) = (unsafe { raw::RedisModule_BlockClient }) else {
        return Ok(claim.refused());
    };
    if !can_block(ctx) {
        return Ok(claim.refused());
    }
    let Some(mut room) = room() else {
        return Ok(claim.refused());
    };
    let client = unsafe {
        block(
            ctx.ctx,
            Some(on_reply),
            Some(on_timeout),
            Some(free_outcome),
            timeout_ms,
        )
    };
    if client.is_null() {
        return Ok(claim.refused());
    }
    if let Some(set_disconnect) = unsafe { raw::RedisModule_SetDisconnectCallback } {
        unsafe { set_disconnect(client, Some(on_disconnect)) };
    }
    let key = queue_key(ctx, key.as_slice());
    room.queues
        .push(key.clone(), client as usize, Waiter { client, claim });
    room.arm(ctx, key, retry_at);
    stats::WAITS.increment();
    Ok(RedisValue::NoReply)
}

/// Grants `key` (in the caller's database) to its waiters, oldest first, while their claims
/// succeed. Call it after a write that may have freed the key, and before a blocking command
/// tries for itself.
pub fn serve(ctx: &Context, key: &RedisString) {
    if room().is_some_and(|room| room.queues.is_empty()) {
        return;
    }
    serve_key(ctx, &queue_key(ctx, key.as_slice()));
}

fn serve_key(ctx: &Context, key: &QueueKey) {
    loop {
        // The room is not held while a claim runs: its writes fire notifications that look
        // into the room.
        let Some((id, waiter)) = room().and_then(|mut room| room.queues.pop_front(key)) else {
            if let Some(mut room) = room() {
                room.disarm(ctx, key);
            }
            return;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| waiter.claim.try_claim(ctx)));
        let reply = match outcome {
            Ok(Ok(Claimed::Granted(reply))) => Ok(reply),
            Ok(Ok(Claimed::Busy { retry_at })) => {
                if let Some(mut room) = room() {
                    room.queues.push_front(key.clone(), id, waiter);
                    room.arm(ctx, key.clone(), retry_at);
                }
                return;
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(CommandError::Internal(
                "ERR internal error in the pottery module",
            )),
        };
        deliver(waiter.client, reply);
    }
}

/// `owner` gave up on `key` (its release names the token): its waiters there leave the queue
/// with their refusal, and a wait it asks for in the next [`RELEASED_FOR_MS`] ms is refused
/// at once (see [`was_released`]), so that a request the server reads after the release
/// cannot take a lock nobody will release.
///
/// [`RELEASED_FOR_MS`]: pottery_core::waiters::RELEASED_FOR_MS
pub fn cancel(ctx: &Context, key: &RedisString, owner: &[u8]) {
    let key = queue_key(ctx, key.as_slice());
    let cancelled = match room() {
        Some(mut room) => {
            room.released.remember(key.clone(), owner, now_ms());
            if !room.queues.is_waited_on(&key) {
                return;
            }
            let cancelled = room
                .queues
                .remove_where(&key, |waiter| waiter.claim.is_owned_by(owner));
            if !room.queues.is_waited_on(&key) {
                room.disarm(ctx, &key);
            }
            cancelled
        }
        None => return,
    };
    for (_, waiter) in cancelled {
        let refusal = waiter.claim.refused();
        deliver(waiter.client, Ok(refusal));
    }
}

/// Whether clients wait on `key` (in the caller's database): after [`serve`], those still
/// queued wait for something that is not free, and a new request must not pass them.
pub fn is_waited_on(ctx: &Context, key: &RedisString) -> bool {
    room().is_some_and(|room| {
        !room.queues.is_empty() && room.queues.is_waited_on(&queue_key(ctx, key.as_slice()))
    })
}

/// Whether `owner` gave up on `key` lately ([`cancel`]): a blocking command refuses its wait.
pub fn was_released(ctx: &Context, key: &RedisString, owner: &[u8]) -> bool {
    let key = queue_key(ctx, key.as_slice());
    room().is_some_and(|room| room.released.contains(&key, owner, now_ms()))
}

/// Unblocks `client` with `outcome` as its reply (sent by [`on_reply`]).
fn deliver(client: *mut raw::RedisModuleBlockedClient, outcome: Outcome) {
    if let Some(unblock) = unsafe { raw::RedisModule_UnblockClient } {
        let outcome = Box::into_raw(Box::new(outcome));
        unsafe { unblock(client, outcome.cast()) };
    }
}

impl Room {
    /// Makes sure the queue of `key` is looked at again by `at` (Unix ms; `None`: no need).
    /// An earlier timer already set does: it re-arms for the rest when it finds the key busy.
    fn arm(&mut self, ctx: &Context, key: QueueKey, at: Option<i64>) {
        let Some(at) = at else { return };
        if self.timers.get(&key).is_some_and(|&(_, due)| due <= at) {
            return;
        }
        self.disarm(ctx, &key);
        let (Some(create), Some(now)) = (unsafe { raw::RedisModule_CreateTimer }, Some(now_ms()))
        else {
            return;
        };
        // Redis deletes an expired key once its time has passed, so one millisecond after.
        let period = at.saturating_sub(now).saturating_add(1).max(0);
        let data = Box::into_raw(Box::new(key.clone()));
        let id = unsafe { create(ctx.ctx, period, Some(on_timer), data.cast()) };
        self.timers.insert(key, (id, at));
    }

    /// Stops the wake-up timer of `key`, if any.
    fn disarm(&mut self, ctx: &Context, key: &QueueKey) {
        let Some((id, _)) = self.timers.remove(key) else {
            return;
        };
        let Some(stop) = (unsafe { raw::RedisModule_StopTimer }) else {
            return;
        };
        let mut data: *mut c_void = std::ptr::null_mut();
        if unsafe { stop(ctx.ctx, id, &mut data) } == raw::REDISMODULE_OK as c_int
            && !data.is_null()
        {
            drop(unsafe { Box::from_raw(data.cast::<QueueKey>()) });
        }
    }

    /// Takes waiter `id` out of its queue (timed out or gone), stopping its key's timer when
    /// nobody is left there.
    fn leave(&mut self, ctx: &Context, id: usize) -> Option<Waiter> {
        let (key, waiter) = self.queues.remove(id)?;
        if !self.queues.is_waited_on(&key) {
            self.disarm(ctx, &key);
        }
        Some(waiter)
    }
}

/// A key's wake-up timer: serves its queue in the key's database.
extern "C" fn on_timer(ctx: *mut raw::RedisModuleCtx, data: *mut c_void) {
    if data.is_null() {
        return;
    }
    let key = unsafe { Box::from_raw(data.cast::<QueueKey>()) };
    let context = Context::new(ctx);
    if let Some(mut room) = room() {
        room.timers.remove(&key);
    }
    if let Some(select) = unsafe { raw::RedisModule_SelectDb } {
        if unsafe { select(ctx, key.db) } != raw::REDISMODULE_OK as c_int {
            return;
        }
    }
    serve_key(&context, &key);
}

/// Sends a granted waiter its reply.
extern "C" fn on_reply(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    let context = Context::new(ctx);
    let outcome = unsafe { raw::RedisModule_GetBlockedClientPrivateData }
        .map_or(std::ptr::null_mut(), |data| unsafe { data(ctx) })
        .cast::<Outcome>();
    // The outcome is freed by `free_outcome`; take its value out for the reply.
    let outcome = match unsafe { outcome.as_mut() } {
        Some(outcome) => std::mem::replace(outcome, Ok(RedisValue::NoReply)),
        None => Ok(RedisValue::Null),
    };
    match outcome {
        Ok(value) => context.reply(Ok(value)) as c_int,
        Err(error) => reply_error(&context, &error) as c_int,
    }
}

/// A waiter's time is up: it leaves the queue with its claim's refusal.
extern "C" fn on_timeout(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    let context = Context::new(ctx);
    let client = unsafe { raw::RedisModule_GetBlockedClientHandle }
        .map_or(std::ptr::null_mut(), |handle| unsafe { handle(ctx) });
    let waiter = room().and_then(|mut room| room.leave(&context, client as usize));
    let Some(waiter) = waiter else {
        // Not queued: already granted, whose reply is on its way.
        return context.reply(Ok(RedisValue::Null)) as c_int;
    };
    stats::WAIT_TIMEOUTS.increment();
    let status = context.reply(Ok(waiter.claim.refused())) as c_int;
    // Redis frees a timed-out blocked client only once the module unblocks it too.
    if let Some(unblock) = unsafe { raw::RedisModule_UnblockClient } {
        unsafe { unblock(waiter.client, std::ptr::null_mut()) };
    }
    status
}

/// A waiter's connection closed: it leaves the queue (unless it was granted already).
extern "C" fn on_disconnect(
    ctx: *mut raw::RedisModuleCtx,
    client: *mut raw::RedisModuleBlockedClient,
) {
    let context = Context::new(ctx);
    let waiter = room().and_then(|mut room| room.leave(&context, client as usize));
    if let (Some(waiter), Some(unblock)) = (waiter, unsafe { raw::RedisModule_UnblockClient }) {
        unsafe { unblock(waiter.client, std::ptr::null_mut()) };
    }
}

extern "C" fn free_outcome(_ctx: *mut raw::RedisModuleCtx, data: *mut c_void) {
    if !data.is_null() {
        drop(unsafe { Box::from_raw(data.cast::<Outcome>()) });
    }
}

/// A key someone waits on may have been freed by a command that knows nothing of the queue
/// (`DEL`, expiry, eviction, `RENAME`, `MOVE`): look at its queue from a timer. Our own
/// commands serve their keys themselves.
extern "C" fn on_key_event(
    ctx: *mut raw::RedisModuleCtx,
    _class: c_int,
    event: *const c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    if key.is_null() || room().is_none_or(|room| room.queues.is_empty()) {
        return 0;
    }
    if !event.is_null()
        && unsafe { CStr::from_ptr(event) }
            .to_bytes()
            .starts_with(b"pottery.")
    {
        return 0;
    }
    let Some(string_bytes) = (unsafe { raw::RedisModule_StringPtrLen }) else {
        return 0;
    };
    let mut length = 0usize;
    let bytes = unsafe { string_bytes(key, &mut length) };
    if bytes.is_null() {
        return 0;
    }
    let context = Context::new(ctx);
    // SAFETY: Redis hands a valid string for the duration of the callback.
    let name = unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), length) };
    let key = queue_key(&context, name);
    if let Some(mut room) = room() {
        if room.queues.is_waited_on(&key) {
            room.arm(&context, key, Some(now_ms()));
        }
    }
    0
}

/// `FLUSHDB`, `FLUSHALL` and `SWAPDB` change keys without per-key events: look at every queue.
extern "C" fn on_server_event(
    ctx: *mut raw::RedisModuleCtx,
    event: raw::RedisModuleEvent,
    subevent: u64,
    _data: *mut c_void,
) {
    if event.id == raw::REDISMODULE_EVENT_FLUSHDB
        && subevent != raw::REDISMODULE_SUBEVENT_FLUSHDB_END
    {
        return;
    }
    let context = Context::new(ctx);
    if let Some(mut room) = room() {
        let keys: Vec<QueueKey> = room.queues.keys().cloned().collect();
        let now = now_ms();
        for key in keys {
            room.arm(&context, key, Some(now));
        }
    }
}

/// Subscribes the room to the keyspace notifications and server events that free keys.
pub fn register(ctx: &Context) -> Result<(), String> {
    let (Some(subscribe_keys), Some(subscribe_server)) = (
        unsafe { raw::RedisModule_SubscribeToKeyspaceEvents },
        unsafe { raw::RedisModule_SubscribeToServerEvent },
    ) else {
        return Err("this Redis lacks keyspace or server event subscriptions".into());
    };
    let classes = raw::REDISMODULE_NOTIFY_GENERIC
        | raw::REDISMODULE_NOTIFY_EXPIRED
        | raw::REDISMODULE_NOTIFY_EVICTED;
    if unsafe { subscribe_keys(ctx.ctx, classes, Some(on_key_event)) }
        != raw::REDISMODULE_OK as c_int
    {
        return Err("could not subscribe to keyspace events".into());
    }
    for id in [
        raw::REDISMODULE_EVENT_FLUSHDB,
        raw::REDISMODULE_EVENT_SWAPDB,
    ] {
        let event = raw::RedisModuleEvent { id, dataver: 1 };
        if unsafe { subscribe_server(ctx.ctx, event, Some(on_server_event)) }
            != raw::REDISMODULE_OK as c_int
        {
            return Err("could not subscribe to FLUSHDB and SWAPDB".into());
        }
    }
    Ok(())
}
