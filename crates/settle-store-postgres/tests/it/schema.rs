//! The schema is ready to be sharded by customer (docs/SCALING.md): read from the catalog of a
//! freshly migrated database, every table is classified, every per-customer table carries
//! (tenant_id, customer_id) leading its primary key, unique constraints and unique indexes and
//! its foreign keys to other distributed tables, no small tenant-level (reference) table
//! points at a distributed one, and no trigger fires on an insert into a distributed table. A
//! scratch schema with deliberate faults shows the check fails.
//!
//! Every per-customer row also still reaches its customer, and so its tenant, through foreign
//! keys on NOT NULL columns, now that migration 0015 dropped the keys a longer one implies.

use std::collections::BTreeSet;

use super::TestDb;

/// Tables with per-customer rows: distributed by customer_id, co-located with `customer`.
const PER_CUSTOMER: &[&str] = &[
    "customer",
    "customer_search",
    "customer_balance_key",
    "document",
    "document_item",
    "payment",
    "application",
    "application_item",
    "journal_txn",
    "posting",
    "customer_account",
    "history",
    "adjustment",
    "refund",
    "payment_link",
    "subscription",
    "subscription_segment",
    "subscription_period",
    "subscription_line",
    "amendment",
];

/// Tenant-level tables too big or too write-heavy to copy to every node: distributed by
/// tenant_id, in a co-location group of their own.
const PER_TENANT: &[&str] = &["idempotency_key", "external_ref"];

/// Small tenant-level tables: reference tables, a copy on every node.
const REFERENCE: &[&str] = &[
    "tenant",
    "api_key",
    "staff_user",
    "staff_session",
    "sign_in_failure",
    "product",
    "price",
    "document_number_sequence",
    "bill_run",
    "bill_run_total",
    "bill_run_failure",
];

/// The migration runner's own table, which stays on the coordinator only.
const LOCAL: &[&str] = &["schema_migration"];

/// The lists a schema is checked against.
struct Classes<'a> {
    per_customer: &'a [&'a str],
    per_tenant: &'a [&'a str],
    reference: &'a [&'a str],
    local: &'a [&'a str],
}

/// One key, index or foreign key of a table, its columns in order.
struct Key {
    table: String,
    name: String,
    /// `p` primary key, `u` unique constraint, `i` unique index, `f` foreign key.
    kind: char,
    columns: Vec<String>,
    /// For a foreign key: the table and columns it references.
    references: Option<(String, Vec<String>)>,
}

fn starts_with(columns: &[String], lead: &[&str]) -> bool {
    columns.len() >= lead.len() && columns.iter().zip(lead).all(|(c, l)| c == l)
}

/// Every way `schema` breaks the rules of `classes`, one line each, naming the table and the
/// constraint.
fn violations(client: &mut postgres::Client, schema: &str, classes: &Classes) -> Vec<String> {
    let mut problems = Vec::new();
    let tables: BTreeSet<String> = client
        .query(
            "select table_name::text from information_schema.tables \
             where table_schema = $1 and table_type = 'BASE TABLE'",
            &[&schema],
        )
        .expect("tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let lists = [
        ("per-customer", classes.per_customer),
        ("per-tenant", classes.per_tenant),
        ("reference", classes.reference),
        ("local", classes.local),
    ];
    for table in &tables {
        let found: Vec<&str> = lists
            .iter()
            .filter(|(_, list)| list.contains(&table.as_str()))
            .map(|(name, _)| *name)
            .collect();
        if found.len() != 1 {
            problems.push(format!("{table}: in {} lists {found:?}, not exactly one", found.len()));
        }
    }
    for (name, list) in lists {
        for table in list {
            if !tables.contains(*table) {
                problems.push(format!("{table}: listed as {name} but not in the schema"));
            }
        }
    }
    let class_of = |table: &str| {
        lists.iter().find(|(_, list)| list.contains(&table)).map_or("unlisted", |(name, _)| *name)
    };

    let columns: BTreeSet<(String, String)> = client
        .query(
            "select table_name::text, column_name::text from information_schema.columns \
             where table_schema = $1",
            &[&schema],
        )
        .expect("columns")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();

    // Constraints with their columns in key order, and unique indexes that back no constraint.
    let mut keys: Vec<Key> = client
        .query(
            "select t.relname::text, c.conname::text, c.contype::text, \
               array(select a.attname::text from unnest(c.conkey) with ordinality k(n, o) \
                     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n \
                     order by k.o), \
               f.relname::text, \
               array(select a.attname::text from unnest(c.confkey) with ordinality k(n, o) \
                     join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n \
                     order by k.o) \
             from pg_constraint c join pg_class t on t.oid = c.conrelid \
             left join pg_class f on f.oid = c.confrelid \
             where t.relnamespace = $1::text::regnamespace and c.contype in ('p', 'u', 'f')",
            &[&schema],
        )
        .expect("constraints")
        .iter()
        .map(|row| {
            let kind: String = row.get(2);
            let referenced: Option<String> = row.get(4);
            Key {
                table: row.get(0),
                name: row.get(1),
                kind: kind.chars().next().unwrap_or('?'),
                columns: row.get(3),
                references: referenced.map(|table| (table, row.get(5))),
            }
        })
        .collect();
    keys.extend(
        client
            .query(
                "select t.relname::text, i.relname::text, \
                   array(select coalesce(a.attname::text, '(expression)') \
                         from unnest(x.indkey) with ordinality k(n, o) \
                         left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.n \
                         order by k.o) \
                 from pg_index x join pg_class t on t.oid = x.indrelid \
                 join pg_class i on i.oid = x.indexrelid \
                 where t.relnamespace = $1::text::regnamespace and x.indisunique \
                   and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)",
                &[&schema],
            )
            .expect("unique indexes")
            .iter()
            .map(|row| Key {
                table: row.get(0),
                name: row.get(1),
                kind: 'i',
                columns: row.get(2),
                references: None,
            }),
    );

    for table in classes.per_customer {
        for column in ["tenant_id", "customer_id"] {
            if tables.contains(*table)
                && !columns.contains(&((*table).to_owned(), column.to_owned()))
            {
                problems.push(format!("{table}: no column {column}"));
            }
        }
        if tables.contains(*table) && !keys.iter().any(|k| k.table == *table && k.kind == 'p') {
            problems.push(format!("{table}: no primary key"));
        }
    }
    for key in &keys {
        let (table, name) = (&key.table, &key.name);
        let lead: &[&str] = match class_of(table) {
            "per-customer" => &["tenant_id", "customer_id"],
            "per-tenant" => &["tenant_id"],
            _ => &[],
        };
        match &key.references {
            None => {
                if !starts_with(&key.columns, lead) {
                    problems.push(format!(
                        "{table}: {name} ({}) does not start with ({})",
                        key.columns.join(", "),
                        lead.join(", ")
                    ));
                }
            }
            Some((target, target_columns)) => {
                let target_class = class_of(target);
                // A foreign key to a reference table is allowed from anywhere; between
                // distributed tables only within one co-location group, on its leading columns.
                if target_class == "reference" {
                    continue;
                }
                let own_class = class_of(table);
                if own_class != target_class || own_class == "reference" || own_class == "local" {
                    problems.push(format!(
                        "{table}: {name} references {target} ({target_class}) from a \
                         {own_class} table"
                    ));
                } else if !starts_with(&key.columns, lead) || !starts_with(target_columns, lead) {
                    problems.push(format!(
                        "{table}: {name} ({}) -> {target} ({}) does not start with ({})",
                        key.columns.join(", "),
                        target_columns.join(", "),
                        lead.join(", ")
                    ));
                }
            }
        }
    }
    problems.extend(insert_triggers(client, schema, classes));
    problems.sort();
    problems
}

/// Every trigger that fires on an insert into a distributed (per-customer or per-tenant) table,
/// one line each. Its rows must arrive whole, the distribution column named by the statement:
/// Citus runs a trigger on the shards only when told to, and one that reads another table by
/// name does not read the co-located shard. It would also cost every inserted row a call.
fn insert_triggers(client: &mut postgres::Client, schema: &str, classes: &Classes) -> Vec<String> {
    client
        .query(
            "select event_object_table::text, trigger_name::text, lower(action_timing) \
             from information_schema.triggers \
             where trigger_schema = $1 and event_manipulation = 'INSERT'",
            &[&schema],
        )
        .expect("triggers")
        .iter()
        .map(|row| -> (String, String, String) { (row.get(0), row.get(1), row.get(2)) })
        .filter(|(table, _, _)| {
            classes.per_customer.contains(&table.as_str())
                || classes.per_tenant.contains(&table.as_str())
        })
        .map(|(table, name, timing)| format!("{table}: {name} runs {timing} insert"))
        .collect()
}

#[test]
fn every_table_is_ready_to_be_sharded_by_customer() {
    let Some(db) = TestDb::new("every_table_is_ready_to_be_sharded_by_customer") else {
        return;
    };
    drop(db.open());
    let mut client = db.client();
    let classes = Classes {
        per_customer: PER_CUSTOMER,
        per_tenant: PER_TENANT,
        reference: REFERENCE,
        local: LOCAL,
    };
    let problems = violations(&mut client, "public", &classes);
    assert!(
        problems.is_empty(),
        "the schema is not ready to shard by customer:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_shard_check_names_each_table_and_constraint_that_breaks_the_rules() {
    let Some(db) = TestDb::new("the_shard_check_names_each_table_and_constraint") else {
        return;
    };
    let mut client = db.client();
    client
        .batch_execute(
            "create schema broken;
             create table broken.tenant (tenant_id text primary key);
             create table broken.customer (tenant_id text not null references broken.tenant,
                 customer_id text not null, primary key (tenant_id, customer_id));
             create table broken.item (item_id text constraint item_pk primary key,
                 tenant_id text not null, customer_id text not null,
                 number text constraint item_number unique,
                 constraint item_customer foreign key (tenant_id, customer_id)
                     references broken.customer (tenant_id, customer_id));
             create table broken.line (tenant_id text not null, line_id text not null,
                 item_id text constraint line_item references broken.item (item_id),
                 constraint line_pk primary key (tenant_id, line_id));
             create unique index line_by_item on broken.line (item_id);
             create table broken.setting (tenant_id text not null,
                 customer_id text not null, constraint setting_customer
                 foreign key (tenant_id, customer_id)
                     references broken.customer (tenant_id, customer_id));
             create table broken.stray (id integer);
             create function broken.fill() returns trigger language plpgsql as $$
                 begin return new; end; $$;
             create trigger item_fill before insert on broken.item
                 for each row execute function broken.fill();
             create trigger tenant_fill before insert on broken.tenant
                 for each row execute function broken.fill();",
        )
        .expect("make the broken schema");
    let classes = Classes {
        per_customer: &["customer", "item", "line", "missing"],
        per_tenant: &[],
        reference: &["tenant", "setting", "customer"],
        local: &[],
    };
    let problems = violations(&mut client, "broken", &classes);
    let expected = [
        "customer: in 2 lists [\"per-customer\", \"reference\"], not exactly one",
        "item: item_fill runs before insert",
        "item: item_number (number) does not start with (tenant_id, customer_id)",
        "item: item_pk (item_id) does not start with (tenant_id, customer_id)",
        "line: line_by_item (item_id) does not start with (tenant_id, customer_id)",
        "line: line_item (item_id) -> item (item_id) does not start with (tenant_id, customer_id)",
        "line: line_pk (tenant_id, line_id) does not start with (tenant_id, customer_id)",
        "line: no column customer_id",
        "missing: listed as per-customer but not in the schema",
        "setting: setting_customer references customer (per-customer) from a reference table",
        "stray: in 0 lists [], not exactly one",
    ];
    assert_eq!(problems, expected);
}

/// Per-customer tables of `schema` (`customer` aside) with no chain of foreign keys to
/// `customer`, each on NOT NULL columns starting with (tenant_id, customer_id); and `customer`
/// when it has no key to `tenant`.
fn unchained(client: &mut postgres::Client, schema: &str, per_customer: &[&str]) -> Vec<String> {
    let rows = client
        .query(
            "select c.conrelid::regclass::text, c.confrelid::regclass::text,
                 array(select a.attname::text from unnest(c.conkey) with ordinality k(n, o)
                       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                       order by k.o),
                 (select bool_and(a.attnotnull) from unnest(c.conkey) k(n)
                  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n)
             from pg_constraint c join pg_namespace n on n.oid = c.connamespace
             where c.contype = 'f' and n.nspname = $1",
            &[&schema],
        )
        .expect("read the foreign keys");
    let bare = |name: String| name.rsplit('.').next().unwrap_or_default().to_owned();
    let keys: Vec<(String, String, Vec<String>, bool)> = rows
        .iter()
        .map(|row| (bare(row.get(0)), bare(row.get(1)), row.get(2), row.get(3)))
        .collect();
    let parents = |table: &str| -> Vec<&str> {
        let lead = |columns: &[String]| starts_with(columns, &["tenant_id", "customer_id"]);
        let kept = keys
            .iter()
            .filter(|(child, _, columns, not_null)| child == table && *not_null && lead(columns));
        kept.map(|(_, parent, _, _)| parent.as_str()).collect()
    };
    let reaches = |table: &str| {
        let (mut seen, mut next) = (BTreeSet::new(), vec![table]);
        while let Some(at) = next.pop() {
            if at == "customer" {
                return true;
            }
            if seen.insert(at) {
                next.extend(parents(at));
            }
        }
        false
    };
    let mut problems: Vec<String> = per_customer
        .iter()
        .filter(|table| **table != "customer" && !reaches(table))
        .map(|table| format!("{table}: no chain of NOT NULL keys to customer"))
        .collect();
    if !keys.iter().any(|(child, parent, _, _)| child == "customer" && parent == "tenant") {
        problems.push("customer: no key to tenant".to_owned());
    }
    problems
}

#[test]
fn every_per_customer_row_reaches_its_customer_through_the_keys_kept() {
    let Some(db) = TestDb::new("every_per_customer_row_reaches_its_customer") else {
        return;
    };
    drop(db.open());
    let mut client = db.client();
    assert_eq!(unchained(&mut client, "public", PER_CUSTOMER), Vec::<String>::new());
    // The check finds a table with no key, one whose key may be null and one whose chain ends
    // at a table that has none.
    client
        .batch_execute(
            "create schema chains;
             create table chains.tenant (tenant_id text primary key);
             create table chains.customer (tenant_id text not null, customer_id text not null,
                 primary key (tenant_id, customer_id));
             create table chains.doc (tenant_id text not null, customer_id text not null,
                 doc_id text not null, primary key (tenant_id, customer_id, doc_id),
                 foreign key (tenant_id, customer_id) references chains.customer);
             create table chains.item (tenant_id text not null, customer_id text not null,
                 doc_id text not null, foreign key (tenant_id, customer_id, doc_id)
                     references chains.doc);
             create table chains.orphan (tenant_id text not null, customer_id text not null);
             create table chains.loose (tenant_id text not null, customer_id text,
                 foreign key (tenant_id, customer_id) references chains.customer);
             create table chains.stray (tenant_id text not null, customer_id text not null,
                 primary key (tenant_id, customer_id));
             create table chains.behind (tenant_id text not null, customer_id text not null,
                 foreign key (tenant_id, customer_id) references chains.stray);",
        )
        .expect("make the schema");
    let tables = ["customer", "doc", "item", "orphan", "loose", "behind", "stray"];
    assert_eq!(
        unchained(&mut client, "chains", &tables),
        [
            "orphan: no chain of NOT NULL keys to customer",
            "loose: no chain of NOT NULL keys to customer",
            "behind: no chain of NOT NULL keys to customer",
            "stray: no chain of NOT NULL keys to customer",
            "customer: no key to tenant",
        ]
    );
}

/// Indexes of `schema` that another index of the same table makes redundant: plain (not
/// unique, not partial, no expression) B-tree indexes whose key columns, with their
/// collations, lead another full B-tree index's key. Every write to an indexed column pays for
/// each of them and no read needs them. One line each: "table: index (columns) leads other".
fn redundant_indexes(client: &mut postgres::Client, schema: &str) -> Vec<String> {
    client
        .query(
            "with ix as ( \
               select x.indrelid, x.indexrelid, x.indisunique, \
                      x.indpred is null and x.indexprs is null as whole, \
                      (x.indkey::int2[])[0:x.indnkeyatts - 1] as keys, \
                      (x.indcollation::oid[])[0:x.indnkeyatts - 1] as collations, \
                      i.relam \
               from pg_index x \
               join pg_class i on i.oid = x.indexrelid \
               join pg_class t on t.oid = x.indrelid \
               join pg_namespace n on n.oid = t.relnamespace \
               where n.nspname = $1) \
             select t.relname::text || ': ' || i.relname::text || ' (' || \
                    array_to_string(array(select a.attname::text \
                        from unnest(r.keys) with ordinality k(n, o) \
                        join pg_attribute a on a.attrelid = r.indrelid and a.attnum = k.n \
                        order by k.o), ', ') || ') leads ' || o.relname::text \
             from ix r \
             join ix c on c.indrelid = r.indrelid and c.indexrelid <> r.indexrelid \
             join pg_class t on t.oid = r.indrelid \
             join pg_class i on i.oid = r.indexrelid \
             join pg_class o on o.oid = c.indexrelid \
             where not r.indisunique and r.whole and c.whole and r.relam = c.relam \
               and cardinality(r.keys) <= cardinality(c.keys) \
               and r.keys = c.keys[1:cardinality(r.keys)] \
               and r.collations = c.collations[1:cardinality(r.keys)] \
             order by 1",
            &[&schema],
        )
        .expect("indexes")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn no_index_repeats_the_lead_of_another() {
    let Some(db) = TestDb::new("no_index_repeats_the_lead_of_another") else {
        return;
    };
    drop(db.open());
    let mut client = db.client();
    let redundant = redundant_indexes(&mut client, "public");
    assert!(redundant.is_empty(), "indexes another one makes redundant:\n{}", redundant.join("\n"));

    // The check finds one: the index migration 0018 dropped, and others like it.
    client
        .batch_execute(
            "create schema doubled;
             create table doubled.thing (a text, b text, c text, d int,
                 primary key (a, b, c));
             create index thing_by_ab on doubled.thing (a, b, c);
             create index thing_by_a on doubled.thing (a);
             create index thing_by_a_c on doubled.thing (a collate \"C\");
             create index thing_by_d on doubled.thing (d) where d > 0;
             create index thing_by_d_all on doubled.thing (d);
             create unique index thing_by_b on doubled.thing (b);
             create index thing_by_b_c on doubled.thing (b, c);",
        )
        .expect("make the doubled schema");
    assert_eq!(
        redundant_indexes(&mut client, "doubled"),
        [
            "thing: thing_by_a (a) leads thing_by_ab",
            "thing: thing_by_a (a) leads thing_pkey",
            "thing: thing_by_ab (a, b, c) leads thing_pkey",
        ]
    );
}

/// Every command that moves money updates its customer's balances. The update stays on the
/// row's page as a heap-only tuple, writing no index entry: no index of `customer` holds a
/// balance, and its pages keep half their room for the next versions (migration 0019), so even
/// a freshly loaded table whose every row is updated in one transaction, as a bill run's batch
/// does, has room. The balance's index entry moves in the narrow `customer_balance_key`.
#[test]
fn a_customers_balance_update_stays_on_its_page() {
    let Some(db) = TestDb::new("a_customers_balance_update_stays_on_its_page") else {
        return;
    };
    let tenant = super::seed(&db.open(), &[]);
    let mut client = db.client();
    let mut tx = client.transaction().expect("begin");
    tx.execute(
        "insert into customer (customer_id, tenant_id, name, name_lower, email, email_lower, \
         currency, payment_terms_days, created_at) \
         select 'cus_loaded' || lpad(i::text, 6, '0'), $1, 'Customer ' || i, 'customer ' || i, \
         'billing' || i || '@example.com', 'billing' || i || '@example.com', 'USD', 30, now() \
         from generate_series(1, 1000) i",
        &[&tenant.as_str()],
    )
    .expect("customers");
    tx.execute(
        "insert into customer_balance_key (tenant_id, customer_id, balance_minor) \
         select tenant_id, customer_id, 0 from customer where tenant_id = $1",
        &[&tenant.as_str()],
    )
    .expect("balance keys");
    tx.commit().expect("load");

    // A bill run's batch: every customer's balances, in one transaction.
    let mut tx = client.transaction().expect("begin");
    tx.execute(
        "update customer set receivable_minor = 2999, balance_minor = -2999 \
         where tenant_id = $1",
        &[&tenant.as_str()],
    )
    .expect("balances");
    tx.execute(
        "update customer_balance_key set balance_minor = -2999 where tenant_id = $1",
        &[&tenant.as_str()],
    )
    .expect("balance keys");
    let updated: Vec<(String, i64, i64)> = tx
        .query(
            "select relname::text, n_tup_upd, n_tup_hot_upd from pg_stat_xact_user_tables \
             where relname in ('customer', 'customer_balance_key') and schemaname = 'public' \
             order by relname",
            &[],
        )
        .expect("this transaction's updates")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    let row = |table: &str, all: i64, heap_only: i64| (table.to_owned(), all, heap_only);
    assert_eq!(updated, [row("customer", 1000, 1000), row("customer_balance_key", 1000, 0)]);
}

/// Loads `n` customers of `tenant` with a balance key and a monthly subscription each, then, in
/// one transaction as a bill run's batch does, updates every balance key and every
/// subscription's next billing date (both indexed, so neither update is heap-only), and
/// returns how many new versions of each landed on another page than their row's:
/// (balance keys, subscriptions).
fn rows_moved_by_a_batch(client: &mut postgres::Client, tenant: &str, n: i32) -> (i64, i64) {
    let mut tx = client.transaction().expect("begin");
    let load = [
        "insert into customer (customer_id, tenant_id, name, name_lower, email, email_lower, \
         currency, payment_terms_days, created_at) \
         select $1 || '_cus' || lpad(i::text, 6, '0'), $1, 'Customer ' || i, 'customer ' || i, \
         'c' || i || '@example.com', 'c' || i || '@example.com', 'USD', 30, now() \
         from generate_series(1, $2) i",
        "insert into customer_balance_key (tenant_id, customer_id, balance_minor) \
         select tenant_id, customer_id, 0 from customer where tenant_id = $1 and $2 > 0",
        "insert into subscription (subscription_id, tenant_id, customer_id, currency, status, \
         start_date, recurring_interval, interval_count, billed_periods, next_bill_on, \
         created_at) select 'sub_' || customer_id, tenant_id, customer_id, 'USD', 'active', \
         date '2026-01-01', 'month', 1, 0, date '2026-01-01', now() \
         from customer where tenant_id = $1 and $2 > 0",
    ];
    for sql in load {
        tx.execute(sql, &[&tenant, &n]).expect("load");
    }
    tx.commit().expect("load");
    let mut tx = client.transaction().expect("begin");
    let mut moved = Vec::new();
    for (table, set) in [
        ("customer_balance_key", "balance_minor = -2999"),
        ("subscription", "billed_periods = 1, next_bill_on = date '2026-02-01'"),
    ] {
        let page = |alias: &str| format!("({alias}ctid::text::point)[0]");
        tx.batch_execute(&format!(
            "create temp table before_update as \
             select customer_id, {} as page from {table} where tenant_id = '{tenant}'",
            page("")
        ))
        .expect("pages before");
        tx.execute(&format!("update {table} set {set} where tenant_id = $1"), &[&tenant])
            .expect("update");
        let count: i64 = tx
            .query_one(
                &format!(
                    "select count(*) from {table} t join before_update b using (customer_id) \
                     where t.tenant_id = $1 and {} <> b.page",
                    page("t.")
                ),
                &[&tenant],
            )
            .expect("pages after")
            .get(0);
        moved.push(count);
        tx.batch_execute("drop table before_update").expect("drop");
    }
    tx.commit().expect("batch");
    (moved[0], moved[1])
}

/// A bill run's invoice updates its customer's balance key and its subscription, each with an
/// indexed column changing. Both tables keep half of each page free (migration 0021), so the
/// new versions of a whole batch stay on their rows' pages; packed full, as without the
/// fillfactor, most move, and each move logs a lock on the old version first.
#[test]
fn a_batchs_balance_key_and_subscription_updates_stay_on_their_pages() {
    let Some(db) = TestDb::new("a_batchs_balance_key_and_subscription_updates_stay") else {
        return;
    };
    let tenant = super::seed(&db.open(), &[]);
    let mut client = db.client();
    assert_eq!(rows_moved_by_a_batch(&mut client, tenant.as_str(), 1000), (0, 0));

    // The same batch on pages packed full (what the tables had before 0021) moves rows.
    client
        .batch_execute(
            "alter table customer_balance_key reset (fillfactor); \
             alter table subscription reset (fillfactor); \
             insert into tenant (tenant_id, name, created_at) \
             select 'ten_packed', name, created_at from tenant limit 1",
        )
        .expect("packed pages");
    let (keys, subscriptions) = rows_moved_by_a_batch(&mut client, "ten_packed", 1000);
    assert!(keys > 500 && subscriptions > 500, "moved: {keys} keys, {subscriptions} subscriptions");
}

/// Every index of a table a bill run's invoice writes costs each invoice an entry, so each one
/// is here with the read or the key it serves; an index added, or one dropped, fails this test
/// until the list says why. (0020 dropped three that no statement read; 0021 two more, once
/// the reads that used them named the customer.)
#[test]
fn every_index_an_invoice_writes_serves_a_read_or_a_key() {
    let Some(db) = TestDb::new("every_index_an_invoice_writes_serves_a_read") else {
        return;
    };
    drop(db.open());
    let mut client = db.client();
    let tables = [
        "customer",
        "customer_balance_key",
        "document",
        "document_item",
        "journal_txn",
        "posting",
        "customer_account",
        "history",
        "subscription",
        "subscription_period",
        "subscription_line",
    ];
    let mut found: Vec<String> = client
        .query(
            "select indexname::text from pg_indexes \
             where schemaname = 'public' and tablename = any($1)",
            &[&&tables[..]],
        )
        .expect("indexes")
        .iter()
        .map(|row| row.get(0))
        .collect();
    // (index, what needs it)
    let needed = [
        ("customer_account_pkey", "the totals' upsert; the tenant's totals"),
        ("customer_balance_key_by_balance", "the list by balance"),
        ("customer_balance_key_pkey", "the balance update"),
        ("customer_by_email", "an imported invoice's customer, named by email"),
        ("customer_by_id", "a customer by id (a document's or payment's customer)"),
        ("customer_by_name", "the list by name"),
        ("customer_by_seq", "the list by creation"),
        ("customer_pkey", "the customer's lock; every key to a customer"),
        ("document_by_adjusted", "an invoice's adjustments"),
        ("document_by_customer", "a customer's documents by kind"),
        ("document_by_id", "a document by id"),
        ("document_by_number", "a document by number"),
        ("document_by_tenant", "the tenant's documents by kind"),
        ("document_pkey", "keys to a document"),
        ("document_tenant_id_customer_id_number_key", "numbers unique per customer (sharded)"),
        ("document_item_by_id", "an item by id (applications, credits)"),
        ("document_item_pkey", "keys to an item"),
        ("document_item_tenant_id_customer_id_document_id_idx_key", "a document's items"),
        ("history_by_customer", "a customer's history"),
        ("history_pkey", "history ids unique"),
        ("journal_by_customer", "a customer's journal"),
        ("journal_by_customer_date", "totals as of a date"),
        ("journal_by_tenant", "the tenant's journal"),
        ("journal_feed", "the journal feed"),
        ("journal_txn_pkey", "keys to a transaction; postings joined to their transaction"),
        ("posting_by_account", "aging and open documents by account"),
        ("posting_pkey", "posting positions unique; a transaction's postings"),
        ("subscription_by_customer_due", "a bill run's due customers"),
        ("subscription_by_id", "a subscription by id"),
        ("subscription_by_status", "subscriptions by status"),
        ("subscription_pkey", "a customer's subscriptions; keys to a subscription"),
        ("subscription_line_by_key", "a segment's lines in a period"),
        ("subscription_line_pkey", "line ids unique"),
        ("subscription_line_tenant_id_customer_id_invoice_item_id_key", "one line per item"),
        ("subscription_period_by_subscription", "a subscription's invoiced periods"),
        ("subscription_period_pkey", "a period invoiced once"),
    ];
    let mut needed: Vec<String> = needed.iter().map(|(index, _)| (*index).to_owned()).collect();
    needed.sort();
    found.sort();
    assert_eq!(found, needed);
}
