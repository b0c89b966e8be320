//! The database layer, feature-free: connecting and migrating ([`connection`]), SQLite's writer
//! and readers ([`sqlite`]), the schema ([`migration`], [`entities`]), statements built once
//! ([`shapes`]) and rows read alike on both engines ([`rows`]), the paging machinery
//! ([`paging`]), and the statements several features share: users' existence ([`users`]),
//! a pair's relation and hiding ([`pairs`]), follows between users ([`follows`]), what
//! `connection_status` shows in each mode ([`statuses`]), the community's mode ([`mode`]).
//!
//! Features add their own queries to [`connection::Repo`] in their own folders.

pub mod connection;
pub mod entities;
pub mod error;
pub mod follows;
pub mod migration;
pub mod mode;
pub mod paging;
pub mod pairs;
mod preference_defaults;
pub mod rows;
#[cfg(test)]
pub mod plans;
pub mod seed;
pub mod shapes;
pub mod sqlite;
pub mod statuses;
pub mod users;
