//! The ferrokv command engine: a declarative command table, Redis 7 command semantics
//! and reply shaping, and the [`storage`] traits every backend implements. No tokio, no
//! sockets and no concrete store: an embedder builds an [`Engine`] over any
//! [`storage::StorageBackend`] and calls [`Engine::execute`].
#![deny(unsafe_code)]

pub mod blocking;
pub mod clients;
pub mod cmdstats;
pub mod command;
pub mod commands;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod conformance_collections;
#[cfg(feature = "conformance")]
pub mod conformance_streams;
pub mod engine;
pub mod notify;
pub mod pause;
pub mod persistence;
pub mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod session;
pub mod stats;
pub mod storage;
pub mod testing;
pub mod tracking;
pub mod util;
pub mod watch;

pub use engine::{Engine, ShutdownMode};
pub use session::Session;

/// The Redis version ferrokv is compatible with, reported by `HELLO` and `INFO` so
/// that clients enable the features they expect.
pub const REDIS_VERSION: &str = "7.0.15";

/// ferrokv's own version.
pub const FERROKV_VERSION: &str = env!("CARGO_PKG_VERSION");
