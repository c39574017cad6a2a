//! The token endpoint's grants, one module each.
pub mod authorization_code;
pub mod client_credentials;
mod issue;
pub mod refresh_token;
mod replay;
mod rotation;

use super::OidcError;
use super::client_auth::{self, ClientFields, Presented};
use super::clients;
use super::tokens::TokenResponse;
use crate::oidc::Provider;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

pub async fn exchange(
    svc: &Provider,
    basic: Option<(String, String)>,
    req: TokenRequest,
) -> Result<TokenResponse, OidcError> {
    let fields = ClientFields {
        client_id: req.client_id.clone(),
        client_secret: req.client_secret.clone(),
        client_assertion_type: req.client_assertion_type.clone(),
        client_assertion: req.client_assertion.clone(),
    };
    let presented = Presented::new(basic, fields, format!("{}/token", svc.config.issuer_id()));
    let grant_type = req.grant_type.as_deref().unwrap_or("");
    if grant_type.is_empty() {
        return Err(OidcError::invalid_request("grant_type is required"));
    }
    let client = client_auth::authenticate(svc, &presented).await?;
    if !client.allows_grant(grant_type) {
        return match grant_type {
            clients::AUTHORIZATION_CODE | clients::REFRESH_TOKEN | clients::CLIENT_CREDENTIALS => Err(
                OidcError::unauthorized_client(format!("this client may not use {grant_type}")),
            ),
            other => Err(OidcError::unsupported_grant_type(format!(
                "'{other}' is not a supported grant"
            ))),
        };
    }
    match grant_type {
        clients::AUTHORIZATION_CODE => authorization_code::exchange(svc, &client, &req).await,
        clients::REFRESH_TOKEN => refresh_token::exchange(svc, &client, &req).await,
        clients::CLIENT_CREDENTIALS => client_credentials::exchange(svc, &client, &req).await,
        other => Err(OidcError::unsupported_grant_type(format!(
            "'{other}' is not a supported grant"
        ))),
    }
}
