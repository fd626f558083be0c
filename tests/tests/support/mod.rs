//! Shared by the test files in this folder (each file is its own crate, so not all use all).
#![allow(dead_code)]

pub mod app;
pub mod browser_shim;
pub mod desktop;
pub mod package;
