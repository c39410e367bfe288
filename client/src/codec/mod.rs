//! Python-compatible JSON: what `pottery` stores is byte for byte what Python pottery 3.0.1
//! stores, so Rust and Python services can share keys.
//!
//! Python pottery encodes every dict key, dict value, set member and list item with
//! `json.dumps(value, sort_keys=True)`, and Redis compares hash fields and set members as bytes.
//! So [`to_json`] writes exactly that text for any [`serde::Serialize`] value:
//! - separators `", "` and `": "`; `true`, `false`, `null`;
//! - object keys sorted at every level by the *original* key: integer keys numerically (and
//!   written as strings: `{10: "a", 9: "b"}` gives `{"9": "b", "10": "a"}`), `bool` keys as the
//!   integers 0 and 1, string keys by code point; mixing string and number keys in one map is an
//!   error, as in Python;
//! - every character outside `0x20..=0x7E` escaped: `\n \r \t \b \f \" \\`, otherwise `\uXXXX`
//!   in lowercase hex, with surrogate pairs above U+FFFF (DEL is `\u007f`); `/` is not escaped;
//! - floats as Python's `repr` (`1.0`, `0.1`, `1e+16`, `1e-05`, `-0.0`), and `NaN`, `Infinity`,
//!   `-Infinity`; integers in decimal: any Rust width (`i128`/`u128` included), and any size
//!   with [`BigInteger`].
//!
//! Rust shapes follow `serde_json`'s conventions: `None` and `()` are `null`, tuples and byte
//! slices are arrays, structs are objects, enums are externally tagged (`"Unit"`,
//! `{"Variant": value}`).
//!
//! [`from_json`] reads any valid JSON plus `NaN`, `Infinity` and `-Infinity`. An integer is never
//! turned into a float behind your back: one that does not fit the target type is an
//! [`Error::Decode`](crate::Error::Decode); [`BigInteger`] holds any integer. Object keys, always strings in JSON, are
//! parsed back into integer, `bool` or float keys when the target map asks for them.
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use pottery::codec::{from_json, to_json};
//!
//! let scores = HashMap::from([(10, "ten"), (9, "nine")]);
//! assert_eq!(to_json(&scores)?, br#"{"9": "nine", "10": "ten"}"#);
//! assert_eq!(to_json("café ☕ \u{1F600}")?, br#""caf\u00e9 \u2615 \ud83d\ude00""#);
//! assert_eq!(to_json(&[1e16, 1e-5, -0.0, f64::NAN])?, b"[1e+16, 1e-05, -0.0, NaN]");
//!
//! let back: HashMap<i32, String> = from_json(br#"{"9": "nine", "10": "ten"}"#)?;
//! assert_eq!(back[&10], "ten");
//! let huge: u128 = from_json(b"340282366920938463463374607431768211455")?;
//! assert_eq!(huge, u128::MAX);
//! # Ok::<(), pottery::Error>(())
//! ```

mod decode;
mod encode;
mod error;
mod float;
mod integer;

pub use self::decode::from_json;
pub use self::encode::{to_json, to_json_into};
pub use self::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use self::integer::BigInteger;
