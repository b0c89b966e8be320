//! The outbox, feature-free: a change's event appended with its notification and deliveries in
//! the change's own transaction ([`append`]), PostgreSQL's relay that numbers events in commit
//! order ([`relay`]), the numbered reads that live updates and webhooks use ([`events`]), the
//! deliveries' states ([`deliveries`]), and an event's JSON payload ([`payload`]).

pub mod append;
pub mod deliveries;
pub mod events;
pub mod payload;
pub mod relay;
