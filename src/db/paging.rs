//! Shared paging machinery: a page of rows with its count in one hand-off, and the
//! conversions page sizes and counts need.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::SelectStatement;

use super::connection::Repo;
use super::error::RepoError;
use super::rows::{self, Row};
use super::shapes::{Arg, Shape};
use super::sqlite;
use crate::domain::paging::Page;

/// A statement built once and the arguments of this call.
pub type Bound = (&'static Shape, Vec<Arg>);

/// The steps of a page planned in code (which statement next, given what the previous ones
/// answered), on either engine: SQLite's on a reader's own connection, every step ready at once
/// (see [`ready`]); PostgreSQL's on the pool. (Used with concrete engines only, whose futures'
/// auto traits the compiler sees.)
#[allow(async_fn_in_trait)]
pub trait Segments {
    /// Each statement is a round trip to another process (PostgreSQL): a plan folds the steps it
    /// can into one statement. SQLite's statements are calls into this process: a plan keeps its
    /// steps apart, each the simplest for SQLite's planner.
    const STATEMENTS_ARE_ROUND_TRIPS: bool;
    /// Every row, mapped.
    async fn rows<T>(&self, bound: Bound, map: impl Fn(&dyn Row) -> Result<T, RepoError>) -> Result<Vec<T>, RepoError>;
    /// The first column of every row, an id.
    async fn ids(&self, bound: Bound) -> Result<Vec<i64>, RepoError>;
    /// The first row, mapped, if any.
    async fn one<T>(&self, bound: Bound, map: impl Fn(&dyn Row) -> Result<T, RepoError>) -> Result<Option<T>, RepoError> {
        Ok(self.rows(bound, map).await?.into_iter().next())
    }
}

impl Segments for rusqlite::Connection {
    const STATEMENTS_ARE_ROUND_TRIPS: bool = false;
    async fn rows<T>(&self, (shape, args): Bound, map: impl Fn(&dyn Row) -> Result<T, RepoError>) -> Result<Vec<T>, RepoError> {
        sqlite::query_shape(self, shape, &args, |r| map(r))
    }
    async fn ids(&self, (shape, args): Bound) -> Result<Vec<i64>, RepoError> {
        sqlite::query_shape(self, shape, &args, |r| r.int(0))
    }
}

impl Segments for sea_orm::DatabaseConnection {
    const STATEMENTS_ARE_ROUND_TRIPS: bool = true;
    async fn rows<T>(&self, (shape, args): Bound, map: impl Fn(&dyn Row) -> Result<T, RepoError>) -> Result<Vec<T>, RepoError> {
        self.query_all_raw(shape.postgres(&args)).await?.iter().map(|r| map(r)).collect()
    }
    async fn ids(&self, (shape, args): Bound) -> Result<Vec<i64>, RepoError> {
        self.query_all_raw(shape.postgres(&args)).await?.iter().map(|r| r.int(0)).collect()
    }
}

/// A page of a list whose mutual entries come first (`mutual`, in order), then the others from
/// the owner's list in order: the page's ids, from `skip`, at most `take`. The others are read by
/// `read_prefix(n)` (the first `n` of the owner's list), only as far as the page needs: its start
/// among the others, its size, and the mutual ones to skip on the way. `mutual_only`: no others.
pub async fn mutual_first_page<F, Fut>(mutual: &[i64], skip: usize, take: usize, mutual_only: bool, read_prefix: F) -> Result<Vec<i64>, RepoError>
where
    F: FnOnce(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<i64>, RepoError>>,
{
    let mut page: Vec<i64> = mutual.iter().copied().skip(skip).take(take).collect();
    if !mutual_only && page.len() < take {
        let start = skip.saturating_sub(mutual.len());
        let need = take - page.len();
        let read = start.saturating_add(need).saturating_add(mutual.len());
        let shared: std::collections::HashSet<i64> = mutual.iter().copied().collect();
        let listed = read_prefix(read as u64).await?;
        page.extend(listed.into_iter().filter(|id| !shared.contains(id)).skip(start).take(need));
    }
    Ok(page)
}

/// A count as the database answers it, as a page's `count`.
pub fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A page size or offset as a statement's argument.
pub fn as_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Runs a future that never waits (SQLite's steps, on the reader's own thread) to its end.
pub fn ready<T>(future: impl std::future::Future<Output = Result<T, RepoError>>) -> Result<T, RepoError> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => Err(RepoError::database("an SQLite step waited")),
    }
}

impl Repo {
    /// The rows of `page`, mapped by `map`, and the number `count` answers, in one hand-off
    /// (the public lists: preferences, features).
    pub async fn page_with_count<T: Send + 'static>(
        &self,
        page: SelectStatement,
        count: SelectStatement,
        map: fn(&dyn Row) -> Result<T, RepoError>,
    ) -> Result<Page<T>, RepoError> {
        let (items, count) = match self.sqlite() {
            Some(engine) => {
                engine
                    .read(move |conn| {
                        let items = sqlite::query(conn, &page, |r| map(r))?;
                        let count = sqlite::query_one(conn, &count, |r| r.int(0))?.unwrap_or(0);
                        Ok((items, count))
                    })
                    .await?
            }
            None => {
                let db = self.connection();
                let items = db.query_all_raw(rows::postgres(&page)).await?.iter().map(|r| map(r)).collect::<Result<_, _>>()?;
                let count = db.query_one_raw(rows::postgres(&count)).await?.map(|r| r.int(0)).transpose()?.unwrap_or(0);
                (items, count)
            }
        };
        Ok(Page { count: self::count(count), items })
    }
}
