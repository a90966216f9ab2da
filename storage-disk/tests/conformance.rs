//! The shared storage conformance suite, run against the generic layer on both stores.

use ferrokv_storage_disk::KvBackend;

#[test]
fn conformance_mem_store() {
    ferrokv_core::conformance::run_all(&|| Box::new(KvBackend::new_in_memory(16)));
}

#[cfg(feature = "rocksdb")]
#[test]
fn conformance_rocks_store() {
    // Each check gets a fresh directory; they are removed when the test ends.
    let dirs = parking_lot::Mutex::new(Vec::new());
    ferrokv_core::conformance::run_all(&|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = ferrokv_storage_disk::DiskBackend::open(dir.path(), 16).expect("open");
        dirs.lock().push(dir);
        Box::new(backend)
    });
}
