//! Command handlers, one file per family. Each parses its arguments with
//! `pottery_core::args::Args`, calls pure logic from `pottery-core`, writes through
//! [`crate::write`] and returns the reply.

pub mod bloom;
pub mod help;
pub mod hll;
pub mod list;
pub mod lock;
pub mod nextid;

use redis_module::RedisString;

/// Byte views of the arguments after the command name, for `pottery_core::args::Args`.
pub fn arg_bytes(args: &[RedisString]) -> Vec<&[u8]> {
    args.iter().skip(1).map(RedisString::as_slice).collect()
}
