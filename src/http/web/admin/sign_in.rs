//! Into the console through Tessera's own sign-in pages: `/admin/sign-in` sends the
//! browser to `/authorize` as the console's client (code flow, PKCE, state, and
//! `max_age` so that a sign-in older than the idle limit is asked for again);
//! `/admin/signed-in` redeems the code and opens the console.
use super::console;
use crate::crypto::{constant_time_eq, random_token};
use crate::http::web::session_cookie;
use crate::http::{AppState, WebError};
use crate::oidc::console as console_client;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

fn start_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-tessera_console_start"
    } else {
        "tessera_console_start"
    }
}

pub async fn begin(State(svc): State<AppState>, jar: CookieJar) -> Response {
    let (state, verifier) = (random_token(), random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let secure = svc.config.secure_cookies();
    let cookie = Cookie::build((start_cookie(secure), format!("{state}.{verifier}")))
        .path("/")
        .http_only(true)
        .secure(secure)
        // The browser comes back by a redirect from Tessera's own pages.
        .same_site(SameSite::Lax)
        .max_age(time::Duration::minutes(30))
        .build();
    let location = crate::oidc::redirect::with_query(
        &format!("{}/authorize", svc.config.base_url()),
        &[
            ("response_type", "code"),
            ("client_id", console_client::CLIENT_ID),
            ("redirect_uri", &console_client::redirect_uri(&svc)),
            ("scope", "openid"),
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("max_age", &console::idle_limit().num_seconds().to_string()),
        ],
    );
    (jar.add(cookie), Redirect::to(&location)).into_response()
}

#[derive(Deserialize, Default)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn start_again() -> WebError {
    WebError::BadRequest(
        "This sign-in to the console could not be finished: it took too long, or it was started in another \
         window. Open /admin again to sign in."
            .into(),
    )
}

pub async fn finish(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(back): Query<Callback>,
) -> Result<Response, WebError> {
    let secure = svc.config.secure_cookies();
    let started = jar.get(start_cookie(secure)).map(|c| c.value().to_string());
    let jar = jar.remove(
        Cookie::build((start_cookie(secure), ""))
            .path("/")
            .secure(secure)
            .build(),
    );
    let expected = started.as_deref().and_then(|s| s.split_once('.'));
    let state_matches = |(state, _): (&str, &str)| {
        back.state
            .as_deref()
            .is_some_and(|s| constant_time_eq(s.as_bytes(), state.as_bytes()))
    };
    let Some((_, verifier)) = expected.filter(|e| state_matches(*e)) else {
        // A code that came back to the wrong browser is spent here, not left to linger.
        if let Some(code) = back.code.as_deref() {
            console_client::burn(&svc, code).await?;
        }
        return Err(start_again());
    };
    if back.error.is_some() {
        return Err(WebError::Forbidden(
            "The sign-in to the console was not completed. Open /admin to try again.".into(),
        ));
    }
    let code = back.code.unwrap_or_default();
    let redeemed = console_client::redeem(&svc, &code, verifier)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let current = session_cookie::current(&svc, &jar).await?;
    match (redeemed, current) {
        (Some(issued_for), Some(session)) if issued_for == session.id => {
            let jar = console::open(&svc, jar, session.id, svc.now());
            Ok((jar, Redirect::to("/admin/users")).into_response())
        }
        _ => Err(start_again()),
    }
}
