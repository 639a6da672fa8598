//! The HTTP boundary's one error type: each variant has a status and a message fit for
//! API clients. Store and internal failures are logged here and answered without detail.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(String),
    /// Rows of an import that are wrong, each named (nothing was imported).
    #[error("{message}")]
    InvalidRows {
        message: String,
        rows: serde_json::Value,
    },
    #[error("the report is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the service is temporarily unavailable; try again")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

/// `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `too_large`.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) | ApiError::InvalidRows { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Invalid(_) | ApiError::InvalidRows { .. } => "invalid",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = ErrorDetail {
            code: self.code(),
            message: self.to_string(),
        };
        let mut resp = match self {
            ApiError::InvalidRows { rows, .. } => (
                status,
                axum::Json(serde_json::json!({"error": detail, "rows": rows})),
            )
                .into_response(),
            _ => (status, axum::Json(ErrorBody { error: detail })).into_response(),
        };
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"abusedesk\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

impl From<abusedesk_store::StoreError> for ApiError {
    fn from(e: abusedesk_store::StoreError) -> Self {
        match e {
            abusedesk_store::StoreError::InvalidCursor => {
                ApiError::BadRequest("invalid cursor".into())
            }
            abusedesk_store::StoreError::Conflict(m) => ApiError::Conflict(m),
            e if e.is_conflict() => ApiError::Conflict("conflicts with stored data".into()),
            abusedesk_store::StoreError::Database(sqlx_err) => {
                tracing::error!(error = %sqlx_err, "store error while answering a request");
                ApiError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "internal error while answering a request");
                ApiError::Internal
            }
        }
    }
}

impl From<crate::intake::IntakeError> for ApiError {
    fn from(e: crate::intake::IntakeError) -> Self {
        match e {
            crate::intake::IntakeError::TooLarge { limit, .. } => ApiError::TooLarge { limit },
            crate::intake::IntakeError::Unavailable | crate::intake::IntakeError::ShuttingDown => {
                ApiError::Unavailable
            }
        }
    }
}
