//! Users: a user and their counters, the caller's own user, token verification, community
//! preferences and features ([`api`]), each user's notification settings
//! ([`settings_api`]), their rules ([`rules`]) and queries: users and the operator's commands
//! ([`queries`]), preferences ([`preferences`]), features ([`features`]), settings
//! ([`settings`]).

pub mod api;
pub mod features;
pub mod preferences;
pub mod queries;
pub mod rules;
pub mod settings;
pub mod settings_api;
pub mod schemas;
