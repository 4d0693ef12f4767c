//! Money as integer minor units of an ISO 4217 currency, and the named ways to split and round it.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// An ISO 4217 currency: its code and the number of digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// ISO 4217 codes with their minor-unit exponents, in code order (looked up by binary search:
/// every stored row's currency is read through it). Codes not listed are refused.
pub(crate) static CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// US dollars, the default currency of a new tenant.
    pub const USD: Currency = Currency { code: "USD", exponent: 2 };

    /// Looks an ISO 4217 code up (upper case, three letters).
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .and_then(|at| CURRENCIES.get(at))
            .map(|&(code, exponent)| Currency { code, exponent })
            .ok_or_else(|| MoneyError::UnknownCurrency { code: code.chars().take(16).collect() })
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// How many decimal digits the minor unit has (USD 2, JPY 0, BHD 3).
    pub fn exponent(self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// The text is not a decimal amount: the one way [`DecimalAmount::parse`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a decimal amount")]
pub struct NotDecimal;

impl From<NotDecimal> for MoneyError {
    fn from(NotDecimal: NotDecimal) -> MoneyError {
        MoneyError::NotDecimal
    }
}

/// An exact decimal amount read from text before its currency is known: an optional sign,
/// digits, and an optional `.` with digits (no exponent, no `_`, no blanks inside; blanks around
/// are ignored). It keeps every digit that matters, so [`DecimalAmount::in_currency`] refuses
/// what does not fit the currency instead of rounding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalAmount {
    /// Below zero (never set for zero).
    negative: bool,
    /// The integer digits without leading zeros (empty for zero).
    int: String,
    /// The fraction digits without trailing zeros.
    frac: String,
}

impl DecimalAmount {
    /// Reads `text` by the strict rule of amounts.
    pub fn parse(text: &str) -> Result<DecimalAmount, NotDecimal> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part)
            || !all_digits(frac_part)
            || (digits.contains('.') && frac_part.is_empty())
            || int_part.is_empty()
        {
            return Err(NotDecimal);
        }
        let int = int_part.trim_start_matches('0').to_owned();
        let frac = frac_part.trim_end_matches('0').to_owned();
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Ok(DecimalAmount { negative, int, frac })
    }

    /// The amount in `currency`: more fraction digits than the currency has are
    /// [`MoneyError::TooPrecise`] (checked first), past [`MAX_MINOR`] minor units
    /// [`MoneyError::Overflow`].
    pub fn in_currency(&self, currency: Currency) -> Result<Money, MoneyError> {
        let exponent = usize::from(currency.exponent);
        if self.frac.len() > exponent {
            return Err(MoneyError::TooPrecise { currency, exponent: currency.exponent });
        }
        if self.int.len() > 19 {
            return Err(MoneyError::Overflow);
        }
        let mut minor: i128 = if self.int.is_empty() {
            0
        } else {
            self.int.parse().map_err(|_| MoneyError::Overflow)?
        };
        for i in 0..exponent {
            let digit = self.frac.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
            minor = minor * 10 + digit;
        }
        if self.negative {
            minor = -minor;
        }
        let minor = i64::try_from(minor).map_err(|_| MoneyError::Overflow)?;
        Money::try_new(minor, currency)
    }
}

impl From<Money> for DecimalAmount {
    /// The exact amount of `money`, which reads back as the same `Money` in its currency.
    fn from(money: Money) -> DecimalAmount {
        let exponent = usize::from(money.currency.exponent);
        let digits = format!("{:0>width$}", money.minor.unsigned_abs(), width = exponent + 1);
        let (int, frac) = digits.split_at(digits.len() - exponent);
        DecimalAmount {
            negative: money.minor < 0,
            int: int.trim_start_matches('0').to_owned(),
            frac: frac.trim_end_matches('0').to_owned(),
        }
    }
}

impl fmt::Display for DecimalAmount {
    /// The canonical text: no leading or trailing zeros beyond one integer digit (`"-3.1"`, `"0"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        let int = if self.int.is_empty() { "0" } else { &self.int };
        if self.frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{}", self.frac)
        }
    }
}

/// Why an amount could not be read or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The currency code is not an ISO 4217 code Settle knows.
    #[error("unknown currency {code}")]
    UnknownCurrency {
        /// The code as given (cut to 16 characters).
        code: String,
    },
    /// The text is not a decimal number.
    #[error("not a decimal amount")]
    NotDecimal,
    /// The amount has more fraction digits than the currency's minor unit.
    #[error("{currency} amounts have at most {exponent} decimal places")]
    TooPrecise {
        /// The currency of the amount.
        currency: Currency,
        /// Its minor-unit exponent.
        exponent: u8,
    },
    /// The amount or a result is larger in size than [`MAX_MINOR`] minor units.
    #[error("out of range: at most 99999999999999 minor units in size")]
    Overflow,
    /// Two amounts of different currencies met.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The first currency.
        left: Currency,
        /// The second currency.
        right: Currency,
    },
}

/// The largest size, in minor units, of any amount a client sends and of any balance or total
/// Settle stores: 10^14 − 1 (999,999,999,999.99 in a 2-digit currency), so nothing exceeds
/// 10^14. Every checked operation refuses a result past it, so a stored running total can
/// never wrap, and sums of many of them fit in `i128` with room to spare.
pub const MAX_MINOR: i64 = 99_999_999_999_999;

/// `minor` when it is within [`MAX_MINOR`] in size.
fn bounded(minor: i64) -> Result<i64, MoneyError> {
    if minor.unsigned_abs() <= MAX_MINOR.unsigned_abs() {
        Ok(minor)
    } else {
        Err(MoneyError::Overflow)
    }
}

/// An exact amount: integer minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor` minor units (cents for USD).
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// An amount of `minor` minor units, refused past [`MAX_MINOR`] in size.
    pub fn try_new(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        Ok(Money { minor: bounded(minor)?, currency })
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// The integer number of minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// Reads a decimal string such as `"150.00"`, `"-3.13"` or `"150"`. More fraction digits than
    /// the currency has are refused, never rounded (`"1.005"` USD is an error; `"1.50"` and
    /// `"1.5"` are both 150 cents).
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        DecimalAmount::parse(text)?.in_currency(currency)
    }

    /// Reads an exact decimal (for JSON numbers); refuses what the currency cannot hold exactly.
    pub fn from_decimal(value: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let scaled = value
            .checked_mul(Decimal::from(10_i64.pow(u32::from(currency.exponent))))
            .ok_or(MoneyError::Overflow)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise { currency, exponent: currency.exponent });
        }
        let minor = scaled.to_i64().ok_or(MoneyError::Overflow)?;
        Money::try_new(minor, currency)
    }

    /// `self + other`, refusing other currencies and results past [`MAX_MINOR`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.checked_add_minor(other.minor)
    }

    /// `self - other`, refusing other currencies and results past [`MAX_MINOR`].
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Money::try_new(minor, self.currency)
    }

    /// `self + delta` minor units (a journal effect), refusing results past [`MAX_MINOR`].
    pub fn checked_add_minor(self, delta: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_add(delta).ok_or(MoneyError::Overflow)?;
        Money::try_new(minor, self.currency)
    }

    /// `-self`, refusing results past [`MAX_MINOR`].
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Money::try_new(minor, self.currency)
    }

    /// Adds many amounts of `currency`.
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    /// True when the amount is zero.
    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// True when the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// True when the amount is above zero.
    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    /// `self × factor`, rounded half away from zero to the minor unit (the rule for tax items,
    /// quantity × unit price and proration).
    pub fn mul_decimal_round_half_away(self, factor: Decimal) -> Result<Money, MoneyError> {
        let minor = round_half_away_from_zero(
            Decimal::from(self.minor).checked_mul(factor).ok_or(MoneyError::Overflow)?,
        )?;
        Money::try_new(minor, self.currency)
    }
}

/// Reads an exact decimal such as a quantity, unit price or rate: an optional sign, digits, and
/// optionally a point followed by digits — the same text [`Money::parse`] reads, and nothing
/// else (no `1_000`, `1e3`, inner spaces or `.5`). The scale is kept, so `"180.00"` prints back as
/// `"180.00"`. `None` when the text is not such a decimal or does not fit 28 digits.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    text.parse::<Decimal>().ok()
}

/// Rounds a decimal amount of minor units to an integer, halves away from zero
/// (`2.5 → 3`, `-2.5 → -3`).
pub fn round_half_away_from_zero(value: Decimal) -> Result<i64, MoneyError> {
    value
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .ok_or(MoneyError::Overflow)
}

impl fmt::Display for Money {
    /// The decimal string of the API: exactly the currency's minor digits (`"150.00"`, `"-3.13"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_minor(f, i128::from(self.minor), self.currency)
    }
}

/// A sum of many amounts (a report total across customers, which may not fit an `i64`) as
/// decimal text, written exactly as [`Money`]'s `Display` writes an amount: `"150.00"`, `"-3.13"`.
pub fn format_minor(minor: i128, currency: Currency) -> String {
    struct Minor(i128, Currency);
    impl fmt::Display for Minor {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_minor(f, self.0, self.1)
        }
    }
    Minor(minor, currency).to_string()
}

fn write_minor(f: &mut fmt::Formatter<'_>, minor: i128, currency: Currency) -> fmt::Result {
    let exponent = u32::from(currency.exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return write!(f, "{sign}{abs}");
    }
    let scale = 10_u128.pow(exponent);
    write!(
        f,
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::try_from(exponent).unwrap_or(0)
    )
}

/// Splits `total` into parts proportional to `weights` by the largest-remainder method: each part
/// gets the floor of its exact share, and the minor units left over go one each to the parts
/// with the largest remainders (ties to the earliest index). The parts always sum to `total`,
/// and each part has the sign of `total` (or is zero). Weights must be non-negative; when they
/// sum to zero every part is zero unless `total` is too, which is an error.
pub fn allocate(total: i64, weights: &[i64]) -> Result<Vec<i64>, AllocateError> {
    if weights.iter().any(|w| *w < 0) {
        return Err(AllocateError::NegativeWeight);
    }
    let weight_sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if weight_sum == 0 {
        return if total == 0 { Ok(vec![0; weights.len()]) } else { Err(AllocateError::NoWeight) };
    }
    let magnitude = i128::from(total).abs();
    let sign: i128 = if total < 0 { -1 } else { 1 };
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (idx, w) in weights.iter().enumerate() {
        let exact = magnitude * i128::from(*w);
        parts.push(exact / weight_sum);
        remainders.push((exact % weight_sum, idx));
    }
    let mut left = magnitude - parts.iter().sum::<i128>();
    remainders.sort_by(|a, b| match b.0.cmp(&a.0) {
        Ordering::Equal => a.1.cmp(&b.1),
        other => other,
    });
    for (_, idx) in remainders {
        if left == 0 {
            break;
        }
        parts[idx] += 1;
        left -= 1;
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p * sign).map_err(|_| AllocateError::NoWeight))
        .collect()
}

/// Why an allocation could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AllocateError {
    /// A weight was below zero.
    #[error("allocation weights must not be negative")]
    NegativeWeight,
    /// A non-zero total was to be split over weights that sum to zero.
    #[error("nothing to allocate over")]
    NoWeight,
}
