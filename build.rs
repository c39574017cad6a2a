//! Tells the integration tests whether PostgreSQL runs were asked for, so that their
//! PostgreSQL variants show as ignored without TESSERA_TEST_DATABASE_URL instead of
//! passing without having run.
fn main() {
    println!("cargo::rerun-if-env-changed=TESSERA_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(tessera_postgres_tests)");
    if std::env::var("TESSERA_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=tessera_postgres_tests");
    }
}
