//! The authorization request (OIDC Core §3.1.2): checking it, and deciding whether the
//! user must sign in, consent, or can be given a code at once.
use super::clients::{self, AUTHORIZATION_CODE, Client};
use super::{OidcError, SCOPES, request_limits, scope_list};
use crate::json::JsonFields;
use crate::oidc::Provider;
use crate::sessions::Session;
use crate::store;
use serde_json::Value;

pub use crate::model::sign_in::Params;
use uuid::Uuid;

/// Why a request was refused, and how to tell whom.
#[derive(Debug)]
pub enum Refusal {
    /// No trustworthy redirect URI: the user sees a page, the client hears nothing.
    Page(String),
    /// Sent back to the client (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
    Failed(OidcError),
}

impl From<OidcError> for Refusal {
    fn from(e: OidcError) -> Self {
        Refusal::Failed(e)
    }
}

impl From<store::StoreError> for Refusal {
    fn from(e: store::StoreError) -> Self {
        Refusal::Failed(e.into())
    }
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    pub client: Client,
    pub params: Params,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub claims: Option<Value>,
    /// The user the request names (the `claims` parameter's `sub` value, or the
    /// `id_token_hint`'s subject): no code is issued for anyone else.
    pub subject: Option<String>,
}

impl Checked {
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    /// Whether a code may be issued for this user (OIDC Core §3.1.2.1 for id_token_hint,
    /// §5.5.1 for a requested `sub` value).
    pub fn allows_user(&self, user_id: Uuid) -> bool {
        self.subject.as_deref().is_none_or(|s| s == user_id.to_string())
    }

    pub fn refuse(&self, error: &'static str, description: impl Into<String>) -> Refusal {
        Refusal::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            error,
            description: description.into(),
            state: self.params.state.clone(),
        }
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

pub async fn check(svc: &Provider, params: Params) -> Result<Checked, Refusal> {
    let client_id = nonempty(&params.client_id).ok_or_else(|| Refusal::Page("The request names no client.".into()))?;
    let client = clients::lookup(svc, client_id)
        .await?
        .ok_or_else(|| Refusal::Page("The application that sent you here is not registered with Tessera.".into()))?;
    // The redirect URI is checked before anything is sent to it (RFC 6749 §4.1.2.1).
    let redirect_uri = match nonempty(&params.redirect_uri) {
        Some(uri) if client.has_redirect_uri(uri) => uri.to_string(),
        Some(_) => {
            return Err(Refusal::Page(
                "The application asked to send you to an address it has not registered.".into(),
            ));
        }
        None => {
            return Err(Refusal::Page("The request gives no redirect_uri.".into()));
        }
    };
    if let Some((name, max)) = request_limits::too_long(&params) {
        // An over-long state is not echoed back: the answer would carry what was refused.
        return Err(Refusal::Redirect {
            redirect_uri,
            error: "invalid_request",
            description: format!("{name} is longer than {max} bytes"),
            state: params.state.filter(|_| name != "state"),
        });
    }
    let refuse = |error: &'static str, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_string(),
        state: params.state.clone(),
    };
    if params.request.is_some() {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    if params.request_uri.is_some() {
        return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
    }
    match nonempty(&params.response_type) {
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => return Err(refuse("unsupported_response_type", "only the code flow is supported")),
    }
    if nonempty(&params.response_mode).is_some_and(|m| m != "query") {
        return Err(refuse("invalid_request", "only response_mode=query is supported"));
    }
    if !client.allows_grant(AUTHORIZATION_CODE) {
        return Err(refuse("unauthorized_client", "this client may not use the code flow"));
    }
    match (
        nonempty(&params.code_challenge),
        nonempty(&params.code_challenge_method),
    ) {
        (None, _) if client.pkce_required => {
            return Err(refuse(
                "invalid_request",
                "PKCE is required: send code_challenge with S256",
            ));
        }
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), m) if m != Some("S256") => {
            return Err(refuse("invalid_request", "code_challenge_method must be S256"));
        }
        (Some(c), _) if !(43..=128).contains(&c.len()) => {
            return Err(refuse("invalid_request", "code_challenge must be 43 to 128 characters"));
        }
        _ => {}
    }
    let requested = scope_list(params.scope.as_deref().unwrap_or(""));
    let scopes: Vec<String> = requested.into_iter().filter(|s| SCOPES.contains(&s.as_str())).collect();
    if scopes.is_empty() {
        return Err(refuse(
            "invalid_scope",
            "no scope Tessera knows was requested (try \"openid\")",
        ));
    }
    let prompt = scope_list(params.prompt.as_deref().unwrap_or(""));
    if prompt
        .iter()
        .any(|p| !["none", "login", "consent", "select_account"].contains(&p.as_str()))
    {
        return Err(refuse("invalid_request", "unknown prompt value"));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(refuse(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match nonempty(&params.max_age) {
        None => None,
        Some(m) => Some(
            parse_max_age(m).ok_or_else(|| refuse("invalid_request", "max_age must be a whole number of seconds"))?,
        ),
    };
    let claims = match nonempty(&params.claims) {
        None => None,
        Some(c) => Some(
            serde_json::from_str::<Value>(c)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| refuse("invalid_request", "claims must be a JSON object"))?,
        ),
    };
    let named = requested_sub(claims.as_ref()).map_err(|why| refuse("invalid_request", why))?;
    let hinted = match nonempty(&params.id_token_hint) {
        None => None,
        Some(hint) => Some(
            hint_subject(svc, hint)
                .await?
                .ok_or_else(|| refuse("invalid_request", "id_token_hint is not an ID token Tessera issued"))?,
        ),
    };
    let subject = match (named, hinted) {
        (Some(a), Some(b)) if a != b => {
            return Err(refuse(
                "invalid_request",
                "the claims parameter and id_token_hint name different users",
            ));
        }
        (a, b) => a.or(b),
    };
    Ok(Checked {
        client,
        params,
        redirect_uri,
        scopes,
        prompt,
        max_age,
        claims,
        subject,
    })
}

/// Seconds, as digits only. A number too large for i64 is kept as i64::MAX: it asks for
/// no re-authentication by age, like any age longer than a session can live.
fn parse_max_age(m: &str) -> Option<i64> {
    if !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(m.parse::<i64>().unwrap_or(i64::MAX))
}

/// The `sub` value the `claims` parameter asks the ID token or userinfo for, if any;
/// two different ones can name no user.
fn requested_sub(claims: Option<&Value>) -> Result<Option<String>, &'static str> {
    let mut found: Option<String> = None;
    for place in ["id_token", "userinfo"] {
        let Some(value) = claims
            .and_then(|c| c.get(place))
            .and_then(|p| p.get("sub"))
            .and_then(|s| s.get("value"))
        else {
            continue;
        };
        let value = value.as_str().ok_or("the value of claims' sub must be a string")?;
        if found.as_deref().is_some_and(|f| f != value) {
            return Err("claims asks for two different sub values");
        }
        found = Some(value.to_string());
    }
    Ok(found)
}

/// The subject of an ID token Tessera issued; an expired one still says whom the client
/// thinks is signed in (§3.1.2.1).
async fn hint_subject(svc: &Provider, hint: &str) -> Result<Option<String>, Refusal> {
    Ok(svc
        .keys
        .verify(svc, hint)
        .await?
        .filter(|(_, c)| c["iss"] == svc.config.issuer_id())
        .and_then(|(_, c)| c.field("sub").as_str().map(str::to_string)))
}

/// What to do with a checked request.
#[derive(Debug)]
pub enum Next {
    SignIn,
    Consent(Session),
    Issue(Session),
}

/// Decides from the browser's session (if any) and the request's prompt, max_age and
/// the user it names.
pub async fn decide(svc: &Provider, req: &Checked, session: Option<Session>) -> Result<Next, Refusal> {
    let now = svc.now();
    let silent = req.prompt.iter().any(|p| p == "none");
    let mut usable = None;
    if let Some(s) = session {
        let user = store::users::find_by_id(svc.store.reader(), s.user_id).await?;
        // In whole seconds: max_age may be anything up to i64::MAX, too long for a Duration.
        let fresh = req.max_age.is_none_or(|m| (now - s.auth_time).num_seconds() <= m);
        let same = req.allows_user(s.user_id);
        // A lockout does not end a session: it stops guesses, not the person's work.
        let active = user
            .as_ref()
            .is_some_and(|u| u.may_hold_tokens(now) && !u.must_change_password);
        // A session signed in with the password alone does not do where a second
        // factor is asked for (acr_values) or has since become required.
        let strong_enough = s.acr == super::signin::ACR_SECOND_FACTOR
            || match &user {
                Some(u) => {
                    !super::signin::asks_second_factor(&req.params)
                        && !crate::accounts::second_factor::required(svc, u).await?
                }
                None => false,
            };
        if active && fresh && same && strong_enough && !req.prompt.iter().any(|p| p == "login") {
            usable = Some(s);
        }
    }
    let Some(session) = usable else {
        return if silent {
            Err(req.refuse("login_required", "the user is not signed in"))
        } else {
            Ok(Next::SignIn)
        };
    };
    if !clients::admits(svc, &req.client, session.user_id).await? {
        return Err(req.refuse("access_denied", "this user may not use this application"));
    }
    if needs_consent(svc, req, &session).await? {
        return if silent {
            Err(req.refuse("consent_required", "the user has not consented"))
        } else {
            Ok(Next::Consent(session))
        };
    }
    Ok(Next::Issue(session))
}

pub async fn needs_consent(svc: &Provider, req: &Checked, session: &Session) -> Result<bool, Refusal> {
    if req.prompt.iter().any(|p| p == "consent") {
        return Ok(true);
    }
    if !req.client.consent {
        return Ok(false);
    }
    let given = store::grants::consent_of(svc.store.reader(), session.user_id, &req.client.id).await?;
    let given = scope_list(given.as_deref().unwrap_or(""));
    Ok(!req.scopes.iter().all(|s| given.contains(s)))
}
