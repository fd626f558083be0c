//! Where the config comes from: `--config PATH`, then `DCR_CONFIG`, then `config.json` in the
//! user's config folder, then the system-wide file an administrator deploys. There is no default
//! built into the app: a build meant for installation must never fall back to the development
//! config (a loopback `http` issuer), because any local process that took that port would be
//! handed the user's password. With nothing found, the app shows its setup screen instead.

use std::path::{Path, PathBuf};

use dcr_core::config::Config;

/// The app's identifier (`tauri.conf.json`), which names its folders on every platform.
const APP_ID: &str = "io.curity.dcrclient";

/// A picked file is read whole into memory and crosses IPC: a real config is well under 1 KiB.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Argument(PathBuf),
    Environment(PathBuf),
    UserConfigDir(PathBuf),
    System(PathBuf),
}

impl ConfigSource {
    pub fn path(&self) -> &Path {
        match self {
            ConfigSource::Argument(path)
            | ConfigSource::Environment(path)
            | ConfigSource::UserConfigDir(path)
            | ConfigSource::System(path) => path,
        }
    }
}

/// What the app may look at; each field is `None` when it does not apply (no argument given,
/// no config folder on this platform).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub args: Vec<String>,
    pub env_value: Option<String>,
    /// `config.json` in the user's config folder (`app_config_dir()`).
    pub user_file: Option<PathBuf>,
    /// The administrator's file: [`system_config_path`].
    pub system_file: Option<PathBuf>,
}

/// Picks the source, or the files it looked for when there is none. Pure: `exists` is the only
/// look at the file system. An explicit `--config` or `DCR_CONFIG` is used even when the file is
/// missing (loading it then fails with the path), so a typo never silently selects another file.
pub fn resolve(
    candidates: &Candidates,
    exists: impl Fn(&Path) -> bool,
) -> Result<ConfigSource, Vec<PathBuf>> {
    let mut args = candidates.args.iter().skip(1);
    while let Some(arg) = args.next() {
        if let Some(path) = arg.strip_prefix("--config=") {
            return Ok(ConfigSource::Argument(PathBuf::from(path)));
        }
        if arg == "--config" {
            if let Some(path) = args.next() {
                return Ok(ConfigSource::Argument(PathBuf::from(path)));
            }
        }
    }
    if let Some(path) = candidates.env_value.as_deref().filter(|v| !v.is_empty()) {
        return Ok(ConfigSource::Environment(PathBuf::from(path)));
    }
    if let Some(path) = candidates.user_file.as_deref().filter(|p| exists(p)) {
        return Ok(ConfigSource::UserConfigDir(path.to_owned()));
    }
    if let Some(path) = candidates.system_file.as_deref().filter(|p| exists(p)) {
        return Ok(ConfigSource::System(path.to_owned()));
    }
    let searched = [&candidates.user_file, &candidates.system_file];
    Err(searched.into_iter().flatten().cloned().collect())
}

/// Loads and validates the config; the error names the key and the fix (and the file).
pub fn load(source: &ConfigSource) -> Result<Config, dcr_core::Error> {
    Config::load(source.path()).map_err(dcr_core::Error::from)
}

/// Writes a chosen config to `path` (the user's config folder), creating the folder. Atomic: a
/// temporary file in the same folder is written, flushed and renamed over `path`, so a crash
/// never leaves a half-written config that the next start would reject.
pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".config.json.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temporary); // a leftover from a crashed run of this process id
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The system-wide config an administrator deploys. Linux (and other Unix) is tested; the macOS
/// and Windows paths follow each platform's convention for machine-wide app data but are untested.
pub fn system_config_path() -> Option<PathBuf> {
    // Debug builds only: the end-to-end tests point this at a scratch folder, so a machine that
    // has a real /etc file cannot change what they see. A release build always uses the fixed
    // path, so no environment variable can redirect an installed app.
    #[cfg(debug_assertions)]
    if let Some(path) = std::env::var_os("DCR_SYSTEM_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    platform_system_config_path()
}

#[cfg(target_os = "macos")]
fn platform_system_config_path() -> Option<PathBuf> {
    Some(
        Path::new("/Library/Application Support")
            .join(APP_ID)
            .join("config.json"),
    )
}

#[cfg(windows)]
fn platform_system_config_path() -> Option<PathBuf> {
    // %ProgramData% (normally C:\ProgramData): machine-wide, writable by administrators only.
    let base = std::env::var_os("ProgramData")?;
    Some(PathBuf::from(base).join(APP_ID).join("config.json"))
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_system_config_path() -> Option<PathBuf> {
    Some(Path::new("/etc").join(APP_ID).join("config.json"))
}

#[cfg(not(any(unix, windows)))]
fn platform_system_config_path() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(args: &[&str], env: Option<&str>) -> Candidates {
        Candidates {
            args: args.iter().map(|s| s.to_string()).collect(),
            env_value: env.map(str::to_owned),
            user_file: Some("/home/u/.config/io.curity.dcrclient/config.json".into()),
            system_file: Some("/etc/io.curity.dcrclient/config.json".into()),
        }
    }

    const EVERYTHING: fn(&Path) -> bool = |_| true;
    const NOTHING: fn(&Path) -> bool = |_| false;

    #[test]
    fn the_argument_wins_over_everything() {
        let all = candidates(&["app", "--config", "/a.json"], Some("/b.json"));
        assert_eq!(
            resolve(&all, EVERYTHING),
            Ok(ConfigSource::Argument("/a.json".into()))
        );
        let all = candidates(&["app", "--config=/c.json"], Some("/b.json"));
        assert_eq!(
            resolve(&all, EVERYTHING),
            Ok(ConfigSource::Argument("/c.json".into()))
        );
    }

    #[test]
    fn an_explicit_path_is_used_even_when_it_does_not_exist() {
        assert_eq!(
            resolve(&candidates(&["app", "--config", "/a.json"], None), NOTHING),
            Ok(ConfigSource::Argument("/a.json".into()))
        );
        assert_eq!(
            resolve(&candidates(&["app"], Some("/b.json")), NOTHING),
            Ok(ConfigSource::Environment("/b.json".into()))
        );
    }

    #[test]
    fn then_the_environment() {
        assert_eq!(
            resolve(&candidates(&["app"], Some("/b.json")), EVERYTHING),
            Ok(ConfigSource::Environment("/b.json".into()))
        );
        // An empty DCR_CONFIG counts as unset; the program name is never taken for `--config`.
        assert_eq!(
            resolve(&candidates(&["--config"], Some("")), EVERYTHING),
            Ok(ConfigSource::UserConfigDir(
                "/home/u/.config/io.curity.dcrclient/config.json".into()
            ))
        );
    }

    #[test]
    fn then_the_users_config_folder() {
        assert_eq!(
            resolve(&candidates(&["app"], None), EVERYTHING),
            Ok(ConfigSource::UserConfigDir(
                "/home/u/.config/io.curity.dcrclient/config.json".into()
            ))
        );
    }

    #[test]
    fn then_the_system_wide_file() {
        let only_system = |path: &Path| path.starts_with("/etc");
        assert_eq!(
            resolve(&candidates(&["app"], None), only_system),
            Ok(ConfigSource::System(
                "/etc/io.curity.dcrclient/config.json".into()
            ))
        );
    }

    /// Nothing found is not "use the development default", it is the list of
    /// files the setup screen names.
    #[test]
    fn nothing_found_lists_the_files_looked_for_and_falls_back_to_nothing() {
        assert_eq!(
            resolve(&candidates(&["app"], None), NOTHING),
            Err(vec![
                PathBuf::from("/home/u/.config/io.curity.dcrclient/config.json"),
                PathBuf::from("/etc/io.curity.dcrclient/config.json"),
            ])
        );
        let bare = Candidates {
            args: vec!["app".into()],
            ..Candidates::default()
        };
        assert_eq!(resolve(&bare, EVERYTHING), Err(vec![]));
    }

    #[test]
    fn save_creates_the_folder_and_replaces_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("dcr-config-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("io.curity.dcrclient").join("config.json");
        save(&path, "{\"first\": 1}").expect("first save");
        save(&path, "{}").expect("second save");
        assert_eq!(std::fs::read_to_string(&path).expect("read back"), "{}");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("folder"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("config.json")],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn the_system_wide_file_is_under_etc_on_linux() {
        assert_eq!(
            platform_system_config_path(),
            Some(PathBuf::from("/etc/io.curity.dcrclient/config.json"))
        );
    }
}
