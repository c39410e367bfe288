//! Map keys: their JSON text (before quoting), as `json.dumps` writes it, and their order, as
//! Python's `sorted` gives it (numbers numerically, across integer and float).

use std::cmp::Ordering;

use serde::ser::{self, Serialize};

use super::EncodeResult;
use crate::codec::error::{EncodeError, EncodeErrorKind};
use crate::codec::float::write_python_float;
use crate::codec::integer::{BigInteger, BIG_INTEGER_NAME};

/// A map key as Python sorts it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortKey {
    Text(String),
    /// Integers of any size, and bools (Python's `True` sorts as 1).
    Integer(BigInteger),
    Float(f64),
    Null,
}

impl SortKey {
    pub(super) fn family(&self) -> u8 {
        match self {
            Self::Text(_) => 0,
            Self::Integer(_) | Self::Float(_) => 1,
            Self::Null => 2,
        }
    }

    /// Python's `<` between two keys of one family (numbers compare exactly across types).
    pub(super) fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Integer(a), Self::Integer(b)) => a.cmp(b),
            (Self::Float(a), Self::Float(b)) => a.total_cmp(b),
            (Self::Float(a), Self::Integer(b)) => compare_float_integer(*a, b),
            (Self::Integer(a), Self::Float(b)) => compare_float_integer(*b, a).reverse(),
            _ => Ordering::Equal,
        }
    }
}

/// Compares a (non-NaN) float with an integer exactly, as Python does: integer parts first,
/// then the float's fraction decides.
fn compare_float_integer(float: f64, integer: &BigInteger) -> Ordering {
    if float.is_infinite() {
        return if float > 0.0 {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    let Some(whole) = BigInteger::from_integral_float(float) else {
        return Ordering::Equal;
    };
    whole.cmp(integer).then_with(|| {
        (float - float.trunc())
            .partial_cmp(&0.0)
            .unwrap_or(Ordering::Equal)
    })
}

/// Turns a map key into its sort key and its JSON text (before quoting), as `json.dumps` does:
/// strings as they are, numbers in decimal or float repr, `true`/`false`/`null`.
pub(super) struct KeyEncoder;

type KeyResult = EncodeResult<(SortKey, String)>;

fn not_scalar() -> EncodeError {
    EncodeError::new(
        EncodeErrorKind::KeyNotScalar,
        "a map key must be a string, a number, a bool or null",
    )
}

impl ser::Serializer for KeyEncoder {
    type Ok = (SortKey, String);
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeTuple = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeTupleStruct = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeTupleVariant = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeMap = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeStruct = ser::Impossible<(SortKey, String), EncodeError>;
    type SerializeStructVariant = ser::Impossible<(SortKey, String), EncodeError>;

    fn serialize_bool(self, value: bool) -> KeyResult {
        Ok((
            SortKey::Integer(BigInteger::from(u8::from(value))),
            if value { "true" } else { "false" }.to_owned(),
        ))
    }

    fn serialize_i8(self, value: i8) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_i16(self, value: i16) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_i32(self, value: i32) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_i64(self, value: i64) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_i128(self, value: i128) -> KeyResult {
        Ok((SortKey::Integer(value.into()), value.to_string()))
    }

    fn serialize_u8(self, value: u8) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_u16(self, value: u16) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_u32(self, value: u32) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_u64(self, value: u64) -> KeyResult {
        self.serialize_i128(i128::from(value))
    }

    fn serialize_u128(self, value: u128) -> KeyResult {
        Ok((SortKey::Integer(value.into()), value.to_string()))
    }

    fn serialize_f32(self, value: f32) -> KeyResult {
        self.serialize_f64(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> KeyResult {
        if value.is_nan() {
            return Err(EncodeError::new(
                EncodeErrorKind::NanKey,
                "a NaN map key has no sorted position",
            ));
        }
        let mut text = Vec::new();
        write_python_float(&mut text, value);
        Ok((
            SortKey::Float(value),
            String::from_utf8(text).unwrap_or_default(),
        ))
    }

    fn serialize_char(self, value: char) -> KeyResult {
        Ok((SortKey::Text(value.to_string()), value.to_string()))
    }

    fn serialize_str(self, value: &str) -> KeyResult {
        Ok((SortKey::Text(value.to_owned()), value.to_owned()))
    }

    fn serialize_bytes(self, _value: &[u8]) -> KeyResult {
        Err(not_scalar())
    }

    fn serialize_none(self) -> KeyResult {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> KeyResult {
        value.serialize(self)
    }

    fn serialize_unit(self) -> KeyResult {
        Ok((SortKey::Null, "null".to_owned()))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> KeyResult {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> KeyResult {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> KeyResult {
        let (key, text) = value.serialize(self)?;
        if name == BIG_INTEGER_NAME {
            // The digits of a BigInteger: a number key, sorted numerically.
            if let Ok(integer) = text.parse::<BigInteger>() {
                return Ok((SortKey::Integer(integer), text));
            }
        }
        Ok((key, text))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> KeyResult {
        Err(not_scalar())
    }

    fn serialize_seq(self, _len: Option<usize>) -> EncodeResult<Self::SerializeSeq> {
        Err(not_scalar())
    }

    fn serialize_tuple(self, _len: usize) -> EncodeResult<Self::SerializeTuple> {
        Err(not_scalar())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> EncodeResult<Self::SerializeTupleStruct> {
        Err(not_scalar())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> EncodeResult<Self::SerializeTupleVariant> {
        Err(not_scalar())
    }

    fn serialize_map(self, _len: Option<usize>) -> EncodeResult<Self::SerializeMap> {
        Err(not_scalar())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> EncodeResult<Self::SerializeStruct> {
        Err(not_scalar())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> EncodeResult<Self::SerializeStructVariant> {
        Err(not_scalar())
    }
}
