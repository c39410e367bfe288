//! One command call as its handler sees it: the keys, by their catalog positions, and the other
//! arguments through the one parser, `pottery_core::args::Args`.

use pottery_core::args::Args;
use pottery_core::spec::CommandSpec;
use pottery_core::CommandError;
use redis_module::RedisString;

/// The arguments of one call (the command name at index 0), read in place: nothing is copied.
///
/// The integers are parsed by `pottery_core::integer` (Redis's `string2ll`, tested without a
/// server) rather than `RedisString::parse_integer`, whose error would need rewording anyway.
pub struct Request<'a> {
    spec: &'static CommandSpec,
    argv: &'a [RedisString],
}

impl<'a> Request<'a> {
    /// The call of `spec` with `argv` as Redis passed it.
    pub fn new(spec: &'static CommandSpec, argv: &'a [RedisString]) -> Request<'a> {
        Request { spec, argv }
    }

    /// The command's registered (lowercase) name, such as `pottery.sem.release`: its keyspace
    /// event and the name its errors quote.
    pub fn command(&self) -> &'static str {
        self.spec.name
    }

    /// The command's key number `number` (0 for the first), where its key spec puts it.
    ///
    /// Redis checks the arity before calling us, so the error is only a panic-free fallback.
    pub fn key(&self, number: usize) -> Result<&'a RedisString, CommandError> {
        self.spec
            .key_specs
            .get(number)
            .and_then(|key| usize::try_from(key.index).ok())
            .and_then(|index| self.argv.get(index))
            .ok_or(CommandError::WrongArity {
                command: self.spec.name,
            })
    }

    /// A cursor over the arguments after the keys (every key comes before them: the catalog
    /// never lets an optional keyword introduce one).
    pub fn args(&self) -> Args<'a, RedisString> {
        let first = self
            .spec
            .key_specs
            .iter()
            .filter_map(|key| usize::try_from(key.index).ok())
            .max()
            .unwrap_or(0)
            + 1;
        Args::new(self.argv.get(first..).unwrap_or_default())
    }
}
