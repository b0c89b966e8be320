//! Statements built by sea-query once per shape, not once per request.
//!
//! Building a statement allocates its whole expression tree and then its text: on the request
//! path that cost more than SQLite's own work. So each statement is built once, with sentinel
//! arguments, for both engines; the sentinels are found again among the values sea-query
//! collected, in the order its text binds them, and each call binds its own arguments there.
//! The statements stay written with the builder, from the entities, and the order of the
//! values is the builder's, never counted by hand.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, PostgresQueryBuilder, QueryStatementWriter, SelectStatement, SqliteQueryBuilder, Value};
use sea_orm::{DbBackend, Statement};

/// An argument of a statement built once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Time(DateTime<Utc>),
}

/// Sentinel integers: far from any id, limit, offset or counter.
const INT_BASE: i64 = i64::MIN / 2;
/// More than the largest statement's arguments: a page's 100 ids and a few more.
const MAX_ARGS: usize = 128;

/// The `i`-th integer argument, as a statement built once takes it.
pub fn int(i: usize) -> i64 {
    INT_BASE + i as i64
}

/// The `i`-th timestamp argument: instants in the year 1000 and a bit.
pub fn time(i: usize) -> DateTime<Utc> {
    DateTime::from_timestamp(-30_610_224_000 + i as i64, 0).unwrap_or_default()
}

/// Where each value of a built statement comes from.
#[derive(Clone, Debug)]
enum Slot {
    Arg(usize),
    Const(Value),
}

fn slot(value: Value) -> Slot {
    let arg = |n: i64| (INT_BASE..INT_BASE + MAX_ARGS as i64).contains(&n).then(|| (n - INT_BASE) as usize);
    let found = match &value {
        Value::BigInt(Some(n)) => arg(*n),
        Value::BigUnsigned(Some(n)) => arg(*n as i64),
        Value::ChronoDateTimeUtc(Some(t)) => (0..MAX_ARGS).find(|i| time(*i) == *t),
        _ => None,
    };
    match found {
        Some(i) => Slot::Arg(i),
        None => Slot::Const(value),
    }
}

/// One statement's text and values, per engine.
#[derive(Debug)]
pub struct Shape {
    sqlite: (String, Vec<Slot>),
    postgres: (String, Vec<Slot>),
}

impl Shape {
    pub fn new<S: QueryStatementWriter>(statement: &S) -> Shape {
        let of = |(sql, values): (String, sea_orm::sea_query::Values)| (sql, values.0.into_iter().map(slot).collect());
        Shape { sqlite: of(statement.build(SqliteQueryBuilder)), postgres: of(statement.build(PostgresQueryBuilder)) }
    }

    fn values(slots: &[Slot], args: &[Arg]) -> Vec<Value> {
        slots
            .iter()
            .map(|s| match s {
                Slot::Const(v) => v.clone(),
                Slot::Arg(i) => match args.get(*i) {
                    Some(Arg::Int(n)) => Value::BigInt(Some(*n)),
                    Some(Arg::Time(t)) => Value::ChronoDateTimeUtc(Some(*t)),
                    None => Value::BigInt(None),
                },
            })
            .collect()
    }

    /// The SQLite text and the values to bind.
    pub fn sqlite(&self, args: &[Arg]) -> (&str, Vec<Value>) {
        (&self.sqlite.0, Self::values(&self.sqlite.1, args))
    }

    /// The PostgreSQL statement, as sea-orm runs it.
    pub fn postgres(&self, args: &[Arg]) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, self.postgres.0.clone(), Self::values(&self.postgres.1, args))
    }
}

/// A statement built on first use.
pub struct LazyShape(OnceLock<Shape>);

impl LazyShape {
    pub const fn new() -> Self {
        LazyShape(OnceLock::new())
    }

    pub fn get<S: QueryStatementWriter>(&self, build: impl FnOnce() -> S) -> &Shape {
        self.0.get_or_init(|| Shape::new(&build()))
    }
}

impl Default for LazyShape {
    fn default() -> Self {
        Self::new()
    }
}

/// Several statements built on first use (the writes of one transition).
pub struct LazyShapes(OnceLock<Vec<Shape>>);

impl LazyShapes {
    pub const fn new() -> Self {
        LazyShapes(OnceLock::new())
    }

    pub fn get(&self, build: impl FnOnce() -> Vec<Shape>) -> &[Shape] {
        self.0.get_or_init(build)
    }
}

impl Default for LazyShapes {
    fn default() -> Self {
        Self::new()
    }
}

/// A one-value subquery as an expression.
pub fn scalar(select: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(select.into()))
}


#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    /// A statement with a page's 100 ids and a few more arguments binds every one of them
    /// (with too few sentinels, the ids past them stayed sentinels: pages of 15 users).
    #[test]
    fn a_page_of_ids_binds_every_argument() {
        let ids: Vec<i64> = (0..101).map(int).collect();
        let statement = Query::select().expr(Expr::val(1)).from(Alias::new("t")).and_where(Expr::col(Alias::new("id")).is_in(ids)).to_owned();
        let shape = Shape::new(&statement);
        let args: Vec<Arg> = (0..101).map(|i| Arg::Int(1000 + i)).collect();
        let (_, values) = shape.sqlite(&args);
        let bound: Vec<Value> = values.into_iter().filter(|v| !matches!(v, Value::Int(Some(1)))).collect();
        let expected: Vec<Value> = (0..101).map(|i| Value::BigInt(Some(1000 + i))).collect();
        assert_eq!(bound, expected);
    }

    /// Arguments land where the builder put them, constants stay, whatever the order.
    #[test]
    fn arguments_are_bound_where_the_builder_put_them() {
        let statement = Query::select()
            .expr(Expr::val(int(1)))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("a")).eq(int(0)))
            .and_where(Expr::col(Alias::new("b")).eq(false))
            .and_where(Expr::col(Alias::new("c")).lt(time(3)))
            .limit(int(2) as u64)
            .to_owned();
        let shape = Shape::new(&statement);
        let now = Utc::now();
        let args = [Arg::Int(7), Arg::Int(8), Arg::Int(20), Arg::Time(now)];
        let (sql, values) = shape.sqlite(&args);
        assert_eq!(sql, r#"SELECT ? FROM "t" WHERE "a" = ? AND "b" = ? AND "c" < ? LIMIT ?"#);
        assert_eq!(
            values,
            vec![
                Value::BigInt(Some(8)),
                Value::BigInt(Some(7)),
                Value::Bool(Some(false)),
                Value::ChronoDateTimeUtc(Some(now)),
                Value::BigInt(Some(20)),
            ]
        );
        let (_, short) = shape.sqlite(&args[..2]);
        assert_eq!(short[4], Value::BigInt(None), "a missing argument binds NULL");
        let pg = shape.postgres(&args);
        assert!(pg.sql.contains("\"a\" = $2") && pg.sql.ends_with("LIMIT $5"), "{}", pg.sql);
    }
}
