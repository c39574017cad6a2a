//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3): a secret (Basic or form), a private_key_jwt assertion, or only the
//! id of a public client.
use super::client_assertion::{ASSERTION_TYPE, claimed_client, verify};
use super::clients::{self, Client};
use super::{OidcError, Provider};
use crate::crypto::{constant_time_eq, token_hash};

/// The client authentication fields of a token, revocation or introspection form.
#[derive(Debug, Default)]
pub struct ClientFields {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// How a client presented itself at the token endpoint.
#[derive(Debug, Default)]
pub struct Presented {
    pub basic: Option<(String, String)>,
    pub form_id: Option<String>,
    pub form_secret: Option<String>,
    /// `client_assertion_type` and `client_assertion` (private_key_jwt).
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
    /// The URL of the endpoint called: an assertion's `aud` may name it.
    pub endpoint: String,
}

impl Presented {
    /// `basic` from the Authorization header, `fields` from the form (an empty field
    /// counts as absent), `endpoint` the URL called.
    pub fn new(basic: Option<(String, String)>, fields: ClientFields, endpoint: String) -> Self {
        let given = |v: Option<String>| v.filter(|s| !s.is_empty());
        Self {
            basic,
            form_id: given(fields.client_id),
            form_secret: given(fields.client_secret),
            assertion_type: given(fields.client_assertion_type),
            assertion: given(fields.client_assertion),
            endpoint,
        }
    }
}

/// RFC 6749 §2.3: exactly one way of authenticating; public clients send only their id.
pub async fn authenticate(svc: &Provider, presented: &Presented) -> Result<Client, OidcError> {
    if presented.assertion.is_some() || presented.assertion_type.is_some() {
        return authenticate_by_assertion(svc, presented).await;
    }
    let (id, secret) = match (&presented.basic, &presented.form_id, &presented.form_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OidcError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        (Some((id, secret)), form_id, None) => {
            if form_id.as_ref().is_some_and(|f| f != id) {
                return Err(OidcError::invalid_client("client_id does not match the credentials"));
            }
            (id.clone(), Some(secret.clone()))
        }
        (None, Some(id), secret) => (id.clone(), secret.clone()),
        (None, None, _) => return Err(OidcError::invalid_client("client authentication is required")),
    };
    let fail = || OidcError::invalid_client("client authentication failed");
    let client = clients::lookup(svc, &id).await?.ok_or_else(fail)?;
    match (&client.secret_hash, secret) {
        (None, None) if client.public => Ok(client),
        (Some(hash), Some(secret)) => {
            if constant_time_eq(hash, &token_hash(&secret)) {
                Ok(client)
            } else {
                Err(fail())
            }
        }
        _ => Err(fail()),
    }
}

/// private_key_jwt: the assertion alone; a secret beside it is a second method.
async fn authenticate_by_assertion(svc: &Provider, presented: &Presented) -> Result<Client, OidcError> {
    if presented.basic.is_some() || presented.form_secret.is_some() {
        return Err(OidcError::invalid_request(
            "use one client authentication method, not two",
        ));
    }
    if presented.assertion_type.as_deref() != Some(ASSERTION_TYPE) {
        return Err(OidcError::invalid_request(format!(
            "client_assertion_type must be {ASSERTION_TYPE}"
        )));
    }
    let assertion = presented
        .assertion
        .as_deref()
        .ok_or_else(|| OidcError::invalid_request("client_assertion is required"))?;
    let fail = || OidcError::invalid_client("client authentication failed");
    let id = claimed_client(assertion).ok_or_else(fail)?;
    if presented.form_id.as_ref().is_some_and(|f| *f != id) {
        return Err(OidcError::invalid_client("client_id does not match the assertion"));
    }
    let client = clients::lookup(svc, &id).await?.ok_or_else(fail)?;
    // OIDC Core §9 names the token endpoint as aud, RFC 7523bis the issuer; either is
    // good at every endpoint, as is the endpoint called.
    let issuer = svc.config.issuer_id();
    let audiences = [
        issuer.to_string(),
        format!("{issuer}/token"),
        presented.endpoint.clone(),
    ];
    verify(svc, &client, assertion, &audiences).await?;
    Ok(client)
}
