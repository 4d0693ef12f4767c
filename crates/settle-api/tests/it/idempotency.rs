//! Idempotency keys with Stripe's semantics: the same key and body replay the saved response
//! and change nothing; another body is refused; concurrent twins make one effect; after the
//! retention (48 hours by default, by the engine's clock) a key is as if never used.

use std::sync::Arc;

use chrono::TimeDelta;
use serde_json::json;

use crate::harness::{TestApi, id};

#[tokio::test]
async fn the_same_key_and_body_replay_the_saved_response_and_change_nothing() {
    let api = TestApi::new();
    let customer = api.customer("Keyed").await;
    let body = json!({"customer_id": customer, "amount": "40.00", "method": "card"});
    let first = api.post_keyed("/v1/payments", "pay-once-1", body.clone()).await;
    assert_eq!(first.status.as_u16(), 201);
    assert!(!first.replayed);
    let again = api.post_keyed("/v1/payments", "pay-once-1", body.clone()).await;
    assert_eq!(again.status.as_u16(), 201);
    assert!(again.replayed, "a replay says so in Idempotent-Replayed");
    assert_eq!(again.body, first.body);
    assert_eq!(api.balances(&customer).await["balance"], "40.00");
    let payments = api.get(&format!("/v1/payments?customer_id={customer}")).await.expect(200);
    assert_eq!(payments["data"].as_array().expect("data").len(), 1);

    // Another body with the same key is refused and writes nothing.
    let before = api.snapshot().await;
    let other = json!({"customer_id": customer, "amount": "41.00", "method": "card"});
    api.post_keyed("/v1/payments", "pay-once-1", other)
        .await
        .expect_problem(422, "idempotency_key_reused");
    // The same body on another route is another request, too.
    api.post_keyed("/v1/customers", "pay-once-1", json!({"name": "Other"}))
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert_eq!(api.snapshot().await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn a_refused_request_saves_nothing_so_its_key_can_be_used_again() {
    let api = TestApi::new();
    let customer = api.customer("Retry").await;
    let invoice = api.invoice(&customer, json!([{"description": "Work", "amount": "10.00"}])).await;
    let payment = api.payment(&customer, "5.00").await;
    let too_much = json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "6.00"});
    api.post_keyed("/v1/applications", "apply-1", too_much)
        .await
        .expect_problem(422, "insufficient_unapplied");
    let right = json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "5.00"});
    let applied = api.post_keyed("/v1/applications", "apply-1", right.clone()).await;
    assert_eq!(applied.status.as_u16(), 201, "{}", applied.body);
    assert!(api.post_keyed("/v1/applications", "apply-1", right).await.replayed);
    api.post_keyed("/v1/customers", "", json!({"name": "x"}))
        .await
        .expect_problem(422, "validation_error");
    api.post_keyed("/v1/customers", &"k".repeat(256), json!({"name": "x"}))
        .await
        .expect_problem(422, "validation_error");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_thousand_keys_replayed_five_times_some_concurrently_make_a_thousand_effects() {
    let api = Arc::new(TestApi::new());
    let customer = api.customer("Many Keys").await;
    let body = |n: usize| json!({"kind": "charge", "amount": format!("{}.{:02}", 1 + n % 50, n % 100), "description": format!("charge {n}")});
    let path = format!("/v1/customers/{customer}/entries");
    let mut first_bodies = Vec::with_capacity(1000);
    for n in 0..1000 {
        // The first two sends of every tenth key race each other; the rest follow in turn.
        let key = format!("entry-{n}");
        let racing = if n % 10 == 0 { 2 } else { 1 };
        let mut tasks = Vec::new();
        for _ in 0..racing {
            let api = Arc::clone(&api);
            let (path, key, body) = (path.clone(), key.clone(), body(n));
            tasks.push(tokio::spawn(async move { api.post_keyed(&path, &key, body).await }));
        }
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("join"));
        }
        for _ in racing..5 {
            replies.push(api.post_keyed(&path, &key, body(n)).await);
        }
        assert!(
            replies.iter().all(|r| r.status.as_u16() == 201),
            "key {key}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(
            replies.iter().filter(|r| !r.replayed).count(),
            1,
            "key {key}: exactly one effect"
        );
        assert!(replies.iter().all(|r| r.body == replies[0].body), "key {key}: identical replays");
        first_bodies.push(replies[0].body.clone());
    }
    let mut reused = 0;
    for n in 0..200 {
        let other = json!({"kind": "charge", "amount": "999.99", "description": "another body"});
        api.post_keyed(&path, &format!("entry-{n}"), other)
            .await
            .expect_problem(422, "idempotency_key_reused");
        reused += 1;
    }
    assert_eq!(reused, 200);
    let history = api.get(&format!("/v1/customers/{customer}/history?limit=500")).await.expect(200);
    let mut lines = history["data"].as_array().expect("data").len();
    let mut cursor = history["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = api
            .get(&format!("/v1/customers/{customer}/history?limit=500&cursor={c}"))
            .await
            .expect(200);
        lines += page["data"].as_array().expect("data").len();
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(lines, 1000, "1,000 keys make 1,000 effects");
    let expected: i64 = (0..1000).map(|n| ((1 + n % 50) * 100 + n % 100) as i64).sum();
    let balance = api.balances(&customer).await["balance"].as_str().expect("balance").to_owned();
    assert_eq!(balance, format!("-{}.{:02}", expected / 100, expected % 100));
    assert_eq!(first_bodies.len(), 1000);
    api.assert_verified().await;
}

#[tokio::test]
async fn a_key_replays_inside_the_retention_and_is_a_new_request_after_it() {
    let api = TestApi::new();
    let customer = api.customer("Expiring").await;
    let body = json!({"customer_id": customer, "amount": "40.00", "method": "card"});
    let first = api.post_keyed("/v1/payments", "pay-expiring", body.clone()).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.body);

    // One second short of 48 hours the saved response still answers, byte for byte.
    api.advance_clock(TimeDelta::hours(48) - TimeDelta::seconds(1));
    let inside = api.post_keyed("/v1/payments", "pay-expiring", body.clone()).await;
    assert_eq!(inside.status.as_u16(), 201);
    assert!(inside.replayed);
    assert_eq!(inside.body, first.body);
    assert_eq!(api.balances(&customer).await["balance"], "40.00");

    // At 48 hours the key has expired: the same request is a new one, with a second effect.
    api.advance_clock(TimeDelta::seconds(1));
    let after = api.post_keyed("/v1/payments", "pay-expiring", body.clone()).await;
    assert_eq!(after.status.as_u16(), 201, "{}", after.body);
    assert!(!after.replayed);
    assert_ne!(after.body["id"], first.body["id"]);
    assert_eq!(api.balances(&customer).await["balance"], "80.00");
    // ... and its response is the one saved now.
    let again = api.post_keyed("/v1/payments", "pay-expiring", body).await;
    assert!(again.replayed);
    assert_eq!(again.body, after.body);

    // An expired key is free for another request, too.
    api.advance_clock(TimeDelta::hours(48));
    let other = json!({"customer_id": customer, "amount": "5.00", "method": "card"});
    let reused = api.post_keyed("/v1/payments", "pay-expiring", other).await;
    assert_eq!(reused.status.as_u16(), 201, "{}", reused.body);
    assert!(!reused.replayed);
    assert_eq!(api.balances(&customer).await["balance"], "85.00");
    let payments = api.get(&format!("/v1/payments?customer_id={customer}")).await.expect(200);
    assert_eq!(payments["data"].as_array().expect("data").len(), 3);
    api.assert_verified().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_twins_of_an_expired_key_make_one_new_effect() {
    let api = Arc::new(TestApi::new());
    let customer = api.customer("Expired Twins").await;
    let path = format!("/v1/customers/{customer}/entries");
    let body = |n: usize| json!({"kind": "charge", "amount": format!("{n}.00"), "description": format!("charge {n}")});
    for n in 1..=20 {
        let key = format!("twin-{n}");
        assert_eq!(api.post_keyed(&path, &key, body(n)).await.status.as_u16(), 201);
    }
    api.advance_clock(TimeDelta::hours(49));
    for n in 1..=20 {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (api, path, key) = (Arc::clone(&api), path.clone(), format!("twin-{n}"));
            let body = body(n);
            tasks.push(tokio::spawn(async move { api.post_keyed(&path, &key, body).await }));
        }
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("join"));
        }
        assert!(
            replies.iter().all(|r| r.status.as_u16() == 201),
            "key twin-{n}: {:?}",
            replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>()
        );
        assert_eq!(replies.iter().filter(|r| !r.replayed).count(), 1, "key twin-{n}: one effect");
        assert!(replies.iter().all(|r| r.body == replies[0].body), "key twin-{n}: one response");
    }
    // 1 + ... + 20 charged twice: once before expiry, once after.
    assert_eq!(api.balances(&customer).await["balance"], "-420.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn pruning_deletes_only_expired_keys_in_batches() {
    let api = TestApi::new();
    let customer_body = |n: usize| json!({"name": format!("Pruned {n}")});
    for n in 0..7 {
        let reply = api.post_keyed("/v1/customers", &format!("old-{n}"), customer_body(n)).await;
        assert_eq!(reply.status.as_u16(), 201);
    }
    api.advance_clock(TimeDelta::hours(25));
    let mut fresh = Vec::new();
    for n in 0..3 {
        let reply =
            api.post_keyed("/v1/customers", &format!("new-{n}"), customer_body(100 + n)).await;
        assert_eq!(reply.status.as_u16(), 201);
        fresh.push(reply.body);
    }
    // The old keys are now 49 hours old, the new ones 24.
    api.advance_clock(TimeDelta::hours(24));
    assert_eq!(api.prune_idempotency(3).await, 3);
    assert_eq!(api.prune_idempotency(3).await, 3);
    assert_eq!(api.prune_idempotency(3).await, 1);
    assert_eq!(api.prune_idempotency(3).await, 0);
    for (n, saved) in fresh.iter().enumerate() {
        let again =
            api.post_keyed("/v1/customers", &format!("new-{n}"), customer_body(100 + n)).await;
        assert!(again.replayed, "new-{n} is kept");
        assert_eq!(&again.body, saved);
    }
    let before = api.get("/v1/customers?limit=500").await.expect(200);
    assert_eq!(before["data"].as_array().expect("data").len(), 10);
    let renewed = api.post_keyed("/v1/customers", "old-0", customer_body(0)).await;
    assert_eq!(renewed.status.as_u16(), 201);
    assert!(!renewed.replayed, "old-0 was pruned");
    let after = api.get("/v1/customers?limit=500").await.expect(200);
    assert_eq!(after["data"].as_array().expect("data").len(), 11);
}
