//! Integration tests: the real server on 127.0.0.1:0, spoken to over HTTP, and the
//! real `tessera` binary. Each test that touches storage runs on SQLite and, when
//! TESSERA_TEST_DATABASE_URL is set, on its own fresh PostgreSQL database.
mod scim_support;
mod support;

mod accounts;
mod cli;
mod config;
mod health;
mod mail;
mod scim_bulk;
mod scim_changes;
mod scim_queries;
mod scim_users;
mod setup;
