#![doc = include_str!("../README.md")]

pub mod api;
pub mod config;
mod err;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod server;
pub mod store;
pub mod version;

pub use err::{Error, Result};

/// Seconds since the Unix epoch, as the reference's `datetime.timestamp()` floats.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
