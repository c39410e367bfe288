//! Counters behind `INFO pottery`: how the module is being used, for operators.
//!
//! Redis runs commands on one thread, but RDB loading and `free` callbacks may run elsewhere
//! (lazyfree), so the counters are atomics.

use redis_module::raw;
use std::ffi::CStr;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A count that only grows.
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    /// Counts one more.
    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// `LOCK`/`LOCK.FENCED` that replied the lock is held by the caller (new or refreshed).
pub static LOCKS_GRANTED: Counter = Counter::new();
/// `LOCK`/`LOCK.FENCED` that found the lock held by another token.
pub static LOCKS_REFUSED: Counter = Counter::new();
/// Clients parked by a blocking command (`LOCK`, `SEM.ACQUIRE`, `RWLOCK.READ`/`WRITE` with
/// `BLOCK`) because what they asked for was taken.
pub static WAITS: Counter = Counter::new();
/// Parked clients whose wait ran out.
pub static WAIT_TIMEOUTS: Counter = Counter::new();
/// `NEXTID.CLAIM` that stored the proposal.
pub static CLAIMS_WON: Counter = Counter::new();
/// `NEXTID.CLAIM` that did not.
pub static CLAIMS_LOST: Counter = Counter::new();
/// IDs handed out by `POTTERY.NEXTID`.
pub static NEXTID_INCREMENTS: Counter = Counter::new();
/// `POTTERY.THROTTLE` requests allowed (peeks included) and limited.
pub static THROTTLE_ALLOWED: Counter = Counter::new();
pub static THROTTLE_LIMITED: Counter = Counter::new();

/// Bytes of Bloom filter bit arrays held by this server (all keys, all sub-filters).
static BLOOM_BYTES: AtomicI64 = AtomicI64::new(0);
/// Bloom filters held by this server.
static BLOOM_FILTERS: AtomicI64 = AtomicI64::new(0);

/// A filter of `bytes` came into being (created, loaded or copied).
pub fn bloom_created(bytes: u64) {
    BLOOM_FILTERS.fetch_add(1, Ordering::Relaxed);
    bloom_grown(bytes);
}

/// An existing filter grew by `bytes` (a new sub-filter).
pub fn bloom_grown(bytes: u64) {
    BLOOM_BYTES.fetch_add(i64::try_from(bytes).unwrap_or(i64::MAX), Ordering::Relaxed);
}

/// A filter of `bytes` was freed.
pub fn bloom_freed(bytes: u64) {
    BLOOM_FILTERS.fetch_sub(1, Ordering::Relaxed);
    BLOOM_BYTES.fetch_sub(i64::try_from(bytes).unwrap_or(i64::MAX), Ordering::Relaxed);
}

/// The `INFO pottery` callback: one section whose fields Redis prefixes with `pottery_`.
pub extern "C" fn info(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    let unsigned: [(&CStr, u64); 7] = [
        (c"locks_granted", LOCKS_GRANTED.get()),
        (c"locks_refused", LOCKS_REFUSED.get()),
        (c"waits", WAITS.get()),
        (c"wait_timeouts", WAIT_TIMEOUTS.get()),
        (c"claims_won", CLAIMS_WON.get()),
        (c"claims_lost", CLAIMS_LOST.get()),
        (c"nextid_increments", NEXTID_INCREMENTS.get()),
    ];
    let throttle: [(&CStr, u64); 2] = [
        (c"throttle_allowed", THROTTLE_ALLOWED.get()),
        (c"throttle_limited", THROTTLE_LIMITED.get()),
    ];
    let gauges: [(&CStr, i64); 2] = [
        (c"bloom_filters", BLOOM_FILTERS.load(Ordering::Relaxed)),
        (c"bloom_bytes", BLOOM_BYTES.load(Ordering::Relaxed)),
    ];
    // SAFETY: Redis calls this with a valid info context; the names are NUL-terminated.
    unsafe {
        let (Some(section), Some(add_unsigned), Some(add_signed)) = (
            raw::RedisModule_InfoAddSection,
            raw::RedisModule_InfoAddFieldULongLong,
            raw::RedisModule_InfoAddFieldLongLong,
        ) else {
            return;
        };
        if section(ctx, c"".as_ptr().cast_mut()) != raw::Status::Ok as c_int {
            return;
        }
        for (name, value) in unsigned.into_iter().chain(throttle) {
            add_unsigned(ctx, name.as_ptr().cast_mut(), value);
        }
        for (name, value) in gauges {
            add_signed(ctx, name.as_ptr().cast_mut(), value);
        }
    }
}

/// Makes [`info`] the module's `INFO` callback.
pub fn register(ctx: &redis_module::Context) -> Result<(), String> {
    let register = unsafe { raw::RedisModule_RegisterInfoFunc }
        .ok_or("this Redis lacks RedisModule_RegisterInfoFunc")?;
    if unsafe { register(ctx.ctx, Some(info)) } != raw::Status::Ok as c_int {
        return Err("could not register the INFO callback".into());
    }
    Ok(())
}
