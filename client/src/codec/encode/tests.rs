use super::*;
use crate::codec::BigInteger;
use std::collections::{BTreeMap, HashMap};

fn text<T: Serialize + ?Sized>(value: &T) -> String {
    String::from_utf8(to_json(value).unwrap_or_else(|error| panic!("{error}"))).unwrap_or_default()
}

#[test]
fn strings_escape_everything_outside_printable_ascii() {
    assert_eq!(text("a/b"), r#""a/b""#);
    assert_eq!(text("\"\\\n\r\t\u{8}\u{c}"), r#""\"\\\n\r\t\b\f""#);
    assert_eq!(
        text("\u{0}\u{1f}\u{7f}\u{80}"),
        r#""\u0000\u001f\u007f\u0080""#
    );
    assert_eq!(
        text("é\u{FFFF}\u{10000}\u{10FFFF}"),
        r#""\u00e9\uffff\ud800\udc00\udbff\udfff""#
    );
    assert_eq!(text(&'\u{1F600}'), r#""\ud83d\ude00""#);
}

#[test]
fn maps_sort_by_the_original_key() {
    let numbers = HashMap::from([(10, 1), (9, 2), (-1, 3)]);
    assert_eq!(text(&numbers), r#"{"-1": 3, "9": 2, "10": 1}"#);
    let flags = BTreeMap::from([(true, "t"), (false, "f")]);
    assert_eq!(text(&flags), r#"{"false": "f", "true": "t"}"#);
    let words = HashMap::from([("b", 1), ("a", 2), ("B", 3), ("é", 4)]);
    assert_eq!(text(&words), r#"{"B": 3, "a": 2, "b": 1, "\u00e9": 4}"#);
    let nested = HashMap::from([("z", HashMap::from([(2u128 << 100, 0), (1, 1)]))]);
    assert_eq!(
        text(&nested),
        r#"{"z": {"1": 1, "2535301200456458802993406410752": 0}}"#
    );
}

#[test]
fn float_keys_sort_numerically_among_integers() {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Number {
        Integer(i64),
        Float(f64),
    }
    struct Pairs(Vec<(Number, i32)>);
    impl Serialize for Pairs {
        fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
        }
    }
    let pairs = Pairs(vec![
        (Number::Integer(2), 0),
        (Number::Float(1.5), 1),
        (Number::Float(-0.5), 2),
        (Number::Integer(-1), 3),
    ]);
    assert_eq!(text(&pairs), r#"{"-1": 3, "-0.5": 2, "1.5": 1, "2": 0}"#);
    let mixed = Pairs(vec![(Number::Integer(1), 0)]);
    assert_eq!(text(&mixed), r#"{"1": 0}"#);
    let close = Pairs(vec![
        (Number::Float(1e300), 0),
        (Number::Integer(i64::MAX), 1),
        (Number::Float(9.223372036854776e18), 2),
        (Number::Float(-1e300), 3),
    ]);
    assert_eq!(
        text(&close),
        r#"{"-1e+300": 3, "9223372036854775807": 1, "9.223372036854776e+18": 2, "1e+300": 0}"#
    );
}

#[test]
fn big_integers_are_numbers_and_sort_as_numbers() {
    let huge: BigInteger = "1606938044258990275541962092341162602522202993782792835301376"
        .parse()
        .unwrap_or_else(|_| panic!("digits"));
    let minus: BigInteger = "-1606938044258990275541962092341162602522202993782792835301376"
        .parse()
        .unwrap_or_else(|_| panic!("digits"));
    assert_eq!(text(&[&huge, &minus]), format!("[{huge}, {minus}]"));
    let keys = BTreeMap::from([
        (huge.clone(), 1),
        (BigInteger::from(10), 2),
        (minus.clone(), 3),
        (BigInteger::from(9), 4),
    ]);
    assert_eq!(
        text(&keys),
        format!(r#"{{"{minus}": 3, "9": 4, "10": 2, "{huge}": 1}}"#)
    );
}

#[test]
fn mixed_and_compound_keys_are_rejected() {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Key {
        Text(&'static str),
        Number(i64),
    }
    struct Pairs(Vec<(Key, i32)>);
    impl Serialize for Pairs {
        fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
        }
    }
    let mixed = Pairs(vec![(Key::Number(1), 0), (Key::Text("a"), 1)]);
    assert!(
        matches!(to_json(&mixed), Err(Error::Encode(e)) if e.kind() == EncodeErrorKind::MixedKeyTypes)
    );
    let compound = BTreeMap::from([((1, 2), 3)]);
    assert!(
        matches!(to_json(&compound), Err(Error::Encode(e)) if e.kind() == EncodeErrorKind::KeyNotScalar)
    );
    // The buffer is left as it was.
    let mut buffer = b"kept".to_vec();
    assert!(to_json_into(&mut buffer, &vec![compound]).is_err());
    assert_eq!(buffer, b"kept");
}

#[test]
fn rust_shapes_follow_serde_json_conventions() {
    #[derive(serde::Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Line(i32, i32),
        Square { side: u8, colour: &'static str },
    }
    assert_eq!(text(&Shape::Dot), r#""Dot""#);
    assert_eq!(text(&Shape::Circle(1.0)), r#"{"Circle": 1.0}"#);
    assert_eq!(text(&Shape::Line(1, 2)), r#"{"Line": [1, 2]}"#);
    assert_eq!(
        text(&Shape::Square {
            side: 3,
            colour: "red"
        }),
        r#"{"Square": {"colour": "red", "side": 3}}"#
    );
    assert_eq!(text(&()), "null");
    assert_eq!(text(&Some(Some(5))), "5");
    assert_eq!(text(&(1, "a", [0.5])), r#"[1, "a", [0.5]]"#);
    assert_eq!(text(&Vec::<i32>::new()), "[]");
    assert_eq!(text(&HashMap::<String, i32>::new()), "{}");
    assert_eq!(text(&i128::MIN), "-170141183460469231731687303715884105728");
}
