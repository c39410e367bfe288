//! Lock keys: plain Redis strings holding the holder's token, with an absolute expiry.
//!
//! The safe `redis-module` key types offer only relative expiry and `&str` values, while a lock
//! needs binary tokens and absolute expiry times (replicated as `PXAT`/`PEXPIREAT`), so this
//! wraps the raw key API. Every raw call is checked for presence instead of unwrapped: a missing
//! API entry becomes an error reply, never a panic inside Redis.

use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::os::raw::c_int;
use std::ptr::NonNull;

/// Redis's `REDISMODULE_NO_EXPIRE`: a key without a TTL.
const NO_EXPIRE: i64 = -1;

const MISSING_API: CommandError =
    CommandError::Internal("ERR the server lacks a module API pottery needs");

const WRITE_FAILED: CommandError = CommandError::Internal("ERR could not write the lock key");

/// A key that must be a string or absent, opened for reading or for reading and writing.
pub struct LockKey {
    /// `None` for an absent key opened read-only, for which Redis gives no handle.
    key: Option<NonNull<raw::RedisModuleKey>>,
}

impl Drop for LockKey {
    fn drop(&mut self) {
        if let (Some(key), Some(close)) = (self.key, unsafe { raw::RedisModule_CloseKey }) {
            unsafe { close(key.as_ptr()) };
        }
    }
}

impl LockKey {
    /// Opens `name` for reading and writing; `WRONGTYPE` unless it is a string or absent.
    pub fn open_writable(ctx: &Context, name: &RedisString) -> Result<LockKey, CommandError> {
        Self::open(ctx, name, raw::KeyMode::READ | raw::KeyMode::WRITE)
    }

    /// Opens `name` for reading only; `WRONGTYPE` unless it is a string or absent.
    pub fn open_readable(ctx: &Context, name: &RedisString) -> Result<LockKey, CommandError> {
        Self::open(ctx, name, raw::KeyMode::READ)
    }

    fn open(
        ctx: &Context,
        name: &RedisString,
        mode: raw::KeyMode,
    ) -> Result<LockKey, CommandError> {
        let open = unsafe { raw::RedisModule_OpenKey }.ok_or(MISSING_API)?;
        let pointer = unsafe { open(ctx.ctx, name.inner, mode.bits()) };
        let opened = LockKey {
            key: NonNull::new(pointer.cast::<raw::RedisModuleKey>()),
        };
        match opened.raw_type()? {
            raw::REDISMODULE_KEYTYPE_EMPTY | raw::REDISMODULE_KEYTYPE_STRING => Ok(opened),
            _ => Err(CommandError::WrongType),
        }
    }

    fn raw_type(&self) -> Result<isize, CommandError> {
        let Some(key) = self.key else {
            return Ok(raw::REDISMODULE_KEYTYPE_EMPTY);
        };
        let key_type = unsafe { raw::RedisModule_KeyType }.ok_or(MISSING_API)?;
        // The key type constants are small numbers; anything else is "not a string".
        Ok(isize::try_from(unsafe { key_type(key.as_ptr()) }).unwrap_or(isize::MAX))
    }

    fn writable(&self) -> Result<NonNull<raw::RedisModuleKey>, CommandError> {
        self.key.ok_or(WRITE_FAILED)
    }

    /// The token the key holds, `None` when absent. Borrowed from Redis while the key is open.
    pub fn holder(&self) -> Result<Option<&[u8]>, CommandError> {
        let Some(key) = self.key else {
            return Ok(None);
        };
        if self.raw_type()? == raw::REDISMODULE_KEYTYPE_EMPTY {
            return Ok(None);
        }
        let dma = unsafe { raw::RedisModule_StringDMA }.ok_or(MISSING_API)?;
        let mut length: usize = 0;
        let pointer = unsafe { dma(key.as_ptr(), &mut length, raw::REDISMODULE_READ as c_int) };
        if pointer.is_null() {
            return Err(CommandError::WrongType);
        }
        // Redis guarantees `length` readable bytes at `pointer` while the key stays open and
        // unmodified, which the borrow of `self` ensures.
        Ok(Some(unsafe {
            std::slice::from_raw_parts(pointer.cast::<u8>(), length)
        }))
    }

    /// Whether the key holds exactly `token`.
    pub fn is_held_by(&self, token: &[u8]) -> Result<bool, CommandError> {
        Ok(self.holder()? == Some(token))
    }

    /// Milliseconds until the key expires, `None` without a TTL (or when absent).
    pub fn remaining_ms(&self) -> Result<Option<i64>, CommandError> {
        let Some(key) = self.key else {
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
        let key = self.writable()?;
        let set_abs_expire = unsafe { raw::RedisModule_SetAbsExpire }.ok_or(MISSING_API)?;
        match unsafe { set_abs_expire(key.as_ptr(), at_ms) } {
            status if status == raw::REDISMODULE_OK as c_int => Ok(()),
            _ => Err(WRITE_FAILED),
        }
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
