//! End-to-end test harness for ferrokv.
