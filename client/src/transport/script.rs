//! [`Script`]: a Lua script run as an [`Operation`] on a key's server, on either face.
//!
//! The script is sent by hash (`EVALSHA`); a server that does not know it yet answers
//! `NOSCRIPT`, and the script is then sent whole (`EVAL`), which also caches it there. This is
//! what `redis::Script::invoke` does, written once as an operation so the async face runs it
//! over the shared multiplexed connection like every other request.

use std::sync::{Arc, OnceLock};

use redis::FromRedisValue;

use crate::error::Error;
use crate::face::operation::Operation;
use crate::transport::key::KeyHandle;

/// A Lua script, hashed once.
#[derive(Debug)]
pub(crate) struct Script {
    source: &'static str,
    hash: OnceLock<String>,
}

impl Script {
    pub(crate) const fn new(source: &'static str) -> Self {
        Self {
            source,
            hash: OnceLock::new(),
        }
    }

    /// The script's SHA1, as `EVALSHA` takes it.
    pub(crate) fn hash(&self) -> &str {
        self.hash
            .get_or_init(|| redis::Script::new(self.source).get_hash().to_owned())
    }

    /// The script's text, as `EVAL` takes it.
    pub(crate) fn source(&self) -> &'static str {
        self.source
    }

    /// Runs the script with `KEYS` = the handle's key followed by `others` (all of them must be
    /// reachable by one command through the handle: same server, or same cluster hash slot),
    /// and converts its reply to `T`.
    pub(crate) fn call<T: FromRedisValue + Send + 'static>(
        &'static self,
        handle: &Arc<KeyHandle>,
        others: &[&str],
    ) -> Operation<T> {
        self.call_with_args(handle, others, &[] as &[&[u8]])
    }

    /// [`call`](Self::call) with `ARGV` = `args`.
    pub(crate) fn call_with_args<T: FromRedisValue + Send + 'static>(
        &'static self,
        handle: &Arc<KeyHandle>,
        others: &[&str],
        args: &[impl redis::ToRedisArgs],
    ) -> Operation<T> {
        let invocation = |command: &str, body: &str| {
            let mut invocation = redis::cmd(command);
            invocation
                .arg(body)
                .arg(1 + others.len())
                .arg(handle.name())
                .arg(others)
                .arg(args);
            invocation
        };
        let eval = invocation("EVAL", self.source);
        let handle = Arc::clone(handle);
        handle
            .request::<T>(invocation("EVALSHA", self.hash()))
            .then(move |reply| match reply {
                Err(Error::Redis(error))
                    if error.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    handle.request(eval)
                }
                other => Operation::done(other),
            })
    }
}
