//! The SCIM schemas Tessera serves (RFC 7643 §4 and §8.7), as data: they drive
//! `/Schemas`, case-insensitive attribute names, type coercion and projection.
use crate::json::JsonFields;
use crate::model::query::FilterSchema;
use serde_json::{Value, json};
use std::sync::LazyLock;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    Binary,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
}

#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: &'static [Attr],
    pub description: &'static str,
}

const fn attr(name: &'static str, kind: Kind, description: &'static str) -> Attr {
    Attr {
        name,
        kind,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        canonical: &[],
        reference_types: &[],
        sub: &[],
        description,
    }
}

const fn s(name: &'static str, description: &'static str) -> Attr {
    attr(name, Kind::String, description)
}

const fn read_only(mut a: Attr) -> Attr {
    a.mutability = Mutability::ReadOnly;
    a
}

const fn typed(mut a: Attr, canonical: &'static [&'static str]) -> Attr {
    a.canonical = canonical;
    a
}

const fn reference(mut a: Attr, types: &'static [&'static str]) -> Attr {
    a.kind = Kind::Reference;
    a.reference_types = types;
    a
}

/// A multi-valued complex attribute with the usual value/display/type/primary parts.
const fn multi(name: &'static str, sub: &'static [Attr], description: &'static str) -> Attr {
    let mut a = attr(name, Kind::Complex, description);
    a.multi = true;
    a.sub = sub;
    a
}

const fn complex(name: &'static str, sub: &'static [Attr], description: &'static str) -> Attr {
    let mut a = attr(name, Kind::Complex, description);
    a.sub = sub;
    a
}

const PRIMARY: Attr = attr("primary", Kind::Boolean, "Whether this is the primary value.");
const DISPLAY: Attr = s("display", "A human-readable name.");

const NAME_SUB: &[Attr] = &[
    s("formatted", "The full name, formatted for display."),
    s("familyName", "The family name."),
    s("givenName", "The given name."),
    s("middleName", "The middle name(s)."),
    s("honorificPrefix", "Title or prefix, e.g. Dr."),
    s("honorificSuffix", "Suffix, e.g. III."),
];
const EMAIL_SUB: &[Attr] = &[
    s("value", "The email address."),
    DISPLAY,
    typed(s("type", "work, home or other."), &["work", "home", "other"]),
    PRIMARY,
];
const PHONE_SUB: &[Attr] = &[
    s("value", "The phone number."),
    DISPLAY,
    typed(
        s("type", "work, home, mobile, fax, pager or other."),
        &["work", "home", "mobile", "fax", "pager", "other"],
    ),
    PRIMARY,
];
const IM_SUB: &[Attr] = &[
    s("value", "The messaging address."),
    DISPLAY,
    s("type", "The service."),
    PRIMARY,
];
const PHOTO_SUB: &[Attr] = &[
    reference(s("value", "URL of the image."), &["external"]),
    DISPLAY,
    typed(s("type", "photo or thumbnail."), &["photo", "thumbnail"]),
    PRIMARY,
];
const ADDRESS_SUB: &[Attr] = &[
    s("formatted", "The full address, formatted for display."),
    s("streetAddress", "Street and number."),
    s("locality", "City or locality."),
    s("region", "State or region."),
    s("postalCode", "Postal code."),
    s("country", "Country, ISO 3166-1 alpha-2."),
    typed(s("type", "work, home or other."), &["work", "home", "other"]),
    PRIMARY,
];
const GROUPS_SUB: &[Attr] = &[
    read_only(s("value", "The group's id.")),
    read_only(reference(s("$ref", "The group's URI."), &["Group"])),
    read_only(DISPLAY),
    read_only(typed(s("type", "direct or indirect."), &["direct", "indirect"])),
];
const PLAIN_SUB: &[Attr] = &[s("value", "The value."), DISPLAY, s("type", "A label."), PRIMARY];
const CERT_SUB: &[Attr] = &[
    attr("value", Kind::Binary, "A DER certificate, base64."),
    DISPLAY,
    s("type", "A label."),
    PRIMARY,
];

pub const USER_ATTRS: &[Attr] = &[
    {
        let mut a = s("userName", "Unique identifier for the user, used to sign in.");
        a.required = true;
        a.unique = true;
        a
    },
    complex("name", NAME_SUB, "The components of the user's name."),
    s("displayName", "The name shown for the user."),
    s("nickName", "The casual name."),
    reference(s("profileUrl", "A URL of the user's profile."), &["external"]),
    s("title", "The user's title, e.g. Charge Nurse."),
    s("userType", "The relationship to the organisation, e.g. Employee."),
    s("preferredLanguage", "Preferred language, e.g. en-GB."),
    s("locale", "Locale for formatting, e.g. en-GB."),
    s("timezone", "Time zone, e.g. Europe/London."),
    attr(
        "active",
        Kind::Boolean,
        "Whether the user may sign in. False deprovisions at once.",
    ),
    {
        let mut a = s(
            "password",
            "The password; write-only, never returned. The password policy applies.",
        );
        a.mutability = Mutability::WriteOnly;
        a.returned = Returned::Never;
        a
    },
    multi(
        "emails",
        EMAIL_SUB,
        "Email addresses; the primary one receives Tessera's mail.",
    ),
    multi("phoneNumbers", PHONE_SUB, "Phone numbers."),
    multi("ims", IM_SUB, "Instant messaging addresses."),
    multi("photos", PHOTO_SUB, "Photos."),
    multi("addresses", ADDRESS_SUB, "Physical addresses."),
    {
        let mut a = multi(
            "groups",
            GROUPS_SUB,
            "The groups the user is in; change them through Groups.",
        );
        a.mutability = Mutability::ReadOnly;
        a
    },
    multi("entitlements", PLAIN_SUB, "Entitlements."),
    multi("roles", PLAIN_SUB, "Roles."),
    multi("x509Certificates", CERT_SUB, "Certificates."),
];

const MANAGER_SUB: &[Attr] = &[
    s("value", "The manager's id."),
    read_only(reference(s("$ref", "The manager's URI."), &["User"])),
    read_only(s("displayName", "The manager's display name.")),
];

pub const ENTERPRISE_ATTRS: &[Attr] = &[
    s("employeeNumber", "Employee number."),
    s("costCenter", "Cost center."),
    s("organization", "Organisation."),
    s("division", "Division."),
    s("department", "Department."),
    complex("manager", MANAGER_SUB, "The user's manager."),
];

const MEMBER_SUB: &[Attr] = &[
    {
        let mut a = s("value", "The member's id.");
        a.mutability = Mutability::Immutable;
        a
    },
    {
        let mut a = reference(s("$ref", "The member's URI."), &["User", "Group"]);
        a.mutability = Mutability::Immutable;
        a
    },
    {
        let mut a = typed(s("type", "User or Group."), &["User", "Group"]);
        a.mutability = Mutability::Immutable;
        a
    },
];

pub const GROUP_ATTRS: &[Attr] = &[
    {
        let mut a = s("displayName", "The group's name: a clinic, site or department.");
        a.required = true;
        a.unique = true;
        a
    },
    multi("members", MEMBER_SUB, "Users and groups in the group."),
];

/// Attributes every resource has (RFC 7643 §3.1).
pub const COMMON_ATTRS: &[Attr] = &[
    {
        let mut a = read_only(s("id", "Identifier assigned by Tessera."));
        a.case_exact = true;
        a.returned = Returned::Always;
        a.unique = true;
        a
    },
    {
        let mut a = s("externalId", "Identifier assigned by the provisioning client.");
        a.case_exact = true;
        a
    },
    read_only(complex("meta", META_SUB, "Resource metadata.")),
];

const META_SUB: &[Attr] = &[
    read_only(s("resourceType", "User or Group.")),
    read_only(attr("created", Kind::DateTime, "When created.")),
    read_only(attr("lastModified", Kind::DateTime, "When last changed.")),
    read_only(reference(s("location", "The resource's URI."), &["uri"])),
    read_only(s("version", "The resource's ETag.")),
];

/// The User attributes a client writes as lists of elements, in schema order: each
/// element is kept as a value row (`groups`, read-only, is the memberships instead).
pub static USER_MULTI_VALUED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    USER_ATTRS
        .iter()
        .filter(|a| a.multi && a.mutability != Mutability::ReadOnly)
        .map(|a| a.name)
        .collect()
});

/// What the store reads a Users filter against.
pub static USER_FILTER: LazyLock<FilterSchema> = LazyLock::new(|| FilterSchema {
    core: USER,
    extension: Some(ENTERPRISE),
    multi_valued: USER_MULTI_VALUED.as_slice(),
});

/// What the store reads a Groups filter against (`members` are memberships).
pub static GROUP_FILTER: FilterSchema = FilterSchema {
    core: GROUP,
    extension: None,
    multi_valued: &[],
};

pub fn find<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Which resource type a schema set describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    pub fn core_urn(self) -> &'static str {
        match self {
            Resource::User => USER,
            Resource::Group => GROUP,
        }
    }

    pub fn core_attrs(self) -> &'static [Attr] {
        match self {
            Resource::User => USER_ATTRS,
            Resource::Group => GROUP_ATTRS,
        }
    }

    pub fn extensions(self) -> &'static [(&'static str, &'static [Attr])] {
        match self {
            Resource::User => &[(ENTERPRISE, ENTERPRISE_ATTRS)],
            Resource::Group => &[],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Resource::User => "/Users",
            Resource::Group => "/Groups",
        }
    }

    /// The attribute list of a schema URN that applies to this resource.
    pub fn attrs_of(self, urn: &str) -> Option<&'static [Attr]> {
        if urn.eq_ignore_ascii_case(self.core_urn()) {
            return Some(self.core_attrs());
        }
        self.extensions()
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(urn))
            .map(|(_, attrs)| *attrs)
    }

    /// A top-level attribute by name (core or common), case-insensitively.
    pub fn top(self, name: &str) -> Option<&'static Attr> {
        find(self.core_attrs(), name).or_else(|| find(COMMON_ATTRS, name))
    }
}

fn attr_json(a: &Attr) -> Value {
    let mutability = match a.mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    let returned = match a.returned {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
    };
    let kind = match a.kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::DateTime => "dateTime",
        Kind::Reference => "reference",
        Kind::Binary => "binary",
        Kind::Complex => "complex",
    };
    let mut out = json!({
        "name": a.name,
        "type": kind,
        "multiValued": a.multi,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": if a.unique { "server" } else { "none" },
    });
    if !a.canonical.is_empty() {
        out.set("canonicalValues", json!(a.canonical));
    }
    if !a.reference_types.is_empty() {
        out.set("referenceTypes", json!(a.reference_types));
    }
    if !a.sub.is_empty() {
        out.set("subAttributes", Value::Array(a.sub.iter().map(attr_json).collect()));
    }
    out
}

fn schema_json(base: &str, id: &str, name: &str, description: &str, attrs: &[Attr]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    })
}

/// Every schema, as `/Schemas` lists them.
pub fn all_schemas(base: &str) -> Vec<Value> {
    vec![
        schema_json(base, USER, "User", "User Account", USER_ATTRS),
        schema_json(base, ENTERPRISE, "EnterpriseUser", "Enterprise User", ENTERPRISE_ATTRS),
        schema_json(base, GROUP, "Group", "Group", GROUP_ATTRS),
    ]
}
