//! Sync with the central system, the port side: the wire types (v1), sealing, digests, the credential file, the HTTP client, the central side's OpenAPI document and the test central. The use cases and the loop are in `service::sync`.

pub mod central_api;
pub mod client;
pub mod credential;
pub mod digest;
pub mod seal;
pub mod test_central;
pub mod wire;
