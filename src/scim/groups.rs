//! SCIM operations on Groups. Membership changes are applied row by row: adding or
//! removing a few members of a 10,000-member group touches only those rows.
use super::etag::{etag, version_of};
use super::filter::{self, CompValue, CompareOp, Filter};
use super::list::{self, ListParams};
use super::patch::{self, Op};
use super::rights;
use super::schema::{GROUP, GROUP_FILTER, Resource};
use super::users::query_error;
use super::{ScimClient, ScimError, base_url, canonical, parse_id};
use crate::audit::{self, Target};
use crate::directory::Group;
use crate::json::JsonFields;
use crate::model::group::{Member, MemberKind};
use crate::services::Services;
use crate::store::{self, StoreError};
use serde_json::{Value, json};
use uuid::Uuid;

fn base(svc: &Services) -> String {
    base_url(&svc.config.base_url())
}

fn write(base: &str, g: &Group, members: Option<&[Member]>) -> Value {
    let mut doc = json!({
        "schemas": [GROUP],
        "id": g.id,
        "displayName": g.display_name,
        "meta": {
            "resourceType": "Group",
            "created": g.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": g.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": format!("{base}/Groups/{}", g.id),
            "version": etag(g.version),
        },
    });
    if let Some(e) = &g.external_id {
        doc.set("externalId", json!(e));
    }
    if let Some(members) = members {
        let items = members
            .iter()
            .map(|m| {
                let (kind, path) = match m.kind {
                    MemberKind::User => ("User", "Users"),
                    MemberKind::Group => ("Group", "Groups"),
                };
                json!({"value": m.id, "$ref": format!("{base}/{path}/{}", m.id), "type": kind})
            })
            .collect();
        doc.set("members", Value::Array(items));
    }
    doc
}

async fn load(svc: &Services, client: &ScimClient, id: &str) -> Result<Group, ScimError> {
    let uuid = parse_id(id, Resource::Group)?;
    match store::scim::find_group(svc.store.reader(), uuid).await? {
        Some(g) if client.scope.sees_group(g.id) => Ok(g),
        _ => Err(ScimError::not_found(format!("Group {id} not found"))),
    }
}

/// Members are returned unless excluded, so a large group is only read when asked for.
fn wants_members(params: &ListParams) -> bool {
    let named = |list: &[String]| list.iter().any(|a| a.to_ascii_lowercase().starts_with("members"));
    if !params.attributes.is_empty() {
        return named(&params.attributes);
    }
    !named(&params.excluded)
}

async fn render(svc: &Services, client: &ScimClient, g: &Group, with_members: bool) -> Result<Value, ScimError> {
    let members = if with_members {
        let mut all = store::scim::members(svc.store.reader(), g.id).await?;
        // Users in a visible group are in scope by definition; nested groups may not be.
        all.retain(|m| matches!(m.kind, MemberKind::User) || client.scope.sees_group(m.id));
        Some(all)
    } else {
        None
    };
    Ok(write(&base(svc), g, members.as_deref()))
}

pub async fn get(svc: &Services, client: &ScimClient, id: &str, params: &ListParams) -> Result<Value, ScimError> {
    let g = load(svc, client, id).await?;
    render(svc, client, &g, wants_members(params)).await
}

fn check_version(version: i64, if_match: Option<&str>) -> Result<(), ScimError> {
    match if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(tag) if tag.split(',').any(|t| version_of(t) == Some(version)) => Ok(()),
        Some(_) => Err(ScimError::invalid_version(format!(
            "the resource has changed: its version is {}",
            etag(version)
        ))),
    }
}

struct GroupInput {
    display_name: String,
    external_id: Option<String>,
    members: Option<Vec<Result<Uuid, String>>>,
}

fn read(doc: &Value) -> Result<GroupInput, ScimError> {
    let display_name = doc
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?
        .to_string();
    if display_name.chars().count() > 256 || display_name.chars().any(char::is_control) {
        return Err(ScimError::invalid_value(
            "displayName must be at most 256 characters, without control characters",
        ));
    }
    let members = match doc.get("members") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(member_ids(items)),
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    };
    Ok(GroupInput {
        display_name,
        external_id: doc.get("externalId").and_then(Value::as_str).map(str::to_string),
        members,
    })
}

/// Member references as ids. `{"value": id}` and a bare id are both read; what is not
/// an id is kept as text, to be reported as ignored.
fn member_ids(items: &[Value]) -> Vec<Result<Uuid, String>> {
    items
        .iter()
        .map(|m| {
            let v = m
                .get("value")
                .and_then(Value::as_str)
                .or_else(|| m.as_str())
                .unwrap_or_default();
            Uuid::parse_str(v.trim()).map_err(|_| v.to_string())
        })
        .collect()
}

/// Members to write: existing users and groups the client may see. References to
/// anything else cannot be members; they are skipped and named in `ignored`, which
/// goes to the client's request log and the audit event.
struct Resolved {
    users: Vec<Uuid>,
    groups: Vec<Uuid>,
    ignored: Vec<String>,
}

async fn resolve(
    c: &impl store::Conn,
    client: &ScimClient,
    refs: &[Result<Uuid, String>],
) -> Result<Resolved, ScimError> {
    let ids: Vec<Uuid> = refs.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    let (users, groups) = store::scim::resolve_members(c, &ids).await?;
    let mut out = Resolved {
        users: Vec::new(),
        groups: Vec::new(),
        ignored: Vec::new(),
    };
    for r in refs {
        let id = match r {
            Ok(id) => *id,
            Err(text) => {
                out.ignored.push(text.clone());
                continue;
            }
        };
        if users.contains(&id) && store::scim::user_in_scope(c, id, &client.scope).await? {
            out.users.push(id);
        } else if groups.contains(&id) && client.scope.sees_group(id) {
            out.groups.push(id);
        } else {
            out.ignored.push(id.to_string());
        }
    }
    Ok(out)
}

/// The members a replacement drops: those not named again that the client can see
/// (a nested group outside its scope is not its to remove). Members named again keep
/// their rows, and with them their admin flag.
async fn stale_members(
    c: &impl store::Conn,
    client: &ScimClient,
    group_id: Uuid,
    kept: &Resolved,
) -> Result<Vec<Uuid>, ScimError> {
    Ok(store::scim::members(c, group_id)
        .await?
        .into_iter()
        .filter(|m| match m.kind {
            MemberKind::User => !kept.users.contains(&m.id),
            MemberKind::Group => client.scope.sees_group(m.id) && !kept.groups.contains(&m.id),
        })
        .map(|m| m.id)
        .collect())
}

/// A note for the request log about member references that were skipped.
fn ignored_note(ignored: &[String]) -> Option<String> {
    (!ignored.is_empty()).then(|| format!("ignored unknown members: {}", ignored.join(", ")))
}

async fn name_taken(c: &impl store::Conn, name: &str, except: Option<Uuid>) -> Result<(), ScimError> {
    match store::groups::find_by_name(c, name).await? {
        Some(g) if Some(g.id) != except => Err(ScimError::uniqueness(format!("a group named '{name}' already exists"))),
        _ => Ok(()),
    }
}

/// A group as changed, with a note for the request log (skipped member references).
pub type Changed = (Value, Option<String>);

pub async fn create(svc: &Services, client: &ScimClient, body: &Value) -> Result<Changed, ScimError> {
    if client.scope.is_limited() {
        return Err(ScimError::forbidden(
            "this SCIM client is limited to its groups and cannot create groups",
        ));
    }
    let doc = canonical::canonicalize(Resource::Group, body)?;
    let input = read(&doc)?;
    let now = svc.now();
    let g = Group {
        id: Uuid::now_v7(),
        display_name: input.display_name,
        external_id: input.external_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let tx = svc.store.begin().await?;
    name_taken(&tx, &g.display_name, None).await?;
    store::groups::insert(&tx, &g).await?;
    let mut count = 0;
    let mut ignored = Vec::new();
    if let Some(refs) = &input.members {
        let r = resolve(&tx, client, refs).await?;
        count = store::scim::add_members(&tx, g.id, &r.users, &r.groups, now).await?;
        ignored = r.ignored;
    }
    audit::record(
        &tx,
        &client
            .event("group.create", Some(Target::group(g.id, &g.display_name)))
            .with_detail(json!({ "members": count, "ignored_members": ignored })),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((render(svc, client, &g, true).await?, ignored_note(&ignored)))
}

pub async fn replace(
    svc: &Services,
    client: &ScimClient,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Changed, ScimError> {
    let before = load(svc, client, id).await?;
    check_version(before.version, if_match)?;
    let doc = canonical::canonicalize(Resource::Group, body)?;
    let input = read(&doc)?;
    let now = svc.now();
    let mut after = before.clone();
    after.display_name = input.display_name;
    after.external_id = input.external_id;
    after.updated_at = now;
    after.version = before.version + 1;
    let tx = svc.store.begin().await?;
    name_taken(&tx, &after.display_name, Some(after.id)).await?;
    if !store::scim::update_group(&tx, &after, before.version).await? {
        return Err(ScimError::invalid_version(
            "the group changed while this request was applied; retry",
        ));
    }
    let refs = input.members.unwrap_or_default();
    let r = resolve(&tx, client, &refs).await?;
    let stale = stale_members(&tx, client, after.id, &r).await?;
    let tx = rights::guard_admin_memberships(svc, tx, client, &after, Some(&stale)).await?;
    store::scim::remove_members(&tx, after.id, &stale).await?;
    let count = store::scim::add_members(&tx, after.id, &r.users, &r.groups, now).await?;
    audit::record(
        &tx,
        &client
            .event("group.replace", Some(Target::group(after.id, &after.display_name)))
            .with_detail(json!({ "members": count, "ignored_members": r.ignored })),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((render(svc, client, &after, true).await?, ignored_note(&r.ignored)))
}

/// What one PATCH operation does to a group.
enum Change {
    Rename(String),
    ExternalId(Option<String>),
    Add(Vec<Result<Uuid, String>>),
    Remove(Vec<Uuid>),
    RemoveAll,
    ReplaceMembers(Vec<Result<Uuid, String>>),
}

fn changes(op: &patch::Operation) -> Result<Vec<Change>, ScimError> {
    let value = op.value.as_ref();
    let Some(path) = &op.path else {
        let obj = value
            .and_then(Value::as_object)
            .ok_or_else(|| ScimError::invalid_syntax("without a path, the value must be an object"))?;
        let mut out = Vec::new();
        for (k, v) in obj {
            out.extend(changes(&patch::Operation {
                op: op.op,
                path: Some(k.clone()),
                value: Some(v.clone()),
            })?);
        }
        return Ok(out);
    };
    let parsed = filter::parse_path(path).map_err(|e| ScimError::invalid_path(e.to_string()))?;
    if let Some(urn) = &parsed.path.urn
        && !urn.eq_ignore_ascii_case(GROUP)
    {
        return Err(ScimError::invalid_path(format!("unknown schema '{urn}'")));
    }
    let attr = parsed.path.attr.to_ascii_lowercase();
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(vec![match (attr.as_str(), op.op) {
        ("displayname", Op::Remove) => return Err(ScimError::invalid_value("displayName is required")),
        ("displayname", _) => Change::Rename(
            text(value).ok_or_else(|| ScimError::invalid_value("displayName must be a non-empty string"))?,
        ),
        ("externalid", Op::Remove) => Change::ExternalId(None),
        ("externalid", _) => Change::ExternalId(text(value)),
        ("members", _) => members_change(op.op, parsed.filter.as_ref(), value)?,
        ("id" | "meta", _) => return Err(ScimError::mutability(format!("'{}' is read-only", parsed.path.attr))),
        _ => {
            return Err(ScimError::invalid_path(format!(
                "unknown attribute '{}'",
                parsed.path.attr
            )));
        }
    }])
}

fn members_change(op: Op, f: Option<&Filter>, value: Option<&Value>) -> Result<Change, ScimError> {
    let listed = || -> Result<Vec<Result<Uuid, String>>, ScimError> {
        match value {
            Some(Value::Array(items)) => Ok(member_ids(items)),
            Some(v @ (Value::Object(_) | Value::String(_))) => Ok(member_ids(std::slice::from_ref(v))),
            _ => Err(ScimError::invalid_value(
                "members must be given as [{\"value\": \"id\"}]",
            )),
        }
    };
    match (op, f) {
        (Op::Remove, Some(f)) => Ok(Change::Remove(ids_in(f)?)),
        // Entra ID removes members by listing them in the value.
        (Op::Remove, None) if value.is_some() => Ok(Change::Remove(listed()?.into_iter().flatten().collect())),
        (Op::Remove, None) => Ok(Change::RemoveAll),
        (Op::Add, None) => Ok(Change::Add(listed()?)),
        (Op::Replace, None) => Ok(Change::ReplaceMembers(listed()?)),
        (_, Some(_)) => Err(ScimError::invalid_path(
            "members[...] can only be removed; add members by value",
        )),
    }
}

/// `value eq "a" or value eq "b"` → [a, b].
fn ids_in(f: &Filter) -> Result<Vec<Uuid>, ScimError> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(v),
        } if path.attr.eq_ignore_ascii_case("value") => {
            Ok(Uuid::parse_str(v.trim()).map(|id| vec![id]).unwrap_or_default())
        }
        Filter::Or(a, b) => Ok([ids_in(a)?, ids_in(b)?].concat()),
        _ => Err(ScimError::invalid_filter(
            "members[...] takes value eq \"id\" (joined with or)",
        )),
    }
}

pub async fn patch(
    svc: &Services,
    client: &ScimClient,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    params: &ListParams,
) -> Result<Changed, ScimError> {
    let ops = patch::parse_request(body)?;
    let mut all = Vec::new();
    for op in &ops {
        all.extend(changes(op)?);
    }
    let before = load(svc, client, id).await?;
    check_version(before.version, if_match)?;
    let now = svc.now();
    let mut after = before.clone();
    let (mut added, mut removed) = (0usize, 0u64);
    let mut ignored = Vec::new();
    let mut tx = svc.store.begin().await?;
    for change in all {
        match change {
            Change::Rename(name) => {
                name_taken(&tx, &name, Some(after.id)).await?;
                after.display_name = name;
            }
            Change::ExternalId(e) => after.external_id = e,
            Change::Add(refs) => {
                let r = resolve(&tx, client, &refs).await?;
                added += store::scim::add_members(&tx, after.id, &r.users, &r.groups, now).await?;
                ignored.extend(r.ignored);
            }
            Change::Remove(ids) => {
                tx = rights::guard_admin_memberships(svc, tx, client, &after, Some(&ids)).await?;
                removed += store::scim::remove_members(&tx, after.id, &ids).await?;
            }
            Change::RemoveAll => {
                tx = rights::guard_admin_memberships(svc, tx, client, &after, None).await?;
                removed += store::scim::remove_all_members(&tx, after.id).await?;
            }
            Change::ReplaceMembers(refs) => {
                let r = resolve(&tx, client, &refs).await?;
                let stale = stale_members(&tx, client, after.id, &r).await?;
                tx = rights::guard_admin_memberships(svc, tx, client, &after, Some(&stale)).await?;
                removed += store::scim::remove_members(&tx, after.id, &stale).await?;
                added += store::scim::add_members(&tx, after.id, &r.users, &r.groups, now).await?;
                ignored.extend(r.ignored);
            }
        }
    }
    after.updated_at = now;
    after.version = before.version + 1;
    if !store::scim::update_group(&tx, &after, before.version).await? {
        return Err(ScimError::invalid_version(
            "the group changed while this request was applied; retry",
        ));
    }
    audit::record(
        &tx,
        &client
            .event("group.patch", Some(Target::group(after.id, &after.display_name)))
            .with_detail(json!({ "members_added": added, "members_removed": removed, "ignored_members": ignored })),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((
        render(svc, client, &after, wants_members(params)).await?,
        ignored_note(&ignored),
    ))
}

pub async fn delete(svc: &Services, client: &ScimClient, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
    if client.scope.is_limited() {
        return Err(ScimError::forbidden(
            "this SCIM client is limited to its groups and cannot delete groups",
        ));
    }
    let g = load(svc, client, id).await?;
    check_version(g.version, if_match)?;
    let now = svc.now();
    let tx = svc.store.begin().await?;
    let tx = rights::guard_admin_memberships(svc, tx, client, &g, None).await?;
    store::scim::delete_group(&tx, g.id).await?;
    audit::record(
        &tx,
        &client.event("group.delete", Some(Target::group(g.id, &g.display_name))),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn list(svc: &Services, client: &ScimClient, params: &ListParams) -> Result<Value, ScimError> {
    let sort = list::sort(params, list::group_sort_key)?;
    let page = params.page();
    let (total, groups) = store::scim::list_groups(
        svc.store.reader(),
        params.filter.as_ref().map(|f| (f, &GROUP_FILTER)),
        &client.scope,
        sort.as_ref(),
        &page,
    )
    .await
    .map_err(query_error)?;
    let with_members = wants_members(params);
    let mut resources = Vec::with_capacity(groups.len());
    for g in &groups {
        let doc = render(svc, client, g, with_members).await?;
        resources.push(list::project(
            Resource::Group,
            doc,
            &params.attributes,
            &params.excluded,
        ));
    }
    Ok(list::response(total, page.start_index, resources))
}
