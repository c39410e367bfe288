//! How a command is described: flags, key positions and key specs, arguments, summary.
//!
//! A [`CommandSpec`] is static data. The module registers each command from it
//! (`RedisModule_CreateCommand` and `RedisModule_SetCommandInfo`), `POTTERY.HELP` prints its
//! [`syntax`](CommandSpec::syntax), and `COMMAND DOCS`/`COMMAND INFO` show its arguments and key
//! specs, so these can never disagree.

/// What a command does with one key, as Redis's key-spec flags say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFlag {
    /// `RO`: reads the value.
    ReadOnly,
    /// `RW`: reads and modifies the value.
    ReadWrite,
    /// `OW`: overwrites the value without reading it.
    Overwrite,
    /// `RM`: deletes the key.
    Remove,
    /// `ACCESS`: returns or uses user data from the value.
    Access,
    /// `UPDATE`: changes data, the new value may depend on the old one.
    Update,
    /// `INSERT`: adds data without modifying existing data.
    Insert,
    /// `DELETE`: removes data from the value.
    Delete,
}

/// One key at a fixed position (pottery never introduces a key through an optional keyword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Position of the key in argv (the command name is 0).
    pub index: i32,
    /// Exactly one of `ReadOnly`/`ReadWrite`/`Overwrite`/`Remove`, plus data flags.
    pub flags: &'static [KeyFlag],
}

/// The kind of an argument, as `COMMAND DOCS` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A key; the number is its index in [`CommandSpec::key_specs`].
    Key(u32),
    /// Any bytes.
    String,
    /// A signed 64-bit integer.
    Integer,
    /// A floating-point number.
    Double,
    /// A keyword with no value (its [`Arg::token`]).
    PureToken,
    /// Exactly one of the alternatives.
    OneOf(&'static [Arg]),
    /// All of the parts, in order.
    Block(&'static [Arg]),
}

/// One argument of a command's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// The name shown in the syntax (`key`, `ttl_ms`).
    pub name: &'static str,
    /// What it holds.
    pub kind: ArgKind,
    /// A keyword that precedes it (`FROM` in `FROM first`).
    pub token: Option<&'static str>,
    /// Whether it may be left out.
    pub optional: bool,
    /// Whether it may repeat (`value [value ...]`).
    pub multiple: bool,
}

impl Arg {
    const fn new(name: &'static str, kind: ArgKind) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
        }
    }

    /// A key argument described by key spec `spec`.
    pub const fn key(name: &'static str, spec: u32) -> Arg {
        Arg::new(name, ArgKind::Key(spec))
    }

    /// A string argument.
    pub const fn string(name: &'static str) -> Arg {
        Arg::new(name, ArgKind::String)
    }

    /// An integer argument.
    pub const fn integer(name: &'static str) -> Arg {
        Arg::new(name, ArgKind::Integer)
    }

    /// A floating-point argument.
    pub const fn double(name: &'static str) -> Arg {
        Arg::new(name, ArgKind::Double)
    }

    /// A bare keyword such as `NONSCALING`.
    pub const fn keyword(token: &'static str) -> Arg {
        Arg::new(token, ArgKind::PureToken).token(token)
    }

    /// One of several alternatives such as `LEFT|RIGHT`.
    pub const fn one_of(name: &'static str, alternatives: &'static [Arg]) -> Arg {
        Arg::new(name, ArgKind::OneOf(alternatives))
    }

    /// Preceded by the keyword `token`.
    pub const fn token(mut self, token: &'static str) -> Arg {
        self.token = Some(token);
        self
    }

    /// May be left out.
    pub const fn optional(mut self) -> Arg {
        self.optional = true;
        self
    }

    /// May repeat.
    pub const fn multiple(mut self) -> Arg {
        self.multiple = true;
        self
    }

    /// The argument as a syntax line shows it, such as `[FROM first]` or `value [value ...]`.
    pub fn syntax(&self) -> String {
        let mut base = match self.kind {
            ArgKind::PureToken => self.token.unwrap_or(self.name).to_string(),
            ArgKind::OneOf(alternatives) => alternatives
                .iter()
                .map(Arg::syntax)
                .collect::<Vec<_>>()
                .join("|"),
            ArgKind::Block(parts) => parts.iter().map(Arg::syntax).collect::<Vec<_>>().join(" "),
            ArgKind::Key(_) | ArgKind::String | ArgKind::Integer | ArgKind::Double => {
                self.name.to_string()
            }
        };
        if self.multiple {
            base = format!("{base} [{base} ...]");
        }
        if let (Some(token), false) = (self.token, self.kind == ArgKind::PureToken) {
            base = format!("{token} {base}");
        }
        if self.optional {
            base = format!("[{base}]");
        }
        base
    }

    /// How many words this argument takes at least, and whether it can take more.
    fn words(&self) -> (i32, bool) {
        let (mut minimum, mut variable) = match self.kind {
            ArgKind::OneOf(alternatives) => {
                let fewest = alternatives.iter().map(|a| a.words().0).min().unwrap_or(0);
                let varies = alternatives.iter().any(|a| a.words() != (fewest, false));
                (fewest, varies)
            }
            ArgKind::Block(parts) => parts.iter().fold((0, false), |(sum, varies), part| {
                let (words, part_varies) = part.words();
                (sum + words, varies || part_varies)
            }),
            ArgKind::PureToken => (1, false),
            ArgKind::Key(_) | ArgKind::String | ArgKind::Integer | ArgKind::Double => (1, false),
        };
        if self.token.is_some() && self.kind != ArgKind::PureToken {
            minimum += 1;
        }
        if self.multiple {
            variable = true;
        }
        if self.optional {
            (0, true)
        } else {
            (minimum, variable)
        }
    }
}

/// Everything Redis and users need to know about one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Registered name, lowercase, as Redis quotes it in errors (`pottery.nextid`).
    pub name: &'static str,
    /// Redis command flags (`write deny-oom fast`).
    pub flags: &'static str,
    /// One spec per key, in argument order.
    pub key_specs: &'static [KeySpec],
    /// The arguments after the command name.
    pub args: &'static [Arg],
    /// One line for `POTTERY.HELP` and `COMMAND DOCS`.
    pub summary: &'static str,
    /// Time complexity for `COMMAND DOCS`.
    pub complexity: &'static str,
    /// The module version that added the command.
    pub since: &'static str,
}

impl CommandSpec {
    /// Redis arity: the exact word count (command name included), or its negated minimum when
    /// optional or repeated arguments make the count vary.
    pub fn arity(&self) -> i32 {
        let (words, variable) = self.args.iter().fold((1, false), |(sum, varies), arg| {
            let (arg_words, arg_varies) = arg.words();
            (sum + arg_words, varies || arg_varies)
        });
        if variable {
            -words
        } else {
            words
        }
    }

    /// The legacy `(first_key, last_key, key_step)` triple for `RedisModule_CreateCommand`;
    /// `(0, 0, 0)` for a command without keys. Key positions must be evenly spaced.
    pub fn key_range(&self) -> (i32, i32, i32) {
        let positions: Vec<i32> = self.key_specs.iter().map(|spec| spec.index).collect();
        match positions.as_slice() {
            [] => (0, 0, 0),
            [only] => (*only, *only, 1),
            [first, second, ..] => {
                let last = positions[positions.len() - 1];
                (*first, last, second - first)
            }
        }
    }

    /// The command as `POTTERY.HELP` shows it: `POTTERY.NEXTID.CLAIM key value [FROM first]`.
    pub fn syntax(&self) -> String {
        let mut line = self.name.to_ascii_uppercase();
        for arg in self.args {
            line.push(' ');
            line.push_str(&arg.syntax());
        }
        line
    }

    /// Problems that would make registration fail or mislead `COMMAND GETKEYS`, for tests.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let name = self.name;
        if name != name.to_ascii_lowercase() || !name.starts_with("pottery.") {
            problems.push(format!(
                "{name}: name must be lowercase and start with pottery."
            ));
        }
        for (number, spec) in self.key_specs.iter().enumerate() {
            let access = spec
                .flags
                .iter()
                .filter(|flag| {
                    matches!(
                        flag,
                        KeyFlag::ReadOnly
                            | KeyFlag::ReadWrite
                            | KeyFlag::Overwrite
                            | KeyFlag::Remove
                    )
                })
                .count();
            if access != 1 {
                problems.push(format!(
                    "{name}: key spec {number} needs one of RO/RW/OW/RM"
                ));
            }
            let changes = spec
                .flags
                .iter()
                .filter(|flag| matches!(flag, KeyFlag::Insert | KeyFlag::Delete | KeyFlag::Update))
                .count();
            if changes > 1 {
                // Redis refuses the command info, and with it the module.
                problems.push(format!(
                    "{name}: key spec {number} has more than one of INSERT/DELETE/UPDATE"
                ));
            }
            let argument = self.args.get(spec.index as usize - 1);
            if argument.map(|arg| arg.kind) != Some(ArgKind::Key(number as u32)) {
                problems.push(format!(
                    "{name}: key spec {number} does not point at its key"
                ));
            }
        }
        let positions: Vec<i32> = self.key_specs.iter().map(|spec| spec.index).collect();
        if positions.windows(3).any(|w| w[1] - w[0] != w[2] - w[1]) {
            problems.push(format!("{name}: key positions are not evenly spaced"));
        }
        let writes = self.flags.split(' ').any(|flag| flag == "write");
        let reads_only = self.flags.split(' ').any(|flag| flag == "readonly");
        if writes == reads_only && !self.key_specs.is_empty() {
            problems.push(format!("{name}: needs exactly one of write/readonly"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALTERNATIVES: [Arg; 2] = [Arg::keyword("LEFT"), Arg::keyword("RIGHT")];
    const PUSH: CommandSpec = CommandSpec {
        name: "pottery.example.push",
        flags: "write deny-oom",
        key_specs: &[KeySpec {
            index: 1,
            flags: &[KeyFlag::ReadWrite, KeyFlag::Insert],
        }],
        args: &[
            Arg::key("key", 0),
            Arg::one_of("where", &ALTERNATIVES),
            Arg::integer("maxlen"),
            Arg::string("value").multiple(),
            Arg::integer("first").token("FROM").optional(),
        ],
        summary: "An example.",
        complexity: "O(1)",
        since: "0.1.0",
    };

    #[test]
    fn syntax_reads_like_redis_docs() {
        assert_eq!(
            PUSH.syntax(),
            "POTTERY.EXAMPLE.PUSH key LEFT|RIGHT maxlen value [value ...] [FROM first]"
        );
    }

    #[test]
    fn arity_counts_required_words() {
        assert_eq!(PUSH.arity(), -5);
        const FIXED: CommandSpec = CommandSpec {
            args: &[Arg::key("key", 0), Arg::integer("n")],
            ..PUSH
        };
        assert_eq!(FIXED.arity(), 3);
        const TOKENED: CommandSpec = CommandSpec {
            args: &[Arg::key("key", 0), Arg::integer("n").token("COUNT")],
            ..PUSH
        };
        assert_eq!(TOKENED.arity(), 4);
    }

    #[test]
    fn key_range_follows_key_specs() {
        assert_eq!(PUSH.key_range(), (1, 1, 1));
        assert!(PUSH.problems().is_empty(), "{:?}", PUSH.problems());
        const KEYLESS: CommandSpec = CommandSpec {
            key_specs: &[],
            args: &[],
            ..PUSH
        };
        assert_eq!(KEYLESS.key_range(), (0, 0, 0));
    }

    #[test]
    fn problems_catch_key_flags_that_redis_refuses() {
        const MIXED: CommandSpec = CommandSpec {
            key_specs: &[KeySpec {
                index: 1,
                flags: &[KeyFlag::ReadWrite, KeyFlag::Insert, KeyFlag::Delete],
            }],
            ..PUSH
        };
        assert!(!MIXED.problems().is_empty());
    }

    #[test]
    fn problems_catch_a_key_spec_that_points_elsewhere() {
        const WRONG: CommandSpec = CommandSpec {
            key_specs: &[KeySpec {
                index: 2,
                flags: &[KeyFlag::ReadWrite],
            }],
            ..PUSH
        };
        assert!(!WRONG.problems().is_empty());
    }
}
