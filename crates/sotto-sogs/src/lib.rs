#![doc = include_str!("../README.md")]

pub mod cli;
pub mod config;
mod err;
pub mod ids;
pub mod keys;
pub mod store;

pub use err::{Error, Result};
