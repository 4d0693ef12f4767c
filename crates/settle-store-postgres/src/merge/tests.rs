//! How held writes are planned: which inserts merge, where groups close, and chunk sizes.

use super::*;

const ITEM: &str = "insert into item (item_id, doc_id, amount) values ($1, $2, $3::text::numeric)";
const DOC: &str = "insert into doc (doc_id, customer_id, total) values ($1, $2, $3)";
const TXN: &str = "insert into txn (txn_id, customer_id) values ($1, $2)";
const POSTING: &str = "insert into posting (txn_id, idx, customer_id) values ($1, $2, $3)";
const UPSERT: &str = "insert into total (customer_id, amount) values ($1, $2) \
                      on conflict (customer_id) do update set amount = total.amount + excluded.amount";
const BALANCE: &str = "update customer set balance = $2 where customer_id = $1";
const RENAME: &str = "update customer set customer_id = $2 where customer_id = $1";

/// Foreign keys: item -> doc, posting -> txn, and everything -> customer.
fn links() -> Links {
    let key = |child: &str, columns: &[&str], parent: &str, parent_columns: &[&str]| {
        let owned = |c: &[&str]| c.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        (child.to_owned(), owned(columns), parent.to_owned(), owned(parent_columns))
    };
    let mut keys = vec![key("item", &["doc_id"], "doc", &["doc_id"])];
    keys.push(key("posting", &["txn_id"], "txn", &["txn_id"]));
    for table in ["doc", "txn", "posting", "item", "total"] {
        keys.push(key(table, &["customer_id"], "customer", &["customer_id"]));
    }
    let unique = [("customer", "customer_id"), ("total", "customer_id"), ("item", "item_id")];
    let unique =
        unique.iter().map(|(table, key)| ((*table).to_owned(), vec![vec![(*key).to_owned()]]));
    Links { keys, triggers: HashMap::new(), unique: unique.collect() }
}

/// The plan of `held` (each a write, merged when it may be, each naming a key of its own)
/// written as `1` for a statement sent as held and `[1 2]` for rows merged into one.
fn check(held: &[Option<&str>], links: &Links) -> String {
    let keyed: Vec<(Option<&str>, String)> =
        held.iter().enumerate().map(|(at, sql)| (*sql, at.to_string())).collect();
    let keyed: Vec<(Option<&str>, &str)> =
        keyed.iter().map(|(sql, key)| (*sql, key.as_str())).collect();
    check_keyed(&keyed, links)
}

/// [`check`] with the key each write names.
fn check_keyed(held: &[(Option<&str>, &str)], links: &Links) -> String {
    let texts: Vec<(Option<&str>, bool)> = held.iter().map(|(sql, _)| (*sql, false)).collect();
    let key = |at: usize, _: &[usize]| held[at].1.to_owned();
    let steps = plan(&texts, links, key).into_iter().map(|step| match step {
        Planned::One(at) => at.to_string(),
        Planned::Rows(rows) => {
            let rows: Vec<String> = rows.iter().map(ToString::to_string).collect();
            format!("[{}]", rows.join(" "))
        }
    });
    steps.collect::<Vec<_>>().join(" ")
}

/// The shape of `sql` given [`links`].
fn shape(sql: &str) -> Option<Shape<'_>> {
    Shape::parse(sql, &links())
}

#[test]
fn a_plain_insert_an_upsert_and_an_update_by_a_unique_key_have_shapes_and_others_none() {
    let item = shape(ITEM).expect("a plain insert");
    assert_eq!((item.table, item.params, item.key.as_slice()), ("item", 3, &[][..]));
    assert_eq!(
        item.rows_sql(2, &[]).as_deref(),
        Some(
            "insert into item (item_id, doc_id, amount) values ($1, $2, $3::text::numeric), \
             ($4, $5, $6::text::numeric)"
        )
    );
    // A placeholder used twice stays one parameter per row.
    let twice = shape("insert into doc (a, b, c) values ($1, $2, $1)").expect("plain");
    assert_eq!(
        twice.rows_sql(2, &[]).as_deref(),
        Some("insert into doc (a, b, c) values ($1, $2, $1), ($3, $4, $3)")
    );
    // An upsert's rows must differ in its conflict target.
    let upsert = shape(UPSERT).expect("an upsert");
    assert_eq!(upsert.key, [1]);
    assert_eq!(
        upsert.rows_sql(2, &[]).as_deref(),
        Some(
            "insert into total (customer_id, amount) values ($1, $2), ($3, $4) \
             on conflict (customer_id) do update set amount = total.amount + excluded.amount"
        )
    );
    // An update by a unique key: its values go in a list, cast to the statement's types.
    let balance = shape(BALANCE).expect("an update by a unique key");
    assert_eq!(balance.key, [1]);
    assert_eq!(
        balance.rows_sql(2, &[Type::TEXT, Type::INT8]).as_deref(),
        Some(
            "update customer as t set balance = v.p2 from (values ($1::text, $2::int8), \
             ($3::text, $4::int8)) as v (p1, p2) where t.customer_id = v.p1"
        )
    );
    assert_eq!(balance.rows_sql(2, &[Type::TEXT]), None, "a type missing");
    for none in [
        "insert into t (a) values ($1) returning a",
        "insert into t (a) values (now())",
        "insert into t (a) select $1",
        "insert into total (customer_id, amount) values ($1, $2) on conflict (customer_id) \
         do update set amount = $2",
        "insert into doc (doc_id) values ($1) on conflict (doc_id) do nothing",
        "update customer set balance = $2 where name = $1",
        "update customer set balance = balance + $2 where customer_id = $1",
        "update customer set balance = $2 where customer_id = $1 or name = $3",
        RENAME,
    ] {
        assert_eq!(shape(none), None, "{none}");
    }
}

#[test]
fn consecutive_inserts_of_one_text_merge_and_others_stay_apart() {
    let held =
        [Some(DOC), Some(ITEM), Some(ITEM), Some(ITEM), Some(ITEM), Some(UPSERT), Some(UPSERT)];
    assert_eq!(check(&held, &links()), "0 [1 2 3 4] [5 6]");
    // Three rows go as two and one: the sizes are fixed, so few statements are prepared.
    assert_eq!(check(&[Some(ITEM), Some(ITEM), Some(ITEM)], &links()), "[0 1] 2");
    // A write whose row count is checked merges only with others that are.
    let key = |at: usize, _: &[usize]| at.to_string();
    let counted = [(Some(ITEM), true), (Some(ITEM), false), (Some(ITEM), true)];
    let one = vec![Planned::One(0), Planned::One(1), Planned::One(2)];
    assert_eq!(plan(&counted, &links(), key), one);
    let counted = [(Some(BALANCE), true), (Some(BALANCE), true)];
    assert_eq!(plan(&counted, &links(), key), vec![Planned::Rows(vec![0, 1])]);
}

#[test]
fn rows_of_an_upsert_or_an_update_group_name_different_keys() {
    let links = links();
    let held = [(Some(UPSERT), "a"), (Some(UPSERT), "b"), (Some(UPSERT), "a"), (Some(UPSERT), "c")];
    assert_eq!(check_keyed(&held, &links), "[0 1] [2 3]");
    let held = [(Some(BALANCE), "a"), (Some(BALANCE), "a"), (Some(BALANCE), "b")];
    assert_eq!(check_keyed(&held, &links), "0 [1 2]");
    // Plain inserts have no key: their rows' keys are the table's to check.
    let held = [(Some(ITEM), "a"), (Some(ITEM), "a")];
    assert_eq!(check_keyed(&held, &links), "[0 1]");
}

#[test]
fn an_update_group_closes_at_its_own_table_or_a_key_it_sets() {
    let links = links();
    // A customer inserted between two balance updates: the second may be of that customer.
    let insert = "insert into customer (customer_id, balance) values ($1, $2)";
    assert_eq!(check(&[Some(BALANCE), Some(insert), Some(BALANCE)], &links), "0 1 2");
    // An update that moves an item to another document may not pass that document's insert.
    let move_item = "update item set doc_id = $2 where item_id = $1";
    assert_eq!(check(&[Some(move_item), Some(DOC), Some(move_item)], &links), "0 1 2");
    // One that sets no key column may.
    let amount = "update item set amount = $2 where item_id = $1";
    assert_eq!(check(&[Some(amount), Some(DOC), Some(amount)], &links), "[0 2] 1");
    // A table with an update trigger keeps its updates apart.
    let mut triggered = links;
    triggered.triggers.insert("item".to_owned(), ON_UPDATE);
    assert_eq!(check(&[Some(amount), Some(DOC), Some(amount)], &triggered), "0 1 2");
}

#[test]
fn units_of_a_batch_merge_table_by_table_parents_first() {
    // Two customers' units: a journal transaction with two postings, a total, a document with
    // an item and a balance update, each.
    let unit = [TXN, POSTING, POSTING, UPSERT, DOC, ITEM, BALANCE];
    let held: Vec<Option<&str>> = unit.iter().chain(&unit).map(|sql| Some(*sql)).collect();
    assert_eq!(check(&held, &links()), "[0 7] [1 2 8 9] [3 10] [4 11] [5 12] [6 13]");
}

#[test]
fn a_group_closes_at_a_savepoint_its_own_table_a_parent_insert_or_a_key_update() {
    let links = links();
    // A savepoint command: the units stay apart.
    assert_eq!(check(&[Some(DOC), None, Some(DOC)], &links), "0 1 2");
    // An upsert into the group's table, an update of it.
    let upsert_doc = "insert into doc (doc_id, customer_id, total) values ($1, $2, $3) \
                      on conflict (doc_id) do nothing";
    assert_eq!(check(&[Some(DOC), Some(upsert_doc), Some(DOC)], &links), "0 1 2");
    let update_doc = "update doc set total = $2 where doc_id = $1";
    assert_eq!(check(&[Some(DOC), Some(update_doc), Some(DOC)], &links), "0 1 2");
    // An insert of the group's parent: the later item must not come before its document.
    assert_eq!(check(&[Some(ITEM), Some(DOC), Some(ITEM)], &links), "0 1 2");
    // An update of a parent's key, a delete, an update reading another table.
    assert_eq!(check(&[Some(DOC), Some(RENAME), Some(DOC)], &links), "0 1 2");
    let delete = "delete from customer where customer_id = $1";
    assert_eq!(check(&[Some(DOC), Some(delete), Some(DOC)], &links), "0 1 2");
    let reads = "update customer set balance = (select 1) where customer_id = $1";
    assert_eq!(check(&[Some(DOC), Some(reads), Some(DOC)], &links), "0 1 2");
    // A group whose table has an insert trigger, or a passed statement with a trigger.
    let mut triggered = links;
    triggered.triggers.insert("customer".to_owned(), ON_UPDATE);
    assert_eq!(check(&[Some(DOC), Some(BALANCE), Some(DOC)], &triggered), "0 1 2");
    triggered.triggers.insert("doc".to_owned(), ON_INSERT);
    assert_eq!(check(&[Some(DOC), Some(TXN), Some(DOC)], &triggered), "0 1 2");
}

#[test]
fn long_groups_are_cut_into_fixed_sizes_within_the_parameter_limit() {
    let key = |at: usize, _: &[usize]| at.to_string();
    let held: Vec<(Option<&str>, bool)> = (0..2_000).map(|_| (Some(ITEM), false)).collect();
    let sizes: Vec<usize> = plan(&held, &links(), key)
        .iter()
        .map(|step| match step {
            Planned::One(_) => 1,
            Planned::Rows(rows) => rows.len(),
        })
        .collect();
    assert_eq!(sizes, [512, 512, 512, 128, 128, 128, 32, 32, 8, 8]);
    // 300 parameters a row: at most 218 rows (65,535 parameters) a statement.
    let wide = format!(
        "insert into wide ({}) values ({})",
        (1..=300).map(|n| format!("c{n}")).collect::<Vec<_>>().join(", "),
        (1..=300).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
    );
    let held: Vec<(Option<&str>, bool)> = (0..600).map(|_| (Some(wide.as_str()), false)).collect();
    let largest = plan(&held, &links(), key)
        .iter()
        .map(|step| if let Planned::Rows(rows) = step { rows.len() } else { 1 })
        .max();
    assert_eq!(largest, Some(128));
}
