use super::Result;
use crate::model::mail::{Link, LinkState, MailStatus, OutboxMail, SentMail};
use chrono::{DateTime, Utc};
use entity::mail_outbox::{self, ActiveModel, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

fn to_domain(m: mail_outbox::Model) -> OutboxMail {
    OutboxMail {
        id: m.id,
        purpose: m.purpose,
        user_id: m.user_id,
        to_address: m.to_address,
        subject: m.subject,
        body_text: m.body_text,
        body_html: m.body_html,
        status: MailStatus::parse(&m.status),
        attempts: m.attempts,
        next_attempt_at: m.next_attempt_at,
        last_error: m.last_error,
        created_at: m.created_at,
        sent_at: m.sent_at,
        token_id: m.token_id,
    }
}

pub async fn insert(c: &impl ConnectionTrait, m: &OutboxMail, claimed_until: Option<DateTime<Utc>>) -> Result<()> {
    let row = ActiveModel {
        id: Set(m.id),
        purpose: Set(m.purpose.clone()),
        user_id: Set(m.user_id),
        to_address: Set(m.to_address.clone()),
        subject: Set(m.subject.clone()),
        body_text: Set(m.body_text.clone()),
        body_html: Set(m.body_html.clone()),
        status: Set(m.status.as_str().to_string()),
        attempts: Set(m.attempts),
        next_attempt_at: Set(m.next_attempt_at),
        claimed_until: Set(claimed_until),
        last_error: Set(None),
        created_at: Set(m.created_at),
        sent_at: Set(None),
        token_id: Set(m.token_id),
    };
    Entity::insert(row).exec_without_returning(c).await?;
    Ok(())
}

pub async fn find(c: &impl ConnectionTrait, id: Uuid) -> Result<Option<OutboxMail>> {
    Ok(Entity::find_by_id(id).one(c).await?.map(to_domain))
}

/// Ids of mail ready to send: queued and due, or stuck in `sending` past its claim
/// (the node that claimed it died).
pub async fn due(c: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<Uuid>> {
    let queued = Condition::all()
        .add(Column::Status.eq(MailStatus::Queued.as_str()))
        .add(Column::NextAttemptAt.lte(now));
    let abandoned = Condition::all()
        .add(Column::Status.eq(MailStatus::Sending.as_str()))
        .add(Column::ClaimedUntil.lt(now));
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Condition::any().add(queued).add(abandoned))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(c)
        .await?)
}

/// Takes a mail for sending until `until`. Only one claimant wins, on any node.
pub async fn claim(
    c: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<OutboxMail>> {
    let claimable = Condition::any()
        .add(
            Condition::all()
                .add(Column::Status.eq(MailStatus::Queued.as_str()))
                .add(Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(Column::Status.eq(MailStatus::Sending.as_str()))
                .add(Column::ClaimedUntil.lt(now)),
        );
    let res = Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Sending.as_str()))
        .col_expr(Column::ClaimedUntil, Expr::value(until))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(claimable)
        .exec(c)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    find(c, id).await
}

/// Records the end of an attempt: sent, retry later, failed for good, or cancelled.
pub async fn finish(
    c: &impl ConnectionTrait,
    id: Uuid,
    status: MailStatus,
    next_attempt_at: Option<DateTime<Utc>>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(error.map(str::to_string)));
    if let Some(next) = next_attempt_at {
        update = update.col_expr(Column::NextAttemptAt, Expr::value(next));
    }
    if status == MailStatus::Sent {
        update = update.col_expr(Column::SentAt, Expr::value(now));
    }
    // A mail cancelled while it was being sent stays cancelled.
    update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(MailStatus::Sending.as_str()))
        .exec(c)
        .await?;
    if status != MailStatus::Queued {
        scrub_links(c, Condition::all().add(Column::Id.eq(id))).await?;
    }
    Ok(())
}

/// What stays of a mail that carried a one-time link once it is sent, failed or
/// cancelled: its subject and state, not the link (the token is stored only hashed).
const SCRUBBED: &str = "(The body is not kept: it carried a one-time link or password.)";

/// Mail that carries a secret without a token: an admin's temporary password.
pub const SECRET_PURPOSES: [&str; 1] = ["temporary_password"];

async fn scrub_links(c: &impl ConnectionTrait, which: Condition) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::BodyText, Expr::value(SCRUBBED))
        .col_expr(Column::BodyHtml, Expr::value(Option::<String>::None))
        .filter(which)
        .filter(
            Condition::any()
                .add(Column::TokenId.is_not_null())
                .add(Column::Purpose.is_in(SECRET_PURPOSES)),
        )
        .filter(Column::Status.is_not_in([MailStatus::Queued.as_str(), MailStatus::Sending.as_str()]))
        .exec(c)
        .await?;
    Ok(())
}

/// Cancels a user's unsent mail (the user was disabled or deleted).
pub async fn cancel_for_user(c: &impl ConnectionTrait, user_id: Uuid, reason: &str) -> Result<u64> {
    cancel_where(c, user_id, None, reason).await
}

/// Cancels a user's unsent mail of one purpose (an invite a newer one replaces).
pub async fn cancel_purpose(c: &impl ConnectionTrait, user_id: Uuid, purpose: &str, reason: &str) -> Result<u64> {
    cancel_where(c, user_id, Some(purpose), reason).await
}

async fn cancel_where(c: &impl ConnectionTrait, user_id: Uuid, purpose: Option<&str>, reason: &str) -> Result<u64> {
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Cancelled.as_str()))
        .col_expr(Column::LastError, Expr::value(reason))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Status.is_in([MailStatus::Queued.as_str(), MailStatus::Sending.as_str()]));
    let which = match purpose {
        Some(p) => Condition::all()
            .add(Column::UserId.eq(user_id))
            .add(Column::Purpose.eq(p)),
        None => Condition::all().add(Column::UserId.eq(user_id)),
    };
    let cancelled = update.filter(which.clone()).exec(c).await?.rows_affected;
    scrub_links(c, which).await?;
    Ok(cancelled)
}

/// The mail a user was sent, newest first, each with what became of its link.
pub async fn history_of(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<SentMail>> {
    use entity::one_time_token;
    let mails: Vec<OutboxMail> = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    let ids: Vec<Uuid> = mails.iter().filter_map(|m| m.token_id).collect();
    let tokens = one_time_token::Entity::find()
        .filter(one_time_token::Column::Id.is_in(ids))
        .all(c)
        .await?;
    Ok(mails
        .into_iter()
        .map(|mail| {
            let link = mail
                .token_id
                .and_then(|id| tokens.iter().find(|t| t.id == id))
                .map(|t| Link {
                    state: if t.voided_at.is_some() {
                        LinkState::Voided
                    } else if t.consumed_at.is_some() {
                        LinkState::Accepted
                    } else if t.expires_at <= now {
                        LinkState::Expired
                    } else if t.opened_at.is_some() {
                        LinkState::Opened
                    } else {
                        LinkState::Unopened
                    },
                    expires_at: t.expires_at,
                    opened_at: t.opened_at,
                });
            SentMail { mail, link }
        })
        .collect())
}
