//! One keychain entry, several processes: the desktop app and the `dcr` CLI (or two copies of
//! either) share this install's registration. Registration and refresh read the entry, talk to
//! the server and write the entry back; two processes doing that at once would register two
//! clients (one left orphaned on the server), or let one wipe the entry the other just wrote.
//!
//! [`ProcessLock`] serializes those read-modify-write sections with an advisory lock on a file
//! in the user's runtime (or data) folder, one file per keychain entry. The session takes it
//! only around back-channel work and keychain access, never while a browser step waits for the
//! user, so a waiting process is held up for a few round trips at most. After taking it, the
//! session reads the entry again before deciding anything (`session/shared_entry.rs`).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;
use tracing::{info, warn};

/// The folder name under the runtime or data folder; the desktop app's identifier.
const APP_FOLDER: &str = "io.curity.dcrclient";

/// Where the lock file lives, or nothing (unit tests with a private store).
///
/// Reentrant per instance: flock(2) is not reentrant (a second open of the same file in the
/// same process waits for the first), and a session's sections nest (a wipe inside a refresh).
/// Each session owns one instance and runs one operation at a time (its `op` mutex), so an
/// acquire while the same instance is held is that operation entering again, and is let
/// through. Other instances (other sessions, other processes) wait. A clone is a new instance.
#[derive(Debug)]
pub struct ProcessLock {
    path: Option<PathBuf>,
    held: Arc<AtomicBool>,
    /// How many acquires of this instance found the file locked by another holder and had to
    /// wait: the sign that an acquire is really blocked, which the tests wait on.
    waits: Arc<watch::Sender<usize>>,
}

impl Clone for ProcessLock {
    fn clone(&self) -> Self {
        Self::at(self.path.clone())
    }
}

/// Held while a section runs; the lock is released when this is dropped (the file is closed).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ProcessLockGuard {
    _file: Option<File>,
    /// The instance's flag, when this guard took the lock; cleared on drop.
    held: Option<Arc<AtomicBool>>,
}

impl Drop for ProcessLockGuard {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            held.store(false, Ordering::SeqCst);
        }
    }
}

impl ProcessLockGuard {
    fn unlocked() -> Self {
        Self {
            _file: None,
            held: None,
        }
    }
}

impl ProcessLock {
    /// No cross-process lock: for a session whose store no other process can see.
    pub fn none() -> Self {
        Self::at(None)
    }

    fn at(path: Option<PathBuf>) -> Self {
        Self {
            path,
            held: Arc::new(AtomicBool::new(false)),
            waits: Arc::new(watch::Sender::new(0)),
        }
    }

    /// A lock for the keychain entry whose fingerprint is `entry` (the store's
    /// `StoreKey::fingerprint`: a file name, no secret), in `dir`.
    pub fn in_dir(dir: &Path, entry: &str) -> Self {
        Self::at(Some(dir.join(format!("registration-{entry}.lock"))))
    }

    /// The lock every process of this user agrees on for `key`: in `$XDG_RUNTIME_DIR` (private
    /// to the user, cleared at logout), else the data folder. `None` only when the system names
    /// neither (no home folder).
    pub fn for_user(entry: &str) -> Self {
        match default_dir() {
            Some(dir) => Self::in_dir(&dir, entry),
            None => {
                warn!("no runtime or data folder: registration is not serialized across processes");
                Self::none()
            }
        }
    }

    /// The same kind of lock (in the same folder, or none) for another entry: a session in
    /// another user-agent mode uses another keychain entry.
    pub fn for_entry(&self, entry: &str) -> Self {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) => Self::in_dir(dir, entry),
            None => Self::none(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Waits for the lock. A lock file that cannot be created (a read-only or missing folder)
    /// is logged and the section runs unlocked: the lock only narrows a race between this
    /// user's own processes, and refusing to sign in would be worse.
    pub async fn acquire(&self) -> ProcessLockGuard {
        let Some(path) = self.path.clone() else {
            return ProcessLockGuard::unlocked();
        };
        if self.held.load(Ordering::SeqCst) {
            return ProcessLockGuard::unlocked();
        }
        let waits = self.waits.clone();
        let file = tokio::task::spawn_blocking(move || {
            lock_file(&path, || waits.send_modify(|count| *count += 1))
        })
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))
        .and_then(|result| result);
        match file {
            Ok(file) => {
                self.held.store(true, Ordering::SeqCst);
                ProcessLockGuard {
                    _file: Some(file),
                    held: Some(self.held.clone()),
                }
            }
            Err(error) => {
                warn!(%error, "could not take the registration lock; carrying on without it");
                ProcessLockGuard::unlocked()
            }
        }
    }
}

/// Takes the lock on `path`, calling `waiting` first when another holder has it.
fn lock_file(path: &Path, waiting: impl FnOnce()) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // flock(2) on Unix, LockFileEx on Windows; released when the file is closed, also when the
    // process dies, so a crash never leaves the entry locked.
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(TryLockError::WouldBlock) => {
            info!("another process holds the registration lock; waiting for it");
            waiting();
        }
        Err(TryLockError::Error(error)) => return Err(error),
    }
    file.lock()?;
    Ok(file)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// `$XDG_RUNTIME_DIR/io.curity.dcrclient`, else the platform's per-user data folder.
fn default_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(runtime) = from_env("XDG_RUNTIME_DIR") {
        return Some(runtime.join(APP_FOLDER));
    }
    platform_data_dir(from_env).map(|dir| dir.join(APP_FOLDER))
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_data_dir(from_env: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    from_env("XDG_DATA_HOME").or_else(|| from_env("HOME").map(|home| home.join(".local/share")))
}

// Untested here (Linux only): the same folder the desktop app's Tauri path resolver uses.
#[cfg(target_os = "macos")]
fn platform_data_dir(from_env: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    from_env("HOME").map(|home| home.join("Library/Application Support"))
}

// Untested here (Linux only).
#[cfg(windows)]
fn platform_data_dir(from_env: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    from_env("LOCALAPPDATA")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::device::store::StoreKey;

    impl ProcessLock {
        /// Resolves once an acquire of this instance has found the lock held by another
        /// instance and is waiting for it.
        /// Subscribes at once, so the acquire may move the instance away.
        fn blocked(&self) -> impl std::future::Future<Output = ()> {
            let mut waits = self.waits.subscribe();
            async move {
                waits
                    .wait_for(|count| *count > 0)
                    .await
                    .map(drop)
                    .expect("the acquire ended without waiting");
            }
        }
    }

    fn key() -> String {
        StoreKey::new("https://idp.example", "c", "app:/cb", None).fingerprint()
    }

    #[tokio::test]
    async fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("dcr-lock-test-{}", std::process::id()));
        let lock = ProcessLock::in_dir(&dir, &key());
        let first = lock.acquire().await;
        let released = Arc::new(AtomicBool::new(false));
        let second = lock.clone();
        let blocked = second.blocked();
        let waiter = {
            let released = released.clone();
            tokio::spawn(async move {
                let _second = second.acquire().await;
                // The second holder only ever runs after the first released.
                assert!(released.load(Ordering::SeqCst));
            })
        };
        // The second acquire found the file locked and waits in flock(2).
        tokio::time::timeout(Duration::from_secs(5), blocked)
            .await
            .expect("the second acquire waits for the first");
        assert!(!waiter.is_finished(), "the second acquire did not wait");
        released.store(true, Ordering::SeqCst);
        drop(first);
        waiter.await.expect("the waiter got the lock");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_holding_session_may_enter_again_and_others_still_wait() {
        let dir = std::env::temp_dir().join(format!("dcr-lock-nested-{}", std::process::id()));
        let lock = ProcessLock::in_dir(&dir, &key());
        let outer = lock.acquire().await;
        // A wipe inside a refresh: the same session's instance. Must not deadlock.
        let inner = tokio::time::timeout(Duration::from_secs(5), lock.acquire())
            .await
            .expect("a nested acquire on the holding instance goes through");
        drop(inner);
        // Still held by `outer`: another instance (another session) waits.
        let other_lock = lock.clone();
        let blocked = other_lock.blocked();
        let other = tokio::spawn(async move {
            let _held = other_lock.acquire().await;
        });
        tokio::time::timeout(Duration::from_secs(5), blocked)
            .await
            .expect("the other instance waits for the lock");
        assert!(
            !other.is_finished(),
            "dropping the nested guard released nothing"
        );
        drop(outer);
        tokio::time::timeout(Duration::from_secs(5), other)
            .await
            .expect("released for the other instance")
            .unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn one_lock_file_per_keychain_entry() {
        let dir = Path::new("/run/x");
        let a = ProcessLock::in_dir(dir, &key());
        let b = ProcessLock::in_dir(
            dir,
            &StoreKey::new("https://idp.example", "c", "app:/cb", Some("t")).fingerprint(),
        );
        assert_ne!(a.path(), b.path());
        assert_eq!(a.path(), ProcessLock::in_dir(dir, &key()).path());
    }
}
