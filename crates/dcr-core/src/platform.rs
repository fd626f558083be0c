//! The parts that touch the operating system or the network, and know no OAuth: the HTTP
//! transport with its size caps ([`http`]) and the cross-process lock ([`lock`]). The keychain
//! store is in [`crate::device::store`], because what it stores is this install's registration.

pub mod http;
pub mod lock;
