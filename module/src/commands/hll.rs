//! `POTTERY.HLL.CONTAINS`: HyperLogLog membership, read in place.
//!
//! The value is read through the key's string (see `StringKey::value`), never copied into a
//! temporary key, and nothing is written: the keyspace, the value, its encoding and its cached
//! cardinality stay as they were.

use super::Request;
use crate::keys::string_key::StringKey;
use pottery_core::hll::Registers;
use pottery_core::CommandError;
use redis_module::{Context, RedisValue};

/// `POTTERY.HLL.CONTAINS key element [element ...]`: per element 1 if `PFADD` would not change
/// the HyperLogLog, 0 if it certainly was not added. A missing key contains nothing.
pub fn contains(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let elements = request.args().rest();
    let nothing = || RedisValue::Array(elements.iter().map(|_| RedisValue::Integer(0)).collect());
    let key = StringKey::open_readable(ctx, name)?;
    let Some(value) = key.value()? else {
        return Ok(nothing());
    };
    let registers = Registers::parse(&value)?;
    Ok(RedisValue::Array(
        elements
            .iter()
            .map(|element| RedisValue::Integer(i64::from(registers.may_contain(element))))
            .collect(),
    ))
}
