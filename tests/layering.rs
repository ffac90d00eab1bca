//! The workspace's crate graph keeps the layers of docs/architecture.md: a
//! crate depends only on crates below it, so there are no back-edges and no
//! circles. Read from `cargo metadata`, so adding a dependency that breaks
//! the rule fails here rather than in review.
//!
//! Dev-dependencies are the one exception, and a bounded one: sub-crates'
//! doc examples show their items the way users reach them, through the
//! facade (as futures-util's examples use `futures`), and tests may use the
//! unpublished test kit. Cargo builds those only for a crate's own tests and
//! drops path-only dev-dependencies when it packages a crate.

use std::collections::HashMap;
use std::process::Command;

/// Each workspace crate's layer: a crate may depend on lower layers only.
const LAYERS: &[(&str, u32)] = &[
    ("ferrio-reactor", 0),
    ("ferrio-executor", 0),
    ("ferrio-macros", 0),
    ("ferrio-net", 1),
    ("ferrio-http", 2),
    ("ferrio", 3),
    ("ferrio-testkit", 4),
];

/// What a sub-crate's dev-dependencies may point at above it.
const DEV_ONLY: &[&str] = &["ferrio", "ferrio-testkit"];

#[test]
fn every_dependency_points_down_the_layers_and_dev_dependencies_only_at_the_facade_or_test_kit() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layer: HashMap<&str, u32> = LAYERS.iter().copied().collect();
    let packages = meta["packages"].as_array().unwrap();
    let mut edges = 0;
    for package in packages {
        let from = package["name"].as_str().unwrap();
        let Some(&from_layer) = layer.get(from) else {
            panic!("{from} is a workspace crate this test does not place in a layer");
        };
        for dep in package["dependencies"].as_array().unwrap() {
            let to = dep["name"].as_str().unwrap();
            let Some(&to_layer) = layer.get(to) else {
                continue; // not ours
            };
            edges += 1;
            if dep["kind"].as_str() == Some("dev") {
                assert!(
                    to_layer < from_layer || DEV_ONLY.contains(&to),
                    "{from} has a dev-dependency on {to}, above it and not the facade or test kit"
                );
            } else {
                assert!(
                    to_layer < from_layer,
                    "{from} (layer {from_layer}) depends on {to} (layer {to_layer}): \
                     a back-edge or a circle in the crate graph"
                );
            }
        }
    }
    assert!(
        edges >= 10,
        "the graph was read ({edges} edges between our crates)"
    );
    assert_eq!(
        packages.len(),
        LAYERS.len(),
        "every workspace crate has a layer"
    );
}
