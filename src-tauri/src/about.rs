//! About this device: the shell's own facts for [`dcr_core::diagnostics::About`]:
//! the app's version (this crate's Cargo version: one source, which Tauri's bundle uses too),
//! which config file is in use and which source chose it, and where the log is written.

use std::path::{Path, PathBuf};

use dcr_core::diagnostics::{ConfigOrigin, ShellFacts};

use crate::config_source::ConfigSource;

/// The shipped version, as `Cargo.toml` says (tauri.conf.json names none, so Tauri uses it too).
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What About says about this run; the config part changes when the setup screen saves one.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub config: Option<(PathBuf, ConfigOrigin)>,
    pub log_file: Option<PathBuf>,
}

impl Facts {
    pub fn new(source: Option<&ConfigSource>, log_file: Option<PathBuf>) -> Self {
        Self {
            config: source.map(|source| (source.path().to_owned(), origin(source))),
            log_file,
        }
    }

    /// The setup screen saved a chosen file to `path`; it is in use from now on.
    pub fn chosen_in_setup(&mut self, path: &Path) {
        self.config = Some((path.to_owned(), ConfigOrigin::SetupScreen));
    }

    pub fn for_engine(&self) -> ShellFacts {
        ShellFacts {
            app_version: APP_VERSION.to_owned(),
            config_file: self.config.as_ref().map(|(path, _)| shown(path)),
            config_origin: self.config.as_ref().map(|(_, origin)| *origin),
            log_file: self.log_file.as_deref().map(shown),
        }
    }

    /// The folder "Open log folder" shows: the log file's, never a path from the webview.
    pub fn log_folder(&self) -> Option<&Path> {
        self.log_file.as_deref().and_then(Path::parent)
    }
}

fn origin(source: &ConfigSource) -> ConfigOrigin {
    match source {
        ConfigSource::Argument(_) => ConfigOrigin::Argument,
        ConfigSource::Environment(_) => ConfigOrigin::Environment,
        ConfigSource::UserConfigDir(_) => ConfigOrigin::UserFile,
        ConfigSource::System(_) => ConfigOrigin::SystemFile,
    }
}

/// A relative `--config` path is shown as the absolute file it named when the app started.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_config_source_is_named_with_its_file() {
        let cases = [
            (
                ConfigSource::Argument("/a.json".into()),
                ConfigOrigin::Argument,
            ),
            (
                ConfigSource::Environment("/b.json".into()),
                ConfigOrigin::Environment,
            ),
            (
                ConfigSource::UserConfigDir("/c.json".into()),
                ConfigOrigin::UserFile,
            ),
            (
                ConfigSource::System("/d.json".into()),
                ConfigOrigin::SystemFile,
            ),
        ];
        for (source, expected) in cases {
            let facts = Facts::new(Some(&source), None).for_engine();
            assert_eq!(facts.config_origin, Some(expected));
            assert_eq!(facts.config_file.as_deref(), source.path().to_str());
            assert_eq!(facts.app_version, env!("CARGO_PKG_VERSION"));
        }
    }

    #[test]
    fn a_config_saved_by_the_setup_screen_is_named_as_such() {
        let mut facts = Facts::new(None, Some("/logs/dcr-client.log".into()));
        assert_eq!(facts.for_engine().config_origin, None);
        facts.chosen_in_setup(Path::new("/u/config.json"));
        let shown = facts.for_engine();
        assert_eq!(shown.config_origin, Some(ConfigOrigin::SetupScreen));
        assert_eq!(shown.config_file.as_deref(), Some("/u/config.json"));
        assert_eq!(facts.log_folder(), Some(Path::new("/logs")));
    }

    #[test]
    fn a_relative_config_path_is_shown_absolute() {
        let facts = Facts::new(Some(&ConfigSource::Argument("config.json".into())), None);
        let shown = facts.for_engine().config_file.expect("a file");
        assert!(Path::new(&shown).is_absolute(), "{shown}");
        assert!(shown.ends_with("config.json"), "{shown}");
    }
}
