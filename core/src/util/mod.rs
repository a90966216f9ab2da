//! Algorithms shared by command families that do not depend on where data lives.

pub mod glob;
pub mod longdouble;
pub mod number;
pub mod slices;
pub mod stream;
