//! Why a value could not be encoded ([`EncodeError`]) or decoded ([`DecodeError`]).

use std::fmt;

/// What kind of value [`to_json`](super::to_json) refused.
///
/// # Example
///
/// ```
/// use pottery::codec::{to_json, EncodeErrorKind};
/// use pottery::Error;
///
/// let pair_key = std::collections::BTreeMap::from([((1, 2), "x")]);
/// match to_json(&pair_key) {
///     Err(Error::Encode(error)) => assert_eq!(error.kind(), EncodeErrorKind::KeyNotScalar),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// One map has both string keys and number keys; Python cannot sort them either.
    MixedKeyTypes,
    /// A map key is not a string, a number, a `bool` or `null` (JSON keys are strings).
    KeyNotScalar,
    /// A float map key is NaN, which has no place in a sorted order.
    NanKey,
    /// The value's own `Serialize` implementation failed.
    Custom,
}

/// A value that [`to_json`](super::to_json) cannot write as Python would (see
/// [`EncodeErrorKind`]); reached as [`Error::Encode`](crate::Error::Encode).
///
/// # Example
///
/// ```
/// use pottery::codec::{to_json, EncodeErrorKind};
///
/// #[derive(serde::Serialize)]
/// #[serde(untagged)]
/// enum Key { Text(String), Number(i64) }
///
/// let mixed = std::collections::BTreeMap::from([(Key::Number(1), 1), (Key::Text("a".into()), 2)]);
/// # impl PartialEq for Key { fn eq(&self, _: &Self) -> bool { false } }
/// # impl Eq for Key {}
/// # impl PartialOrd for Key { fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> { Some(self.cmp(o)) } }
/// # impl Ord for Key { fn cmp(&self, o: &Self) -> std::cmp::Ordering { matches!(self, Key::Text(_)).cmp(&matches!(o, Key::Text(_))) } }
/// let error = to_json(&mixed).unwrap_err();
/// assert!(matches!(error, pottery::Error::Encode(e) if e.kind() == EncodeErrorKind::MixedKeyTypes));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    kind: EncodeErrorKind,
    message: String,
}

impl EncodeError {
    pub(crate) fn new(kind: EncodeErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What was refused.
    ///
    /// # Example
    ///
    /// ```
    /// use pottery::codec::{to_json, EncodeErrorKind};
    ///
    /// let list_keys = std::collections::BTreeMap::from([(vec![1], "x")]);
    /// let Err(pottery::Error::Encode(error)) = to_json(&list_keys) else { panic!() };
    /// assert_eq!(error.kind(), EncodeErrorKind::KeyNotScalar);
    /// ```
    pub fn kind(&self) -> EncodeErrorKind {
        self.kind
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "cannot encode as JSON: {}", self.message)
    }
}

impl std::error::Error for EncodeError {}

impl serde::ser::Error for EncodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(EncodeErrorKind::Custom, message.to_string())
    }
}

/// What was wrong with the bytes given to [`from_json`](super::from_json).
///
/// # Example
///
/// ```
/// use pottery::codec::{from_json, DecodeErrorKind};
/// use pottery::Error;
///
/// match from_json::<i64>(b"18446744073709551616") {
///     Err(Error::Decode(error)) => assert_eq!(error.kind(), DecodeErrorKind::Type),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Not JSON: a syntax error, trailing characters, or input that ends too early.
    Syntax,
    /// A string with an invalid escape, a lone surrogate or bytes that are not UTF-8.
    InvalidString,
    /// An integer beyond 128 bits, which no Rust integer holds.
    IntegerTooLarge,
    /// Arrays and objects nested deeper than the decoder allows.
    TooDeep,
    /// Valid JSON of another shape than the target type (a string where a number was
    /// expected, an integer that does not fit the target integer type, a missing field...).
    Type,
}

/// Bytes that [`from_json`](super::from_json) cannot turn into the requested type (see
/// [`DecodeErrorKind`]); reached as [`Error::Decode`](crate::Error::Decode).
///
/// # Example
///
/// ```
/// use pottery::codec::{from_json, DecodeErrorKind};
///
/// let error = from_json::<Vec<i32>>(b"[1, 2,]").unwrap_err();
/// match error {
///     pottery::Error::Decode(error) => {
///         assert_eq!(error.kind(), DecodeErrorKind::Syntax);
///         assert_eq!(error.offset(), Some(6));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: Option<usize>,
    message: String,
}

impl DecodeError {
    pub(crate) fn new(
        kind: DecodeErrorKind,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            offset,
            message: message.into(),
        }
    }

    /// What was wrong.
    ///
    /// # Example
    ///
    /// ```
    /// use pottery::codec::{from_json, DecodeErrorKind};
    ///
    /// let Err(pottery::Error::Decode(error)) = from_json::<String>(br#""\ud800""#) else { panic!() };
    /// assert_eq!(error.kind(), DecodeErrorKind::InvalidString);
    /// ```
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Byte offset in the input where the problem was found, when known.
    ///
    /// # Example
    ///
    /// ```
    /// let Err(pottery::Error::Decode(error)) = pottery::codec::from_json::<bool>(b"tru") else { panic!() };
    /// assert_eq!(error.offset(), Some(0));
    /// ```
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    pub(crate) fn at(mut self, offset: usize) -> Self {
        if self.offset.is_none() {
            self.offset = Some(offset);
        }
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "cannot decode JSON: {}", self.message)?;
        if let Some(offset) = self.offset {
            write!(formatter, " at byte {offset}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(DecodeErrorKind::Type, None, message.to_string())
    }
}
