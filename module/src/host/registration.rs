//! Registers the command table with Redis: `RedisModule_CreateCommand` for flags and legacy key
//! positions, then `RedisModule_SetCommandInfo` for arity, key specs, arguments and docs.
//!
//! Key specs are set explicitly because on Redis 7.0 module commands belong to no ACL category:
//! key-based permissions (`%R~*`, `%W~*`) and cluster routing follow the key specs alone.

use super::dispatch::Command;
use pottery_core::catalog;
use pottery_core::spec::{Arg, ArgKind, CommandSpec, KeyFlag};
use redis_module::commands::{get_redis_key_spec, BeginSearch, FindKeys, KeySpec, KeySpecFlags};
use redis_module::{raw, Context};
use std::ffi::CString;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::ptr;

const INFO_VERSION: raw::RedisModuleCommandInfoVersion = raw::RedisModuleCommandInfoVersion {
    version: 1,
    sizeof_historyentry: std::mem::size_of::<raw::RedisModuleCommandHistoryEntry>(),
    sizeof_keyspec: std::mem::size_of::<raw::RedisModuleCommandKeySpec>(),
    sizeof_arg: std::mem::size_of::<raw::RedisModuleCommandArg>(),
};

/// Registers every command, after checking that the table matches the catalog one to one.
pub fn register_all(ctx: &Context, commands: &[Command]) -> Result<(), String> {
    let table: Vec<&str> = commands.iter().map(|command| command.spec.name).collect();
    let expected: Vec<&str> = catalog::COMMANDS.iter().map(|spec| spec.name).collect();
    if table != expected {
        return Err(format!(
            "command table {table:?} does not match the catalog {expected:?}"
        ));
    }
    for command in commands {
        register(ctx, command)?;
    }
    Ok(())
}

fn c_string(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("{text:?} contains a NUL byte"))
}

/// The prefix of the module's Bloom filter commands, which RedisBloom's names lack.
const BLOOM_PREFIX: &str = "pottery.bf.";

/// Registers each Bloom filter command once more under RedisBloom's name (`BF.ADD` for
/// `POTTERY.BF.ADD`), with the same handler, flags, key specs and docs, so RedisBloom clients
/// (redis-py's `r.bf()`, Jedis) work unchanged. When another module already owns those names
/// (RedisBloom is loaded), no alias is registered and the module loads without them; the
/// returned note says so for the log.
pub fn register_bloom_aliases(ctx: &Context, commands: &[Command]) -> Result<String, String> {
    let mut registered = Vec::new();
    for command in commands {
        let Some(suffix) = command.spec.name.strip_prefix(BLOOM_PREFIX) else {
            continue;
        };
        let alias = format!("bf.{suffix}");
        match register_as(ctx, command, &alias) {
            Ok(()) => registered.push(alias),
            Err(Refusal::Busy) if registered.is_empty() => {
                return Ok(format!(
                    "{alias} is taken by another module (RedisBloom?): no BF.* aliases registered"
                ))
            }
            Err(Refusal::Busy) => {
                return Err(format!(
                    "{alias} is taken by another module after {} aliases were registered",
                    registered.len()
                ))
            }
            Err(Refusal::Other(problem)) => return Err(problem),
        }
    }
    Ok(format!("registered {} BF.* aliases", registered.len()))
}

/// Why a command could not be registered.
enum Refusal {
    /// The name is taken (by another module's command).
    Busy,
    Other(String),
}

impl From<String> for Refusal {
    fn from(problem: String) -> Self {
        Self::Other(problem)
    }
}

fn register(ctx: &Context, command: &Command) -> Result<(), String> {
    register_as(ctx, command, command.spec.name).map_err(|refusal| match refusal {
        Refusal::Busy => format!("could not create command {}", command.spec.name),
        Refusal::Other(problem) => problem,
    })
}

fn register_as(ctx: &Context, command: &Command, name: &str) -> Result<(), Refusal> {
    let spec = command.spec;
    let name_text = name;
    let name = c_string(name)?;
    let flags = c_string(spec.flags)?;
    let (first_key, last_key, key_step) = spec.key_range();
    let (create, get, set_info) = unsafe {
        (
            raw::RedisModule_CreateCommand,
            raw::RedisModule_GetCommand,
            raw::RedisModule_SetCommandInfo,
        )
    };
    let (Some(create), Some(get), Some(set_info)) = (create, get, set_info) else {
        return Err(Refusal::Other(
            "this Redis lacks the command registration API (needs 7.0)".into(),
        ));
    };
    let created = unsafe {
        create(
            ctx.ctx,
            name.as_ptr(),
            Some(command.callback),
            flags.as_ptr(),
            first_key,
            last_key,
            key_step,
        )
    };
    if created != raw::Status::Ok as c_int {
        // Redis refuses a name that is taken (or invalid, which ours are not).
        return Err(Refusal::Busy);
    }
    let handle = unsafe { get(ctx.ctx, name.as_ptr()) };
    if handle.is_null() {
        return Err(Refusal::Other(format!(
            "could not find command {name_text} after creating it"
        )));
    }

    let mut docs = Docs::default();
    let info = docs.info(spec)?;
    if unsafe { set_info(handle, &info) } != raw::Status::Ok as c_int {
        return Err(Refusal::Other(format!(
            "Redis rejected the command info of {name_text}"
        )));
    }
    Ok(())
}

/// Owns the C strings and arrays that a `RedisModuleCommandInfo` points into until Redis has
/// copied them.
#[derive(Default)]
struct Docs {
    strings: Vec<CString>,
    arg_arrays: Vec<Vec<raw::RedisModuleCommandArg>>,
    key_specs: Vec<raw::RedisModuleCommandKeySpec>,
}

impl Docs {
    fn text(&mut self, text: &str) -> Result<*const std::os::raw::c_char, String> {
        let owned = c_string(text)?;
        // The CString's buffer does not move when `strings` grows.
        let pointer = owned.as_ptr();
        self.strings.push(owned);
        Ok(pointer)
    }

    fn info(&mut self, spec: &CommandSpec) -> Result<raw::RedisModuleCommandInfo, String> {
        // The crate's key-spec types fit exactly (begin at an index, a range of one key); its
        // argument conversion does not: it is private and unwraps `CString::new`.
        self.key_specs = get_redis_key_spec(
            spec.key_specs
                .iter()
                .map(|key| {
                    KeySpec::new(
                        None,
                        key_spec_flags(key.flags),
                        BeginSearch::new_index(key.index),
                        FindKeys::new_range(0, 1, 0),
                    )
                })
                .collect(),
        );
        let key_specs = if spec.key_specs.is_empty() {
            ptr::null_mut()
        } else {
            self.key_specs.as_mut_ptr()
        };
        let args = self.args(spec.args)?;
        Ok(raw::RedisModuleCommandInfo {
            version: &INFO_VERSION,
            summary: self.text(spec.summary)?,
            complexity: self.text(spec.complexity)?,
            since: self.text(spec.since)?,
            history: ptr::null_mut(),
            tips: ptr::null(),
            arity: spec.arity(),
            key_specs,
            args,
        })
    }

    fn args(&mut self, args: &[Arg]) -> Result<*mut raw::RedisModuleCommandArg, String> {
        if args.is_empty() {
            return Ok(ptr::null_mut());
        }
        let mut array = Vec::with_capacity(args.len() + 1);
        for arg in args {
            let (type_, key_spec_index, subargs) = match arg.kind {
                ArgKind::Key(index) => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
                    index as c_int,
                    ptr::null_mut(),
                ),
                ArgKind::String => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                    -1,
                    ptr::null_mut(),
                ),
                ArgKind::Integer => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
                    -1,
                    ptr::null_mut(),
                ),
                ArgKind::Double => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_DOUBLE,
                    -1,
                    ptr::null_mut(),
                ),
                ArgKind::PureToken => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
                    -1,
                    ptr::null_mut(),
                ),
                ArgKind::OneOf(parts) => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_ONEOF,
                    -1,
                    self.args(parts)?,
                ),
                ArgKind::Block(parts) => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_BLOCK,
                    -1,
                    self.args(parts)?,
                ),
            };
            let mut flags = raw::REDISMODULE_CMD_ARG_NONE;
            if arg.optional {
                flags |= raw::REDISMODULE_CMD_ARG_OPTIONAL;
            }
            if arg.multiple {
                flags |= raw::REDISMODULE_CMD_ARG_MULTIPLE;
            }
            let token = match arg.token {
                Some(token) => self.text(token)?,
                None => ptr::null(),
            };
            array.push(raw::RedisModuleCommandArg {
                name: self.text(arg.name)?,
                type_,
                key_spec_index,
                token,
                summary: ptr::null(),
                since: ptr::null(),
                flags: flags as c_int,
                deprecated_since: ptr::null(),
                subargs,
                display_text: ptr::null(),
            });
        }
        array.push(zeroed());
        // The inner Vec's buffer does not move when `arg_arrays` grows.
        let pointer = array.as_mut_ptr();
        self.arg_arrays.push(array);
        Ok(pointer)
    }
}

fn key_spec_flags(flags: &[KeyFlag]) -> KeySpecFlags {
    flags.iter().fold(KeySpecFlags::empty(), |bits, flag| {
        bits | match flag {
            KeyFlag::ReadOnly => KeySpecFlags::READ_ONLY,
            KeyFlag::ReadWrite => KeySpecFlags::READ_WRITE,
            KeyFlag::Overwrite => KeySpecFlags::OVERWRITE,
            KeyFlag::Remove => KeySpecFlags::REMOVE,
            KeyFlag::Access => KeySpecFlags::ACCESS,
            KeyFlag::Update => KeySpecFlags::UPDATE,
            KeyFlag::Insert => KeySpecFlags::INSERT,
            KeyFlag::Delete => KeySpecFlags::DELETE,
        }
    })
}

/// The all-zero terminator Redis expects at the end of key-spec and argument arrays.
fn zeroed<T: Copy>() -> T {
    // Only used for plain C structs of pointers and integers, for which all-zero is valid.
    unsafe { MaybeUninit::zeroed().assume_init() }
}
