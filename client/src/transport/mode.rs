//! [`Mode`]: whether a connector's containers use the pottery module's commands, and how that
//! is found out.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::face::operation::{Operation, Request};
use crate::transport::connector::Route;

/// Whether the containers of a [`Connector`](crate::Connector) use the pottery module's
/// `POTTERY.*` commands or do without them, for servers that cannot load modules (most hosted
/// Redis and Valkey services).
///
/// Today the types that can do without the module are
/// [`HyperLogLog::contains`](crate::HyperLogLog::contains) (it then reads the HyperLogLog and
/// decides in the client with the module's own register code, writing nothing),
/// [`PotteryBloomFilter`](crate::PotteryBloomFilter) (which never needs it),
/// [`Redlock`](crate::Redlock) and [`NextId`](crate::NextId) (both faces), and
/// [`RedisList`](crate::RedisList) and [`RedisDeque`](crate::RedisDeque), whose operations that
/// run in the module (`insert`, `remove`, `set_slice`, `rotate`, bounded pushes) then run Lua
/// scripts with the same semantics, replies and stored data; the others still need the module.
///
/// Redlock and NextId take the mode per master: from their builders' `mode`, from
/// [`Master::with_mode`](crate::Master::with_mode), or from the [`Connector`] a master was made
/// of. Without the module, each module command they send is replaced by a Lua script with the
/// same semantics, keys, data and replies (`EVAL` the first time on a connection, then
/// `EVALSHA`, and `EVAL` again after a `NOSCRIPT`); fence and NextId counters stay exact 64-bit
/// integers. In `Auto` each master asks once per connection:
/// the sync types pipeline `COMMAND INFO` with that first request, sent as a script (right
/// either way), so no round trip is spent on finding out; the async types ask first (one round
/// trip per connection, repeated if a round decided without that master dropped the question
/// before its answer). [`Mode::Module`] on a server without the module is
/// [`Error::ModuleNotLoaded`](crate::Error::ModuleNotLoaded).
///
/// # Example
///
/// ```no_run
/// use pottery::{Connector, Mode};
///
/// let hosted = Connector::from("redis://cache.example:6379/").with_mode(Mode::WithoutModule);
/// let visitors: pottery::HyperLogLog<String> = pottery::HyperLogLog::open(&hosted, "visitors")?;
/// let seen = visitors.contains("ada")?; // GET, decided in the client
///
/// let lock = pottery::Redlock::builder()
///     .name("printer")
///     .master(&hosted) // takes the connector's mode: the lock's Lua scripts
///     .build()?;
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Ask the server once per connector, or for a Redlock or NextId master once per
    /// connection (`COMMAND INFO`, before or with the first call that needs to know; never by
    /// failing a user's command) and use the module when it is loaded.
    #[default]
    Auto,
    /// Always use the module's commands.
    Module,
    /// Never use the module's commands.
    WithoutModule,
}

/// What a connector knows of the module: its mode, and in `Auto` what the server said.
pub(crate) struct ModuleState {
    mode: AtomicU8,
    /// `Auto` only: 0 not asked yet, 1 loaded, 2 not loaded.
    found: AtomicU8,
}

const NOT_ASKED: u8 = 0;
const LOADED: u8 = 1;
const ABSENT: u8 = 2;

impl ModuleState {
    pub(crate) fn new() -> Self {
        Self {
            mode: AtomicU8::new(0),
            found: AtomicU8::new(NOT_ASKED),
        }
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        let code = match mode {
            Mode::Auto => 0,
            Mode::Module => 1,
            Mode::WithoutModule => 2,
        };
        self.mode.store(code, Ordering::Relaxed);
    }

    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Relaxed) {
            1 => Mode::Module,
            2 => Mode::WithoutModule,
            _ => Mode::Auto,
        }
    }
}

/// Whether the module is to be used for requests along `route`: the mode, or in `Auto` what
/// the server said when first asked (one `COMMAND INFO pottery.help`, kept by the connector).
pub(crate) fn module_loaded(route: Route) -> Operation<bool> {
    let state = &route.shared.module;
    match state.mode() {
        Mode::Module => return Operation::done(Ok(true)),
        Mode::WithoutModule => return Operation::done(Ok(false)),
        Mode::Auto => {}
    }
    match state.found.load(Ordering::Relaxed) {
        LOADED => return Operation::done(Ok(true)),
        ABSENT => return Operation::done(Ok(false)),
        _ => {}
    }
    let shared = std::sync::Arc::clone(&route.shared);
    let mut command = redis::cmd("COMMAND");
    command.arg("INFO").arg("pottery.help");
    Operation::<Vec<redis::Value>>::query(route, Request::Command(command)).map(move |info| {
        // An unknown command's info is nil.
        let loaded = info
            .first()
            .is_some_and(|entry| !matches!(entry, redis::Value::Nil));
        let found = if loaded { LOADED } else { ABSENT };
        shared.module.found.store(found, Ordering::Relaxed);
        loaded
    })
}
