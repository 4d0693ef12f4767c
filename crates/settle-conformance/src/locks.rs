//! Customer locks: a second writer on the same customer waits until the first commits, then
//! reads what it committed.

use std::sync::{Mutex, mpsc};

use settle_store::Store;

use crate::fixture::{customer, seed, t0};

/// While one transaction holds a customer's lock, a second writer locking that customer does
/// not get it: it waits until the first commits and then reads the committed row. `waiting`
/// returns once the second writer is blocked (an adapter that can see waiting sessions looks;
/// one whose writers queue on a single lock may just let a moment pass) and says whether it saw
/// it wait.
pub fn a_second_writer_on_a_customer_waits_until_the_first_commits(
    store: &dyn Store,
    waiting: &(dyn Fn() -> bool + Sync),
) {
    let held = customer("cus_held", "Held", 0);
    let tenant = seed(store, "ten_locks", std::slice::from_ref(&held));
    let events = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        let (events, tenant, held) = (&events, &tenant, &held);
        let (first_locked, wait_first) = mpsc::channel();
        let first = s.spawn(move || {
            let mut tx = store.begin_write().expect("begin");
            let (lock, mut row) =
                tx.lock_customer(tenant, &held.id, t0()).expect("lock").expect("held");
            events.lock().expect("events").push("first locked");
            first_locked.send(()).expect("signal");
            let waited = waiting();
            row.name = "Held, renamed".to_owned();
            tx.update_customer(&lock, &row).expect("update");
            events.lock().expect("events").push("first commits");
            tx.commit().expect("commit");
            waited
        });
        s.spawn(move || {
            wait_first.recv().expect("first locked");
            let mut tx = store.begin_write().expect("begin");
            let (_, seen) = tx.lock_customer(tenant, &held.id, t0()).expect("lock").expect("held");
            events.lock().expect("events").push("second locked");
            // The lock is taken only after the first commit, so it reads the committed row.
            assert_eq!(seen.name, "Held, renamed");
            tx.commit().expect("commit");
        });
        assert!(first.join().expect("first writer"), "the second writer did not wait");
    });
    assert_eq!(
        events.into_inner().expect("events"),
        ["first locked", "first commits", "second locked"]
    );
}
