//! A user's claims, by scope (OIDC Core §5.4) and by the `claims` request parameter.
use crate::accounts::{MultiValue, User};
use crate::services::Services;
use crate::store;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// What claims are made from.
pub struct Subject {
    pub user: User,
    /// Loaded only when a wanted claim needs them (see `load`).
    pub groups: Vec<String>,
    pub values: Vec<MultiValue>,
}

/// The user and what the claims of `scopes` plus `requested` are made from: groups and
/// multi-valued attributes are read only when one of those claims needs them, since
/// every read is a round trip on the token endpoint's hot path.
pub async fn load(
    svc: &Services,
    user_id: Uuid,
    scopes: &[String],
    requested: &[String],
) -> Result<Option<Subject>, store::StoreError> {
    let names: Vec<&str> = scopes
        .iter()
        .flat_map(|s| of_scope(s).iter().copied())
        .chain(requested.iter().map(String::as_str))
        .collect();
    let needs = |claims: &[&str]| names.iter().any(|n| claims.contains(n));
    let c = svc.store.reader();
    let Some(user) = store::users::find_by_id(c, user_id).await? else {
        return Ok(None);
    };
    let groups = if needs(&["groups"]) {
        store::groups::names_for_user(c, user_id).await?
    } else {
        Vec::new()
    };
    let values = if needs(&["phone_number", "phone_number_verified", "address"]) {
        store::scim::values_of(c, &[user_id])
            .await?
            .remove(&user_id)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Some(Subject { user, groups, values }))
}

const PROFILE: [&str; 9] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "locale",
    "zoneinfo",
    "updated_at",
];

/// The claims a scope stands for.
pub fn of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &PROFILE,
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "address" => &["address"],
        "groups" => &["groups"],
        _ => &[],
    }
}

/// Every claim Tessera can give, for discovery's `claims_supported`.
pub fn supported() -> Vec<&'static str> {
    let mut all = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "sid",
        "at_hash",
    ];
    for s in ["profile", "email", "phone", "address", "groups"] {
        all.extend_from_slice(of_scope(s));
    }
    all
}

fn primary<'a>(values: &'a [MultiValue], attr: &str) -> Option<&'a MultiValue> {
    let of_attr = || values.iter().filter(|v| v.attr == attr);
    of_attr().find(|v| v.primary).or_else(|| of_attr().next())
}

fn claim(subject: &Subject, name: &str) -> Option<Value> {
    let u = &subject.user;
    let text = |s: &Option<String>| s.as_ref().filter(|s| !s.is_empty()).map(|s| json!(s));
    match name {
        "name" => u
            .display_name
            .clone()
            .or_else(|| u.profile.name_formatted.clone())
            .or_else(|| {
                let parts: Vec<&str> = [u.given_name.as_deref(), u.family_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .map(|n| json!(n)),
        "given_name" => text(&u.given_name),
        "family_name" => text(&u.family_name),
        "middle_name" => text(&u.profile.middle_name),
        "nickname" => text(&u.profile.nick_name),
        "preferred_username" => Some(json!(u.username)),
        "locale" => text(&u.profile.locale).or_else(|| text(&u.profile.preferred_language)),
        "zoneinfo" => text(&u.profile.timezone),
        "updated_at" => Some(json!(u.updated_at.timestamp())),
        "email" => text(&u.email),
        // Addresses come from the organisation's directory, not from a check the user passed.
        "email_verified" => u.email.as_ref().map(|_| json!(false)),
        "phone_number" => primary(&subject.values, "phoneNumbers")
            .and_then(|v| v.value.clone())
            .map(|p| json!(p)),
        "phone_number_verified" => primary(&subject.values, "phoneNumbers").map(|_| json!(false)),
        "address" => primary(&subject.values, "addresses").map(|a| address(&a.data)),
        "groups" => Some(json!(subject.groups)),
        _ => None,
    }
}

/// SCIM address → OIDC address claim (§5.1.1).
fn address(data: &Value) -> Value {
    let mut out = Map::new();
    for (from, to) in [
        ("formatted", "formatted"),
        ("streetAddress", "street_address"),
        ("locality", "locality"),
        ("region", "region"),
        ("postalCode", "postal_code"),
        ("country", "country"),
    ] {
        if let Some(v) = data.get(from).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            out.insert(to.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// The claims for `scopes`, plus those named in `requested` (from the `claims` parameter).
pub fn collect(subject: &Subject, scopes: &[String], requested: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    let names = scopes
        .iter()
        .flat_map(|s| of_scope(s).iter().copied())
        .chain(requested.iter().map(String::as_str));
    for name in names {
        if !out.contains_key(name)
            && let Some(v) = claim(subject, name)
        {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// The claim names a `claims` request parameter asks for in one place ("id_token" or "userinfo").
pub fn requested_in(claims_param: Option<&Value>, place: &str) -> Vec<String> {
    claims_param
        .and_then(|c| c.get(place))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
