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
    Links { keys, triggers: HashMap::new() }
}

/// The plan of `held` (each a write, merged when it may be) written as `1` for a statement
/// sent as held and `[1 2]` for rows merged into one.
fn check(held: &[Option<&str>], links: &Links) -> String {
    let held: Vec<(Option<&str>, bool)> = held.iter().map(|sql| (*sql, true)).collect();
    let steps = plan(&held, links).into_iter().map(|step| match step {
        Planned::One(at) => at.to_string(),
        Planned::Rows(rows) => {
            let rows: Vec<String> = rows.iter().map(ToString::to_string).collect();
            format!("[{}]", rows.join(" "))
        }
    });
    steps.collect::<Vec<_>>().join(" ")
}

#[test]
fn a_plain_insert_has_a_shape_and_an_upsert_or_an_expression_has_none() {
    let shape = Shape::parse(ITEM).expect("a plain insert");
    assert_eq!((shape.table, shape.params), ("item", 3));
    assert_eq!(
        shape.rows_sql(2),
        "insert into item (item_id, doc_id, amount) values ($1, $2, $3::text::numeric), \
         ($4, $5, $6::text::numeric)"
    );
    // A placeholder used twice stays one parameter per row.
    let twice = Shape::parse("insert into doc (a, b, c) values ($1, $2, $1)").expect("plain");
    assert_eq!(twice.rows_sql(2), "insert into doc (a, b, c) values ($1, $2, $1), ($3, $4, $3)");
    assert_eq!(Shape::parse(UPSERT), None);
    assert_eq!(Shape::parse("insert into t (a) values ($1) returning a"), None);
    assert_eq!(Shape::parse("insert into t (a) values (now())"), None);
    assert_eq!(Shape::parse("insert into t (a) select $1"), None);
    assert_eq!(Shape::parse(BALANCE), None);
}

#[test]
fn consecutive_inserts_of_one_text_merge_and_others_stay_apart() {
    let held =
        [Some(DOC), Some(ITEM), Some(ITEM), Some(ITEM), Some(ITEM), Some(UPSERT), Some(UPSERT)];
    assert_eq!(check(&held, &links()), "0 [1 2 3 4] 5 6");
    // Three rows go as two and one: the sizes are fixed, so few statements are prepared.
    assert_eq!(check(&[Some(ITEM), Some(ITEM), Some(ITEM)], &links()), "[0 1] 2");
    // A write whose row count is checked is never merged.
    let counted = [(Some(ITEM), true), (Some(ITEM), false), (Some(ITEM), true)];
    assert_eq!(plan(&counted, &links()), vec![Planned::One(0), Planned::One(1), Planned::One(2)]);
}

#[test]
fn units_of_a_batch_merge_table_by_table_parents_first() {
    // Two customers' units: a journal transaction with two postings, a total, a document with
    // an item and a balance update, each.
    let unit = [TXN, POSTING, POSTING, UPSERT, DOC, ITEM, BALANCE];
    let held: Vec<Option<&str>> = unit.iter().chain(&unit).map(|sql| Some(*sql)).collect();
    assert_eq!(check(&held, &links()), "[0 7] [1 2 8 9] 3 [4 11] [5 12] 6 10 13");
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
    let held: Vec<(Option<&str>, bool)> = (0..2_000).map(|_| (Some(ITEM), true)).collect();
    let sizes: Vec<usize> = plan(&held, &links())
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
    let held: Vec<(Option<&str>, bool)> = (0..600).map(|_| (Some(wide.as_str()), true)).collect();
    let largest = plan(&held, &links())
        .iter()
        .map(|step| if let Planned::Rows(rows) = step { rows.len() } else { 1 })
        .max();
    assert_eq!(largest, Some(128));
}
