//! Object keys: JSON strings that the target may read back as the integer, float or bool keys
//! `json.dumps` wrote as strings.

use serde::de::{self, IntoDeserializer, Visitor};

use super::{DecodeResult, Decoder};
use crate::codec::error::{DecodeError, DecodeErrorKind};

/// An object key: a JSON string that the target may want as a number or a bool, as
/// `json.dumps` wrote integer, float and bool keys as strings.
pub(super) struct KeyDecoder<'a, 'input> {
    pub(super) decoder: &'a mut Decoder<'input>,
}

impl KeyDecoder<'_, '_> {
    fn parsed<T: std::str::FromStr>(self, what: &str) -> DecodeResult<T> {
        let position = self.decoder.position;
        let text = self.decoder.string()?;
        text.parse().map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::Type,
                Some(position),
                format!("expected {what} as an object key"),
            )
        })
    }
}

macro_rules! parse_key {
    ($($method:ident $visit:ident $type:ty,)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
                let value: $type = self.parsed(stringify!($type))?;
                visitor.$visit(value)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for KeyDecoder<'_, '_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        let text = self.decoder.string()?;
        visitor.visit_str(text)
    }

    parse_key! {
        deserialize_i8 visit_i8 i8,
        deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64,
        deserialize_i128 visit_i128 i128,
        deserialize_u8 visit_u8 u8,
        deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64,
        deserialize_u128 visit_u128 u128,
        deserialize_bool visit_bool bool,
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        let position = self.decoder.position;
        let value = match self.decoder.string()? {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            text => text.parse().map_err(|_| {
                DecodeError::new(
                    DecodeErrorKind::Type,
                    Some(position),
                    "expected a float as an object key",
                )
            })?,
        };
        visitor.visit_f64(value)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> DecodeResult<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> DecodeResult<V::Value> {
        let variant = self.decoder.string()?.to_owned();
        visitor.visit_enum(variant.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}
