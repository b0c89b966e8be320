//! The state machine's page (`docs/connections.md`), made from `crate::domain` itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::domain::{self, Action, Relation};

fn status_word(status: Option<domain::ConnectionStatus>) -> String {
    status.map_or("`null`".to_owned(), |s| format!("`{}`", s.as_str()))
}

fn relation_label(relation: Relation) -> &'static str {
    match relation {
        Relation::None => "S0 nothing",
        Relation::SentPending => "S1 A asked B, pending",
        Relation::SentRejected => "S2 A asked B, B rejected",
        Relation::ReceivedPending => "S3 B asked A, pending",
        Relation::ReceivedRejected => "S4 B asked A, A rejected",
        Relation::Connected => "S5 connected",
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Request => "request",
        Action::Accept => "accept",
        Action::Reject => "reject",
        Action::CancelReject => "cancel_reject",
        Action::CancelRequest => "cancel_request",
        Action::Remove => "remove",
        Action::MarkSeen => "mark_seen",
    }
}

/// The state machine's page, made from `domain::apply` itself: it cannot disagree with the code.
pub(super) fn connections_page() -> String {
    let mut out = String::new();
    out.push_str("---\nsidebar_label: Connections\nsidebar_position: 1\ntitle: The connection state machine\n---\n\n");
    out.push_str("<!-- Generated from the state machine (src/domain) by `connections-api docs`: do not edit. -->\n\n");
    out.push_str("Between a caller A and another user B there is at most one relation. Every action is \
idempotent, runs in one transaction, and answers A's `connection_status` afterwards.\n\n");
    out.push_str("## States\n\n| State | A sees | B sees |\n|---|---|---|\n");
    for relation in Relation::ALL {
        writeln!(
            out,
            "| {} | {} | {} |",
            relation_label(relation),
            status_word(relation.status()),
            status_word(relation.reversed().status())
        )
        .ok();
    }
    out.push_str("\n## Actions\n\nWhat each action by A does: the next state and A's answer, or the `409` code.\n\n");
    let header: Vec<&str> = Relation::ALL.iter().map(|r| relation_label(*r).split(' ').next().unwrap_or("")).collect();
    writeln!(out, "| action | {} |", header.join(" | ")).ok();
    writeln!(out, "|---|{}", "---|".repeat(Relation::ALL.len())).ok();
    for action in Action::ALL {
        let cells: Vec<String> = Relation::ALL
            .iter()
            .map(|from| match domain::apply(*from, action) {
                Ok(_) if action == Action::MarkSeen => "`204`, sets `viewed` once".to_owned(),
                Ok(t) if t.changed() => {
                    format!("→ {} {}", relation_label(t.to).split(' ').next().unwrap_or(""), status_word(t.status()))
                }
                Ok(t) => status_word(t.status()),
                Err(conflict) => format!("409 `{}`", conflict.code()),
            })
            .collect();
        writeln!(out, "| {} | {} |", action_name(action), cells.join(" | ")).ok();
    }
    out.push_str("\n## Diagram\n\nThe changes, as A's actions (B's are the same seen from the other side).\n\n```mermaid\nstateDiagram-v2\n");
    for from in Relation::ALL {
        for action in Action::ALL {
            if let Ok(t) = domain::apply(from, action) {
                if t.changed() {
                    let id = |r: Relation| relation_label(r).split(' ').next().unwrap_or("").to_owned();
                    writeln!(out, "    {} --> {}: {}", id(from), id(t.to), action_name(action)).ok();
                }
            }
        }
    }
    out.push_str("```\n\n");
    for relation in Relation::ALL {
        writeln!(out, "- **{}**", relation_label(relation)).ok();
    }
    out.push_str("\nEach change publishes the event SelfCommunity sends as a webhook:\n\n| action | event |\n|---|---|\n");
    let mut events = BTreeMap::new();
    for from in Relation::ALL {
        for action in Action::ALL {
            if let Ok(domain::Transition { event: Some(event), .. }) = domain::apply(from, action) {
                events.entry(action_name(action)).or_insert_with(Vec::new).push(event.name());
            }
        }
    }
    for (action, mut names) in events {
        names.sort_unstable();
        names.dedup();
        writeln!(out, "| {action} | {} |", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")).ok();
    }
    out
}

