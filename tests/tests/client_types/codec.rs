//! `pottery::codec` writes exactly what Python's `json.dumps(value, sort_keys=True)` writes.
//!
//! The expected bytes are not pasted here: every case is a Python expression that the venv's
//! Python (`POTTERY_PYTHON`, as `scripts/test` sets up) encodes at test time, in one batched
//! call, next to the Rust value that must encode to the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use pottery::codec::{from_json, to_json, BigInteger, EncodeErrorKind};
use pottery::Error;
use pottery_tests::{python, workspace_root};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde::{Deserialize, Serialize};

/// Python's verdict on one expression: `Ok(json bytes)` or `Err(exception type name)`.
fn python_dumps(expressions: &[String]) -> Vec<Result<Vec<u8>, String>> {
    let mut child = Command::new(python())
        .arg(workspace_root().join("tests/python/codec_worker.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Python runs");
    let mut input = String::new();
    for expression in expressions {
        assert!(!expression.contains('\n'), "one expression per line");
        input.push_str(expression);
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("Python finishes");
    writer
        .join()
        .expect("writer thread")
        .expect("stdin written");
    assert!(
        output.status.success(),
        "Python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<_> = output
        .stdout
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            if let Some(json) = line.strip_prefix(b"ok ") {
                Ok(json.to_vec())
            } else {
                Err(
                    String::from_utf8_lossy(line.strip_prefix(b"error ").unwrap_or(line))
                        .into_owned(),
                )
            }
        })
        .collect();
    assert_eq!(
        verdicts.len(),
        expressions.len(),
        "one verdict per expression"
    );
    verdicts
}

/// A Python string literal for `text` that any Python reads back unchanged.
fn python_string(text: &str) -> String {
    let mut literal = String::from("\"");
    for character in text.chars() {
        if character.is_ascii_alphanumeric() || character == ' ' {
            literal.push(character);
        } else {
            let _ = write!(literal, "\\U{:08x}", u32::from(character));
        }
    }
    literal.push('"');
    literal
}

/// A Python float literal for `value`: Rust's `{:?}` is a shortest round-trip form that Python
/// parses to the same double.
fn python_float(value: f64) -> String {
    if value.is_nan() {
        "nan".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{value:?}")
    }
}

/// One corpus entry: the Python expression and our encoding of the same value.
struct Case {
    python: String,
    ours: Result<Vec<u8>, Error>,
}

fn case<T: Serialize + ?Sized>(python: &str, value: &T) -> Case {
    Case {
        python: python.to_owned(),
        ours: to_json(value),
    }
}

fn big(digits: &str) -> BigInteger {
    digits.parse().expect("decimal digits")
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Order {
    zebra: Vec<Option<bool>>,
    apple: HashMap<u64, String>,
    #[serde(rename = "Émile")]
    emile: (i32, f64),
}

#[test]
fn corpus_encodes_byte_for_byte_like_python() {
    let control: String = (0u8..0x20)
        .map(char::from)
        .chain(['\u{7f}', '\u{80}', '\u{9f}'])
        .collect();
    let order = Order {
        zebra: vec![Some(true), None, Some(false)],
        apple: HashMap::from([
            (10, "ten".to_owned()),
            (9, "nine".to_owned()),
            (100, "x".to_owned()),
        ]),
        emile: (-7, 0.5),
    };
    let cases = vec![
        case("None", &()),
        case("True", &true),
        case("[True, False, None]", &(true, false, None::<i32>)),
        case("0", &0),
        case("-9223372036854775808", &i64::MIN),
        case("18446744073709551615", &u64::MAX),
        case("18446744073709551616", &(1u128 << 64)),
        case("-18446744073709551617", &(-(1i128 << 64) - 1)),
        case("340282366920938463463374607431768211455", &u128::MAX),
        case("-170141183460469231731687303715884105728", &i128::MIN),
        case(
            "[1e16, 1e15, 1e-05, 0.0001, -0.0, 0.0, 0.1, 1e308, 1.7976931348623157e308, 5e-324, 1.0, 123.456, 2.5e-300]",
            &[1e16, 1e15, 1e-5, 1e-4, -0.0, 0.0, 0.1, 1e308, f64::MAX, 5e-324, 1.0, 123.456, 2.5e-300],
        ),
        case("2**200", &big("1606938044258990275541962092341162602522202993782792835301376")),
        case("-(2**128)", &big("-340282366920938463463374607431768211456")),
        case(
            "{2**130: 'a', -(2**130): 'b', 5: 'c', 2**64: 'd'}",
            &BTreeMap::from([
                (big("1361129467683753853853498429727072845824"), "a"),
                (big("-1361129467683753853853498429727072845824"), "b"),
                (BigInteger::from(5), "c"),
                (BigInteger::from(1u128 << 64), "d"),
            ]),
        ),
        case("[nan, inf, -inf]", &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        case(
            &format!("[{}, {}]", python_float(0.1f32.into()), python_float(1e16f32.into())),
            &[0.1f32, 1e16f32],
        ),
        case(&python_string("plain ascii / slash ~"), "plain ascii / slash ~"),
        case(&python_string("\"quoted\" back\\slash"), "\"quoted\" back\\slash"),
        case(&python_string(&control), &control),
        case(&python_string("café ☕ ü ß 日本 Ω"), "café ☕ ü ß 日本 Ω"),
        case(&python_string("astral 😀 𝄞 \u{10FFFF} \u{10000}"), "astral 😀 𝄞 \u{10FFFF} \u{10000}"),
        case(&python_string("\u{FFFF}\u{FEFF}\u{E000}"), "\u{FFFF}\u{FEFF}\u{E000}"),
        case("\"\"", ""),
        case("[]", &Vec::<i32>::new()),
        case("{}", &HashMap::<String, i32>::new()),
        case("{10: 'a', 9: 'b', -3: 'c', 100: 'd'}", &HashMap::from([(10, "a"), (9, "b"), (-3, "c"), (100, "d")])),
        case("{True: 1, False: 0}", &HashMap::from([(true, 1), (false, 0)])),
        case(
            "{'b': {'z': 1, 'a': [{'y': None, 'x': 2}]}, 'a': {2: 'two', 11: 'eleven'}, 'B': 0}",
            &BTreeMap::from([
                ("b", serde_value_z_a()),
                ("a", Nested::Numbers(HashMap::from([(2, "two"), (11, "eleven")]))),
                ("B", Nested::Zero(0)),
            ]),
        ),
        case(
            &format!(
                "{{{}: 1, {}: 2, {}: 3, 'a': 4, 'Z': 5}}",
                python_string("é"),
                python_string("😀"),
                python_string("\u{FFFF}")
            ),
            &HashMap::from([("é", 1), ("😀", 2), ("\u{FFFF}", 3), ("a", 4), ("Z", 5)]),
        ),
        case(
            "{'zebra': [True, None, False], 'apple': {10: 'ten', 9: 'nine', 100: 'x'}, '\\u00c9mile': [-7, 0.5]}",
            &order,
        ),
        case("{1: 'a', 'b': 2}", &MixedKey(vec![(Key::Number(1), 0), (Key::Text("b"), 2)])),
    ];
    let expressions: Vec<String> = cases.iter().map(|case| case.python.clone()).collect();
    let verdicts = python_dumps(&expressions);
    for (case, verdict) in cases.iter().zip(verdicts) {
        match (&case.ours, verdict) {
            (Ok(ours), Ok(python)) => assert_eq!(
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(&python),
                "{}",
                case.python
            ),
            (Err(Error::Encode(error)), Err(python)) => {
                assert_eq!(
                    error.kind(),
                    EncodeErrorKind::MixedKeyTypes,
                    "{}",
                    case.python
                );
                assert_eq!(python, "TypeError", "{}", case.python);
            }
            (ours, python) => panic!("{}: ours {ours:?}, Python {python:?}", case.python),
        }
    }

    // What Python wrote decodes back into the Rust value.
    let order_bytes = to_json(&order).expect("encodes");
    assert_eq!(from_json::<Order>(&order_bytes).expect("decodes"), order);
    let floats: Vec<f64> =
        from_json(b"[1e+16, 1e-05, -0.0, NaN, Infinity, -Infinity, 5e-324]").expect("decodes");
    assert_eq!(floats[..3], [1e16, 1e-5, 0.0]);
    assert!(floats[2].is_sign_negative() && floats[3].is_nan() && floats[4] == f64::INFINITY);
    assert_eq!(floats[5..], [f64::NEG_INFINITY, 5e-324]);
    let astral: String = from_json(&to_json("😀\u{7f}").expect("encodes")).expect("decodes");
    assert_eq!(astral, "😀\u{7f}");
    assert_eq!(
        from_json::<u128>(b"340282366920938463463374607431768211455").expect("decodes"),
        u128::MAX
    );
    assert!(matches!(
        from_json::<u64>(b"18446744073709551616"),
        Err(Error::Decode(_))
    ));
    assert!(matches!(
        from_json::<f64>(b"340282366920938463463374607431768211456"),
        Err(Error::Decode(_))
    ));
}

#[derive(Serialize)]
#[serde(untagged)]
enum Nested {
    Letters(BTreeMap<&'static str, serde_json_like::Any>),
    Numbers(HashMap<i32, &'static str>),
    Zero(i32),
}

fn serde_value_z_a() -> Nested {
    use serde_json_like::Any;
    Nested::Letters(BTreeMap::from([
        ("z", Any::Int(1)),
        (
            "a",
            Any::List(vec![Any::Map(vec![
                ("y".to_owned(), Any::Null),
                ("x".to_owned(), Any::Int(2)),
            ])]),
        ),
    ]))
}

#[derive(Serialize)]
#[serde(untagged)]
enum Key {
    Text(&'static str),
    Number(i64),
}

/// Key–value pairs serialized as one map, keys in the given order.
struct MixedKey(Vec<(Key, i32)>);

impl Serialize for MixedKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

/// A dynamic value for the corpus and the property test, with its Python literal.
mod serde_json_like {
    use super::{python_float, python_string};
    use serde::Serialize;

    #[derive(Debug, Clone)]
    pub enum Any {
        Null,
        Bool(bool),
        Int(i128),
        Huge(u128),
        /// Decimal digits of any length.
        Big(String),
        Float(f64),
        Text(String),
        List(Vec<Any>),
        /// String keys, given in arbitrary order.
        Map(Vec<(String, Any)>),
        /// Integer keys, given in arbitrary order.
        IntMap(Vec<(i64, Any)>),
    }

    impl Serialize for Any {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Self::Null => serializer.serialize_unit(),
                Self::Bool(value) => serializer.serialize_bool(*value),
                Self::Int(value) => serializer.serialize_i128(*value),
                Self::Huge(value) => serializer.serialize_u128(*value),
                Self::Big(digits) => digits
                    .parse::<pottery::codec::BigInteger>()
                    .map_err(serde::ser::Error::custom)?
                    .serialize(serializer),
                Self::Float(value) => serializer.serialize_f64(*value),
                Self::Text(value) => serializer.serialize_str(value),
                Self::List(items) => serializer.collect_seq(items),
                Self::Map(entries) => serializer.collect_map(entries.iter().map(|(k, v)| (k, v))),
                Self::IntMap(entries) => {
                    serializer.collect_map(entries.iter().map(|(k, v)| (k, v)))
                }
            }
        }
    }

    impl Any {
        pub fn python(&self) -> String {
            match self {
                Self::Null => "None".to_owned(),
                Self::Bool(true) => "True".to_owned(),
                Self::Bool(false) => "False".to_owned(),
                Self::Int(value) => value.to_string(),
                Self::Huge(value) => value.to_string(),
                Self::Big(digits) => format!("({digits})"),
                Self::Float(value) => python_float(*value),
                Self::Text(value) => python_string(value),
                Self::List(items) => {
                    let items: Vec<String> = items.iter().map(Self::python).collect();
                    format!("[{}]", items.join(", "))
                }
                Self::Map(entries) => {
                    let entries: Vec<String> = entries
                        .iter()
                        .map(|(key, value)| format!("{}: {}", python_string(key), value.python()))
                        .collect();
                    format!("{{{}}}", entries.join(", "))
                }
                Self::IntMap(entries) => {
                    let entries: Vec<String> = entries
                        .iter()
                        .map(|(key, value)| format!("{key}: {}", value.python()))
                        .collect();
                    format!("{{{}}}", entries.join(", "))
                }
            }
        }
    }
}

use serde_json_like::Any;

fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        (-20i32..20, -400i32..400).prop_map(|(mantissa, exponent)| {
            format!("{mantissa}e{exponent}").parse().unwrap_or(0.0)
        }),
        (-1e6f64..1e6),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 /~]{0,8}",
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                (0u32..0x80).prop_filter_map("scalar", char::from_u32),
                (0x80u32..0x800).prop_filter_map("scalar", char::from_u32),
                (0xd000u32..0x10000).prop_filter_map("scalar", char::from_u32),
                (0x10000u32..0x110000).prop_filter_map("scalar", char::from_u32),
            ],
            0..8
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn any_value() -> impl Strategy<Value = Any> {
    let leaf = prop_oneof![
        Just(Any::Null),
        any::<bool>().prop_map(Any::Bool),
        any::<i64>().prop_map(|value| Any::Int(value.into())),
        any::<i128>().prop_map(Any::Int),
        any::<u128>().prop_map(Any::Huge),
        "-?[1-9][0-9]{30,80}".prop_map(Any::Big),
        any_float().prop_map(Any::Float),
        any_text().prop_map(Any::Text),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Any::List),
            proptest::collection::hash_map(any_text(), inner.clone(), 0..6)
                .prop_map(|map| Any::Map(map.into_iter().collect())),
            proptest::collection::hash_map(any::<i64>(), inner, 0..6)
                .prop_map(|map| Any::IntMap(map.into_iter().collect())),
        ]
    })
}

#[test]
fn random_values_encode_like_python() {
    // Generated here and checked in one Python call, so the property test costs one process.
    let mut runner = TestRunner::default();
    let strategy = any_value();
    let values: Vec<Any> = (0..600)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .collect();
    let expressions: Vec<String> = values.iter().map(Any::python).collect();
    let verdicts = python_dumps(&expressions);
    for ((value, expression), verdict) in values.iter().zip(&expressions).zip(verdicts) {
        let python = verdict.unwrap_or_else(|error| panic!("Python refused {expression}: {error}"));
        let ours =
            to_json(value).unwrap_or_else(|error| panic!("we refused {expression}: {error}"));
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&python),
            "value {expression}"
        );
        // And what we wrote reads back as JSON of the same shape.
        let reread: serde::de::IgnoredAny = from_json(&ours)
            .unwrap_or_else(|error| panic!("we cannot read back {expression}: {error}"));
        let _ = reread;
    }
}

proptest! {
    #[test]
    fn strings_round_trip(text in any_text()) {
        let encoded = to_json(&text).expect("strings always encode");
        prop_assert!(encoded.iter().all(|byte| (0x20..0x7f).contains(byte)));
        prop_assert_eq!(from_json::<String>(&encoded).expect("decodes"), text);
    }

    #[test]
    fn floats_round_trip(value in any_float()) {
        let encoded = to_json(&value).expect("floats always encode");
        let decoded: f64 = from_json(&encoded).expect("decodes");
        prop_assert!(decoded.to_bits() == value.to_bits() || (decoded.is_nan() && value.is_nan()));
    }

    #[test]
    fn integer_maps_round_trip(map in proptest::collection::hash_map(any::<i64>(), any::<i128>(), 0..20)) {
        let encoded = to_json(&map).expect("encodes");
        prop_assert_eq!(from_json::<HashMap<i64, i128>>(&encoded).expect("decodes"), map);
    }
}
