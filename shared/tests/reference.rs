//! The API reference cannot drift from the router: `docs/openapi.yaml`
//! documents exactly the routes of `shared::routes::ROUTES` (same path
//! templates, same methods) and every error code the product can send.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use shared::routes::ROUTES;
use shared::ErrorCode;
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

const METHODS: [&str; 4] = ["get", "post", "patch", "delete"];

fn document() -> (String, Yaml) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("docs/openapi.yaml is readable");
    let mut docs = YamlLoader::load_from_str(&text).expect("docs/openapi.yaml is valid YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    (text, docs.remove(0))
}

/// `METHOD /path` for every operation the document has.
fn documented_operations(doc: &Yaml) -> BTreeSet<String> {
    let paths = doc["paths"].as_hash().expect("the document has paths");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("path keys are strings");
        let item = item.as_hash().expect("a path item is a mapping");
        for key in item.keys().filter_map(Yaml::as_str) {
            if METHODS.contains(&key) {
                ops.insert(format!("{} {path}", key.to_uppercase()));
            }
        }
    }
    ops
}

#[test]
fn the_document_has_exactly_the_routes_the_router_serves() {
    let (_, doc) = document();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    let served: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method.as_str(), r.path))
        .collect();
    let documented = documented_operations(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served by the router but missing from docs/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in docs/openapi.yaml but not served by the router: {unserved:?}"
    );
}

#[test]
fn every_error_code_is_documented() {
    let (text, _) = document();
    let missing: Vec<_> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|code| !text.contains(code))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes missing from docs/openapi.yaml: {missing:?}"
    );
}
