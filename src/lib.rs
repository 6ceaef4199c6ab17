//! Latchkey: a self-hosted authority for OAuth 2.0 client secrets.
pub mod domain;
pub mod storage;
