#![doc = include_str!("../README.md")]

pub mod community;
mod err;
pub mod files;
pub mod messenger;
pub mod network;
pub mod path;
pub mod profile;
pub mod transport;

pub use err::{Error, Result};
pub use sotto_rpc::nodes::NodeInfo;
