//! HTTP tests of the real server. One binary (zero2prod's layout): one link, many tests.

mod actions;
mod auth;
mod concurrency;
mod cors;
mod counters;
mod docs_drift;
mod follows;
mod framework_errors;
mod harness;
mod hidden;
mod live;
mod isolation;
mod lists;
mod overload;
mod request_connection;
mod schema_invariants;
mod served_contract;
mod settings;
mod spec_drift;
mod status_reads;
mod suggestions;
mod users;
mod webhooks;
