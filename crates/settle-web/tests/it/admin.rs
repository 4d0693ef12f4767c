//! Admin pages (settings, users, API keys: admins only, others 403) and the reports' CSV
//! downloads, which hold exactly the rows the pages show.

use axum::http::StatusCode;
use settle_core::application::Rule;
use settle_core::money::Currency;
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use settle_engine::Role;

use crate::harness::{Page, Session, TestWeb};

/// An admin of the first tenant.
async fn admin(web: &TestWeb) -> Session {
    let tenant = web.tenant_id.clone();
    web.sign_in_to(&tenant, "boss@example.com", Role::Admin).await
}

fn settings(web: &TestWeb) -> Settings {
    web.engine.settings(&web.tenant_id).expect("settings")
}

/// The text of the element marked `data-error-for="FIELD"`.
fn error_for<'a>(html: &'a str, field: &str) -> Option<&'a str> {
    let marker = format!(r#"data-error-for="{field}">"#);
    let rest = &html[html.find(&marker)? + marker.len()..];
    Some(&rest[..rest.find('<')?])
}

/// The text of the element with `id="ID"`.
fn text_of<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let marker = format!(r#"id="{id}""#);
    let rest = &html[html.find(&marker)?..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(&rest[..rest.find('<')?])
}

/// Every `data-value` inside the first `<tr` that starts with `start`, up to its `</tr>`.
fn row_values(html: &str, start: &str) -> Vec<String> {
    let at = html.find(start).unwrap_or_else(|| panic!("no row {start}"));
    let row = &html[at..];
    let row = &row[..row.find("</tr>").expect("row end")];
    row.split("data-value=\"").skip(1).map(|v| v[..v.find('"').expect("end")].to_owned()).collect()
}

/// Every `data-value` of the `<tfoot>` of the section of `currency`.
fn total_values(html: &str, currency: &str) -> Vec<String> {
    let at = html.find(&format!(r#"data-currency="{currency}""#)).expect("section");
    let foot = &html[at..];
    row_values(&foot[foot.find("<tfoot>").expect("tfoot")..], "<tr>")
}

/// The CSV's records.
fn records(page: &Page) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(page.body.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

async fn entry(web: &TestWeb, clerk: &Session, customer: &str, form: &[(&str, &str)]) {
    let page = web.post_as(clerk, &format!("/customers/{customer}/entries/new"), form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

#[tokio::test]
async fn the_report_csvs_hold_exactly_the_rows_and_totals_the_pages_show_for_their_date() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann \"The\" Smith, Ltd").await;
    let page = web.post_as(&clerk, "/customers/new", &[("name", "Eve"), ("currency", "EUR")]).await;
    let eve = page.location().expect("eve").trim_start_matches("/customers/").split('?').next();
    let eve = eve.expect("id").to_owned();
    let charge = |amount, date| {
        [("kind", "charge"), ("amount", amount), ("description", "Work"), ("effective_date", date)]
    };
    entry(&web, &clerk, &ann, &charge("150.00", "2026-01-10")).await;
    entry(
        &web,
        &clerk,
        &ann,
        &[
            ("kind", "credit"),
            ("amount", "40.00"),
            ("description", "Discount"),
            ("effective_date", "2026-02-20"),
        ],
    )
    .await;
    entry(&web, &clerk, &eve, &charge("99.50", "2026-02-25")).await;

    let shown = web.get_as(&clerk, "/reports/aging?as_of=2026-03-01").await;
    assert!(shown.body.contains(r#"href="/reports/aging.csv?as_of=2026-03-01""#));
    let csv = web.get_as(&clerk, "/reports/aging.csv?as_of=2026-03-01").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some(r#"attachment; filename="aging-2026-03-01.csv""#)
    );
    assert!(csv.body.ends_with("\r\n"), "{:?}", csv.body);
    let rows = records(&csv);
    assert_eq!(
        rows[0].join(","),
        "as_of,currency,customer_id,customer,current,days_1_30,days_31_60,days_61_90,days_over_90,total,available_credit,net"
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
    // One section per currency, by code: EUR (Eve, total), then USD (Ann, total).
    assert_eq!(rows[1][..4], ["2026-03-01", "EUR", &eve, "Eve"]);
    assert_eq!(rows[2][..4], ["2026-03-01", "EUR", "", "Total"]);
    assert_eq!(rows[3][..4], ["2026-03-01", "USD", &ann, "Ann \"The\" Smith, Ltd"]);
    assert_eq!(rows[4][..4], ["2026-03-01", "USD", "", "Total"]);
    assert_eq!(
        rows[3][4..],
        ["0.00", "150.00", "0.00", "0.00", "0.00", "150.00", "40.00", "110.00"]
    );
    for (row, customer) in [(&rows[1], &eve), (&rows[3], &ann)] {
        let start = format!(r#"<tr data-customer-id="{customer}">"#);
        assert_eq!(row[4..], row_values(&shown.body, &start)[..], "{customer}");
    }
    assert_eq!(rows[2][4..], total_values(&shown.body, "EUR")[..]);
    assert_eq!(rows[4][4..], total_values(&shown.body, "USD")[..]);
    // An earlier date: the same date in the file, and what stood then.
    let january = records(&web.get_as(&clerk, "/reports/aging.csv?as_of=2026-01-31").await);
    let ann_then = january.iter().find(|r| r[2] == ann).expect("Ann's row");
    assert_eq!(ann_then[..4], ["2026-01-31", "USD", &ann, "Ann \"The\" Smith, Ltd"]);
    assert_eq!(ann_then[9..], ["150.00", "0.00", "150.00"]);
    assert!(!january.iter().any(|r| r[2] == eve), "Eve owed nothing yet: {january:?}");

    let trial = web.get_as(&clerk, "/reports/trial-balance").await;
    assert!(trial.body.contains(r#"href="/reports/trial-balance.csv?as_of=""#));
    let csv = web.get_as(&clerk, "/reports/trial-balance.csv?as_of=").await;
    assert_eq!(
        csv.header("content-disposition"),
        Some(r#"attachment; filename="trial-balance-2026-03-01.csv""#)
    );
    let rows = records(&csv);
    assert_eq!(rows[0], ["as_of", "currency", "account", "debit", "credit"]);
    let mut shown_rows = 0;
    for row in &rows[1..] {
        assert_eq!(row[0], "", "the whole journal has no as-of date");
        let values = if row[2] == "Total" {
            total_values(&trial.body, &row[1])
        } else {
            let at = trial.body.find(&format!(r#"data-currency="{}""#, row[1])).expect("section");
            shown_rows += 1;
            row_values(&trial.body[at..], &format!(r#"<tr data-account="{}">"#, row[2]))
        };
        assert_eq!(row[3..], values[..], "{row:?}");
    }
    assert_eq!(shown_rows, trial.body.matches("<tr data-account=").count());
    let usd = rows.iter().find(|r| r[1] == "USD" && r[2] == "receivable").expect("receivable");
    assert_eq!(usd[3..], ["150.00", "0.00"]);
    let total = rows.iter().find(|r| r[1] == "EUR" && r[2] == "Total").expect("EUR total");
    assert_eq!(total[3..], ["99.50", "99.50"]);
    let dated = web.get_as(&clerk, "/reports/trial-balance.csv?as_of=2026-01-31").await;
    assert_eq!(
        dated.header("content-disposition"),
        Some(r#"attachment; filename="trial-balance-2026-01-31.csv""#)
    );
    let dated = records(&dated);
    assert!(dated[1..].iter().all(|r| r[0] == "2026-01-31"), "{dated:?}");
    // Every currency of the tenant's customers has its section, EUR with nothing yet.
    assert_eq!(dated[1], ["2026-01-31", "EUR", "Total", "0.00", "0.00"]);
    assert!(!dated.iter().any(|r| r[2] == "credit_memos"), "{dated:?}");
}

#[tokio::test]
async fn settings_are_saved_by_admins_only_and_refused_fields_keep_everything_as_it_was() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    assert_eq!(web.get_as(&clerk, "/settings").await.status, StatusCode::FORBIDDEN);
    let good = [
        ("application_rule", "proration"),
        ("negative_invoice_policy", "transfer_and_apply"),
        ("auto_apply_credit", "true"),
        ("time_zone", "Europe/Paris"),
        ("default_currency", "eur"),
    ];
    let page = web.post_as(&clerk, "/settings", &good).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(settings(&web), Settings::default());

    let boss = admin(&web).await;
    let page = web.get_as(&boss, "/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"<option value="net_first" selected>"#), "{}", page.body);
    assert!(page.body.contains(r#"<option value="keep" selected>"#));
    assert!(page.body.contains(r#"name="time_zone" value="UTC""#));
    assert!(page.body.contains(r#"name="default_currency" value="USD""#));
    assert!(!page.body.contains("checked"), "auto-apply is off by default");
    assert!(page.body.contains(r#"<a href="/settings" aria-current="page">Settings</a>"#));
    for hint in [
        "application_rule",
        "negative_invoice_policy",
        "auto_apply_credit",
        "time_zone",
        "default_currency",
    ] {
        assert!(page.body.contains(&format!(r#"<p class="hint" id="{hint}-help">"#)), "{hint}");
    }

    let bad = [
        ("application_rule", "fastest"),
        ("negative_invoice_policy", "ignore"),
        ("auto_apply_credit", "maybe"),
        ("time_zone", "Mars/Olympus"),
        ("default_currency", "XYZ"),
    ];
    let page = web.post_as(&boss, "/settings", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_for(&page.body, "application_rule"),
        Some("proration, sequential or net_first")
    );
    assert_eq!(
        error_for(&page.body, "negative_invoice_policy"),
        Some("keep, transfer_to_credit or transfer_and_apply")
    );
    assert_eq!(error_for(&page.body, "auto_apply_credit"), Some("true or false"));
    assert_eq!(error_for(&page.body, "time_zone"), Some("an IANA time zone such as Europe/Paris"));
    assert_eq!(error_for(&page.body, "default_currency"), Some("unknown currency XYZ"));
    assert!(
        page.body.contains(r#"name="time_zone" value="Mars/Olympus""#),
        "the form keeps what was sent"
    );
    // One bad field and four good ones: nothing is written.
    let mut one_bad = good;
    one_bad[3] = ("time_zone", "Nowhere");
    let page = web.post_as(&boss, "/settings", &one_bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_for(&page.body, "default_currency"), None);
    assert_eq!(settings(&web), Settings::default());
    let forged = web.post("/settings", Some(&boss.token), &good).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(settings(&web), Settings::default());

    let page = web.post_as(&boss, "/settings", &good).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/settings?done=saved"));
    let saved = settings(&web);
    assert_eq!(saved.application_rule, Rule::Proration);
    assert_eq!(saved.negative_invoice_policy, NegativeInvoicePolicy::TransferAndApply);
    assert!(saved.auto_apply_credit);
    assert_eq!(saved.time_zone, "Europe/Paris");
    assert_eq!(saved.default_currency, Currency::parse("EUR").expect("eur"));
    let page = web.get_as(&boss, "/settings?done=saved").await;
    assert!(page.body.contains("Settings saved."));
    assert!(page.body.contains(r#"value="true" checked"#));
    // The unchecked box turns auto-apply off again.
    let off: Vec<_> =
        good.iter().copied().filter(|(name, _)| *name != "auto_apply_credit").collect();
    assert_eq!(web.post_as(&boss, "/settings", &off).await.status, StatusCode::SEE_OTHER);
    assert!(!settings(&web).auto_apply_credit);
}

#[tokio::test]
async fn an_invited_user_signs_in_with_the_password_shown_once_and_roles_and_removal_apply() {
    let web = TestWeb::new();
    let boss = admin(&web).await;
    let page =
        web.post_as(&boss, "/users", &[("email", " New@Example.com "), ("role", "clerk")]).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let password = text_of(&page.body, "new-user-password").expect("the password").to_owned();
    assert!(password.len() >= 20, "{password}");
    let users = web.engine.users(&web.tenant_id).expect("users");
    let new = users.iter().find(|u| u.email == "new@example.com").expect("the new user");
    assert_eq!(new.role, Role::Clerk);
    let row = format!(r#"<tr data-user-id="{}">"#, new.id);
    assert!(page.body.contains(&row));
    let listed = web.get_as(&boss, "/users").await;
    assert!(!listed.body.contains(&password), "the password is shown again");
    let signed_in =
        web.post("/login", None, &[("email", "new@example.com"), ("password", &password)]).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let cookie = signed_in.header("set-cookie").expect("cookie");
    let token = cookie.trim_start_matches("settle_session=").split(';').next().expect("token");
    let newcomer = Session { token: token.to_owned(), csrf: settle_engine::csrf_token(token) };
    assert_eq!(web.get_as(&newcomer, "/customers").await.status, StatusCode::OK);
    assert_eq!(web.get_as(&newcomer, "/users").await.status, StatusCode::FORBIDDEN);
    let page =
        web.post_as(&newcomer, "/users", &[("email", "x@example.com"), ("role", "admin")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(web.engine.users(&web.tenant_id).expect("users").len(), 2);

    for (form, field, message) in [
        ([("email", "new@example.com"), ("role", "viewer")], "email", "email already in use"),
        ([("email", "not-an-email"), ("role", "viewer")], "email", "must be an email address"),
        ([("email", "ok@example.com"), ("role", "owner")], "role", "admin, clerk or viewer"),
    ] {
        let page = web.post_as(&boss, "/users", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert_eq!(error_for(&page.body, field), Some(message), "{form:?}");
    }
    assert_eq!(web.engine.users(&web.tenant_id).expect("users").len(), 2);

    let id = new.id.to_string();
    let page = web.post_as(&boss, &format!("/users/{id}/role"), &[("role", "viewer")]).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/users?done=role")));
    let moved = web.post_as(&newcomer, "/customers/new", &[("name", "Late")]).await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN, "a viewer now");
    let page = web.get_as(&boss, "/users?done=role").await;
    assert!(page.body.contains("Role changed."));
    let me = web.engine.users(&web.tenant_id).expect("users");
    let me = me.iter().find(|u| u.email == "boss@example.com").expect("boss").id.to_string();
    let page = web.post_as(&boss, &format!("/users/{me}/role"), &[("role", "clerk")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_for(&page.body, "role"), Some(settle_engine::LAST_ADMIN));
    let page = web.post_as(&boss, &format!("/users/{me}/remove"), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_for(&page.body, "role"), Some(settle_engine::LAST_ADMIN));
    let page = web.post_as(&boss, "/users/usr_99999999/role", &[("role", "clerk")]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let page = web.post_as(&boss, &format!("/users/{id}/remove"), &[]).await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, Some("/users?done=removed"))
    );
    let gone = web.get_as(&newcomer, "/customers").await;
    assert_eq!((gone.status, gone.location()), (StatusCode::SEE_OTHER, Some("/login")));
    let page = web.get_as(&boss, "/users").await;
    assert!(page.body.contains(&format!(r#"<tr data-user-id="{id}" class="removed">"#)));
    let again = web.post_as(&boss, &format!("/users/{id}/remove"), &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_api_key_is_shown_once_listed_without_its_text_and_revoked() {
    let web = TestWeb::new();
    let boss = admin(&web).await;
    let clerk = web.clerk().await;
    assert_eq!(web.get_as(&clerk, "/api-keys").await.status, StatusCode::FORBIDDEN);
    let page = web.post_as(&clerk, "/api-keys", &[("role", "admin")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(web.engine.api_keys(&web.tenant_id).expect("keys").len(), 1, "only bootstrap's");

    let page =
        web.post_as(&boss, "/api-keys", &[("role", "viewer"), ("name", "Reports sync")]).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let key = text_of(&page.body, "api-key").expect("the key").to_owned();
    assert!(key.starts_with("sk_settle_"), "{key}");
    let principal = web.engine.authenticate(&key).expect("auth").expect("a live key");
    assert_eq!((principal.tenant_id, principal.role), (web.tenant_id.clone(), Role::Viewer));
    let keys = web.engine.api_keys(&web.tenant_id).expect("keys");
    let made = keys.iter().find(|k| k.name.as_deref() == Some("Reports sync")).expect("listed");
    let listed = web.get_as(&boss, "/api-keys").await;
    assert!(!listed.body.contains(&key), "the key text is shown again");
    let row = format!(r#"<tr data-key-id="{}">"#, made.id);
    let at = listed.body.find(&row).expect("the key's row");
    assert!(listed.body[at..].contains(r#"data-value="live""#));

    for (form, field, message) in [
        (vec![("role", "owner")], "role", "admin, clerk or viewer"),
        (vec![("role", "clerk"), ("name", &"n".repeat(1025))], "name", "at most 1024 characters"),
    ] {
        let page = web.post_as(&boss, "/api-keys", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_for(&page.body, field), Some(message));
    }
    assert_eq!(web.engine.api_keys(&web.tenant_id).expect("keys").len(), 2);

    let revoke = format!("/api-keys/{}/revoke", made.id);
    assert_eq!(web.post_as(&clerk, &revoke, &[]).await.status, StatusCode::FORBIDDEN);
    assert!(web.engine.authenticate(&key).expect("auth").is_some());
    let page = web.post_as(&boss, &revoke, &[]).await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, Some("/api-keys?done=revoked"))
    );
    assert_eq!(web.engine.authenticate(&key).expect("auth"), None);
    let listed = web.get_as(&boss, "/api-keys?done=revoked").await;
    assert!(listed.body.contains("Key revoked."));
    let at = listed.body.find(&row).expect("the key's row");
    assert!(listed.body[at..].contains(r#"data-value="revoked""#));
    assert_eq!(web.post_as(&boss, &revoke, &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        web.post_as(&boss, "/api-keys/nonsense/revoke", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_admins_see_the_admin_links() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let boss = admin(&web).await;
    let links = [r#"href="/settings""#, r#"href="/users""#, r#"href="/api-keys""#];
    let page = web.get_as(&clerk, "/customers").await;
    assert!(links.iter().all(|link| !page.body.contains(link)), "{}", page.body);
    let page = web.get_as(&boss, "/customers").await;
    assert!(links.iter().all(|link| page.body.contains(link)), "{}", page.body);
}
