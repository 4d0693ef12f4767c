//! Tests of money: parsing and formatting, checked arithmetic, half-away-from-zero rounding and
//! largest-remainder allocation, with the 10,000-case properties RELIABILITY.md requires.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{currency, reference_round, usd};
use crate::money::{
    AllocateError, Currency, MAX_MINOR, Money, MoneyError, allocate, format_minor, parse_decimal,
    round_half_away_from_zero,
};

/// The cases per money property, the figure RELIABILITY.md sets.
const MONEY_CASES: u32 = 10_000;

fn too_precise(code: &str) -> MoneyError {
    let currency = currency(code);
    MoneyError::TooPrecise { currency, exponent: currency.exponent() }
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

// ---- parse and format -------------------------------------------------------------------

#[test]
fn usd_amounts_read_and_format_with_exactly_two_decimals() {
    for (text, minor, shown) in [
        ("150.00", 15_000, "150.00"),
        ("-3.13", -313, "-3.13"),
        ("1.5", 150, "1.50"),
        ("150", 15_000, "150.00"),
        ("0.07", 7, "0.07"),
        ("-0.07", -7, "-0.07"),
        ("+2", 200, "2.00"),
        ("  12.34 ", 1234, "12.34"),
        ("007.10", 710, "7.10"),
        ("-0", 0, "0.00"),
        ("0.0", 0, "0.00"),
    ] {
        let money = usd(text);
        assert_eq!(money.minor(), minor, "{text:?}");
        assert_eq!(money.to_string(), shown, "{text:?}");
    }
}

#[test]
fn yen_amounts_have_no_decimals() {
    let jpy = currency("JPY");
    let money = Money::parse("150", jpy).unwrap();
    assert_eq!(money.minor(), 150);
    assert_eq!(money.to_string(), "150");
    assert_eq!(Money::new(-7, jpy).to_string(), "-7");
    assert_eq!(Money::parse("150.5", jpy), Err(too_precise("JPY")));
}

#[test]
fn bahraini_dinar_amounts_have_three_decimals() {
    let bhd = currency("BHD");
    let money = Money::parse("1.005", bhd).unwrap();
    assert_eq!(money.minor(), 1005);
    assert_eq!(money.to_string(), "1.005");
    assert_eq!(Money::parse("-0.5", bhd).unwrap().to_string(), "-0.500");
    assert_eq!(Money::parse("0.0001", bhd), Err(too_precise("BHD")));
}

#[test]
fn parse_refuses_more_digits_than_the_currency_has() {
    assert_eq!(Money::parse("1.005", Currency::USD), Err(too_precise("USD")));
    assert_eq!(Money::parse("-0.001", Currency::USD), Err(too_precise("USD")));
    assert_eq!(Money::parse("12.3456", currency("UYW")), Ok(Money::new(123_456, currency("UYW"))));
    assert_eq!(Money::parse("12.34567", currency("UYW")), Err(too_precise("UYW")));
    assert_eq!(too_precise("USD").to_string(), "USD amounts have at most 2 decimal places");
}

#[test]
fn zeros_beyond_the_currency_digits_are_exact_and_accepted() {
    assert_eq!(usd("1.500"), usd("1.50"));
    assert_eq!(Money::parse("150.000", currency("JPY")).unwrap().minor(), 150);
}

#[test]
fn parse_refuses_text_that_is_not_a_decimal_number() {
    for text in [
        "abc", "", " ", "1.", ".5", "1e3", "--1", "-", "+", "+-1", "-+1", "- 1", "1.2.3", "1,00",
        "1 000", "1_000", "0x10", "NaN", "inf", "١٢", "１２", "12-", "$12", "12.-3",
    ] {
        assert_eq!(Money::parse(text, Currency::USD), Err(MoneyError::NotDecimal), "{text:?}");
    }
    assert_eq!(MoneyError::NotDecimal.to_string(), "not a decimal amount");
}

#[test]
fn parse_refuses_amounts_beyond_the_bound() {
    let overflow = Err(MoneyError::Overflow);
    assert_eq!(Money::parse("1000000000000.00", Currency::USD), overflow);
    assert_eq!(Money::parse("-1000000000000", Currency::USD), overflow);
    assert_eq!(Money::parse("92233720368547758.07", Currency::USD), overflow);
    assert_eq!(Money::parse("-92233720368547758.08", Currency::USD), overflow);
    assert_eq!(Money::parse("99999999999999999999999999", Currency::USD), overflow);
    assert_eq!(Money::parse("100000000000000", currency("JPY")), overflow);
    assert_eq!(Money::parse("100000000000.000", currency("BHD")), overflow);
    assert_eq!(usd("999999999999.99").minor(), MAX_MINOR);
    assert_eq!(usd("-999999999999.99").minor(), -MAX_MINOR);
    assert_eq!(Money::parse("99999999999999", currency("JPY")).map(Money::minor), Ok(MAX_MINOR));
    assert_eq!(usd("00000000000000000000000001.00").minor(), 100);
}

#[test]
fn the_extreme_amounts_format_and_read_back() {
    for code in ["USD", "JPY", "BHD", "UYW"] {
        let currency = currency(code);
        for minor in [-MAX_MINOR, -MAX_MINOR + 1, -1, 0, 1, MAX_MINOR] {
            let money = Money::new(minor, currency);
            assert_eq!(Money::parse(&money.to_string(), currency), Ok(money), "{code} {minor}");
        }
        for minor in [i64::MIN, -MAX_MINOR - 1, MAX_MINOR + 1, i64::MAX] {
            let text = Money::new(minor, currency).to_string();
            assert_eq!(Money::parse(&text, currency), Err(MoneyError::Overflow), "{code} {minor}");
        }
    }
    assert_eq!(Money::new(i64::MIN, Currency::USD).to_string(), "-92233720368547758.08");
    assert_eq!(Money::new(i64::MAX, currency("BHD")).to_string(), "9223372036854775.807");
}

#[test]
fn sums_past_i64_format_exactly_as_money_does() {
    for code in ["USD", "JPY", "BHD"] {
        let currency = currency(code);
        for minor in [i64::MIN, -1, 0, 7, i64::MAX] {
            assert_eq!(
                format_minor(i128::from(minor), currency),
                Money::new(minor, currency).to_string()
            );
        }
    }
    let past = i128::from(i64::MAX) * 1_000;
    assert_eq!(format_minor(past, Currency::USD), "92233720368547758070.00");
    assert_eq!(format_minor(-past - 5, currency("BHD")), "-9223372036854775807.005");
    assert_eq!(format_minor(i128::MIN, currency("JPY")), i128::MIN.to_string());
}

#[test]
fn unknown_currency_codes_are_refused() {
    for code in ["XYZ", "usd", "", "US", "USDX"] {
        assert_eq!(
            Currency::parse(code),
            Err(MoneyError::UnknownCurrency { code: code.to_owned() }),
            "{code:?}"
        );
    }
    let long = "A".repeat(40);
    assert_eq!(Currency::parse(&long), Err(MoneyError::UnknownCurrency { code: "A".repeat(16) }));
    assert_eq!(Currency::parse("XYZ").unwrap_err().to_string(), "unknown currency XYZ");
}

#[test]
fn currencies_carry_their_iso_exponent() {
    for (code, exponent) in [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("UYW", 4)] {
        let currency = currency(code);
        assert_eq!(currency.code(), code);
        assert_eq!(currency.exponent(), exponent, "{code}");
        assert_eq!(currency.to_string(), code);
    }
    assert_eq!(Currency::USD, currency("USD"));
}

#[test]
fn from_decimal_reads_exact_amounts_and_refuses_excess_precision() {
    assert_eq!(Money::from_decimal(dec("12.34"), Currency::USD), Ok(usd("12.34")));
    assert_eq!(Money::from_decimal(dec("-3.1300"), Currency::USD), Ok(usd("-3.13")));
    assert_eq!(Money::from_decimal(dec("150.0"), currency("JPY")).unwrap().minor(), 150);
    assert_eq!(Money::from_decimal(dec("1.005"), Currency::USD), Err(too_precise("USD")));
    assert_eq!(
        Money::from_decimal(dec("92233720368547758.08"), Currency::USD),
        Err(MoneyError::Overflow)
    );
    assert_eq!(Money::from_decimal(Decimal::MAX, Currency::USD), Err(MoneyError::Overflow));
}

#[test]
fn the_sign_of_an_amount_is_known() {
    assert!(usd("0.01").is_positive() && !usd("0.01").is_negative() && !usd("0.01").is_zero());
    assert!(usd("-0.01").is_negative() && !usd("-0.01").is_positive());
    assert!(Money::zero(Currency::USD).is_zero());
    assert_eq!(Money::zero(Currency::USD), usd("0.00"));
}

// ---- checked arithmetic -----------------------------------------------------------------

#[test]
fn checked_arithmetic_adds_and_subtracts_exactly() {
    assert_eq!(usd("100.00").checked_add(usd("6.26")), Ok(usd("106.26")));
    assert_eq!(usd("53.13").checked_sub(usd("100.00")), Ok(usd("-46.87")));
    assert_eq!(usd("-3.13").checked_neg(), Ok(usd("3.13")));
}

#[test]
fn checked_arithmetic_refuses_results_past_the_bound() {
    let max = Money::new(MAX_MINOR, Currency::USD);
    let min = Money::new(-MAX_MINOR, Currency::USD);
    assert_eq!(max.checked_add(usd("0.01")), Err(MoneyError::Overflow));
    assert_eq!(min.checked_add(usd("-0.01")), Err(MoneyError::Overflow));
    assert_eq!(min.checked_sub(usd("0.01")), Err(MoneyError::Overflow));
    assert_eq!(max.checked_sub(usd("-0.01")), Err(MoneyError::Overflow));
    assert_eq!(max.checked_add_minor(1), Err(MoneyError::Overflow));
    assert_eq!(max.checked_add(min), Ok(usd("0.00")));
    assert_eq!(min.checked_neg(), Ok(max));
    assert_eq!(Money::new(i64::MIN, Currency::USD).checked_neg(), Err(MoneyError::Overflow));
    assert_eq!(Money::new(i64::MAX, Currency::USD).checked_add_minor(1), Err(MoneyError::Overflow));
    assert_eq!(Money::try_new(MAX_MINOR + 1, Currency::USD), Err(MoneyError::Overflow));
    assert_eq!(
        MoneyError::Overflow.to_string(),
        "out of range: at most 99999999999999 minor units in size"
    );
}

#[test]
fn checked_arithmetic_refuses_two_currencies() {
    let eur = Money::new(100, currency("EUR"));
    let mismatch = MoneyError::CurrencyMismatch { left: Currency::USD, right: currency("EUR") };
    assert_eq!(usd("1.00").checked_add(eur), Err(mismatch.clone()));
    assert_eq!(usd("1.00").checked_sub(eur), Err(mismatch.clone()));
    assert_eq!(mismatch.to_string(), "currency mismatch: USD and EUR");
}

#[test]
fn checked_sum_adds_many_and_stops_at_overflow_or_a_mismatch() {
    let parts = [usd("100.00"), usd("6.26"), usd("-50.00"), usd("-3.13")];
    assert_eq!(Money::checked_sum(Currency::USD, parts), Ok(usd("53.13")));
    assert_eq!(Money::checked_sum(Currency::USD, []), Ok(usd("0.00")));
    let max = Money::new(MAX_MINOR, Currency::USD);
    assert_eq!(Money::checked_sum(Currency::USD, [max, usd("0.01")]), Err(MoneyError::Overflow));
    assert_eq!(
        Money::checked_sum(Currency::USD, [usd("1.00"), Money::new(1, currency("JPY"))]),
        Err(MoneyError::CurrencyMismatch { left: Currency::USD, right: currency("JPY") })
    );
}

// ---- rounding ---------------------------------------------------------------------------

#[test]
fn rounding_sends_halves_away_from_zero() {
    for (value, rounded) in [
        ("2.5", 3),
        ("-2.5", -3),
        ("2.4", 2),
        ("-2.4", -2),
        ("2.6", 3),
        ("-2.6", -3),
        ("0.5", 1),
        ("-0.5", -1),
        ("0.4999999999", 0),
        ("164.9175", 165),
        ("0", 0),
        ("7", 7),
    ] {
        assert_eq!(round_half_away_from_zero(dec(value)), Ok(rounded), "{value}");
    }
}

#[test]
fn rounding_refuses_results_beyond_64_bits() {
    assert_eq!(round_half_away_from_zero(dec("9223372036854775807.4")), Ok(i64::MAX));
    assert_eq!(round_half_away_from_zero(dec("9223372036854775807.5")), Err(MoneyError::Overflow));
    assert_eq!(round_half_away_from_zero(dec("-9223372036854775808.4")), Ok(i64::MIN));
    assert_eq!(round_half_away_from_zero(dec("-9223372036854775808.5")), Err(MoneyError::Overflow));
    assert_eq!(round_half_away_from_zero(Decimal::MAX), Err(MoneyError::Overflow));
}

#[test]
fn products_round_half_away_from_zero_to_the_minor_unit() {
    for (amount, factor, product) in [
        ("100.00", "0.0626", "6.26"),
        ("19.99", "0.0825", "1.65"),
        ("-50.00", "0.0626", "-3.13"),
        ("10.00", "0.0005", "0.01"),
        ("-10.00", "0.0005", "-0.01"),
        ("10.00", "0.0004", "0.00"),
        ("1.00", "-1", "-1.00"),
    ] {
        assert_eq!(usd(amount).mul_decimal_round_half_away(dec(factor)), Ok(usd(product)));
    }
    let max = Money::new(i64::MAX, Currency::USD);
    assert_eq!(max.mul_decimal_round_half_away(dec("2")), Err(MoneyError::Overflow));
}

// ---- allocation -------------------------------------------------------------------------

#[test]
fn allocation_gives_leftover_units_to_the_earliest_of_equal_remainders() {
    assert_eq!(allocate(1, &[1, 1, 1]), Ok(vec![1, 0, 0]));
    assert_eq!(allocate(2, &[1, 1, 1]), Ok(vec![1, 1, 0]));
    assert_eq!(allocate(100, &[1, 1, 1]), Ok(vec![34, 33, 33]));
    assert_eq!(allocate(-100, &[1, 1, 1]), Ok(vec![-34, -33, -33]));
    assert_eq!(allocate(3, &[1, 2, 2, 1]), Ok(vec![1, 1, 1, 0]));
}

#[test]
fn allocation_gives_leftover_units_to_the_largest_remainders_first() {
    // 10 × 1/3 = 3.33 and 10 × 2/3 = 6.67: the unit left goes to the larger remainder.
    assert_eq!(allocate(10, &[1, 2]), Ok(vec![3, 7]));
    // 10.00 over 100.00 and 6.26: exact shares 9.4109 and 0.5891.
    assert_eq!(allocate(1000, &[10_000, 626]), Ok(vec![941, 59]));
    assert_eq!(allocate(7, &[1, 2, 2]), Ok(vec![1, 3, 3]));
}

#[test]
fn allocation_is_exact_when_the_shares_are_whole() {
    assert_eq!(allocate(5313, &[10_000, 626]), Ok(vec![5000, 313]));
    assert_eq!(allocate(100, &[3, 7]), Ok(vec![30, 70]));
    assert_eq!(allocate(0, &[1, 2]), Ok(vec![0, 0]));
}

#[test]
fn allocation_gives_nothing_to_zero_weights() {
    assert_eq!(allocate(100, &[0, 1, 0, 1]), Ok(vec![0, 50, 0, 50]));
    assert_eq!(allocate(1, &[0, 1, 1]), Ok(vec![0, 1, 0]));
    assert_eq!(allocate(0, &[0, 0]), Ok(vec![0, 0]));
    assert_eq!(allocate(0, &[]), Ok(vec![]));
}

#[test]
fn allocation_of_something_over_no_weight_is_refused() {
    assert_eq!(allocate(5, &[0, 0]), Err(AllocateError::NoWeight));
    assert_eq!(allocate(-5, &[]), Err(AllocateError::NoWeight));
    assert_eq!(AllocateError::NoWeight.to_string(), "nothing to allocate over");
}

#[test]
fn allocation_refuses_a_negative_weight() {
    assert_eq!(allocate(100, &[1, -1, 2]), Err(AllocateError::NegativeWeight));
    assert_eq!(allocate(0, &[-1]), Err(AllocateError::NegativeWeight));
    assert_eq!(
        AllocateError::NegativeWeight.to_string(),
        "allocation weights must not be negative"
    );
}

#[test]
fn allocation_handles_the_extreme_totals_and_weights() {
    assert_eq!(allocate(i64::MIN, &[1]), Ok(vec![i64::MIN]));
    assert_eq!(allocate(i64::MIN, &[1, 1]), Ok(vec![i64::MIN / 2, i64::MIN / 2]));
    assert_eq!(allocate(i64::MAX, &[1, 1]), Ok(vec![i64::MAX / 2 + 1, i64::MAX / 2]));
    assert_eq!(
        allocate(i64::MAX, &[i64::MAX, i64::MAX, 0]),
        Ok(vec![i64::MAX / 2 + 1, i64::MAX / 2, 0])
    );
    assert_eq!(allocate(3, &[i64::MAX, 1]), Ok(vec![3, 0]));
}

// ---- properties -------------------------------------------------------------------------

const CODES: [&str; 6] = ["USD", "JPY", "BHD", "UYW", "CLP", "EUR"];

/// The currencies properties run over: each exponent Settle knows.
fn any_currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(CODES.to_vec()).prop_map(currency)
}

/// Two different currencies, in either order.
fn two_currencies() -> impl Strategy<Value = (Currency, Currency)> {
    prop::sample::subsequence(CODES.to_vec(), 2)
        .prop_shuffle()
        .prop_map(|pair| (currency(pair[0]), currency(pair[1])))
}

/// Minor amounts: the whole range, small ones where the digits near the point matter, and
/// those near the bound of 10^14 in size.
fn any_minor() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -100_000_i64..=100_000,
        MAX_MINOR - 100..=MAX_MINOR + 100,
        -MAX_MINOR - 100..=-MAX_MINOR + 100,
        Just(i64::MIN),
        Just(i64::MAX)
    ]
}

/// `Ok(minor)` within the bound, the overflow error past it.
fn bounded(minor: i128) -> Result<Money, MoneyError> {
    i64::try_from(minor)
        .ok()
        .filter(|m| m.unsigned_abs() <= MAX_MINOR.unsigned_abs())
        .map(|m| Money::new(m, Currency::USD))
        .ok_or(MoneyError::Overflow)
}

fn any_weight() -> impl Strategy<Value = i64> {
    prop_oneof![0_i64..=3, 0_i64..=1_000_000, 0_i64..=i64::MAX]
}

/// Weights: tiny (many ties), moderate and huge; maybe none, maybe all zero.
fn any_weights() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(any_weight(), 0..12)
}

/// Weights with at least one above zero.
fn some_weights() -> impl Strategy<Value = Vec<i64>> {
    (prop::collection::vec(any_weight(), 1..12), any::<prop::sample::Index>()).prop_map(
        |(mut weights, at)| {
            if weights.iter().all(|w| *w == 0) {
                let position = at.index(weights.len());
                weights[position] = 1;
            }
            weights
        },
    )
}

/// The API's decimal string of `minor` in `currency`, computed independently of `Display`.
fn reference_format(minor: i64, currency: Currency) -> String {
    let scale = 10_i128.pow(u32::from(currency.exponent()));
    let abs = i128::from(minor).abs();
    let sign = if minor < 0 { "-" } else { "" };
    if currency.exponent() == 0 {
        format!("{sign}{abs}")
    } else {
        let width = usize::from(currency.exponent());
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale)
    }
}

/// `[+-]?digits(.digits)?`, the grammar `Money::parse` reads (after trimming).
fn is_decimal_text(text: &str) -> bool {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').map_or((unsigned, None), |(i, f)| (i, Some(f)));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(MONEY_CASES))]

    #[test]
    fn formatting_writes_exactly_the_currency_digits(minor in any_minor(), currency in any_currency()) {
        prop_assert_eq!(Money::new(minor, currency).to_string(), reference_format(minor, currency));
    }

    #[test]
    fn parse_reads_back_what_format_writes(minor in any_minor(), currency in any_currency()) {
        let money = Money::new(minor, currency);
        let expected = if minor.unsigned_abs() <= MAX_MINOR.unsigned_abs() { Ok(money) } else { Err(MoneyError::Overflow) };
        prop_assert_eq!(Money::parse(&money.to_string(), currency), expected);
    }

    #[test]
    fn format_writes_back_what_parse_reads(
        minor in any_minor(),
        currency in any_currency(),
        extra_zeros in 0_usize..3,
        plus in any::<bool>(),
    ) {
        // The same amount with its fraction shortened or padded, and maybe a plus sign.
        let canonical = reference_format(minor, currency);
        let mut text = match canonical.split_once('.') {
            Some((int, frac)) => {
                let frac = frac.trim_end_matches('0');
                if frac.is_empty() && extra_zeros == 0 { int.to_owned() } else { format!("{int}.{frac}") }
            }
            None if extra_zeros > 0 => format!("{canonical}."),
            None => canonical.clone(),
        };
        text.push_str(&"0".repeat(extra_zeros));
        if plus && minor >= 0 {
            text.insert(0, '+');
        }
        if minor.unsigned_abs() > MAX_MINOR.unsigned_abs() {
            prop_assert_eq!(Money::parse(&text, currency), Err(MoneyError::Overflow));
            return Ok(());
        }
        let money = Money::parse(&text, currency).expect("a shortened amount");
        prop_assert_eq!(money.minor(), minor);
        prop_assert_eq!(money.to_string(), canonical);
    }

    #[test]
    fn parse_refuses_a_nonzero_digit_beyond_the_currency(
        minor in any_minor(),
        currency in any_currency(),
        digit in 1_u8..=9,
    ) {
        let mut text = reference_format(minor, currency);
        if currency.exponent() == 0 {
            text.push('.');
        }
        text.push(char::from(b'0' + digit));
        prop_assert_eq!(
            Money::parse(&text, currency),
            Err(MoneyError::TooPrecise { currency, exponent: currency.exponent() })
        );
    }

    #[test]
    fn parse_accepts_only_decimal_text_and_never_panics(text in "[-+0-9. e]{0,24}", currency in any_currency()) {
        match Money::parse(&text, currency) {
            Ok(money) => {
                prop_assert!(is_decimal_text(&text), "{:?} was read as {}", text, money);
                prop_assert_eq!(Money::parse(&money.to_string(), currency), Ok(money));
            }
            Err(MoneyError::NotDecimal) => prop_assert!(!is_decimal_text(&text), "{:?}", text),
            Err(MoneyError::TooPrecise { .. } | MoneyError::Overflow) => {
                prop_assert!(is_decimal_text(&text), "{:?}", text);
            }
            Err(other) => prop_assert!(false, "{:?} gave {:?}", text, other),
        }
    }

    #[test]
    fn from_decimal_agrees_with_parse(minor in any_minor(), currency in any_currency()) {
        let value = Decimal::new(minor, u32::from(currency.exponent()));
        let expected = bounded(i128::from(minor)).map(|m| Money::new(m.minor(), currency));
        prop_assert_eq!(Money::from_decimal(value, currency), expected.clone());
        prop_assert_eq!(Money::parse(&value.to_string(), currency), expected);
    }

    #[test]
    fn checked_add_agrees_with_wide_integers_or_reports_overflow(a in any_minor(), b in any_minor()) {
        let result = Money::new(a, Currency::USD).checked_add(Money::new(b, Currency::USD));
        prop_assert_eq!(result, bounded(i128::from(a) + i128::from(b)));
    }

    #[test]
    fn checked_sub_agrees_with_wide_integers_or_reports_overflow(a in any_minor(), b in any_minor()) {
        let result = Money::new(a, Currency::USD).checked_sub(Money::new(b, Currency::USD));
        prop_assert_eq!(result, bounded(i128::from(a) - i128::from(b)));
    }

    #[test]
    fn checked_neg_agrees_with_wide_integers_or_reports_overflow(a in any_minor()) {
        let result = Money::new(a, Currency::USD).checked_neg();
        prop_assert_eq!(result, bounded(-i128::from(a)));
    }

    #[test]
    fn checked_arithmetic_refuses_other_currencies(
        a in any_minor(),
        b in any_minor(),
        (left, right) in two_currencies(),
    ) {
        let mismatch = Err(MoneyError::CurrencyMismatch { left, right });
        prop_assert_eq!(Money::new(a, left).checked_add(Money::new(b, right)), mismatch.clone());
        prop_assert_eq!(Money::new(a, left).checked_sub(Money::new(b, right)), mismatch);
    }

    #[test]
    fn rounding_a_scaled_integer_matches_an_integer_reference(
        num in prop_oneof![
            -(1_i128 << 96) + 1..(1_i128 << 96),
            -1_000_000_i128..1_000_000,
            (-20_i128..20).prop_map(|n| n * 5),
        ],
        scale in 0_u32..=28,
    ) {
        let value = Decimal::try_from_i128_with_scale(num, scale).expect("96 bits");
        let expected = reference_round(num, 10_i128.pow(scale)).ok_or(MoneyError::Overflow);
        prop_assert_eq!(round_half_away_from_zero(value), expected);
    }

    #[test]
    fn rounding_a_fraction_matches_an_integer_reference(
        num in -1_000_000_000_000_i64..=1_000_000_000_000,
        den in prop_oneof![1_i64..=10, 1_i64..=1_000_000],
    ) {
        let value = Decimal::from(num).checked_div(Decimal::from(den)).expect("a quotient");
        let expected = reference_round(i128::from(num), i128::from(den)).expect("fits");
        prop_assert_eq!(round_half_away_from_zero(value), Ok(expected));
    }

    #[test]
    fn rounding_is_symmetric_around_zero(num in -(1_i128 << 96) + 1..(1_i128 << 96), scale in 0_u32..=28) {
        let value = Decimal::try_from_i128_with_scale(num, scale).expect("96 bits");
        let up = round_half_away_from_zero(value);
        let down = round_half_away_from_zero(-value);
        match (up, down) {
            (Ok(up), Ok(down)) => prop_assert_eq!(i128::from(up), -i128::from(down)),
            (up, down) => prop_assert!(up.is_err() || down.is_err()),
        }
    }

    #[test]
    fn products_round_like_an_integer_reference(
        minor in -1_000_000_000_000_i64..=1_000_000_000_000,
        factor in -1_000_000_000_i64..=1_000_000_000,
        scale in 0_u32..=10,
    ) {
        let product = Money::new(minor, Currency::USD)
            .mul_decimal_round_half_away(Decimal::new(factor, scale))
            .map(Money::minor);
        let expected =
            reference_round(i128::from(minor) * i128::from(factor), 10_i128.pow(scale))
                .ok_or(MoneyError::Overflow)
                .and_then(|p| bounded(i128::from(p)).map(Money::minor));
        prop_assert_eq!(product, expected);
    }

    #[test]
    fn allocation_parts_sum_to_the_total(total in any_minor(), weights in any_weights()) {
        match allocate(total, &weights) {
            Ok(parts) => {
                prop_assert_eq!(parts.len(), weights.len());
                prop_assert_eq!(parts.iter().map(|p| i128::from(*p)).sum::<i128>(), i128::from(total));
            }
            Err(err) => {
                prop_assert_eq!(err, AllocateError::NoWeight);
                prop_assert!(total != 0 && weights.iter().all(|w| *w == 0));
            }
        }
    }

    #[test]
    fn allocation_parts_have_the_sign_of_the_total_or_are_zero(
        total in any_minor(),
        weights in any_weights(),
    ) {
        if let Ok(parts) = allocate(total, &weights) {
            for part in parts {
                prop_assert!(part == 0 || part.signum() == total.signum(), "{} of {}", part, total);
            }
        }
    }

    #[test]
    fn allocation_parts_are_within_one_unit_of_the_exact_share(
        total in any_minor(),
        weights in some_weights(),
    ) {
        let weight_sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        let parts = allocate(total, &weights).expect("weights to allocate over");
        let magnitude = i128::from(total).abs();
        for (part, weight) in parts.iter().zip(&weights) {
            let exact = magnitude * i128::from(*weight);
            let floor = exact / weight_sum;
            let got = i128::from(*part).abs();
            prop_assert!(got == floor || (got == floor + 1 && exact % weight_sum != 0),
                "{} for weight {} of {:?}, share {}/{}", part, weight, weights, exact, weight_sum);
        }
    }

    #[test]
    fn allocation_gives_leftover_units_by_largest_remainder_then_earliest_index(
        total in any_minor(),
        weights in some_weights(),
    ) {
        let weight_sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        let parts = allocate(total, &weights).expect("weights to allocate over");
        let magnitude = i128::from(total).abs();
        let shares: Vec<(bool, i128)> = parts
            .iter()
            .zip(&weights)
            .map(|(part, weight)| {
                let exact = magnitude * i128::from(*weight);
                (i128::from(*part).abs() > exact / weight_sum, exact % weight_sum)
            })
            .collect();
        for (i, (got_unit, remainder)) in shares.iter().enumerate() {
            for (j, (other_got_unit, other_remainder)) in shares.iter().enumerate() {
                if *got_unit && !other_got_unit {
                    prop_assert!(
                        remainder > other_remainder || (remainder == other_remainder && i < j),
                        "index {} got a unit before index {} in {:?}", i, j, weights
                    );
                }
            }
        }
    }

    #[test]
    fn allocation_of_a_negated_total_is_the_negated_allocation(
        total in any_minor().prop_map(|t| t.max(-i64::MAX)),
        weights in any_weights(),
    ) {
        let negated = allocate(-total, &weights).map(|parts| parts.into_iter().map(|p| -p).collect::<Vec<_>>());
        prop_assert_eq!(negated, allocate(total, &weights));
    }

    #[test]
    fn allocation_ignores_a_common_factor_of_the_weights(
        total in any_minor(),
        weights in prop::collection::vec(0_i64..=1000, 0..12),
        factor in 1_i64..=1_000_000,
    ) {
        let scaled: Vec<i64> = weights.iter().map(|w| w * factor).collect();
        prop_assert_eq!(allocate(total, &scaled), allocate(total, &weights));
    }

    #[test]
    fn allocation_over_equal_weights_puts_the_larger_parts_first(
        total in any_minor(),
        count in 1_usize..12,
        weight in 1_i64..=i64::MAX,
    ) {
        let parts = allocate(total, &vec![weight; count]).expect("weights to allocate over");
        let first = parts[0];
        for pair in parts.windows(2) {
            prop_assert!(pair[0].unsigned_abs() >= pair[1].unsigned_abs(), "{:?}", parts);
        }
        prop_assert!((i128::from(first) - i128::from(parts[count - 1])).abs() <= 1, "{:?}", parts);
    }

    #[test]
    fn allocation_refuses_any_negative_weight(
        total in any_minor(),
        mut weights in any_weights(),
        negative in i64::MIN..0,
        at in any::<prop::sample::Index>(),
    ) {
        let position = at.index(weights.len() + 1);
        weights.insert(position, negative);
        prop_assert_eq!(allocate(total, &weights), Err(AllocateError::NegativeWeight));
    }
}

#[test]
fn decimals_are_read_strictly_and_keep_their_scale() {
    for (text, shown) in
        [("180.00", "180.00"), ("3", "3"), ("0.335", "0.335"), ("-1.50", "-1.50"), ("+2", "2")]
    {
        assert_eq!(parse_decimal(text).map(|d| d.to_string()).as_deref(), Some(shown), "{text}");
    }
    for text in ["1_000", "1e3", "1 000", ".5", "1.", "", "-", "0x10", "1,5", "NaN", "١"] {
        assert_eq!(parse_decimal(text), None, "{text:?}");
    }
    assert_eq!(parse_decimal("1".repeat(40).as_str()), None);
}

#[test]
fn every_listed_currency_is_found_by_its_code() {
    // The lookup is a binary search: an entry out of order would not be found.
    assert!(crate::money::CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
    for &(code, exponent) in crate::money::CURRENCIES {
        assert_eq!(Currency::parse(code).map(Currency::exponent), Ok(exponent), "{code}");
    }
}
