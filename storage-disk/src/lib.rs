//! Disk storage backend for ferrokv.
