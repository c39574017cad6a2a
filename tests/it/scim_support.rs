//! Talking SCIM to the test server.
use crate::support::{TestServer, json_of, stderr_of};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub struct Scim<'a> {
    pub s: &'a TestServer,
    pub token: String,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl<'a> Scim<'a> {
    /// Registers a SCIM client through the CLI, optionally limited to groups.
    pub async fn register(s: &'a TestServer, name: &str, groups: &[&str]) -> Scim<'a> {
        let mut extra = Vec::new();
        for g in groups {
            extra.extend(["--group", *g]);
        }
        Self::register_with(s, name, &extra).await
    }

    /// Registers a SCIM client with further `scim-client create` options
    /// (`--set-passwords`, `--manage-admins`, `--group G`).
    pub async fn register_with(s: &'a TestServer, name: &str, extra: &[&str]) -> Scim<'a> {
        let mut args = vec!["scim-client", "create", "--name", name];
        args.extend_from_slice(extra);
        let out = s.cli(&args, None).await;
        assert!(out.status.success(), "{}", stderr_of(&out));
        let token = json_of(&out)["token"].as_str().expect("token").to_string();
        Scim { s, token }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
        let url = self.s.url(&format!("/scim/v2{path}"));
        let mut req = self
            .s
            .client
            .request(method.parse().expect("method"), url)
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None, &[]).await
    }

    pub async fn patch(&self, path: &str, ops: Value) -> Reply {
        self.call("PATCH", path, Some(json!({"schemas": [PATCH], "Operations": ops})), &[])
            .await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, body: Value) -> String {
        let r = self.post("/Users", body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// The userNames a filter finds, sorted.
    pub async fn find(&self, filter: &str) -> Vec<String> {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        let r = self.get(&format!("/Users?{q}")).await;
        assert_eq!(r.status, 200, "{filter}: {}", r.body);
        let mut names: Vec<String> = r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["userName"].as_str().unwrap_or("").to_string())
            .collect();
        names.sort();
        assert_eq!(r.body["totalResults"].as_u64(), Some(names.len() as u64), "{filter}");
        names
    }
}

pub fn nurse(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "externalId": format!("hr-{user_name}"),
        "name": {"givenName": "Camille", "familyName": "Nurse"},
        "displayName": "Camille Nurse",
        "title": "Charge Nurse",
        "active": true,
        "emails": [{"value": email, "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "111-222-3333", "type": "mobile"}],
        ENTERPRISE: {"employeeNumber": "1001", "department": "Ward 3"},
    })
}
