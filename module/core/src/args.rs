//! One argument parser for every command, so that every command words its errors the same way.

use crate::error::CommandError;
use crate::integer::parse_i64;
use std::ops::Deref;

/// A cursor over a command's arguments (the command name excluded), as byte strings.
///
/// Generic over the argument type so that the module parses Redis's own argument strings in
/// place, without first collecting a vector of byte views on every call.
///
/// ```
/// use pottery_core::args::Args;
/// let raw: [&[u8]; 3] = [b"10", b"FROM", b"5"];
/// let mut args = Args::new(&raw);
/// assert_eq!(args.next_i64().unwrap(), 10);
/// assert!(args.eat_keyword("from"));
/// assert_eq!(args.next_i64().unwrap(), 5);
/// args.finish().unwrap();
/// ```
#[derive(Debug)]
pub struct Args<'a, T = &'a [u8]> {
    items: &'a [T],
    position: usize,
}

// Not derived: a derive would require `T: Clone`, and only the slice is copied.
impl<T> Clone for Args<'_, T> {
    fn clone(&self) -> Self {
        Args {
            items: self.items,
            position: self.position,
        }
    }
}

impl<'a, T: Deref<Target = [u8]>> Args<'a, T> {
    /// A cursor at the first of `items`.
    pub fn new(items: &'a [T]) -> Self {
        Args { items, position: 0 }
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.items.len().saturating_sub(self.position)
    }

    /// The arguments not read yet, such as the values that end a command.
    pub fn rest(&self) -> &'a [T] {
        self.items.get(self.position..).unwrap_or_default()
    }

    /// The next argument itself; `ERR syntax error` when there is none (arity is checked by
    /// Redis before the command runs, so a missing argument here follows an optional keyword).
    pub fn next_item(&mut self) -> Result<&'a T, CommandError> {
        let item = self.items.get(self.position).ok_or(CommandError::Syntax)?;
        self.position += 1;
        Ok(item)
    }

    /// The next argument as bytes, with [`Args::next_item`]'s error.
    pub fn next_bytes(&mut self) -> Result<&'a [u8], CommandError> {
        self.next_item().map(Deref::deref)
    }

    /// The next argument as a signed 64-bit integer, with Redis's error text otherwise.
    pub fn next_i64(&mut self) -> Result<i64, CommandError> {
        parse_i64(self.next_bytes()?).ok_or(CommandError::NotAnInteger)
    }

    /// Consumes the next argument if it is `keyword` (ASCII case-insensitive).
    pub fn eat_keyword(&mut self, keyword: &str) -> bool {
        match self.items.get(self.position) {
            Some(item) if item.eq_ignore_ascii_case(keyword.as_bytes()) => {
                self.position += 1;
                true
            }
            _ => false,
        }
    }

    /// `ERR syntax error` if any argument is left unread.
    pub fn finish(&self) -> Result<(), CommandError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(CommandError::Syntax)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Any arguments, read in any order of operations: no panic, the cursor only moves
        // forward, and integers are exactly what Redis's string2ll accepts.
        #[test]
        fn any_input_and_any_reading_order_is_safe(
            items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 0..8),
            operations in proptest::collection::vec(0u8..4, 0..16),
        ) {
            let views: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
            let mut args = Args::new(&views);
            for operation in operations {
                let before = args.remaining();
                match operation {
                    0 => {
                        let read = args.next_bytes();
                        prop_assert_eq!(read.is_ok(), before > 0);
                    }
                    1 => {
                        let position = views.len() - before;
                        let read = args.next_i64();
                        match views.get(position) {
                            None => prop_assert_eq!(read, Err(CommandError::Syntax)),
                            Some(item) => prop_assert_eq!(
                                read.ok(),
                                crate::integer::parse_i64(item)
                            ),
                        }
                    }
                    2 => {
                        args.eat_keyword("FROM");
                    }
                    _ => {
                        prop_assert_eq!(args.finish().is_ok(), before == 0);
                    }
                }
                prop_assert!(args.remaining() <= before);
            }
        }
    }

    #[test]
    fn missing_and_extra_arguments_are_syntax_errors() {
        let raw: [&[u8]; 1] = [b"FROM"];
        let mut args = Args::new(&raw);
        assert!(args.eat_keyword("FROM"));
        assert_eq!(args.next_i64(), Err(CommandError::Syntax));

        let raw: [&[u8]; 2] = [b"1", b"extra"];
        let mut args = Args::new(&raw);
        assert_eq!(args.next_i64(), Ok(1));
        assert_eq!(args.finish(), Err(CommandError::Syntax));
    }

    #[test]
    fn keywords_are_case_insensitive_and_not_consumed_on_mismatch() {
        let raw: [&[u8]; 1] = [b"fRoM"];
        let mut args = Args::new(&raw);
        assert!(!args.eat_keyword("TO"));
        assert!(args.eat_keyword("FROM"));
        assert_eq!(args.remaining(), 0);
    }

    #[test]
    fn rest_is_what_is_left_unread() {
        let raw: [&[u8]; 3] = [b"LEFT", b"a", b"b"];
        let mut args = Args::new(&raw);
        assert_eq!(args.rest().len(), 3);
        assert!(args.eat_keyword("LEFT"));
        assert_eq!(args.rest(), &raw[1..]);
        assert_eq!(args.next_item(), Ok(&raw[1]));
        assert_eq!(args.next_bytes(), Ok(&b"b"[..]));
        assert!(args.rest().is_empty());
    }

    #[test]
    fn non_integers_get_redis_text() {
        let raw: [&[u8]; 1] = [b"1.5"];
        assert_eq!(Args::new(&raw).next_i64(), Err(CommandError::NotAnInteger));
    }
}
