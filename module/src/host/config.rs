//! The module's configs: load arguments (`--loadmodule libpottery_module.so bf-expansion 4`),
//! `redis.conf` lines and `CONFIG SET pottery.<name>` all reach the same values.
//!
//! They only shape filters created afterwards without explicit parameters: a filter's own
//! parameters are stored with it and replicated explicitly, so a replica with other defaults
//! holds the same filter.

use pottery_core::bloom::{format_error_rate, parse_error_rate, Growth};
use redis_module::configuration::ConfigurationContext;
use redis_module::{ConfigurationValue, RedisError, RedisString};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Default error rate of filters created by `POTTERY.BF.ADD`/`MADD`/`INSERT` without `ERROR`.
pub const ERROR_RATE_DEFAULT: &str = "0.01";
/// Default capacity of filters created without `CAPACITY`.
pub const INITIAL_CAPACITY_DEFAULT: i64 = 100;
/// Default expansion of filters created without `EXPANSION`.
pub const EXPANSION_DEFAULT: i64 = 2;
/// Default byte limit per filter: 512 MiB, a filter of 2^32 bits.
pub const MAX_BYTES_DEFAULT: i64 = 1 << 29;
/// Largest byte limit that may be configured (1 TiB).
pub const MAX_BYTES_LIMIT: i64 = 1 << 40;

/// `pottery.bf-error-rate`: a double, which Redis 7.0 can only offer as a string config, so
/// the text is validated here (0 < rate < 1) and kept as the parsed double.
pub struct ErrorRateConfig(AtomicU64);

impl ErrorRateConfig {
    /// The current default error rate.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

impl ConfigurationValue<RedisString> for ErrorRateConfig {
    fn get(&self, _ctx: &ConfigurationContext) -> RedisString {
        RedisString::create(None, format_error_rate(ErrorRateConfig::get(self)).as_str())
    }

    fn set(&self, _ctx: &ConfigurationContext, value: RedisString) -> Result<(), RedisError> {
        let rate = parse_error_rate(value.as_slice())
            .map_err(|_| RedisError::Str("error rate must be a number between 0 and 1"))?;
        self.0.store(rate.to_bits(), Ordering::Relaxed);
        Ok(())
    }
}

/// `pottery.bf-error-rate`.
pub static ERROR_RATE: ErrorRateConfig = ErrorRateConfig(AtomicU64::new(0.01f64.to_bits()));
/// `pottery.bf-initial-capacity`.
pub static INITIAL_CAPACITY: AtomicI64 = AtomicI64::new(INITIAL_CAPACITY_DEFAULT);
/// `pottery.bf-expansion`.
pub static EXPANSION: AtomicI64 = AtomicI64::new(EXPANSION_DEFAULT);
/// `pottery.bf-max-bytes`.
pub static MAX_BYTES: AtomicI64 = AtomicI64::new(MAX_BYTES_DEFAULT);

/// The byte limit per filter, now.
pub fn max_bytes() -> u64 {
    u64::try_from(MAX_BYTES.load(Ordering::Relaxed)).unwrap_or(0)
}

/// Capacity, error rate and growth for a filter created without explicit parameters.
pub fn default_capacity() -> i64 {
    INITIAL_CAPACITY.load(Ordering::Relaxed)
}

/// The configured default error rate.
pub fn default_error_rate() -> f64 {
    ERROR_RATE.get()
}

/// The configured default growth (always scaling; NONSCALING is per filter).
pub fn default_growth() -> Growth {
    Growth::scaling(EXPANSION.load(Ordering::Relaxed)).unwrap_or(Growth::Scaling(2))
}

/// Redis applies the numeric configs' ranges to `CONFIG SET` but not to the values given as load
/// arguments: those are checked here, and the module refuses to load when one is out of range.
pub fn check_load_values() -> Result<(), String> {
    let checks = [
        ("bf-initial-capacity", &INITIAL_CAPACITY, 1, 1 << 40),
        ("bf-expansion", &EXPANSION, 1, 32768),
        ("bf-max-bytes", &MAX_BYTES, 8, MAX_BYTES_LIMIT),
    ];
    for (name, value, min, max) in checks {
        let value = value.load(Ordering::Relaxed);
        if !(min..=max).contains(&value) {
            return Err(format!("{name} {value} is outside {min}..={max}"));
        }
    }
    Ok(())
}
