//! The page's assets: Tauri's embedded copy of `ui/`, except `main.js`, which is served as the
//! build-time bundle of `ui/main.js` and every module it imports (`build/ui_bundle.rs`). The
//! page then fetches its code in one request, as the bare app's page does, instead of one per
//! module, each only after the module that imports it has arrived (docs/benchmarks.md, "First
//! screen"). The bundle is plain script text served from `'self'`, so the CSP is unchanged. The
//! first request for it also carries the first screen's state (`first_view.rs`).

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
    fn the_served_main_script_imports_nothing() {
        // Every module is inside: an import left would be a request per module again.
        assert!(!super::MAIN.lines().any(|line| line.starts_with("import ")));
        assert!(super::MAIN.contains("\n// ui/main.js\n"));
        assert!(super::MAIN.contains("\n// ui/screens/register.js\n"));
    }
}
