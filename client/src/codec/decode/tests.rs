use super::*;
use std::collections::{BTreeMap, HashMap};

fn decode<T: DeserializeOwned>(text: &str) -> T {
    from_json(text.as_bytes()).unwrap_or_else(|error| panic!("{text}: {error}"))
}

fn kind<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> DecodeErrorKind {
    match from_json::<T>(text.as_bytes()) {
        Err(Error::Decode(error)) => error.kind(),
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn reads_python_output() {
    assert_eq!(
        decode::<Vec<f64>>("[1e+16, 1e-05, -0.0, 0.1]"),
        [1e16, 1e-5, -0.0, 0.1]
    );
    let special: Vec<f64> = decode("[NaN, Infinity, -Infinity]");
    assert!(special[0].is_nan() && special[1] == f64::INFINITY && special[2] == f64::NEG_INFINITY);
    assert_eq!(
        decode::<String>(r#""\u00e9\ud83d\ude00\u007f\n\/""#),
        "é😀\u{7f}\n/"
    );
    assert_eq!(
        decode::<BTreeMap<i64, bool>>(r#"{"-1": true, "10": false}"#),
        BTreeMap::from([(-1, true), (10, false)])
    );
    assert_eq!(
        decode::<HashMap<bool, u8>>(r#"{"true": 1}"#),
        HashMap::from([(true, 1)])
    );
    assert_eq!(decode::<Option<i32>>("null"), None);
    assert_eq!(
        decode::<(i32, String)>(" [ 1 ,\"a\" ] "),
        (1, "a".to_owned())
    );
    assert_eq!(
        decode::<i128>("-170141183460469231731687303715884105728"),
        i128::MIN
    );
    assert_eq!(decode::<u128>("18446744073709551616"), 1u128 << 64);
    assert_eq!(decode::<f64>("1"), 1.0);
    assert_eq!(decode::<f64>("1e400"), f64::INFINITY);
}

#[test]
fn enums_read_like_serde_json() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    enum Shape {
        Dot,
        Circle(f64),
        Line(i32, i32),
        Square { side: u8 },
    }
    assert_eq!(decode::<Shape>(r#""Dot""#), Shape::Dot);
    assert_eq!(decode::<Shape>(r#"{"Circle": 1.5}"#), Shape::Circle(1.5));
    assert_eq!(decode::<Shape>(r#"{"Line": [1, 2]}"#), Shape::Line(1, 2));
    assert_eq!(
        decode::<Shape>(r#"{"Square": {"side": 3}}"#),
        Shape::Square { side: 3 }
    );
}

#[test]
fn big_integers_never_become_floats() {
    assert_eq!(kind::<i64>("9223372036854775808"), DecodeErrorKind::Type);
    assert_eq!(kind::<u64>("-1"), DecodeErrorKind::Type);
    assert_eq!(kind::<f64>("18446744073709551616"), DecodeErrorKind::Type);
    let huge: crate::codec::BigInteger =
        decode("-1606938044258990275541962092341162602522202993782792835301376");
    assert_eq!(
        huge.as_str(),
        "-1606938044258990275541962092341162602522202993782792835301376"
    );
    let keys: std::collections::BTreeMap<crate::codec::BigInteger, u8> =
        decode(r#"{"-3": 1, "340282366920938463463374607431768211456": 2}"#);
    assert_eq!(
        keys.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["-3", "340282366920938463463374607431768211456"]
    );
    assert_eq!(
        kind::<crate::codec::BigInteger>("1.5"),
        DecodeErrorKind::Type
    );
    assert_eq!(
        kind::<crate::codec::BigInteger>("true"),
        DecodeErrorKind::Type
    );
    assert_eq!(
        kind::<u128>("340282366920938463463374607431768211456"),
        DecodeErrorKind::IntegerTooLarge
    );
    assert_eq!(
        kind::<i128>("-170141183460469231731687303715884105729"),
        DecodeErrorKind::IntegerTooLarge
    );
}

#[test]
fn rejects_what_is_not_json() {
    for text in [
        "",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{1: 2}",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "[",
        "nul",
        "1 2",
        "\"a",
        "\"\\x\"",
        "NaNa",
        "[1,,2]",
        "{,}",
    ] {
        assert!(
            matches!(
                from_json::<de::IgnoredAny>(text.as_bytes()),
                Err(Error::Decode(_))
            ),
            "{text}"
        );
    }
    assert_eq!(
        kind::<String>(r#""\ud800""#),
        DecodeErrorKind::InvalidString
    );
    assert_eq!(
        kind::<String>(r#""\udc00\ud800""#),
        DecodeErrorKind::InvalidString
    );
    assert_eq!(kind::<String>("\"\u{1}\""), DecodeErrorKind::InvalidString);
    assert_eq!(
        kind::<de::IgnoredAny>(&"[".repeat(MAX_DEPTH + 1)),
        DecodeErrorKind::TooDeep
    );
    assert!(matches!(
        from_json::<String>(b"\"\xff\""),
        Err(Error::Decode(error)) if error.kind() == DecodeErrorKind::InvalidString
    ));
}
