//! Test harness: starts the bundled identity server (`tests/idp`) and drives logins without a GUI.
