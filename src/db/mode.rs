//! The community's mode, as SelfCommunity's two preferences set it: friendship (connections
//! enabled, follows disabled), follow (follows enabled) or neither. Read by every feature whose operations depend on it, from
//! one cache per process.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};

use super::connection::Repo;
use super::entities::preferences;
use super::error::RepoError;
use super::rows::{self, Row};
use super::sqlite;
pub use crate::domain::users::Mode;

/// The preferences that decide the community mode.
pub const FOLLOW_ENABLED: (&str, &str) = ("configurations", "follow_enabled");
pub const CONNECTION_ENABLED: (&str, &str) = ("configurations", "connection_enabled");

/// How long an instance trusts the community mode it read: the contract lets a preference
/// change take up to a second to reach every instance sharing the database.
pub const MODE_CACHE_TTL: std::time::Duration = std::time::Duration::from_millis(500);

/// The mode as last read, shared by the features of one process.
#[derive(Clone, Debug)]
pub struct CommunityMode {
    repo: Repo,
    /// The last reading and when it was made.
    mode: Arc<Mutex<Option<(Instant, Mode)>>>,
}

impl CommunityMode {
    pub fn new(repo: Repo) -> Self {
        CommunityMode { repo, mode: Default::default() }
    }

    /// Friendship mode: follows disabled and connections enabled.
    pub async fn friendship(&self) -> Result<bool, RepoError> {
        Ok(self.current().await? == Mode::Friendship)
    }

    /// The mode now. Read at most every `MODE_CACHE_TTL`, so that a change is seen within a
    /// second everywhere.
    pub async fn current(&self) -> Result<Mode, RepoError> {
        let cached = *self.mode.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((read_at, mode)) = cached {
            if read_at.elapsed() < MODE_CACHE_TTL {
                return Ok(mode);
            }
        }
        let read_at = Instant::now();
        let values = self.repo.preference_values(&[FOLLOW_ENABLED, CONNECTION_ENABLED]).await?;
        let flag = |i: usize, default: bool| {
            values.get(i).cloned().flatten().and_then(|v| serde_json::from_str::<bool>(&v).ok()).unwrap_or(default)
        };
        let mode = Mode::from_flags(flag(0, false), flag(1, true));
        *self.mode.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((read_at, mode));
        Ok(mode)
    }
}

/// The values of the preferences named `(section, name)`, those that exist.
fn values_query(names: &[(&str, &str)]) -> SelectStatement {
    use preferences::Column as C;
    let mut any = sea_orm::Condition::any();
    for (section, name) in names {
        any = any.add(Expr::col(C::Section).eq(*section).and(Expr::col(C::Name).eq(*name)));
    }
    Query::select().columns([C::Section, C::Name, C::Value]).from(preferences::Entity).cond_where(any).to_owned()
}

impl Repo {
    /// The stored JSON text of each of the preferences named, `None` where there is none.
    pub async fn preference_values(&self, names: &[(&'static str, &'static str)]) -> Result<Vec<Option<String>>, RepoError> {
        let query = values_query(names);
        let found: Vec<(String, String, String)> = match self.sqlite() {
            Some(engine) => {
                engine.read(move |conn| sqlite::query(conn, &query, |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))).await?
            }
            None => self
                .connection()
                .query_all_raw(rows::postgres(&query))
                .await?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
                .collect::<Result<_, RepoError>>()?,
        };
        Ok(names
            .iter()
            .map(|(section, name)| {
                found.iter().find(|(s, n, _)| s == section && n == name).map(|(_, _, v)| v.clone())
            })
            .collect())
    }
}
