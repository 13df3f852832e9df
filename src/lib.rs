//! sitegate: the on-site gateway of a VR safety-training platform. The library holds everything; the binary is a thin shell.

pub mod clock;
pub mod config;
pub mod domain;
pub mod store;
