//! Runs a command handler and turns its result into a reply.

use super::request::Request;
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisValue};
use std::ffi::CString;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A command's implementation.
pub type Handler = fn(&Context, &Request) -> Result<RedisValue, CommandError>;

/// The C entry point Redis calls for one command.
pub type Callback =
    extern "C" fn(*mut raw::RedisModuleCtx, *mut *mut raw::RedisModuleString, c_int) -> c_int;

/// A registered command: its description and its entry point.
pub struct Command {
    pub spec: &'static CommandSpec,
    pub callback: Callback,
}

/// Pairs a spec with its handler through a per-command C callback, so that dispatch costs no
/// lookup at run time.
macro_rules! command {
    ($spec:expr, $handler:path) => {{
        extern "C" fn callback(
            ctx: *mut redis_module::raw::RedisModuleCtx,
            argv: *mut *mut redis_module::raw::RedisModuleString,
            argc: std::os::raw::c_int,
        ) -> std::os::raw::c_int {
            const HANDLER: $crate::host::dispatch::Handler = $handler;
            $crate::host::dispatch::run(ctx, argv, argc, &$spec, HANDLER)
        }
        $crate::host::dispatch::Command {
            spec: &$spec,
            callback,
        }
    }};
}
pub(crate) use command;

/// Calls `handler` and replies. A panic would abort `redis-server`, so one is caught and turned
/// into an error reply; handlers are written not to panic, this is the last line of defence.
pub fn run(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    spec: &'static CommandSpec,
    handler: Handler,
) -> c_int {
    let context = Context::new(ctx);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let args = redis_module::decode_args(ctx, argv, argc);
        handler(&context, &Request::new(spec, &args))
    }));
    let status = match outcome {
        Ok(Ok(value)) => context.reply(Ok(value)),
        Ok(Err(error)) => reply_error(&context, &error),
        Err(_) => {
            context.log_warning(&format!(
                "pottery: {} panicked; replied an error",
                spec.name
            ));
            reply_error(
                &context,
                &CommandError::Internal("ERR internal error in the pottery module"),
            )
        }
    };
    status as c_int
}

/// Replies `error` verbatim: its text already starts with the error code.
pub fn reply_error(context: &Context, error: &CommandError) -> raw::Status {
    // Error texts are ours and contain no NUL; fall back to a fixed text rather than panic.
    let text = CString::new(error.to_string())
        .unwrap_or_else(|_| c"ERR internal error in the pottery module".to_owned());
    unsafe {
        raw::RedisModule_ReplyWithError.map_or(raw::Status::Err as c_int, |reply| {
            reply(context.ctx, text.as_ptr())
        })
    }
    .into()
}
