//! Decimal counters stored in plain Redis strings, readable by `GET` and `INCR` alike.

use super::string_key::StringKey;
use pottery_core::integer::{format_i64, parse_i64, MAX_I64_DIGITS};
use pottery_core::CommandError;
use redis_module::{Context, RedisString};

/// A key opened for writing that holds (or will hold) a decimal counter.
pub struct CounterKey<'a> {
    key: StringKey<'a>,
}

impl<'a> CounterKey<'a> {
    /// Opens `name`; `WRONGTYPE` unless it is a string or absent.
    pub fn open(ctx: &'a Context, name: &'a RedisString) -> Result<CounterKey<'a>, CommandError> {
        StringKey::open_writable(ctx, name).map(|key| CounterKey { key })
    }

    /// The counter, `None` when the key is absent; Redis's integer error for any other string.
    /// Reading leaves the value's encoding alone (an `INCR` counter stays `int`).
    pub fn get(&self) -> Result<Option<i64>, CommandError> {
        match self.key.value()? {
            None => Ok(None),
            Some(value) => parse_i64(&value)
                .map(Some)
                .ok_or(CommandError::NotAnInteger),
        }
    }

    /// [`get`](Self::get) for a counter the command will most likely overwrite: read in place,
    /// so a short value stored as an integer or embedded string becomes a raw string, which
    /// the write would make it anyway (see `StringKey::value_for_overwrite`).
    pub fn get_for_overwrite(&self) -> Result<Option<i64>, CommandError> {
        match self.key.value_for_overwrite()? {
            None => Ok(None),
            Some(value) => parse_i64(value).map(Some).ok_or(CommandError::NotAnInteger),
        }
    }

    /// Stores `value` in place, keeping the key's TTL as `INCR` does.
    pub fn set(&self, value: i64) -> Result<(), CommandError> {
        let mut digits = [0u8; MAX_I64_DIGITS];
        self.key
            .overwrite(format_i64(value, &mut digits))
            .map_err(|_| CommandError::Internal("ERR could not write the counter"))
    }

    /// Stores `value` to expire at `at_ms` (Unix milliseconds).
    pub fn set_expiring_at(&self, value: i64, at_ms: i64) -> Result<(), CommandError> {
        self.set(value)?;
        self.key.expire_at(at_ms)
    }
}
