//! `POTTERY.DEQUE.ROTATE`, `POTTERY.DEQUE.PUSH`, `POTTERY.LIST.INSERT`, `POTTERY.LIST.POP` and
//! `POTTERY.LIST.SETSLICE`: Python list and deque operations done atomically on a Redis list.
//!
//! Each handler parses its arguments, runs `pottery_core::list` on the key through
//! [`ListKey`], and commits through [`crate::host::write`] only when the list changed. All of
//! them are deterministic, so they replicate verbatim. A command that removes a list's last
//! element leaves no key behind (Redis deletes it) and also fires `del`, as `LPOP` does.

use super::Request;
use crate::host::write::{commit, Propagation};
use crate::keys::list_key::ListKey;
use pottery_core::catalog::{DEQUE_PUSH, DEQUE_ROTATE, LIST_INSERT, LIST_POP, LIST_SETSLICE};
use pottery_core::list::{self, End, ListStore, MaxLen};
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisString, RedisValue};

/// The values that end a command, as owned list items: the list API takes them by handle, so
/// each is retained rather than its bytes copied.
fn values<'a>(
    ctx: &'a Context,
    values: &'a [RedisString],
) -> impl ExactSizeIterator<Item = RedisString> + 'a {
    values.iter().map(move |value| value.safe_clone(ctx))
}

/// Replicates, signals and notifies a change to the list `name`, plus `del` if the change
/// removed its last element.
fn changed(ctx: &Context, name: &RedisString, spec: &'static CommandSpec, emptied: bool) {
    commit(
        ctx,
        name,
        NotifyEvent::LIST,
        spec.name,
        Propagation::Verbatim,
    );
    if emptied {
        ctx.notify_keyspace_event(NotifyEvent::GENERIC, "del", name);
    }
}

fn length(len: usize) -> RedisValue {
    // A Redis list never holds i64::MAX elements; saturate rather than panic.
    RedisValue::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

/// `POTTERY.DEQUE.ROTATE key n`: Python's `deque.rotate(n)`; replies the length.
pub fn deque_rotate(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let n = parsed.next_i64()?;
    parsed.finish()?;

    let mut key = ListKey::open(ctx, name)?;
    let written = list::rotate(&mut key, n)?;
    if written.changed {
        changed(ctx, name, &DEQUE_ROTATE, false);
    }
    Ok(length(written.len))
}

/// `POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]`: `extendleft`/`extend`, then
/// trims the other end to `maxlen`; replies the length.
pub fn deque_push(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let end = if parsed.eat_keyword("LEFT") {
        End::Head
    } else if parsed.eat_keyword("RIGHT") {
        End::Tail
    } else {
        return Err(CommandError::Syntax);
    };
    let maxlen = MaxLen::from_wire(parsed.next_i64()?)?;

    let mut key = ListKey::open(ctx, name)?;
    let existed = !key.is_empty();
    let written = list::push(&mut key, end, maxlen, values(ctx, parsed.rest()))?;
    if written.changed {
        changed(ctx, name, &DEQUE_PUSH, existed && written.len == 0);
    }
    Ok(length(written.len))
}

/// `POTTERY.LIST.INSERT key index value`: Python's `list.insert(index, value)`; replies the
/// length.
pub fn list_insert(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let index = parsed.next_i64()?;
    let value = parsed.next_item()?.safe_clone(ctx);
    parsed.finish()?;

    let mut key = ListKey::open(ctx, name)?;
    let len = list::insert(&mut key, index, value)?;
    changed(ctx, name, &LIST_INSERT, false);
    Ok(length(len))
}

/// `POTTERY.LIST.POP key [index]`: Python's `list.pop(index)` (default −1); replies the element,
/// or nil for a missing key or an index out of range.
pub fn list_pop(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let index = if parsed.remaining() > 0 {
        parsed.next_i64()?
    } else {
        -1
    };
    parsed.finish()?;

    let mut key = ListKey::open(ctx, name)?;
    match list::pop(&mut key, index)? {
        Some(item) => {
            changed(ctx, name, &LIST_POP, key.is_empty());
            Ok(RedisValue::BulkRedisString(item))
        }
        None => Ok(RedisValue::Null),
    }
}

/// `POTTERY.LIST.SETSLICE key start stop [value ...]`: Python's `l[start:stop] = values`;
/// replies the length.
pub fn list_setslice(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let start = parsed.next_i64()?;
    let stop = parsed.next_i64()?;

    let mut key = ListKey::open(ctx, name)?;
    let existed = !key.is_empty();
    let written = list::set_slice(&mut key, start, stop, values(ctx, parsed.rest()))?;
    if written.changed {
        changed(ctx, name, &LIST_SETSLICE, existed && written.len == 0);
    }
    Ok(length(written.len))
}
