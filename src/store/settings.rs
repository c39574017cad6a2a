//! The settings an admin changed in the console, as (name, JSON value) rows.
use super::Result;
use chrono::{DateTime, Utc};
use entity::setting::{ActiveModel, Column, Entity};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

pub async fn all(c: &impl ConnectionTrait) -> Result<Vec<(String, serde_json::Value)>> {
    Ok(Entity::find()
        .all(c)
        .await?
        .into_iter()
        .map(|m| (m.name, m.value))
        .collect())
}

pub async fn put(
    c: &impl ConnectionTrait,
    name: &str,
    value: serde_json::Value,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    Entity::insert(ActiveModel {
        name: Set(name.to_string()),
        value: Set(value),
        updated_at: Set(now),
        updated_by: Set(Some(by.to_string())),
    })
    .on_conflict(
        OnConflict::column(Column::Name)
            .update_columns([Column::Value, Column::UpdatedAt, Column::UpdatedBy])
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(())
}
