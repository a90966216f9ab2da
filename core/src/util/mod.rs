//! Algorithms shared by command families that do not depend on where data lives.

pub mod geohash;
pub mod glob;
pub mod hll;
pub mod longdouble;
pub mod number;
pub mod pqsort;
pub mod slices;
pub mod stream;
