//! `ferrokv-server --check-aof [--fix] DIR|MANIFEST|FILE` (Redis' `redis-check-aof`):
//! reads every file of an AOF without running it, reports where it stops being
//! valid, and with `--fix` truncates a cut-off last file to its last whole command.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::format::{check, FileKind, Manifest, ReadError};

/// What checking found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Every file is valid.
    Valid,
    /// The last file is cut off (fixable): the file and the valid length.
    Truncated(PathBuf, u64),
    /// A file is corrupt before its end (not fixable): the file and the offset.
    Corrupt(PathBuf, u64),
}

/// The files to check for `target`: the manifest's (a directory holding one, or the
/// manifest itself), or a single file.
fn files_of(target: &Path) -> Result<Vec<PathBuf>, String> {
    let manifest_path = if target.is_dir() {
        let found = std::fs::read_dir(target)
            .map_err(|e| format!("cannot read {}: {e}", target.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|x| x == "manifest")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("temp-"))
            });
        Some(found.ok_or_else(|| format!("no manifest in {}", target.display()))?)
    } else if target.extension().is_some_and(|x| x == "manifest") {
        Some(target.to_path_buf())
    } else {
        None
    };
    let Some(manifest_path) = manifest_path else {
        return Ok(vec![target.to_path_buf()]);
    };
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let manifest = Manifest::parse(&text)?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    Ok(manifest
        .files()
        .filter(|e| e.kind != FileKind::History)
        .map(|e| dir.join(&e.name))
        .collect())
}

/// Checks `target`, printing a line per file; with `fix`, truncates a cut-off last
/// file. Corruption elsewhere is reported, never "fixed".
pub fn check_aof(target: &Path, fix: bool) -> Result<CheckOutcome, String> {
    let files = files_of(target)?;
    for (i, path) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && last => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        if data.starts_with(b"REDIS") {
            println!("{}: RDB preamble (not checked)", path.display());
            continue;
        }
        let size = data.len();
        let result = check(Bytes::from(data));
        match result.error {
            None => println!(
                "{}: valid ({} commands, {size} bytes)",
                path.display(),
                result.commands
            ),
            Some(ReadError::Truncated { at }) if last => {
                println!(
                    "{}: truncated: valid up to offset {at} of {size} ({} bytes to cut)",
                    path.display(),
                    size - at
                );
                if !fix {
                    return Ok(CheckOutcome::Truncated(path.clone(), at as u64));
                }
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                f.set_len(at as u64)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| format!("cannot truncate {}: {e}", path.display()))?;
                println!("Successfully truncated AOF {}", path.display());
            }
            Some(ReadError::Truncated { at }) => {
                println!(
                    "{}: cut off at offset {at}, but it is not the last file: not fixable",
                    path.display()
                );
                return Ok(CheckOutcome::Corrupt(path.clone(), at as u64));
            }
            Some(ReadError::Corrupt { at, reason }) => {
                println!(
                    "{}: format error at offset {at}: {reason}: not fixable",
                    path.display()
                );
                return Ok(CheckOutcome::Corrupt(path.clone(), at as u64));
            }
        }
    }
    Ok(CheckOutcome::Valid)
}
