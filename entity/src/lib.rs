//! sea-orm entities for Tessera's tables. Only `src/store/` names these.
pub mod audit_event;
pub mod group;
pub mod group_member;
pub mod mail_outbox;
pub mod one_time_token;
pub mod scim_client;
pub mod scim_client_group;
pub mod scim_request;
pub mod user;
pub mod user_value;
