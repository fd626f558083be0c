//! Where the config comes from: `--config PATH`, then `DCR_CONFIG`, then the user's config
//! folder (`config.json` in the app's config directory), then the default bundled into the app.

use std::path::{Path, PathBuf};

use dcr_core::config::Config;

/// The `config.json` next to the workspace root, built into the binary as the last resort.
const BUNDLED: &str = include_str!("../../config.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Argument(PathBuf),
    Environment(PathBuf),
    UserConfigDir(PathBuf),
    Bundled,
}

/// Picks the source; pure apart from checking whether the user's file exists.
pub fn resolve(
    args: &[String],
    env_value: Option<String>,
    user_config_dir: Option<&Path>,
) -> ConfigSource {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(path) = arg.strip_prefix("--config=") {
            return ConfigSource::Argument(PathBuf::from(path));
        }
        if arg == "--config" {
            if let Some(path) = args.next() {
                return ConfigSource::Argument(PathBuf::from(path));
            }
        }
    }
    if let Some(path) = env_value.filter(|value| !value.is_empty()) {
        return ConfigSource::Environment(PathBuf::from(path));
    }
    if let Some(path) = user_config_dir
        .map(|dir| dir.join("config.json"))
        .filter(|path| path.is_file())
    {
        return ConfigSource::UserConfigDir(path);
    }
    ConfigSource::Bundled
}

/// Loads and validates the config; the error names the key and the fix (and the file).
pub fn load(source: &ConfigSource) -> Result<Config, dcr_core::Error> {
    match source {
        ConfigSource::Argument(path)
        | ConfigSource::Environment(path)
        | ConfigSource::UserConfigDir(path) => Config::load(path).map_err(dcr_core::Error::from),
        ConfigSource::Bundled => Config::from_json(BUNDLED).map_err(dcr_core::Error::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_argument_wins_over_everything() {
        let source = resolve(
            &args(&["app", "--config", "/a.json"]),
            Some("/b.json".into()),
            None,
        );
        assert_eq!(source, ConfigSource::Argument("/a.json".into()));
        let source = resolve(&args(&["app", "--config=/c.json"]), None, None);
        assert_eq!(source, ConfigSource::Argument("/c.json".into()));
    }

    #[test]
    fn then_the_environment_then_the_bundled_default() {
        assert_eq!(
            resolve(&args(&["app"]), Some("/b.json".into()), None),
            ConfigSource::Environment("/b.json".into())
        );
        assert_eq!(
            resolve(&args(&["app"]), None, Some(Path::new("/nonexistent-dir"))),
            ConfigSource::Bundled
        );
    }

    #[test]
    fn the_bundled_default_is_valid() {
        assert!(load(&ConfigSource::Bundled).is_ok());
    }
}
