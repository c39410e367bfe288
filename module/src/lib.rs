//! The pottery Redis module: native, atomic `POTTERY.*` commands.
//!
//! This file holds only the module declaration and `init`. Commands are listed once in
//! [`table`], their handlers live in [`commands`], and their pure logic in `pottery-core`.

mod commands;
mod dispatch;
mod lists;
mod lock_key;
mod registration;
mod strings;
mod table;
mod write;

use redis_module::{redis_module, Context, ModuleOptions, RedisString, Status};

fn init(ctx: &Context, _args: &[RedisString]) -> Status {
    // Keys opened for writing must not signal WATCHers just by being opened: a command that
    // changes nothing signals nothing, so every write signals explicitly through `write`.
    ctx.set_module_options(ModuleOptions::NO_IMPLICIT_SIGNAL_MODIFIED);
    match registration::register_all(ctx, table::COMMANDS) {
        Ok(()) => Status::Ok,
        Err(problem) => {
            ctx.log_warning(&format!("pottery: {problem}"));
            Status::Err
        }
    }
}

redis_module! {
    name: "pottery",
    version: pottery_core::catalog::MODULE_VERSION,
    allocator: (redis_module::alloc::RedisAlloc, redis_module::alloc::RedisAlloc),
    data_types: [],
    init: init,
}
