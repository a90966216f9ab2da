//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST, over string
//! values holding Redis' exact HLL bytes (see [`crate::util::hll`]), with Redis 7.0's
//! replies, errors, keyspace events and cached-cardinality write-back.
//!
//! An HLL is read whole, changed in a buffer and stored back only when something
//! changed, so a PFADD that moves no register neither writes nor touches WATCHes.

use bytes::Bytes;
use ferrokv_protocol::Frame;
use rand::Rng;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::engine::Engine;
use crate::notify;
use crate::util::hll::{self, Corrupt};

const HLL: &[&str] = &["hyperloglog"];
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);

/// A HyperLogLog command spec with the family's defaults.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    keys: KeyPositions,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: HLL,
        keys,
        group: "hyperloglog",
        since: "2.8.9",
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// HyperLogLog command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "pfadd",
        -2,
        WRITE_OOM.or(CmdFlags::FAST),
        KeyPositions::FIRST,
        "Adds the specified elements to the specified HyperLogLog.",
        "key [element [element ...]]",
        pfadd,
    ),
    spec(
        "pfcount",
        -2,
        CmdFlags::READONLY,
        KeyPositions::ALL,
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        "key [key ...]",
        pfcount,
    ),
    spec(
        "pfmerge",
        -2,
        WRITE_OOM,
        KeyPositions::ALL,
        "Merge N different HyperLogLogs into a single one.",
        "destkey [sourcekey [sourcekey ...]]",
        pfmerge,
    ),
    spec(
        "pfdebug",
        3,
        WRITE_OOM.or(CmdFlags::ADMIN),
        KeyPositions::new(2, 2, 1),
        "Internal commands for debugging HyperLogLog values",
        "subcommand key",
        pfdebug,
    ),
    spec(
        "pfselftest",
        1,
        CmdFlags::ADMIN,
        KeyPositions::NONE,
        "An internal command for testing HyperLogLog values",
        "",
        pfselftest,
    ),
];

/// `WRONGTYPE Key is not a valid HyperLogLog string value.`
fn not_hll() -> CmdError {
    CmdError("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
}

/// `INVALIDOBJ Corrupted HLL object detected`.
fn corrupt(_: Corrupt) -> CmdError {
    CmdError("INVALIDOBJ Corrupted HLL object detected".into())
}

/// The configured `hll-sparse-max-bytes`.
fn sparse_max_bytes(engine: &Engine) -> usize {
    engine.config.get_i64("hll-sparse-max-bytes").max(0) as usize
}

/// Checks a string is an HLL (`isHLLObjectOrReply`).
fn checked(value: Bytes) -> Result<Bytes, CmdError> {
    if hll::is_valid(&value) {
        Ok(value)
    } else {
        Err(not_hll())
    }
}

/// Reads `key` as Redis' `lookupKeyWrite` would (no keyspace hit/miss counted) and
/// checks it holds an HLL.
fn lookup_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    ctx.txn
        .get_string(ctx.session.db, key)?
        .map(checked)
        .transpose()
}

/// Runs `f` on the HLL at `key`, in place (no copy where the backend allows), after
/// checking it is one; `None` when the key is missing. `counted` looks the key up as
/// `lookupKeyRead` (keyspace hits and misses), otherwise as `lookupKeyWrite`.
fn with_hll<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    counted: bool,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, CmdError> {
    let db = ctx.db();
    let mut f = Some(f);
    let mut out: Option<Result<R, CmdError>> = None;
    let found = ctx.txn.read_string(db, key, &mut |value| {
        if let Some(f) = f.take() {
            out = Some(if hll::is_valid(value) {
                Ok(f(value))
            } else {
                Err(not_hll())
            });
        }
    });
    let found = found.map(|present| present.then_some(()));
    if counted {
        ctx.counted_read(key, found)?;
    } else {
        found?;
    }
    out.transpose()
}

/// Stores an HLL back, keeping the key's time to live. Written as an edit so that the
/// string is held raw, as Redis' HLLs always are (`OBJECT ENCODING` says `raw`).
fn store(ctx: &mut Ctx<'_>, key: &[u8], hll: &[u8]) -> Result<(), CmdError> {
    ctx.txn
        .update_string(ctx.session.db, key, true, &mut |value| {
            value.clear();
            value.extend_from_slice(hll);
        })?;
    Ok(())
}

/// PFADD key [element ...]: 1 if a register changed (or the key was created).
fn pfadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let found = with_hll(ctx, key, false, |v| {
        if hll::is_dense(v) {
            Err(dense_raises(v, &argv[2..]))
        } else {
            Ok(v.to_vec())
        }
    })?;
    let (mut value, created) = match found {
        Some(Err(raises)) => return pfadd_dense(ctx, key, raises),
        Some(Ok(v)) => (v, false),
        None => (hll::new_sparse(), true),
    };
    let sparse_max = if hll::is_dense(&value) {
        0
    } else {
        sparse_max_bytes(ctx.engine)
    };
    let mut updated = created;
    for element in &argv[2..] {
        match hll::add(&mut value, element, sparse_max) {
            Ok(changed) => updated |= changed,
            Err(e) => {
                // Redis edits the value in place: registers set before the corrupt
                // part stay set.
                if updated {
                    store(ctx, key, &value)?;
                }
                return Err(corrupt(e));
            }
        }
    }
    if updated {
        hll::invalidate_cache(&mut value);
        store(ctx, key, &value)?;
        ctx.notify_new(created && ctx.notifying(notify::NEW), key);
        ctx.notify(notify::STRING, "pfadd", key);
    }
    Ok(Frame::Integer(i64::from(updated)))
}

/// The (register, value) pairs that adding `elements` raises in a dense HLL.
fn dense_raises(value: &[u8], elements: &[Bytes]) -> Vec<(usize, u8)> {
    let regs = &value[hll::HDR_SIZE..];
    elements
        .iter()
        .map(|e| hll::pattern(e))
        .filter(|&(index, count)| count > hll::dense_get(regs, index))
        .collect()
}

/// PFADD to a dense HLL (the common case once an HLL holds a few thousand
/// elements): the registers to raise were found on the stored value, which is
/// edited in place only if there are some.
fn pfadd_dense(ctx: &mut Ctx<'_>, key: &[u8], raises: Vec<(usize, u8)>) -> CmdResult {
    if raises.is_empty() {
        return Ok(Frame::Integer(0));
    }
    ctx.txn
        .update_string(ctx.session.db, key, false, &mut |stored| {
            for &(index, count) in &raises {
                hll::dense_set(&mut stored[hll::HDR_SIZE..], index, count);
            }
            hll::invalidate_cache(stored);
        })?;
    ctx.notify(notify::STRING, "pfadd", key);
    Ok(Frame::Integer(1))
}

/// PFCOUNT key [key ...]: one key answers (and refreshes) its cached cardinality;
/// several keys answer the cardinality of their union, changing nothing.
fn pfcount(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 2 {
        let mut max = Box::new([0u8; hll::REGISTERS]);
        for key in &argv[1..] {
            if let Some(merged) = with_hll(ctx, key, true, |v| hll::merge_into(&mut max, v))? {
                merged.map_err(corrupt)?;
            }
        }
        return Ok(Frame::Integer(hll::count_raw(&max) as i64));
    }
    let key = &argv[1];
    let counted = with_hll(ctx, key, true, |v| match hll::cached_count(v) {
        Some(card) => (Ok(card), false),
        None => (hll::count(v), true),
    })?;
    let Some((card, stale)) = counted else {
        return Ok(Frame::Integer(0));
    };
    let card = card.map_err(corrupt)?;
    if stale {
        // The cache is part of the value: refreshing it is a write, as in Redis.
        ctx.txn
            .update_string(ctx.session.db, key, false, &mut |stored| {
                hll::set_cached_count(stored, card)
            })?;
    }
    Ok(Frame::Integer(card as i64))
}

/// PFMERGE destkey [sourcekey ...]: the destination (itself a source) becomes the
/// register-wise maximum; dense as soon as one input is dense.
fn pfmerge(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut max = Box::new([0u8; hll::REGISTERS]);
    let mut use_dense = false;
    for key in &argv[1..] {
        let merged = with_hll(ctx, key, true, |v| {
            use_dense |= hll::is_dense(v);
            hll::merge_into(&mut max, v)
        })?;
        if let Some(merged) = merged {
            merged.map_err(corrupt)?;
        }
    }
    let dest = &argv[1];
    let (mut value, created) = match ctx.txn.get_string(ctx.session.db, dest)? {
        Some(v) => (v.to_vec(), false),
        None => (hll::new_sparse(), true),
    };
    if use_dense {
        hll::sparse_to_dense(&mut value).map_err(corrupt)?;
    }
    let sparse_max = sparse_max_bytes(ctx.engine);
    for (index, &count) in max.iter().enumerate() {
        if count != 0 {
            // The destination was checked as a source: setting cannot fail.
            let _ = hll::set_register(&mut value, index, count, sparse_max);
        }
    }
    hll::invalidate_cache(&mut value);
    store(ctx, dest, &value)?;
    ctx.notify_new(created && ctx.notifying(notify::NEW), dest);
    // Redis announces a merge as an addition.
    ctx.notify(notify::STRING, "pfadd", dest);
    Ok(Frame::ok())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
fn pfdebug(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let (sub, key) = (&argv[1], &argv[2]);
    let Some(value) = lookup_write(ctx, key)? else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    let sparse = !hll::is_dense(&value);
    match sub.to_ascii_lowercase().as_slice() {
        b"getreg" => {
            let mut value = value.to_vec();
            if sparse {
                hll::sparse_to_dense(&mut value).map_err(corrupt)?;
                store(ctx, key, &value)?;
            }
            Ok(Frame::Array(
                hll::dense_registers(&value[hll::HDR_SIZE..])
                    .map(|r| Frame::Integer(i64::from(r)))
                    .collect(),
            ))
        }
        b"decode" if sparse => Ok(Frame::Bulk(hll::decode_sparse(&value).into())),
        b"decode" => Err(CmdError::err("HLL encoding is not sparse")),
        b"encoding" => Ok(Frame::simple(if sparse { "sparse" } else { "dense" })),
        b"todense" => {
            if sparse {
                let mut value = value.to_vec();
                hll::sparse_to_dense(&mut value).map_err(corrupt)?;
                store(ctx, key, &value)?;
            }
            Ok(Frame::Integer(i64::from(sparse)))
        }
        _ => Err(CmdError::err(format!(
            "Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        ))),
    }
}

/// PFSELFTEST: Redis' self test of the register accessors and of the estimator's
/// error, sparse and dense side by side.
fn pfselftest(ctx: &mut Ctx<'_>, _argv: &[Bytes]) -> CmdResult {
    let mut rng = rand::thread_rng();
    self_test_registers(&mut rng)?;
    self_test_estimates(&mut rng, sparse_max_bytes(ctx.engine))?;
    Ok(Frame::ok())
}

const TEST_CYCLES: usize = 1000;

/// Sets every dense register to random values and reads them back.
fn self_test_registers(rng: &mut impl Rng) -> Result<(), CmdError> {
    let mut regs = vec![0u8; hll::DENSE_SIZE - hll::HDR_SIZE];
    let mut expected = vec![0u8; hll::REGISTERS];
    for _ in 0..TEST_CYCLES {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = rng.gen_range(0..64);
            hll::dense_put(&mut regs, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = hll::dense_get(&regs, i);
            if got != e {
                return Err(CmdError(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                )));
            }
        }
    }
    Ok(())
}

/// Adds ten million distinct elements to a dense and a sparse HLL, checking at powers
/// of ten that they agree and that the error stays within six standard errors.
fn self_test_estimates(rng: &mut impl Rng, sparse_max: usize) -> Result<(), CmdError> {
    let mut dense = hll::new_sparse();
    hll::sparse_to_dense(&mut dense).map_err(corrupt)?;
    let mut sparse = hll::new_sparse();
    let relerr = 1.04 / (hll::REGISTERS as f64).sqrt();
    let seed: u64 = rng.gen();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_ne_bytes();
        hll::add(&mut dense, &element, sparse_max).map_err(corrupt)?;
        hll::add(&mut sparse, &element, sparse_max).map_err(corrupt)?;
        if j != checkpoint {
            continue;
        }
        if j < sparse_max as u64 / 2 && hll::is_dense(&sparse) {
            return Err(CmdError("TESTFAILED sparse encoding not used".into()));
        }
        let card = hll::count(&dense).map_err(corrupt)?;
        if card != hll::count(&sparse).map_err(corrupt)? {
            return Err(CmdError("TESTFAILED dense/sparse disagree".into()));
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(CmdError(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            )));
        }
        checkpoint *= 10;
    }
    Ok(())
}
