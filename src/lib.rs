//! Tessera: an identity provider for organisations with many sites.
//!
//! Layers (see DESIGN.md): `http` (axum) → protocol modules → domain
//! (`accounts`, `directory`, `audit`, `mail`) → `store` (sea-orm).
pub mod accounts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod http;
pub mod limits;
pub mod mail;
pub mod oidc;
pub mod scim;
pub mod services;
pub mod sessions;
pub mod store;
