//! The second-factor steps' pages: the code (or a recovery code), setting up an app,
//! the recovery codes; each rate-limited per address like the password step.
use super::{Handle, StepForm, answer, show};
use crate::http::web::device_cookie;
use crate::http::{AppState, BrowserOrigin, too_many};
use crate::oidc::signin::{self, Stage};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;

pub(super) async fn second_factor_page(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(h): Query<Handle>,
) -> Response {
    let recovery = h.recovery.is_some();
    show(&svc, jar, &h.r, Stage::SecondFactor, &[], recovery).await
}

pub(super) async fn second_factor(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(seen.address) {
        return too_many("Too many codes were tried from this network. Wait a minute and try again.");
    }
    let (jar, device) = device_cookie::of(&svc, jar);
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::SecondFactor,
        &[],
        async |svc, p, f, browser| {
            let recovery = f.method == "recovery";
            signin::second_factor(svc, p, &f.code, recovery, &device, browser).await
        },
    )
    .await
}

pub(super) async fn enrol_totp_page(State(svc): State<AppState>, jar: CookieJar, Query(h): Query<Handle>) -> Response {
    show(&svc, jar, &h.r, Stage::EnrolTotp, &[], false).await
}

pub(super) async fn enrol_totp(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    if !svc.limits.second_factor.check(seen.address) {
        return too_many("Too many codes were tried from this network. Wait a minute and try again.");
    }
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::EnrolTotp,
        &[],
        async |svc, p, f, browser| signin::enrol_totp(svc, p, &f.code, &browser).await,
    )
    .await
}

pub(super) async fn recovery_codes_page(
    State(svc): State<AppState>,
    jar: CookieJar,
    Query(h): Query<Handle>,
) -> Response {
    show(&svc, jar, &h.r, Stage::RecoveryCodes, &[], false).await
}

pub(super) async fn recovery_codes(
    State(svc): State<AppState>,
    seen: BrowserOrigin,
    jar: CookieJar,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    answer(
        &svc,
        jar,
        seen.origin,
        form,
        Stage::RecoveryCodes,
        &[],
        async |svc, p, _, browser| signin::recovery_codes_seen(svc, p, browser).await,
    )
    .await
}
