//! The semaphore and read-write lock commands (`POTTERY.SEM.*`, `POTTERY.RWLOCK.*`), described
//! as the rest of the catalog, with their key specs shared with the lock commands.

use super::{ACCESSED_KEY, LOCK_KEY, RELEASED_KEY, SINCE};
use crate::spec::{Arg, CommandSpec};

/// `POTTERY.SEM.ACQUIRE key holder permits limit ttl_ms [BLOCK ms]`.
pub const SEM_ACQUIRE: CommandSpec = CommandSpec {
    name: "pottery.sem.acquire",
    flags: "write deny-oom blocking",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("holder"),
        Arg::integer("permits"),
        Arg::integer("limit"),
        Arg::integer("ttl_ms"),
        Arg::integer("ms").token("BLOCK").optional(),
    ],
    summary: "Gives holder permits (1..limit) of the semaphore until ttl_ms from now if that many are free and nobody queues first, or refreshes its hold if it holds that many; replies 1 held, 0 not enough free. BLOCK ms waits up to ms (0: no limit) in the key's first-come-first-served queue, replying 0 at the timeout. ERR limit: does not match the semaphore's limit; ERR permits: differs from the permits the holder holds; WRONGTYPE for a non-semaphore.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.SEM.RELEASE key holder`.
pub const SEM_RELEASE: CommandSpec = CommandSpec {
    name: "pottery.sem.release",
    flags: "write",
    key_specs: RELEASED_KEY,
    args: &[Arg::key("key", 0), Arg::string("holder")],
    summary: "Frees holder's permits and hands them to the key's BLOCK waiters, oldest first (a waiter of holder is answered 0 and leaves); replies 1 released, 0 holder held none (or its hold had expired).",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.SEM.EXTEND key holder ttl_ms`.
pub const SEM_EXTEND: CommandSpec = CommandSpec {
    name: "pottery.sem.extend",
    flags: "write",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("holder"),
        Arg::integer("ttl_ms"),
    ],
    summary: "Moves the end of holder's live hold to ttl_ms from now (never re-creates one); replies 1 extended, 0 not held.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.SEM.AVAILABLE key limit`.
pub const SEM_AVAILABLE: CommandSpec = CommandSpec {
    name: "pottery.sem.available",
    flags: "readonly",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::integer("limit")],
    summary: "Replies the free permits of the semaphore of limit (limit for a missing key); ERR limit: does not match the semaphore's limit.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.SEM.INFO key`.
pub const SEM_INFO: CommandSpec = CommandSpec {
    name: "pottery.sem.info",
    flags: "readonly",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0)],
    summary: "Replies [limit, permits held, [[holder, permits, ms_left], ...]] (holders sorted), or nil when nobody holds a permit.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.RWLOCK.READ key holder ttl_ms [BLOCK ms]`.
pub const RWLOCK_READ: CommandSpec = CommandSpec {
    name: "pottery.rwlock.read",
    flags: "write deny-oom blocking",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("holder"),
        Arg::integer("ttl_ms"),
        Arg::integer("ms").token("BLOCK").optional(),
    ],
    summary: "A shared hold for holder until ttl_ms from now unless a writer holds the lock or waits for it, or others queue first (a reader's retry refreshes); replies 1 held, 0 refused. BLOCK ms waits up to ms (0: no limit) in the key's first-come-first-served queue, replying 0 at the timeout.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.RWLOCK.WRITE key holder ttl_ms intent_ms [BLOCK ms]`.
pub const RWLOCK_WRITE: CommandSpec = CommandSpec {
    name: "pottery.rwlock.write",
    flags: "write deny-oom blocking",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("holder"),
        Arg::integer("ttl_ms"),
        Arg::integer("intent_ms"),
        Arg::integer("ms").token("BLOCK").optional(),
    ],
    summary: "The exclusive hold for holder until ttl_ms from now if nobody else reads or writes and nobody queues first (a retry refreshes); refused while others hold it, it leaves an intent for intent_ms (0: none) that keeps new readers out; replies 1 held, 0 refused. BLOCK ms waits up to ms (0: no limit) in the key's first-come-first-served queue, replying 0 at the timeout.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.RWLOCK.RELEASE key holder`.
pub const RWLOCK_RELEASE: CommandSpec = CommandSpec {
    name: "pottery.rwlock.release",
    flags: "write",
    key_specs: RELEASED_KEY,
    args: &[Arg::key("key", 0), Arg::string("holder")],
    summary: "Ends holder's read or write hold, or withdraws its intent, and hands the lock to the key's BLOCK waiters, oldest first (a waiter of holder is answered 0 and leaves); replies 1 released, 0 held nothing.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.RWLOCK.EXTEND key holder ttl_ms`.
pub const RWLOCK_EXTEND: CommandSpec = CommandSpec {
    name: "pottery.rwlock.extend",
    flags: "write",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("holder"),
        Arg::integer("ttl_ms"),
    ],
    summary: "Moves the end of holder's live read or write hold to ttl_ms from now (never re-creates one); replies 1 extended, 0 not held.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};

/// `POTTERY.RWLOCK.INFO key`.
pub const RWLOCK_INFO: CommandSpec = CommandSpec {
    name: "pottery.rwlock.info",
    flags: "readonly",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0)],
    summary: "Replies [[holder, read|write|wait, ms_left], ...] for every live holder and waiting writer, sorted by holder; empty when nobody.",
    complexity: "O(N) where N is the number of holders",
    since: SINCE,
};
