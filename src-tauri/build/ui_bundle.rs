//! `ui/main.js` and every module it imports as one script, so the page loads its code in one
//! request instead of one per module, each waiting for the module that names it
//! (docs/benchmarks.md, "First screen"). Run by build.rs; the app serves the result as
//! `main.js` (`src/assets.rs`). `ui/` stays plain ES modules: node's tests and the browser
//! preview load them as they are, with no build step and no Node in the app's build.
//!
//! It is a concatenation, not a bundler: it knows exactly the forms `ui/` uses, and any other
//! form fails the build (so a new one is noticed, not mis-bundled):
//! - `import { a, b } from "./x.js";` and `import * as x from "./x.js";`, one line each;
//! - `export function`, `export async function`, `export const` at the start of a line.
//!
//! Each module becomes a function run once, in the order ES modules run (a module after
//! everything it imports), returning its exports; an import becomes a `const` taken from that
//! object. Exports are `const`s and functions, never reassigned, so a copy is as good as the
//! live binding.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The end of the bundle. The app's page loads it as a classic script in the head
/// (`src/assets.rs`): WebKit neither parses the body nor paints until it has run, and the modules
/// run once the body is parsed, in the same task that ends the parsing, before any paint. So the
/// first frame already has what the script drew (docs/benchmarks.md, "First screen"). As a module
/// script (the preview) the document is parsed already and it runs at once, as ES modules would.
const RUN_WHEN_PARSED: &str = "}\n\
    if (document.readyState === \"loading\") document.addEventListener(\"DOMContentLoaded\", __ui_run, { once: true });\n\
    else __ui_run();\n";

/// One module of the graph, in running order.
struct Module {
    /// Path under the UI root, with `/` (`screens/register.js`).
    name: String,
    /// The source with imports and `export` keywords rewritten.
    body: String,
    exports: Vec<String>,
}

/// The bundle of `entry` (relative to `root`), and every file it read (for rerun-if-changed).
pub fn bundle(root: &Path, entry: &str) -> Result<(String, Vec<PathBuf>), String> {
    let mut order = Vec::new();
    let mut state = BTreeMap::new();
    visit(root, entry, &mut state, &mut order)?;
    let mut out = String::from(
        "// Generated at build time by src-tauri/build/ui_bundle.rs from ui/: every module main.js\n\
         // imports, each in a function run once, dependencies first. Edit ui/, not this.\n\
         function __ui_run() {\n\
         \"use strict\";\n",
    );
    let read = order.iter().map(|m| root.join(&m.name)).collect();
    let last = order.len() - 1;
    for (index, module) in order.iter().enumerate() {
        out.push_str(&format!("\n// ui/{}\n", module.name));
        if index == last {
            // The entry exports nothing; it just runs.
            out.push_str(&format!("(() => {{\n{}}})();\n", module.body));
            out.push_str(RUN_WHEN_PARSED);
        } else {
            out.push_str(&format!(
                "const {} = (() => {{\n{}return {{ {} }};\n}})();\n",
                variable(&module.name),
                module.body,
                module.exports.join(", ")
            ));
        }
    }
    Ok((out, read))
}

#[derive(PartialEq)]
enum Visit {
    Started,
    Done,
}

fn visit(
    root: &Path,
    name: &str,
    state: &mut BTreeMap<String, Visit>,
    order: &mut Vec<Module>,
) -> Result<(), String> {
    match state.get(name) {
        Some(Visit::Done) => return Ok(()),
        Some(Visit::Started) => return Err(format!("ui/{name}: an import cycle")),
        None => {}
    }
    state.insert(name.to_owned(), Visit::Started);
    let path = root.join(name);
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut body = String::with_capacity(source.len());
    let mut exports = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let at = || format!("ui/{name}:{}", number + 1);
        if line.contains("import(") || line.contains("import.meta") {
            return Err(format!(
                "{}: dynamic import or import.meta is not bundled",
                at()
            ));
        }
        if let Some(rest) = line.strip_prefix("import ") {
            let (what, from) = parse_import(rest).ok_or_else(|| {
                format!("{}: an import form the bundler does not know: {line}", at())
            })?;
            let dependency = resolve(name, from).ok_or_else(|| format!("{}: {from}", at()))?;
            visit(root, &dependency, state, order)?;
            let object = variable(&dependency);
            match what {
                Imported::Names(names) => {
                    body.push_str(&format!("const {{ {names} }} = {object};\n"))
                }
                Imported::Namespace(alias) => {
                    body.push_str(&format!("const {alias} = {object};\n"))
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("export ") {
            let declared = ["async function ", "function ", "const "]
                .iter()
                .find_map(|keyword| rest.strip_prefix(keyword))
                .and_then(identifier)
                .ok_or_else(|| {
                    format!("{}: an export form the bundler does not know: {line}", at())
                })?;
            exports.push(declared.to_owned());
            body.push_str(rest);
            body.push('\n');
            continue;
        }
        if line.starts_with("export") || line.starts_with("import") {
            return Err(format!("{}: an unknown import or export: {line}", at()));
        }
        body.push_str(line);
        body.push('\n');
    }
    state.insert(name.to_owned(), Visit::Done);
    order.push(Module {
        name: name.to_owned(),
        body,
        exports,
    });
    Ok(())
}

enum Imported<'a> {
    /// `a, b` of `import { a, b }`.
    Names(&'a str),
    /// `x` of `import * as x`.
    Namespace(&'a str),
}

/// `{ a, b } from "./x.js";` or `* as x from "./x.js";`
fn parse_import(rest: &str) -> Option<(Imported<'_>, &str)> {
    let (what, from) = rest.split_once(" from ")?;
    let from = from.trim_end().strip_suffix(';')?;
    let from = from.strip_prefix('"')?.strip_suffix('"')?;
    let what = what.trim();
    let imported = if let Some(alias) = what.strip_prefix("* as ") {
        Imported::Namespace(identifier(alias).filter(|id| *id == alias)?)
    } else {
        let names = what.strip_prefix('{')?.strip_suffix('}')?.trim();
        let plain = names
            .split(',')
            .all(|name| identifier(name.trim()).is_some_and(|id| id == name.trim()));
        if !plain {
            return None;
        }
        Imported::Names(names)
    };
    Some((imported, from))
}

/// The identifier at the start of `text`.
fn identifier(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    let id = &text[..end];
    (!id.is_empty() && !id.starts_with(|c: char| c.is_ascii_digit())).then_some(id)
}

/// `from` (`./x.js`, `../x.js`) relative to the module `importer`, as a name under the root.
fn resolve(importer: &str, from: &str) -> Option<String> {
    if !(from.starts_with("./") || from.starts_with("../")) || !from.ends_with(".js") {
        return None;
    }
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for component in Path::new(from).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(part) => parts.push(part.to_str()?),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// The bundle's name for a module's exports: `screens/register.js` → `__ui_screens_register`.
fn variable(name: &str) -> String {
    let stem = name.strip_suffix(".js").unwrap_or(name);
    let safe: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__ui_{safe}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dcr-ui-bundle-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn modules_run_after_their_imports_and_imports_become_consts() {
        let dir = scratch(
            "order",
            &[
            (
                "main.js",
                "import * as api from \"./api.js\";\nimport { h } from \"./screens/a.js\";\nh(api.x);\n",
            ),
            ("api.js", "export const x = 1;\n"),
            (
                "screens/a.js",
                "import { x } from \"../api.js\";\nexport function h(v) { return v + x; }\n",
            ),
        ],
        );
        let (out, read) = bundle(&dir, "main.js").expect("bundled");
        let api = out.find("const __ui_api = ").expect("api.js once");
        let a = out.find("const __ui_screens_a = ").expect("screens/a.js");
        let main = out.find("// ui/main.js").expect("main.js last");
        assert!(api < a && a < main, "{out}");
        assert_eq!(out.matches("const __ui_api = ").count(), 1, "{out}");
        assert!(
            out.contains("const { x } = __ui_api;\nfunction h(v)"),
            "{out}"
        );
        assert!(out.contains("return { h };"), "{out}");
        assert!(out.contains("const api = __ui_api;\nconst { h } = __ui_screens_a;"));
        assert!(
            !out.contains("export ") && !out.contains("import "),
            "{out}"
        );
        assert_eq!(read.len(), 3);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn an_unknown_form_or_a_cycle_fails_the_build() {
        for (source, why) in [
            ("export default 1;\n", "export form"),
            ("export { y };\n", "export form"),
            ("import { a as b } from \"./api.js\";\n", "import form"),
            ("import x from \"./api.js\";\n", "import form"),
            ("const m = import(\"./api.js\");\n", "dynamic import"),
            ("import { a } from \"./main.js\";\n", "cycle"),
        ] {
            let dir = scratch(
                "refused",
                &[("main.js", source), ("api.js", "export const a = 1;\n")],
            );
            let error = bundle(&dir, "main.js").expect_err(source);
            assert!(error.contains(why), "{source}: {error}");
            std::fs::remove_dir_all(&dir).expect("clean up");
        }
    }

    #[test]
    fn the_apps_ui_bundles() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
        let (out, read) = bundle(&root, "main.js").expect("ui/ bundles");
        // Every module main.js reaches, each once: the screens are all imported by view.js.
        for name in [
            "api.js",
            "state.js",
            "view.js",
            "screens/register.js",
            "screens/home.js",
        ] {
            let marker = format!("\n// ui/{name}\n");
            assert_eq!(out.matches(&marker).count(), 1, "{name}");
        }
        assert!(read.len() >= 15, "{read:?}");
        // The entry runs last, inside the function that runs once the body is parsed.
        assert!(out.ends_with(&format!("}})();\n{RUN_WHEN_PARSED}")));
    }
}
