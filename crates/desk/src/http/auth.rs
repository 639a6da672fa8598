//! Authentication: the one seam between requests and who makes them. Today a principal is
//! an API token; user accounts (a later issue) add a variant and an [`Authenticator`].
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

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

/// How long a verified token is believed without asking the store again. A token
/// revoked (`abusedesk token revoke`, possibly from another process) stops working
/// within this time. It saves a database round trip on every request.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);
/// Verified tokens remembered at most (the cache is emptied when it is full).
const TOKEN_CACHE_ENTRIES: usize = 1024;

/// API tokens in the store (hashed).
pub struct TokenAuthenticator {
    store: abusedesk_store::Store,
    clock: Arc<dyn crate::Clock>,
    /// SHA-256 of a verified secret -> its principal and when it was verified. Only
    /// successes are remembered: an unknown token always asks the store.
    verified: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    ttl: Duration,
}

impl TokenAuthenticator {
    pub fn new(store: abusedesk_store::Store, clock: Arc<dyn crate::Clock>) -> Self {
        Self::with_ttl(store, clock, TOKEN_CACHE_TTL)
    }

    /// `ttl` zero: ask the store on every request.
    pub fn with_ttl(
        store: abusedesk_store::Store,
        clock: Arc<dyn crate::Clock>,
        ttl: Duration,
    ) -> Self {
        TokenAuthenticator {
            store,
            clock,
            verified: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    fn remembered(&self, key: &[u8; 32]) -> Option<Principal> {
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    fn remember(&self, key: [u8; 32], principal: &Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= TOKEN_CACHE_ENTRIES {
            verified.clear();
        }
        verified.insert(key, (principal.clone(), Instant::now()));
    }
}

impl Authenticator for TokenAuthenticator {
    fn authenticate<'a>(
        &'a self,
        bearer: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async move {
            let key: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
            if let Some(p) = self.remembered(&key) {
                return Ok(Some(p));
            }
            let found = self.store.verify_token(bearer, self.clock.now()).await?;
            let principal = found.map(|t| Principal::ApiToken {
                id: t.id,
                name: t.name,
            });
            if let Some(p) = &principal {
                self.remember(key, p);
            }
            Ok(principal)
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

#[cfg(test)]
mod tests {
    use super::*;
    use abusedesk_store::{Store, StoreOptions};

    #[tokio::test]
    async fn a_verified_token_is_remembered_for_the_ttl_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path(), &StoreOptions::default())
            .await
            .unwrap();
        let token = store.create_token("ops", 0).await.unwrap();
        let clock: Arc<dyn crate::Clock> = Arc::new(crate::SystemClock);
        let cached = TokenAuthenticator::new(store.clone(), clock.clone());
        let uncached = TokenAuthenticator::with_ttl(store.clone(), clock, Duration::ZERO);
        let ops = Principal::ApiToken {
            id: token.info.id,
            name: "ops".into(),
        };
        assert_eq!(
            cached.authenticate(&token.secret).await.unwrap(),
            Some(ops.clone())
        );
        assert_eq!(
            uncached.authenticate(&token.secret).await.unwrap(),
            Some(ops.clone())
        );
        assert_eq!(cached.authenticate("adk_wrong").await.unwrap(), None);

        assert!(store.revoke_token(token.info.id, 1).await.unwrap());
        // Within the TTL the cached verdict stands; without a cache, revocation is immediate.
        assert_eq!(cached.authenticate(&token.secret).await.unwrap(), Some(ops));
        assert_eq!(uncached.authenticate(&token.secret).await.unwrap(), None);

        // After the TTL the store is asked again.
        let second = store.create_token("ci", 2).await.unwrap();
        let short = TokenAuthenticator::with_ttl(
            store.clone(),
            Arc::new(crate::SystemClock),
            Duration::from_millis(50),
        );
        assert!(short.authenticate(&second.secret).await.unwrap().is_some());
        assert!(store.revoke_token(second.info.id, 3).await.unwrap());
        assert!(short.authenticate(&second.secret).await.unwrap().is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(short.authenticate(&second.secret).await.unwrap(), None);
        store.close().await;
    }
}
