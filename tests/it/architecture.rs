//! The layering of DESIGN.md, checked on the source so a change that breaks it fails
//! here rather than in a review: axum only in `http`, sea-orm and the entities only in
//! `store`, `model` a leaf, and no two top-level modules depending on each other.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every library source file as (top-level module, path, code without comments and
/// without its trailing `#[cfg(test)]` module).
fn sources() -> Vec<(String, PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let first = rel.components().next().expect("a component");
            let module = first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            out.push((module, path, code));
        }
    }
    out
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the names at the group's first level.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                        found.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found
}

#[test]
fn only_http_names_axum_and_only_store_names_sea_orm() {
    for (module, path, code) in sources() {
        if module != "http" {
            assert!(!code.contains("axum"), "{} names axum", path.display());
        }
        if module != "store" {
            assert!(
                !code.contains("sea_orm::") && !code.contains("entity::"),
                "{} names sea-orm or an entity",
                path.display()
            );
        }
    }
}

#[test]
fn model_imports_nothing_of_the_project() {
    for (module, path, code) in sources() {
        if module == "model" {
            let named = crate_references(&code);
            assert!(named.iter().all(|m| m == "model"), "{} names {named:?}", path.display());
        }
    }
}

#[test]
fn top_level_modules_depend_on_each_other_one_way_only() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, _, code) in sources() {
        let uses = graph.entry(module.clone()).or_default();
        uses.extend(crate_references(&code).into_iter().filter(|m| *m != module));
    }
    // Depth-first search for a path that comes back to where it started.
    fn cycle(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = cycle(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let found = cycle(&graph, node, &mut Vec::new(), &mut done);
        assert!(
            found.is_none(),
            "modules depend on each other: {}",
            found.unwrap_or_default().join(" -> ")
        );
    }
    // The store sits on the model and configuration only.
    let store = graph.get("store").expect("a store module");
    assert!(
        store.iter().all(|m| m == "model" || m == "config"),
        "store depends on {store:?}"
    );
}

#[test]
fn references_are_read_from_grouped_and_plain_imports() {
    let named = crate_references("use crate::{a, b::{c, d}, e::f};\nlet x = crate::g::h();");
    assert_eq!(named, ["a", "b", "e", "g"].into_iter().map(String::from).collect());
}
