//! API tokens. A token is 32 random bytes shown once as `adk_<base64url>`; the store
//! keeps only its SHA-256. (A slow password hash buys nothing for 256 random bits.)
use base64::Engine;

use crate::backend::{Get, dispatch, dispatch_write};
use crate::{Millis, NewToken, Store, StoreError, TokenInfo, sha256_hex};

const PREFIX: &str = "adk_";
/// `last_used_at` is refreshed at most this often per token, to keep reads read-only.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is not something a server can carry on after.
    getrandom::getrandom(&mut buf).expect("operating system random number generator failed");
    buf
}

pub(crate) fn random_hex(n: usize) -> String {
    let bytes: [u8; 16] = random_bytes();
    hex::encode(&bytes[..n.min(16)])
}

fn token_from_row(r: &impl Get) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: r.i64("id")?,
        name: r.string("name")?,
        hint: r.string("hint")?,
        created_at: r.i64("created_at")?,
        last_used_at: r.oi64("last_used_at")?,
        revoked_at: r.oi64("revoked_at")?,
    })
}

impl Store {
    /// Create a token named `name`. The secret in the result is not stored anywhere.
    pub async fn create_token(&self, name: &str, now: Millis) -> Result<NewToken, StoreError> {
        let _writing = self.writer().await;
        let secret = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
        );
        let hint: String = secret.chars().take(PREFIX.len() + 6).collect();
        let hash = sha256_hex(secret.as_bytes());
        dispatch_write!(self, pool => {
            let row = sqlx::query(
                "INSERT INTO api_tokens (name, hint, hash, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, name, hint, created_at, last_used_at, revoked_at",
            )
            .bind(name)
            .bind(&hint)
            .bind(&hash)
            .bind(now)
            .fetch_one(pool)
            .await?;
            Ok(NewToken { info: token_from_row(&row)?, secret })
        })
    }

    /// The token whose secret this is, unless revoked.
    pub async fn verify_token(
        &self,
        secret: &str,
        now: Millis,
    ) -> Result<Option<TokenInfo>, StoreError> {
        if !secret.starts_with(PREFIX) {
            return Ok(None);
        }
        let hash = sha256_hex(secret.as_bytes());
        let info = dispatch!(self, pool => {
            let row = sqlx::query(
                "SELECT id, name, hint, created_at, last_used_at, revoked_at FROM api_tokens \
                 WHERE hash = $1 AND revoked_at IS NULL",
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            token_from_row(&row)?
        });
        if info
            .last_used_at
            .is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS)
        {
            let _writing = self.writer().await;
            dispatch_write!(self, pool => {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .bind(info.id)
                    .bind(now)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(Some(info))
    }

    /// All tokens, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT id, name, hint, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id")
                .fetch_all(pool)
                .await?
                .iter()
                .map(token_from_row)
                .collect()
        })
    }

    /// Revoke a token. `Ok(false)`: no such (unrevoked) token.
    pub async fn revoke_token(&self, id: i64, now: Millis) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            Ok(sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
                > 0)
        })
    }
}
