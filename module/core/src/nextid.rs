//! One master's part of the distributed NextID protocol.
//!
//! Each master keeps a decimal counter. A client proposes a value and wins the master when the
//! proposal is above the counter; a client that wins a majority of masters owns the value,
//! because any two majorities share a master that saw both proposals in some order.

use crate::error::CommandError;

/// `POTTERY.NEXTID`: the counter after incrementing `current` (absent = 0).
///
/// ```
/// use pottery_core::nextid::increment;
/// assert_eq!(increment(None), Ok(1));
/// assert!(increment(Some(i64::MAX)).is_err());
/// ```
pub fn increment(current: Option<i64>) -> Result<i64, CommandError> {
    current
        .unwrap_or(0)
        .checked_add(1)
        .ok_or(CommandError::Overflow)
}

/// The outcome of a claim on one master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Store this value; reply `[1, value]`.
    Won(i64),
    /// Leave the counter alone; reply `[0, current]`.
    Lost(i64),
}

/// `POTTERY.NEXTID.CLAIM key value [FROM first]`: a claim of the block `first..=value` (a single
/// ID when `first` is `value`) wins if the whole block lies above the counter.
///
/// Claiming only the block's top would not be enough: a client that claims 200 for the block
/// 1..=200 would win even after another client won 100 for 1..=100, and both would hand out
/// 1..=100. Requiring `first > current` keeps blocks disjoint across majorities.
///
/// ```
/// use pottery_core::nextid::{claim, Claim};
/// assert_eq!(claim(None, 5, 5), Ok(Claim::Won(5)));
/// assert_eq!(claim(Some(100), 200, 1), Ok(Claim::Lost(100)));
/// assert_eq!(claim(Some(100), 200, 101), Ok(Claim::Won(200)));
/// ```
pub fn claim(current: Option<i64>, value: i64, first: i64) -> Result<Claim, CommandError> {
    if first > value {
        return Err(CommandError::Argument {
            argument: "first",
            problem: "must not exceed value",
        });
    }
    let current = current.unwrap_or(0);
    Ok(if first > current {
        Claim::Won(value)
    } else {
        Claim::Lost(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn increment_is_exact_at_the_edges() {
        assert_eq!(increment(Some(-1)), Ok(0));
        assert_eq!(increment(Some((1 << 53) + 1)), Ok((1 << 53) + 2));
        assert_eq!(increment(Some(i64::MAX - 1)), Ok(i64::MAX));
        assert_eq!(increment(Some(i64::MAX)), Err(CommandError::Overflow));
    }

    #[test]
    fn claim_needs_a_value_above_the_counter() {
        assert_eq!(claim(None, 0, 0), Ok(Claim::Lost(0)));
        assert_eq!(claim(None, -5, -5), Ok(Claim::Lost(0)));
        assert_eq!(claim(Some(7), 7, 7), Ok(Claim::Lost(7)));
        assert_eq!(claim(Some(7), 8, 8), Ok(Claim::Won(8)));
        assert_eq!(claim(Some(-10), -3, -3), Ok(Claim::Won(-3)));
        assert_eq!(
            claim(Some(i64::MAX), i64::MAX, i64::MAX),
            Ok(Claim::Lost(i64::MAX))
        );
        assert!(claim(None, 1, 2).is_err());
    }

    proptest! {
        // Two blocks that both win on a shared master, in either order, never overlap.
        #[test]
        fn winning_blocks_are_disjoint(
            start in any::<Option<i64>>(),
            a in any::<(i64, i64)>(),
            b in any::<(i64, i64)>(),
        ) {
            let (a_first, a_last) = (a.0.min(a.1), a.0.max(a.1));
            let (b_first, b_last) = (b.0.min(b.1), b.0.max(b.1));
            if let Ok(Claim::Won(stored)) = claim(start, a_last, a_first) {
                if let Ok(Claim::Won(_)) = claim(Some(stored), b_last, b_first) {
                    prop_assert!(b_first > a_last);
                }
            }
        }
    }
}
