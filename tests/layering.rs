//! The workspace's crate graph keeps the layers of docs/architecture.md: a
//! crate depends only on crates below it, so there are no back-edges and no
//! circles. Read from `cargo metadata`, so adding a dependency that breaks
//! the rule fails here rather than in review.
//!
//! Inside each crate, modules form no circle either: the module-level test
//! below reads every `crate::…` and `super::…` path outside comments and test
//! modules, and looks for a cycle among the files they name.
//!
//! Dev-dependencies are the one exception, and a bounded one: sub-crates'
//! doc examples show their items the way users reach them, through the
//! facade (as futures-util's examples use `futures`), and tests may use the
//! unpublished test kit. Cargo builds those only for a crate's own tests and
//! drops path-only dev-dependencies when it packages a crate.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
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

/// The crates' source roots, relative to the workspace.
const SOURCES: &[&str] = &[
    "reactor/src",
    "executor/src",
    "net/src",
    "net/http/src",
    "macros/src",
    "src",
    "testkit/src",
];

/// A file's module path: `tcp::stream` for `tcp/stream.rs`, `tcp` for
/// `tcp/mod.rs`, `crate` for `lib.rs`.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("lib" | "mod" | "main")
    ) {
        parts.pop();
    }
    if parts.is_empty() {
        "crate".to_owned()
    } else {
        parts.join("::")
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Module -> the modules of the same crate it names (not its own parents or children).
fn module_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(root, f), f.clone()))
        .collect();
    let reexports = root_reexports(root, &modules);
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may reach anywhere in their crate.
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => &text[..],
        };
        let mut edges = BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line
                .match_indices("crate::")
                .chain(line.match_indices("super::"))
            {
                // Skip `ferrio_executor::`-style paths that merely end in `crate::`.
                if at > 0 && line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let path: String = line[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
                let mut base: Vec<&str> = if parts[0] == "super" {
                    let mut here: Vec<&str> = module.split("::").collect();
                    here.pop();
                    here
                } else {
                    Vec::new()
                };
                parts.remove(0);
                base.extend(parts);
                // `crate::Name` where lib.rs re-exports `Name` from a module:
                // that module (a path through the root hides no edge).
                if let Some(target) = (base.len() == 1).then(|| reexports.get(base[0])).flatten() {
                    if target != module && !module.starts_with(&format!("{target}::")) {
                        edges.insert(target.clone());
                    }
                    continue;
                }
                // The longest prefix that is a module of this crate.
                for len in (1..=base.len()).rev() {
                    let target = base[..len].join("::");
                    if modules.contains_key(&target) {
                        let related = target == *module
                            || module.starts_with(&format!("{target}::"))
                            || target.starts_with(&format!("{module}::"));
                        if !related {
                            edges.insert(target);
                        }
                        break;
                    }
                }
            }
        }
        graph.insert(module.clone(), edges);
    }
    graph
}

/// What the crate root re-exports, by name: `Direction` -> `scheduled_io`
/// for `pub use scheduled_io::{Direction, ...};`.
fn root_reexports(root: &Path, modules: &BTreeMap<String, PathBuf>) -> HashMap<String, String> {
    let lib = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| root.join(f))
        .find(|p| p.exists())
        .unwrap();
    let text = std::fs::read_to_string(lib).unwrap();
    let mut names = HashMap::new();
    // A statement runs from the previous `;`, so docs and attributes may
    // come before its `use`.
    for statement in text.split(';') {
        let Some(at) = statement.rfind("use ") else {
            continue;
        };
        let visibility = statement[..at].trim_end();
        if visibility.ends_with("pub") || visibility.ends_with("pub(crate)") {
            if let Some(found) = reexport(&statement[at + 4..], modules) {
                names.extend(found);
            }
        }
    }
    names
}

/// The names one `use` tree re-exports from a module of this crate.
fn reexport(tree: &str, modules: &BTreeMap<String, PathBuf>) -> Option<Vec<(String, String)>> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let (path, items) = match tree.find("::{") {
        Some(at) => (&tree[..at], tree[at + 3..].trim_end_matches('}')),
        None => {
            let at = tree.rfind("::")?;
            (&tree[..at], &tree[at + 2..])
        }
    };
    let module = path
        .trim_start_matches("crate::")
        .trim_start_matches("self::")
        .to_owned();
    modules.contains_key(&module).then(|| {
        items
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let name = item.rsplit(" as ").next().unwrap_or(item);
                (name.trim().to_owned(), module.clone())
            })
            .collect()
    })
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut HashMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in &graph[node] {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = path.iter().position(|p| p == next).unwrap();
                    let mut cycle = path[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = HashMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            if let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

/// `graph` with every module folded into its top module (`codec::head` into
/// `codec`): an edge from a submodule is its top module's edge, and edges
/// inside one top module drop out. A circle through a submodule
/// (`codec::head` -> `server` -> `codec`) is then a circle of top modules.
fn fold(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut folded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, edges) in graph {
        let from = top(module);
        let targets = edges.iter().map(|t| top(t)).filter(|t| *t != from);
        folded.entry(from.clone()).or_default().extend(targets);
    }
    for edges in folded.clone().into_values() {
        for t in edges {
            folded.entry(t).or_default();
        }
    }
    folded
}

#[test]
fn no_crate_has_a_circle_among_its_modules() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut modules = 0;
    for source in SOURCES {
        let graph = fold(&module_graph(&workspace.join(source)));
        modules += graph.len();
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{source}: the modules {} import each other in a circle",
                cycle.join(" -> ")
            );
        }
    }
    assert!(
        modules > 40,
        "the sources were read ({modules} top modules)"
    );
}

#[test]
fn a_path_through_a_root_reexport_counts_as_an_edge_to_its_module() {
    let net = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("net/src"));
    // tcp/stream.rs names `crate::ToSocketAddrs`, which lib.rs re-exports from addr.rs.
    assert!(
        net["tcp::stream"].contains("addr"),
        "{:?}",
        net["tcp::stream"]
    );
}

#[test]
fn the_module_check_finds_a_circle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_owned(), to.iter().map(|t| t.to_string()).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn folding_finds_a_circle_through_a_submodule() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("codec", &[][..]),
        ("codec::head", &["server"][..]),
        ("codec::body", &[][..]),
        ("server", &["codec"][..]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_owned(), to.iter().map(|t| t.to_string()).collect()))
    .collect();
    assert_eq!(find_cycle(&graph), None, "no circle among the files");
    assert_eq!(
        find_cycle(&fold(&graph)).unwrap(),
        ["codec", "server", "codec"]
    );
}
