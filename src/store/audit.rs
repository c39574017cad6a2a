use super::Result;
use crate::model::audit::{AuditQuery, Event, StoredEvent};
use chrono::{DateTime, Utc};
use entity::audit_event::{ActiveModel, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

pub async fn append(c: &impl ConnectionTrait, e: &Event, at: DateTime<Utc>) -> Result<()> {
    Entity::insert(row(e, at)).exec_without_returning(c).await?;
    Ok(())
}

/// Several events in one statement.
pub async fn append_many(c: &impl ConnectionTrait, events: &[(Event, DateTime<Utc>)]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    Entity::insert_many(events.iter().map(|(e, at)| row(e, *at)))
        .exec_without_returning(c)
        .await?;
    Ok(())
}

fn row(e: &Event, at: DateTime<Utc>) -> ActiveModel {
    ActiveModel {
        id: NotSet,
        at: Set(at),
        actor_kind: Set(e.actor.kind.as_str().to_string()),
        actor_id: Set(e.actor.id.clone()),
        actor_label: Set(e.actor.label.clone()),
        action: Set(e.action.to_string()),
        target_kind: Set(e.target.as_ref().map(|t| t.kind.to_string())),
        target_id: Set(e.target.as_ref().map(|t| t.id.clone())),
        target_label: Set(e.target.as_ref().map(|t| t.label.clone())),
        source_ip: Set(e.source_ip.clone()),
        outcome: Set(e.outcome.as_str().to_string()),
        detail: Set(e.detail.clone()),
    }
}

/// Newest first; optionally only events about one target.
pub async fn recent(c: &impl ConnectionTrait, target_id: Option<&str>, limit: u64) -> Result<Vec<StoredEvent>> {
    let mut q = Entity::find();
    if let Some(t) = target_id {
        q = q.filter(Column::TargetId.eq(t));
    }
    Ok(q.order_by_desc(Column::Id)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(to_stored)
        .collect())
}

/// The first event of `action` about a target (where a user came from).
pub async fn first(c: &impl ConnectionTrait, target_id: &str, action: &str) -> Result<Option<StoredEvent>> {
    Ok(Entity::find()
        .filter(Column::TargetId.eq(target_id))
        .filter(Column::Action.eq(action))
        .order_by_asc(Column::Id)
        .one(c)
        .await?
        .map(to_stored))
}

fn to_stored(m: entity::audit_event::Model) -> StoredEvent {
    StoredEvent {
        id: m.id,
        at: m.at,
        actor_kind: m.actor_kind,
        actor_id: m.actor_id,
        actor_label: m.actor_label,
        action: m.action,
        target_kind: m.target_kind,
        target_id: m.target_id,
        target_label: m.target_label,
        source_ip: m.source_ip,
        outcome: m.outcome,
        detail: m.detail,
    }
}

/// When a target last signed in (a password, code or passkey accepted, or a password
/// chosen through an invite or reset link, which signs the person in).
pub async fn last_sign_in(c: &impl ConnectionTrait, target_id: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(Entity::find()
        .filter(Column::TargetId.eq(target_id))
        .filter(Column::Action.is_in([
            "login.password",
            "login.second_factor",
            "login.passkey",
            "user.invite_accept",
            "user.password_reset",
        ]))
        .filter(Column::Outcome.eq("success"))
        .order_by_desc(Column::Id)
        .one(c)
        .await?
        .map(|m| m.at))
}

/// Who or what: part of the name in any case, or the exact id.
fn names(label: Column, id: Column, text: &str) -> Condition {
    let pattern = format!("%{}%", super::scim_filter::escape_like(&text.to_lowercase()));
    Condition::any()
        .add(Expr::expr(Func::lower(Expr::col(label))).like(LikeExpr::new(pattern).escape('\\')))
        .add(id.eq(text))
}

/// The events `q` selects, newest first.
pub async fn search(c: &impl ConnectionTrait, q: &AuditQuery) -> Result<Vec<StoredEvent>> {
    let mut all = Condition::all();
    if let Some(actor) = &q.actor {
        all = all.add(names(Column::ActorLabel, Column::ActorId, actor));
    }
    if let Some(target) = &q.target {
        all = all.add(names(Column::TargetLabel, Column::TargetId, target));
    }
    match q.action.as_deref() {
        Some(family) if family.ends_with('.') => {
            let pattern = format!("{}%", super::scim_filter::escape_like(family));
            all = all.add(Expr::col(Column::Action).like(LikeExpr::new(pattern).escape('\\')));
        }
        Some(action) => all = all.add(Column::Action.eq(action)),
        None => {}
    }
    if let Some(since) = q.since {
        all = all.add(Column::At.gte(since));
    }
    if let Some(until) = q.until {
        all = all.add(Column::At.lt(until));
    }
    if let Some(before) = q.before_id {
        all = all.add(Column::Id.lt(before));
    }
    Ok(Entity::find()
        .filter(all)
        .order_by_desc(Column::Id)
        .limit(q.limit)
        .all(c)
        .await?
        .into_iter()
        .map(to_stored)
        .collect())
}
