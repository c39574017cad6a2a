//! Passwordless passkey logins: each bench user signs in with the password once and adds
//! a passkey on the account page (a software authenticator here, ES256, as a phone's
//! would be); then logins from the identify page with the passkey alone: authorize, the
//! prompt's options, the signed answer, the code exchange. Each user's logins run one
//! after another (its authenticator's counter must only go up).
#[path = "../../tests/it/support/passkey.rs"]
mod soft;

use crate::logins::{Account, Cookies, OidcClient, hidden, login};
use std::sync::{Arc, Mutex};

pub(crate) use soft::Authenticator;

/// Adds a passkey to each account from its account page; the accounts holding them.
pub(crate) async fn enrol(base: &str, origin: &str, client: &OidcClient, accounts: &[Account]) -> Vec<Account> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("http: {e}"));
    let mut out = Vec::new();
    for account in accounts {
        let (_, mut cookies) = login(&http, base, client, &account.username, None, None)
            .await
            .unwrap_or_else(|e| panic!("password login of {}: {e}", account.username));
        let page = http
            .get(format!("{base}/account"))
            .header(reqwest::header::COOKIE, cookies.header())
            .send()
            .await
            .unwrap_or_else(|e| panic!("account page: {e}"));
        cookies.absorb(&page);
        let html = page.text().await.unwrap_or_else(|e| panic!("account page: {e}"));
        let csrf = hidden(&html, "csrf").unwrap_or_else(|| panic!("no csrf on the account page"));
        let post = |path: &str, form: Vec<(&str, String)>| {
            http.post(format!("{base}{path}"))
                .header(reqwest::header::COOKIE, cookies.header())
                .form(&form)
                .send()
        };
        let form = vec![
            ("csrf", csrf.clone()),
            ("current_password", crate::PASSWORD.to_string()),
        ];
        let options = post("/account/passkeys/options", form)
            .await
            .unwrap_or_else(|e| panic!("options: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("options: {e}"));
        let mut key = Authenticator::new(origin);
        let answer = key.create(&options);
        let res = post(
            "/account/passkeys",
            vec![("csrf", csrf), ("name", "bench".into()), ("credential", answer)],
        )
        .await
        .unwrap_or_else(|e| panic!("add passkey: {e}"));
        assert_eq!(res.status().as_u16(), 303, "add passkey: {:?}", res.text().await);
        out.push(Account {
            username: account.username.clone(),
            factor: None,
            passkey: Some(Arc::new(Mutex::new(key))),
        });
    }
    out
}

/// At the identify page: the prompt's options (JSON), answered by `key`; the form that
/// signs in with it.
pub(crate) async fn answer(
    http: &reqwest::Client,
    base: &str,
    cookies: &Cookies,
    key: &Mutex<Authenticator>,
    csrf: &str,
    r: &str,
) -> Result<String, String> {
    let res = http
        .post(format!("{base}/signin/passkey/options"))
        .header(reqwest::header::COOKIE, cookies.header())
        .form(&[("csrf", csrf), ("r", r)])
        .send()
        .await
        .map_err(|e| format!("passkey options: {e}"))?;
    if res.status().as_u16() != 200 {
        return Err(format!("passkey options: {}", res.status()));
    }
    let options = res.text().await.map_err(|e| format!("passkey options: {e}"))?;
    let mut key = key.lock().map_err(|_| "authenticator lock")?;
    Ok(key.get(&options))
}
