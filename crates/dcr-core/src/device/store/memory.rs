//! An in-memory [`RegistrationStore`] for tests, with error injection (like keyring-rs's mock).
//!
//! It stores the same encoded bytes as the keychain, so size limits (S4) and corrupt entries
//! (S3) behave exactly as they do there. It is never used as a fallback for the real keychain.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{decode, encode, RegistrationStore, StoreError, StoreKey, StoredRegistration};
use crate::Secret;

/// A store in process memory. Cloning is not offered: share it through an `Arc`.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<StoreKey, Secret>>,
    faults: Mutex<Faults>,
}

#[derive(Default)]
struct Faults {
    load: Option<StoreError>,
    save: Option<StoreError>,
    delete: Option<StoreError>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every `load` fails with `error` (e.g. S2: [`StoreError::Locked`]).
    pub fn failing_load(error: StoreError) -> Self {
        let store = Self::new();
        store.set_load_error(Some(error));
        store
    }

    /// Every `save` fails with `error` (e.g. S1: the save after a successful registration).
    pub fn failing_save(error: StoreError) -> Self {
        let store = Self::new();
        store.set_save_error(Some(error));
        store
    }

    /// Every `delete` fails with `error`.
    pub fn failing_delete(error: StoreError) -> Self {
        let store = Self::new();
        store.set_delete_error(Some(error));
        store
    }

    /// Makes later `load` calls fail (`Some`) or work again (`None`).
    pub fn set_load_error(&self, error: Option<StoreError>) {
        lock(&self.faults).load = error;
    }

    pub fn set_save_error(&self, error: Option<StoreError>) {
        lock(&self.faults).save = error;
    }

    pub fn set_delete_error(&self, error: Option<StoreError>) {
        lock(&self.faults).delete = error;
    }

    /// Puts raw entry text in place, as a damaged or foreign keychain entry would be (S3).
    pub fn put_raw(&self, key: &StoreKey, raw: &str) {
        lock(&self.entries).insert(key.clone(), Secret::new(raw));
    }

    /// The raw entry text, to assert what would be written to the keychain.
    pub fn raw(&self, key: &StoreKey) -> Option<Secret> {
        lock(&self.entries).get(key).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RegistrationStore for MemoryStore {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        if let Some(error) = lock(&self.faults).load.clone() {
            return Err(error);
        }
        let raw = lock(&self.entries).get(key).cloned();
        raw.map(|raw| decode(key, &raw)).transpose()
    }

    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        if let Some(error) = lock(&self.faults).save.clone() {
            return Err(error);
        }
        let raw = encode(value)?;
        lock(&self.entries).insert(key.clone(), raw);
        Ok(())
    }

    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        if let Some(error) = lock(&self.faults).delete.clone() {
            return Err(error);
        }
        lock(&self.entries).remove(key);
        Ok(())
    }
}

/// A panic elsewhere while holding the lock leaves plain data behind, which is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
