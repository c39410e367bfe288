//! Decimal counters stored in plain Redis strings, readable by `GET` and `INCR` alike.

use pottery_core::integer::{format_i64, parse_i64, MAX_I64_DIGITS};
use pottery_core::CommandError;
use redis_module::key::RedisKeyWritable;
use redis_module::{Context, KeyType, RedisString};

/// A key opened for writing that holds (or will hold) a decimal counter.
pub struct CounterKey {
    key: RedisKeyWritable,
}

impl CounterKey {
    /// Opens `name`; `WRONGTYPE` unless it is a string or absent.
    pub fn open(ctx: &Context, name: &RedisString) -> Result<CounterKey, CommandError> {
        let key = ctx.open_key_writable(name);
        match key.key_type() {
            KeyType::Empty | KeyType::String => Ok(CounterKey { key }),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The counter, `None` when the key is absent; Redis's integer error for any other string.
    pub fn get(&self) -> Result<Option<i64>, CommandError> {
        if self.key.is_empty() {
            return Ok(None);
        }
        let value = self
            .key
            .as_string_dma()
            .map_err(|_| CommandError::WrongType)?;
        parse_i64(&value)
            .map(Some)
            .ok_or(CommandError::NotAnInteger)
    }

    /// Stores `value` in place, keeping the key's TTL as `INCR` does.
    pub fn set(&self, value: i64) -> Result<(), CommandError> {
        let mut digits = [0u8; MAX_I64_DIGITS];
        let text = format_i64(value, &mut digits);
        self.key
            .as_string_dma()
            .and_then(|mut buffer| buffer.write(text).map(|_| ()))
            .map_err(|_| CommandError::Internal("ERR could not write the counter"))
    }
}
