//! Unit tests of the pure parts: amount formatting, links, and the new-invoice form's field names.

use settle_core::money::{Currency, Money};

use crate::pages::invoices::form_field;
use crate::view::{Amount, object_href};

#[test]
fn amounts_keep_the_api_text_and_read_with_sign_symbol_and_separators() {
    let usd = Currency::parse("USD").expect("usd");
    let owed = Amount::balance(Money::new(-123_456_789, usd));
    assert_eq!(owed.value, "-1234567.89");
    assert_eq!(owed.text, "-$1,234,567.89");
    assert_eq!(owed.class, "owed");
    let jpy = Currency::parse("JPY").expect("jpy");
    assert_eq!(Amount::plain(Money::new(1000, jpy)).text, "¥1,000");
    let chf = Currency::parse("CHF").expect("chf");
    let credit = Amount::balance(Money::new(2550, chf));
    assert_eq!((credit.text.as_str(), credit.class), ("25.50 CHF", "credit"));
    assert_eq!(Amount::balance(Money::new(0, usd)).class, "");
}

#[test]
fn history_lines_link_to_the_page_of_their_object() {
    assert_eq!(object_href("inv_1").as_deref(), Some("/invoices/inv_1"));
    assert_eq!(object_href("pay_1").as_deref(), Some("/payments/pay_1"));
    assert_eq!(object_href("cm_1").as_deref(), Some("/credit-memos/cm_1"));
    assert_eq!(object_href("dm_1").as_deref(), Some("/debit-memos/dm_1"));
    assert_eq!(object_href("cus_1"), None);
}

#[test]
fn refusals_of_sent_lines_name_the_form_line_they_came_from() {
    assert_eq!(form_field("items[1].amount", &[0, 3]), "items[3].amount");
    assert_eq!(form_field("items[0].taxes[0].rate", &[2]), "items[2].tax_rate");
    assert_eq!(form_field("invoice_date", &[2]), "invoice_date");
    assert_eq!(form_field("items[9].amount", &[2]), "items[9].amount");
}
