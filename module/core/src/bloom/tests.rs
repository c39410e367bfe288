use super::*;
use proptest::prelude::*;

const MIB: u64 = 1 << 20;

#[test]
fn sizing_follows_the_formula() {
    let layout = Layout::for_capacity(100, 0.01, MIB).unwrap();
    // ceil(-100 ln 0.01 / ln²2) = 959 bits -> 15 words.
    assert_eq!(layout.bits, 960);
    assert_eq!(layout.hashes, 7);
    let layout = Layout::for_capacity(1, 0.5, MIB).unwrap();
    // ceil(1.44) = 2 bits -> one word; ceil(ln 2 · 2) = 2 hashes.
    assert_eq!(layout.bits, 64);
    assert_eq!(layout.hashes, 2);
}

#[test]
fn limits_are_checked_before_allocating() {
    assert_eq!(check_error_rate(0.0), Err(BloomError::BadErrorRate));
    assert_eq!(check_error_rate(1.0), Err(BloomError::BadErrorRate));
    assert_eq!(check_error_rate(f64::NAN), Err(BloomError::BadErrorRate));
    assert_eq!(check_capacity(0), Err(BloomError::BadCapacity));
    assert_eq!(check_capacity(-1), Err(BloomError::BadCapacity));
    assert_eq!(check_capacity(1 << 40), Ok(1 << 40));
    assert_eq!(check_capacity((1 << 40) + 1), Err(BloomError::BadCapacity));
    assert_eq!(Growth::scaling(0), Err(BloomError::BadExpansion));
    assert_eq!(Growth::scaling(32769), Err(BloomError::BadExpansion));
    // 2^40 items at 1% need about 1.2 TB: refused without allocating anything.
    assert_eq!(
        Layout::for_capacity(MAX_CAPACITY, 0.01, 1 << 29),
        Err(BloomError::TooLarge)
    );
    // The smallest positive error rate still gives a finite size and a bounded hash count.
    let tiniest = Layout::for_capacity(10, 5e-324, MIB).unwrap();
    assert!(tiniest.hashes <= MAX_HASHES && tiniest.bits < 20_000);
    assert_eq!(parse_error_rate(b"0.01"), Ok(0.01));
    assert_eq!(parse_error_rate(b"1e-3"), Ok(0.001));
    for bad in [
        &b""[..],
        b" 0.1",
        b"abc",
        b"nan",
        b"inf",
        b"1",
        b"-0.1",
        b"\xff",
    ] {
        assert_eq!(
            parse_error_rate(bad),
            Err(BloomError::BadErrorRate),
            "{bad:?}"
        );
    }
}

#[test]
fn bit_positions_beyond_2_pow_32() {
    let bits: u64 = (1 << 35) + 64;
    let hashes = ItemHashes {
        h1: 0xffff_ffff_ffff_fff0,
        h2: 0x1234_5678_9abc_def1,
    };
    for i in 0..20u32 {
        // The same sum in 128-bit arithmetic, reduced to 64 bits first.
        let wrapped =
            (u128::from(hashes.h1) + u128::from(i) * u128::from(hashes.h2)) % (1u128 << 64);
        assert_eq!(u128::from(hashes.bit(i, bits)), wrapped % u128::from(bits));
    }
    // Positions above 2^32 are reached: nothing is truncated to 32 bits.
    let high = (0..64u32).map(|i| hashes.bit(i, bits)).max().unwrap();
    assert!(high > u64::from(u32::MAX), "{high}");
    // Sizing a filter of more than 2^32 bits works in 64-bit arithmetic.
    let layout = Layout::for_capacity(500_000_000, 0.01, 1 << 40).unwrap();
    assert!(layout.bits > 1 << 32);
    assert_eq!(layout.bits % 64, 0);
}

#[test]
fn sub_filters_scale_and_tighten() {
    let params = Params {
        capacity: 4,
        error_rate: 0.1,
        growth: Growth::Scaling(3),
    };
    let mut filter = BloomFilter::new(params, MIB).unwrap();
    for n in 0..200u32 {
        filter
            .insert(&ItemHashes::of(&n.to_le_bytes()), MIB)
            .unwrap();
    }
    let filters = filter.filters();
    assert!(filters.len() >= 3);
    for (i, sub) in filters.iter().enumerate() {
        assert_eq!(sub.capacity, 4 * 3u64.pow(i as u32));
        assert_eq!(sub.error_rate, 0.1 * 0.5f64.powi(i as i32 + 1));
        let layout = Layout::for_capacity(sub.capacity, sub.error_rate, MIB).unwrap();
        assert_eq!(sub.bits(), layout.bits);
        assert_eq!(sub.hashes, layout.hashes);
    }
    assert_eq!(filter.params(), params);
    assert_eq!(filter.items(), filters.iter().map(|f| f.items).sum::<u64>());
}

#[test]
fn non_scaling_filter_refuses_when_full() {
    let params = Params {
        capacity: 3,
        error_rate: 0.001,
        growth: Growth::NonScaling,
    };
    let mut filter = BloomFilter::new(params, MIB).unwrap();
    for n in 0..3u32 {
        assert_eq!(
            filter.insert(&ItemHashes::of(&n.to_le_bytes()), MIB),
            Ok(true)
        );
    }
    assert_eq!(
        filter.insert(&ItemHashes::of(b"one more"), MIB),
        Err(BloomError::Full)
    );
    // An item that may be present is still answered without growing.
    assert_eq!(
        filter.insert(&ItemHashes::of(&0u32.to_le_bytes()), MIB),
        Ok(false)
    );
}

#[test]
fn growth_stops_at_the_byte_limit_and_the_filter_count() {
    let params = Params {
        capacity: 1,
        error_rate: 0.5,
        growth: Growth::Scaling(1),
    };
    let mut filter = BloomFilter::new(params, MIB).unwrap();
    let mut outcome = Ok(true);
    for n in 0..10_000u32 {
        outcome = filter.insert(&ItemHashes::of(&n.to_le_bytes()), MIB);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome, Err(BloomError::TooManyFilters));
    assert_eq!(filter.filters().len(), MAX_FILTERS);

    let params = Params {
        capacity: 1000,
        error_rate: 0.01,
        growth: Growth::Scaling(4),
    };
    let limit = 8 * 1024;
    let mut filter = BloomFilter::new(params, limit).unwrap();
    let mut outcome = Ok(true);
    for n in 0..100_000u32 {
        outcome = filter.insert(&ItemHashes::of(&n.to_le_bytes()), limit);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome, Err(BloomError::TooLarge));
    assert!(filter.bytes() <= limit);
}

proptest! {
    #[test]
    fn no_false_negatives(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 1..300)) {
        let params = Params { capacity: 10, error_rate: 0.01, growth: Growth::Scaling(2) };
        let mut filter = BloomFilter::new(params, MIB).unwrap();
        for item in &items {
            filter.insert(&ItemHashes::of(item), MIB).unwrap();
        }
        for item in &items {
            prop_assert!(filter.contains(&ItemHashes::of(item)));
        }
    }

    #[test]
    fn error_rates_round_trip_through_text(rate in 1e-300f64..1.0) {
        prop_assert_eq!(parse_error_rate(format_error_rate(rate).as_bytes()), Ok(rate));
    }
}
