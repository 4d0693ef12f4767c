//! Values as the pages show them, formatted once here: amounts with their exact API text for
//! `data-value` and a readable text (sign, symbol, thousands separators), and links to the page
//! of whatever a history line or an application names.

use settle_core::error::Rejection;
use settle_core::money::{Currency, Money, format_minor};

/// Whether an amount's sign carries meaning on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Seed 002's sign: negative means the customer owes, shown as owed.
    Balance,
    /// No colour by sign (a document's own amounts, report figures).
    Plain,
}

/// An amount ready for a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Amount {
    /// The API's exact decimal string (`"-150.00"`), for `data-value`.
    pub(crate) value: String,
    /// What a person reads (`-$150.00`, `1,234.50 EUR`).
    pub(crate) text: String,
    /// The CSS class: `owed`, `credit` or empty.
    pub(crate) class: &'static str,
}

impl Amount {
    /// An amount whose sign is seed 002's: negative is owed.
    pub(crate) fn balance(money: Money) -> Amount {
        Amount::of_minor(i128::from(money.minor()), money.currency(), Tone::Balance)
    }

    /// An amount shown without colour.
    pub(crate) fn plain(money: Money) -> Amount {
        Amount::of_minor(i128::from(money.minor()), money.currency(), Tone::Plain)
    }

    /// A sum of many amounts.
    pub(crate) fn of_minor(minor: i128, currency: Currency, tone: Tone) -> Amount {
        let value = format_minor(minor, currency);
        let class = match tone {
            Tone::Balance if minor < 0 => "owed",
            Tone::Balance if minor > 0 => "credit",
            _ => "",
        };
        Amount { text: readable(&value, currency), value, class }
    }
}

/// `-1234.50` in USD as `-$1,234.50`; currencies without a symbol here end with their code.
fn readable(value: &str, currency: Currency) -> String {
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", value),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    match symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{grouped}"),
        None => format!("{sign}{grouped} {}", currency.code()),
    }
}

fn symbol(currency: Currency) -> Option<&'static str> {
    match currency.code() {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    }
}

/// The back-office page of an id a history line or an application names.
pub(crate) fn object_href(id: &str) -> Option<String> {
    let base = match id.split_once('_').map(|(prefix, _)| prefix) {
        Some("inv") => "/invoices",
        Some("dm") => "/debit-memos",
        Some("cm") => "/credit-memos",
        Some("pay") => "/payments",
        _ => return None,
    };
    Some(format!("{base}/{id}"))
}

/// A rejection as one sentence for people: the message beside its field when it names one,
/// else the engine's own words.
pub(crate) fn rejection_text(rejection: &Rejection) -> String {
    match rejection.field_error() {
        Some(e) => format!("{}: {}", e.field.replace('_', " "), e.message),
        None => rejection.to_string(),
    }
}

/// A kind of document or history line as a label (`credit_memo` → `Credit memo`).
pub(crate) fn label(name: &str) -> String {
    let text = name.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}
