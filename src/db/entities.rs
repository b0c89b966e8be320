//! sea-orm entities, one module per table. The invariants are in the migration, not here.

pub mod users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub username: String,
        pub real_name: String,
        pub avatar: Option<String>,
        pub ext_id: Option<i64>,
        pub date_joined: DateTimeUtc,
        pub deleted: bool,
        /// The user's connections with users who are not deleted.
        pub connections_counter: i64,
        /// Pending (not rejected) requests the user received from users who are not deleted.
        pub connection_requests_received_counter: i64,
        /// Requests the user sent (pending or rejected) to users who are not deleted.
        pub connection_requests_sent_counter: i64,
        /// `admin` (staff), or `None`.
        pub role: Option<String>,
        /// Users not deleted who follow this user.
        pub followers_counter: i64,
        /// Users not deleted this user follows.
        pub followings_counter: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One row per unordered pair that was ever acted on: the pair's lock, the kind of relation it
/// holds, and that relation's fields (a request's: who asked whom, its id, when, rejected,
/// viewed; a connection's: since when). `CHECK`s keep the fields to the kind (see the migration).
pub mod relations {
    use sea_orm::entity::prelude::*;

    pub const NONE: &str = "none";
    pub const REQUEST: &str = "request";
    pub const CONNECTION: &str = "connection";

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "relations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_low: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_high: i64,
        pub kind: String,
        /// Counts the pair's changes: a PostgreSQL write applies only to the version it read.
        pub version: i64,
        /// The request's id, while the pair holds one.
        pub request_id: Option<i64>,
        pub from_user_id: Option<i64>,
        pub to_user_id: Option<i64>,
        /// When the request was made, or the connection; `None` while the pair holds nothing.
        pub created: Option<DateTimeUtc>,
        pub rejected: Option<DateTimeUtc>,
        pub viewed: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A view: the pairs that hold a request, as the requests' own rows (read only).
pub mod connection_requests {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "connection_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub from_user_id: i64,
        pub to_user_id: i64,
        pub user_low: i64,
        pub user_high: i64,
        pub created: DateTimeUtc,
        pub rejected: Option<DateTimeUtc>,
        pub viewed: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A view: the pairs that hold a connection (read only).
pub mod connections {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "connections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_low: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_high: i64,
        pub created: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Follow mode: `follower_id` follows `followed_id` since `created`. One row per ordered pair,
/// never oneself (see the migration).
pub mod follows {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "follows")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub follower_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub followed_id: i64,
        pub created: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod preferences {
    use sea_orm::entity::prelude::*;

    /// `value` holds JSON text (`true`, `false`, a number or a string).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preferences")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub section: String,
        pub name: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user hidden by another: `user_id` hid `hidden_user_id`.
pub mod hidden_users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "hidden_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub hidden_user_id: i64,
        pub created: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A feature of the community, by name, on or off (`GET /api/v2/feature/`).
pub mod features {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "features")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub enabled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user's notification settings; a user without a row has the defaults.
pub mod user_settings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub qa_frequency: i64,
        pub email_notification_not_qa: i64,
        pub mobile_notifications_scmty: i64,
        pub show_toast_notifications: i64,
        pub toast_notifications_emit_sound: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The outbox: one row per change of a relation, with both users' counters after it.
/// `event_id` is given after commit by the relay (see the migration).
pub mod events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub event_id: Option<i64>,
        #[sea_orm(column_name = "type")]
        pub r#type: String,
        pub from_user_id: i64,
        pub to_user_id: i64,
        pub created: DateTimeUtc,
        pub from_connections: i64,
        pub from_received: i64,
        pub from_sent: i64,
        pub to_connections: i64,
        pub to_received: i64,
        pub to_sent: i64,
        pub from_followers: i64,
        pub from_followings: i64,
        pub to_followers: i64,
        pub to_followings: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A webhook endpoint. `secret` signs; `previous_secret` also signs until
/// `previous_secret_until_ms` (a rotation's overlap).
pub mod webhook_endpoints {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub target: String,
        pub description: String,
        pub is_active: bool,
        pub ssl_cert_verification: bool,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_secret_until_ms: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An event type an endpoint subscribes to.
pub mod webhook_endpoint_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoint_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub endpoint_id: i64,
        #[sea_orm(primary_key, auto_increment = false, column_name = "type")]
        pub r#type: String,
        pub added_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One event to deliver to one endpoint: `pending` until a `2xx` (`delivered`) or the last
/// retry (`failed`); due at `next_attempt_ms`; leased by a dispatcher until `lease_until_ms`.
pub mod webhook_deliveries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub endpoint_id: i64,
        pub event_id: i64,
        pub state: String,
        pub attempts: i64,
        pub next_attempt_ms: i64,
        pub lease_until_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One attempt to deliver an event: what was sent, what came back.
pub mod webhook_attempts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub endpoint_id: i64,
        pub event_id: i64,
        pub event_type: String,
        pub created_at: DateTimeUtc,
        pub sent_at: DateTimeUtc,
        pub http_request_body: String,
        pub http_request_signature_header: String,
        pub http_response_code: Option<i64>,
        pub http_response_body: String,
        pub error: Option<String>,
        pub latency_ms: i64,
        pub next_retry: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A notification of SelfCommunity's feed: a connection request received, or accepted; a new
/// follower.
/// `event_row` is the event's row (`events.id`): `sid` is `connection_<event_row>`.
pub mod notifications {
    use sea_orm::entity::prelude::*;

    pub const CONNECTION_REQUEST: &str = "connection_request";
    pub const CONNECTION_ACCEPT: &str = "connection_accept";
    /// Follow mode: someone follows the user.
    pub const USER_FOLLOW: &str = "user_follow";

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_row: i64,
        pub other_user_id: i64,
        #[sea_orm(column_name = "type")]
        pub r#type: String,
        pub created: DateTimeUtc,
        pub is_read: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
