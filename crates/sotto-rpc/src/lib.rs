#![doc = include_str!("../README.md")]

mod auth;
mod check;
mod err;
mod hash;
mod ids;
pub mod limits;
pub mod nodes;
mod params;
mod parse;
mod request;
pub mod response;
pub mod sig;

pub use auth::Auth;
pub use err::{Result, RpcError};
pub use hash::{
    is_valid_message_hash, message_hash, BadMessageHash, MessageHash, MESSAGE_HASH_LEN,
};
pub use ids::{AccountId, BadAccountId, Namespace, NamespaceSelector};
pub use request::{Delete, Expire, ExpireMode, GetExpiries, NamespaceOp, Request, Retrieve, Store};
