//! Each user's notification settings (SelfCommunity's `UserSettings`): a user without a row has
//! the defaults; a change writes only the fields it names, in one upsert, so two changes of
//! different fields at once both stay.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::ConnectionTrait;

use crate::db::connection::Repo;
use crate::db::entities::user_settings::{self as settings, Column};
use crate::db::error::RepoError;
use crate::db::rows::{self, Row};
use crate::db::sqlite;

/// The five settings, in the order of [`Column`]s below: `qa_frequency`,
/// `email_notification_not_qa`, `mobile_notifications_scmty`, `show_toast_notifications`,
/// `toast_notifications_emit_sound`.
pub type Settings = [i64; 5];

const COLUMNS: [Column; 5] = [
    Column::QaFrequency,
    Column::EmailNotificationNotQa,
    Column::MobileNotificationsScmty,
    Column::ShowToastNotifications,
    Column::ToastNotificationsEmitSound,
];

fn select_query(user: i64) -> SelectStatement {
    Query::select().columns(COLUMNS).from(settings::Entity).and_where(Expr::col(Column::UserId).eq(user)).to_owned()
}

fn read(row: &impl Row) -> Result<Settings, RepoError> {
    Ok([row.int(0)?, row.int(1)?, row.int(2)?, row.int(3)?, row.int(4)?])
}

/// Inserts `user`'s row with `defaults` where `change` names nothing; on an existing row,
/// sets only what `change` names.
fn upsert(user: i64, defaults: Settings, change: [Option<i64>; 5]) -> sea_orm::sea_query::InsertStatement {
    let mut values = vec![user.into()];
    values.extend((0..5).map(|i| change[i].unwrap_or(defaults[i]).into()));
    let mut columns = vec![Column::UserId];
    columns.extend(COLUMNS);
    let changed: Vec<Column> = (0..5).filter(|i| change[*i].is_some()).map(|i| COLUMNS[i]).collect();
    let mut conflict = OnConflict::column(Column::UserId);
    if changed.is_empty() {
        conflict.do_nothing();
    } else {
        conflict.update_columns(changed);
    }
    Query::insert().into_table(settings::Entity).columns(columns).values_panic(values).on_conflict(conflict).to_owned()
}

impl Repo {
    /// `user`'s settings, or `None` when they never changed one.
    pub async fn user_settings(&self, user: i64) -> Result<Option<Settings>, RepoError> {
        let query = select_query(user);
        match self.sqlite() {
            Some(engine) => engine.read(move |conn| sqlite::query_one(conn, &query, |r| read(r))).await,
            None => self.connection().query_one_raw(rows::postgres(&query)).await?.map(|r| read(&r)).transpose(),
        }
    }

    /// Sets the settings `change` names (the others keep their value, or `defaults` on a first
    /// change) and answers them all.
    pub async fn change_user_settings(&self, user: i64, defaults: Settings, change: [Option<i64>; 5]) -> Result<Settings, RepoError> {
        let (write, query) = (upsert(user, defaults, change), select_query(user));
        match self.sqlite() {
            Some(engine) => {
                engine
                    .write(move |conn| {
                        sqlite::execute(conn, &write)?;
                        sqlite::query_one(conn, &query, |r| read(r))?
                            .ok_or_else(|| RepoError::database("the settings just written were not found"))
                    })
                    .await
            }
            None => {
                let db = self.connection();
                db.execute_raw(rows::postgres(&write)).await?;
                db.query_one_raw(rows::postgres(&query))
                    .await?
                    .map(|r| read(&r))
                    .transpose()?
                    .ok_or_else(|| RepoError::database("the settings just written were not found"))
            }
        }
    }

    /// Makes `user` staff (`Some("admin")`) or not (`None`). False when there is no such user
    /// (or they are deleted).
    pub async fn set_role(&self, user: i64, role: Option<&str>) -> Result<bool, RepoError> {
        use crate::db::entities::users;
        let update = Query::update()
            .table(users::Entity)
            .value(users::Column::Role, role.map(str::to_owned))
            .and_where(Expr::col(users::Column::Id).eq(user))
            .and_where(Expr::col(users::Column::Deleted).eq(false))
            .to_owned();
        let changed = match self.sqlite() {
            Some(engine) => engine.write(move |conn| sqlite::execute(conn, &update)).await?,
            None => self.connection().execute_raw(rows::postgres(&update)).await?.rows_affected() as usize,
        };
        Ok(changed == 1)
    }
}
