//! `POTTERY.HLL.CONTAINS`: HyperLogLog membership, read in place.
//!
//! The value is read through the key's string, never copied into a temporary key, and nothing
//! is written: the keyspace, the value, its encoding and its cached cardinality stay as they
//! were.

use super::arg_bytes;
use pottery_core::catalog::HLL_CONTAINS;
use pottery_core::hll::Registers;
use pottery_core::CommandError;
use redis_module::{raw, Context, KeyType, RedisString, RedisValue};
use std::os::raw::c_int;

/// Strings of up to 44 bytes may be stored embedded in their object or as integers. Reading
/// those in place (DMA) would make Redis re-encode the stored value, so they are copied with
/// `GET` instead; HyperLogLogs that `PFADD` made, and every longer string, are read in place.
const EMBEDDED_LIMIT: usize = 44;

/// A key opened for reading through the raw API and closed on drop: the safe wrapper cannot
/// tell a string's length without reading it in place.
struct ReadOnlyKey(*mut raw::RedisModuleKey);

impl ReadOnlyKey {
    /// `None` when the key does not exist (Redis returns no handle for a missing key in read
    /// mode).
    fn open(ctx: &Context, name: &RedisString) -> Option<ReadOnlyKey> {
        let open = unsafe { raw::RedisModule_OpenKey }?;
        let key = unsafe { open(ctx.ctx, name.inner, raw::REDISMODULE_READ as c_int) };
        (!key.is_null()).then_some(ReadOnlyKey(key))
    }

    fn key_type(&self) -> KeyType {
        unsafe { raw::RedisModule_KeyType.map_or(0, |key_type| key_type(self.0)) }.into()
    }

    fn length(&self) -> usize {
        unsafe { raw::RedisModule_ValueLength.map_or(0, |length| length(self.0)) }
    }

    /// The string in place; only for raw-encoded strings (see [`EMBEDDED_LIMIT`]).
    fn bytes(&self) -> &[u8] {
        let Some(dma) = (unsafe { raw::RedisModule_StringDMA }) else {
            return &[];
        };
        let mut length = 0usize;
        let pointer = unsafe { dma(self.0, &mut length, raw::REDISMODULE_READ as c_int) };
        if pointer.is_null() {
            return &[];
        }
        // SAFETY: Redis keeps the string alive and unchanged while the key is open and the
        // command runs; the slice does not outlive `self`.
        unsafe { std::slice::from_raw_parts(pointer.cast::<u8>(), length) }
    }
}

impl Drop for ReadOnlyKey {
    fn drop(&mut self) {
        if let Some(close) = unsafe { raw::RedisModule_CloseKey } {
            unsafe { close(self.0) };
        }
    }
}

/// `POTTERY.HLL.CONTAINS key element [element ...]`: per element 1 if `PFADD` would not change
/// the HyperLogLog, 0 if it certainly was not added. A missing key contains nothing.
pub fn contains(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    let name = args.get(1).ok_or(CommandError::WrongArity {
        command: HLL_CONTAINS.name,
    })?;
    let raw = arg_bytes(args);
    let elements = raw.get(1..).unwrap_or(&[]);
    let nothing = || RedisValue::Array(elements.iter().map(|_| RedisValue::Integer(0)).collect());
    let Some(key) = ReadOnlyKey::open(ctx, name) else {
        return Ok(nothing());
    };
    match key.key_type() {
        KeyType::Empty => return Ok(nothing()),
        KeyType::String => {}
        _ => return Err(CommandError::WrongType),
    }
    let copy: Vec<u8>;
    let value: &[u8] = if key.length() <= EMBEDDED_LIMIT {
        copy = match ctx.call("GET", &[name]) {
            Ok(RedisValue::SimpleString(text)) => text.into_bytes(),
            Ok(RedisValue::StringBuffer(bytes)) => bytes,
            _ => Vec::new(),
        };
        &copy
    } else {
        key.bytes()
    };
    let registers = Registers::parse(value)?;
    Ok(RedisValue::Array(
        elements
            .iter()
            .map(|element| RedisValue::Integer(i64::from(registers.may_contain(element))))
            .collect(),
    ))
}
