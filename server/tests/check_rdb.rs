//! `ferrokv-server --check-rdb FILE`: a valid snapshot reports its keys per type and
//! a good checksum; a corrupt one fails with the offset of the problem.

use std::process::Command;

use bytes::Bytes;
use ferrokv_core::rdb::store::{store_value, RdbSaver};
use ferrokv_core::rdb::write::WriteOptions;
use ferrokv_core::rdb::Value;
use ferrokv_core::storage::{Scope, StorageBackend};
use ferrokv_core::testing::SimpleBackend;

fn snapshot() -> Vec<u8> {
    let backend = SimpleBackend::new(16);
    backend
        .atomic(Scope::All, &mut |txn| {
            let s = |x: &'static str| Bytes::from_static(x.as_bytes());
            store_value(txn, 0, b"str", &Value::String(s("hello")), None).unwrap();
            store_value(
                txn,
                0,
                b"list",
                &Value::List(vec![s("a"), s("b")]),
                Some(4_000_000_000_000),
            )
            .unwrap();
            store_value(txn, 3, b"set", &Value::Set(vec![s("1"), s("2")]), None).unwrap();
        })
        .unwrap();
    let mut saver = RdbSaver::new(Vec::new(), WriteOptions::default(), 0, 0, false).unwrap();
    backend.snapshot(&mut saver, &mut || {}).unwrap();
    saver.finish().unwrap().0
}

fn check(bytes: &[u8]) -> (bool, String) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ferrokv-check-rdb-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("dump-{}.rdb", bytes.len()));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokv-server"))
        .arg("--check-rdb")
        .arg(&path)
        .output()
        .expect("runs ferrokv-server");
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn reports_keys_per_type_and_checksum() {
    let (ok, text) = check(&snapshot());
    assert!(ok, "{text}");
    for line in [
        "RDB version 10",
        "Checksum OK",
        "3 keys read, 1 expires",
        "string: 1",
        "list: 1",
        "set: 1",
        "db3: 1 keys",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn corruption_fails_with_an_offset() {
    let mut bad = snapshot();
    let n = bad.len();
    bad[n - 2] ^= 0xff;
    let (ok, text) = check(&bad);
    assert!(!ok && text.contains("Checksum MISMATCH"), "{text}");
    let (ok, text) = check(&snapshot()[..40]);
    assert!(
        !ok && text.contains("RDB ERROR DETECTED") && text.contains("offset"),
        "{text}"
    );
    let (ok, _) = check(b"NOTREDIS0010");
    assert!(!ok);
}
