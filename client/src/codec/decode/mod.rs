//! The serde `Deserializer` that reads what Python's `json.dumps` (or any JSON writer) wrote.
//!
//! It parses the bytes directly (no intermediate tree). Integers are handed to the target as
//! `i64`/`u64`, or `i128`/`u128` when they need it; only a literal with a fraction or an
//! exponent is a float, so a big integer is never silently rounded.

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use self::key::KeyDecoder;
use super::error::{DecodeError, DecodeErrorKind};
use super::integer::BIG_INTEGER_NAME;
use crate::error::{Error, Result};

mod key;

/// Deepest nesting of arrays and objects accepted; deeper input is an error rather than a
/// stack overflow.
const MAX_DEPTH: usize = 512;

/// Decodes JSON bytes (as written by Python's `json.dumps`, or any valid JSON, plus `NaN`,
/// `Infinity` and `-Infinity`) into `T`.
///
/// # Errors
///
/// [`Error::Decode`] when the bytes are not JSON or do not fit `T`; see [`DecodeErrorKind`](super::DecodeErrorKind).
///
/// # Example
///
/// ```
/// use std::collections::BTreeMap;
///
/// let scores: BTreeMap<String, f64> = pottery::codec::from_json(br#"{"a": NaN, "b": 1e+16}"#)?;
/// assert!(scores["a"].is_nan());
/// assert_eq!(scores["b"], 1e16);
/// let text: String = pottery::codec::from_json(br#""caf\u00e9 \ud83d\ude00""#)?;
/// assert_eq!(text, "café 😀");
/// # Ok::<(), pottery::Error>(())
/// ```
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut decoder = Decoder {
        input: bytes,
        position: 0,
        depth: 0,
        scratch: Vec::new(),
    };
    let decoded = T::deserialize(&mut decoder)
        .and_then(|value| decoder.end().map(|()| value))
        .map_err(|error| {
            let position = decoder.position;
            Error::Decode(error.at(position))
        })?;
    Ok(decoded)
}

type DecodeResult<T> = std::result::Result<T, DecodeError>;

struct Decoder<'input> {
    input: &'input [u8],
    position: usize,
    depth: usize,
    scratch: Vec<u8>,
}

/// A number literal, classified without losing precision.
enum Number {
    Unsigned(u64),
    Signed(i64),
    WideUnsigned(u128),
    WideSigned(i128),
    Float(f64),
}

impl<'input> Decoder<'input> {
    fn syntax(&self, message: &str) -> DecodeError {
        DecodeError::new(DecodeErrorKind::Syntax, Some(self.position), message)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.position) {
            self.position += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.input.get(self.position).copied()
    }

    fn end(&mut self) -> DecodeResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax("trailing characters")),
        }
    }

    fn expect_literal(&mut self, literal: &[u8]) -> DecodeResult<()> {
        if self.input.get(self.position..self.position + literal.len()) == Some(literal) {
            self.position += literal.len();
            Ok(())
        } else {
            Err(self.syntax("expected a value"))
        }
    }

    fn enter(&mut self) -> DecodeResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::new(
                DecodeErrorKind::TooDeep,
                Some(self.position),
                "arrays and objects nested too deep",
            ));
        }
        Ok(())
    }

    /// Reads a number literal starting at the current position (after whitespace).
    fn number(&mut self) -> DecodeResult<Number> {
        let start = self.position;
        if self.input.get(self.position) == Some(&b'-') {
            self.position += 1;
            if self.input[self.position..].starts_with(b"Infinity") {
                self.position += b"Infinity".len();
                return Ok(Number::Float(f64::NEG_INFINITY));
            }
            self.position = start;
        }
        let is_float = self.number_text()?;
        // Only ASCII digits, signs, points and exponents were consumed.
        let text = std::str::from_utf8(&self.input[start..self.position]).unwrap_or_default();
        if is_float {
            return text.parse::<f64>().map(Number::Float).map_err(|_| {
                DecodeError::new(DecodeErrorKind::Syntax, Some(start), "invalid number")
            });
        }
        let too_large = || {
            DecodeError::new(
                DecodeErrorKind::IntegerTooLarge,
                Some(start),
                "integer beyond 128 bits",
            )
        };
        if text.starts_with('-') {
            if let Ok(value) = text.parse::<i64>() {
                return Ok(Number::Signed(value));
            }
            text.parse::<i128>()
                .map(Number::WideSigned)
                .map_err(|_| too_large())
        } else {
            if let Ok(value) = text.parse::<u64>() {
                return Ok(Number::Unsigned(value));
            }
            text.parse::<u128>()
                .map(Number::WideUnsigned)
                .map_err(|_| too_large())
        }
    }

    /// Moves past a JSON number literal (`-?int frac? exp?`); whether it has a fraction or an
    /// exponent.
    fn number_text(&mut self) -> DecodeResult<bool> {
        if self.input.get(self.position) == Some(&b'-') {
            self.position += 1;
        }
        match self.input.get(self.position) {
            Some(b'0') => self.position += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.input.get(self.position) {
                    self.position += 1;
                }
            }
            _ => return Err(self.syntax("expected a value")),
        }
        let mut is_float = false;
        if self.input.get(self.position) == Some(&b'.') {
            self.position += 1;
            self.digits()?;
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.input.get(self.position) {
            self.position += 1;
            if let Some(b'+' | b'-') = self.input.get(self.position) {
                self.position += 1;
            }
            self.digits()?;
            is_float = true;
        }
        Ok(is_float)
    }

    fn digits(&mut self) -> DecodeResult<()> {
        let start = self.position;
        while let Some(b'0'..=b'9') = self.input.get(self.position) {
            self.position += 1;
        }
        if self.position == start {
            return Err(self.syntax("expected a digit"));
        }
        Ok(())
    }

    /// Reads a string literal (the opening quote is next) into `scratch`, unescaped.
    fn string(&mut self) -> DecodeResult<&str> {
        self.position += 1;
        self.scratch.clear();
        loop {
            let start = self.position;
            while let Some(&byte) = self.input.get(self.position) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.position += 1;
            }
            self.scratch
                .extend_from_slice(&self.input[start..self.position]);
            match self.input.get(self.position) {
                Some(b'"') => {
                    self.position += 1;
                    break;
                }
                Some(b'\\') => {
                    self.position += 1;
                    self.escape()?;
                }
                Some(_) => {
                    return Err(DecodeError::new(
                        DecodeErrorKind::InvalidString,
                        Some(self.position),
                        "control character in a string",
                    ))
                }
                None => return Err(self.syntax("unterminated string")),
            }
        }
        std::str::from_utf8(&self.scratch).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::InvalidString,
                Some(self.position),
                "a string that is not UTF-8",
            )
        })
    }

    fn escape(&mut self) -> DecodeResult<()> {
        let Some(&kind) = self.input.get(self.position) else {
            return Err(self.syntax("unterminated string"));
        };
        self.position += 1;
        let simple = match kind {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let first = self.hex4()?;
                let character = if (0xd800..0xdc00).contains(&first) {
                    if self.input.get(self.position..self.position + 2) != Some(b"\\u") {
                        return Err(self.lone_surrogate());
                    }
                    self.position += 2;
                    let second = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&second) {
                        return Err(self.lone_surrogate());
                    }
                    let code = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                    char::from_u32(code)
                } else {
                    char::from_u32(first)
                };
                let Some(character) = character else {
                    return Err(self.lone_surrogate());
                };
                let mut buffer = [0u8; 4];
                self.scratch
                    .extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                return Ok(());
            }
            _ => {
                return Err(DecodeError::new(
                    DecodeErrorKind::InvalidString,
                    Some(self.position - 1),
                    "invalid escape",
                ))
            }
        };
        self.scratch.push(simple);
        Ok(())
    }

    fn lone_surrogate(&self) -> DecodeError {
        DecodeError::new(
            DecodeErrorKind::InvalidString,
            Some(self.position),
            "a lone UTF-16 surrogate, which a Rust string cannot hold",
        )
    }

    fn hex4(&mut self) -> DecodeResult<u32> {
        let Some(digits) = self.input.get(self.position..self.position + 4) else {
            return Err(self.syntax("truncated \\u escape"));
        };
        let mut value = 0u32;
        for &digit in digits {
            let nibble = char::from(digit).to_digit(16).ok_or_else(|| {
                DecodeError::new(
                    DecodeErrorKind::InvalidString,
                    Some(self.position),
                    "invalid \\u escape",
                )
            })?;
            value = value * 16 + nibble;
        }
        self.position += 4;
        Ok(value)
    }

    fn visit_number<'de, V: Visitor<'de>>(&mut self, visitor: V) -> DecodeResult<V::Value> {
        match self.number()? {
            Number::Unsigned(value) => visitor.visit_u64(value),
            Number::Signed(value) => visitor.visit_i64(value),
            Number::WideUnsigned(value) => visitor.visit_u128(value),
            Number::WideSigned(value) => visitor.visit_i128(value),
            Number::Float(value) => visitor.visit_f64(value),
        }
    }

    fn sequence<'de, V: Visitor<'de>>(&mut self, visitor: V) -> DecodeResult<V::Value> {
        self.enter()?;
        self.position += 1;
        let value = visitor.visit_seq(Elements {
            decoder: &mut *self,
            first: true,
        })?;
        match self.peek() {
            Some(b']') => self.position += 1,
            _ => return Err(self.syntax("expected ']' after the array's elements")),
        }
        self.depth -= 1;
        Ok(value)
    }

    fn object<'de, V: Visitor<'de>>(&mut self, visitor: V) -> DecodeResult<V::Value> {
        self.enter()?;
        self.position += 1;
        let value = visitor.visit_map(Entries {
            decoder: &mut *self,
            first: true,
        })?;
        match self.peek() {
            Some(b'}') => self.position += 1,
            _ => return Err(self.syntax("expected '}' after the object's entries")),
        }
        self.depth -= 1;
        Ok(value)
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        match self.peek() {
            Some(b'n') => {
                self.expect_literal(b"null")?;
                visitor.visit_unit()
            }
            Some(b't') => {
                self.expect_literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.expect_literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'N') => {
                self.expect_literal(b"NaN")?;
                visitor.visit_f64(f64::NAN)
            }
            Some(b'I') => {
                self.expect_literal(b"Infinity")?;
                visitor.visit_f64(f64::INFINITY)
            }
            Some(b'-' | b'0'..=b'9') => self.visit_number(visitor),
            Some(b'"') => {
                let text = self.string()?;
                visitor.visit_str(text)
            }
            Some(b'[') => self.sequence(visitor),
            Some(b'{') => self.object(visitor),
            Some(_) => Err(self.syntax("expected a value")),
            None => Err(self.syntax("unexpected end of input")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        if self.peek() == Some(b'n') {
            self.expect_literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> DecodeResult<V::Value> {
        if name == BIG_INTEGER_NAME && matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            // Hand the literal's digits over, whatever their size.
            let start = self.position;
            self.number_text()?;
            let text = std::str::from_utf8(&self.input[start..self.position]).unwrap_or_default();
            if text.contains(['.', 'e', 'E']) {
                return Err(DecodeError::new(
                    DecodeErrorKind::Type,
                    Some(start),
                    "expected an integer, found a float",
                ));
            }
            return visitor.visit_newtype_struct(text.into_deserializer());
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> DecodeResult<V::Value> {
        match self.peek() {
            Some(b'"') => {
                let variant = self.string()?.to_owned();
                visitor.visit_enum(variant.into_deserializer())
            }
            Some(b'{') => {
                self.enter()?;
                self.position += 1;
                let value = visitor.visit_enum(Variant {
                    decoder: &mut *self,
                })?;
                match self.peek() {
                    Some(b'}') => self.position += 1,
                    _ => return Err(self.syntax("expected '}' after an enum variant")),
                }
                self.depth -= 1;
                Ok(value)
            }
            _ => Err(DecodeError::new(
                DecodeErrorKind::Type,
                Some(self.position),
                "expected an enum variant (a string or a one-entry object)",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> DecodeResult<V::Value> {
        if matches!(self.peek(), Some(b'0'..=b'9'))
            || (self.peek() == Some(b'-')
                && matches!(self.input.get(self.position + 1), Some(b'0'..=b'9')))
        {
            // A skipped number may have any size: check its syntax only.
            self.number_text()?;
            return visitor.visit_unit();
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Elements<'a, 'input> {
    decoder: &'a mut Decoder<'input>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, '_> {
    type Error = DecodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> DecodeResult<Option<T::Value>> {
        match self.decoder.peek() {
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => self.decoder.position += 1,
            _ if self.first => {}
            _ => return Err(self.decoder.syntax("expected ',' or ']'")),
        }
        if !self.first && self.decoder.peek() == Some(b']') {
            return Err(self.decoder.syntax("expected a value after ','"));
        }
        self.first = false;
        seed.deserialize(&mut *self.decoder).map(Some)
    }
}

struct Entries<'a, 'input> {
    decoder: &'a mut Decoder<'input>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for Entries<'_, '_> {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> DecodeResult<Option<K::Value>> {
        match self.decoder.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => self.decoder.position += 1,
            _ if self.first => {}
            _ => return Err(self.decoder.syntax("expected ',' or '}'")),
        }
        self.first = false;
        if self.decoder.peek() != Some(b'"') {
            return Err(self.decoder.syntax("expected a string key"));
        }
        seed.deserialize(KeyDecoder {
            decoder: &mut *self.decoder,
        })
        .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> DecodeResult<V::Value> {
        if self.decoder.peek() != Some(b':') {
            return Err(self.decoder.syntax("expected ':'"));
        }
        self.decoder.position += 1;
        seed.deserialize(&mut *self.decoder)
    }
}

/// `{"Variant": content}`.
struct Variant<'a, 'input> {
    decoder: &'a mut Decoder<'input>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, '_> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> DecodeResult<(V::Value, Self)> {
        if self.decoder.peek() != Some(b'"') {
            return Err(self.decoder.syntax("expected a string key"));
        }
        let variant = seed.deserialize(KeyDecoder {
            decoder: &mut *self.decoder,
        })?;
        if self.decoder.peek() != Some(b':') {
            return Err(self.decoder.syntax("expected ':'"));
        }
        self.decoder.position += 1;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, '_> {
    type Error = DecodeError;

    fn unit_variant(self) -> DecodeResult<()> {
        de::Deserialize::deserialize(&mut *self.decoder)
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> DecodeResult<T::Value> {
        seed.deserialize(&mut *self.decoder)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> DecodeResult<V::Value> {
        de::Deserializer::deserialize_seq(&mut *self.decoder, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> DecodeResult<V::Value> {
        de::Deserializer::deserialize_map(&mut *self.decoder, visitor)
    }
}

#[cfg(test)]
mod tests;
