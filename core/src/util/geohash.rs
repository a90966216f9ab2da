//! Redis' geohash arithmetic (`geohash.c`, `geohash_helper.c` of Redis 7.0), so that
//! geo sets hold the same scores as in Redis and searches find, measure and order the
//! same members.
//!
//! A position is stored as a sorted-set score: the 52-bit interleave of 26-bit
//! latitude and longitude cell numbers over [-85.05112878, 85.05112878] x [-180, 180]
//! (latitude bits in the even positions). Decoding gives the centre of the cell. A
//! search covers the query shape with the geohash cell of its centre and the eight
//! neighbours, at a precision chosen from the radius, each cell being one score range
//! of the sorted set; candidates are then filtered by their exact distance (haversine
//! on a sphere of radius 6372797.560856 m).

/// Smallest longitude Redis accepts.
pub const LONG_MIN: f64 = -180.0;
/// Largest longitude.
pub const LONG_MAX: f64 = 180.0;
/// Smallest latitude (the limit of EPSG:900913).
pub const LAT_MIN: f64 = -85.051_128_78;
/// Largest latitude.
pub const LAT_MAX: f64 = 85.051_128_78;
/// Bits per coordinate in a stored score.
pub const STEP_MAX: u8 = 26;

const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A coordinate interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
}

/// The ranges Redis stores positions in: longitude, latitude.
pub const WGS84: (Range, Range) = (
    Range {
        min: LONG_MIN,
        max: LONG_MAX,
    },
    Range {
        min: LAT_MIN,
        max: LAT_MAX,
    },
);

/// An interleaved geohash of `step` bits per coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashBits {
    /// Latitude bits in even positions, longitude bits in odd ones.
    pub bits: u64,
    /// Bits per coordinate (1..=32).
    pub step: u8,
}

impl HashBits {
    /// Redis' "zeroed" neighbour, excluded from a search.
    pub const ZERO: HashBits = HashBits { bits: 0, step: 0 };

    /// Whether this is [`HashBits::ZERO`].
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The bits shifted to a 52-bit score (`geohashAlign52Bits`).
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }

    /// The score range `[min, max)` holding every position inside this cell.
    pub fn score_range(self) -> (u64, u64) {
        let next = HashBits {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (self.align52(), next.align52())
    }
}

/// The cell a hash names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// Longitude interval.
    pub longitude: Range,
    /// Latitude interval.
    pub latitude: Range,
}

fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

fn squash(v: u64) -> u64 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// `x` in the even bits, `y` in the odd ones.
fn interleave(x: u32, y: u32) -> u64 {
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave`]: even bits in the low word, odd bits in the high one.
fn deinterleave(v: u64) -> u64 {
    squash(v) | (squash(v >> 1) << 32)
}

/// A double converted to an unsigned cell number as C's `(uint32_t)` cast does for the
/// values Redis produces (0 ..= 2^step).
fn to_u32(v: f64) -> u32 {
    v as u32
}

/// Encodes a position at `step` bits per coordinate within the given ranges, or `None`
/// outside Redis' limits (`geohashEncode`).
pub fn encode(ranges: (Range, Range), longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    let (long_range, lat_range) = ranges;
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(HashBits {
        bits: interleave(to_u32(lat_offset), to_u32(long_offset)),
        step,
    })
}

/// The 52-bit score of a position, or `None` outside Redis' limits.
pub fn encode_score(longitude: f64, latitude: f64) -> Option<u64> {
    encode(WGS84, longitude, latitude, STEP_MAX).map(HashBits::align52)
}

/// The cell of a hash (`geohashDecode`).
pub fn decode(ranges: (Range, Range), hash: HashBits) -> Area {
    let (long_range, lat_range) = ranges;
    let sep = deinterleave(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    }
}

/// A score as C's `(uint64_t)` cast of a double compiles on x86-64 (what Redis does
/// to any sorted-set score it decodes, geo or not).
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si: out of range or NaN gives the "integer indefinite" value.
    let cvt = |d: f64| {
        if d.is_nan() || !(-TWO63..TWO63).contains(&d) {
            i64::MIN
        } else {
            d as i64
        }
    };
    if score >= TWO63 {
        (cvt(score - TWO63) as u64) ^ (1 << 63)
    } else {
        cvt(score) as u64
    }
}

/// The position (longitude, latitude) a score stands for: the centre of its cell,
/// clamped to Redis' limits (`decodeGeohash`).
pub fn decode_score(score: f64) -> (f64, f64) {
    let area = decode(
        WGS84,
        HashBits {
            bits: score_bits(score),
            step: STEP_MAX,
        },
    );
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// The 11-character standard geohash of a stored score (`GEOHASH`): re-encoded over
/// [-90, 90] latitude, the 11th character always `0`.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let ranges = (
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
    );
    let bits = encode(ranges, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

/// Moves a hash one cell along the axis whose bits `own` selects (longitude: the odd
/// bits, latitude: the even ones), wrapping around (`geohash_move_x/y`).
fn move_axis(hash: &mut HashBits, d: i8, own: u64) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut mine = hash.bits & own;
    let theirs = hash.bits & !own;
    let zz = !own >> shift;
    if d > 0 {
        mine = mine.wrapping_add(zz + 1);
    } else {
        mine |= zz;
        mine = mine.wrapping_sub(zz + 1);
    }
    mine &= own >> shift;
    hash.bits = mine | theirs;
}

/// A cell moved by (dx, dy) cells.
fn neighbour(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    move_axis(&mut h, dx, 0xaaaa_aaaa_aaaa_aaaa);
    move_axis(&mut h, dy, 0x5555_5555_5555_5555);
    h
}

/// The search shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A circle of this radius, in the unit.
    Radius(f64),
    /// A box of this width and height, in the unit.
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// A search: centre, shape and the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Longitude of the centre.
    pub longitude: f64,
    /// Latitude of the centre.
    pub latitude: f64,
    /// What to cover around it.
    pub shape: Shape,
    /// Meters per unit.
    pub conversion: f64,
}

/// The geohash precision whose cells cover `range_meters` (`geohashEstimateStepsByRadius`).
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The bounding box of the search: (min lon, min lat, max lon, max lat).
fn bounding_box(s: &Search) -> [f64; 4] {
    let (half_h, half_w) = match s.shape {
        Shape::Radius(r) => (r, r),
        Shape::Box { width, height } => (height / 2.0, width / 2.0),
    };
    let height = s.conversion * half_h;
    let width = s.conversion * half_w;
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(s.latitude + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(s.latitude - lat_delta).cos());
    let long_delta = if s.latitude < 0.0 {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        s.longitude - long_delta,
        s.latitude - lat_delta,
        s.longitude + long_delta,
        s.latitude + lat_delta,
    ]
}

/// The cells to scan for a search, in Redis' order: centre, N, S, E, W, NE, NW, SE, SW;
/// cells that cannot hold a match are [`HashBits::ZERO`]
/// (`geohashCalculateAreasByShapeWGS84`).
pub fn search_cells(s: &Search) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
    let radius_meters = match s.shape {
        Shape::Radius(r) => r,
        Shape::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * s.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, s.latitude);
    let centre = |steps| encode(WGS84, s.longitude, s.latitude, steps).unwrap_or(HashBits::ZERO);
    let mut hash = centre(steps);
    let north = decode(WGS84, neighbour(hash, 0, 1));
    let south = decode(WGS84, neighbour(hash, 0, -1));
    let east = decode(WGS84, neighbour(hash, 1, 0));
    let west = decode(WGS84, neighbour(hash, -1, 0));
    let decrease = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        hash = centre(steps);
    }
    let area = decode(WGS84, hash);
    // N, S, E, W, NE, NW, SE, SW as (dx, dy).
    let moves = [
        (0, 1),
        (0, -1),
        (1, 0),
        (-1, 0),
        (1, 1),
        (-1, 1),
        (1, -1),
        (-1, -1),
    ];
    let mut cells = [hash; 9];
    for (cell, (dx, dy)) in cells[1..].iter_mut().zip(moves) {
        *cell = neighbour(hash, dx, dy);
    }
    if steps >= 2 {
        let mut drop = |dir: fn(i8, i8) -> bool| {
            for (cell, (dx, dy)) in cells[1..].iter_mut().zip(moves) {
                if dir(dx, dy) {
                    *cell = HashBits::ZERO;
                }
            }
        };
        if area.latitude.min < min_lat {
            drop(|_, dy| dy < 0);
        }
        if area.latitude.max > max_lat {
            drop(|_, dy| dy > 0);
        }
        if area.longitude.min < min_lon {
            drop(|dx, _| dx < 0);
        }
        if area.longitude.max > max_lon {
            drop(|dx, _| dx > 0);
        }
    }
    cells
}

/// Great-circle distance in meters (haversine, `geohashGetDistance`).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// The distance from the search centre to (lon, lat) in meters, when the point lies
/// within the shape (`geoWithinShape`).
pub fn within(s: &Search, lon: f64, lat: f64) -> Option<f64> {
    match s.shape {
        Shape::Radius(r) => {
            let d = distance(s.longitude, s.latitude, lon, lat);
            (d <= r * s.conversion).then_some(d)
        }
        Shape::Box { width, height } => {
            let (w, h) = (width * s.conversion, height * s.conversion);
            let lon_distance = distance(lon, lat, s.longitude, lat);
            let lat_distance = distance(lon, lat, lon, s.latitude);
            if lon_distance > w / 2.0 || lat_distance > h / 2.0 {
                return None;
            }
            Some(distance(s.longitude, s.latitude, lon, lat))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_and_catania_as_redis_stores_them() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        let (lon2, lat2) = decode_score(3479447370796909.0);
        let d = distance(lon, lat, lon2, lat2);
        assert_eq!(format!("{d:.4}"), "166274.1516");
    }

    #[test]
    fn limits() {
        assert_eq!(encode_score(181.0, 10.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
        assert!(encode_score(180.0, 85.05112878).is_some());
        assert!(encode_score(-180.0, -85.05112878).is_some());
    }

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let sep = deinterleave(interleave(x, y));
            assert_eq!((sep as u32, (sep >> 32) as u32), (x, y));
        }
    }
}
