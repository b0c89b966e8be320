//! The database layer's one error type, and its conversion into the rules' error.

use sea_orm::DbErr;

use crate::domain::error::ServiceError;

/// Everything the repository can fail with. `Unavailable` is the database being out of reach
/// or too busy, which a client may retry; `Database` is a bug or a broken database, with the
/// driver's error kept as its source when there is one.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RepoError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {message}")]
    Database {
        message: String,
        #[source]
        source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{0}")]
    Invalid(String),
    /// The user a request acts for (its token's) does not exist or is deleted.
    #[error("the caller does not exist or is deleted")]
    CallerNotFound,
    /// The user a request names does not exist or is deleted.
    #[error("no such user (or deleted)")]
    UserNotFound,
    /// One of the pair hid the other: the action would create or restore a relation.
    #[error("one of the users hid the other")]
    UserHidden,
}

impl RepoError {
    /// A broken expectation about what the database answered (no source error).
    pub fn database(message: impl Into<String>) -> Self {
        RepoError::Database { message: message.into(), source: None }
    }

    /// A driver's error that is not the database being unavailable, kept as the source.
    pub fn from_source(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        RepoError::Database { message: source.to_string(), source: Some(std::sync::Arc::new(source)) }
    }
}

impl From<DbErr> for RepoError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) { RepoError::Unavailable(err.to_string()) } else { RepoError::from_source(err) }
    }
}

/// Is this the database being out of reach, busy or out of room (a client may retry: `503`),
/// rather than a bug or a broken database (`500`)?
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
                // Primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
                let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
                matches!(primary, 5 | 6 | 8 | 10 | 13 | 14)
            } else {
                // SQLSTATE classes and codes: connection exception, insufficient resources,
                // shutting down / cannot connect now, statement or lock timeout, serialization
                // failure, deadlock, read-only transaction (a standby).
                code.starts_with("08")
                    || code.starts_with("53")
                    || ["57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01", "25006"].contains(&code.as_ref())
            }
        }
        _ => false,
    }
}

impl From<RepoError> for ServiceError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::CallerNotFound => ServiceError::CallerNotFound,
            RepoError::UserNotFound => ServiceError::UserNotFound,
            RepoError::UserHidden => ServiceError::UserHidden,
            RepoError::Unavailable(reason) => ServiceError::Unavailable(reason),
            other => ServiceError::Internal(std::sync::Arc::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn a_driver_error_is_kept_as_the_source() {
        let err = RepoError::from(DbErr::Custom("disk image is malformed".into()));
        assert!(matches!(err, RepoError::Database { .. }), "{err:?}");
        let source = err.source().expect("the driver's error is the source");
        assert!(source.to_string().contains("disk image is malformed"), "{source}");
        assert!(RepoError::database("no row").source().is_none());
    }
}
