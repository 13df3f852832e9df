//! Sync with the central system: the wire types (v1), sealing, the central side's OpenAPI document, the client and the sync loop.

pub mod central_api;
pub mod digest;
pub mod seal;
pub mod test_central;
pub mod wire;
