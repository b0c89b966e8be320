//! "People you may know" (`GET /api/v2/suggestion/user/`), one operation ranked by the
//! community's mode: friendship mode's from the caller's connections ([`friendship`]), follow
//! mode's from the caller's followings ([`follow`]); the operation ([`api`]) and the choice by
//! mode ([`rules`]). Both read a bounded part of the graph, then page it alike ([`page`]).

pub mod api;
pub mod follow;
pub mod friendship;
mod page;
pub mod rules;
