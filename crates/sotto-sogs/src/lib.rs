#![doc = include_str!("../README.md")]

mod admin;
pub mod api;
pub mod cli;
pub mod config;
mod err;
pub mod filter;
pub mod ids;
pub mod keys;
pub mod profanity;
pub mod server;
pub mod store;
pub mod util;
pub mod web;

pub use err::{Error, Result};
