//! The page's assets: Tauri's embedded copy of `ui/`, except `main.js`, which is served as the
//! build-time bundle of `ui/main.js` and every module it imports (`build/ui_bundle.rs`). The
//! page then fetches its code in one request, as the bare app's page does, instead of one per
//! module, each only after the module that imports it has arrived (docs/benchmarks.md, "First
//! screen"). The bundle is plain script text served from `'self'`, so the CSP is unchanged. The
//! first request for it also carries the first screen's state (`first_view.rs`), and
//! `index.html` loads it as a classic script, so nothing is painted before it has drawn.

use std::borrow::Cow;

use tauri::utils::assets::{AssetKey, AssetsIter, CspHash};
use tauri::{Assets, Context, Runtime};

use crate::first_view::{self, FIRST_VIEW};

static MAIN: &str = include_str!(concat!(env!("OUT_DIR"), "/ui-main.js"));

/// Serves the bundle in place of the embedded `main.js`.
pub fn bundle_main_script<R: Runtime>(context: &mut Context<R>) {
    let embedded = context.set_assets(Box::new(Nothing));
    context.set_assets(Box::new(Bundled { embedded }));
}

struct Bundled<R: Runtime> {
    embedded: Box<dyn Assets<R>>,
}

impl<R: Runtime> Assets<R> for Bundled<R> {
    fn setup(&self, app: &tauri::App<R>) {
        self.embedded.setup(app);
    }

    fn get(&self, key: &AssetKey) -> Option<Cow<'_, [u8]>> {
        if key.as_ref() == "/index.html" {
            let page = self.embedded.get(key)?;
            return Some(match classic_script(&page) {
                Some(page) => Cow::Owned(page),
                None => page,
            });
        }
        if key.as_ref() == "/main.js" {
            // The first screen's state rides with the first script (`first_view.rs`).
            return Some(match FIRST_VIEW.take(first_view::WAIT) {
                Some(view) => Cow::Owned(first_view::script_with(&view, MAIN).into_bytes()),
                None => Cow::Borrowed(MAIN.as_bytes()),
            });
        }
        self.embedded.get(key)
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        self.embedded.iter()
    }

    fn csp_hashes(&self, html_path: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        self.embedded.csp_hashes(html_path)
    }
}

/// The module script tag of `ui/index.html`, and the classic one the app serves instead.
const MODULE_TAG: &str = r#"<script type="module" src="main.js"></script>"#;
const CLASSIC_TAG: &str = r#"<script src="main.js"></script>"#;

/// The page with its script made a classic one: the bundle has no imports, and a classic script
/// in the head holds the parser, and with it WebKit's first paint, until it has run, where a
/// module script is deferred and WebKit may paint the static page before it runs. The bundle
/// draws when the body is parsed (`build/ui_bundle.rs`), so the first frame is the screen the
/// carried state names (`first_view.rs`). `None` if the tag is not there (the page is served
/// as it is: still correct, only without that guarantee).
fn classic_script(page: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(page).ok()?;
    if !text.contains(MODULE_TAG) {
        tracing::warn!("index.html has no module script tag to load the bundle with");
        return None;
    }
    Some(text.replacen(MODULE_TAG, CLASSIC_TAG, 1).into_bytes())
}

/// Holds the place of the embedded assets for the moment it takes to wrap them.
struct Nothing;

impl<R: Runtime> Assets<R> for Nothing {
    fn get(&self, _: &AssetKey) -> Option<Cow<'_, [u8]>> {
        None
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        Box::new(std::iter::empty())
    }

    fn csp_hashes(&self, _: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        Box::new(std::iter::empty())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_loads_the_bundle_as_a_classic_script() {
        let source = include_str!("../../ui/index.html");
        let served = String::from_utf8(super::classic_script(source.as_bytes()).unwrap()).unwrap();
        assert!(served.contains(r#"<script src="main.js"></script>"#));
        assert!(!served.contains("type=\"module\""));
        assert_eq!(super::classic_script(b"<html></html>"), None);
    }

    #[test]
    fn the_bundle_runs_once_the_body_is_parsed() {
        // Strict as modules are, whatever the shell puts before it (`first_view::script_with`).
        assert!(super::MAIN.contains("function __ui_run() {\n\"use strict\";\n"));
        assert!(super::MAIN.trim_end().ends_with("else __ui_run();"));
    }

    #[test]
    fn the_served_main_script_imports_nothing() {
        // Every module is inside: an import left would be a request per module again.
        assert!(!super::MAIN.lines().any(|line| line.starts_with("import ")));
        assert!(super::MAIN.contains("\n// ui/main.js\n"));
        assert!(super::MAIN.contains("\n// ui/screens/register.js\n"));
    }
}
