//! Every command the module adds, described once.
//!
//! The module registers exactly [`COMMANDS`], in this order, and refuses to load if its handler
//! table disagrees; `POTTERY.HELP` lists them in this order.

use crate::spec::{Arg, CommandSpec, KeyFlag, KeySpec};

mod synchronizers;
pub use synchronizers::*;

/// The module's version as `MODULE LIST` reports it: major * 10000 + minor * 100 + patch.
pub const MODULE_VERSION: i32 = 100;

/// The version string used for `since` in `COMMAND DOCS`.
pub const SINCE: &str = "0.1.0";

/// A read-write key at argv position 1 whose value is updated from its old value.
const UPDATED_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
}];

/// A key at argv position 1 that the command may create or add to.
const INSERTED_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Insert],
}];

/// A key at argv position 1 whose value the command reads and returns data from.
const ACCESSED_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadOnly, KeyFlag::Access],
}];

/// A key at argv position 1 of which the command reads only metadata.
const READ_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadOnly],
}];

/// `POTTERY.HELP`.
pub const HELP: CommandSpec = CommandSpec {
    name: "pottery.help",
    flags: "fast allow-loading allow-stale",
    key_specs: &[],
    args: &[],
    summary: "Lists every pottery command with its syntax.",
    complexity: "O(N) where N is the number of commands",
    since: SINCE,
};

/// `POTTERY.NEXTID key`.
pub const NEXTID: CommandSpec = CommandSpec {
    name: "pottery.nextid",
    flags: "write deny-oom fast",
    key_specs: UPDATED_KEY,
    args: &[Arg::key("key", 0)],
    summary: "Increments the ID counter at key (absent = 0) and returns the new value; for a single master.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.NEXTID.CLAIM key value [FROM first]`.
pub const NEXTID_CLAIM: CommandSpec = CommandSpec {
    name: "pottery.nextid.claim",
    flags: "write deny-oom fast",
    key_specs: UPDATED_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::integer("value"),
        Arg::integer("first").token("FROM").optional(),
    ],
    summary: "Stores value if the block first..value (first defaults to value) lies above the counter; replies [1, value] or [0, current].",
    complexity: "O(1)",
    since: SINCE,
};

/// A list key at argv position 1 that the command reads and rewrites in place.
const UPDATED_LIST: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Update],
}];

/// A list key at argv position 1 that gains elements.
const GROWN_LIST: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Insert],
}];

/// A list key at argv position 1 that hands out and removes an element.
const POPPED_LIST: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Delete],
}];

const LEFT_OR_RIGHT: &[Arg] = &[Arg::keyword("LEFT"), Arg::keyword("RIGHT")];

/// `POTTERY.DEQUE.ROTATE key n`.
pub const DEQUE_ROTATE: CommandSpec = CommandSpec {
    name: "pottery.deque.rotate",
    flags: "write",
    key_specs: UPDATED_LIST,
    args: &[Arg::key("key", 0), Arg::integer("n")],
    summary: "Python deque.rotate(n): rotates the list n steps to the right (negative: left); replies the length.",
    complexity: "O(min(K, N-K)) where K is n modulo the list length N",
    since: SINCE,
};

/// `POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]`.
pub const DEQUE_PUSH: CommandSpec = CommandSpec {
    name: "pottery.deque.push",
    flags: "write deny-oom fast",
    // Gains elements and may lose some to the trim: Redis allows one of INSERT/DELETE/UPDATE.
    key_specs: UPDATED_LIST,
    args: &[
        Arg::key("key", 0),
        Arg::one_of("end", LEFT_OR_RIGHT),
        Arg::integer("maxlen"),
        Arg::string("value").multiple(),
    ],
    summary: "Python deque extend (RIGHT) or extendleft (LEFT), then trims the other end to maxlen (-1: unbounded); replies the length.",
    complexity: "O(M + T) for M values and T trimmed elements",
    since: SINCE,
};

/// `POTTERY.LIST.INSERT key index value`.
pub const LIST_INSERT: CommandSpec = CommandSpec {
    name: "pottery.list.insert",
    flags: "write deny-oom",
    key_specs: GROWN_LIST,
    args: &[
        Arg::key("key", 0),
        Arg::integer("index"),
        Arg::string("value"),
    ],
    summary: "Python list.insert(index, value): negative counts from the end, out of range clamps; replies the length.",
    complexity: "O(N) where N is the distance to the nearest end",
    since: SINCE,
};

/// `POTTERY.LIST.POP key [index]`.
pub const LIST_POP: CommandSpec = CommandSpec {
    name: "pottery.list.pop",
    flags: "write",
    key_specs: POPPED_LIST,
    args: &[Arg::key("key", 0), Arg::integer("index").optional()],
    summary: "Python list.pop(index), index default -1: removes and replies the element, nil when out of range.",
    complexity: "O(N) where N is the distance to the nearest end",
    since: SINCE,
};

/// `POTTERY.LIST.SETSLICE key start stop [value ...]`.
pub const LIST_SETSLICE: CommandSpec = CommandSpec {
    name: "pottery.list.setslice",
    flags: "write deny-oom",
    key_specs: UPDATED_LIST,
    args: &[
        Arg::key("key", 0),
        Arg::integer("start"),
        Arg::integer("stop"),
        Arg::string("value").optional().multiple(),
    ],
    summary: "Python l[start:stop] = values (stop exclusive; no values deletes the slice); replies the length.",
    complexity: "O(N + M) where N is the slice's distance to the head plus its length and M the values",
    since: SINCE,
};

/// A lock key at argv position 1 that is read, then created, updated or deleted.
const LOCK_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
}];

/// A lock key at 1 that is created or updated, and a fence counter at 2 that is updated.
const LOCK_AND_FENCE_KEYS: &[KeySpec] = &[
    KeySpec {
        index: 1,
        flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
    },
    KeySpec {
        index: 2,
        flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
    },
];

/// A lock key at 1 that is only read, and a fence counter at 2 that is updated.
const HELD_LOCK_AND_FENCE_KEYS: &[KeySpec] = &[
    KeySpec {
        index: 1,
        flags: &[KeyFlag::ReadOnly, KeyFlag::Access],
    },
    KeySpec {
        index: 2,
        flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
    },
];

/// A lock key at 1 that is deleted if it holds the token.
const RELEASED_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Delete],
}];

/// `POTTERY.LOCK key token ttl_ms [BLOCK ms]`.
pub const LOCK: CommandSpec = CommandSpec {
    name: "pottery.lock",
    flags: "write deny-oom fast blocking",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("token"),
        Arg::integer("ttl_ms"),
        Arg::integer("ms").token("BLOCK").optional(),
    ],
    summary: "Sets key to token with a TTL if absent, or resets the TTL if it holds token already; replies 1 acquired, 0 held by another. BLOCK ms waits up to ms (0: no limit) in the key's first-come-first-served queue, replying 0 at the timeout.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.LOCK.FENCED key fencekey token ttl_ms [BLOCK ms]`.
pub const LOCK_FENCED: CommandSpec = CommandSpec {
    name: "pottery.lock.fenced",
    flags: "write deny-oom fast blocking",
    key_specs: LOCK_AND_FENCE_KEYS,
    args: &[
        Arg::key("key", 0),
        Arg::key("fencekey", 1),
        Arg::string("token"),
        Arg::integer("ttl_ms"),
        Arg::integer("ms").token("BLOCK").optional(),
    ],
    summary: "As POTTERY.LOCK (BLOCK included), and a new acquisition increments the counter at fencekey; replies the counter when held by token, 0 when held by another.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.LOCK.FENCE key fencekey token value`.
pub const LOCK_FENCE: CommandSpec = CommandSpec {
    name: "pottery.lock.fence",
    flags: "write fast",
    key_specs: HELD_LOCK_AND_FENCE_KEYS,
    args: &[
        Arg::key("key", 0),
        Arg::key("fencekey", 1),
        Arg::string("token"),
        Arg::integer("value"),
    ],
    summary: "If key holds token, raises the counter at fencekey to value; replies [1, value], [0, current] if above, [-1, current] if not held.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.UNLOCK key token`.
pub const UNLOCK: CommandSpec = CommandSpec {
    name: "pottery.unlock",
    flags: "write fast",
    key_specs: RELEASED_KEY,
    args: &[Arg::key("key", 0), Arg::string("token")],
    summary: "Deletes key if it holds token (a BLOCK waiter of token on key is answered 0 and leaves); replies 1 deleted, 0 not held by token.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.EXTEND key token ttl_ms`.
pub const EXTEND: CommandSpec = CommandSpec {
    name: "pottery.extend",
    flags: "write fast",
    key_specs: LOCK_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::string("token"),
        Arg::integer("ttl_ms"),
    ],
    summary: "Resets the TTL of key if it holds token (never re-creates it); replies 1 extended, 0 not held by token.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.LOCKED key token`.
pub const LOCKED: CommandSpec = CommandSpec {
    name: "pottery.locked",
    flags: "readonly fast",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::string("token")],
    summary: "Replies the milliseconds left if key holds token, -1 if it holds it without expiry, 0 if not held by token.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.LOCK.HOLDER key`.
pub const LOCK_HOLDER: CommandSpec = CommandSpec {
    name: "pottery.lock.holder",
    flags: "readonly fast",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0)],
    summary: "Replies [token, ms_left] for the lock's holder (ms_left -1 without expiry), or nil when not held.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.FENCE.CHECK key token`.
pub const FENCE_CHECK: CommandSpec = CommandSpec {
    name: "pottery.fence.check",
    flags: "write fast",
    key_specs: UPDATED_KEY,
    args: &[Arg::key("key", 0), Arg::integer("token")],
    summary: "For the protected resource: stores the fencing token if not below the stored one (absent = 0); replies 1 accepted, 0 stale.",
    complexity: "O(1)",
    since: SINCE,
};

/// `POTTERY.BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]`.
pub const BF_RESERVE: CommandSpec = CommandSpec {
    name: "pottery.bf.reserve",
    flags: "write deny-oom",
    key_specs: INSERTED_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::double("error_rate"),
        Arg::integer("capacity"),
        Arg::integer("expansion").token("EXPANSION").optional(),
        Arg::keyword("NONSCALING").optional(),
    ],
    summary: "Creates an empty Bloom filter for capacity items at error_rate; ERR item exists if the key exists.",
    complexity: "O(1) plus zeroing the bit array",
    since: SINCE,
};

/// `POTTERY.BF.ADD key item`.
pub const BF_ADD: CommandSpec = CommandSpec {
    name: "pottery.bf.add",
    flags: "write deny-oom fast",
    key_specs: INSERTED_KEY,
    args: &[Arg::key("key", 0), Arg::string("item")],
    summary: "Adds item (creating the filter with the configured defaults); 1 if it was new, 0 if it may have been added before.",
    complexity: "O(K) where K is the number of hash functions",
    since: SINCE,
};

/// `POTTERY.BF.MADD key item [item ...]`.
pub const BF_MADD: CommandSpec = CommandSpec {
    name: "pottery.bf.madd",
    flags: "write deny-oom",
    key_specs: INSERTED_KEY,
    args: &[Arg::key("key", 0), Arg::string("item").multiple()],
    summary: "Adds every item like POTTERY.BF.ADD; an array of 1/0, or an error entry per item that could not be added.",
    complexity: "O(K * N) where N is the number of items",
    since: SINCE,
};

/// `POTTERY.BF.INSERT key [CAPACITY capacity] [ERROR error] [EXPANSION expansion] [NOCREATE]
/// [NONSCALING] ITEMS item [item ...]`.
pub const BF_INSERT: CommandSpec = CommandSpec {
    name: "pottery.bf.insert",
    flags: "write deny-oom",
    key_specs: INSERTED_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::integer("capacity").token("CAPACITY").optional(),
        Arg::double("error").token("ERROR").optional(),
        Arg::integer("expansion").token("EXPANSION").optional(),
        Arg::keyword("NOCREATE").optional(),
        Arg::keyword("NONSCALING").optional(),
        Arg::string("item").token("ITEMS").multiple(),
    ],
    summary: "Adds items, creating the filter with the given parameters unless NOCREATE; an array of 1/0.",
    complexity: "O(K * N) where N is the number of items",
    since: SINCE,
};

/// `POTTERY.BF.EXISTS key item`.
pub const BF_EXISTS: CommandSpec = CommandSpec {
    name: "pottery.bf.exists",
    flags: "readonly fast",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::string("item")],
    summary: "1 if item may have been added, 0 if it certainly was not (also for a missing key).",
    complexity: "O(K * F) where F is the number of sub-filters",
    since: SINCE,
};

/// `POTTERY.BF.MEXISTS key item [item ...]`.
pub const BF_MEXISTS: CommandSpec = CommandSpec {
    name: "pottery.bf.mexists",
    flags: "readonly fast",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::string("item").multiple()],
    summary: "POTTERY.BF.EXISTS for every item: an array of 1/0.",
    complexity: "O(K * F * N) where N is the number of items",
    since: SINCE,
};

/// `POTTERY.BF.CARD key`.
pub const BF_CARD: CommandSpec = CommandSpec {
    name: "pottery.bf.card",
    flags: "readonly fast",
    key_specs: READ_KEY,
    args: &[Arg::key("key", 0)],
    summary: "Number of items added to the filter (0 for a missing key).",
    complexity: "O(1)",
    since: SINCE,
};

/// The fields `POTTERY.BF.INFO` can be asked for one at a time.
const BF_INFO_FIELDS: &[Arg] = &[
    Arg::keyword("CAPACITY"),
    Arg::keyword("SIZE"),
    Arg::keyword("FILTERS"),
    Arg::keyword("ITEMS"),
    Arg::keyword("EXPANSION"),
];

/// `POTTERY.BF.INFO key [CAPACITY|SIZE|FILTERS|ITEMS|EXPANSION]`.
pub const BF_INFO: CommandSpec = CommandSpec {
    name: "pottery.bf.info",
    flags: "readonly fast",
    key_specs: READ_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::one_of("field", BF_INFO_FIELDS).optional(),
    ],
    summary: "Capacity, Size (bytes of bit arrays), Number of filters, Number of items inserted, Expansion rate; or one of them.",
    complexity: "O(F) where F is the number of sub-filters",
    since: SINCE,
};

/// `POTTERY.BF.SCANDUMP key iterator`.
pub const BF_SCANDUMP: CommandSpec = CommandSpec {
    name: "pottery.bf.scandump",
    flags: "readonly",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::integer("iterator")],
    summary: "Dumps the filter in chunks: start at 0, pass each returned iterator back, done when it is 0.",
    complexity: "O(S) where S is the chunk size (at most 16 MiB)",
    since: SINCE,
};

/// `POTTERY.BF.LOADCHUNK key iterator data`.
pub const BF_LOADCHUNK: CommandSpec = CommandSpec {
    name: "pottery.bf.loadchunk",
    flags: "write deny-oom",
    key_specs: &[KeySpec {
        index: 1,
        flags: &[KeyFlag::ReadWrite, KeyFlag::Update],
    }],
    args: &[
        Arg::key("key", 0),
        Arg::integer("iterator"),
        Arg::string("data"),
    ],
    summary: "Restores a filter from POTTERY.BF.SCANDUMP chunks, in order, each with the iterator it came with.",
    complexity: "O(S) where S is the chunk size",
    since: SINCE,
};

/// `POTTERY.HLL.CONTAINS key element [element ...]`.
pub const HLL_CONTAINS: CommandSpec = CommandSpec {
    name: "pottery.hll.contains",
    flags: "readonly fast",
    key_specs: ACCESSED_KEY,
    args: &[Arg::key("key", 0), Arg::string("element").multiple()],
    summary: "Per element 1 if PFADD would not change the HyperLogLog (it may have been added), 0 if it certainly was not.",
    complexity: "O(N) where N is the number of elements (plus decoding a sparse HyperLogLog)",
    since: SINCE,
};

/// `POTTERY.THROTTLE key max_burst count period [quantity] [MS]`.
pub const THROTTLE: CommandSpec = CommandSpec {
    name: "pottery.throttle",
    flags: "write deny-oom fast",
    key_specs: UPDATED_KEY,
    args: &[
        Arg::key("key", 0),
        Arg::integer("max_burst"),
        Arg::integer("count"),
        Arg::integer("period"),
        Arg::integer("quantity").optional(),
        Arg::keyword("MS").optional(),
    ],
    summary: "GCRA rate limit as redis-cell's CL.THROTTLE: takes quantity (default 1) of max_burst+1, refilled count per period seconds; replies [limited, limit, remaining, retry_after, reset_after] (seconds, or ms with MS).",
    complexity: "O(1)",
    since: SINCE,
};

/// Every command, in registration and help order.
pub const COMMANDS: &[CommandSpec] = &[
    HELP,
    NEXTID,
    NEXTID_CLAIM,
    DEQUE_ROTATE,
    DEQUE_PUSH,
    LIST_INSERT,
    LIST_POP,
    LIST_SETSLICE,
    LOCK,
    LOCK_FENCED,
    LOCK_FENCE,
    UNLOCK,
    EXTEND,
    LOCKED,
    LOCK_HOLDER,
    FENCE_CHECK,
    SEM_ACQUIRE,
    SEM_RELEASE,
    SEM_EXTEND,
    SEM_AVAILABLE,
    SEM_INFO,
    RWLOCK_READ,
    RWLOCK_WRITE,
    RWLOCK_RELEASE,
    RWLOCK_EXTEND,
    RWLOCK_INFO,
    BF_RESERVE,
    BF_ADD,
    BF_MADD,
    BF_INSERT,
    BF_EXISTS,
    BF_MEXISTS,
    BF_CARD,
    BF_INFO,
    BF_SCANDUMP,
    BF_LOADCHUNK,
    HLL_CONTAINS,
    THROTTLE,
];

/// The reply of `POTTERY.HELP`: each command's syntax, then its summary indented, as Redis's
/// own `HELP` subcommands format their lines.
pub fn help_lines() -> Vec<String> {
    let mut lines = Vec::with_capacity(COMMANDS.len() * 2);
    for command in COMMANDS {
        lines.push(command.syntax());
        lines.push(format!("    {}", command.summary));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_command_is_consistent() {
        let mut names = HashSet::new();
        for command in COMMANDS {
            assert!(names.insert(command.name), "{} listed twice", command.name);
            assert!(command.problems().is_empty(), "{:?}", command.problems());
            assert!(!command.summary.is_empty() && !command.complexity.is_empty());
        }
    }

    #[test]
    fn arities_match_design() {
        assert_eq!(HELP.arity(), 1);
        assert_eq!(NEXTID.arity(), 2);
        assert_eq!(NEXTID_CLAIM.arity(), -3);
        assert_eq!(BF_RESERVE.arity(), -4);
        assert_eq!(BF_ADD.arity(), 3);
        assert_eq!(BF_MADD.arity(), -3);
        assert_eq!(BF_INSERT.arity(), -4);
        assert_eq!(BF_EXISTS.arity(), 3);
        assert_eq!(BF_MEXISTS.arity(), -3);
        assert_eq!(BF_CARD.arity(), 2);
        assert_eq!(BF_INFO.arity(), -2);
        assert_eq!(BF_SCANDUMP.arity(), 3);
        assert_eq!(BF_LOADCHUNK.arity(), 4);
        assert_eq!(HLL_CONTAINS.arity(), -3);
        // An optional BLOCK ms may follow.
        assert_eq!(LOCK.arity(), -4);
        assert_eq!(LOCK_FENCED.arity(), -5);
        assert_eq!(LOCK_FENCE.arity(), 5);
        assert_eq!(UNLOCK.arity(), 3);
        assert_eq!(EXTEND.arity(), 4);
        assert_eq!(LOCKED.arity(), 3);
        assert_eq!(LOCK_HOLDER.arity(), 2);
        assert_eq!(FENCE_CHECK.arity(), 3);
        assert_eq!(SEM_ACQUIRE.arity(), -6);
        assert_eq!(SEM_RELEASE.arity(), 3);
        assert_eq!(SEM_EXTEND.arity(), 4);
        assert_eq!(SEM_AVAILABLE.arity(), 3);
        assert_eq!(SEM_INFO.arity(), 2);
        assert_eq!(RWLOCK_READ.arity(), -4);
        assert_eq!(RWLOCK_WRITE.arity(), -5);
        assert_eq!(RWLOCK_RELEASE.arity(), 3);
        assert_eq!(RWLOCK_EXTEND.arity(), 4);
        assert_eq!(RWLOCK_INFO.arity(), 2);
        assert_eq!(LOCK_FENCED.key_range(), (1, 2, 1));
        assert_eq!(DEQUE_ROTATE.arity(), 3);
        assert_eq!(DEQUE_PUSH.arity(), -5);
        assert_eq!(LIST_INSERT.arity(), 4);
        assert_eq!(LIST_POP.arity(), -2);
        assert_eq!(LIST_SETSLICE.arity(), -4);
        assert_eq!(THROTTLE.arity(), -5);
    }

    #[test]
    fn help_shows_syntax() {
        let lines = help_lines();
        assert!(lines.contains(&"POTTERY.NEXTID key".to_string()));
        assert!(lines.contains(&"POTTERY.NEXTID.CLAIM key value [FROM first]".to_string()));
        assert!(lines.contains(&"POTTERY.BF.INSERT key [CAPACITY capacity] [ERROR error] [EXPANSION expansion] [NOCREATE] [NONSCALING] ITEMS item [item ...]".to_string()));
        assert!(lines
            .contains(&"POTTERY.BF.INFO key [CAPACITY|SIZE|FILTERS|ITEMS|EXPANSION]".to_string()));
        for syntax in [
            "POTTERY.DEQUE.ROTATE key n",
            "POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]",
            "POTTERY.LIST.INSERT key index value",
            "POTTERY.LIST.POP key [index]",
            "POTTERY.LIST.SETSLICE key start stop [value [value ...]]",
            "POTTERY.THROTTLE key max_burst count period [quantity] [MS]",
        ] {
            assert!(lines.contains(&syntax.to_string()), "{syntax}");
        }
    }
}
