//! Which server the harness runs (Redis or Valkey, which version), and the pass without the
//! module: what a test asks when the two servers legitimately differ, or when it needs the module.

use crate::Server;
use std::fmt;

/// The server software a [`Server`] runs, from its `INFO server`.
///
/// ```no_run
/// use pottery_tests::{Server, Software};
///
/// let valkey = Server::start().software() == Software::Valkey;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Software {
    /// Redis (`redis_version`, no `server_name`).
    Redis,
    /// Valkey (`server_name:valkey`, `valkey_version`).
    Valkey,
}

/// A server version, `major.minor.patch`, ordered (`Version(7, 2, 0) < Version(9, 1, 2)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// Parses `"7.0.15"`; missing or unreadable parts count as 0.
    ///
    /// ```
    /// use pottery_tests::Version;
    /// assert_eq!(Version::parse("9.1.2"), Version(9, 1, 2));
    /// assert_eq!(Version::parse("7.0"), Version(7, 0, 0));
    /// ```
    pub fn parse(text: &str) -> Version {
        let mut parts = text
            .trim()
            .split('.')
            .map(|part| part.parse::<u32>().unwrap_or(0));
        let mut next = || parts.next().unwrap_or(0);
        Version(next(), next(), next())
    }
}

impl Server {
    /// Which software this server runs: Valkey answers `server_name:valkey` in `INFO server`,
    /// Redis has no such field.
    ///
    /// ```no_run
    /// use pottery_tests::{Server, Software};
    ///
    /// let server = Server::start();
    /// let lua_is_a_module = server.software() == Software::Valkey;
    /// ```
    pub fn software(&self) -> Software {
        match self.info_field("server", "server_name").as_deref() {
            Some("valkey") => Software::Valkey,
            _ => Software::Redis,
        }
    }

    /// The version of [`software`](Self::software) (`valkey_version` for Valkey, which still
    /// answers `redis_version:7.2.4` for compatibility; `redis_version` for Redis).
    ///
    /// ```no_run
    /// use pottery_tests::{Server, Version};
    ///
    /// let server = Server::start();
    /// assert!(server.version() >= Version(7, 0, 0));
    /// ```
    pub fn version(&self) -> Version {
        let info = self.info("server");
        let field = match self.software() {
            Software::Valkey => "valkey_version",
            Software::Redis => "redis_version",
        };
        Version::parse(crate::info_field(&info, field).unwrap_or(""))
    }
}

/// True in the pass without the module (env `POTTERY_WITHOUT_MODULE` set, not `0`): servers
/// started with the default module choice load no module, so the client runs in script mode.
///
/// ```no_run
/// if !pottery_tests::without_module() {
///     let server = pottery_tests::Server::start();
///     let _: i64 = server.cmd(&["POTTERY.NEXTID", "n"]).unwrap();
/// }
/// ```
pub fn without_module() -> bool {
    std::env::var_os("POTTERY_WITHOUT_MODULE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Ends the test early, saying why, in the pass without the module
/// ([`without_module`](crate::without_module)): for tests of what only the module offers (its
/// commands, its native types). Only in functions returning `()`.
///
/// ```no_run
/// # fn test() {
/// pottery_tests::requires_module!("POTTERY.BF.* commands are the module's");
/// let server = pottery_tests::Server::start();
/// # }
/// ```
#[macro_export]
macro_rules! requires_module {
    ($reason:expr) => {
        if $crate::without_module() {
            println!("skipped without the module: {}", $reason);
            return;
        }
    };
}
