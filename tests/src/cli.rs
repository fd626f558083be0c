//! The `dcr` binary under test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `DCR_CLI_BINARY` (scripts/test.sh sets it), else the debug build in the target directory,
/// built first with `cargo build -p dcr-cli` so it is never stale.
pub fn cli_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("DCR_CLI_BINARY") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "DCR_CLI_BINARY={} does not exist",
                path.display()
            );
            return path;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "dcr-cli"])
            .current_dir(crate::repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "`cargo build -p dcr-cli` failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::repo_root().join("target"));
        target
            .join("debug")
            .join(format!("dcr{}", std::env::consts::EXE_SUFFIX))
    })
}
