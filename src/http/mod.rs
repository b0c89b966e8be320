//! The HTTP kit, feature-free: the error body and catalogue ([`error`], [`error_sets`]), the
//! security scheme and the state every operation shares ([`kit`]), tokens ([`tokens`]), paging
//! links ([`pagination`]), rate limits and caps ([`rate_limit`]), the schemas several features
//! answer with ([`types`], [`event_schema`]), the tags ([`tags`]) and the metrics
//! ([`metrics`]).

pub mod error;
pub mod error_sets;
pub mod event_schema;
pub mod kit;
pub mod metrics;
pub mod pagination;
pub mod rate_limit;
pub mod tags;
pub mod tokens;
pub mod types;
