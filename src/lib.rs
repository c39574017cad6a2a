//! Tessera: an identity provider for organisations with many sites.
//!
//! Layers (see DESIGN.md): `http` (axum) → protocol modules → domain
//! (`accounts`, `directory`, `audit`, `mail`) → `store` (sea-orm).
// Input must never panic the server: no indexing, slicing, unwrap, expect or panic in
// library code (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
pub mod accounts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod http;
pub mod json;
pub mod limits;
pub mod mail;
pub mod model;
pub mod oidc;
pub mod scim;
pub mod services;
pub mod sessions;
pub mod settings;
pub(crate) mod store;
