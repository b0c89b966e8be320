//! What both modes' suggestions do once the bounded part of the graph is read: rank the
//! candidates (most shared first, then by id), keep those the mode's eligibility statement
//! keeps (checked a page's worth of ids at a time), count them, and read the page's users.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::SelectStatement;

use crate::db::entities::users::Model as User;
use crate::db::error::RepoError;
use crate::db::paging::Segments;
use crate::db::rows;
use crate::db::shapes::{self, Arg, LazyShape};
use crate::db::users::{PAGE_IDS, users_by_ids};
use crate::domain::paging::Page;

/// The page at `offset` of the candidates in `shared` (each with how many of the caller's
/// relations it shares) that `eligible` keeps: `eligible_query(caller, ids)` selects the ids
/// among `ids` that may be suggested to the caller, built once into `eligible`.
pub(super) async fn ranked_page(
    engine: &impl Segments,
    caller: i64,
    shared: HashMap<i64, u32>,
    (eligible, eligible_query): (&'static LazyShape, fn(i64, &[i64]) -> SelectStatement),
    limit: u64,
    offset: u64,
) -> Result<Page<User>, RepoError> {
    let mut ranked: Vec<(u32, i64)> = shared.into_iter().map(|(id, n)| (n, id)).collect();
    ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let eligible_shape = eligible.get(|| {
        let sentinels: Vec<i64> = (1..=PAGE_IDS).map(shapes::int).collect();
        eligible_query(shapes::int(0), &sentinels)
    });
    let mut suggested = Vec::with_capacity(ranked.len());
    for chunk in ranked.chunks(PAGE_IDS) {
        let mut args = vec![Arg::Int(caller)];
        args.extend((0..PAGE_IDS).map(|i| Arg::Int(chunk.get(i).map_or(0, |(_, id)| *id))));
        let eligible: HashSet<i64> = engine.ids((eligible_shape, args)).await?.into_iter().collect();
        suggested.extend(chunk.iter().map(|(_, id)| *id).filter(|id| eligible.contains(id)));
    }
    let count = suggested.len() as u64;
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(PAGE_IDS).min(PAGE_IDS);
    let page: Vec<i64> = suggested.into_iter().skip(skip).take(take).collect();
    if page.is_empty() {
        return Ok(Page { count, items: Vec::new() });
    }
    let mut found: HashMap<i64, User> =
        engine.rows(users_by_ids(&page), |r| rows::user_at(r, 0)).await?.into_iter().map(|user| (user.id, user)).collect();
    Ok(Page { count, items: page.iter().filter_map(|id| found.remove(id)).collect() })
}
