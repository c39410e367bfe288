//! Keys holding plain Redis strings, read without changing how Redis stores them.
//!
//! `RedisModule_StringDMA` unshares and decodes every value that is not raw-encoded, even when
//! asked only to read: an integer (`SET k 5`) or an embedded string would be stored raw
//! afterwards, which `OBJECT ENCODING` shows and which the server's own `GET` never does. So
//! values short enough to be embedded are copied with `GET`, and only longer ones, which the
//! server always stores raw, are read in place.
//!
//! The safe `redis-module` key types hide the raw handle this needs (for the value's length),
//! so this wraps the raw key API. Every raw call is checked for presence instead of unwrapped:
//! a missing API entry becomes an error reply, never a panic inside Redis.

use super::open_key::OpenKey;
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString};
use std::ops::Deref;
use std::os::raw::c_int;
use std::ptr::NonNull;

/// Longest string a server may store as an integer or embedded in its object
/// (`OBJ_ENCODING_INT`, `OBJ_ENCODING_EMBSTR`); anything longer is raw and safe to read in place.
/// Redis embeds up to 44 bytes; Valkey embeds the key too and fills up to 128 bytes with the
/// object, key and value, so up to 113 value bytes under an empty key.
const EMBEDDED_LIMIT: usize = 128;

/// A raw API entry the server did not provide.
pub const MISSING_API: CommandError =
    CommandError::Internal("ERR the server lacks a module API pottery needs");

const READ_FAILED: CommandError = CommandError::Internal("ERR could not read the string value");

/// A key that must be a string or absent, opened for reading or for reading and writing, and
/// closed on drop.
pub struct StringKey<'a> {
    ctx: &'a Context,
    name: &'a RedisString,
    key: OpenKey,
}

impl<'a> StringKey<'a> {
    /// Opens `name` for reading and writing; `WRONGTYPE` unless it is a string or absent.
    pub fn open_writable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<StringKey<'a>, CommandError> {
        Self::open(ctx, name, raw::KeyMode::READ | raw::KeyMode::WRITE)
    }

    /// Opens `name` for reading only; `WRONGTYPE` unless it is a string or absent.
    pub fn open_readable(
        ctx: &'a Context,
        name: &'a RedisString,
    ) -> Result<StringKey<'a>, CommandError> {
        Self::open(ctx, name, raw::KeyMode::READ)
    }

    fn open(
        ctx: &'a Context,
        name: &'a RedisString,
        mode: raw::KeyMode,
    ) -> Result<StringKey<'a>, CommandError> {
        let key = OpenKey::open(ctx, name, mode, raw::REDISMODULE_KEYTYPE_STRING)?;
        Ok(StringKey { ctx, name, key })
    }

    fn raw_type(&self) -> Result<isize, CommandError> {
        self.key.raw_type()
    }

    /// The raw handle, `None` for an absent key opened read-only. Valid while `self` lives.
    pub fn handle(&self) -> Option<NonNull<raw::RedisModuleKey>> {
        self.key.handle()
    }

    /// The value, `None` when the key is absent; its encoding stays as it was.
    pub fn value(&self) -> Result<Option<StringValue<'_>>, CommandError> {
        let Some(key) = self.key.handle() else {
            return Ok(None);
        };
        if self.raw_type()? == raw::REDISMODULE_KEYTYPE_EMPTY {
            return Ok(None);
        }
        let value_length = unsafe { raw::RedisModule_ValueLength }.ok_or(MISSING_API)?;
        if unsafe { value_length(key.as_ptr()) } <= EMBEDDED_LIMIT {
            return self.copy_with_get().map(Some);
        }
        let dma = unsafe { raw::RedisModule_StringDMA }.ok_or(MISSING_API)?;
        let mut length: usize = 0;
        let pointer = unsafe { dma(key.as_ptr(), &mut length, raw::REDISMODULE_READ as c_int) };
        if pointer.is_null() {
            return Err(CommandError::WrongType);
        }
        // Redis guarantees `length` readable bytes at `pointer` while the key stays open and
        // unmodified, which the borrow of `self` ensures.
        Ok(Some(StringValue::InPlace(unsafe {
            std::slice::from_raw_parts(pointer.cast::<u8>(), length)
        })))
    }

    /// The value read in place, `None` when the key is absent, for a key the command is about
    /// to overwrite: a short value (integer or embedded encoding) is decoded to a raw string
    /// first, as the write would do anyway, saving [`value`](Self::value)'s call of `GET`.
    pub fn value_for_overwrite(&self) -> Result<Option<&[u8]>, CommandError> {
        let Some(key) = self.key.handle() else {
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
        // As in `value`: `length` readable bytes while the key stays open and unmodified.
        Ok(Some(unsafe {
            std::slice::from_raw_parts(pointer.cast::<u8>(), length)
        }))
    }

    /// The value of this (existing, short) key as `GET` replies it, which reads without
    /// re-encoding. Calling `GET` is fine while the key is open, even for writing.
    fn copy_with_get(&self) -> Result<StringValue<'static>, CommandError> {
        let call = unsafe { raw::RedisModule_Call }.ok_or(MISSING_API)?;
        let reply_type = unsafe { raw::RedisModule_CallReplyType }.ok_or(MISSING_API)?;
        let string_ptr = unsafe { raw::RedisModule_CallReplyStringPtr }.ok_or(MISSING_API)?;
        let free = unsafe { raw::RedisModule_FreeCallReply }.ok_or(MISSING_API)?;
        // "s": the one argument is a RedisModuleString.
        let reply = unsafe {
            call(
                self.ctx.ctx,
                c"GET".as_ptr(),
                c"s".as_ptr(),
                self.name.inner,
            )
        };
        // A null reply is a refused call (in a cluster: a key that is not local).
        let reply = NonNull::new(reply).ok_or(READ_FAILED)?;
        let copied =
            if unsafe { reply_type(reply.as_ptr()) } == raw::REDISMODULE_REPLY_STRING as c_int {
                let mut length: usize = 0;
                let pointer = unsafe { string_ptr(reply.as_ptr(), &mut length) };
                if pointer.is_null() {
                    Err(READ_FAILED)
                } else {
                    // The reply owns `length` bytes at `pointer` until it is freed below.
                    StringValue::copied(unsafe {
                        std::slice::from_raw_parts(pointer.cast::<u8>(), length)
                    })
                }
            } else {
                Err(READ_FAILED)
            };
        unsafe { free(reply.as_ptr()) };
        copied
    }

    /// Replaces the value with `bytes` in place, keeping the key's TTL (as `INCR` does);
    /// creates the key when absent.
    pub fn overwrite(&self, bytes: &[u8]) -> Result<(), CommandError> {
        const WRITE_FAILED: CommandError = CommandError::Internal("ERR could not write the value");
        let key = self.key.handle().ok_or(WRITE_FAILED)?;
        let truncate = unsafe { raw::RedisModule_StringTruncate }.ok_or(MISSING_API)?;
        let dma = unsafe { raw::RedisModule_StringDMA }.ok_or(MISSING_API)?;
        if unsafe { truncate(key.as_ptr(), bytes.len()) } != raw::REDISMODULE_OK as c_int {
            return Err(WRITE_FAILED);
        }
        let mut length: usize = 0;
        let pointer = unsafe { dma(key.as_ptr(), &mut length, raw::REDISMODULE_WRITE as c_int) };
        if pointer.is_null() || length != bytes.len() {
            return Err(WRITE_FAILED);
        }
        // After the truncation Redis gives `length` writable bytes at `pointer`, ours until the
        // key is closed or touched again.
        unsafe { std::slice::from_raw_parts_mut(pointer.cast::<u8>(), length) }
            .copy_from_slice(bytes);
        Ok(())
    }
}

impl StringKey<'_> {
    /// Sets the key (opened for writing, and present) to expire at `at_ms`, Unix time in
    /// milliseconds.
    pub fn expire_at(&self, at_ms: i64) -> Result<(), CommandError> {
        const EXPIRE_FAILED: CommandError =
            CommandError::Internal("ERR could not set the key's expiry");
        let key = self.key.handle().ok_or(EXPIRE_FAILED)?;
        let set_abs_expire = unsafe { raw::RedisModule_SetAbsExpire }.ok_or(MISSING_API)?;
        match unsafe { set_abs_expire(key.as_ptr(), at_ms) } {
            status if status == raw::REDISMODULE_OK as c_int => Ok(()),
            _ => Err(EXPIRE_FAILED),
        }
    }
}

/// A string value's bytes: in place for long values, a copy on the stack for short ones.
pub enum StringValue<'key> {
    InPlace(&'key [u8]),
    Copied {
        bytes: [u8; EMBEDDED_LIMIT],
        length: usize,
    },
}

impl StringValue<'static> {
    fn copied(value: &[u8]) -> Result<StringValue<'static>, CommandError> {
        let mut bytes = [0u8; EMBEDDED_LIMIT];
        bytes
            .get_mut(..value.len())
            .ok_or(READ_FAILED)?
            .copy_from_slice(value);
        Ok(StringValue::Copied {
            bytes,
            length: value.len(),
        })
    }
}

impl Deref for StringValue<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            StringValue::InPlace(bytes) => bytes,
            StringValue::Copied { bytes, length } => bytes.get(..*length).unwrap_or_default(),
        }
    }
}
