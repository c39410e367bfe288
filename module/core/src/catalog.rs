//! Every command the module adds, described once.
//!
//! The module registers exactly [`COMMANDS`], in this order, and refuses to load if its handler
//! table disagrees; `POTTERY.HELP` lists them in this order.

use crate::spec::{Arg, CommandSpec, KeyFlag, KeySpec};

/// The module's version as `MODULE LIST` reports it: major * 10000 + minor * 100 + patch.
pub const MODULE_VERSION: i32 = 100;

/// The version string used for `since` in `COMMAND DOCS`.
pub const SINCE: &str = "0.1.0";

/// A read-write key at argv position 1 whose value is updated from its old value.
const UPDATED_KEY: &[KeySpec] = &[KeySpec {
    index: 1,
    flags: &[KeyFlag::ReadWrite, KeyFlag::Access, KeyFlag::Update],
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
        assert_eq!(DEQUE_ROTATE.arity(), 3);
        assert_eq!(DEQUE_PUSH.arity(), -5);
        assert_eq!(LIST_INSERT.arity(), 4);
        assert_eq!(LIST_POP.arity(), -2);
        assert_eq!(LIST_SETSLICE.arity(), -4);
    }

    #[test]
    fn help_shows_syntax() {
        let lines = help_lines();
        assert!(lines.contains(&"POTTERY.NEXTID key".to_string()));
        assert!(lines.contains(&"POTTERY.NEXTID.CLAIM key value [FROM first]".to_string()));
        for syntax in [
            "POTTERY.DEQUE.ROTATE key n",
            "POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]",
            "POTTERY.LIST.INSERT key index value",
            "POTTERY.LIST.POP key [index]",
            "POTTERY.LIST.SETSLICE key start stop [value [value ...]]",
        ] {
            assert!(lines.contains(&syntax.to_string()), "{syntax}");
        }
    }
}
