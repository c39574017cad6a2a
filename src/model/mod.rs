//! Types that cross a layer boundary: the domain hands them to the store and gets them
//! back. Each file here imports nothing else of the project, so the layers above
//! (store, domain, protocols, HTTP) can depend on them without depending on each other.
pub mod audit;
pub mod backchannel_logout;
pub mod device;
pub mod filter;
pub mod grant;
pub mod group;
pub mod mail;
pub mod one_time_token;
pub mod query;
pub mod scim_client;
pub mod second_factor;
pub mod session;
pub mod settings;
pub mod sign_in;
pub mod signing_key;
pub mod user;
pub mod user_listing;
pub mod username;
