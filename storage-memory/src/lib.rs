//! In-memory storage backend for ferrokv.
