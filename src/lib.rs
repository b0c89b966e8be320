//! A SelfCommunity-compatible connections (friendship) API server.
//!
//! Layers, outside in: [`server`] (HTTP plumbing) → [`api`] (operations, errors, spec) →
//! [`service`] (rules) → [`domain`] (the state machine) and [`repo`] (sea-orm, the schema).
//! [`config`] reads every setting once; [`app::build`] wires the layers from it (`main` and the
//! tests call it).

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod docs;
pub mod domain;
pub mod live;
pub mod metrics;
pub mod repo;
pub mod server;
pub mod service;
pub mod webhooks;
