//! The module's lock and ID commands as Lua scripts: the other encoding of the requests that
//! Redlock and NextId send to their masters, for servers without the pottery module.
//!
//! The machines write every request once, as the module command (`POTTERY.LOCK key token
//! ttl`); a master that does without the module (see [`MasterMode`]) sends the same keys and
//! arguments to the command's script instead (`EVALSHA <sha> 1 key token ttl`, `EVAL` after a
//! `NOSCRIPT`). Each script has the command's semantics, validation, error texts, keys and
//! data: it runs atomically, declares every key in `KEYS` (so a cluster routes it by the same
//! slot and refuses the same cross-slot pairs), and writes with relative `SET PX` / `PEXPIRE`,
//! which Redis 7 replicates and appends to the AOF as absolute `PXAT` / `PEXPIREAT`.
//!
//! Counters are exact 64-bit integers kept as decimal text inside the scripts (Lua numbers are
//! doubles); the scripts reply them as bulk strings and [`Scripted::decode`] turns those back
//! into the module's integer replies.

use redis::Value;

use crate::error::Error;
use crate::transport::script::Script;

/// Concatenates the shared helpers and a command's script body.
macro_rules! lua {
    ($file:literal) => {
        Script::new(concat!(include_str!("prelude.lua"), include_str!($file)))
    };
}

/// A module command and the script that stands in for it.
#[derive(Debug)]
pub(crate) struct Scripted {
    /// The command's name as the client writes it.
    pub(crate) command: &'static str,
    /// How many of its arguments (after the name) are keys.
    keys: usize,
    /// Whether the reply carries counters that the script replies as text.
    counters: bool,
    /// This script's bit in [`MasterMode`]'s record of the scripts a connection has seen.
    bit: u16,
    script: Script,
}

static SCRIPTED: [Scripted; 10] = [
    Scripted {
        command: "POTTERY.LOCK",
        keys: 1,
        counters: false,
        bit: 1 << 0,
        script: lua!("lock.lua"),
    },
    Scripted {
        command: "POTTERY.LOCK.FENCED",
        keys: 2,
        counters: true,
        bit: 1 << 1,
        script: lua!("lock_fenced.lua"),
    },
    Scripted {
        command: "POTTERY.LOCK.FENCE",
        keys: 2,
        counters: true,
        bit: 1 << 2,
        script: lua!("lock_fence.lua"),
    },
    Scripted {
        command: "POTTERY.UNLOCK",
        keys: 1,
        counters: false,
        bit: 1 << 3,
        script: lua!("unlock.lua"),
    },
    Scripted {
        command: "POTTERY.EXTEND",
        keys: 1,
        counters: false,
        bit: 1 << 4,
        script: lua!("extend.lua"),
    },
    Scripted {
        command: "POTTERY.LOCKED",
        keys: 1,
        counters: false,
        bit: 1 << 5,
        script: lua!("locked.lua"),
    },
    Scripted {
        command: "POTTERY.LOCK.HOLDER",
        keys: 1,
        counters: false,
        bit: 1 << 6,
        script: lua!("lock_holder.lua"),
    },
    Scripted {
        command: "POTTERY.FENCE.CHECK",
        keys: 1,
        counters: false,
        bit: 1 << 7,
        script: lua!("fence_check.lua"),
    },
    Scripted {
        command: "POTTERY.NEXTID",
        keys: 1,
        counters: true,
        bit: 1 << 8,
        script: lua!("nextid.lua"),
    },
    Scripted {
        command: "POTTERY.NEXTID.CLAIM",
        keys: 1,
        counters: true,
        bit: 1 << 9,
        script: lua!("nextid_claim.lua"),
    },
];

/// The script for the module command `command` writes, if it has one (plain commands such as
/// NextId's `DEL` are sent as they are in every mode).
pub(crate) fn scripted(command: &redis::Cmd) -> Option<&'static Scripted> {
    let name = match command.args_iter().next()? {
        redis::Arg::Simple(name) => name,
        _ => return None,
    };
    SCRIPTED
        .iter()
        .find(|scripted| scripted.command.as_bytes() == name)
}

impl Scripted {
    /// `EVALSHA` (`by_hash`) or `EVAL` of this script with the keys and arguments of
    /// `command`, the module command.
    pub(crate) fn invocation(&'static self, command: &redis::Cmd, by_hash: bool) -> redis::Cmd {
        let mut invocation = if by_hash {
            let mut invocation = redis::cmd("EVALSHA");
            invocation.arg(self.script.hash());
            invocation
        } else {
            let mut invocation = redis::cmd("EVAL");
            invocation.arg(self.script.source());
            invocation
        };
        invocation.arg(self.keys);
        for arg in command.args_iter().skip(1) {
            if let redis::Arg::Simple(bytes) = arg {
                invocation.arg(bytes);
            }
        }
        invocation
    }

    /// The script's reply in the module command's shape: counters replied as text become
    /// integers again.
    pub(crate) fn decode(&self, reply: Value) -> Value {
        if !self.counters {
            return reply;
        }
        match reply {
            Value::Array(items) => Value::Array(items.into_iter().map(integer).collect()),
            other => integer(other),
        }
    }

    /// A reply to the module command from a server without the module (its "unknown command"
    /// error) as [`Error::ModuleNotLoaded`]; other replies as they are.
    pub(crate) fn check_module(&self, reply: Value) -> Result<Value, Error> {
        match &reply {
            Value::ServerError(error) if unknown_command(Some(error.code()), error.details()) => {
                Err(Error::ModuleNotLoaded {
                    command: self.command,
                })
            }
            _ => Ok(reply),
        }
    }
}

/// Whether a server error is Redis's "unknown command".
fn unknown_command(code: Option<&str>, details: Option<&str>) -> bool {
    code == Some("ERR") && details.is_some_and(|details| details.starts_with("unknown command"))
}

/// A counter the script replied as decimal text, as the integer the module replies.
fn integer(value: Value) -> Value {
    match value {
        Value::BulkString(text) => match std::str::from_utf8(&text)
            .ok()
            .and_then(|text| text.parse::<i64>().ok())
        {
            Some(number) => Value::Int(number),
            None => Value::BulkString(text),
        },
        other => other,
    }
}

/// Whether `reply` is the `NOSCRIPT` error of an `EVALSHA` the server has no script for.
pub(crate) fn is_noscript(reply: &Value) -> bool {
    matches!(reply, Value::ServerError(error) if error.code() == "NOSCRIPT")
}

/// `COMMAND INFO pottery.help`, packed: how a master in [`Mode::Auto`](crate::Mode::Auto)
/// finds out whether it has the module (see [`MasterMode`]).
pub(crate) const PROBE: &[u8] = b"*3\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n$12\r\npottery.help\r\n";

/// [`PROBE`] as a command.
#[cfg(feature = "tokio")]
pub(crate) fn probe() -> redis::Cmd {
    let mut probe = redis::cmd("COMMAND");
    probe.arg("INFO").arg("pottery.help");
    probe
}

/// What a master knows of the module: its [`Mode`](crate::Mode), and in `Auto` what its
/// current connection's server answered to the [`probe`] (asked again after a reconnect,
/// which may reach another server).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MasterMode {
    mode: crate::Mode,
    found: Option<bool>,
    /// The scripts sent whole on this connection ([`Scripted::bit`]).
    loaded: u16,
}

/// How a master sends a scripted command this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// The module command.
    Module,
    /// `EVALSHA`, then `EVAL` if the server answers `NOSCRIPT`.
    Script,
    /// Not known yet: the probe, then `EVAL` (right either way, and it caches the script).
    Probe,
    /// `EVAL`: the first time this connection sends the script (which caches it there), so
    /// that a `NOSCRIPT` and its round trip are only ever the answer to a `SCRIPT FLUSH`.
    Whole,
}

impl MasterMode {
    pub(crate) fn new(mode: crate::Mode) -> Self {
        Self {
            mode,
            found: None,
            loaded: 0,
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        match (self.mode, self.found) {
            (crate::Mode::Module, _) | (_, Some(true)) => Encoding::Module,
            (crate::Mode::WithoutModule, _) | (_, Some(false)) => Encoding::Script,
            _ => Encoding::Probe,
        }
    }

    /// The probe's reply: an unknown command's info is nil. An error (a server that refuses
    /// `COMMAND`) leaves it unknown, so the scripts keep being used.
    pub(crate) fn learn(&mut self, reply: &Value) {
        if let Value::Array(info) = reply {
            self.found = Some(info.first().is_some_and(|entry| *entry != Value::Nil));
        }
    }

    /// How a master sends `scripted` this round: as [`encoding`](Self::encoding) says, and
    /// a script not sent on this connection yet goes whole.
    pub(crate) fn encoding_for(&self, scripted: &Scripted) -> Encoding {
        match self.encoding() {
            Encoding::Script if self.loaded & scripted.bit == 0 => Encoding::Whole,
            encoding => encoding,
        }
    }

    /// `scripted` goes whole on this connection now: later requests send it by hash.
    pub(crate) fn sending(&mut self, scripted: &Scripted, encoding: Encoding) {
        if matches!(encoding, Encoding::Probe | Encoding::Whole) {
            self.loaded |= scripted.bit;
        }
    }

    /// Whether a master in this mode may send scripts in its next request, connected or not:
    /// in `Auto` a master that must (re)connect first asks again, sending a script.
    pub(crate) fn may_send_scripts(&self, connected: bool) -> bool {
        match self.encoding() {
            Encoding::Module => !connected && self.mode == crate::Mode::Auto,
            Encoding::Script | Encoding::Probe | Encoding::Whole => true,
        }
    }

    /// Whether a master in this mode has not found out yet whether it has the module (in
    /// `Auto`, once per connection: a master to be reconnected asks again).
    pub(crate) fn must_ask_for_module(&self, connected: bool) -> bool {
        match self.encoding() {
            Encoding::Probe => true,
            Encoding::Module => !connected && self.mode == crate::Mode::Auto,
            Encoding::Script | Encoding::Whole => false,
        }
    }

    /// Whether a waiting round may send a master in this mode the module command: found to
    /// have the module, or not reached yet to find out.
    pub(crate) fn may_wait(&self, connected: bool) -> bool {
        match self.encoding() {
            Encoding::Module => true,
            Encoding::Probe => !connected,
            Encoding::Script | Encoding::Whole => false,
        }
    }

    /// A new connection: ask again.
    pub(crate) fn reconnected(&mut self) {
        self.found = None;
        self.loaded = 0;
    }
}

/// A scripted command's reply from a master that sent it with `encoding`, in the module's
/// shape (see [`Scripted::decode`], [`Scripted::check_module`]).
pub(crate) fn finish(
    scripted: Option<&'static Scripted>,
    used_script: bool,
    reply: crate::error::Result<Value>,
) -> crate::error::Result<Value> {
    match (scripted, reply) {
        (Some(scripted), Ok(reply)) if used_script => Ok(scripted.decode(reply)),
        (Some(scripted), Ok(reply)) => scripted.check_module(reply),
        // A cluster connection reports server errors as errors.
        (Some(scripted), Err(Error::Redis(error)))
            if !used_script && unknown_command(error.code(), error.detail()) =>
        {
            Err(Error::ModuleNotLoaded {
                command: scripted.command,
            })
        }
        (_, reply) => reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lock_and_id_command_has_a_script_with_its_keys() {
        let mut lock = redis::cmd("POTTERY.LOCK.FENCED");
        lock.arg("redlock:a")
            .arg("redlock:a:fence")
            .arg("t")
            .arg(10);
        let Some(scripted) = scripted(&lock) else {
            panic!("scripted");
        };
        let invocation = scripted.invocation(&lock, true);
        let args: Vec<_> = invocation
            .args_iter()
            .filter_map(|arg| match arg {
                redis::Arg::Simple(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(args[0], "EVALSHA");
        assert_eq!(args[1].len(), 40);
        assert_eq!(args[2..], ["2", "redlock:a", "redlock:a:fence", "t", "10"]);
        assert!(super::scripted(&redis::cmd("DEL")).is_none());
        assert_eq!(SCRIPTED.len(), 10);
    }

    #[test]
    fn counters_come_back_as_exact_integers() {
        let Some(claim) = SCRIPTED
            .iter()
            .find(|s| s.command == "POTTERY.NEXTID.CLAIM")
        else {
            panic!("claim");
        };
        let reply = Value::Array(vec![
            Value::Int(1),
            Value::BulkString(b"9007199254740993".to_vec()),
        ]);
        assert_eq!(
            claim.decode(reply),
            Value::Array(vec![Value::Int(1), Value::Int(9_007_199_254_740_993)])
        );
        let Some(holder) = SCRIPTED.iter().find(|s| s.command == "POTTERY.LOCK.HOLDER") else {
            panic!("holder");
        };
        let token = Value::Array(vec![Value::BulkString(b"12".to_vec()), Value::Int(5)]);
        assert_eq!(holder.decode(token.clone()), token);
    }

    #[test]
    #[cfg(feature = "tokio")]
    fn the_probe_is_packed_right() {
        assert_eq!(probe().get_packed_command(), PROBE);
    }

    #[test]
    fn a_master_in_auto_mode_probes_until_it_knows() {
        let mut auto = MasterMode::new(crate::Mode::Auto);
        assert_eq!(auto.encoding(), Encoding::Probe);
        auto.learn(&Value::Array(vec![Value::Nil]));
        assert_eq!(auto.encoding(), Encoding::Script);
        auto.reconnected();
        auto.learn(&Value::Array(vec![Value::Array(Vec::new())]));
        assert_eq!(auto.encoding(), Encoding::Module);
        let module = MasterMode::new(crate::Mode::Module);
        assert_eq!(module.encoding(), Encoding::Module);
        let mut without = MasterMode::new(crate::Mode::WithoutModule);
        assert_eq!(without.encoding(), Encoding::Script);
        let (lock, unlock) = (&SCRIPTED[0], &SCRIPTED[3]);
        assert_eq!(without.encoding_for(lock), Encoding::Whole);
        without.sending(lock, Encoding::Whole);
        assert_eq!(without.encoding_for(lock), Encoding::Script);
        assert_eq!(without.encoding_for(unlock), Encoding::Whole);
        without.reconnected();
        assert_eq!(without.encoding_for(lock), Encoding::Whole);
        let bits: u16 = SCRIPTED.iter().map(|scripted| scripted.bit).sum();
        assert_eq!(bits, (1 << SCRIPTED.len()) - 1, "one bit each");
    }
}
