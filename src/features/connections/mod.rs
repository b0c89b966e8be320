//! Connections (friendship): the state machine's actions and the status reads ([`api`]), the
//! lists and suggestions ([`lists_api`]), the rules around them ([`rules`]: the community mode,
//! who may act on whom, the checks' order), and their queries: each action's change with its
//! event ([`actions`]), the lists ([`lists`]) and "people you may know" ([`suggestions`]).

pub mod actions;
pub mod api;
pub mod lists;
pub mod lists_api;
pub mod rules;
pub mod suggestions;
pub mod schemas;
