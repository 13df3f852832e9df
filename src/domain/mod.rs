//! Pure rules of sitegate: identifiers, people, organisation units, training. No I/O, no axum, redb or tokio.

pub mod activity;
pub mod badge;
pub mod classroom;
pub mod credentials;
pub mod device;
pub mod enrollment;
pub mod error;
pub mod ids;
pub mod link;
pub mod name_search;
pub mod on_site;
pub mod org;
pub mod person;
pub mod print_job;
pub mod staff;
pub mod throttle;
pub mod training;
pub mod user;
pub mod walk_in;

pub use error::DomainError;
