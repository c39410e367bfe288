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

/// Every command, in registration and help order.
pub const COMMANDS: &[CommandSpec] = &[HELP, NEXTID, NEXTID_CLAIM];

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
    }

    #[test]
    fn help_shows_syntax() {
        let lines = help_lines();
        assert!(lines.contains(&"POTTERY.NEXTID key".to_string()));
        assert!(lines.contains(&"POTTERY.NEXTID.CLAIM key value [FROM first]".to_string()));
    }
}
