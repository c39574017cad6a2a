//! Grants and what is issued under them: authorization codes, refresh tokens; access
//! tokens revoked one by one; remembered consents.
use super::Result;
use chrono::{DateTime, Utc};
use entity::{authorization_code, consent, oidc_client, oidc_grant, refresh_token, revoked_token};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::model::grant::{AuthorizationCode, ClientToTell, Grant, RefreshToken};

fn to_grant(g: oidc_grant::Model) -> Grant {
    Grant {
        amr: super::json_strings(&g.amr),
        id: g.id,
        client_id: g.client_id,
        user_id: g.user_id,
        session_id: g.session_id,
        scope: g.scope,
        claims: g.claims,
        auth_time: g.auth_time,
        acr: g.acr,
        created_at: g.created_at,
        revoked_at: g.revoked_at,
    }
}

fn to_code(c: authorization_code::Model) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: c.code_hash,
        grant_id: c.grant_id,
        redirect_uri: c.redirect_uri,
        code_challenge: c.code_challenge,
        nonce: c.nonce,
        created_at: c.created_at,
        expires_at: c.expires_at,
        used_at: c.used_at,
    }
}

fn to_refresh(t: refresh_token::Model) -> RefreshToken {
    RefreshToken {
        token_hash: t.token_hash,
        grant_id: t.grant_id,
        created_at: t.created_at,
        expires_at: t.expires_at,
        used_at: t.used_at,
        rotated_from: t.rotated_from,
    }
}

pub async fn insert_grant(c: &impl ConnectionTrait, g: &Grant) -> Result<()> {
    oidc_grant::Entity::insert(oidc_grant::ActiveModel {
        id: Set(g.id),
        client_id: Set(g.client_id.clone()),
        user_id: Set(g.user_id),
        session_id: Set(g.session_id),
        scope: Set(g.scope.clone()),
        claims: Set(g.claims.clone()),
        auth_time: Set(g.auth_time),
        acr: Set(g.acr.clone()),
        amr: Set(serde_json::json!(g.amr)),
        created_at: Set(g.created_at),
        revoked_at: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub async fn find_grant(c: &impl ConnectionTrait, id: Uuid) -> Result<Option<Grant>> {
    Ok(oidc_grant::Entity::find_by_id(id).one(c).await?.map(to_grant))
}

pub async fn revoke_grant(c: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    oidc_grant::Entity::update_many()
        .col_expr(oidc_grant::Column::RevokedAt, Expr::value(now))
        .filter(oidc_grant::Column::Id.eq(id))
        .filter(oidc_grant::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

/// Revokes the live grants of the given sessions, or of a user; returns the clients
/// they were for, with each client's back-channel logout URI.
pub async fn revoke_where(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    sessions: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<Vec<ClientToTell>> {
    let mut live = oidc_grant::Entity::find()
        .filter(oidc_grant::Column::UserId.eq(user_id))
        .filter(oidc_grant::Column::RevokedAt.is_null());
    if let Some(ids) = sessions {
        live = live.filter(oidc_grant::Column::SessionId.is_in(ids.to_vec()));
    }
    let grants = live.all(c).await?;
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    oidc_grant::Entity::update_many()
        .col_expr(oidc_grant::Column::RevokedAt, Expr::value(now))
        .filter(oidc_grant::Column::Id.is_in(grants.iter().map(|g| g.id).collect::<Vec<_>>()))
        .exec(c)
        .await?;
    let mut out: Vec<ClientToTell> = Vec::new();
    for g in grants {
        if out
            .iter()
            .any(|t| t.client_id == g.client_id && t.session_id == g.session_id)
        {
            continue;
        }
        let uri = oidc_client::Entity::find_by_id(g.client_id.clone())
            .one(c)
            .await?
            .and_then(|cl| cl.backchannel_logout_uri);
        out.push(ClientToTell {
            client_id: g.client_id,
            backchannel_logout_uri: uri,
            session_id: g.session_id,
        });
    }
    Ok(out)
}

pub async fn insert_code(c: &impl ConnectionTrait, code: &AuthorizationCode) -> Result<()> {
    authorization_code::Entity::insert(authorization_code::ActiveModel {
        code_hash: Set(code.code_hash.clone()),
        grant_id: Set(code.grant_id),
        redirect_uri: Set(code.redirect_uri.clone()),
        code_challenge: Set(code.code_challenge.clone()),
        nonce: Set(code.nonce.clone()),
        created_at: Set(code.created_at),
        expires_at: Set(code.expires_at),
        used_at: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// A code and its grant, in one query.
pub async fn find_code_and_grant(c: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<(AuthorizationCode, Grant)>> {
    let found = authorization_code::Entity::find_by_id(hash.to_vec())
        .find_also_related(oidc_grant::Entity)
        .one(c)
        .await?;
    Ok(found.and_then(|(code, grant)| grant.map(|g| (to_code(code), to_grant(g)))))
}

/// Marks the code used; false if it already was (a replay).
pub async fn use_code(c: &impl ConnectionTrait, hash: &[u8], now: DateTime<Utc>) -> Result<bool> {
    let res = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::UsedAt, Expr::value(now))
        .filter(authorization_code::Column::CodeHash.eq(hash.to_vec()))
        .filter(authorization_code::Column::UsedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_refresh(
    c: &impl ConnectionTrait,
    hash: Vec<u8>,
    grant_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        token_hash: Set(hash),
        grant_id: Set(grant_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        rotated_from: Set(None),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub async fn find_refresh(c: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<RefreshToken>> {
    Ok(refresh_token::Entity::find_by_id(hash.to_vec())
        .one(c)
        .await?
        .map(to_refresh))
}

/// A refresh token and its grant, in one query.
pub async fn find_refresh_and_grant(c: &impl ConnectionTrait, hash: &[u8]) -> Result<Option<(RefreshToken, Grant)>> {
    let found = refresh_token::Entity::find_by_id(hash.to_vec())
        .find_also_related(oidc_grant::Entity)
        .one(c)
        .await?;
    Ok(found.and_then(|(token, grant)| grant.map(|g| (to_refresh(token), to_grant(g)))))
}

/// Whether a refresh token has been rotated (has a successor).
pub async fn has_successor(c: &impl ConnectionTrait, hash: &[u8]) -> Result<bool> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::RotatedFrom.eq(hash.to_vec()))
        .one(c)
        .await?
        .is_some())
}

/// Rotation in one statement: stores `successor` in place of `used`, only when `used`
/// exists, was not used up and has no successor yet. False means another request used
/// it first (reuse). The unique index on `rotated_from` settles two at once on PostgreSQL.
pub async fn rotate_refresh(
    c: &impl ConnectionTrait,
    used: &[u8],
    successor: Vec<u8>,
    grant_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<bool> {
    use refresh_token::Column as R;
    let unused = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(R::TokenHash.eq(used.to_vec()))
        .and_where(R::UsedAt.is_null())
        .to_owned();
    let replaced = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(R::RotatedFrom.eq(used.to_vec()))
        .to_owned();
    let row = Query::select()
        .exprs([
            Expr::val(successor),
            Expr::val(grant_id),
            Expr::val(now),
            Expr::val(expires_at),
            Expr::val(used.to_vec()),
        ])
        .and_where(Expr::exists(unused))
        .and_where(Expr::not_exists(replaced))
        .to_owned();
    let insert = Query::insert()
        .into_table(refresh_token::Entity)
        .columns([R::TokenHash, R::GrantId, R::CreatedAt, R::ExpiresAt, R::RotatedFrom])
        .select_from(row)
        .map_err(|e| super::StoreError::Statement(e.to_string()))?
        .to_owned();
    match c.execute(&insert).await {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) => match super::StoreError::from(e) {
            super::StoreError::Conflict(_) => Ok(false),
            other => Err(other),
        },
    }
}

/// Marks a refresh token used up without a successor; false if it already was: reuse.
pub async fn use_refresh(c: &impl ConnectionTrait, hash: &[u8], now: DateTime<Utc>) -> Result<bool> {
    let replaced = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(refresh_token::Column::RotatedFrom.eq(hash.to_vec()))
        .to_owned();
    let res = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.to_vec()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(Expr::not_exists(replaced))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Marks an access token's id revoked until it expires (already revoked is fine).
pub async fn revoke_jti(c: &impl ConnectionTrait, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
    spend_jti(c, jti, expires_at).await.map(|_| ())
}

/// Records a one-time id until `expires_at`; false if it was recorded before.
pub async fn spend_jti(c: &impl ConnectionTrait, jti: &str, expires_at: DateTime<Utc>) -> Result<bool> {
    let res = revoked_token::Entity::insert(revoked_token::ActiveModel {
        jti: Set(jti.to_string()),
        expires_at: Set(expires_at),
    })
    .on_conflict(OnConflict::column(revoked_token::Column::Jti).do_nothing().to_owned())
    .exec_without_returning(c)
    .await;
    match res {
        Ok(rows) => Ok(rows == 1),
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn is_jti_revoked(c: &impl ConnectionTrait, jti: &str) -> Result<bool> {
    Ok(revoked_token::Entity::find_by_id(jti.to_string())
        .one(c)
        .await?
        .is_some())
}

pub async fn consent_of(c: &impl ConnectionTrait, user_id: Uuid, client_id: &str) -> Result<Option<String>> {
    Ok(consent::Entity::find_by_id((user_id, client_id.to_string()))
        .one(c)
        .await?
        .map(|r| r.scope))
}

pub async fn save_consent(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    consent::Entity::insert(consent::ActiveModel {
        user_id: Set(user_id),
        client_id: Set(client_id.to_string()),
        scope: Set(scope.to_string()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
            .update_columns([consent::Column::Scope, consent::Column::CreatedAt])
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(())
}
