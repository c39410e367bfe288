//! A key opened through the raw module API and checked for its Redis type, closed on drop:
//! what the raw key adapters ([`super::string_key`], [`super::hash_key`]) share. Every raw call
//! is checked for presence instead of unwrapped.

use super::string_key::MISSING_API;
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::ptr::NonNull;

/// An opened key that is absent or of the expected type.
pub struct OpenKey {
    /// `None` for an absent key opened read-only, for which Redis gives no handle.
    key: Option<NonNull<raw::RedisModuleKey>>,
}

impl Drop for OpenKey {
    fn drop(&mut self) {
        if let (Some(key), Some(close)) = (self.key, unsafe { raw::RedisModule_CloseKey }) {
            unsafe { close(key.as_ptr()) };
        }
    }
}

impl OpenKey {
    /// Opens `name` in `mode`; `WRONGTYPE` unless it is absent or of type `expected` (a
    /// `REDISMODULE_KEYTYPE_*`).
    pub fn open(
        ctx: &Context,
        name: &RedisString,
        mode: raw::KeyMode,
        expected: isize,
    ) -> Result<OpenKey, CommandError> {
        let open = unsafe { raw::RedisModule_OpenKey }.ok_or(MISSING_API)?;
        let pointer = unsafe { open(ctx.ctx, name.inner, mode.bits()) };
        let opened = OpenKey {
            key: NonNull::new(pointer.cast::<raw::RedisModuleKey>()),
        };
        match opened.raw_type()? {
            raw::REDISMODULE_KEYTYPE_EMPTY => Ok(opened),
            found if found == expected => Ok(opened),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The key's `REDISMODULE_KEYTYPE_*` (empty for an absent key).
    pub fn raw_type(&self) -> Result<isize, CommandError> {
        let Some(key) = self.key else {
            return Ok(raw::REDISMODULE_KEYTYPE_EMPTY);
        };
        let key_type = unsafe { raw::RedisModule_KeyType }.ok_or(MISSING_API)?;
        // The key type constants are small numbers; anything else is "not what we expected".
        Ok(isize::try_from(unsafe { key_type(key.as_ptr()) }).unwrap_or(isize::MAX))
    }

    /// The raw handle, `None` for an absent key opened read-only. Valid while `self` lives.
    pub fn handle(&self) -> Option<NonNull<raw::RedisModuleKey>> {
        self.key
    }
}
