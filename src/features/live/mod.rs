//! Live updates: the hub that follows the outbox and hands each event to this process's open
//! sockets and streams, with their caps ([`hub`]); SelfCommunity's `/ws/notify` socket
//! ([`socket`]); the caller's events as Server-Sent Events ([`stream`]).

pub mod hub;
pub mod socket;
pub mod stream;
