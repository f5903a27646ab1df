#![doc = include_str!("../README.md")]

pub mod config;
mod err;
pub mod files;
pub mod report;

pub use err::Error;
