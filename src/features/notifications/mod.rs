//! The notification feed in SelfCommunity's shapes: the operations ([`api`]), their rules
//! ([`rules`]) and queries ([`queries`]). The feed's rows are written by the outbox, with each
//! change's event (`outbox/append.rs`).

pub mod api;
pub mod queries;
pub mod rules;
