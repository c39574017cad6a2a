//! Second factors as a person uses them: codes computed from the key a page shows, on
//! the server's clock, and the pages' forms posted back.
use super::TestServer;
use tessera::clock::Clock;

/// A six-digit code for `key` (base32, as the page shows it) at the server's time.
pub fn code_for(s: &TestServer, key: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(key.replace(' ', "")).expect("base32 key");
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name("test")
        .build()
        .expect("totp");
    let seconds = u64::try_from(s.clock.now().timestamp()).expect("after 1970");
    totp.generate(seconds).to_string()
}

pub fn text_between<'a>(html: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    html.split(open)
        .skip(1)
        .filter_map(|part| part.split(close).next())
        .collect()
}

/// The form fields of the page, with `extra` added, posted to its action.
pub async fn post_page(
    s: &TestServer,
    browser: &reqwest::Client,
    html: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = super::oidc::hidden_inputs(html);
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let action = super::oidc::form_action(html).expect("a form");
    browser.post(s.url(&action)).form(&form).send().await.expect("post")
}
