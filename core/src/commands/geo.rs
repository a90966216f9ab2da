//! Geo commands over sorted sets: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS,
//! GEORADIUSBYMEMBER, their `_RO` variants, GEOSEARCH and GEOSEARCHSTORE, with Redis
//! 7.0's scores, distances, orderings, replies and errors (see
//! [`crate::util::geohash`]).
//!
//! A search reads only the score ranges of the (at most nine) geohash cells covering
//! its shape through [`ZSetOps::range_by_score`], so a disk backend never loads the
//! whole set. Results are sorted as Redis sorts them: glibc's `qsort` (a stable merge
//! sort) when all are returned, Redis' partial quicksort when COUNT cuts them, so
//! members at equal distances come out in Redis' order.

use bytes::Bytes;
use ferrokv_protocol::Frame;

use crate::command::{CmdError, CmdFlags, CmdResult, CommandSpec, Ctx, Handler, KeyPositions};
use crate::commands::args::{float, int, is};
use crate::commands::zsets::{read_zset, store_zset, zadd_generic, Build};
use crate::storage::{ScoreBound, ScoreRange, ZSetOps};
use crate::util::geohash::{self, HashBits, Search, Shape};
use crate::util::pqsort::pqsort;

const GEO: &[&str] = &["geo"];
const WRITE_OOM: CmdFlags = CmdFlags::WRITE.or(CmdFlags::DENYOOM);

/// A geo command spec with the family's defaults (one key at index 1).
const fn spec(
    name: &'static str,
    arity: i32,
    flags: CmdFlags,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl: GEO,
        keys: KeyPositions::FIRST,
        group: "geo",
        since,
        summary,
        syntax,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// Geo command specs.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "geoadd",
        -5,
        WRITE_OOM,
        "3.2.0",
        "Add one or more geospatial items in the geospatial index represented using a sorted set",
        "key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]",
        geoadd,
    ),
    spec(
        "geodist",
        -4,
        CmdFlags::READONLY,
        "3.2.0",
        "Returns the distance between two members of a geospatial index",
        "key member1 member2 [M | KM | FT | MI]",
        geodist,
    ),
    spec(
        "geohash",
        -2,
        CmdFlags::READONLY,
        "3.2.0",
        "Returns members of a geospatial index as standard geohash strings",
        "key [member [member ...]]",
        geohash,
    ),
    spec(
        "geopos",
        -2,
        CmdFlags::READONLY,
        "3.2.0",
        "Returns longitude and latitude of members of a geospatial index",
        "key [member [member ...]]",
        geopos,
    ),
    CommandSpec {
        extra_keys: Some(store_keys),
        ..spec(
            "georadius",
            -6,
            WRITE_OOM,
            "3.2.0",
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
            "key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]",
            georadius,
        )
    },
    CommandSpec {
        extra_keys: Some(store_keys),
        ..spec(
            "georadiusbymember",
            -5,
            WRITE_OOM,
            "3.2.0",
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
            "key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]",
            georadiusbymember,
        )
    },
    spec(
        "georadius_ro",
        -6,
        CmdFlags::READONLY,
        "3.2.10",
        "A read-only variant for GEORADIUS",
        "key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]",
        georadius_ro,
    ),
    spec(
        "georadiusbymember_ro",
        -5,
        CmdFlags::READONLY,
        "3.2.10",
        "A read-only variant for GEORADIUSBYMEMBER",
        "key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]",
        georadiusbymember_ro,
    ),
    spec(
        "geosearch",
        -7,
        CmdFlags::READONLY,
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        "key <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>> [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]",
        geosearch,
    ),
    CommandSpec {
        keys: KeyPositions::new(1, 2, 1),
        ..spec(
            "geosearchstore",
            -8,
            WRITE_OOM,
            "6.2.0",
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
            "destination source <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>> [ASC | DESC] [COUNT count [ANY]] [STOREDIST]",
            geosearchstore,
        )
    },
];

/// The destination of GEORADIUS / GEORADIUSBYMEMBER ... STORE|STOREDIST key, found as
/// Redis' `georadiusGetKeys` finds it (the last such option wins), so that the
/// command's scope holds it.
fn store_keys(argv: &[Bytes]) -> Vec<usize> {
    let mut found = None;
    let mut i = 5;
    while i + 1 < argv.len() {
        if is(&argv[i], "store") || is(&argv[i], "storedist") {
            found = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    found.into_iter().collect()
}

// ---------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------

/// `ERR could not decode requested zset member`.
fn undecodable_member() -> CmdError {
    CmdError::err("could not decode requested zset member")
}

/// A longitude and a latitude argument, within Redis' limits
/// (`extractLongLatOrReply`).
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let (x, y) = (float(lon)?, float(lat)?);
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y)
    {
        return Err(CmdError::err(format!(
            "invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok((x, y))
}

/// Meters per unit (`extractUnitOrReply`).
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)]
        .into_iter()
        .find(|(name, _)| is(arg, name))
        .map(|(_, to_meters)| to_meters)
        .ok_or_else(|| CmdError::err("unsupported unit provided. please use M, KM, FT, MI"))
}

/// A float argument with a custom error (`getDoubleFromObjectOrReply` with a message).
fn number(arg: &[u8], what: &str) -> Result<f64, CmdError> {
    float(arg).map_err(|_| CmdError::err(format!("need numeric {what}")))
}

/// `radius unit` (`extractDistanceOrReply`): the radius and meters per unit.
fn radius(value: &[u8], unit_arg: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = number(value, "radius")?;
    if r < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((r, unit(unit_arg)?))
}

/// `width height unit` (`extractBoxOrReply`).
fn bounding_box(w: &[u8], h: &[u8], unit_arg: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let width = number(w, "width")?;
    let height = number(h, "height")?;
    if width < 0.0 || height < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((width, height, unit(unit_arg)?))
}

/// A distance as Redis replies it: a bulk string with four decimals.
fn distance_frame(d: f64) -> Frame {
    Frame::Bulk(format!("{d:.4}").into())
}

/// A coordinate as Redis' `addReplyHumanLongDouble`: `%.17Lf` of the exact value with
/// trailing zeros removed; a bulk string in RESP2, a double in RESP3.
fn coordinate_frame(v: f64) -> Frame {
    Frame::DoubleText(human_double(v).into())
}

/// `%.17f` without trailing zeros (nor a trailing dot), `-0` as `0`.
fn human_double(v: f64) -> String {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// The position of `member` in the geo set at `key`, `None` when the member is
/// missing. The key must exist and be a sorted set (checked before).
fn member_position(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    member: &[u8],
) -> Result<Option<(f64, f64)>, CmdError> {
    let db = ctx.db();
    let score = crate::storage::with_zset(ctx.txn, db, key, false, |z| z.score(member))?;
    Ok(score.flatten().map(geohash::decode_score))
}

/// Looks `key` up as `lookupKeyRead` (counted): true if it holds a sorted set,
/// `WRONGTYPE` for another type.
fn zset_exists(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    Ok(read_zset(ctx, key, |_| ())?.is_some())
}

// ---------------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS.
// ---------------------------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] lon lat member ...: ZADD of the encoded positions.
fn geoadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let mut at = 2;
    let (mut nx, mut xx) = (false, false);
    while at < argv.len() {
        let opt = &argv[at];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if !is(opt, "ch") {
            break;
        }
        at += 1;
    }
    if !(argv.len() - at).is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::syntax());
    }
    let mut zadd: Vec<Bytes> = Vec::with_capacity(at + (argv.len() - at) / 3 * 2);
    zadd.push(Bytes::from_static(b"zadd"));
    zadd.extend(argv[1..at].iter().cloned());
    for triple in argv[at..].chunks_exact(3) {
        let (lon, lat) = lon_lat(&triple[0], &triple[1])?;
        let score = geohash::encode_score(lon, lat).unwrap_or(0);
        zadd.push(Bytes::from(score.to_string()));
        zadd.push(triple[2].clone());
    }
    zadd_generic(ctx, &zadd, 0)
}

/// GEODIST key member1 member2 [unit].
fn geodist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let to_meters = match argv.len() {
        5 => unit(&argv[4])?,
        n if n > 5 => return Err(CmdError::syntax()),
        _ => 1.0,
    };
    let scores = read_zset(ctx, &argv[1], |z| (z.score(&argv[2]), z.score(&argv[3])))?;
    let Some((Some(a), Some(b))) = scores else {
        return Ok(Frame::Null);
    };
    let (lon1, lat1) = geohash::decode_score(a);
    let (lon2, lat2) = geohash::decode_score(b);
    Ok(distance_frame(
        geohash::distance(lon1, lat1, lon2, lat2) / to_meters,
    ))
}

/// The scores of `members` in the set at `key` (all `None` when the key is missing).
fn member_scores(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Vec<Option<f64>>, CmdError> {
    let members = &argv[2..];
    let scores = read_zset(ctx, &argv[1], |z| {
        members.iter().map(|m| z.score(m)).collect::<Vec<_>>()
    })?;
    Ok(scores.unwrap_or_else(|| vec![None; members.len()]))
}

/// GEOHASH key member...: 11-character geohash strings, nil for missing members.
fn geohash(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let scores = member_scores(ctx, argv)?;
    Ok(Frame::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(score) => Frame::Bulk(Bytes::copy_from_slice(&geohash::geohash_string(score))),
                None => Frame::Null,
            })
            .collect(),
    ))
}

/// GEOPOS key member...: `[lon, lat]` pairs, a null array for missing members.
fn geopos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    let scores = member_scores(ctx, argv)?;
    Ok(Frame::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(score) => {
                    let (lon, lat) = geohash::decode_score(score);
                    Frame::Array(vec![coordinate_frame(lon), coordinate_frame(lat)])
                }
                None => Frame::NullArray,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------
// The search family (Redis' `georadiusGeneric`).
// ---------------------------------------------------------------------------------

/// Which command runs the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS[_RO]: centre and radius are positional.
    Coords,
    /// GEORADIUSBYMEMBER[_RO]: centre is a member, radius positional.
    Member,
    /// GEOSEARCH / GEOSEARCHSTORE: everything is an option.
    Search,
}

/// The order of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One match.
struct Point {
    member: Bytes,
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

/// The parsed options of a search.
struct Options {
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: i64,
    store: Option<Bytes>,
    storedist: bool,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

fn georadius(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 1, Kind::Coords, true)
}

fn georadiusbymember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 1, Kind::Member, true)
}

fn georadius_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 1, Kind::Coords, false)
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 1, Kind::Member, false)
}

fn geosearch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 1, Kind::Search, false)
}

fn geosearchstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> CmdResult {
    search_generic(ctx, argv, 2, Kind::Search, false)
}

/// Every search command: parse in Redis' order (the source key's type first, then
/// the arguments left to right, then the cross-option checks), search, reply or store.
fn search_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    src_index: usize,
    kind: Kind,
    can_store: bool,
) -> CmdResult {
    let src = &argv[src_index];
    // GEORADIUSBYMEMBER reads its member's score with the lookup itself.
    let (exists, centre) = match kind {
        Kind::Member => match read_zset(ctx, src, |z| z.score(&argv[2]))? {
            Some(score) => (true, score.map(geohash::decode_score)),
            None => (false, None),
        },
        _ => (zset_exists(ctx, src)?, None),
    };
    let mut search = Search {
        longitude: 0.0,
        latitude: 0.0,
        shape: Shape::Radius(0.0),
        conversion: 1.0,
    };
    let base = match kind {
        Kind::Coords => {
            (search.longitude, search.latitude) = lon_lat(&argv[2], &argv[3])?;
            let (r, conversion) = radius(&argv[4], &argv[5])?;
            (search.shape, search.conversion) = (Shape::Radius(r), conversion);
            6
        }
        Kind::Member if !exists => 5,
        Kind::Member => {
            (search.longitude, search.latitude) = centre.ok_or_else(undecodable_member)?;
            let (r, conversion) = radius(&argv[3], &argv[4])?;
            (search.shape, search.conversion) = (Shape::Radius(r), conversion);
            5
        }
        Kind::Search => src_index + 1,
    };
    let storing_search = kind == Kind::Search && src_index == 2;
    let search_kind = kind == Kind::Search;
    let call = Call {
        argv,
        src,
        exists,
        search: search_kind,
        can_store,
        storing_search,
    };
    let mut o = parse_options(ctx, &call, base, &mut search)?;
    check_options(&o, storing_search, search_kind, &argv[0])?;
    if !exists {
        return Ok(match &o.store {
            Some(dst) => {
                store_zset(ctx, dst, &[], Build::Whole, "")?;
                Frame::Integer(0)
            }
            None => Frame::Array(Vec::new()),
        });
    }
    if o.count != 0 && o.sort == Sort::None && !o.any {
        o.sort = Sort::Asc;
    }
    let limit = if o.any { o.count as usize } else { 0 };
    let mut points = find_points(ctx, src, &search, limit)?;
    if points.is_empty() && o.store.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let returned = if o.count == 0 {
        points.len()
    } else {
        points.len().min(o.count as usize)
    };
    sort_points(&mut points, o.sort, returned);
    points.truncate(returned);
    for p in &mut points {
        p.dist /= search.conversion;
    }
    match o.store.take() {
        Some(dst) => store(ctx, &dst, points, o.storedist, search_kind),
        None => Ok(reply(points, &o)),
    }
}

/// Replaces `dst` with the results (scores: their geohash, or their distance with
/// STOREDIST), or deletes it when there are none; replies the number stored.
fn store(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    points: Vec<Point>,
    storedist: bool,
    search: bool,
) -> CmdResult {
    let items: Vec<(Bytes, f64)> = points
        .into_iter()
        .map(|p| (p.member, if storedist { p.dist } else { p.score }))
        .collect();
    let event = if search {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    Ok(Frame::Integer(
        store_zset(ctx, dst, &items, Build::Whole, event)? as i64,
    ))
}

/// What the option parser needs to know about the command.
struct Call<'a> {
    argv: &'a [Bytes],
    src: &'a Bytes,
    exists: bool,
    /// GEOSEARCH or GEOSEARCHSTORE.
    search: bool,
    /// GEORADIUS or GEORADIUSBYMEMBER (not `_RO`): STORE and STOREDIST are accepted.
    can_store: bool,
    /// GEOSEARCHSTORE: the bare STOREDIST flag is accepted.
    storing_search: bool,
}

/// The options after the positional arguments, left to right as Redis reads them (a
/// FROMMEMBER member is looked up as soon as it is read); `search` receives the
/// centre and shape they give.
fn parse_options(
    ctx: &mut Ctx<'_>,
    call: &Call<'_>,
    base: usize,
    search: &mut Search,
) -> Result<Options, CmdError> {
    let Call {
        argv,
        src,
        exists,
        search: search_kind,
        can_store,
        storing_search,
    } = *call;
    let mut o = Options {
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: storing_search.then(|| argv[1].clone()),
        storedist: false,
        from_member: false,
        from_lonlat: false,
        by_radius: false,
        by_box: false,
    };
    let mut i = base;
    while i < argv.len() {
        let arg = &argv[i];
        let left = argv.len() - i - 1;
        if is(arg, "withdist") {
            o.withdist = true;
        } else if is(arg, "withhash") {
            o.withhash = true;
        } else if is(arg, "withcoord") {
            o.withcoord = true;
        } else if is(arg, "any") {
            o.any = true;
        } else if is(arg, "asc") {
            o.sort = Sort::Asc;
        } else if is(arg, "desc") {
            o.sort = Sort::Desc;
        } else if is(arg, "count") && left >= 1 {
            o.count = int(&argv[i + 1])?;
            if o.count <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist"))
            && left >= 1
            && can_store
            && !search_kind
        {
            o.store = Some(argv[i + 1].clone());
            o.storedist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && storing_search {
            o.storedist = true;
        } else if is(arg, "frommember") && left >= 1 && search_kind && !o.from_lonlat {
            if exists {
                (search.longitude, search.latitude) =
                    member_position(ctx, src, &argv[i + 1])?.ok_or_else(undecodable_member)?;
            }
            o.from_member = true;
            i += 1;
        } else if is(arg, "fromlonlat") && left >= 2 && search_kind && !o.from_member {
            (search.longitude, search.latitude) = lon_lat(&argv[i + 1], &argv[i + 2])?;
            o.from_lonlat = true;
            i += 2;
        } else if is(arg, "byradius") && left >= 2 && search_kind && !o.by_box {
            let (r, conversion) = radius(&argv[i + 1], &argv[i + 2])?;
            (search.shape, search.conversion) = (Shape::Radius(r), conversion);
            o.by_radius = true;
            i += 2;
        } else if is(arg, "bybox") && left >= 3 && search_kind && !o.by_radius {
            let (width, height, conversion) =
                bounding_box(&argv[i + 1], &argv[i + 2], &argv[i + 3])?;
            (search.shape, search.conversion) = (Shape::Box { width, height }, conversion);
            o.by_box = true;
            i += 3;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    Ok(o)
}

/// The checks Redis makes once every option is read.
fn check_options(
    o: &Options,
    storing_search: bool,
    search: bool,
    name: &[u8],
) -> Result<(), CmdError> {
    let name = String::from_utf8_lossy(name);
    if o.store.is_some() && (o.withdist || o.withhash || o.withcoord) {
        return Err(CmdError::err(format!(
            "{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if storing_search {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    if search && !(o.from_member || o.from_lonlat) {
        return Err(CmdError::err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(o.by_radius || o.by_box) {
        return Err(CmdError::err(format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if o.any && o.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    Ok(())
}

/// The members within the search shape, cell by cell in Redis' order, stopping once
/// `limit` candidates were collected (ANY; 0 = no limit).
fn find_points(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    search: &Search,
    limit: usize,
) -> Result<Vec<Point>, CmdError> {
    let cells = geohash::search_cells(search);
    let db = ctx.db();
    let points = crate::storage::with_zset(ctx.txn, db, key, false, |z| {
        let mut points = Vec::new();
        let mut last: Option<HashBits> = None;
        for cell in cells {
            if cell.is_zero() || last == Some(cell) {
                continue;
            }
            if limit > 0 && points.len() >= limit {
                break;
            }
            scan_cell(z, cell, search, limit, &mut points);
            last = Some(cell);
        }
        points
    })?;
    Ok(points.unwrap_or_default())
}

/// Appends the members of one cell's score range that lie within the shape.
fn scan_cell(
    z: &mut dyn ZSetOps,
    cell: HashBits,
    search: &Search,
    limit: usize,
    points: &mut Vec<Point>,
) {
    let (min, max) = cell.score_range();
    let range = ScoreRange {
        min: ScoreBound {
            value: min as f64,
            exclusive: false,
        },
        max: ScoreBound {
            value: max as f64,
            exclusive: true,
        },
    };
    z.range_by_score(&range, false, &mut |member, score| {
        let (lon, lat) = geohash::decode_score(score);
        if let Some(dist) = geohash::within(search, lon, lat) {
            points.push(Point {
                member: Bytes::copy_from_slice(member),
                score,
                lon,
                lat,
                dist,
            });
        }
        !(limit > 0 && points.len() >= limit)
    });
}

/// Orders the results as Redis: a stable sort when all are returned, its partial
/// quicksort over the first `returned` otherwise.
fn sort_points(points: &mut [Point], sort: Sort, returned: usize) {
    let cmp = |a: &Point, b: &Point| {
        let asc = a
            .dist
            .partial_cmp(&b.dist)
            .unwrap_or(std::cmp::Ordering::Equal);
        if sort == Sort::Desc {
            asc.reverse()
        } else {
            asc
        }
    };
    if sort == Sort::None || points.is_empty() {
        return;
    }
    if returned == points.len() {
        points.sort_by(cmp);
    } else {
        pqsort(points, 0, returned as i64 - 1, &cmp);
    }
}

/// The reply of a search: members, or `[member, dist?, hash?, [lon, lat]?]` arrays.
fn reply(points: Vec<Point>, o: &Options) -> Frame {
    let nested = o.withdist || o.withhash || o.withcoord;
    Frame::Array(
        points
            .into_iter()
            .map(|p| {
                if !nested {
                    return Frame::Bulk(p.member);
                }
                let mut item = vec![Frame::Bulk(p.member)];
                if o.withdist {
                    item.push(distance_frame(p.dist));
                }
                if o.withhash {
                    item.push(Frame::Integer(p.score as i64));
                }
                if o.withcoord {
                    item.push(Frame::Array(vec![
                        coordinate_frame(p.lon),
                        coordinate_frame(p.lat),
                    ]));
                }
                Frame::Array(item)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_doubles() {
        assert_eq!(human_double(13.361389338970184), "13.36138933897018433");
        assert_eq!(human_double(180.0), "180");
        assert_eq!(human_double(-0.0), "0");
        assert_eq!(human_double(0.5), "0.5");
    }

    #[test]
    fn store_key_positions() {
        let argv: Vec<Bytes> = [
            "georadius",
            "k",
            "1",
            "2",
            "3",
            "m",
            "STORE",
            "d",
            "storedist",
            "e",
        ]
        .iter()
        .map(|s| Bytes::from(s.to_string()))
        .collect();
        assert_eq!(store_keys(&argv), [9]);
    }
}
