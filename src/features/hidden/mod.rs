//! Hidden users ("blocked" in SelfCommunity's React UI): the toggle, the two checks and the
//! hider's list ([`api`]), their rules ([`rules`]) and queries ([`queries`]). The actions that
//! create or restore a relation read "either hid the other" in their own statement
//! (`db/pairs.rs`).

pub mod api;
pub mod queries;
pub mod rules;
