//! The serde `Serializer` that writes `json.dumps(value, sort_keys=True)`.
//!
//! Values are written straight into the output buffer. Map and struct entries are written into a
//! side buffer first and sorted by their original key before they are appended, because Python
//! sorts by the key itself (numbers numerically), not by its JSON text.

use std::io::Write as _;

use serde::ser::{self, Serialize};

use self::key::{KeyEncoder, SortKey};
use super::error::{EncodeError, EncodeErrorKind};
use super::float::write_python_float;
use super::integer::BIG_INTEGER_NAME;
use crate::error::{Error, Result};

mod key;

/// Encodes `value` as Python's `json.dumps(value, sort_keys=True)` does, byte for byte (see the
/// [module documentation](crate::codec) for the rules).
///
/// # Errors
///
/// [`Error::Encode`] for a map whose keys mix strings and numbers, a map key that is not a
/// scalar, a NaN float key, or a failing `Serialize` implementation.
///
/// # Example
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Point { y: i32, x: i32 }
///
/// assert_eq!(pottery::codec::to_json(&Point { y: 2, x: 1 })?, br#"{"x": 1, "y": 2}"#);
/// assert_eq!(pottery::codec::to_json(&(true, None::<i32>, "tab\there"))?, br#"[true, null, "tab\there"]"#);
/// # Ok::<(), pottery::Error>(())
/// ```
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    to_json_into(&mut out, value)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out`, as [`to_json`] returns it; saves an allocation
/// when many values are encoded in a row. On error, `out` keeps what it held before.
///
/// # Example
///
/// ```
/// let mut buffer = b"prefix:".to_vec();
/// pottery::codec::to_json_into(&mut buffer, &[1.0, 0.5])?;
/// assert_eq!(buffer, b"prefix:[1.0, 0.5]");
/// # Ok::<(), pottery::Error>(())
/// ```
pub fn to_json_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    let start = out.len();
    match value.serialize(Encoder { out }) {
        Ok(()) => Ok(()),
        Err(error) => {
            out.truncate(start);
            Err(Error::Encode(error))
        }
    }
}

type EncodeResult<T = ()> = std::result::Result<T, EncodeError>;

/// Writes one value into `out`.
struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

/// Appends `text` as a JSON string with Python's `ensure_ascii` escapes.
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\' {
            continue;
        }
        if byte >= 0x80 && !text.is_char_boundary(at) {
            // A continuation byte of a character already written.
            continue;
        }
        out.extend_from_slice(&bytes[plain_from..at]);
        let character = text[at..].chars().next().unwrap_or('\u{fffd}');
        plain_from = at + character.len_utf8();
        match character {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    write_unicode_escape(out, *unit);
                }
            }
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
    out.push(b'"');
}

fn write_unicode_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u16, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

fn write_integer(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{value}");
}

impl<'a> ser::Serializer for Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = SequenceEncoder<'a>;
    type SerializeTuple = SequenceEncoder<'a>;
    type SerializeTupleStruct = SequenceEncoder<'a>;
    type SerializeTupleVariant = VariantEncoder<SequenceEncoder<'a>>;
    type SerializeMap = MapEncoder<'a>;
    type SerializeStruct = MapEncoder<'a>;
    type SerializeStructVariant = VariantEncoder<MapEncoder<'a>>;

    fn serialize_bool(self, value: bool) -> EncodeResult {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_i16(self, value: i16) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_i32(self, value: i32) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_i64(self, value: i64) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_i128(self, value: i128) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_u8(self, value: u8) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_u16(self, value: u16) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_u32(self, value: u32) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_u64(self, value: u64) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_u128(self, value: u128) -> EncodeResult {
        write_integer(self.out, value);
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> EncodeResult {
        // Python floats are doubles; widen exactly, as Python would store a C float.
        write_python_float(self.out, f64::from(value));
        Ok(())
    }

    fn serialize_f64(self, value: f64) -> EncodeResult {
        write_python_float(self.out, value);
        Ok(())
    }

    fn serialize_char(self, value: char) -> EncodeResult {
        let mut buffer = [0u8; 4];
        write_string(self.out, value.encode_utf8(&mut buffer));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> EncodeResult {
        write_string(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> EncodeResult {
        use ser::SerializeSeq as _;
        let mut sequence = self.serialize_seq(Some(value.len()))?;
        for byte in value {
            sequence.serialize_element(byte)?;
        }
        sequence.end()
    }

    fn serialize_none(self) -> EncodeResult {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> EncodeResult {
        value.serialize(self)
    }

    fn serialize_unit(self) -> EncodeResult {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> EncodeResult {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> EncodeResult {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> EncodeResult {
        if name == BIG_INTEGER_NAME {
            // A BigInteger's canonical digits, written as a JSON number: encoded as a string
            // they are plain ASCII between two quotes, which are dropped.
            let mut quoted = Vec::new();
            value.serialize(Encoder { out: &mut quoted })?;
            let digits = quoted
                .strip_prefix(b"\"")
                .and_then(|rest| rest.strip_suffix(b"\""))
                .unwrap_or(&quoted);
            self.out.extend_from_slice(digits);
            return Ok(());
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> EncodeResult {
        // A one-entry object needs no sorting.
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.extend_from_slice(b": ");
        value.serialize(Encoder { out: self.out })?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> EncodeResult<SequenceEncoder<'a>> {
        self.out.push(b'[');
        Ok(SequenceEncoder {
            out: self.out,
            first: true,
        })
    }

    fn serialize_tuple(self, len: usize) -> EncodeResult<SequenceEncoder<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> EncodeResult<SequenceEncoder<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> EncodeResult<VariantEncoder<SequenceEncoder<'a>>> {
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.extend_from_slice(b": ");
        Ok(VariantEncoder {
            inner: Encoder { out: self.out }.serialize_seq(Some(len))?,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> EncodeResult<MapEncoder<'a>> {
        Ok(MapEncoder::new(self.out))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> EncodeResult<MapEncoder<'a>> {
        Ok(MapEncoder::new(self.out))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> EncodeResult<VariantEncoder<MapEncoder<'a>>> {
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.extend_from_slice(b": ");
        Ok(VariantEncoder {
            inner: MapEncoder::new(self.out),
        })
    }
}

/// Writes the elements of an array as they come.
struct SequenceEncoder<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl SequenceEncoder<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        if !self.first {
            self.out.extend_from_slice(b", ");
        }
        self.first = false;
        value.serialize(Encoder {
            out: &mut *self.out,
        })
    }

    fn finish(self) -> EncodeResult {
        self.out.push(b']');
        Ok(())
    }
}

impl ser::SerializeSeq for SequenceEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        self.element(value)
    }

    fn end(self) -> EncodeResult {
        self.finish()
    }
}

impl ser::SerializeTuple for SequenceEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        self.element(value)
    }

    fn end(self) -> EncodeResult {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SequenceEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        self.element(value)
    }

    fn end(self) -> EncodeResult {
        self.finish()
    }
}

/// A tuple or struct variant: `{"Variant": <inner>}`.
struct VariantEncoder<Inner> {
    inner: Inner,
}

impl<'a> ser::SerializeTupleVariant for VariantEncoder<SequenceEncoder<'a>> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        self.inner.element(value)
    }

    fn end(self) -> EncodeResult {
        let out = self.inner.out;
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl<'a> ser::SerializeStructVariant for VariantEncoder<MapEncoder<'a>> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> EncodeResult {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }

    fn end(self) -> EncodeResult {
        let out = self.inner.finish()?;
        out.push(b'}');
        Ok(())
    }
}

/// One buffered map entry: the sort key and `"key": value` as bytes.
struct Entry {
    key: SortKey,
    text: Vec<u8>,
}

/// Buffers the entries of a map or struct, then writes them sorted.
struct MapEncoder<'a> {
    out: &'a mut Vec<u8>,
    entries: Vec<Entry>,
    family: Option<u8>,
}

impl<'a> MapEncoder<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            entries: Vec::new(),
            family: None,
        }
    }

    fn start_entry(&mut self, key: SortKey, key_text: &[u8]) -> EncodeResult {
        let family = key.family();
        match self.family {
            None => self.family = Some(family),
            Some(seen) if seen == family && family != 2 => {}
            Some(_) => {
                return Err(EncodeError::new(
                    EncodeErrorKind::MixedKeyTypes,
                    "a map mixes string, number and null keys, which Python cannot sort",
                ))
            }
        }
        let mut text = Vec::with_capacity(key_text.len() + 16);
        write_string(&mut text, std::str::from_utf8(key_text).unwrap_or_default());
        text.extend_from_slice(b": ");
        self.entries.push(Entry { key, text });
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        let Some(entry) = self.entries.last_mut() else {
            return Err(EncodeError::new(
                EncodeErrorKind::Custom,
                "a map value came without its key",
            ));
        };
        value.serialize(Encoder {
            out: &mut entry.text,
        })
    }

    fn finish(mut self) -> EncodeResult<&'a mut Vec<u8>> {
        // Stable, like Python's sorted(): equal keys keep their order.
        self.entries.sort_by(|a, b| a.key.compare(&b.key));
        self.out.push(b'{');
        for (position, entry) in self.entries.iter().enumerate() {
            if position > 0 {
                self.out.extend_from_slice(b", ");
            }
            self.out.extend_from_slice(&entry.text);
        }
        self.out.push(b'}');
        Ok(self.out)
    }
}

impl ser::SerializeMap for MapEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> EncodeResult {
        let (sort_key, text) = key.serialize(KeyEncoder)?;
        self.start_entry(sort_key, text.as_bytes())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> EncodeResult {
        self.value(value)
    }

    fn end(self) -> EncodeResult {
        self.finish().map(|_| ())
    }
}

impl ser::SerializeStruct for MapEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> EncodeResult {
        self.start_entry(SortKey::Text(key.to_owned()), key.as_bytes())?;
        self.value(value)
    }

    fn end(self) -> EncodeResult {
        self.finish().map(|_| ())
    }
}

#[cfg(test)]
mod tests;
