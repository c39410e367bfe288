//! The pottery Redis module: native, atomic `POTTERY.*` commands.
//!
//! This file holds only the module declaration and `init`. The commands and their handlers are
//! listed once in `commands`, the values they keep in Redis keys are adapted in `keys`, what ties
//! them to the server lives in `host`, and their pure logic in `pottery-core`.

mod commands;
mod host;
mod keys;

use host::config::{self, ERROR_RATE, EXPANSION, INITIAL_CAPACITY, MAX_BYTES};
use host::{registration, stats, waiters};
use keys::bloom_type::BLOOM_TYPE;
use redis_module::configuration::ConfigurationFlags;
use redis_module::{redis_module, Context, ModuleOptions, RedisString, Status};

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    // Keys opened for writing must not signal WATCHers just by being opened: a command that
    // changes nothing signals nothing, so every write signals explicitly through `write`.
    // HANDLE_IO_ERRORS: a corrupt RESTORE payload or a truncated RDB makes our loader return
    // an error instead of Redis aborting on the first failed read.
    ctx.set_module_options(
        ModuleOptions::NO_IMPLICIT_SIGNAL_MODIFIED | ModuleOptions::HANDLE_IO_ERRORS,
    );
    let names_and_values: Vec<&[u8]> = args.iter().map(RedisString::as_slice).collect();
    if let Err(problem) = pottery_core::load_args::check(&names_and_values) {
        ctx.log_warning(&format!("pottery: {problem}"));
        return Status::Err;
    }
    if let Err(problem) = config::check_load_values() {
        ctx.log_warning(&format!("pottery: {problem}"));
        return Status::Err;
    }
    let aliases = pottery_core::load_args::wants_bf_aliases(&names_and_values);
    let registered = registration::register_all(ctx, commands::COMMANDS)
        .and_then(|()| stats::register(ctx))
        .and_then(|()| waiters::register(ctx))
        .and_then(|()| match aliases {
            true => registration::register_bloom_aliases(ctx, commands::COMMANDS).map(Some),
            false => Ok(None),
        });
    match registered {
        Ok(aliases) => {
            if let Some(note) = aliases {
                ctx.log_notice(&format!("pottery: {note}"));
            }
            // One notice line per load, so an operator can see in the server log which
            // version of the module is serving.
            ctx.log_notice(&format!(
                "pottery: module version {} loaded with {} commands",
                pottery_core::catalog::MODULE_VERSION,
                commands::COMMANDS.len()
            ));
            Status::Ok
        }
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
    data_types: [BLOOM_TYPE],
    init: init,
    configurations: [
        i64: [
            ["bf-initial-capacity", &INITIAL_CAPACITY, config::INITIAL_CAPACITY_DEFAULT, 1, 1 << 40, ConfigurationFlags::DEFAULT, None],
            ["bf-expansion", &EXPANSION, config::EXPANSION_DEFAULT, 1, 32768, ConfigurationFlags::DEFAULT, None],
            ["bf-max-bytes", &MAX_BYTES, config::MAX_BYTES_DEFAULT, 8, config::MAX_BYTES_LIMIT, ConfigurationFlags::DEFAULT, None],
        ],
        string: [
            ["bf-error-rate", &ERROR_RATE, config::ERROR_RATE_DEFAULT, ConfigurationFlags::DEFAULT, None],
        ],
        // The macro needs every section once the load arguments are read as configs.
        bool: [],
        enum: [],
        module_args_as_configuration: true,
    ]
}
