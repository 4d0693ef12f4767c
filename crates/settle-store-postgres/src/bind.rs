//! Shared statements in PostgreSQL's terms: placeholders, parameter types and lists.

use settle_store_sql::{Statement, Value};

use crate::rows::{decimal_text, micros};
use crate::{Arg, Param};

/// Writes each `x in ?N` whose parameter is a list as `x = any(?N)`: PostgreSQL then looks
/// each id up in the index. Behind a subquery (`in (select unnest(...))`) its planner cannot
/// see the list's length, takes it for ten rows, and may merge it with the whole tenant's
/// rows read in order, which costs a bill run's batch a read of every earlier customer.
fn lists_as_any(mut statement: Statement) -> Statement {
    for (at, arg) in statement.args.iter().enumerate() {
        if !matches!(arg, Value::TextList(_)) {
            continue;
        }
        let (from, to) = (format!(" in ?{}", at + 1), format!(" = any(?{})", at + 1));
        let mut sql = String::with_capacity(statement.sql.len() + 8);
        let mut rest: &str = &statement.sql;
        while let Some(found) = rest.find(&from) {
            let after = &rest[found + from.len()..];
            sql.push_str(&rest[..found]);
            // `?1` is not `?12`.
            sql.push_str(if after.starts_with(|c: char| c.is_ascii_digit()) { &from } else { &to });
            rest = after;
        }
        sql.push_str(rest);
        statement.sql = sql.into();
    }
    statement
}

/// A shared statement in PostgreSQL's terms: `?N` becomes `$N`, decimals, bound as text, are
/// cast to `numeric`, and a list is a `text[]` asked with `= any`.
pub(crate) fn bind(statement: Statement) -> (String, Vec<Arg>) {
    let statement = lists_as_any(statement);
    let sql = statement.numbered(|n, value| match value {
        Value::Decimal(_) => format!("${n}::text::numeric"),
        Value::TextList(_) => format!("${n}::text[]"),
        _ => format!("${n}"),
    });
    let args = statement
        .args
        .into_iter()
        .map(|value| -> Arg {
            match value {
                Value::Text(text) => Box::new(text),
                Value::OptText(text) => Box::new(text),
                Value::Int(int) => Box::new(int),
                Value::Int32(int) => Box::new(int),
                Value::Date(date) => Box::new(date),
                Value::Instant(at) => Box::new(micros(at)),
                Value::OptInstant(at) => Box::new(at.map(micros)),
                Value::OptDate(date) => Box::new(date),
                Value::OptInt32(int) => Box::new(int),
                Value::Bool(flag) => Box::new(flag),
                Value::Decimal(decimal) => Box::new(decimal_text(decimal)),
                Value::TextList(list) => Box::new(list),
            }
        })
        .collect();
    (sql, args)
}

/// Owned parameters as the driver takes them.
pub(crate) fn params(args: &[Arg]) -> Vec<Param<'_>> {
    args.iter().map(|a| a.as_ref() as Param<'_>).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_parameter_is_asked_with_any_and_a_longer_placeholder_is_left_alone() {
        let list = Value::TextList(vec!["cus_1".into(), "cus_2".into()]);
        let mut args = vec![list.clone()];
        args.extend((2..=12).map(Value::Int));
        let statement =
            Statement { sql: "select 1 from t where a in ?1 and b in ?12".into(), args };
        let (sql, _) = bind(statement);
        assert_eq!(sql, "select 1 from t where a = any($1::text[]) and b in $12");
        let statement = Statement {
            sql: "select 1 from t where k = ?1 and a in ?2 order by a".into(),
            args: vec![Value::Text("ten_1".into()), list],
        };
        assert_eq!(
            bind(statement).0,
            "select 1 from t where k = $1 and a = any($2::text[]) order by a"
        );
    }
}
