#![doc = include_str!("../README.md")]

pub mod config;
pub mod directory;
mod err;
pub mod http;
pub mod keys;
pub mod onion;
pub mod service;
pub mod store;

pub use err::{Error, Result};
