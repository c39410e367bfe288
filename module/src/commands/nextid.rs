//! `POTTERY.NEXTID` and `POTTERY.NEXTID.CLAIM`: one master's part of distributed NextID.

use super::Request;
use crate::host::stats;
use crate::host::write::{commit, Propagation};
use crate::keys::counter_key::CounterKey;
use pottery_core::catalog::{NEXTID, NEXTID_CLAIM};
use pottery_core::nextid::{claim as decide_claim, increment, Claim};
use pottery_core::CommandError;
use redis_module::{Context, NotifyEvent, RedisValue};

/// `POTTERY.NEXTID key`: increments the counter and replies the new value.
pub fn nextid(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    request.args().finish()?;

    let key = CounterKey::open(ctx, name)?;
    let next = increment(key.get()?)?;
    key.set(next)?;
    stats::NEXTID_INCREMENTS.increment();
    commit(
        ctx,
        name,
        NotifyEvent::STRING,
        NEXTID.name,
        Propagation::Verbatim,
    );
    Ok(RedisValue::Integer(next))
}

/// `POTTERY.NEXTID.CLAIM key value [FROM first]`: replies `[1, value]` when stored, else
/// `[0, current]`.
pub fn claim(ctx: &Context, request: &Request) -> Result<RedisValue, CommandError> {
    let name = request.key(0)?;
    let mut parsed = request.args();
    let value = parsed.next_i64()?;
    let first = if parsed.eat_keyword("FROM") {
        parsed.next_i64()?
    } else {
        value
    };
    parsed.finish()?;

    let key = CounterKey::open(ctx, name)?;
    let reply = match decide_claim(key.get()?, value, first)? {
        Claim::Won(stored) => {
            stats::CLAIMS_WON.increment();
            key.set(stored)?;
            commit(
                ctx,
                name,
                NotifyEvent::STRING,
                NEXTID_CLAIM.name,
                Propagation::Verbatim,
            );
            [1, stored]
        }
        Claim::Lost(current) => {
            stats::CLAIMS_LOST.increment();
            [0, current]
        }
    };
    Ok(RedisValue::Array(
        reply.into_iter().map(RedisValue::Integer).collect(),
    ))
}
