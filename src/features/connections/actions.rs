//! Relations between two users: their state read in one statement, and each action's change,
//! on both engines side by side. The statements are built once by sea-query for both.
//!
//! - SQLite: the action runs in the writer's batch (see `db/sqlite.rs`): read, decide, write,
//!   inside the batch's transaction, which holds the database's only write lock.
//! - PostgreSQL: one statement reads the pair; one statement writes the change, and only if
//!   the pair is still at the version that was read (else it reads again): two round trips,
//!   one commit, no lock held between them. A request to a pair that has no row yet (the
//!   common write) is one round trip: its first statement makes the request as if the pair
//!   were new and reads the pair in the same snapshot, so that when the pair was not new the
//!   read is already done.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, Func, InsertStatement, OnConflict, Order, Query,
    SubQueryStatement, UpdateStatement, WithClause,
};

use crate::db::connection::Repo;
use crate::db::entities::{events, relations, users};
use crate::db::error::RepoError;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::db::pairs::{PAIR_STATE_COLUMNS, PairState, hidden_either_way, of_pair, ordered, pair_state_columns, pair_state_from, read_pair_postgres, read_pair_sqlite};
use crate::db::rows::Row;
use crate::db::shapes::{self, Arg, LazyShape, LazyShapes, Shape, scalar};
use crate::db::sqlite;
use crate::domain::{self, Action, Conflict, Counts, Relation, Transition};
use crate::outbox::append::{self, Appended, CounterSource, EVENT_CTE, EventRow, LOCKED};

/// How often a PostgreSQL write reads the pair again after another change got there first.
const MAX_RETRIES: usize = 32;

/// The users of a pair as the statements of a change take them (real ids, or sentinels when
/// the statements are built once).
#[derive(Clone, Copy, Debug)]
struct Ids {
    caller: i64,
    other: i64,
    low: i64,
    high: i64,
    caller_is_low: bool,
}

impl Ids {
    /// The sentinels of a statement built once: caller, other, low, high (arguments 0 to 3).
    fn sentinels(caller_is_low: bool) -> Ids {
        let (caller, other) = (shapes::int(0), shapes::int(1));
        let (low, high) = if caller_is_low { (caller, other) } else { (other, caller) };
        Ids { caller, other, low, high, caller_is_low }
    }
}

/// The arguments of a change's statements: caller, other, low, high, now, expected version.
fn change_args(caller: i64, other: i64, now: DateTime<Utc>, expected: Option<i64>) -> [Arg; 6] {
    let (low, high) = ordered(caller, other);
    [Arg::Int(caller), Arg::Int(other), Arg::Int(low), Arg::Int(high), Arg::Time(now), Arg::Int(expected.unwrap_or(-1))]
}

/// Which of the cached statement sets a transition uses.
fn transition_key(t: &Transition, caller_is_low: bool) -> usize {
    let index = |r: Relation| Relation::ALL.iter().position(|x| *x == r).unwrap_or(0);
    (index(t.from) * Relation::ALL.len() + index(t.to)) * 2 + usize::from(caller_is_low)
}

const TRANSITION_KEYS: usize = 6 * 6 * 2;

/// A change to one table, as one statement.
enum Write {
    Insert(InsertStatement),
    Update(UpdateStatement),
    /// PostgreSQL: an insert whose CTE other parts read by this name.
    Named(&'static str, InsertStatement),
}

impl Write {
    fn shape(&self) -> Shape {
        match self {
            Write::Insert(s) | Write::Named(_, s) => Shape::new(s),
            Write::Update(s) => Shape::new(s),
        }
    }

    fn into_sub_query(self) -> SubQueryStatement {
        match self {
            Write::Insert(s) | Write::Named(_, s) => s.into(),
            Write::Update(s) => s.into(),
        }
    }
}

/// Who sent the request the pair holds in state `r`, if it holds one.
fn sender(ids: Ids, r: Relation) -> Option<i64> {
    match r {
        Relation::SentPending | Relation::SentRejected => Some(ids.caller),
        Relation::ReceivedPending | Relation::ReceivedRejected => Some(ids.other),
        _ => None,
    }
}

/// The pair holds the same request before and after `t` (a rejection, or its undoing).
fn same_request(ids: Ids, t: &Transition) -> bool {
    sender(ids, t.from).is_some() && sender(ids, t.from) == sender(ids, t.to)
}

/// When the request of state `r` was rejected (now), if it is.
fn rejected(r: Relation, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    matches!(r, Relation::SentRejected | Relation::ReceivedRejected).then_some(now)
}

/// The kind of row the pair holds in state `r`.
fn kind(r: Relation) -> &'static str {
    match r {
        Relation::None => relations::NONE,
        Relation::Connected => relations::CONNECTION,
        _ => relations::REQUEST,
    }
}

/// The engine a statement is built for, where their SQL differs: where a new request's id
/// comes from, and where the event's counters are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

/// SQLite: the request ids' sequence, one further (the statement before a new request's row).
fn next_request_id_sqlite() -> UpdateStatement {
    Query::update()
        .table(Alias::new("id_sequences"))
        .value(Alias::new("last"), Expr::col(Alias::new("last")).add(1))
        .and_where(Expr::col(Alias::new("name")).eq("connection_requests"))
        .to_owned()
}

/// A new request's id: the sequence's value (SQLite: as [`next_request_id_sqlite`] just moved it).
fn new_request_id(engine: Engine) -> Expr {
    match engine {
        Engine::Sqlite => Expr::cust("(SELECT last FROM id_sequences WHERE name = 'connection_requests')"),
        Engine::Postgres => Expr::cust("nextval('connection_request_ids')"),
    }
}

/// The pair's one row in state `t.to`, one version further. The same request rejected or
/// restored keeps its id, date and viewing, and only its rejection changes; any other change
/// writes the whole row (a new request, a connection, nothing). With `only_if`, on PostgreSQL:
/// `(the condition the change needs, the version an existing row must be at)`, and the version
/// it reached is returned.
fn pair_write(ids: Ids, t: &Transition, now: DateTime<Utc>, engine: Engine, only_if: Option<(Expr, i64)>) -> Write {
    use relations::Column as C;
    let Ids { low, high, caller, other, .. } = ids;
    let version = || Expr::col((relations::Entity, C::Version));
    if same_request(ids, t) {
        let mut update = Query::update()
            .table(relations::Entity)
            .value(C::Rejected, rejected(t.to, now))
            .value(C::Version, version().add(1))
            .to_owned();
        of_pair(&mut update, C::UserLow, C::UserHigh, low, high);
        if let Some((condition, expected)) = only_if {
            update.and_where(condition).and_where(version().eq(expected));
            update.returning_col(C::Version);
        }
        return Write::Update(update);
    }
    let request = sender(ids, t.to).map(|from| (from, if from == caller { other } else { caller }));
    let created = (t.to != Relation::None).then_some(now);
    let values = [
        (C::UserLow, Expr::val(low)),
        (C::UserHigh, Expr::val(high)),
        (C::Kind, Expr::val(kind(t.to))),
        (C::Version, Expr::val(1i64)),
        (C::RequestId, request.map_or_else(|| Expr::val(Option::<i64>::None), |_| new_request_id(engine))),
        (C::FromUserId, Expr::val(request.map(|r| r.0))),
        (C::ToUserId, Expr::val(request.map(|r| r.1))),
        (C::Created, Expr::val(created)),
        (C::Rejected, Expr::val(rejected(t.to, now))),
        (C::Viewed, Expr::val(Option::<DateTime<Utc>>::None)),
    ];
    let (columns, exprs): (Vec<C>, Vec<Expr>) = values.into_iter().unzip();
    let mut insert = Query::insert().into_table(relations::Entity).columns(columns).to_owned();
    let mut on_conflict = OnConflict::columns([C::UserLow, C::UserHigh])
        .update_columns([C::Kind, C::RequestId, C::FromUserId, C::ToUserId, C::Created, C::Rejected, C::Viewed])
        .value(C::Version, version().add(1))
        .to_owned();
    match only_if {
        None => {
            insert.values_panic(exprs);
        }
        Some((condition, expected)) => {
            // A SELECT of as many values as columns: cannot fail.
            let _ = insert.select_from(Query::select().exprs(exprs).and_where(condition).to_owned());
            on_conflict.action_and_where(version().eq(expected));
            insert.returning_col(C::Version);
        }
    }
    Write::Insert(insert.on_conflict(on_conflict).to_owned())
}

/// The statements that follow the pair's row: both users' counters and the change's event
/// (with its notification and, on SQLite, its webhook deliveries), each under `guard`
/// (PostgreSQL: "the pair's row was written").
fn follow_up_writes(ids: Ids, t: &Transition, now: DateTime<Utc>, guard: Option<Expr>, engine: Engine) -> Vec<Write> {
    let source = match engine {
        Engine::Sqlite => CounterSource::Users,
        Engine::Postgres => CounterSource::Locked,
    };
    let Ids { caller, other, caller_is_low, .. } = ids;
    let mut after = Vec::new();
    // Counters, lower user id first: on PostgreSQL every writer takes users' row locks in the
    // same order, so two changes can never wait for each other in a circle.
    let (mine, theirs) = t.count_changes();
    let moves = if caller_is_low { [(caller, mine), (other, theirs)] } else { [(other, theirs), (caller, mine)] };
    for (id, change) in moves {
        if !change.is_zero() {
            after.push(Write::Update(count_update(id, change, guard.clone())));
        }
    }
    if let Some(event) = t.event {
        let (from, to) = if event.from_is_actor() { (ids.caller, ids.other) } else { (ids.other, ids.caller) };
        let (from_change, to_change) = if from == ids.caller { (mine, theirs) } else { (theirs, mine) };
        let appended = Appended { event, from, to, from_change, to_change };
        match source {
            // SQLite: statement by statement, each sees the one before.
            CounterSource::Users => {
                after.push(Write::Insert(append::event_insert(appended, now, guard, source)));
                after.extend(append::notification_insert(appended, now, EventRow::Last).map(Write::Insert));
                after.push(Write::Insert(append::deliveries_insert(event)));
            }
            // PostgreSQL: the event's CTE is named, and returns its row for the notification's.
            CounterSource::Locked => {
                let mut insert = append::event_insert(appended, now, guard, source);
                insert.returning_col(events::Column::Id);
                after.push(Write::Named(EVENT_CTE, insert));
                after.extend(append::notification_insert(appended, now, EventRow::Returned).map(Write::Insert));
            }
        }
    }
    after
}

/// Adds `change` to user `id`'s counters.
fn count_update(id: i64, change: Counts, guard: Option<Expr>) -> UpdateStatement {
    use users::Column as C;
    let mut update = Query::update().table(users::Entity).to_owned();
    for (column, by) in [
        (C::ConnectionsCounter, change.connections),
        (C::ConnectionRequestsReceivedCounter, change.received),
        (C::ConnectionRequestsSentCounter, change.sent),
    ] {
        if by != 0 {
            update.value(column, Expr::col(column).add(by));
        }
    }
    let mut cond = Expr::col(C::Id).eq(id);
    if let Some(g) = guard {
        cond = cond.and(g);
    }
    update.and_where(cond).to_owned()
}

/// `mark_seen`: the request from `other` to `caller` is seen now, if it was not before.
fn mark_viewed(other: i64, low: i64, high: i64, now: DateTime<Utc>) -> UpdateStatement {
    use relations::Column as C;
    let mut update = Query::update().table(relations::Entity).value(C::Viewed, now).to_owned();
    of_pair(&mut update, C::UserLow, C::UserHigh, low, high);
    // A sender is set only on a request, and a request's users are its pair (the schema's
    // `CHECK`s): the pair and the sender say it is `other`'s request to the caller.
    update.and_where(Expr::col(C::FromUserId).eq(other)).and_where(Expr::col(C::Viewed).is_null()).to_owned()
}

// ----- SQLite: inside the writer's batch -----

/// SQLite's statements of each transition, in order: the rows it removes, the pair's row,
/// the rows it adds and the counters.
static SQLITE_WRITES: [LazyShapes; TRANSITION_KEYS] = [const { LazyShapes::new() }; TRANSITION_KEYS];
static MARK_VIEWED: LazyShape = LazyShape::new();

fn sqlite_writes(t: &Transition, caller_is_low: bool) -> &'static [Shape] {
    SQLITE_WRITES[transition_key(t, caller_is_low)].get(|| {
        let ids = Ids::sentinels(caller_is_low);
        let now = shapes::time(4);
        let new_request = sender(ids, t.to).is_some() && !same_request(ids, t);
        let next_id = new_request.then(|| Shape::new(&next_request_id_sqlite()));
        next_id
            .into_iter()
            .chain([pair_write(ids, t, now, Engine::Sqlite, None).shape()])
            .chain(follow_up_writes(ids, t, now, None, Engine::Sqlite).iter().map(Write::shape))
            .collect()
    })
}

fn mark_viewed_shape() -> &'static Shape {
    MARK_VIEWED.get(|| mark_viewed(shapes::int(1), shapes::int(2), shapes::int(3), shapes::time(4)))
}

fn apply_sqlite(
    conn: &rusqlite::Connection,
    caller: i64,
    other: i64,
    action: Action,
) -> Result<Result<Transition, Conflict>, RepoError> {
    let state = read_pair_sqlite(conn, caller, other)?;
    state.require_action_allowed(action)?;
    let transition = match domain::apply(state.relation(caller), action) {
        Ok(t) => t,
        Err(conflict) => return Ok(Err(conflict)),
    };
    let args = change_args(caller, other, Utc::now(), state.version);
    if transition.changed() {
        for shape in sqlite_writes(&transition, caller < other) {
            sqlite::execute_shape(conn, shape, &args)?;
        }
    }
    if transition.mark_viewed {
        sqlite::execute_shape(conn, mark_viewed_shape(), &args)?;
    }
    Ok(Ok(transition))
}

// ----- PostgreSQL: read, then one conditional statement -----

/// The change's parts as data-modifying CTEs: lock both users (lower id first) if neither is
/// deleted (and `lock_if` holds), move the pair's row to the next version if it is still at
/// `expected` (`None`: no row yet), and only then change the other rows. The CTE `pair` holds
/// the pair row written (none: someone else changed the pair first, or a user was deleted).
fn change_ctes(ids: Ids, t: &Transition, expected: i64, now: DateTime<Utc>, lock_if: Option<Expr>) -> WithClause {
    let Ids { low, high, .. } = ids;
    let mut locked = Query::select()
        .columns([
            users::Column::Id,
            users::Column::ConnectionsCounter,
            users::Column::ConnectionRequestsReceivedCounter,
            users::Column::ConnectionRequestsSentCounter,
            users::Column::FollowersCounter,
            users::Column::FollowingsCounter,
        ])
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Id).is_in([low, high]))
        .and_where(Expr::col(users::Column::Deleted).eq(false))
        .order_by(users::Column::Id, Order::Asc)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .to_owned();
    if let Some(condition) = lock_if {
        locked.and_where(condition);
    }
    let both_locked = scalar(Query::select().expr(Func::count(Expr::val(1))).from(Alias::new(LOCKED)).to_owned()).eq(2);
    let pair_row = pair_write(ids, t, now, Engine::Postgres, Some((both_locked, expected)));
    let changed = Expr::exists(Query::select().expr(Expr::val(1)).from(Alias::new("pair")).to_owned());
    let after = follow_up_writes(ids, t, now, Some(changed), Engine::Postgres);
    let mut with = WithClause::new();
    with.cte(CommonTableExpression::new().query(locked).table_name(Alias::new(LOCKED)).to_owned());
    with.cte(CommonTableExpression::new().query(pair_row.into_sub_query()).table_name(Alias::new("pair")).to_owned());
    for (i, write) in after.into_iter().enumerate() {
        let name = match &write {
            Write::Named(name, _) => (*name).to_owned(),
            _ => format!("w{i}"),
        };
        with.cte(CommonTableExpression::new().query(write.into_sub_query()).table_name(Alias::new(name)).to_owned());
    }
    with
}

fn pair_rows_written() -> Expr {
    scalar(Query::select().expr(Func::count(Expr::val(1))).from(Alias::new("pair")).to_owned())
}

/// The change as one statement (see [`change_ctes`]). Answers one row: the number of pair rows
/// changed (0: read the pair again).
fn change_statement(ids: Ids, t: &Transition, expected: i64, now: DateTime<Utc>) -> sea_orm::sea_query::WithQuery {
    Query::select().expr(pair_rows_written()).to_owned().with(change_ctes(ids, t, expected, now, None))
}

/// A request's first round trip: the request made as if the pair were new (nothing is locked or
/// written when the pair already has a row), and the pair's state as the statement found it,
/// read in the same snapshot. Answers the state's columns ([`PairState::read_row`]), then the
/// number of pair rows written: 1, the request is made; 0, go on from the state read.
fn request_as_new_statement(ids: Ids, t: &Transition, now: DateTime<Utc>) -> sea_orm::sea_query::WithQuery {
    let mut pair = Query::select().expr(Expr::val(1)).from(relations::Entity).to_owned();
    of_pair(&mut pair, relations::Column::UserLow, relations::Column::UserHigh, ids.low, ids.high);
    // Argument 5, the expected version, is -1 (no row yet): versions start at 1.
    let new_and_visible = Expr::exists(pair).not().and(hidden_either_way(ids.caller, ids.other).not());
    let ctes = change_ctes(ids, t, shapes::int(5), now, Some(new_and_visible));
    // The state is read only when nothing was written (PostgreSQL runs a subquery under CASE
    // only when its branch is taken): a new pair's request reads back only the pair's row, one
    // probe of its primary key, which finds none.
    let written = pair_rows_written();
    let state: [Expr; PAIR_STATE_COLUMNS] = pair_state_columns(ids.caller, ids.other)
        .map(|column| Expr::case(written.clone().eq(0), column).finally(Expr::null()).into());
    let mut select = Query::select().exprs(state).expr(written).to_owned();
    pair_state_from(&mut select, ids.low, ids.high);
    select.with(ctes)
}

/// PostgreSQL's one statement of each transition.
static POSTGRES_CHANGES: [LazyShape; TRANSITION_KEYS] = [const { LazyShape::new() }; TRANSITION_KEYS];
/// A request as if the pair were new, by `caller_is_low`.
static REQUEST_AS_NEW: [LazyShape; 2] = [const { LazyShape::new() }; 2];

async fn apply_postgres(
    db: &DatabaseConnection,
    caller: i64,
    other: i64,
    action: Action,
) -> Result<Result<Transition, Conflict>, RepoError> {
    let caller_is_low = caller < other;
    // A request is made in one round trip when the pair is new; otherwise the same round trip
    // has read the pair, and the loop goes on from what it read.
    let mut first_read = None;
    if action == Action::Request {
        let made = domain::apply(Relation::None, Action::Request).ok();
        if let Some(transition) = made {
            let shape = REQUEST_AS_NEW[usize::from(caller_is_low)]
                .get(|| request_as_new_statement(Ids::sentinels(caller_is_low), &transition, shapes::time(4)));
            let row = db
                .query_one_raw(shape.postgres(&change_args(caller, other, Utc::now(), None)))
                .await?
                .ok_or_else(|| RepoError::database("the request statement returned no row"))?;
            if row.int(PAIR_STATE_COLUMNS)? == 1 {
                return Ok(Ok(transition));
            }
            first_read = Some(PairState::read_row(&row)?);
        }
    }
    for _ in 0..MAX_RETRIES {
        let state = match first_read.take() {
            Some(state) => state,
            None => read_pair_postgres(db, caller, other).await?,
        };
        state.require_action_allowed(action)?;
        let transition = match domain::apply(state.relation(caller), action) {
            Ok(t) => t,
            Err(conflict) => return Ok(Err(conflict)),
        };
        let args = change_args(caller, other, Utc::now(), state.version);
        if transition.mark_viewed {
            db.execute_raw(mark_viewed_shape().postgres(&args)).await?;
        }
        if !transition.changed() {
            return Ok(Ok(transition));
        }
        let shape = POSTGRES_CHANGES[transition_key(&transition, caller_is_low)]
            .get(|| change_statement(Ids::sentinels(caller_is_low), &transition, shapes::int(5), shapes::time(4)));
        let row = db
            .query_one_raw(shape.postgres(&args))
            .await?
            .ok_or_else(|| RepoError::database("the change statement returned no row"))?;
        if row.int(0)? == 1 {
            return Ok(Ok(transition));
        }
        // Another change reached the pair first (or a user was deleted): read it again.
    }
    Err(RepoError::Unavailable("the pair kept changing under this request".into()))
}

impl Repo {
    /// Runs `action` of `caller` on the relation with `other` as one transaction: checks that
    /// both users exist (else `CallerNotFound` / `UserNotFound`), reads the pair, asks the
    /// state machine, writes the new state and both users' counters.
    pub async fn apply(&self, caller: i64, other: i64, action: Action) -> Result<Result<Transition, Conflict>, RepoError> {
        match self.sqlite() {
            Some(engine) => engine.write(move |conn| apply_sqlite(conn, caller, other, action)).await,
            None => apply_postgres(self.connection(), caller, other, action).await,
        }
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/bench/pgbench.sh` runs the server's request statement from `pgbench`, which knows
    /// nothing of this code: its script must be the statement as this code builds it.
    #[test]
    fn the_pgbench_script_is_the_request_statement() {
        const SCRIPT: &str = "tests/bench/pgbench-request.sql";
        let (low, high) = (7_000_001, 7_000_002);
        let transition = domain::apply(Relation::None, Action::Request).expect("a request from no relation");
        let shape = Shape::new(&request_as_new_statement(Ids::sentinels(true), &transition, shapes::time(4)));
        let now = shapes::time(9);
        let rendered = shape.postgres(&change_args(low, high, now, None)).to_string();
        let literal_now = sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, "$1", [now.into()]).to_string();
        let statement = rendered.replace(&literal_now, "now()").replace(&low.to_string(), ":low").replace(&high.to_string(), ":high");
        let script = std::fs::read_to_string(SCRIPT).expect("the pgbench script");
        let in_script = script.lines().find(|l| l.starts_with("WITH ")).unwrap_or_default();
        assert!(
            in_script == statement,
            "{SCRIPT} is not the statement this code builds; its last line should be:\n{statement}"
        );
    }
}
