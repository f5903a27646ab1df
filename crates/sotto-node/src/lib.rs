#![doc = include_str!("../README.md")]

pub mod config;
mod err;
pub mod http;
pub mod keys;
pub mod service;
pub mod store;
pub mod tls;

pub use err::{Error, Result};
