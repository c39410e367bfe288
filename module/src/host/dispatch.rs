//! Runs a command handler and turns its result into a reply.

use super::request::Request;
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::{raw, Context, RedisString, RedisValue};
use std::ffi::CString;
use std::mem::ManuallyDrop;
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
        with_args(ctx, argv, argc, |args| {
            handler(&context, &Request::new(spec, args))
        })
    }));
    let status = match outcome {
        // The hot replies of the Bloom filter, straight to the module API.
        Ok(Ok(RedisValue::Bool(value))) => unsafe {
            raw::RedisModule_ReplyWithBool.map_or(raw::Status::Err as c_int, |reply| {
                reply(ctx, c_int::from(value))
            })
        }
        .into(),
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

/// Most commands have at most this many arguments; their views live on the stack.
const STACK_ARGS: usize = 8;

/// Calls `body` with Redis's arguments viewed as `RedisString`s, without the retain, free and
/// vector allocation per call of `redis_module::decode_args`: Redis keeps `argv` alive for the
/// whole call, and the views are never dropped (so never freed), only borrowed.
fn with_args<R>(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    body: impl FnOnce(&[RedisString]) -> R,
) -> R {
    let raw_args: &[*mut raw::RedisModuleString] = match usize::try_from(argc) {
        Ok(count) if !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, count) },
        _ => &[],
    };
    let view = |arg: *mut raw::RedisModuleString| {
        ManuallyDrop::new(RedisString::from_redis_module_string(ctx, arg))
    };
    // `ManuallyDrop` is `repr(transparent)`, so a slice of views is a slice of `RedisString`s;
    // slices never drop their elements.
    let as_strings = |views: &[ManuallyDrop<RedisString>]| unsafe {
        &*(views as *const [ManuallyDrop<RedisString>] as *const [RedisString])
    };
    if raw_args.len() <= STACK_ARGS {
        let views: [ManuallyDrop<RedisString>; STACK_ARGS] = std::array::from_fn(|index| {
            view(raw_args.get(index).copied().unwrap_or(std::ptr::null_mut()))
        });
        body(as_strings(&views[..raw_args.len()]))
    } else {
        let views: Vec<ManuallyDrop<RedisString>> = raw_args.iter().map(|&arg| view(arg)).collect();
        body(as_strings(&views))
    }
}

/// Replies `error` verbatim: its text already starts with the error code.
pub fn reply_error(context: &Context, error: &CommandError) -> raw::Status {
    let text = match error {
        // An arity error names the command as it was called, an alias (BF.INFO) included, as
        // Redis's own arity check does.
        CommandError::WrongArity { .. } => match context.current_command_name() {
            Ok(name) => format!("ERR wrong number of arguments for '{name}' command"),
            Err(_) => error.to_string(),
        },
        _ => error.to_string(),
    };
    // Error texts are ours and contain no NUL; fall back to a fixed text rather than panic.
    let text = CString::new(text)
        .unwrap_or_else(|_| c"ERR internal error in the pottery module".to_owned());
    unsafe {
        raw::RedisModule_ReplyWithError.map_or(raw::Status::Err as c_int, |reply| {
            reply(context.ctx, text.as_ptr())
        })
    }
    .into()
}
