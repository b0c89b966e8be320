//! Follow mode, SelfCommunity's default: one-way follows, no request and no acceptance. The
//! toggle, the two checks and the two lists ([`api`]), their rules (the mode, oneself, the
//! order of the checks: [`rules`]) and their queries on both engines ([`queries`]). What other
//! features show of follows (`connection_status` `followed`, the counters) reads
//! `db/follows.rs` and `db/statuses.rs`.

pub mod api;
pub mod queries;
pub mod rules;
