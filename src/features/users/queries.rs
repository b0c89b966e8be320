//! Users: the request path's reads (on SQLite's readers or PostgreSQL) and the operator's
//! commands (through sea-orm on both engines).

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};

use crate::db::connection::Repo;
use crate::db::entities::users::{self, Model as User};
use crate::db::error::RepoError;
use crate::db::follows::{read_follow_state_postgres, read_follow_state_sqlite};
use crate::db::mode::Mode;
use crate::db::pairs::{read_pair_postgres, read_pair_sqlite};
use crate::db::statuses::follow_status;
use crate::domain::ConnectionStatus;
use crate::db::rows;
use crate::db::sqlite;
use crate::db::users::active_user;

impl Repo {
    /// User `id` as `caller` sees them, with `caller`'s status with them in `mode`, in one
    /// hand-off: both users are checked (`CallerNotFound`, `UserNotFound`).
    pub async fn user_with_status(&self, caller: i64, id: i64, mode: Mode) -> Result<(User, Option<ConnectionStatus>), RepoError> {
        let (user, user_args) = active_user(id);
        let follow = mode == Mode::Follow;
        let ((caller_active, status), user) = match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let status = if follow {
                            let state = read_follow_state_sqlite(conn, caller, id)?;
                            (state.caller_active, follow_status(state.follows))
                        } else {
                            let state = read_pair_sqlite(conn, caller, id)?;
                            (state.caller_active, state.relation(caller).status())
                        };
                        let user = sqlite::query_shape_one(conn, user, &user_args, |r| rows::user_at(r, 0))?;
                        Ok((status, user))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let status = if follow {
                    let state = read_follow_state_postgres(db, caller, id).await?;
                    (state.caller_active, follow_status(state.follows))
                } else {
                    let state = read_pair_postgres(db, caller, id).await?;
                    (state.caller_active, state.relation(caller).status())
                };
                let user = db.query_one_raw(user.postgres(&user_args)).await?;
                (status, user.map(|r| rows::user_at(&r, 0)).transpose()?)
            }
        };
        if !caller_active {
            return Err(RepoError::CallerNotFound);
        }
        let user = user.ok_or(RepoError::UserNotFound)?;
        Ok((user, status))
    }

    /// A new user. The unique index on `username` decides a race between two creations; its
    /// refusal is `Invalid`, naming the username.
    pub async fn create_user(&self, username: &str, real_name: &str) -> Result<User, RepoError> {
        let user = users::ActiveModel {
            username: Set(username.to_owned()),
            real_name: Set(real_name.to_owned()),
            avatar: Set(None),
            ext_id: Set(None),
            date_joined: Set(Utc::now()),
            deleted: Set(false),
            ..Default::default()
        };
        let inserted = users::Entity::insert(user).exec(self.connection()).await.map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                RepoError::Invalid(format!("the username {username:?} is taken"))
            }
            _ => err.into(),
        })?;
        users::Entity::find_by_id(inserted.last_insert_id)
            .one(self.connection())
            .await?
            .ok_or_else(|| RepoError::database("the new user was not found"))
    }

    /// Marks a user deleted, and in the same transaction takes their relations out of the
    /// other users' counters (deleted users count nowhere). Returns false when there is no
    /// such (undeleted) user.
    pub async fn delete_user(&self, id: i64) -> Result<bool, RepoError> {
        let db = self.connection();
        let backend = self.backend();
        let txn = match backend {
            DbBackend::Sqlite => {
                db.begin_with_options(sea_orm::TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
            }
            _ => db.begin().await?,
        };
        let sql = |text: &str| sea_orm::Statement::from_sql_and_values(backend, placeholders(backend, text), [id.into()]);
        if backend == DbBackend::Postgres {
            // The same lock order as every action (user ids ascending), so no action waits for
            // this transaction while it waits for the action.
            txn.execute_raw(sql(
                "SELECT id FROM users WHERE id = $1 OR id IN (SELECT user_low FROM connections WHERE user_high = $1) \
                 OR id IN (SELECT user_high FROM connections WHERE user_low = $1) \
                 OR id IN (SELECT from_user_id FROM connection_requests WHERE to_user_id = $1) \
                 OR id IN (SELECT to_user_id FROM connection_requests WHERE from_user_id = $1) \
                 OR id IN (SELECT followed_id FROM follows WHERE follower_id = $1) \
                 OR id IN (SELECT follower_id FROM follows WHERE followed_id = $1) \
                 ORDER BY id FOR NO KEY UPDATE",
            ))
            .await?;
        }
        let deleted = txn.execute_raw(sql("UPDATE users SET deleted = TRUE WHERE id = $1 AND deleted = FALSE")).await?;
        if deleted.rows_affected() != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        for update in [
            "UPDATE users SET connections_counter = connections_counter - 1 WHERE deleted = FALSE AND \
             (id IN (SELECT user_low FROM connections WHERE user_high = $1) OR id IN (SELECT user_high FROM connections WHERE user_low = $1))",
            "UPDATE users SET connection_requests_sent_counter = connection_requests_sent_counter - 1 WHERE deleted = FALSE AND \
             id IN (SELECT from_user_id FROM connection_requests WHERE to_user_id = $1)",
            "UPDATE users SET connection_requests_received_counter = connection_requests_received_counter - 1 WHERE deleted = FALSE AND \
             id IN (SELECT to_user_id FROM connection_requests WHERE from_user_id = $1 AND rejected IS NULL)",
            // Follow mode: the user's follows leave every counter, then the table itself, so
            // that the lists read their indexes alone (no `users` row for the rows they skip).
            "UPDATE users SET followers_counter = followers_counter - 1 WHERE deleted = FALSE AND \
             id IN (SELECT followed_id FROM follows WHERE follower_id = $1)",
            "UPDATE users SET followings_counter = followings_counter - 1 WHERE deleted = FALSE AND \
             id IN (SELECT follower_id FROM follows WHERE followed_id = $1)",
            "DELETE FROM follows WHERE follower_id = $1 OR followed_id = $1",
        ] {
            txn.execute_raw(sql(update)).await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, RepoError> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(self.connection())
            .await?)
    }

    pub async fn count_users(&self) -> Result<u64, RepoError> {
        Ok(users::Entity::find().count(self.connection()).await?)
    }
}

/// Operators' SQL is written with PostgreSQL's `$1`; SQLite reads it as `?1`.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

