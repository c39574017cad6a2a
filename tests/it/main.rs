//! Integration tests: the real server on 127.0.0.1:0, spoken to over HTTP, and the
//! real `tessera` binary. Each test that touches storage runs on SQLite and, when
//! TESSERA_TEST_DATABASE_URL is set, on its own fresh PostgreSQL database.
mod scim_support;
mod support;

mod account_page;
mod accounts;
mod admin_apps;
mod admin_console;
mod admin_profile;
mod architecture;
mod cli;
mod config;
mod fuzz_regressions;
mod health;
mod http_answers;
mod http_hardening;
mod invites;
mod mail;
mod oidc_basic_claims;
mod oidc_basic_flow;
mod oidc_basic_grants;
mod oidc_basic_id_token;
mod oidc_basic_params;
mod oidc_basic_request_objects;
mod oidc_client_auth;
mod oidc_client_rights;
mod oidc_config;
mod oidc_deprovision;
mod oidc_logout;
mod oidc_purge;
mod oidc_request_limits;
mod oidc_requested_subject;
mod oidc_signin;
mod oidc_tokens;
mod passkeys;
mod resets;
mod scim_bulk;
mod scim_changes;
mod scim_queries;
mod scim_rights;
mod scim_users;
mod scim_values;
mod second_factors;
mod setup;
mod usernames;
