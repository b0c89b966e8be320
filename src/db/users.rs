//! Users as every feature reads them: whether one exists and is not deleted, in a statement
//! or as a condition inside another, and the entity turned into the domain's user.

use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::connection::Repo;
use super::entities::users;
use super::error::RepoError;
use super::rows;
use super::paging::Bound;
use super::shapes::{self, Arg, LazyShape, Shape};
use crate::domain::paging::MAX_PAGE_SIZE;
use super::sqlite;
use crate::domain::error::ServiceError;
use crate::domain::users::{Caller, Counters, Role, User};

/// `id` names a user who exists and is not deleted.
pub fn is_active(id: i64) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(users::Entity)
            .and_where(Expr::col(users::Column::Id).eq(id))
            .and_where(Expr::col(users::Column::Deleted).eq(false))
            .to_owned(),
    )
}

/// User `id`, if they exist and are not deleted.
fn active_user_query(id: i64) -> SelectStatement {
    let mut q = Query::select().from(users::Entity).to_owned();
    rows::select_user(&mut q, "users");
    q.and_where(Expr::col(users::Column::Id).eq(id)).and_where(Expr::col(users::Column::Deleted).eq(false)).to_owned()
}

static ACTIVE_USER: LazyShape = LazyShape::new();

/// The statement and argument that read user `id`, if active.
pub fn active_user(id: i64) -> (&'static Shape, [Arg; 1]) {
    (ACTIVE_USER.get(|| active_user_query(shapes::int(0))), [Arg::Int(id)])
}

/// Which of `ids` exist and are not deleted.
pub fn active_ids_query(ids: &[i64]) -> SelectStatement {
    Query::select()
        .column(users::Column::Id)
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Id).is_in(ids.iter().copied()))
        .and_where(Expr::col(users::Column::Deleted).eq(false))
        .to_owned()
}

static IS_ACTIVE: LazyShape = LazyShape::new();

/// One row, one column: is `id` a user who exists and is not deleted (a page's check of its
/// caller, as a step of a plan).
pub fn active_check(id: i64) -> Bound {
    (IS_ACTIVE.get(|| Query::select().expr(is_active(shapes::int(0))).to_owned()), vec![Arg::Int(id)])
}

/// The most users one page shows.
pub const PAGE_IDS: usize = MAX_PAGE_SIZE as usize;

static USERS_BY_IDS: LazyShape = LazyShape::new();

/// The users `ids` (a page's, at most [`PAGE_IDS`]), in no order, as [`rows::user_at`] reads
/// them: one statement built once, whatever the page's size (unused places hold 0, no user's
/// id).
pub fn users_by_ids(ids: &[i64]) -> Bound {
    let shape = USERS_BY_IDS.get(|| {
        let sentinels: Vec<i64> = (0..PAGE_IDS).map(shapes::int).collect();
        let mut q = Query::select();
        rows::select_user(&mut q, "u");
        q.from_as(users::Entity, sea_orm::sea_query::Alias::new("u"))
            .and_where(Expr::col((sea_orm::sea_query::Alias::new("u"), users::Column::Id)).is_in(sentinels))
            .to_owned()
    });
    (shape, (0..PAGE_IDS).map(|i| Arg::Int(ids.get(i).copied().unwrap_or(0))).collect())
}

impl Repo {
    /// The caller's own user, as every feature's rules check it first: `CallerNotFound`
    /// (`401`) when the token's user does not exist or is deleted.
    pub async fn caller(&self, caller: Caller) -> Result<User, ServiceError> {
        self.find_active_user(caller.0).await?.map(User::from).ok_or(ServiceError::CallerNotFound)
    }

    /// A user who exists and is not deleted.
    pub async fn find_active_user(&self, id: i64) -> Result<Option<users::Model>, RepoError> {
        match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let (shape, args) = active_user(id);
                        sqlite::query_shape_one(conn, shape, &args, |r| rows::user_at(r, 0))
                    })
                    .await
            }
            None => self
                .connection()
                .query_one_raw({
                    let (shape, args) = active_user(id);
                    shape.postgres(&args)
                })
                .await?
                .map(|r| rows::user_at(&r, 0))
                .transpose(),
        }
    }

    /// Which of `ids` are deleted users.
    pub async fn deleted_among(&self, ids: &[i64]) -> Result<Vec<i64>, RepoError> {
        Ok(users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Id.is_in(ids.iter().copied()))
            .filter(users::Column::Deleted.eq(true))
            .into_tuple()
            .all(self.connection())
            .await?)
    }
}

impl From<users::Model> for User {
    fn from(user: users::Model) -> Self {
        User {
            id: user.id,
            username: user.username,
            real_name: user.real_name,
            avatar: user.avatar,
            ext_id: user.ext_id,
            date_joined: user.date_joined,
            counters: Counters {
                connections: user.connections_counter,
                requests_received: user.connection_requests_received_counter,
                requests_sent: user.connection_requests_sent_counter,
                followers: user.followers_counter,
                followings: user.followings_counter,
            },
            role: user.role.as_deref().and_then(Role::parse),
        }
    }
}
