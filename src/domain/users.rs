//! Users as every feature hands them out, and the caller a request acts for.

use chrono::{DateTime, Utc};

/// A user, as the service hands one out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub real_name: String,
    pub avatar: Option<String>,
    pub ext_id: Option<i64>,
    pub date_joined: DateTime<Utc>,
    pub counters: Counters,
    pub role: Option<Role>,
}

/// A user's role: staff (`admin`) may do what others may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        (text == "admin").then_some(Role::Admin)
    }
}

/// A user's counters, each equal to the `count` of the matching list: their connections, the
/// pending requests they received, the requests they sent, their followers and followings. Stored beside the user and updated in
/// the same transaction as every change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub connections: i64,
    pub requests_received: i64,
    pub requests_sent: i64,
    /// Follow mode: who follows the user, whom the user follows.
    pub followers: i64,
    pub followings: i64,
}

/// The user a request acts for: the id its token names. Whether they exist (and are not
/// deleted) is checked by the operation's first query, not before it: one statement less.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller(pub i64);

/// The community's mode, as SelfCommunity's two preferences decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `follow_enabled` false and `connection_enabled` true: friendships, by request.
    Friendship,
    /// `follow_enabled` true (it wins over `connection_enabled`): one-way follows.
    Follow,
    /// Neither: no relation can be made.
    Neither,
}

impl Mode {
    pub fn from_flags(follow_enabled: bool, connection_enabled: bool) -> Mode {
        match (follow_enabled, connection_enabled) {
            (true, _) => Mode::Follow,
            (false, true) => Mode::Friendship,
            (false, false) => Mode::Neither,
        }
    }
}
