//! `POTTERY.DEQUE.ROTATE`, `POTTERY.DEQUE.PUSH`, `POTTERY.LIST.INSERT`, `POTTERY.LIST.POP` and
//! `POTTERY.LIST.SETSLICE`: Python list and deque operations done atomically on a Redis list.
//!
//! Each handler parses its arguments, runs `pottery_core::list` on the key through
//! [`ListKey`], and commits through [`crate::write`] only when the list changed. All of them are
//! deterministic, so they replicate verbatim. A command that removes a list's last element
//! leaves no key behind (Redis deletes it) and also fires `del`, as `LPOP` does.

use crate::lists::ListKey;
use crate::write::{commit, Propagation};
use pottery_core::args::Args;
use pottery_core::catalog::{DEQUE_PUSH, DEQUE_ROTATE, LIST_INSERT, LIST_POP, LIST_SETSLICE};
use pottery_core::list::{self, End, ListStore, MaxLen};
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisString, RedisValue};

/// The key (argv[1]) and the byte views of the `count` arguments that follow it. Values at the
/// end of the command are taken from `args` directly rather than copied.
fn key_and_leading<'a>(
    args: &'a [RedisString],
    spec: &'static CommandSpec,
    count: usize,
) -> Result<(&'a RedisString, Vec<&'a [u8]>), CommandError> {
    // Redis checked the arity before calling us; this only keeps indexing panic-free.
    let name = args
        .get(1)
        .ok_or(CommandError::WrongArity { command: spec.name })?;
    let leading = args
        .iter()
        .skip(2)
        .take(count)
        .map(RedisString::as_slice)
        .collect();
    Ok((name, leading))
}

/// The values after the first `first` arguments, as owned list items.
fn values_from<'a>(
    ctx: &'a Context,
    args: &'a [RedisString],
    first: usize,
) -> impl ExactSizeIterator<Item = RedisString> + 'a {
    args.get(first..)
        .unwrap_or_default()
        .iter()
        .map(move |value| value.safe_clone(ctx))
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
pub fn deque_rotate(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    let (name, leading) = key_and_leading(args, &DEQUE_ROTATE, 1)?;
    let mut parsed = Args::new(&leading);
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
pub fn deque_push(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    let (name, leading) = key_and_leading(args, &DEQUE_PUSH, 2)?;
    let mut parsed = Args::new(&leading);
    let end = if parsed.eat_keyword("LEFT") {
        End::Head
    } else if parsed.eat_keyword("RIGHT") {
        End::Tail
    } else {
        return Err(CommandError::Syntax);
    };
    let maxlen = MaxLen::from_wire(parsed.next_i64()?)?;
    parsed.finish()?;

    let mut key = ListKey::open(ctx, name)?;
    let existed = !key.is_empty();
    let written = list::push(&mut key, end, maxlen, values_from(ctx, args, 4))?;
    if written.changed {
        changed(ctx, name, &DEQUE_PUSH, existed && written.len == 0);
    }
    Ok(length(written.len))
}

/// `POTTERY.LIST.INSERT key index value`: Python's `list.insert(index, value)`; replies the
/// length.
pub fn list_insert(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    let (name, leading) = key_and_leading(args, &LIST_INSERT, 1)?;
    let mut parsed = Args::new(&leading);
    let index = parsed.next_i64()?;
    parsed.finish()?;
    let value = args
        .get(3)
        .ok_or(CommandError::WrongArity {
            command: LIST_INSERT.name,
        })?
        .safe_clone(ctx);

    let mut key = ListKey::open(ctx, name)?;
    let len = list::insert(&mut key, index, value)?;
    changed(ctx, name, &LIST_INSERT, false);
    Ok(length(len))
}

/// `POTTERY.LIST.POP key [index]`: Python's `list.pop(index)` (default −1); replies the element,
/// or nil for a missing key or an index out of range.
pub fn list_pop(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    // Every argument after the key is read, so that extra ones are a syntax error.
    let (name, leading) = key_and_leading(args, &LIST_POP, usize::MAX)?;
    let mut parsed = Args::new(&leading);
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
pub fn list_setslice(ctx: &Context, args: &[RedisString]) -> Result<RedisValue, CommandError> {
    let (name, leading) = key_and_leading(args, &LIST_SETSLICE, 2)?;
    let mut parsed = Args::new(&leading);
    let start = parsed.next_i64()?;
    let stop = parsed.next_i64()?;
    parsed.finish()?;

    let mut key = ListKey::open(ctx, name)?;
    let existed = !key.is_empty();
    let written = list::set_slice(&mut key, start, stop, values_from(ctx, args, 4))?;
    if written.changed {
        changed(ctx, name, &LIST_SETSLICE, existed && written.len == 0);
    }
    Ok(length(written.len))
}
