//! Lock keys: plain Redis strings holding the holder's token, with an absolute expiry.
//!
//! The safe `redis-module` key types offer only relative expiry and `&str` values, while a lock
//! needs binary tokens and absolute expiry times (replicated as `PXAT`/`PEXPIREAT`), so this
//! builds on the raw [`StringKey`]. Every raw call is checked for presence instead of
//! unwrapped: a missing API entry becomes an error reply, never a panic inside Redis.

use super::string_key::{StringKey, StringValue, MISSING_API};
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::os::raw::c_int;
use std::ptr::NonNull;

/// Redis's `REDISMODULE_NO_EXPIRE`: a key without a TTL.
const NO_EXPIRE: i64 = -1;

const WRITE_FAILED: CommandError = CommandError::Internal("ERR could not write the lock key");

/// A lock key: a string or absent, opened for reading or for reading and writing.
pub struct LockKey<'a> {
    key: StringKey<'a>,
}

impl<'a> LockKey<'a> {
    /// Opens `name` for reading and writing; `WRONGTYPE` unless it is a string or absent.
    pub fn open_writable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<LockKey<'a>, CommandError> {
        StringKey::open_writable(ctx, name).map(|key| LockKey { key })
    }

    /// Opens `name` for reading only; `WRONGTYPE` unless it is a string or absent.
    pub fn open_readable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<LockKey<'a>, CommandError> {
        StringKey::open_readable(ctx, name).map(|key| LockKey { key })
    }

    fn writable(&self) -> Result<NonNull<raw::RedisModuleKey>, CommandError> {
        self.key.handle().ok_or(WRITE_FAILED)
    }

    /// The token the key holds, `None` when absent; reading leaves the value's encoding alone.
    pub fn holder(&self) -> Result<Option<StringValue<'_>>, CommandError> {
        self.key.value()
    }

    /// Whether the key holds exactly `token`.
    pub fn is_held_by(&self, token: &[u8]) -> Result<bool, CommandError> {
        Ok(self.holder()?.as_deref() == Some(token))
    }

    /// Milliseconds until the key expires, `None` without a TTL (or when absent).
    pub fn remaining_ms(&self) -> Result<Option<i64>, CommandError> {
        let Some(key) = self.key.handle() else {
            return Ok(None);
        };
        let get_expire = unsafe { raw::RedisModule_GetExpire }.ok_or(MISSING_API)?;
        let remaining = unsafe { get_expire(key.as_ptr()) };
        Ok((remaining != NO_EXPIRE).then_some(remaining))
    }

    /// Stores `token` (replacing any value and dropping any TTL).
    pub fn set_token(&self, ctx: &Context, token: &[u8]) -> Result<(), CommandError> {
        let key = self.writable()?;
        // Not `ctx.create_string`: it goes through a C string and would panic on a NUL byte.
        let value = RedisString::create_from_slice(ctx.ctx, token);
        let set = unsafe { raw::RedisModule_StringSet }.ok_or(MISSING_API)?;
        match unsafe { set(key.as_ptr(), value.inner) } {
            status if status == raw::REDISMODULE_OK as c_int => Ok(()),
            _ => Err(WRITE_FAILED),
        }
    }

    /// Sets the key to expire at `at_ms` (Unix time in milliseconds).
    pub fn expire_at(&self, at_ms: i64) -> Result<(), CommandError> {
        self.key.expire_at(at_ms)
    }

    /// Deletes the key.
    pub fn delete(&self) -> Result<(), CommandError> {
        let key = self.writable()?;
        let delete = unsafe { raw::RedisModule_DeleteKey }.ok_or(MISSING_API)?;
        match unsafe { delete(key.as_ptr()) } {
            status if status == raw::REDISMODULE_OK as c_int => Ok(()),
            _ => Err(WRITE_FAILED),
        }
    }
}

/// The server's current Unix time in milliseconds, the base of every absolute expiry the lock
/// commands set and replicate.
pub fn now_ms() -> Result<i64, CommandError> {
    let milliseconds = unsafe { raw::RedisModule_Milliseconds }.ok_or(MISSING_API)?;
    Ok(unsafe { milliseconds() })
}

/// The absolute expiry `ttl_ms` from now. `ttl_ms` is at most 2^40, so only a clock beyond
/// year 292 million could overflow; checked anyway.
pub fn expiry_after(ttl_ms: i64) -> Result<i64, CommandError> {
    now_ms()?.checked_add(ttl_ms).ok_or(CommandError::Internal(
        "ERR the server clock is out of range",
    ))
}
