//! A SelfCommunity-compatible connections API server (friendship and follow modes).
//!
//! Layers, lowest first; a module imports only from layers below its own, and a feature never
//! from another feature (`tests/architecture.rs` checks it):
//!
//! 1. [`domain`]: the state machine, users, pages, the rules' error (pure).
//! 2. [`db`]: connecting, SQLite's writer and readers, the schema, statement shapes, rows, and
//!    the statements several features share.
//! 3. [`outbox`]: a change's event with its notification and deliveries, the relay, numbered
//!    reads.
//! 4. [`http`]: errors, the security scheme, pagination, rate limits, shared schemas, metrics.
//! 5. [`features`]: one folder per feature, each with its operations, rules and queries.
//! 6. [`server`] (the HTTP server and the spec) and [`docs`] (the docs site).
//! 7. [`app`]: the configuration and `build(Config)`, which `main` and the tests call.

pub mod app;
pub mod db;
pub mod docs;
pub mod domain;
pub mod features;
pub mod http;
pub mod outbox;
pub mod server;
