//! The engine's top-level modules (the children of `src/lib.rs`) must not import each other in a
//! cycle, and imports run one way, down the layers (session → device and agents → protocol
//! steps → config, error → platform and leaves), so each layer can be read, tested and moved
//! without the ones above it.
//!
//! An edge A → B is drawn when a non-test file of module A names `crate::B`, in a `use` or in a
//! path. Test code is left out, because tests may reach anywhere: files named `tests*.rs` or
//! `test_support.rs`, folders named `tests/`, and everything after a `#[cfg(test)]` line (the
//! convention puts the test module last). A cycle is a strongly connected component of more than
//! one module (Tarjan's algorithm).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// module → imported module → files that make the edge.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&source_files(&src));
    // A scan that found nothing would pass vacuously.
    assert!(
        graph.len() >= 10,
        "only {} modules with imports found under {}",
        graph.len(),
        src.display()
    );
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "import cycles among dcr-core's top-level modules:\n{}",
        describe(&graph, &cycles)
    );
}

/// The layers, top to bottom: a module may import only modules listed after it. No cycle is
/// the weaker rule; this one also keeps a protocol step from reaching up into the session or
/// the device, and a platform part from knowing OAuth. A new top-level module must be placed
/// here, which is the moment to decide where it belongs.
const LAYERS: &[&str] = &[
    "diagnostics",
    "fuzzing",
    "session",
    "device",
    "agents",
    "protocol",
    "config",
    "error",
    "platform",
    "progress",
    "text",
    "secret",
];

#[test]
fn imports_run_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&source_files(&src));
    let upward = upward_imports(&graph, LAYERS);
    assert!(
        upward.is_empty(),
        "imports against the layer order {LAYERS:?}:\n{}",
        upward.join("\n")
    );
}

#[test]
fn an_upward_import_or_an_unplaced_module_is_reported() {
    let files = [
        ("protocol/token.rs", "use crate::platform::http;\n"),
        ("platform/http.rs", "use crate::protocol::token::Thing;\n"),
        ("newcomer.rs", "use crate::text;\n"),
    ]
    .map(|(path, text)| (path.to_owned(), text.to_owned()));
    let upward = upward_imports(&graph_of(&files), &["protocol", "platform", "text"]);
    assert_eq!(upward.len(), 2, "{upward:?}");
    assert!(upward[0].contains("newcomer"), "{upward:?}");
    assert!(
        upward[1].contains("platform -> protocol") && upward[1].contains("platform/http.rs"),
        "{upward:?}"
    );
}

/// Every edge that does not go down `layers`, and every module `layers` does not place.
fn upward_imports(graph: &Graph, layers: &[&str]) -> Vec<String> {
    let rank = |module: &str| layers.iter().position(|layer| *layer == module);
    let mut found = Vec::new();
    for (from, imports) in graph {
        let Some(from_rank) = rank(from) else {
            found.push(format!("{from}: not placed in the layers"));
            continue;
        };
        for (to, files) in imports {
            if rank(to).is_none_or(|to_rank| to_rank <= from_rank) {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                found.push(format!("{from} -> {to}: {}", files.join(", ")));
            }
        }
    }
    found
}

#[test]
fn a_cycle_through_a_use_group_is_found_and_test_code_is_not_counted() {
    let files = [
        ("config.rs", "use crate::error::ConfigError;\n"),
        (
            "error.rs",
            "use crate::{http::SendError, registration::Thing};\n",
        ),
        ("registration.rs", "fn f() -> crate::config::Config {}\n"),
        // Test code reaching back up makes no edge.
        (
            "http.rs",
            "fn g() {}\n#[cfg(test)]\nmod tests { use crate::config; }\n",
        ),
        ("http/tests.rs", "use crate::error;\n"),
        ("store/tests/fake.rs", "use crate::error;\n"),
        // Comments make no edge either.
        (
            "token.rs",
            "// see crate::session\nuse crate::platform::http;\n",
        ),
        ("session.rs", "use crate::protocol::token;\n"),
    ]
    .map(|(path, text)| (path.to_owned(), text.to_owned()));
    let graph = graph_of(&files);
    assert_eq!(
        cycles(&graph),
        vec![vec![
            "config".to_owned(),
            "error".to_owned(),
            "registration".to_owned()
        ]]
    );
    assert!(!graph["http"].contains_key("config"));
    assert!(!graph["http"].contains_key("error"));
    assert!(!graph["token"].contains_key("session"));
}

/// Every non-test `.rs` file below `src`, as (path relative to `src`, text).
fn source_files(src: &Path) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    collect(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(src).ok()?;
            let rel = rel
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            Some((rel, text))
        })
        .collect()
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

/// The import graph of the given files (paths relative to `src`, `/`-separated).
fn graph_of(files: &[(String, String)]) -> Graph {
    let mut graph = Graph::new();
    for (rel, text) in files {
        let parts: Vec<&str> = rel.split('/').collect();
        let Some((name, folders)) = parts.split_last() else {
            continue;
        };
        if folders.is_empty() && (*name == "lib.rs" || *name == "main.rs") {
            continue;
        }
        if name.starts_with("tests") || *name == "test_support.rs" || folders.contains(&"tests") {
            continue;
        }
        let top = parts[0].strip_suffix(".rs").unwrap_or(parts[0]).to_owned();
        let imports = graph.entry(top.clone()).or_default();
        for module in imported_modules(&without_comments(before_tests(text))) {
            if module != top {
                imports.entry(module).or_default().insert(rel.clone());
            }
        }
    }
    graph
}

/// The text before the first `#[cfg(test)]` line.
fn before_tests(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("#[cfg(test)]") {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

/// The text with every `//` comment removed up to the end of its line.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment after every `crate::`, and each first segment of a `crate::{…}` group.
fn imported_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = group.split('}').next().unwrap_or_default();
            for part in inside.split([',', ' ', '\t', '\n', '\r']) {
                let first = part.split("::").next().unwrap_or_default().trim();
                if is_module_name(first) {
                    found.insert(first.to_owned());
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if is_module_name(&rest[..end]) {
                found.insert(rest[..end].to_owned());
            }
        }
    }
    found
}

/// A lower-case identifier: a module, not a type or a constant re-exported from `lib.rs`.
fn is_module_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The strongly connected components of more than one module, each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut tarjan = Tarjan {
        graph,
        next: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    let nodes: BTreeSet<&str> = graph
        .iter()
        .flat_map(|(from, to)| std::iter::once(from.as_str()).chain(to.keys().map(String::as_str)))
        .collect();
    for node in nodes {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    let mut cycles: Vec<Vec<String>> = tarjan
        .components
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut names: Vec<String> = component.into_iter().map(str::to_owned).collect();
            names.sort();
            names
        })
        .collect();
    cycles.sort();
    cycles
}

struct Tarjan<'g> {
    graph: &'g Graph,
    next: usize,
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    on_stack: BTreeSet<&'g str>,
    components: Vec<Vec<&'g str>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, node: &'g str) {
        self.index.insert(node, self.next);
        self.low.insert(node, self.next);
        self.next += 1;
        self.stack.push(node);
        self.on_stack.insert(node);
        let graph = self.graph;
        for next in graph.get(node).into_iter().flat_map(|to| to.keys()) {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.visit(next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node, low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node, low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = Vec::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack.remove(member);
                component.push(member);
                if member == node {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

/// Each cycle with the edges inside it and the files behind each edge, as the script prints it.
fn describe(graph: &Graph, cycles: &[Vec<String>]) -> String {
    let mut text = String::new();
    for cycle in cycles {
        text.push_str(&format!("cycle: {}\n", cycle.join(" ")));
        for from in cycle {
            for to in cycle {
                if let Some(files) = graph.get(from).and_then(|imports| imports.get(to)) {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    text.push_str(&format!("  {from} -> {to}: {}\n", files.join(", ")));
                }
            }
        }
    }
    text
}
