//! The pure domain, no HTTP and no SQL: the contract's connection state machine (here), the
//! users every feature hands out ([`users`]), pages ([`paging`]) and the rules' error
//! ([`error`]).
//!
//! Every action, whichever endpoint fires it, goes through [`apply`]; the repository persists the
//! state it returns inside the transaction that read the previous one.

pub mod error;
pub mod paging;
pub mod users;

use std::fmt;

/// The relation between the caller (A) and another user (B), seen from A's side.
/// These are the rows S0 to S5 of the contract's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    /// S0: no relation.
    None,
    /// S1: A asked B, pending.
    SentPending,
    /// S2: A asked B, B rejected (A is not told).
    SentRejected,
    /// S3: B asked A, pending.
    ReceivedPending,
    /// S4: B asked A, A rejected.
    ReceivedRejected,
    /// S5: connected.
    Connected,
}

impl Relation {
    pub const ALL: [Relation; 6] = [
        Relation::None,
        Relation::SentPending,
        Relation::SentRejected,
        Relation::ReceivedPending,
        Relation::ReceivedRejected,
        Relation::Connected,
    ];

    /// What A is told about this relation. A rejection is silent for the requester and
    /// forgotten by the one who rejected, so S2 reads as pending and S4 as nothing.
    pub fn status(self) -> Option<ConnectionStatus> {
        match self {
            Relation::None | Relation::ReceivedRejected => None,
            Relation::SentPending | Relation::SentRejected => {
                Some(ConnectionStatus::SentConnectionRequest)
            }
            Relation::ReceivedPending => Some(ConnectionStatus::ReceivedConnectionRequest),
            Relation::Connected => Some(ConnectionStatus::Connected),
        }
    }

    /// What this relation adds to A's counters: connections, pending requests received,
    /// requests sent (pending or rejected: the sent list shows both).
    pub fn counts(self) -> Counts {
        match self {
            Relation::None | Relation::ReceivedRejected => Counts::default(),
            Relation::SentPending | Relation::SentRejected => Counts { sent: 1, ..Counts::default() },
            Relation::ReceivedPending => Counts { received: 1, ..Counts::default() },
            Relation::Connected => Counts { connections: 1, ..Counts::default() },
        }
    }

    /// The same relation seen from B's side.
    pub fn reversed(self) -> Relation {
        match self {
            Relation::None => Relation::None,
            Relation::SentPending => Relation::ReceivedPending,
            Relation::SentRejected => Relation::ReceivedRejected,
            Relation::ReceivedPending => Relation::SentPending,
            Relation::ReceivedRejected => Relation::SentRejected,
            Relation::Connected => Relation::Connected,
        }
    }
}

/// A user's counters, or a change of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub connections: i64,
    pub received: i64,
    pub sent: i64,
    /// Follow mode's two: those who follow the user, those the user follows.
    pub followers: i64,
    pub followings: i64,
}

impl Counts {
    pub fn is_zero(self) -> bool {
        self == Counts::default()
    }
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, other: Counts) -> Counts {
        Counts {
            connections: self.connections - other.connections,
            received: self.received - other.received,
            sent: self.sent - other.sent,
            followers: self.followers - other.followers,
            followings: self.followings - other.followings,
        }
    }
}

/// The wire values of `connection_status`; `None` (JSON `null`) means no relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    Connected,
    SentConnectionRequest,
    ReceivedConnectionRequest,
    /// Follow mode: the caller follows the user.
    Followed,
}

impl ConnectionStatus {
    pub const ALL: [ConnectionStatus; 4] = [
        ConnectionStatus::Connected,
        ConnectionStatus::SentConnectionRequest,
        ConnectionStatus::ReceivedConnectionRequest,
        ConnectionStatus::Followed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::SentConnectionRequest => "sent_connection_request",
            ConnectionStatus::ReceivedConnectionRequest => "received_connection_request",
            ConnectionStatus::Followed => "followed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What A does to the relation with B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Request,
    Accept,
    Reject,
    CancelReject,
    CancelRequest,
    Remove,
    MarkSeen,
}

impl Action {
    /// The actions that create or restore a relation: refused while either user hid the
    /// other. The ones that undo a relation (reject, cancel_request, remove, mark_seen) are not.
    pub fn needs_both_visible(self) -> bool {
        matches!(self, Action::Request | Action::Accept | Action::CancelReject)
    }

    pub const ALL: [Action; 7] = [
        Action::Request,
        Action::Accept,
        Action::Reject,
        Action::CancelReject,
        Action::CancelRequest,
        Action::Remove,
        Action::MarkSeen,
    ];
}

/// Why an action has nothing to act on (`409` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Conflict {
    #[error("There is no pending connection request from this user.")]
    NoConnectionRequest,
    #[error("You are already connected to this user.")]
    AlreadyConnected,
    #[error("There is no rejected connection request from this user.")]
    NoRejectedRequest,
    #[error("You have not sent a connection request to this user.")]
    NoSentRequest,
    #[error("You are not connected to this user.")]
    NotConnected,
}

impl Conflict {
    pub fn code(self) -> &'static str {
        match self {
            Conflict::NoConnectionRequest => "no_connection_request",
            Conflict::AlreadyConnected => "already_connected",
            Conflict::NoRejectedRequest => "no_rejected_request",
            Conflict::NoSentRequest => "no_sent_request",
            Conflict::NotConnected => "not_connected",
        }
    }
}

/// The events SelfCommunity publishes as webhooks when a relation changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    ConnectionRequestCreated,
    ConnectionRequestRejected,
    ConnectionRequestRestored,
    ConnectionRequestCancelled,
    ConnectionCreated,
    ConnectionDeleted,
    /// Follow mode: `from_user` follows `to_user` now.
    ConnectionFollow,
    /// Follow mode: `from_user` no longer follows `to_user`.
    ConnectionUnfollow,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::ConnectionRequestCreated => "connection_request.created",
            Event::ConnectionRequestRejected => "connection_request.rejected",
            Event::ConnectionRequestRestored => "connection_request.restored",
            Event::ConnectionRequestCancelled => "connection_request.cancelled",
            Event::ConnectionCreated => "connection.created",
            Event::ConnectionDeleted => "connection.deleted",
            Event::ConnectionFollow => "connection.follow",
            Event::ConnectionUnfollow => "connection.unfollow",
        }
    }

    pub const ALL: [Event; 8] = [
        Event::ConnectionRequestCreated,
        Event::ConnectionRequestRejected,
        Event::ConnectionRequestRestored,
        Event::ConnectionRequestCancelled,
        Event::ConnectionCreated,
        Event::ConnectionDeleted,
        Event::ConnectionFollow,
        Event::ConnectionUnfollow,
    ];

    pub fn from_name(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Is the user who acted the event's `from_user`? The contract's table: `from_user` is
    /// always the one who requested, except for a removal (the remover). So a rejection, a
    /// restoration and a connection made (by accepting, or by a mutual request) name the
    /// other user first.
    pub fn from_is_actor(self) -> bool {
        matches!(
            self,
            Event::ConnectionRequestCreated
                | Event::ConnectionRequestCancelled
                | Event::ConnectionDeleted
                | Event::ConnectionFollow
                | Event::ConnectionUnfollow
        )
    }
}

/// The outcome of an action that is allowed in the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: Relation,
    pub to: Relation,
    /// The event to publish, if the relation changed.
    pub event: Option<Event>,
    /// `mark_seen` on a pending request: set `viewed` if it is not set yet.
    pub mark_viewed: bool,
}

impl Transition {
    /// A's status after the action: the body of the `200` answer.
    pub fn status(&self) -> Option<ConnectionStatus> {
        self.to.status()
    }

    pub fn changed(&self) -> bool {
        self.from != self.to
    }

    /// How the change moves A's counters and B's.
    pub fn count_changes(&self) -> (Counts, Counts) {
        (
            self.to.counts() - self.from.counts(),
            self.to.reversed().counts() - self.from.reversed().counts(),
        )
    }
}

/// The contract's action table: what `action` by A does in relation `from`.
pub fn apply(from: Relation, action: Action) -> Result<Transition, Conflict> {
    use Action as A;
    use Relation as R;

    let stay = |event: Option<Event>| Transition { from, to: from, event, mark_viewed: false };
    let go = |to: Relation, event: Event| Transition { from, to, event: Some(event), mark_viewed: false };

    Ok(match (action, from) {
        (A::Request, R::None) => go(R::SentPending, Event::ConnectionRequestCreated),
        (A::Request, R::SentPending | R::SentRejected | R::Connected) => stay(None),
        // Our choice: a request answering a request (pending or rejected) connects.
        (A::Request, R::ReceivedPending | R::ReceivedRejected) => {
            go(R::Connected, Event::ConnectionCreated)
        }

        (A::Accept, R::ReceivedPending | R::ReceivedRejected) => {
            go(R::Connected, Event::ConnectionCreated)
        }
        (A::Accept, R::Connected) => stay(None),
        (A::Accept, R::None | R::SentPending | R::SentRejected) => {
            return Err(Conflict::NoConnectionRequest);
        }

        (A::Reject, R::ReceivedPending) => go(R::ReceivedRejected, Event::ConnectionRequestRejected),
        (A::Reject, R::ReceivedRejected) => stay(None),
        (A::Reject, R::Connected) => return Err(Conflict::AlreadyConnected),
        (A::Reject, R::None | R::SentPending | R::SentRejected) => {
            return Err(Conflict::NoConnectionRequest);
        }

        (A::CancelReject, R::ReceivedRejected) => {
            go(R::ReceivedPending, Event::ConnectionRequestRestored)
        }
        (A::CancelReject, R::ReceivedPending) => stay(None),
        (A::CancelReject, R::None | R::SentPending | R::SentRejected | R::Connected) => {
            return Err(Conflict::NoRejectedRequest);
        }

        (A::CancelRequest, R::SentPending | R::SentRejected) => {
            go(R::None, Event::ConnectionRequestCancelled)
        }
        (A::CancelRequest, R::None) => stay(None),
        (A::CancelRequest, R::Connected) => return Err(Conflict::AlreadyConnected),
        (A::CancelRequest, R::ReceivedPending | R::ReceivedRejected) => {
            return Err(Conflict::NoSentRequest);
        }

        (A::Remove, R::Connected) => go(R::None, Event::ConnectionDeleted),
        (A::Remove, R::None) => stay(None),
        (A::Remove, _) => return Err(Conflict::NotConnected),

        (A::MarkSeen, R::ReceivedPending) => Transition { mark_viewed: true, ..stay(None) },
        (A::MarkSeen, _) => return Err(Conflict::NoConnectionRequest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use ConnectionStatus as C;
    use Relation as R;

    /// The contract's action table, cell by cell: `Ok(state after)` or `Err(code)`.
    fn expected(action: Action, from: Relation) -> Result<Relation, &'static str> {
        const S: [Relation; 6] = Relation::ALL;
        let row: [Result<Relation, &'static str>; 6] = match action {
            A::Request => [Ok(R::SentPending), Ok(S[1]), Ok(S[2]), Ok(R::Connected), Ok(R::Connected), Ok(S[5])],
            A::Accept => [
                Err("no_connection_request"), Err("no_connection_request"), Err("no_connection_request"),
                Ok(R::Connected), Ok(R::Connected), Ok(R::Connected),
            ],
            A::Reject => [
                Err("no_connection_request"), Err("no_connection_request"), Err("no_connection_request"),
                Ok(R::ReceivedRejected), Ok(R::ReceivedRejected), Err("already_connected"),
            ],
            A::CancelReject => [
                Err("no_rejected_request"), Err("no_rejected_request"), Err("no_rejected_request"),
                Ok(R::ReceivedPending), Ok(R::ReceivedPending), Err("no_rejected_request"),
            ],
            A::CancelRequest => [
                Ok(R::None), Ok(R::None), Ok(R::None),
                Err("no_sent_request"), Err("no_sent_request"), Err("already_connected"),
            ],
            A::Remove => [
                Ok(R::None), Err("not_connected"), Err("not_connected"),
                Err("not_connected"), Err("not_connected"), Ok(R::None),
            ],
            A::MarkSeen => [
                Err("no_connection_request"), Err("no_connection_request"), Err("no_connection_request"),
                Ok(R::ReceivedPending), Err("no_connection_request"), Err("no_connection_request"),
            ],
        };
        let index = S.iter().position(|s| *s == from).unwrap();
        row[index]
    }

    #[test]
    fn every_cell_of_the_action_table() {
        for action in Action::ALL {
            for from in Relation::ALL {
                let got = apply(from, action).map(|t| t.to).map_err(Conflict::code);
                assert_eq!(got, expected(action, from), "{action:?} in {from:?}");
            }
        }
    }

    #[test]
    fn every_action_is_idempotent() {
        for action in Action::ALL {
            for from in Relation::ALL {
                let first = apply(from, action);
                let Ok(first) = first else { continue };
                let second = apply(first.to, action).expect("a repeated action is allowed");
                assert_eq!(second.to, first.to, "{action:?} from {from:?} twice");
                assert_eq!(second.status(), first.status());
                assert!(!second.changed(), "{action:?} repeated changes nothing more");
                assert_eq!(second.event, None, "{action:?} repeated publishes nothing");
            }
        }
    }

    #[test]
    fn events_are_published_exactly_on_change() {
        for action in Action::ALL {
            for from in Relation::ALL {
                if let Ok(t) = apply(from, action) {
                    assert_eq!(t.event.is_some(), t.changed(), "{action:?} in {from:?}");
                }
            }
        }
    }

    #[test]
    fn statuses_as_each_side_sees_them() {
        let table = [
            (R::None, None, None),
            (R::SentPending, Some(C::SentConnectionRequest), Some(C::ReceivedConnectionRequest)),
            (R::SentRejected, Some(C::SentConnectionRequest), None),
            (R::ReceivedPending, Some(C::ReceivedConnectionRequest), Some(C::SentConnectionRequest)),
            (R::ReceivedRejected, None, Some(C::SentConnectionRequest)),
            (R::Connected, Some(C::Connected), Some(C::Connected)),
        ];
        for (relation, a_sees, b_sees) in table {
            assert_eq!(relation.status(), a_sees, "A in {relation:?}");
            assert_eq!(relation.reversed().status(), b_sees, "B in {relation:?}");
            assert_eq!(relation.reversed().reversed(), relation);
        }
    }

    #[test]
    fn status_strings_round_trip() {
        for status in ConnectionStatus::ALL {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ConnectionStatus::parse("pending"), None);
    }
}
