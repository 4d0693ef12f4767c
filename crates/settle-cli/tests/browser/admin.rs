//! The admin pages as an admin uses them: change a setting, invite a user who then signs in
//! with the password shown once, and create an API key that works with the API until it is
//! revoked on the same page.

use crate::browser::Browser;
use crate::clerk::sign_in;
use crate::processes::{ADMIN_EMAIL, ADMIN_PASSWORD};

const INVITED: &str = "new.clerk@browser-tests.example";

#[test]
fn an_admin_changes_a_setting_invites_a_user_and_creates_and_revokes_an_api_key() {
    crate::run("admin_pages", |stage| async move {
        let mut admin = stage.browser().await;
        sign_in(&mut admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        change_time_zone(&mut admin).await;

        let password = invite(&mut admin).await;
        let mut newcomer = stage.browser().await;
        sign_in(&mut newcomer, INVITED, &password).await;
        assert!(newcomer.text().await.contains(INVITED), "the invited user's email is not shown");
        assert!(
            newcomer.find_all("a[href='/settings']").await.is_empty(),
            "a clerk sees the admin links"
        );
        newcomer.close().await;

        let (key_id, key) = create_key(&mut admin).await;
        let (status, answer) = stage.settle.get_with_key("/v1/settings", &key);
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(r#""time_zone":"Europe/Paris""#), "{answer}");
        assert!(answer.contains(r#""auto_apply_credit":true"#), "{answer}");

        let revoke = format!("tr[data-key-id='{key_id}'] form[data-action=revoke]");
        admin.submit(&revoke, "api-key-revoked").await;
        assert_eq!(admin.path().await, "/api-keys");
        assert!(admin.text().await.contains("Key revoked."));
        let status = admin.find(&format!("tr[data-key-id='{key_id}'] [data-field=status]")).await;
        assert_eq!(status.attr("data-value").await.expect("attr").as_deref(), Some("revoked"));
        let (status, answer) = stage.settle.get_with_key("/v1/settings", &key);
        assert_eq!(status, 401, "a revoked key still works: {answer}");
        admin.close().await;
    });
}

/// Settings from the sidebar: the time zone to Europe/Paris and auto-apply on, then Save.
async fn change_time_zone(admin: &mut Browser) {
    admin.click("nav.sidebar a[href='/settings']", "settings").await;
    admin.fill("time_zone", "Europe/Paris").await;
    admin.find("#auto_apply_credit").await.click().await.expect("tick auto-apply");
    admin.submit("[name=time_zone]", "settings-saved").await;
    assert_eq!(admin.path().await, "/settings");
    assert!(admin.text().await.contains("Settings saved."));
    let zone = admin.find("[name=time_zone]").await.prop("value").await.expect("value");
    assert_eq!(zone.as_deref(), Some("Europe/Paris"));
}

/// Users from the sidebar: invite a clerk; returns the password shown once.
async fn invite(admin: &mut Browser) -> String {
    admin.click("nav.sidebar a[href='/users']", "users").await;
    admin.fill("email", INVITED).await;
    admin.choose("role", "clerk").await;
    admin.submit("form[data-form=invite] [name=email]", "user-invited").await;
    let password = admin.find("#new-user-password").await.text().await.expect("password");
    assert!(password.trim().len() >= 20, "a short generated password: {password:?}");
    let row = admin.find("tr[data-user-id]:has([data-field=role])").await;
    assert!(row.text().await.expect("row").contains("admin@browser-tests.example"));
    password.trim().to_owned()
}

/// API keys from the sidebar: a viewer key named "Reports"; returns its id and text.
async fn create_key(admin: &mut Browser) -> (String, String) {
    admin.click("nav.sidebar a[href='/api-keys']", "api-keys").await;
    admin.fill("name", "Reports").await;
    admin.choose("role", "viewer").await;
    admin.submit("form[data-form=new-key] [name=name]", "api-key-created").await;
    let shown = admin.find("#api-key").await;
    let key = shown.text().await.expect("key").trim().to_owned();
    let id = shown.attr("data-key-id").await.expect("attr").expect("the key's id");
    assert!(key.starts_with("sk_settle_"), "{key}");
    admin.visit("/api-keys", "api-keys-listed").await;
    assert!(!admin.text().await.contains(&key), "the key's text is shown twice");
    (id, key)
}
