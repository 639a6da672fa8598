use thiserror::Error;

/// Errors from the store. Callers map these to their boundary (HTTP status, SMTP reply,
/// CLI exit); the text is for logs and operators, not for API clients.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid cursor")]
    InvalidCursor,
}

impl StoreError {
    /// Whether the error is a uniqueness or foreign-key violation (the caller's input
    /// conflicts with what is stored) rather than a failure of the store.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Database(sqlx::Error::Database(e)) => {
                e.is_unique_violation() || e.is_foreign_key_violation()
            }
            _ => false,
        }
    }
}
