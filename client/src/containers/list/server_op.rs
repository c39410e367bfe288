//! [`ServerOp`]: the list and deque writes done inside Redis, each written once with two
//! encodings picked per call from the connector's [`Mode`](crate::Mode): the pottery module's
//! command, or a Lua script (`lua/*.lua`) that does the same with plain list commands.
//!
//! Both encodings take the same arguments (the script's `ARGV` is the command's arguments
//! after the key, its only `KEYS` entry the key, so it is cluster-safe), are atomic, reply the
//! same values and errors, and leave the same data: the client decodes them the same way.

use std::sync::Arc;

use redis::{FromRedisValue, ToRedisArgs};

use crate::face::operation::Operation;
use crate::transport::key::KeyHandle;
use crate::transport::mode::module_loaded;
use crate::transport::script::Script;

/// One write on one list: a `POTTERY.*` command and its script.
pub(crate) struct ServerOp {
    /// The module's command; its first argument is the key.
    command: &'static str,
    /// The same operation without the module.
    script: Script,
}

/// The script of `$file`, after the helpers all of them share.
macro_rules! list_script {
    ($file:literal) => {
        Script::new(concat!(
            include_str!("lua/prelude.lua"),
            include_str!(concat!("lua/", $file))
        ))
    };
}

/// `POTTERY.LIST.INSERT key index value`.
pub(crate) static INSERT: ServerOp = ServerOp {
    command: "POTTERY.LIST.INSERT",
    script: list_script!("insert.lua"),
};

/// `POTTERY.LIST.POP key index`.
pub(crate) static POP: ServerOp = ServerOp {
    command: "POTTERY.LIST.POP",
    script: list_script!("pop.lua"),
};

/// `POTTERY.LIST.SETSLICE key start stop [value ...]`.
pub(crate) static SET_SLICE: ServerOp = ServerOp {
    command: "POTTERY.LIST.SETSLICE",
    script: list_script!("setslice.lua"),
};

/// `POTTERY.DEQUE.ROTATE key n`.
pub(crate) static ROTATE: ServerOp = ServerOp {
    command: "POTTERY.DEQUE.ROTATE",
    script: list_script!("rotate.lua"),
};

/// `POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]`.
pub(crate) static PUSH: ServerOp = ServerOp {
    command: "POTTERY.DEQUE.PUSH",
    script: list_script!("push.lua"),
};

impl ServerOp {
    /// Runs the operation on `handle`'s key with `args` (the arguments after the key), as the
    /// module command where the module is used, else as the script, and converts the reply.
    pub(crate) fn request<T: FromRedisValue + Send + 'static>(
        &'static self,
        handle: &Arc<KeyHandle>,
        args: Vec<Vec<u8>>,
    ) -> Operation<T> {
        let handle = Arc::clone(handle);
        module_loaded(handle.route()).and_then_send(move |loaded| {
            if loaded {
                let mut command = handle.command(self.command);
                command.arg(&args);
                handle.request(command)
            } else {
                self.script.call_with_args(&handle, &[], &args)
            }
        })
    }
}

/// The wire form of integer arguments, as both encodings take them.
pub(crate) fn integers(values: &[i64]) -> Vec<Vec<u8>> {
    values.iter().flat_map(ToRedisArgs::to_redis_args).collect()
}
