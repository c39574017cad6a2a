use crate::http::AppState;
use crate::oidc::{OidcError, discovery};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn metadata(State(svc): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(discovery::metadata(svc.config.issuer_id())),
    )
}

pub async fn jwks(State(svc): State<AppState>) -> Result<impl IntoResponse, OidcError> {
    let keys = svc.keys.current(&svc).await?;
    Ok((
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CONTENT_TYPE, "application/jwk-set+json"),
        ],
        keys.jwks().to_string(),
    ))
}
