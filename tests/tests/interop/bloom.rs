//! Python pottery 3.0.1's `BloomFilter` and ours in its layout (`PotteryBloomFilter`) share a
//! filter: each finds what the other added, the stored bitmaps are identical, and both estimate
//! the same length. Needs no module.

use pottery::PotteryBloomFilter;
use pottery_tests::{python_output, Server};

fn python_filter(server: &Server, key: &str) -> String {
    format!(
        "import redis, warnings; from pottery import BloomFilter; warnings.simplefilter('ignore'); \
         r = redis.Redis(port={}); \
         bf = BloomFilter(redis=r, key='{key}', num_elements=1000, false_positives=0.01)",
        server.port()
    )
}

#[test]
fn python_and_rust_share_a_bloom_filter_in_pottery_s_layout() {
    let server = Server::builder().without_module().start();
    let words = ["apple", "é", "😀", "banana split", ""];
    let numbers = [0i64, -1, 1 << 40];

    // Python adds, Rust finds.
    python_output(&format!(
        "{}; bf.update({words:?}); bf.update({numbers:?}); bf.update([[1, 'x'], {{'k': 1.5}}])",
        python_filter(&server, "from-python"),
    ));
    let theirs: PotteryBloomFilter<serde_json_like::Json> =
        PotteryBloomFilter::open(server.url(), "from-python", 1000, 0.01).unwrap();
    for word in words {
        assert!(
            theirs.contains(&serde_json_like::Json::text(word)).unwrap(),
            "{word:?}"
        );
    }
    for number in numbers {
        assert!(theirs
            .contains(&serde_json_like::Json::Number(number))
            .unwrap());
    }
    assert!(theirs
        .contains(&serde_json_like::Json::pair(1, "x"))
        .unwrap());
    assert!(theirs
        .contains(&serde_json_like::Json::object("k", 1.5))
        .unwrap());

    // Rust adds, Python finds; the bitmaps are identical and the lengths agree.
    let ours: PotteryBloomFilter<serde_json_like::Json> =
        PotteryBloomFilter::open(server.url(), "from-rust", 1000, 0.01).unwrap();
    let mut elements: Vec<serde_json_like::Json> = words
        .iter()
        .map(|word| serde_json_like::Json::text(word))
        .collect();
    elements.extend(numbers.iter().map(|n| serde_json_like::Json::Number(*n)));
    elements.push(serde_json_like::Json::pair(1, "x"));
    elements.push(serde_json_like::Json::object("k", 1.5));
    assert_eq!(ours.extend(&elements).unwrap(), elements.len());
    let bitmaps: (Vec<u8>, Vec<u8>) = (
        server.cmd(&["GET", "from-python"]).unwrap(),
        server.cmd(&["GET", "from-rust"]).unwrap(),
    );
    assert_eq!(bitmaps.0, bitmaps.1);
    let python = python_output(&format!(
        "{}; print(all(w in bf for w in {words:?}), all(n in bf for n in {numbers:?}), \
         [1, 'x'] in bf, {{'k': 1.5}} in bf, 'absent' in bf, len(bf))",
        python_filter(&server, "from-rust"),
    ));
    let length = ours.len().unwrap();
    assert_eq!(python, format!("True True True True False {length}"));
    assert_eq!(length, elements.len() as u64);
    assert!(!ours
        .contains(&serde_json_like::Json::text("absent"))
        .unwrap());
}

mod serde_json_like {
    /// The JSON values the test shares with Python, encoded by pottery's codec.
    #[derive(serde::Serialize, Clone, Debug)]
    #[serde(untagged)]
    pub enum Json {
        Text(String),
        Number(i64),
        Pair((i64, String)),
        Object(std::collections::BTreeMap<String, f64>),
    }

    impl Json {
        pub fn text(text: &str) -> Self {
            Self::Text(text.to_owned())
        }

        pub fn pair(number: i64, text: &str) -> Self {
            Self::Pair((number, text.to_owned()))
        }

        pub fn object(key: &str, value: f64) -> Self {
            Self::Object([(key.to_owned(), value)].into())
        }
    }
}
