//! The DCR engine: the whole authenticated Dynamic Client Registration lifecycle, with no GUI.
//! The engine issue fills in the protocol modules and this tutorial.

pub mod http;
pub mod secret;

pub use secret::Secret;
