//! What `connection_status` shows, by the community's mode: in follow mode `followed` (the
//! caller follows the user) or `null`; otherwise the friendship relation's status. Each mode
//! shows only its own relations; both are kept across a change of mode.

use super::connection::Repo;
use super::error::RepoError;
use super::mode::Mode;
use crate::domain::ConnectionStatus;

/// Follow mode's status: `followed` when the caller follows the user.
pub fn follow_status(follows: bool) -> Option<ConnectionStatus> {
    follows.then_some(ConnectionStatus::Followed)
}

impl Repo {
    /// `caller`'s status with `other` in `mode`, in one statement that also checks both users
    /// (`CallerNotFound`, `UserNotFound`).
    pub async fn shown_status(&self, caller: i64, other: i64, mode: Mode) -> Result<Option<ConnectionStatus>, RepoError> {
        match mode {
            Mode::Follow => {
                let state = self.follow_state(caller, other).await?;
                state.require_users()?;
                Ok(follow_status(state.follows))
            }
            Mode::Friendship | Mode::Neither => Ok(self.pair(caller, other).await?.status()),
        }
    }

    /// `caller`'s status in `mode` with each of `ids` that exists and is not deleted (oneself
    /// included, as `null`), sorted by id; `CallerNotFound` when the caller is gone.
    pub async fn shown_statuses(&self, caller: i64, ids: &[i64], mode: Mode) -> Result<Vec<(i64, Option<ConnectionStatus>)>, RepoError> {
        Ok(match mode {
            Mode::Follow => self.follow_statuses(caller, ids).await?.into_iter().map(|(id, follows)| (id, follow_status(follows))).collect(),
            Mode::Friendship | Mode::Neither => {
                self.statuses(caller, ids).await?.into_iter().map(|(id, relation)| (id, relation.status())).collect()
            }
        })
    }
}
