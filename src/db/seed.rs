//! Bulk loading for benchmarks and demos: users, connections, pending requests and follows
//! inserted in large batches (not through HTTP), each relation as its pair's row.

use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder, TransactionTrait};

use super::entities::{follows, relations, users};
use super::connection::Repo;
use super::error::RepoError;

const BATCH: usize = 1000;

/// What `seed` inserts (and, once done, what it inserted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seeding {
    /// Users `user1`, `user2`, ...: the relations and follows below are among them.
    pub users: u64,
    pub connections: u64,
    pub requests: u64,
    /// Follows among users `2..=users`, each pair once, in either direction ([`follow`]).
    pub follows: u64,
    /// Users `2..=n+1` follow user 1, a celebrity (more users are made when `users` is fewer).
    pub celebrity_followers: u64,
}

/// The `k`-th pair of a deterministic walk over unordered pairs of users `1..=n`: user `a` with
/// the user `d` places further on, `d` growing once every user had a turn. Distinct for
/// `k < n * (n - 1) / 2`, never a user with themselves.
fn pair(k: u64, n: u64) -> (i64, i64) {
    let a = k % n;
    let d = k / n + 1;
    let b = (a + d) % n;
    let (a, b) = (a as i64 + 1, b as i64 + 1);
    if a < b { (a, b) } else { (b, a) }
}

/// The `k`-th follow among users `2..=n`: the unordered pairs of [`pair`] among them, each once,
/// in either direction by turns.
fn follow(k: u64, n: u64) -> (i64, i64) {
    let (a, b) = pair(k, n.saturating_sub(1));
    let (a, b) = (a + 1, b + 1);
    if k % 2 == 0 { (a, b) } else { (b, a) }
}

impl Repo {
    /// Fills an empty database as `plan` says (see [`Seeding`]), the counters set from the rows.
    pub async fn seed(&self, plan: Seeding) -> Result<Seeding, RepoError> {
        let Seeding { users, connections, requests, follows, celebrity_followers } = plan;
        if self.count_users().await? > 0 {
            return Err(RepoError::Invalid("seed needs an empty database".into()));
        }
        let max_pairs = users.saturating_mul(users.saturating_sub(1)) / 4;
        if connections + requests > max_pairs {
            return Err(RepoError::Invalid(format!(
                "{users} users make room for {max_pairs} distinct relations, not {}",
                connections + requests
            )));
        }
        let max_follows = users.saturating_sub(1).saturating_mul(users.saturating_sub(2)) / 4;
        if follows > max_follows {
            return Err(RepoError::Invalid(format!("{users} users make room for {max_follows} distinct follows, not {follows}")));
        }
        let made = users.max(if celebrity_followers > 0 { celebrity_followers + 1 } else { 0 });
        let now = Utc::now();
        let txn = self.connection().begin().await?;
        let ids: Vec<u64> = (1..=made).collect();
        for chunk in ids.chunks(BATCH) {
            // Ids come from the database: 1..=made in a database that never had a user.
            users::Entity::insert_many(chunk.iter().map(|n| users::ActiveModel {
                username: Set(format!("user{n}")),
                real_name: Set(format!("User {n}")),
                avatar: Set(None),
                ext_id: Set(None),
                date_joined: Set(now),
                deleted: Set(false),
                ..Default::default()
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let last = users::Entity::find()
            .order_by_desc(users::Column::Id)
            .one(&txn)
            .await?
            .map_or(0, |u| u.id);
        if last != made as i64 {
            return Err(RepoError::Invalid(format!("user ids did not start at 1 (last is {last})")));
        }
        let all: Vec<u64> = (0..connections + requests).collect();
        for chunk in all.chunks(BATCH) {
            let pairs: Vec<(u64, (i64, i64))> = chunk.iter().map(|k| (*k, pair(*k, users))).collect();
            relations::Entity::insert_many(pairs.iter().map(|(k, (low, high))| {
                let created = Set(Some(now - Duration::seconds(*k as i64)));
                if *k < connections {
                    relations::ActiveModel {
                        user_low: Set(*low),
                        user_high: Set(*high),
                        kind: Set(relations::CONNECTION.to_owned()),
                        created,
                        ..Default::default()
                    }
                } else {
                    // Half of them each way; request ids 1, 2, ... in a database that never had one.
                    let (from, to) = if k % 2 == 0 { (*low, *high) } else { (*high, *low) };
                    relations::ActiveModel {
                        user_low: Set(*low),
                        user_high: Set(*high),
                        kind: Set(relations::REQUEST.to_owned()),
                        request_id: Set(Some((*k - connections) as i64 + 1)),
                        from_user_id: Set(Some(from)),
                        to_user_id: Set(Some(to)),
                        created,
                        ..Default::default()
                    }
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let fans: Vec<u64> = (0..celebrity_followers).collect();
        for chunk in fans.chunks(BATCH) {
            follows::Entity::insert_many(chunk.iter().map(|k| follows::ActiveModel {
                follower_id: Set(*k as i64 + 2),
                followed_id: Set(1),
                created: Set(now - Duration::seconds(*k as i64)),
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let all: Vec<u64> = (0..follows).collect();
        for chunk in all.chunks(BATCH) {
            follows::Entity::insert_many(chunk.iter().map(|k| {
                let (follower, followed) = follow(*k, users);
                follows::ActiveModel { follower_id: Set(follower), followed_id: Set(followed), created: Set(now - Duration::seconds(*k as i64)) }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        // The counters, as the rows count them.
        {
            use sea_orm::ConnectionTrait;
            if self.backend() == sea_orm::DbBackend::Postgres {
                // A bulk load is not a request: no request's time limit; and the planner needs
                // the new rows' statistics, or it counts a million follows per user.
                txn.execute_unprepared("SET LOCAL statement_timeout = 0").await?;
                txn.execute_unprepared("ANALYZE users, follows, relations").await?;
            }
            txn.execute_unprepared(&super::migration::recount()).await?;
            // The request ids given here are the sequence's.
            txn.execute_unprepared(&super::migration::request_ids_past(self.backend(), requests)).await?;
        }
        txn.commit().await?;
        if self.backend() == sea_orm::DbBackend::Sqlite {
            // A bulk load leaves a write-ahead log as large as the data; fold it into the
            // database now rather than in the first commit that comes after.
            use sea_orm::ConnectionTrait;
            self.connection().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(Seeding { users: made, ..plan })
    }
}

#[cfg(test)]
mod tests {
    use super::{follow, pair};
    use std::collections::HashSet;

    #[test]
    fn pairs_are_distinct_and_never_self() {
        let n = 50;
        let mut seen = HashSet::new();
        for k in 0..n * (n - 1) / 4 {
            let (a, b) = pair(k, n);
            assert!(a < b && a >= 1 && b as u64 <= n, "{k}: {a} {b}");
            assert!(seen.insert((a, b)), "{k}: ({a}, {b}) twice");
        }
    }

    #[test]
    fn follows_are_distinct_never_self_and_leave_user_1_alone() {
        let n = 40;
        let mut seen = HashSet::new();
        for k in 0..(n - 1) * (n - 2) / 4 {
            let (a, b) = follow(k, n);
            assert!(a != b && a >= 2 && b >= 2 && a as u64 <= n && b as u64 <= n, "{k}: {a} {b}");
            assert!(seen.insert((a.min(b), a.max(b))), "{k}: ({a}, {b}) twice, in either direction");
        }
    }
}
