//! The shared storage conformance suite, run against the memory backend.

use ferrokv_storage_memory::MemoryBackend;

#[test]
fn conformance_suite() {
    ferrokv_core::conformance::run_all(&|| Box::new(MemoryBackend::new(16)));
}
