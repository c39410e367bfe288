//! Bloom filters in keys: the native type of [`super::bloom_type`] read and stored through the
//! `redis-module` key API, whose type check gives `WRONGTYPE` for any other value.

use super::bloom_type::BLOOM_TYPE;
use crate::host::stats;
use pottery_core::bloom::BloomFilter;
use pottery_core::CommandError;
use redis_module::key::{RedisKey, RedisKeyWritable};
use redis_module::{raw, Context, RedisString};
use std::os::raw::c_int;

/// The filter at a key opened for reading: `None` when absent, `WRONGTYPE` for other types.
pub fn filter_ref(key: &RedisKey) -> Result<Option<&BloomFilter>, CommandError> {
    key.get_value::<BloomFilter>(&BLOOM_TYPE)
        .map_err(|_| CommandError::WrongType)
}

/// The filter at a key opened for writing: `None` when absent, `WRONGTYPE` for other types.
pub fn filter_mut<'a>(key: &RedisKeyWritable) -> Result<Option<&'a mut BloomFilter>, CommandError> {
    key.get_value::<BloomFilter>(&BLOOM_TYPE)
        .map_err(|_| CommandError::WrongType)
}

/// Stores a new `filter` at an empty key, counting its bytes for `INFO pottery`.
pub fn store(key: &RedisKeyWritable, filter: BloomFilter) -> Result<(), CommandError> {
    let bytes = filter.bytes();
    key.set_value(&BLOOM_TYPE, filter)
        .map_err(|_| CommandError::Internal("ERR could not store the Bloom filter"))?;
    stats::bloom_created(bytes);
    Ok(())
}

/// A key opened straight through the module API for the hot paths (`ADD` to an existing filter,
/// `EXISTS`): one type check and no `Result` boxing around it, closed on drop like the
/// `redis-module` handles. Only reads the filter; creating one goes through [`store`].
pub struct BloomKey {
    key: *mut raw::RedisModuleKey,
}

impl BloomKey {
    /// Opens `name` for reading, or for writing when `write`.
    pub fn open(ctx: &Context, name: &RedisString, write: bool) -> BloomKey {
        let mode = if write {
            raw::REDISMODULE_READ | raw::REDISMODULE_WRITE
        } else {
            raw::REDISMODULE_READ
        };
        let key = unsafe {
            raw::RedisModule_OpenKey.map_or(std::ptr::null_mut(), |open| {
                open(ctx.ctx, name.inner, mode as c_int).cast()
            })
        };
        BloomKey { key }
    }

    /// The filter: `None` when the key is absent, `WRONGTYPE` for other types.
    pub fn filter(&mut self) -> Result<Option<&mut BloomFilter>, CommandError> {
        let (Some(key_type), Some(get_type), Some(get_value)) = (unsafe {
            (
                raw::RedisModule_KeyType,
                raw::RedisModule_ModuleTypeGetType,
                raw::RedisModule_ModuleTypeGetValue,
            )
        }) else {
            return Err(CommandError::Internal("ERR module API unavailable"));
        };
        // A key opened for reading that does not exist is NULL; Redis calls it empty.
        if unsafe { key_type(self.key) } == raw::REDISMODULE_KEYTYPE_EMPTY as c_int {
            return Ok(None);
        }
        if unsafe { get_type(self.key) } != *BLOOM_TYPE.raw_type.borrow() {
            return Err(CommandError::WrongType);
        }
        // The value of a key of our type is the `BloomFilter` `store` boxed; the reference
        // lives no longer than this handle, which Redis keeps valid until it is closed.
        Ok(unsafe { get_value(self.key).cast::<BloomFilter>().as_mut() })
    }
}

impl Drop for BloomKey {
    fn drop(&mut self) {
        if let Some(close) = unsafe { raw::RedisModule_CloseKey } {
            unsafe { close(self.key) };
        }
    }
}
