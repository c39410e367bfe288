//! The one write path: every command that changed the keyspace finishes here, so none can forget
//! to replicate, signal or notify. Commands that changed nothing never call it.

use redis_module::{raw, Context, NotifyEvent, RedisString};

/// How a change reaches replicas and the AOF.
pub enum Propagation<'a> {
    /// The command itself, as the client sent it: for deterministic commands.
    Verbatim,
    /// These commands instead, in order: for commands whose effect depends on the master's
    /// clock (a relative TTL becomes an absolute `PXAT`) or state. Redis wraps several
    /// replicated commands of one module command in `MULTI`/`EXEC`.
    Effects(&'a [Effect<'a>]),
}

/// One command replicated in place of the module command.
pub struct Effect<'a> {
    /// The command's name, such as `SET`.
    pub command: &'static str,
    /// Its arguments after the name.
    pub args: &'a [&'a [u8]],
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
        Propagation::Effects(effects) => {
            for effect in effects {
                ctx.replicate(effect.command, effect.args);
            }
        }
    }
    touch(ctx, key, class, event);
}

/// Signals and notifies a further key that the same command modified, after [`commit`]
/// replicated the command's whole effect.
pub fn touch(ctx: &Context, key: &RedisString, class: NotifyEvent, event: &str) {
    if let Some(signal) = unsafe { raw::RedisModule_SignalModifiedKey } {
        unsafe { signal(ctx.ctx, key.inner) };
    }
    notify(ctx, class, event, key);
}

/// Fires the keyspace event `event` for `key`, its name NUL-terminated on the stack rather than
/// in a `CString` allocated per call as `Context::notify_keyspace_event` does.
fn notify(ctx: &Context, class: NotifyEvent, event: &str, key: &RedisString) {
    let Some(fire) = (unsafe { raw::RedisModule_NotifyKeyspaceEvent }) else {
        return;
    };
    // Event names are command names, short: NUL-terminated on the stack. (An interior NUL
    // would only shorten the name Redis reads.) Anything longer takes the allocating path.
    let mut name = [0u8; 32];
    match name.get_mut(..event.len()) {
        Some(room) if event.len() < 32 => {
            room.copy_from_slice(event.as_bytes());
            unsafe { fire(ctx.ctx, class.bits(), name.as_ptr().cast(), key.inner) };
        }
        _ => {
            ctx.notify_keyspace_event(class, event, key);
        }
    }
}
