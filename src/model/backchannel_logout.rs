//! A back-channel logout waiting to be delivered to a client.
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct BackchannelLogout {
    pub id: Uuid,
    pub client_id: String,
    pub uri: String,
    /// The logout token's `sub`; `sid` when one session ended, none when all did.
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub attempts: i32,
}
