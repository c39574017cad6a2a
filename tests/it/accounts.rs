use crate::on_each_backend;
use crate::support::{Backend, TestServer};
use chrono::Duration;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use tessera::accounts::UserState;
use tessera::accounts::login::{self, LOCKOUT_THRESHOLD, LoginError};
use tessera::accounts::users::{self, InitialPassword, NewUser};
use tessera::audit::{self, Actor};

on_each_backend!(
    repeated_failures_lock_the_account_for_a_while,
    unknown_disabled_and_passwordless_users_fail_alike,
    outdated_hashes_are_replaced_at_sign_in,
);

const PASSWORD: &str = "violet harbour stone kettle";

async fn nurse(s: &TestServer, initial: InitialPassword) -> tessera::accounts::User {
    let new = NewUser {
        username: "camilles".into(),
        email: Some("cnurse@email.xyz".into()),
        ..NewUser::default()
    };
    users::create(&s.svc, &Actor::system(), new, initial)
        .await
        .expect("create")
        .user
}

async fn repeated_failures_lock_the_account_for_a_while(backend: Backend) {
    let s = TestServer::start(backend).await;
    let user = nurse(&s, InitialPassword::Chosen(PASSWORD.into())).await;
    for _ in 0..LOCKOUT_THRESHOLD {
        let err = login::check_password(&s.svc, "camilles", "wrong guess here", Some("10.0.0.9".into()))
            .await
            .expect_err("wrong");
        assert!(matches!(err, LoginError::InvalidCredentials));
    }
    let locked = users::find(&s.svc, "camilles").await.expect("user");
    assert_eq!(locked.state(s.svc.now()), UserState::Locked);
    // Even the right password is refused while locked.
    let err = login::check_password(&s.svc, "camilles", PASSWORD, None)
        .await
        .expect_err("locked");
    assert!(matches!(err, LoginError::Locked(_)));

    s.clock.advance(login::lockout_duration() + Duration::seconds(1));
    let ok = login::check_password(&s.svc, "CNurse@Email.xyz", PASSWORD, None)
        .await
        .expect("email works too");
    assert_eq!(ok.failed_logins, 0);
    assert_eq!(ok.state(s.svc.now()), UserState::Active);

    let events = audit::recent(s.svc.store.conn(), Some(&user.id.to_string()), 100)
        .await
        .expect("audit");
    assert!(events.iter().any(|e| e.action == "user.lock"));
    let failures = events
        .iter()
        .filter(|e| e.action == "login.password" && e.outcome == "failure")
        .count();
    assert_eq!(failures, LOCKOUT_THRESHOLD as usize + 1);
    assert!(events.iter().any(|e| e.source_ip.as_deref() == Some("10.0.0.9")));
    s.stop().await;
}

async fn unknown_disabled_and_passwordless_users_fail_alike(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _ = nurse(&s, InitialPassword::None).await;
    for (who, password) in [("nobody", PASSWORD), ("camilles", PASSWORD)] {
        let err = login::check_password(&s.svc, who, password, None)
            .await
            .expect_err("refused");
        assert!(matches!(err, LoginError::InvalidCredentials), "{who}");
    }
    let other = NewUser {
        username: "marcus".into(),
        email: Some("m@clinic.org".into()),
        ..NewUser::default()
    };
    users::create(
        &s.svc,
        &Actor::system(),
        other,
        InitialPassword::Chosen(PASSWORD.into()),
    )
    .await
    .expect("create");
    users::set_active(&s.svc, &Actor::system(), "marcus", false)
        .await
        .expect("disable");
    let err = login::check_password(&s.svc, "marcus", PASSWORD, None)
        .await
        .expect_err("disabled");
    assert!(matches!(err, LoginError::InvalidCredentials));
    users::set_active(&s.svc, &Actor::system(), "marcus", true)
        .await
        .expect("enable");
    assert!(
        login::check_password(&s.svc, "marcus", PASSWORD, None).await.is_ok(),
        "restored without a new password"
    );
    s.stop().await;
}

async fn outdated_hashes_are_replaced_at_sign_in(backend: Backend) {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let s = TestServer::start(backend).await;
    let user = nurse(&s, InitialPassword::None).await;
    let old_params = argon2::Params::new(4096, 1, 1, None).expect("params");
    let old = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, old_params)
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    // Planted as an older release would have stored it.
    let update = Query::update()
        .table(Alias::new("users"))
        .value(Alias::new("password_hash"), old)
        .and_where(Expr::col(Alias::new("id")).eq(user.id))
        .to_owned();
    s.svc.store.conn().execute(&update).await.expect("set");

    login::check_password(&s.svc, "camilles", PASSWORD, None)
        .await
        .expect("signs in");
    let stored = users::find(&s.svc, "camilles")
        .await
        .expect("user")
        .password_hash
        .expect("hash");
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    login::check_password(&s.svc, "camilles", PASSWORD, None)
        .await
        .expect("new hash works");
    s.stop().await;
}
