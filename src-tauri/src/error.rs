//! The error that crosses to the UI: `{kind, message}`, where `kind` is the engine's stable
//! camelCase kind and `message` is already safe to show (plain, truncated, no secrets).

use dcr_core::error::ErrorKind;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<dcr_core::Error> for UiError {
    fn from(error: dcr_core::Error) -> Self {
        Self {
            kind: error.kind(),
            message: error.message(),
        }
    }
}
