#![doc = include_str!("../README.md")]

pub mod config;
pub mod directory;
mod err;
pub mod http;
pub mod keys;
pub mod network;
pub mod onion;
pub mod peer;
pub mod service;
pub mod store;
pub mod swarm;

pub use err::{Error, Result};
