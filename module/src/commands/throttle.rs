//! `POTTERY.THROTTLE`: redis-cell's `CL.THROTTLE` rate limit, decided by
//! `pottery_core::throttle`.
//!
//! The key holds the TAT as redis-cell writes it (decimal nanoseconds since the epoch), so
//! either command continues the other's limits. The decision reads the master's clock, so an
//! allowed request is replicated as its effect, `SET key <tat> PXAT <ms>`, never verbatim: a
//! replica or an AOF replay must not decide again at a later time. A refused request or a
//! quantity of 0 writes, replicates and notifies nothing (though reading a TAT that `SET`
//! stored in Redis's integer or embedded encoding leaves it a raw string, as our own writes
//! store it: `GET` sees the same bytes).

use super::Request;
use crate::host::stats;
use crate::host::write::{commit, Effect, Propagation};
use crate::keys::counter_key::CounterKey;
use pottery_core::catalog::THROTTLE;
use pottery_core::integer::{format_i64, MAX_I64_DIGITS};
use pottery_core::throttle::{expiry_ms, parse};
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisValue};
use std::time::{SystemTime, UNIX_EPOCH};

/// The server's wall clock in nanoseconds since the epoch, the clock redis-cell uses too
/// (Redis expires keys by the same clock, in milliseconds).
fn now_ns() -> Result<i64, CommandError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_nanos()).ok())
        .ok_or(CommandError::Internal(
            "ERR the server clock is out of range",
        ))
}

/// `POTTERY.THROTTLE key max_burst count period [quantity] [MS]`: `[limited, limit,
/// remaining, retry_after, reset_after]`.
pub fn throttle(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let call = parse(request.args())?;

    let key = CounterKey::open(ctx, name)?;
    let outcome = call
        .gcra
        .decide(key.get_for_overwrite()?, now_ns()?, call.quantity)?;
    if outcome.limited {
        stats::THROTTLE_LIMITED.increment();
    } else {
        stats::THROTTLE_ALLOWED.increment();
    }
    if let Some(tat) = outcome.store {
        let at = expiry_ms(tat);
        key.set_expiring_at(tat, at)?;
        let mut tat_digits = [0u8; MAX_I64_DIGITS];
        let mut at_digits = [0u8; MAX_I64_DIGITS];
        let set_args: [&[u8]; 4] = [
            name.as_slice(),
            format_i64(tat, &mut tat_digits),
            b"PXAT",
            format_i64(at, &mut at_digits),
        ];
        commit(
            ctx,
            name,
            NotifyEvent::STRING,
            THROTTLE.name,
            Propagation::Effects(&[Effect {
                command: "SET",
                args: &set_args,
            }]),
        );
    }
    Ok(RedisValue::Array(
        outcome
            .reply(call.unit)
            .into_iter()
            .map(RedisValue::Integer)
            .collect(),
    ))
}
