//! RESP2/RESP3 wire protocol for ferrokv: frames, an incremental zero-copy decoder for
//! client requests (multibulk and inline), a general frame decoder for clients, and an
//! encoder for every RESP3 type. Knows nothing of commands or storage, never panics on
//! client bytes and never allocates a declared length before its bytes arrive.
#![deny(unsafe_code, clippy::unwrap_used)]

mod decode;
mod encode;
mod error;
mod frame;
mod request;

pub use decode::{decode_frame, FrameDecoder, MAX_FRAME_DEPTH};
pub use encode::{encode, format_double_g17};
pub use error::{ProtocolError, ProtocolErrorKind};
pub use frame::{Frame, RespVersion};
pub use request::{split_args, string2ll, RequestDecoder, DEFAULT_MAX_BULK_LEN, MAX_INLINE_SIZE};
