//! RESP2/RESP3 wire protocol for ferrokv: frames, an incremental zero-copy decoder for
//! client requests (multibulk and inline), a general frame decoder for clients, and an
//! encoder for every RESP3 type. Knows nothing of commands or storage, never panics on
//! client bytes and never allocates a declared length before its bytes arrive.
#![deny(unsafe_code, clippy::unwrap_used)]

mod frame;

pub use frame::{Frame, RespVersion};
