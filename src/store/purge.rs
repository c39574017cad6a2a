//! Deleting rows that can no longer matter: expired codes, refresh tokens, sessions,
//! sign-ins, revoked-token entries, finished grants and back-channel logouts.
//!
//! Candidates are found on the reader (a scan there does not hold SQLite's write lock),
//! then deleted by primary key in small chunks, the condition checked again in the
//! DELETE so a row that came back to life in between stays.
use super::Result;
use chrono::{DateTime, Utc};
use entity::{
    authorization_code, authorization_request, backchannel_logout, known_device, oidc_grant, passkey_challenge,
    refresh_token, revoked_token, sso_session,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TryGetableMany, Value};

/// Rows deleted per statement: short write transactions between other requests' writes.
const CHUNK: u64 = 500;
/// At most this many rows per table and run; the next run goes on.
const MAX_PER_RUN: u64 = 100_000;

/// Deletes the rows of `E` meeting `cond`, chunk by chunk; how many it deleted.
async fn delete_where<E, V>(
    reader: &impl ConnectionTrait,
    writer: &impl ConnectionTrait,
    pk: E::Column,
    cond: Condition,
) -> Result<u64>
where
    E: EntityTrait,
    V: TryGetableMany + Into<Value> + Send + Sync,
{
    let mut deleted = 0;
    while deleted < MAX_PER_RUN {
        let ids: Vec<V> = E::find()
            .select_only()
            .column(pk)
            .filter(cond.clone())
            .limit(CHUNK)
            .into_tuple()
            .all(reader)
            .await?;
        let found = ids.len() as u64;
        if found == 0 {
            break;
        }
        let res = E::delete_many()
            .filter(pk.is_in(ids))
            .filter(cond.clone())
            .exec(writer)
            .await?;
        deleted += res.rows_affected;
        // Fewer than a chunk left, or rows the reader still sees but the writer would
        // not delete: either way, the next run goes on.
        if found < CHUNK || res.rows_affected == 0 {
            break;
        }
    }
    Ok(deleted)
}

/// Codes never exchanged that expired before `before`. A used code stays as long as its
/// grant (and goes with it): replaying it revokes what it issued (RFC 6749 §4.1.2).
pub async fn unused_codes(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use authorization_code::{Column, Entity};
    let cond = Condition::all()
        .add(Column::ExpiresAt.lt(before))
        .add(Column::UsedAt.is_null());
    delete_where::<Entity, Vec<u8>>(r, w, Column::CodeHash, cond).await
}

/// Refresh tokens, used or not, that expired before `before`.
pub async fn refresh_tokens(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use refresh_token::{Column, Entity};
    let cond = Condition::all().add(Column::ExpiresAt.lt(before));
    delete_where::<Entity, Vec<u8>>(r, w, Column::TokenHash, cond).await
}

/// Grants revoked before `before`, and grants created before `before` none of whose
/// refresh tokens expires after it: nothing issued under them can still be valid.
pub async fn grants(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use oidc_grant::{Column, Entity};
    let live_refresh = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(
            Expr::col((refresh_token::Entity, refresh_token::Column::GrantId)).equals((oidc_grant::Entity, Column::Id)),
        )
        .and_where(refresh_token::Column::ExpiresAt.gte(before))
        .to_owned();
    let cond = Condition::any().add(Column::RevokedAt.lt(before)).add(
        Condition::all()
            .add(Column::CreatedAt.lt(before))
            .add(Expr::not_exists(live_refresh)),
    );
    delete_where::<Entity, uuid::Uuid>(r, w, Column::Id, cond).await
}

/// Browser sessions that ended or expired before `before`.
pub async fn sessions(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use sso_session::{Column, Entity};
    let cond = Condition::any()
        .add(Column::EndedAt.lt(before))
        .add(Column::ExpiresAt.lt(before));
    delete_where::<Entity, uuid::Uuid>(r, w, Column::Id, cond).await
}

/// Sign-ins abandoned past their expiry.
pub async fn pending_sign_ins(
    r: &impl ConnectionTrait,
    w: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64> {
    use authorization_request::{Column, Entity};
    let cond = Condition::all().add(Column::ExpiresAt.lt(before));
    delete_where::<Entity, uuid::Uuid>(r, w, Column::Id, cond).await
}

/// Revoked access-token ids whose tokens expired anyway.
pub async fn revoked_jtis(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use revoked_token::{Column, Entity};
    let cond = Condition::all().add(Column::ExpiresAt.lt(before));
    delete_where::<Entity, String>(r, w, Column::Jti, cond).await
}

/// Back-channel logouts delivered before `delivered_before`, and any (given up or not)
/// queued before `queued_before`.
pub async fn backchannel_logouts(
    r: &impl ConnectionTrait,
    w: &impl ConnectionTrait,
    delivered_before: DateTime<Utc>,
    queued_before: DateTime<Utc>,
) -> Result<u64> {
    use backchannel_logout::{Column, Entity};
    let cond = Condition::any()
        .add(Column::DeliveredAt.lt(delivered_before))
        .add(Column::CreatedAt.lt(queued_before));
    delete_where::<Entity, uuid::Uuid>(r, w, Column::Id, cond).await
}

/// Browsers not seen since `before`: their device cookie has expired in the browser too.
pub async fn known_devices(r: &impl ConnectionTrait, w: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    use known_device::{Column, Entity};
    let cond = Condition::all().add(Column::LastSeenAt.lt(before));
    delete_where::<Entity, uuid::Uuid>(r, w, Column::Id, cond).await
}

/// Passkey ceremonies started and never finished.
pub async fn passkey_challenges(
    r: &impl ConnectionTrait,
    w: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64> {
    use passkey_challenge::{Column, Entity};
    let cond = Condition::all().add(Column::ExpiresAt.lt(before));
    delete_where::<Entity, uuid::Uuid>(r, w, Column::OwnerId, cond).await
}
