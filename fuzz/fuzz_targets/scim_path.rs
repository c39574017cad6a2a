//! A request path, as the SCIM path rewrite sees it before routing: any UTF-8.
//! Nothing may panic, and a rewritten path stays under /scim/v2.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = String::from_utf8_lossy(data);
    for p in [path.to_string(), format!("/scim/v2/{path}"), format!("/SCIM/V2{path}")] {
        if let Some(out) = tessera::http::canonical_scim_path(&p) {
            assert!(out.starts_with("/scim/v2"), "{p:?} became {out:?}");
        }
    }
});
