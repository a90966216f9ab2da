//! Sorted sets for the memory backend (work in progress).
