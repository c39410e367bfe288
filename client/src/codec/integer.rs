//! [`BigInteger`]: an integer of any size, for the values Python stores beyond 128 bits.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use super::error::{DecodeError, DecodeErrorKind};
use crate::error::Error;

/// The newtype name through which [`to_json`](super::to_json) and
/// [`from_json`](super::from_json) recognise a [`BigInteger`] and write or read its digits as a
/// JSON number.
pub(crate) const BIG_INTEGER_NAME: &str = "$pottery::codec::BigInteger";

/// An integer of any size, kept as its decimal digits: Python integers have no size limit, and
/// a value such as `2**200` stored by Python pottery reads back exactly into a `BigInteger`
/// (where `i128` would be an [`Error::Decode`](crate::Error::Decode)). With
/// [`pottery::codec`](crate::codec) it is a JSON number, also as a map key (sorted
/// numerically, as Python does); other serde formats see a string.
///
/// Ordering is numeric. [`to_i128`](Self::to_i128) and [`to_u128`](Self::to_u128) convert
/// back when the value fits.
///
/// # Example
///
/// ```
/// use pottery::codec::{from_json, to_json, BigInteger};
///
/// let huge: BigInteger = from_json(b"1606938044258990275541962092341162602522202993782792835301376")?;
/// assert_eq!(huge.to_string(), "1606938044258990275541962092341162602522202993782792835301376");
/// assert_eq!(to_json(&vec![huge, BigInteger::from(-7)])?, b"[1606938044258990275541962092341162602522202993782792835301376, -7]");
/// assert_eq!(BigInteger::from(5).to_i128(), Some(5));
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BigInteger {
    /// Canonical decimal: an optional `-`, then digits without leading zeros (`0` alone for 0,
    /// never `-0`).
    digits: String,
}

impl BigInteger {
    fn parse(text: &str) -> Option<Self> {
        let magnitude = text.strip_prefix('-').unwrap_or(text);
        if magnitude.is_empty() || !magnitude.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let trimmed = magnitude.trim_start_matches('0');
        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
        let negative = text.starts_with('-') && trimmed != "0";
        Some(Self {
            digits: if negative {
                format!("-{trimmed}")
            } else {
                trimmed.to_owned()
            },
        })
    }

    /// The decimal digits, with a leading `-` for a negative value.
    ///
    /// # Example
    ///
    /// ```
    /// let value: pottery::codec::BigInteger = "-0042".parse()?;
    /// assert_eq!(value.as_str(), "-42");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The value as an `i128`, if it fits.
    ///
    /// # Example
    ///
    /// ```
    /// use pottery::codec::BigInteger;
    ///
    /// assert_eq!(BigInteger::from(-5).to_i128(), Some(-5));
    /// assert_eq!(BigInteger::from(u128::MAX).to_i128(), None);
    /// ```
    pub fn to_i128(&self) -> Option<i128> {
        self.digits.parse().ok()
    }

    /// The value as a `u128`, if it fits.
    ///
    /// # Example
    ///
    /// ```
    /// use pottery::codec::BigInteger;
    ///
    /// assert_eq!(BigInteger::from(u128::MAX).to_u128(), Some(u128::MAX));
    /// assert_eq!(BigInteger::from(-1).to_u128(), None);
    /// ```
    pub fn to_u128(&self) -> Option<u128> {
        self.digits.parse().ok()
    }

    /// The integral `float` as a `BigInteger` (exact: every finite float's integer part has a
    /// finite decimal form); `None` for NaN and infinities.
    pub(crate) fn from_integral_float(float: f64) -> Option<Self> {
        if !float.is_finite() {
            return None;
        }
        Self::parse(&format!("{:.0}", float.trunc()))
    }

    fn is_negative(&self) -> bool {
        self.digits.starts_with('-')
    }

    fn magnitude(&self) -> &str {
        self.digits.strip_prefix('-').unwrap_or(&self.digits)
    }
}

impl FromStr for BigInteger {
    type Err = Error;

    /// Reads a decimal integer (an optional `-`, then digits).
    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text).ok_or_else(|| {
            Error::Decode(DecodeError::new(
                DecodeErrorKind::Type,
                None,
                "not a decimal integer",
            ))
        })
    }
}

impl Ord for BigInteger {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (negative, _) => {
                // Canonical digits: a longer magnitude is larger.
                let by_magnitude = self
                    .magnitude()
                    .len()
                    .cmp(&other.magnitude().len())
                    .then_with(|| self.magnitude().cmp(other.magnitude()));
                if negative {
                    by_magnitude.reverse()
                } else {
                    by_magnitude
                }
            }
        }
    }
}

impl PartialOrd for BigInteger {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BigInteger {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.digits)
    }
}

impl fmt::Debug for BigInteger {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "BigInteger({})", self.digits)
    }
}

macro_rules! from_integer {
    ($($type:ty),*) => {
        $(
            impl From<$type> for BigInteger {
                fn from(value: $type) -> Self {
                    Self { digits: value.to_string() }
                }
            }
        )*
    };
}

from_integer!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl Serialize for BigInteger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(BIG_INTEGER_NAME, self.digits.as_str())
    }
}

impl<'de> Deserialize<'de> for BigInteger {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DigitsVisitor;

        impl<'de> Visitor<'de> for DigitsVisitor {
            type Value = BigInteger;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an integer")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<BigInteger, D::Error> {
                deserializer.deserialize_any(self)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<BigInteger, E> {
                BigInteger::parse(text).ok_or_else(|| E::custom("expected decimal digits"))
            }

            fn visit_i64<E>(self, value: i64) -> Result<BigInteger, E> {
                Ok(value.into())
            }

            fn visit_u64<E>(self, value: u64) -> Result<BigInteger, E> {
                Ok(value.into())
            }

            fn visit_i128<E>(self, value: i128) -> Result<BigInteger, E> {
                Ok(value.into())
            }

            fn visit_u128<E>(self, value: u128) -> Result<BigInteger, E> {
                Ok(value.into())
            }
        }

        deserializer.deserialize_newtype_struct(BIG_INTEGER_NAME, DigitsVisitor)
    }
}
