//! The module's load arguments (`--loadmodule libpottery_module.so bf-expansion 4`): name and
//! value pairs, each name one of the module's configs.
//!
//! Redis hands a module whatever follows its path, and the `redis-module` crate only looks up
//! the names it knows, so a misspelled name (`bf-eror-rate 0.001`) would be ignored and the
//! server would run with a default the operator did not want. The module refuses to load
//! instead, naming the argument and the closest known name.

/// The configs that may be given as load arguments, and `bf-aliases`.
pub const LOAD_ARGUMENTS: [&str; 5] = [
    "bf-error-rate",
    "bf-initial-capacity",
    "bf-expansion",
    "bf-max-bytes",
    BF_ALIASES,
];

/// `bf-aliases yes`: also register the Bloom filter commands under RedisBloom's names
/// (`BF.ADD` for `POTTERY.BF.ADD`, ...), so RedisBloom clients work unchanged.
pub const BF_ALIASES: &str = "bf-aliases";

/// Whether `args` (already [checked](check)) ask for the `BF.*` aliases.
///
/// ```
/// use pottery_core::load_args::wants_bf_aliases;
///
/// assert!(wants_bf_aliases(&[b"bf-aliases".as_slice(), b"yes"]));
/// assert!(!wants_bf_aliases(&[b"bf-expansion".as_slice(), b"4"]));
/// ```
pub fn wants_bf_aliases(args: &[&[u8]]) -> bool {
    args.chunks(2)
        .any(|pair| pair[0] == BF_ALIASES.as_bytes() && pair.get(1).is_some_and(|v| yes(v)))
}

fn yes(value: &[u8]) -> bool {
    value.eq_ignore_ascii_case(b"yes")
}

/// Checks that `args` are `name value` pairs with known, distinct names; the problem, as the
/// log line says it, otherwise.
///
/// ```
/// use pottery_core::load_args::check;
///
/// assert!(check(&[b"bf-expansion".as_slice(), b"4"]).is_ok());
/// let problem = check(&[b"bf-eror-rate".as_slice(), b"0.001"]).unwrap_err();
/// assert!(problem.contains("did you mean bf-error-rate?"));
/// ```
pub fn check(args: &[&[u8]]) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for pair in args.chunks(2) {
        let name = String::from_utf8_lossy(pair[0]);
        let Some(known) = LOAD_ARGUMENTS
            .iter()
            .find(|known| known.as_bytes() == pair[0])
        else {
            return Err(unknown(&name));
        };
        if pair.len() < 2 {
            return Err(format!(
                "load argument {name} has no value (load arguments come in pairs: name value)"
            ));
        }
        if seen.contains(known) {
            return Err(format!("load argument {name} is given twice"));
        }
        if *known == BF_ALIASES && !(yes(pair[1]) || pair[1].eq_ignore_ascii_case(b"no")) {
            return Err(format!(
                "load argument {name} must be yes or no, not {:?}",
                String::from_utf8_lossy(pair[1])
            ));
        }
        seen.push(known);
    }
    Ok(())
}

fn unknown(name: &str) -> String {
    let mut problem = format!("unknown load argument {name:?}");
    if let Some(bare) = name.strip_prefix("pottery.") {
        if LOAD_ARGUMENTS.contains(&bare) {
            problem.push_str(&format!(
                "; as a load argument it is {bare} (pottery.{bare} is its name in redis.conf and CONFIG SET)"
            ));
            return problem;
        }
    }
    let closest = LOAD_ARGUMENTS
        .iter()
        .map(|known| (edit_distance(name, known), known))
        .min();
    match closest {
        Some((distance, known)) if distance <= 3 => {
            problem.push_str(&format!("; did you mean {known}?"));
        }
        _ => problem.push_str(&format!(
            "; the known ones are {}",
            LOAD_ARGUMENTS.join(", ")
        )),
    }
    problem
}

/// Levenshtein distance, for suggesting the name meant. Names are short: the quadratic table
/// is a few hundred cells.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        check(&args).unwrap_err()
    }

    #[test]
    fn known_pairs_load() {
        assert!(check(&[]).is_ok());
        let all: Vec<&[u8]> = [
            "bf-error-rate",
            "0.001",
            "bf-initial-capacity",
            "5",
            "bf-expansion",
            "3",
            "bf-max-bytes",
            "4096",
        ]
        .iter()
        .map(|arg| arg.as_bytes())
        .collect();
        assert!(check(&all).is_ok());
    }

    #[test]
    fn misspelled_unknown_odd_and_repeated_arguments_are_refused() {
        assert_eq!(
            problem(&["bf-eror-rate", "0.001"]),
            r#"unknown load argument "bf-eror-rate"; did you mean bf-error-rate?"#
        );
        assert_eq!(
            problem(&["BF-EXPANSION", "2"]),
            r#"unknown load argument "BF-EXPANSION"; the known ones are bf-error-rate, bf-initial-capacity, bf-expansion, bf-max-bytes, bf-aliases"#
        );
        assert!(problem(&["pottery.bf-error-rate", "0.01"])
            .contains("as a load argument it is bf-error-rate"));
        assert!(problem(&["verbose"]).contains("the known ones are"));
        assert_eq!(
            problem(&["bf-expansion", "2", "bf-max-bytes"]),
            "load argument bf-max-bytes has no value (load arguments come in pairs: name value)"
        );
        assert_eq!(
            problem(&["bf-expansion", "2", "bf-expansion", "3"]),
            "load argument bf-expansion is given twice"
        );
        // A value is never taken for a name.
        assert!(check(&[b"bf-expansion".as_slice(), b"bf-max-bytes"]).is_ok());
        assert!(problem(&["\u{e9}", "1"]).contains("unknown load argument"));
        assert_eq!(
            problem(&["bf-aliases", "maybe"]),
            r#"load argument bf-aliases must be yes or no, not "maybe""#
        );
        assert!(check(&[b"bf-aliases".as_slice(), b"NO"]).is_ok());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("bf-eror-rate", "bf-error-rate"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
