//! The sign-in driver: follows the hosted sign-in pages (plain HTML forms) as a browser
//! does, answering each step.
use super::{AuthRequest, SESSION_COOKIE};
use crate::support::TestServer;
use reqwest::header::{LOCATION, SET_COOKIE};
use std::collections::HashMap;

/// What the user types at each step.
#[derive(Clone, Debug)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// Typed twice at the change-password step; without it the driver stops there.
    pub new_password: Option<&'a str>,
    /// `allow` or `deny` at the consent step.
    pub consent: &'a str,
    /// Typed at the second-factor step (an app's code); without it the driver stops there.
    pub code: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    pub fn new(username: &'a str, password: &'a str) -> Self {
        Self {
            username,
            password,
            new_password: None,
            consent: "allow",
            code: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Page {
    /// An address that shows this page again: a sign-in step's own page with its handle,
    /// else where it was fetched (a step's page may come as the answer to the step before).
    pub url: String,
    /// Which page: the sign-in step its form posts to, else the path it was fetched from.
    pub path: String,
    pub status: u16,
    pub html: String,
    /// The Content-Security-Policy it came with.
    pub csp: String,
}

/// How a sign-in went.
#[derive(Debug, Default)]
pub struct Flow {
    /// The redirect that left the issuer (to the client's redirect_uri), if it came to that.
    pub location: Option<String>,
    /// Its query: code, state, iss, or error, error_description, state.
    pub query: HashMap<String, String>,
    /// Every page the server showed, in order (a page answering a post is included).
    pub pages: Vec<Page>,
    /// Every Set-Cookie header on the way.
    pub set_cookies: Vec<String>,
    /// The status of the last response.
    pub status: u16,
}

impl Flow {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// The authorization code; panics with what happened instead.
    pub fn code(&self) -> String {
        match self.query.get("code") {
            Some(c) => c.clone(),
            None => panic!(
                "no code: location {:?}, pages {:?}, last page:\n{}",
                self.location,
                self.paths(),
                self.pages.last().map(|p| p.html.as_str()).unwrap_or("")
            ),
        }
    }

    pub fn paths(&self) -> Vec<&str> {
        self.pages.iter().map(|p| p.path.as_str()).collect()
    }

    pub fn saw(&self, path: &str) -> bool {
        self.pages.iter().any(|p| p.path == path)
    }

    pub fn page(&self, path: &str) -> &Page {
        self.pages
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("no {path} page among {:?}", self.paths()))
    }

    pub fn last_page(&self) -> &Page {
        self.pages.last().expect("a page was shown")
    }

    /// The last Set-Cookie header for the session cookie.
    pub fn session_cookie(&self) -> Option<&str> {
        self.set_cookies
            .iter()
            .rev()
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .map(String::as_str)
    }
}

/// The value of a `Set-Cookie: name=value; ...` header.
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=').map(|(_, v)| v.trim()).unwrap_or("")
}

/// Starts at GET /authorize and signs in with `username` and `password`, consenting if asked.
pub async fn sign_in(
    s: &TestServer,
    http: &reqwest::Client,
    req: &AuthRequest,
    username: &str,
    password: &str,
) -> Flow {
    drive(s, http, req, &Credentials::new(username, password)).await
}

/// Starts at GET /authorize and answers each step from `answers`.
pub async fn drive(s: &TestServer, http: &reqwest::Client, req: &AuthRequest, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.get(req.url(s)), answers).await
}

/// Starts with the authorization request as a form POST.
pub async fn drive_post(s: &TestServer, http: &reqwest::Client, req: &AuthRequest, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.post(s.url("/authorize")).form(&req.params), answers).await
}

/// Goes on from a sign-in page seen earlier (GETs it again for a fresh form).
pub async fn resume(s: &TestServer, http: &reqwest::Client, page_url: &str, answers: &Credentials<'_>) -> Flow {
    walk(s, http, http.get(page_url), answers).await
}

/// Follows redirects within the issuer, answers each sign-in step it knows, and stops at a
/// redirect leaving the issuer, a page it cannot or should not answer (an error page, a step
/// shown again after being answered), or a step it has no answer for.
async fn walk(
    s: &TestServer,
    http: &reqwest::Client,
    first: reqwest::RequestBuilder,
    answers: &Credentials<'_>,
) -> Flow {
    let issuer = url::Url::parse(&s.base).expect("issuer URL");
    let mut flow = Flow::default();
    let mut answered: Vec<String> = Vec::new();
    let mut res = first.send().await.expect("authorization request");
    for _ in 0..25 {
        let url = res.url().clone();
        flow.status = res.status().as_u16();
        flow.set_cookies.extend(
            res.headers()
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string),
        );
        if res.status().is_redirection() {
            let location = res
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{url} answered {} without a Location", flow.status))
                .to_string();
            let next = url
                .join(&location)
                .unwrap_or_else(|e| panic!("bad Location {location}: {e}"));
            if next.origin() != issuer.origin() {
                flow.query = next.query_pairs().into_owned().collect();
                flow.location = Some(next.to_string());
                return flow;
            }
            res = http.get(next).send().await.expect("follow a redirect");
            continue;
        }
        let csp = res
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let html = res.text().await.expect("page");
        let step = form_action(&html)
            .filter(|a| a.starts_with("/signin/"))
            .map(|a| issuer.join(&a).expect("form action"));
        let path = step.as_ref().unwrap_or(&url).path().to_string();
        let page_url = match (&step, sign_in_handle(&html)) {
            (Some(step), Some(r)) => {
                let mut again = step.clone();
                again.query_pairs_mut().append_pair("r", &r);
                again.to_string()
            }
            _ => url.to_string(),
        };
        flow.pages.push(Page {
            url: page_url,
            path: path.clone(),
            status: flow.status,
            html: html.clone(),
            csp,
        });
        if flow.status != 200 || answered.contains(&path) {
            return flow;
        }
        let Some(fields) = step_fields(&path, answers) else {
            return flow;
        };
        let mut form = hidden_inputs(&html);
        for name in ["csrf", "r"] {
            assert!(
                form.iter().any(|(k, _)| k == name),
                "no hidden {name} input on {path}:\n{html}"
            );
        }
        form.extend(fields);
        let target = match form_action(&html) {
            Some(action) => url.join(&action).expect("form action"),
            None => url.clone(),
        };
        answered.push(path);
        res = http.post(target).form(&form).send().await.expect("post a sign-in step");
    }
    panic!("sign-in did not finish: pages {:?}", flow.paths());
}

fn step_fields(path: &str, a: &Credentials<'_>) -> Option<Vec<(String, String)>> {
    let field = |k: &str, v: &str| (k.to_string(), v.to_string());
    match path {
        "/signin/identify" => Some(vec![field("username", a.username)]),
        "/signin/password" => Some(vec![field("password", a.password)]),
        "/signin/change-password" => a
            .new_password
            .map(|p| vec![field("password", p), field("password_confirm", p)]),
        "/signin/consent" => Some(vec![field("decision", a.consent)]),
        "/signin/second-factor" => a.code.map(|c| vec![field("code", c)]),
        // Recovery codes shown (or one used): on to the next step.
        "/signin/recovery-codes" => Some(Vec::new()),
        _ => None,
    }
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<input type="hidden" name="..." value="...">` of the page's first form (the
/// one a browser would post), in order.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    const OPEN: &str = r#"<input type="hidden" name=""#;
    let html = match html.find("<form") {
        Some(at) => html[at..].split("</form>").next().unwrap_or_default(),
        None => html,
    };
    let mut out = Vec::new();
    for (at, _) in html.match_indices(OPEN) {
        let rest = &html[at + OPEN.len()..];
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(r#" value=""#) else {
            continue;
        };
        let Some((value, _)) = rest.split_once('"') else {
            continue;
        };
        out.push((name.to_string(), unescape_html(value)));
    }
    out
}

/// The handle (`r`) to its pending sign-in that a sign-in page's form carries.
pub fn sign_in_handle(html: &str) -> Option<String> {
    hidden_inputs(html).into_iter().find(|(k, _)| k == "r").map(|(_, r)| r)
}

/// The `name`/`value` pairs of named buttons (a form posts the one pressed).
pub fn named_buttons(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let key = format!(r#" {name}=""#);
        tag.find(&key)
            .and_then(|at| tag[at + key.len()..].split('"').next().map(unescape_html))
    };
    html.match_indices("<button")
        .filter_map(|(at, _)| html[at..].split('>').next())
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .collect()
}

/// The `action` of the page's form, if it names one.
pub fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let tag = html[at..].split('>').next()?;
    let key = r#" action=""#;
    let start = tag.find(key)? + key.len();
    tag[start..].split('"').next().map(unescape_html)
}
