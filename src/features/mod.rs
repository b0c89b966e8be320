//! The features, one folder each: its operations (poem-openapi), its rules and its queries
//! (both engines' paths side by side). A feature imports from the layers below (`http`,
//! `outbox`, `db`, `domain`), never from another feature.

pub mod connections;
pub mod follows;
pub mod hidden;
pub mod live;
pub mod notifications;
pub mod suggestions;
pub mod users;
pub mod webhooks;
