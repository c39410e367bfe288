//! The one write path: every command that changed the keyspace finishes here, so none can forget
//! to replicate, signal or notify. Commands that changed nothing never call it.

use redis_module::{raw, Context, NotifyEvent, RedisString};

/// How a change reaches replicas and the AOF.
pub enum Propagation {
    /// The command itself, as the client sent it: for deterministic commands.
    Verbatim,
    /// Another command that has the same effect with every parameter explicit, such as
    /// `POTTERY.BF.INSERT key CAPACITY c ERROR e ...` for a filter created with defaults that a
    /// replica may have configured differently.
    Command {
        /// The command name.
        name: &'static str,
        /// Its arguments, key included.
        args: Vec<Vec<u8>>,
    },
}

/// Replicates the change, signals `key` as modified (aborting other clients' WATCH) and fires
/// the keyspace event `event` (the command's name, such as `pottery.nextid`) in `class`.
pub fn commit(
    ctx: &Context,
    key: &RedisString,
    class: NotifyEvent,
    event: &str,
    propagation: Propagation,
) {
    match propagation {
        Propagation::Verbatim => ctx.replicate_verbatim(),
        Propagation::Command { name, args } => {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            ctx.replicate(name, args.as_slice());
        }
    }
    if let Some(signal) = unsafe { raw::RedisModule_SignalModifiedKey } {
        unsafe { signal(ctx.ctx, key.inner) };
    }
    ctx.notify_keyspace_event(class, event, key);
}
