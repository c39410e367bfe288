//! Command handlers, one file per family, and the one table that pairs each catalog entry
//! with its handler.
//!
//! Each handler takes its keys and arguments from a [`Request`], calls pure logic from
//! `pottery-core`, writes through [`crate::host::write`] and returns the reply. Adding a
//! command means describing it in `pottery_core::catalog` and adding one line to [`COMMANDS`];
//! registration refuses to load the module if this table and the catalog disagree.

pub mod bloom;
pub mod help;
pub mod hll;
pub mod holders;
pub mod list;
pub mod lock;
pub mod nextid;
pub mod rwlock;
pub mod semaphore;
pub mod throttle;

use crate::host::dispatch::{command, Command};
pub use crate::host::request::Request;
use pottery_core::args::Args;
use pottery_core::catalog;
use pottery_core::lock::block_ms;
use pottery_core::rwlock::RwLock;
use pottery_core::semaphore::Semaphore;
use pottery_core::CommandError;
use redis_module::RedisString;

/// The optional `BLOCK ms` that ends a blocking command (`LOCK`, `SEM.ACQUIRE`,
/// `RWLOCK.READ`/`WRITE`): how long to wait in the key's queue (0: no limit).
fn block_option(parsed: &mut Args<'_, RedisString>) -> Result<Option<i64>, CommandError> {
    if parsed.eat_keyword("BLOCK") {
        Ok(Some(block_ms(parsed.next_bytes()?)?))
    } else {
        Ok(None)
    }
}

/// Every command, in the catalog's order.
pub static COMMANDS: &[Command] = &[
    command!(catalog::HELP, help::help),
    command!(catalog::NEXTID, nextid::nextid),
    command!(catalog::NEXTID_CLAIM, nextid::claim),
    command!(catalog::DEQUE_ROTATE, list::deque_rotate),
    command!(catalog::DEQUE_PUSH, list::deque_push),
    command!(catalog::LIST_INSERT, list::list_insert),
    command!(catalog::LIST_POP, list::list_pop),
    command!(catalog::LIST_SETSLICE, list::list_setslice),
    command!(catalog::LOCK, lock::lock),
    command!(catalog::LOCK_FENCED, lock::lock_fenced),
    command!(catalog::LOCK_FENCE, lock::lock_fence),
    command!(catalog::UNLOCK, lock::unlock),
    command!(catalog::EXTEND, lock::extend),
    command!(catalog::LOCKED, lock::locked),
    command!(catalog::LOCK_HOLDER, lock::lock_holder),
    command!(catalog::FENCE_CHECK, lock::fence_check_command),
    command!(catalog::SEM_ACQUIRE, semaphore::acquire),
    command!(catalog::SEM_RELEASE, holders::release::<Semaphore>),
    command!(catalog::SEM_EXTEND, holders::extend::<Semaphore>),
    command!(catalog::SEM_AVAILABLE, semaphore::available),
    command!(catalog::SEM_INFO, semaphore::info),
    command!(catalog::RWLOCK_READ, rwlock::read),
    command!(catalog::RWLOCK_WRITE, rwlock::write),
    command!(catalog::RWLOCK_RELEASE, holders::release::<RwLock>),
    command!(catalog::RWLOCK_EXTEND, holders::extend::<RwLock>),
    command!(catalog::RWLOCK_INFO, rwlock::info),
    command!(catalog::BF_RESERVE, bloom::reserve),
    command!(catalog::BF_ADD, bloom::add),
    command!(catalog::BF_MADD, bloom::madd),
    command!(catalog::BF_INSERT, bloom::insert),
    command!(catalog::BF_EXISTS, bloom::exists),
    command!(catalog::BF_MEXISTS, bloom::mexists),
    command!(catalog::BF_CARD, bloom::card),
    command!(catalog::BF_INFO, bloom::info),
    command!(catalog::BF_SCANDUMP, bloom::scandump),
    command!(catalog::BF_LOADCHUNK, bloom::loadchunk),
    command!(catalog::HLL_CONTAINS, hll::contains),
    command!(catalog::THROTTLE, throttle::throttle),
];
