//! The user's browser in the loopback and system-mode tests: `BROWSER` points at a script that
//! only records the URLs the app asks it to open; the test then plays the browser itself.

use std::path::PathBuf;
use std::time::Duration;

use crate::Idp;
use url::Url;

/// The user's "browser": a script that appends each URL it is asked to open to `opened`.
pub struct BrowserShim {
    dir: PathBuf,
}

impl BrowserShim {
    /// `name` keeps the folders of tests that run at once apart.
    pub fn new(name: &str, idp: &Idp) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "dcr-e2e-{name}-browser-{}-{}",
            std::process::id(),
            idp.issuer.port().unwrap_or(0)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a folder for the shim");
        let script = dir.join("browser");
        let opened = dir.join("opened");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                opened.display()
            ),
        )
        .expect("write the shim");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("make the shim executable");
        Self { dir }
    }

    pub fn script(&self) -> PathBuf {
        self.dir.join("browser")
    }

    pub fn opened(&self) -> Vec<Url> {
        std::fs::read_to_string(self.dir.join("opened"))
            .unwrap_or_default()
            .lines()
            .map(|line| Url::parse(line).expect("the shim got a URL"))
            .collect()
    }

    /// Waits until the app has opened `count` URLs, and returns the last one.
    pub async fn wait_for(&self, count: usize) -> Url {
        for _ in 0..150 {
            let opened = self.opened();
            if opened.len() >= count {
                assert_eq!(opened.len(), count, "the app opened more than expected");
                return opened[count - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "the app opened {} URLs, expected {count}",
            self.opened().len()
        );
    }
}

impl Drop for BrowserShim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
