//! OpenID Connect: clients, signing keys, SSO sessions, pending sign-ins, grants and
//! the codes and refresh tokens issued under them, revoked access tokens, consents,
//! and the back-channel logout outbox.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OidcClients {
    Table,
    Id,
    Name,
    SecretHash,
    Public,
    RedirectUris,
    PostLogoutUris,
    BackchannelLogoutUri,
    Grants,
    Consent,
    PkceRequired,
    IdTokenAlg,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OidcClientGroups {
    Table,
    ClientId,
    GroupId,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivateKey,
    PublicJwk,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum SsoSessions {
    Table,
    Id,
    TokenHash,
    UserId,
    AuthTime,
    Acr,
    Amr,
    CreatedAt,
    ExpiresAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Id,
    HandleHash,
    ClientId,
    Params,
    UserId,
    Stage,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OidcGrants {
    Table,
    Id,
    ClientId,
    UserId,
    SessionId,
    Scope,
    Claims,
    AuthTime,
    Acr,
    Amr,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    GrantId,
    RedirectUri,
    CodeChallenge,
    Nonce,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    GrantId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Jti,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scope,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BackchannelLogouts {
    Table,
    Id,
    ClientId,
    Uri,
    UserId,
    SessionId,
    Attempts,
    NextAttemptAt,
    CreatedAt,
    DeliveredAt,
    LastError,
}

fn cascade(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OidcClients::Table)
                .col(string(OidcClients::Id).primary_key())
                .col(string(OidcClients::Name))
                .col(blob_null(OidcClients::SecretHash))
                .col(boolean(OidcClients::Public))
                .col(json(OidcClients::RedirectUris))
                .col(json(OidcClients::PostLogoutUris))
                .col(string_null(OidcClients::BackchannelLogoutUri))
                .col(json(OidcClients::Grants))
                .col(boolean(OidcClients::Consent))
                .col(boolean(OidcClients::PkceRequired))
                .col(string(OidcClients::IdTokenAlg))
                .col(timestamp_with_time_zone(OidcClients::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OidcClientGroups::Table)
                .col(string(OidcClientGroups::ClientId))
                .col(uuid(OidcClientGroups::GroupId))
                .primary_key(
                    Index::create()
                        .col(OidcClientGroups::ClientId)
                        .col(OidcClientGroups::GroupId),
                )
                .foreign_key(&mut cascade(
                    (OidcClientGroups::Table, OidcClientGroups::ClientId),
                    (OidcClients::Table, OidcClients::Id),
                ))
                .foreign_key(&mut cascade(
                    (OidcClientGroups::Table, OidcClientGroups::GroupId),
                    (Groups::Table, Groups::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .col(string(SigningKeys::Kid).primary_key())
                .col(string(SigningKeys::Alg))
                .col(blob(SigningKeys::PrivateKey))
                .col(json(SigningKeys::PublicJwk))
                .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SsoSessions::Table)
                .col(uuid(SsoSessions::Id).primary_key())
                .col(blob(SsoSessions::TokenHash).unique_key())
                .col(uuid(SsoSessions::UserId))
                .col(timestamp_with_time_zone(SsoSessions::AuthTime))
                .col(string(SsoSessions::Acr))
                .col(json(SsoSessions::Amr))
                .col(timestamp_with_time_zone(SsoSessions::CreatedAt))
                .col(timestamp_with_time_zone(SsoSessions::ExpiresAt))
                .col(timestamp_with_time_zone_null(SsoSessions::EndedAt))
                .foreign_key(&mut cascade(
                    (SsoSessions::Table, SsoSessions::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sso_sessions_user")
                .table(SsoSessions::Table)
                .col(SsoSessions::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuthorizationRequests::Table)
                .col(uuid(AuthorizationRequests::Id).primary_key())
                .col(blob(AuthorizationRequests::HandleHash).unique_key())
                .col(string(AuthorizationRequests::ClientId))
                .col(json(AuthorizationRequests::Params))
                .col(uuid_null(AuthorizationRequests::UserId))
                .col(string(AuthorizationRequests::Stage))
                .col(timestamp_with_time_zone(AuthorizationRequests::CreatedAt))
                .col(timestamp_with_time_zone(AuthorizationRequests::ExpiresAt))
                .foreign_key(&mut cascade(
                    (AuthorizationRequests::Table, AuthorizationRequests::ClientId),
                    (OidcClients::Table, OidcClients::Id),
                ))
                .foreign_key(&mut cascade(
                    (AuthorizationRequests::Table, AuthorizationRequests::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OidcGrants::Table)
                .col(uuid(OidcGrants::Id).primary_key())
                .col(string(OidcGrants::ClientId))
                .col(uuid_null(OidcGrants::UserId))
                .col(uuid_null(OidcGrants::SessionId))
                .col(string(OidcGrants::Scope))
                .col(json_null(OidcGrants::Claims))
                .col(timestamp_with_time_zone_null(OidcGrants::AuthTime))
                .col(string_null(OidcGrants::Acr))
                .col(json(OidcGrants::Amr))
                .col(timestamp_with_time_zone(OidcGrants::CreatedAt))
                .col(timestamp_with_time_zone_null(OidcGrants::RevokedAt))
                .foreign_key(&mut cascade(
                    (OidcGrants::Table, OidcGrants::ClientId),
                    (OidcClients::Table, OidcClients::Id),
                ))
                .foreign_key(&mut cascade(
                    (OidcGrants::Table, OidcGrants::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("idx_oidc_grants_user", OidcGrants::UserId),
            ("idx_oidc_grants_session", OidcGrants::SessionId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(OidcGrants::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(AuthorizationCodes::Table)
                .col(blob(AuthorizationCodes::CodeHash).primary_key())
                .col(uuid(AuthorizationCodes::GrantId))
                .col(text(AuthorizationCodes::RedirectUri))
                .col(string_null(AuthorizationCodes::CodeChallenge))
                .col(text_null(AuthorizationCodes::Nonce))
                .col(timestamp_with_time_zone(AuthorizationCodes::CreatedAt))
                .col(timestamp_with_time_zone(AuthorizationCodes::ExpiresAt))
                .col(timestamp_with_time_zone_null(AuthorizationCodes::UsedAt))
                .foreign_key(&mut cascade(
                    (AuthorizationCodes::Table, AuthorizationCodes::GrantId),
                    (OidcGrants::Table, OidcGrants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(blob(RefreshTokens::TokenHash).primary_key())
                .col(uuid(RefreshTokens::GrantId))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .foreign_key(&mut cascade(
                    (RefreshTokens::Table, RefreshTokens::GrantId),
                    (OidcGrants::Table, OidcGrants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_grant")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::GrantId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RevokedTokens::Table)
                .col(string(RevokedTokens::Jti).primary_key())
                .col(timestamp_with_time_zone(RevokedTokens::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Consents::Table)
                .col(uuid(Consents::UserId))
                .col(string(Consents::ClientId))
                .col(string(Consents::Scope))
                .col(timestamp_with_time_zone(Consents::CreatedAt))
                .primary_key(Index::create().col(Consents::UserId).col(Consents::ClientId))
                .foreign_key(&mut cascade(
                    (Consents::Table, Consents::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut cascade(
                    (Consents::Table, Consents::ClientId),
                    (OidcClients::Table, OidcClients::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BackchannelLogouts::Table)
                .col(uuid(BackchannelLogouts::Id).primary_key())
                .col(string(BackchannelLogouts::ClientId))
                .col(text(BackchannelLogouts::Uri))
                .col(uuid(BackchannelLogouts::UserId))
                .col(uuid_null(BackchannelLogouts::SessionId))
                .col(integer(BackchannelLogouts::Attempts))
                .col(timestamp_with_time_zone(BackchannelLogouts::NextAttemptAt))
                .col(timestamp_with_time_zone(BackchannelLogouts::CreatedAt))
                .col(timestamp_with_time_zone_null(BackchannelLogouts::DeliveredAt))
                .col(text_null(BackchannelLogouts::LastError))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_backchannel_logouts_due")
                .table(BackchannelLogouts::Table)
                .col(BackchannelLogouts::DeliveredAt)
                .col(BackchannelLogouts::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
