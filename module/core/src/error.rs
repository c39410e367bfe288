//! The errors a command can reply, with Redis's exact texts.

use std::fmt;

/// An error reply. [`fmt::Display`] gives the full reply text, error code included, exactly as
/// Redis words its standard errors; module-specific problems read `ERR <argument>: <problem>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// `ERR wrong number of arguments for '<command>' command`.
    WrongArity {
        /// The command's registered (lowercase) name.
        command: &'static str,
    },
    /// `ERR value is not an integer or out of range`.
    NotAnInteger,
    /// `ERR increment or decrement would overflow`.
    Overflow,
    /// `ERR syntax error`.
    Syntax,
    /// `ERR invalid expire time in '<command>' command`, Redis's text for a bad `SET ... PX`.
    InvalidExpireTime {
        /// The command's registered (lowercase) name.
        command: &'static str,
    },
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`.
    WrongType,
    /// `ERR <argument>: <problem>`, for rules that are ours rather than Redis's.
    Argument {
        /// The argument's name as the command's syntax shows it.
        argument: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An error with a fixed text of its own, complete with its code: RedisBloom's wording
    /// (`ERR bad capacity`, `ERR item exists`) or Redis's HyperLogLog texts.
    Reply(&'static str),
    /// A failure inside Redis that the command could not work around, such as a key that could
    /// not be written. The text is a complete error reply.
    Internal(&'static str),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::WrongArity { command } => {
                write!(f, "ERR wrong number of arguments for '{command}' command")
            }
            CommandError::NotAnInteger => {
                f.write_str("ERR value is not an integer or out of range")
            }
            CommandError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CommandError::Syntax => f.write_str("ERR syntax error"),
            CommandError::InvalidExpireTime { command } => {
                write!(f, "ERR invalid expire time in '{command}' command")
            }
            CommandError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CommandError::Argument { argument, problem } => write!(f, "ERR {argument}: {problem}"),
            CommandError::Reply(text) | CommandError::Internal(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CommandError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        assert_eq!(
            CommandError::WrongArity {
                command: "pottery.nextid"
            }
            .to_string(),
            "ERR wrong number of arguments for 'pottery.nextid' command"
        );
        assert_eq!(
            CommandError::NotAnInteger.to_string(),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(
            CommandError::Overflow.to_string(),
            "ERR increment or decrement would overflow"
        );
        assert_eq!(CommandError::Syntax.to_string(), "ERR syntax error");
        assert_eq!(
            CommandError::WrongType.to_string(),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(
            CommandError::Argument {
                argument: "first",
                problem: "must not exceed value"
            }
            .to_string(),
            "ERR first: must not exceed value"
        );
    }
}
