//! The ferrokv command engine: a declarative command table, Redis 7 command semantics
//! and reply shaping, and the [`storage`] traits every backend implements. No tokio, no
//! sockets and no concrete store: an embedder builds an engine over any
//! [`storage::StorageBackend`] and calls `execute(&mut session, argv)`.
#![deny(unsafe_code)]

pub mod storage;
