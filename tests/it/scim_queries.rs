use crate::on_each_backend;
use crate::scim_support::{ENTERPRISE, Scim, USER};
use crate::support::{Backend, TestServer};
use serde_json::{Value, json};

on_each_backend!(every_filter_operator_and_form, sorting_paging_and_projection);

async fn staff(scim: &Scim<'_>) {
    let people = [
        ("amy", "Amy", "Adams", "amy@clinic.org", "work", "Nurse", "100", true),
        ("bob", "Bob", "Brown", "bob@home.net", "home", "Doctor", "200", true),
        (
            "cara",
            "Cara",
            "Clark",
            "cara@clinic.org",
            "work",
            "Nurse",
            "300",
            false,
        ),
        (
            "dan_o",
            "Dan",
            "O'Neil",
            "dan@Clinic.org",
            "work",
            "Porter",
            "400",
            true,
        ),
    ];
    for (user, given, family, email, kind, title, number, active) in people {
        scim.user(json!({
            "schemas": [USER, ENTERPRISE],
            "userName": user,
            "name": {"givenName": given, "familyName": family},
            "title": title,
            "active": active,
            "emails": [{"value": email, "type": kind, "primary": true}],
            ENTERPRISE: {"employeeNumber": number},
        }))
        .await;
    }
    // One without a title, to tell `pr` from absence.
    scim.user(json!({"schemas": [USER], "userName": "eve", "emails": [{"value": "eve@clinic.org", "type": "other"}]}))
        .await;
}

async fn every_filter_operator_and_form(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    staff(&scim).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "AMY""#, &["amy"]),
        (r#"userName ne "amy""#, &["bob", "cara", "dan_o", "eve"]),
        (r#"name.familyName co "o""#, &["bob", "dan_o"]),
        (r#"userName sw "da""#, &["dan_o"]),
        (r#"userName ew "_o""#, &["dan_o"]),
        (r#"title pr"#, &["amy", "bob", "cara", "dan_o"]),
        (r#"not (title pr)"#, &["eve"]),
        (r#"userName gt "cara""#, &["dan_o", "eve"]),
        (r#"userName ge "cara""#, &["cara", "dan_o", "eve"]),
        (r#"userName lt "bob""#, &["amy"]),
        (r#"userName le "bob""#, &["amy", "bob"]),
        (r#"active eq false"#, &["cara"]),
        (r#"active eq False"#, &["cara"]),
        (r#"title eq "nurse" and active eq true"#, &["amy"]),
        (
            r#"title eq "Doctor" or title eq "Porter" and active eq true"#,
            &["bob", "dan_o"],
        ),
        (
            r#"(title eq "Doctor" or title eq "Nurse") and active eq true"#,
            &["amy", "bob"],
        ),
        (
            r#"emails[type eq "work" and value co "@clinic.org"]"#,
            &["amy", "cara", "dan_o"],
        ),
        (r#"emails[type eq "work"] and not (emails.value ew ".org")"#, &[]),
        (r#"emails.value co "home""#, &["bob"]),
        (r#"emails co "CLINIC""#, &["amy", "cara", "dan_o", "eve"]),
        (r#"emails.primary eq true"#, &["amy", "bob", "cara", "dan_o"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "300""#,
            &["cara"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob""#,
            &["bob"],
        ),
        (r#"name.familyName eq "O'Neil""#, &["dan_o"]),
        (r#"userName eq amy"#, &["amy"]),
        (r#"userName co "%""#, &[]),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["amy", "bob", "cara", "dan_o", "eve"],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(scim.find(filter).await, *expected, "{filter}");
    }
    // By id, and by the user's group.
    let amy = &scim.get("/Users?filter=userName%20eq%20%22amy%22").await.body["Resources"][0]["id"];
    assert_eq!(scim.find(&format!("id eq {amy}")).await, ["amy"]);

    for bad in [
        r#"userName eq"#,
        r#"nosuch eq "x""#,
        r#"userName zz "x""#,
        r#"(userName eq "x""#,
        r#"active gt true"#,
        r#"meta.created gt "yesterday""#,
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", bad)
            .finish();
        let r = scim.get(&format!("/Users?{q}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidFilter", "{bad}");
    }
    let long = vec![r#"userName eq "x""#; 400].join(" or ");
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &long)
        .finish();
    assert_eq!(scim.get(&format!("/Users?{q}")).await.body["scimType"], "invalidFilter");

    // POST .search takes the same filter.
    let found = scim
        .post("/Users/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "title eq \"Nurse\"", "attributes": ["userName"]}))
        .await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["totalResults"], 2);
    assert!(found.body["Resources"][0].get("title").is_none());
    s.stop().await;
}

async fn sorting_paging_and_projection(backend: Backend) {
    let s = TestServer::start(backend).await;
    let scim = Scim::register(&s, "HR", &[]).await;
    staff(&scim).await;
    let names = |r: &Value| -> Vec<String> {
        r["Resources"]
            .as_array()
            .expect("list")
            .iter()
            .map(|u| u["userName"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let desc = scim.get("/Users?sortBy=userName&sortOrder=descending").await;
    assert_eq!(names(&desc.body), ["eve", "dan_o", "cara", "bob", "amy"]);
    let page = scim.get("/Users?sortBy=userName&startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(names(&page.body), ["bob", "cara"]);
    let none = scim.get("/Users?count=0").await;
    assert_eq!(none.body["totalResults"], 5);
    assert_eq!(none.body["Resources"], json!([]));
    let beyond = scim.get("/Users?startIndex=99").await;
    assert_eq!(beyond.body["Resources"], json!([]));
    assert_eq!(scim.get("/Users?sortBy=password").await.status, 400);

    let only = scim.get("/Users?filter=userName%20eq%20%22amy%22&attributes=userName,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber").await;
    let amy = &only.body["Resources"][0];
    assert_eq!(amy["userName"], "amy");
    assert_eq!(amy["name"], json!({"givenName": "Amy"}));
    assert_eq!(amy[ENTERPRISE], json!({"employeeNumber": "100"}));
    assert!(amy["id"].is_string(), "id is always returned");
    assert!(amy.get("emails").is_none() && amy.get("meta").is_none());
    let without = scim.get("/Users?excludedAttributes=emails,meta,id").await;
    let first = &without.body["Resources"][0];
    assert!(first.get("emails").is_none() && first.get("meta").is_none());
    assert!(first["id"].is_string(), "id cannot be excluded");
    s.stop().await;
}
