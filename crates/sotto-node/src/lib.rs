#![doc = include_str!("../README.md")]

mod err;
pub mod store;

pub use err::{Error, Result};
