//! Authentication: the one seam between requests and who makes them. Today a principal is
//! an API token; user accounts (a later issue) add a variant and an [`Authenticator`].
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use crate::worker::BoxFuture;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    ApiToken { id: i64, name: String },
}

impl Principal {
    /// For audit entries: `token:NAME`.
    pub fn actor(&self) -> String {
        match self {
            Principal::ApiToken { name, .. } => format!("token:{name}"),
        }
    }
}

/// Turns a bearer credential into a principal.
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        bearer: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>>;
}

/// API tokens in the store (hashed).
pub struct TokenAuthenticator {
    pub store: abusedesk_store::Store,
    pub clock: Arc<dyn crate::Clock>,
}

impl Authenticator for TokenAuthenticator {
    fn authenticate<'a>(
        &'a self,
        bearer: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async move {
            let found = self.store.verify_token(bearer, self.clock.now()).await?;
            Ok(found.map(|t| Principal::ApiToken {
                id: t.id,
                name: t.name,
            }))
        })
    }
}

/// Middleware: require a valid bearer token; the principal goes into the request's
/// extensions for handlers that record who acted.
pub async fn require_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?
        .to_owned();
    let principal = state
        .auth
        .authenticate(&bearer)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}
