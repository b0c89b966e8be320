//! The rules of webhook endpoints, for the staff API and the command line alike: targets are
//! checked ([`super::target`]), event types must be known, secrets are random, shown on
//! creation and on `reveal`, and rotated with an overlap.

use chrono::Utc;

use super::queries::{Endpoint, EndpointFields};
use super::target::{self, TargetError};
use crate::db::connection::Repo;
use crate::db::entities::webhook_attempts;
use crate::db::error::RepoError;
use crate::domain::Event;
use crate::domain::error::ServiceError;
use crate::domain::paging::Page;
use crate::domain::users::{Caller, Role, User};
use crate::http::error::{ApiError, ENDPOINT_INACTIVE, ENDPOINT_NOT_FOUND, INVALID_TARGET};
use crate::http::tokens::random_hex;

/// How long a rotated secret keeps signing beside the new one.
pub const SECRET_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// The most event ids one bulk resend takes.
pub const MAX_RESEND: usize = 1000;

/// What a webhook operation can fail with, besides the database.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A field of the body is wrong: `(field, code, message)`.
    #[error("{0}: {2}")]
    Field(&'static str, &'static str, String),
    #[error("no such webhook endpoint")]
    NotFound,
    /// Resending to an endpoint that is not active.
    #[error("the webhook endpoint is inactive")]
    Inactive,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        use WebhookError as W;
        match err {
            W::Field(field, code, message) => {
                let mut error = ApiError::new(INVALID_TARGET);
                error.code = code;
                error.with_field(field).with_message(message)
            }
            W::NotFound => ApiError::new(ENDPOINT_NOT_FOUND),
            W::Inactive => ApiError::new(ENDPOINT_INACTIVE),
            W::Repo(e) => ServiceError::from(e).into(),
        }
    }
}


/// The event types an endpoint may subscribe to.
pub fn event_types() -> Vec<&'static str> {
    Event::ALL.iter().map(|e| e.name()).collect()
}

/// A new signing secret: 32 random bytes, in hex.
pub fn new_secret() -> String {
    random_hex(32)
}

#[derive(Clone, Debug)]
pub struct WebhookService {
    repo: Repo,
    allow_private_targets: bool,
}

impl WebhookService {
    pub fn new(repo: Repo, allow_private_targets: bool) -> Self {
        WebhookService { repo, allow_private_targets }
    }

    /// The caller, if they are staff; else `PermissionDenied` (`403`), or `CallerNotFound`
    /// (`401`) when they are gone.
    pub async fn require_staff(&self, caller: Caller) -> Result<User, ServiceError> {
        let user = self.repo.caller(caller).await?;
        match user.role {
            Some(Role::Admin) => Ok(user),
            None => Err(ServiceError::PermissionDenied),
        }
    }

    async fn check(&self, fields: &EndpointFields) -> Result<(), WebhookError> {
        if let Some(t) = &fields.target {
            target::check(t, self.allow_private_targets).await.map_err(|e| match e {
                TargetError::Invalid(m) => WebhookError::Field("target", "invalid", format!("Enter a valid URL: {m}.")),
                TargetError::Private(m) => WebhookError::Field("target", "private_target", format!("This target is refused: {m}.")),
            })?;
            if t.len() > 2048 {
                return Err(WebhookError::Field("target", "invalid", "Ensure this field has no more than 2048 characters.".into()));
            }
        }
        if fields.description.as_ref().is_some_and(|d| d.chars().count() > 1000) {
            return Err(WebhookError::Field("description", "invalid", "Ensure this field has no more than 1000 characters.".into()));
        }
        if let Some(types) = &fields.events {
            if let Some(unknown) = types.iter().find(|t| Event::from_name(t).is_none()) {
                return Err(WebhookError::Field(
                    "events",
                    "invalid",
                    format!("{unknown:?} is not an event type (GET /api/v2/webhook/endpoint/event/ lists them)."),
                ));
            }
        }
        Ok(())
    }

    /// Creates an endpoint; answers it and its signing secret (shown this once, and by
    /// `reveal`).
    pub async fn create(&self, fields: EndpointFields) -> Result<(Endpoint, String), WebhookError> {
        if fields.target.is_none() {
            return Err(WebhookError::Field("target", "required", "This field is required.".into()));
        }
        self.check(&fields).await?;
        let secret = new_secret();
        let endpoint = self.repo.create_endpoint(fields, secret.clone(), &event_types()).await?;
        Ok((endpoint, secret))
    }

    pub async fn list(&self, limit: u64, offset: u64) -> Result<Page<Endpoint>, WebhookError> {
        Ok(self.repo.endpoints_page(limit, offset).await?)
    }

    pub async fn get(&self, id: i64) -> Result<Endpoint, WebhookError> {
        self.repo.endpoint(id).await?.ok_or(WebhookError::NotFound)
    }

    /// `PUT` (`whole`: `target` required, the rest back to defaults when absent) or `PATCH`.
    pub async fn update(&self, id: i64, mut fields: EndpointFields, whole: bool) -> Result<Endpoint, WebhookError> {
        if whole {
            if fields.target.is_none() {
                return Err(WebhookError::Field("target", "required", "This field is required.".into()));
            }
            fields.description.get_or_insert_with(String::new);
            fields.is_active.get_or_insert(true);
            fields.ssl_cert_verification.get_or_insert(true);
        }
        if fields.events.as_ref().is_some_and(Vec::is_empty) || (whole && fields.events.is_none()) {
            fields.events = Some(event_types().into_iter().map(str::to_owned).collect());
        }
        self.check(&fields).await?;
        self.repo.update_endpoint(id, fields).await?.ok_or(WebhookError::NotFound)
    }

    pub async fn delete(&self, id: i64) -> Result<(), WebhookError> {
        if self.repo.delete_endpoint(id).await? { Ok(()) } else { Err(WebhookError::NotFound) }
    }

    pub async fn reveal(&self, id: i64) -> Result<String, WebhookError> {
        self.repo.endpoint_secret(id).await?.ok_or(WebhookError::NotFound)
    }

    /// A new secret; the old one signs too (a second `v1`) for [`SECRET_OVERLAP`].
    pub async fn expire(&self, id: i64) -> Result<Endpoint, WebhookError> {
        self.repo.rotate_secret(id, new_secret(), Utc::now() + SECRET_OVERLAP).await?.ok_or(WebhookError::NotFound)
    }

    pub async fn attempts(&self, id: i64, limit: u64, offset: u64) -> Result<Page<webhook_attempts::Model>, WebhookError> {
        self.repo.attempts_page(id, limit, offset).await?.ok_or(WebhookError::NotFound)
    }

    /// Delivers these events to the endpoint again, now, with a full set of retries.
    pub async fn resend(&self, id: i64, events: &[i64]) -> Result<(), WebhookError> {
        if events.len() > MAX_RESEND {
            return Err(WebhookError::Field("event", "invalid", format!("At most {MAX_RESEND} events at once.")));
        }
        match self.repo.resend(id, events).await {
            Ok(Some(true)) => Ok(()),
            Ok(Some(false)) => Err(WebhookError::Inactive),
            Ok(None) => Err(WebhookError::NotFound),
            Err(RepoError::Invalid(message)) => Err(WebhookError::Field("event", "invalid", format!("{message}."))),
            Err(e) => Err(e.into()),
        }
    }
}
