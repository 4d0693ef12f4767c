//! Attention lists every situation of UI.md with its fixes, the sidebar counts them, and a fix
//! sent from its row is previewed and then commits.

use axum::http::StatusCode;
use settle_core::ids::CustomerId;
use settle_engine::{Amount, NewPayment};

use crate::harness::{Session, TestWeb, field_value};

/// Creates an invoice of lines with these amounts (posted unless `draft_dated`).
async fn invoice(
    web: &TestWeb,
    clerk: &Session,
    customer: &str,
    amounts: &[&str],
    draft_dated: Option<&str>,
) -> String {
    let post = if draft_dated.is_some() { "false" } else { "true" };
    let mut form: Vec<(String, String)> = vec![("post".into(), post.into())];
    if let Some(date) = draft_dated {
        form.push(("invoice_date".into(), date.into()));
    }
    for (idx, amount) in amounts.iter().enumerate() {
        form.push((format!("items[{idx}].description"), format!("Line {}", idx + 1)));
        form.push((format!("items[{idx}].amount"), (*amount).to_owned()));
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = web.post_as(clerk, &format!("/invoices/new?customer_id={customer}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location().expect("location").trim_start_matches("/invoices/").to_owned()
}

/// The row of `hook="id"` in `html`.
fn row<'a>(html: &'a str, hook: &str, id: &str) -> &'a str {
    let start = html.find(&format!(r#"{hook}="{id}""#)).unwrap_or_else(|| panic!("no row {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").expect("row end")]
}

/// The `action` and fields of the form in `row` whose button says `label`.
fn fix(row: &str, label: &str) -> (String, Vec<(String, String)>) {
    let end = row.find(&format!(">{label}</button>")).unwrap_or_else(|| panic!("no {label}"));
    let start = row[..end].rfind("<form").expect("form start");
    let form = &row[start..end];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
        Some(tag[at..at + tag[at..].find('"')?].to_owned())
    };
    let action = attr(form, "action").expect("action");
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|input| Some((attr(input, "name")?, attr(input, "value")?)))
        .filter(|(name, _)| name != "csrf")
        .collect();
    (action, fields)
}

async fn send(
    web: &TestWeb,
    clerk: &Session,
    action: &str,
    fields: &[(String, String)],
    confirm: bool,
) -> crate::harness::Page {
    let mut form: Vec<(&str, &str)> =
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if confirm {
        form.push(("confirm", "yes"));
    }
    web.post_as(clerk, action, &form).await
}

#[tokio::test]
async fn attention_lists_each_situation_with_its_fixes_and_the_fixes_work() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let negative = invoice(&web, &clerk, &ann, &["100.00", "-150.00"], None).await;
    let older = invoice(&web, &clerk, &ann, &["80.00"], None).await;
    let bob = web.new_customer(&clerk, "Bob Jones").await;
    let stuck = invoice(&web, &clerk, &bob, &["50.00", "-50.00"], None).await;
    let carl = web.new_customer(&clerk, "Carl Diaz").await;
    invoice(&web, &clerk, &carl, &["40.00"], None).await;
    web.engine
        .record_payment(
            &web.tenant_id,
            NewPayment {
                customer_id: CustomerId::parse(&carl).expect("id"),
                amount: Amount::parse("30.00").expect("amount"),
                method: settle_core::payment::PaymentMethod::Check,
                reference: None,
                effective_date: None,
                applications: Vec::new(),
                description: None,
            },
        )
        .expect("payment");
    let dan = web.new_customer(&clerk, "Dan Wu").await;
    let draft = invoice(&web, &clerk, &dan, &["20.00"], Some("2026-02-15")).await;
    invoice(&web, &clerk, &dan, &["25.00"], Some("2026-02-25")).await;

    let page = web.get_as(&clerk, "/attention").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"data-field="attention-count">4<"#), "{}", page.body);
    assert_eq!(page.body.matches("<tr data-document-id=").count(), 3);
    assert_eq!(page.body.matches("<tr data-customer-id=").count(), 1);

    let neg = row(&page.body, "data-document-id", &negative);
    assert!(neg.contains("Negative balance"));
    for label in [
        "Transfer to credit balance",
        "Transfer and apply to oldest open",
        "Charge adjustment to zero",
    ] {
        assert!(neg.contains(&format!(">{label}</button>")), "{label}");
    }
    assert!(row(&page.body, "data-document-id", &stuck).contains(r#"data-action="net-items""#));
    assert!(row(&page.body, "data-document-id", &draft).contains("14 days ago"));
    assert!(
        row(&page.body, "data-customer-id", &carl).contains(&format!("/customers/{carl}/collect"))
    );

    // Transfer and apply, from the row: the preview, then the commit.
    let (action, fields) = fix(neg, "Transfer and apply to oldest open");
    let preview = send(&web, &clerk, &action, &fields, false).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    // A preview page is a signed-in page too: the sidebar counts the same four situations.
    assert!(preview.body.contains(r#"data-field="attention-count">4<"#), "{}", preview.body);
    assert_eq!(
        field_value(&preview.body, &format!(r#"data-preview="{older}""#), "after"),
        Some("30.00")
    );
    assert_eq!(
        field_value(&preview.body, &format!(r#"data-preview="{negative}""#), "after"),
        Some("0.00")
    );
    let done = send(&web, &clerk, &action, &fields, true).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let inv = web.get_as(&clerk, &format!("/invoices/{older}")).await;
    assert_eq!(field_value(&inv.body, "", "balance"), Some("30.00"));
    let ann_page = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&ann_page.body, "", "balance"), Some("-30.00"));

    // Net items, from the row.
    let page = web.get_as(&clerk, "/attention").await;
    let (action, fields) = fix(row(&page.body, "data-document-id", &stuck), "Net items");
    let preview = send(&web, &clerk, &action, &fields, false).await;
    assert_eq!(preview.body.matches("<tr data-preview=\"item_").count(), 2, "{}", preview.body);
    let done = send(&web, &clerk, &action, &fields, true).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let page = web.get_as(&clerk, "/attention").await;
    assert!(page.body.contains(r#"data-field="attention-count">2<"#), "{}", page.body);
    assert!(!page.body.contains(&negative) && !page.body.contains(&stuck));
}

#[tokio::test]
async fn a_charge_adjustment_from_attention_brings_the_negative_invoice_to_zero() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let negative = invoice(&web, &clerk, &ann, &["100.00", "-150.00"], None).await;
    let page = web.get_as(&clerk, "/attention").await;
    let (action, fields) =
        fix(row(&page.body, "data-document-id", &negative), "Charge adjustment to zero");
    assert!(fields.contains(&("amount".to_owned(), "50.00".to_owned())), "{fields:?}");
    // A refused form, drawn again, still shows the count.
    let bad: Vec<(String, String)> = fields
        .iter()
        .map(|(n, v)| (n.clone(), if n == "amount" { "ten".to_owned() } else { v.clone() }))
        .collect();
    let refused = send(&web, &clerk, &action, &bad, false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"data-field="attention-count">1<"#), "{}", refused.body);
    let done = send(&web, &clerk, &action, &fields, true).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let inv = web.get_as(&clerk, &format!("/invoices/{negative}")).await;
    assert_eq!(field_value(&inv.body, "", "balance"), Some("0.00"));
    // At zero with items of 100.00 and -100.00, it is now a document whose items need netting.
    let page = web.get_as(&clerk, "/attention").await;
    let stuck = row(&page.body, "data-document-id", &negative);
    assert!(stuck.contains("Balance is zero but its items are not"), "{stuck}");
    let (action, fields) = fix(stuck, "Net items");
    let done = send(&web, &clerk, &action, &fields, true).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, "/attention").await;
    assert!(page.body.contains("Nothing needs attention."));
    assert!(!page.body.contains(r#"data-field="attention-count""#));
}
