//! Connections (friendship): the state machine's actions and the status reads ([`api`]), the
//! lists ([`lists_api`]), the rules around them ([`rules`]: the community mode, who may act on
//! whom, the checks' order), and their queries: each action's change with its event
//! ([`actions`]) and the lists ([`lists`]).

pub mod actions;
pub mod api;
pub mod lists;
pub mod lists_api;
pub mod rules;
pub mod schemas;
