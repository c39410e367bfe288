//! Hash keys holding expiring holders (semaphores, read-write locks): read whole, then changed
//! field by field through the raw hash API, with an absolute expiry.
//!
//! Fields are read with `RedisModule_ScanKey` (every field at least once; copies deduplicated,
//! since a hash being rehashed may report one twice) and written with `RedisModule_HashSet`,
//! so no command is called and no keyspace event fires but the command's own. Every raw call
//! is checked for presence instead of unwrapped.

use super::open_key::OpenKey;
use super::string_key::MISSING_API;
use pottery_core::holders::Changes;
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::os::raw::{c_int, c_void};

const WRITE_FAILED: CommandError = CommandError::Internal("ERR could not write the hash key");

/// A key that must be a hash or absent, closed on drop.
pub struct HashKey<'a> {
    ctx: &'a Context,
    key: OpenKey,
}

/// The fields of a hash as (field, value) byte pairs, sorted by field.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

impl<'a> HashKey<'a> {
    /// Opens `name` for reading and writing; `WRONGTYPE` unless it is a hash or absent.
    pub fn open_writable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<HashKey<'a>, CommandError> {
        let mode = raw::KeyMode::READ | raw::KeyMode::WRITE;
        let key = OpenKey::open(ctx, name, mode, raw::REDISMODULE_KEYTYPE_HASH)?;
        Ok(HashKey { ctx, key })
    }

    /// Opens `name` for reading only; `WRONGTYPE` unless it is a hash or absent.
    pub fn open_readable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<HashKey<'a>, CommandError> {
        let key = OpenKey::open(ctx, name, raw::KeyMode::READ, raw::REDISMODULE_KEYTYPE_HASH)?;
        Ok(HashKey { ctx, key })
    }

    /// Every field and value (empty for an absent key), sorted by field.
    pub fn fields(&self) -> Result<Fields, CommandError> {
        let Some(key) = self.key.handle() else {
            return Ok(Vec::new());
        };
        if self.key.raw_type()? == raw::REDISMODULE_KEYTYPE_EMPTY {
            return Ok(Vec::new());
        }
        let create = unsafe { raw::RedisModule_ScanCursorCreate }.ok_or(MISSING_API)?;
        let destroy = unsafe { raw::RedisModule_ScanCursorDestroy }.ok_or(MISSING_API)?;
        let scan = unsafe { raw::RedisModule_ScanKey }.ok_or(MISSING_API)?;
        // Checked here so that the callback, which cannot return an error, needs nothing else.
        unsafe { raw::RedisModule_StringPtrLen }.ok_or(MISSING_API)?;
        let cursor = unsafe { create() };
        if cursor.is_null() {
            return Err(CommandError::Internal("ERR could not scan the hash key"));
        }
        let mut fields: Fields = Vec::new();
        let privdata = (&mut fields as *mut Fields).cast::<c_void>();
        while unsafe { scan(key.as_ptr(), cursor, Some(collect), privdata) } != 0 {}
        unsafe { destroy(cursor) };
        fields.sort();
        fields.dedup_by(|a, b| a.0 == b.0);
        Ok(fields)
    }

    /// Applies `changes`: deletes and writes fields and sets the absolute expiry, or deletes
    /// the key once no holder is left.
    pub fn apply(&self, changes: &Changes) -> Result<(), CommandError> {
        let key = self.key.handle().ok_or(WRITE_FAILED)?;
        let Some(expire_at) = changes.expire_at else {
            let delete = unsafe { raw::RedisModule_DeleteKey }.ok_or(MISSING_API)?;
            return match unsafe { delete(key.as_ptr()) } {
                status if status == raw::REDISMODULE_OK as c_int => Ok(()),
                _ => Err(WRITE_FAILED),
            };
        };
        let hash_set = unsafe { raw::RedisModule_HashSet }.ok_or(MISSING_API)?;
        let none = raw::REDISMODULE_HASH_NONE as c_int;
        for field in &changes.removed {
            let field = RedisString::create_from_slice(self.ctx.ctx, field);
            let deleted = raw::REDISMODULE_HASH_DELETE.cast_mut();
            let null = std::ptr::null_mut::<raw::RedisModuleString>();
            // Deleting an absent field is no error: a pruned field may already be gone.
            unsafe { hash_set(key.as_ptr(), none, field.inner, deleted, null) };
        }
        for (field, value) in &changes.written {
            let field = RedisString::create_from_slice(self.ctx.ctx, field);
            let value = RedisString::create_from_slice(self.ctx.ctx, value);
            let null = std::ptr::null_mut::<raw::RedisModuleString>();
            unsafe { hash_set(key.as_ptr(), none, field.inner, value.inner, null) };
        }
        let set_abs_expire = unsafe { raw::RedisModule_SetAbsExpire }.ok_or(MISSING_API)?;
        match unsafe { set_abs_expire(key.as_ptr(), expire_at) } {
            status if status == raw::REDISMODULE_OK as c_int => Ok(()),
            _ => Err(WRITE_FAILED),
        }
    }
}

/// The `ScanKey` callback: copies one field and its value into the `Fields` at `privdata`.
unsafe extern "C" fn collect(
    _key: *mut raw::RedisModuleKey,
    field: *mut raw::RedisModuleString,
    value: *mut raw::RedisModuleString,
    privdata: *mut c_void,
) {
    let (Some(fields), Some(field), Some(value)) = (
        unsafe { privdata.cast::<Fields>().as_mut() },
        bytes(field),
        bytes(value),
    ) else {
        return;
    };
    fields.push((field, value));
}

/// A copy of a module string's bytes (`None` for a null string).
fn bytes(string: *mut raw::RedisModuleString) -> Option<Vec<u8>> {
    if string.is_null() {
        return None;
    }
    let ptr_len = unsafe { raw::RedisModule_StringPtrLen }?;
    let mut length: usize = 0;
    let pointer = unsafe { ptr_len(string, &mut length) };
    if pointer.is_null() {
        return None;
    }
    Some(unsafe { std::slice::from_raw_parts(pointer.cast::<u8>(), length) }.to_vec())
}
