//! `POTTERY.HELP`.

use super::Request;
use pottery_core::catalog::help_lines;
use pottery_core::CommandError;
use redis_module::{Context, RedisValue};

/// Every command with its syntax and summary, as status lines like Redis's own `HELP`.
pub fn help(_ctx: &Context, _request: &Request) -> Result<RedisValue, CommandError> {
    Ok(RedisValue::Array(
        help_lines()
            .into_iter()
            .map(RedisValue::SimpleString)
            .collect(),
    ))
}
