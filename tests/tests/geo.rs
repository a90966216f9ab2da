//! Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS, GEORADIUSBYMEMBER, their
//! `_RO` forms, GEOSEARCH and GEOSEARCHSTORE. Fixed expectations come from Redis'
//! documentation examples and redis-server 7.0.15; a differential test runs random
//! points (clustered, with coincident ones for distance ties) and random searches
//! against a real redis-server, comparing every reply on both backends, in RESP2
//! and RESP3.

use ferrokv_tests::*;

/// Palermo and Catania, as in Redis' documentation.
async fn sicily(c: &mut RawClient) {
    assert_eq!(
        c.send(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ])
        .await,
        int(2)
    );
}

fn palermo_coords() -> Frame {
    bulks(&["13.36138933897018433", "38.11555639549629859"])
}

fn catania_coords() -> Frame {
    bulks(&["15.08726745843887329", "37.50266842333162032"])
}

backend_tests! {
    async fn geoadd_geopos_geohash_geodist(server: &TestServer) {
        let mut c = server.raw().await;
        sicily(&mut c).await;
        assert_eq!(c.send(&["TYPE", "Sicily"]).await, simple("zset"));
        assert_eq!(
            c.send(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]).await,
            bulks(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
        );
        assert_eq!(
            c.send(&["GEOPOS", "Sicily", "Palermo", "Catania", "NonExisting"]).await,
            arr(vec![palermo_coords(), catania_coords(), nil_array()])
        );
        assert_eq!(c.send(&["GEOPOS", "missing", "a", "b"]).await, arr(vec![nil_array(), nil_array()]));
        assert_eq!(c.send(&["GEOPOS", "Sicily"]).await, arr(vec![]));
        assert_eq!(
            c.send(&["GEOHASH", "Sicily", "Palermo", "Catania", "x"]).await,
            arr(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), nil()])
        );
        assert_eq!(c.send(&["GEOHASH", "missing", "a"]).await, arr(vec![nil()]));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Palermo", "Catania"]).await, bulk("166274.1516"));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]).await, bulk("166.2742"));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Palermo", "Catania", "MI"]).await, bulk("103.3182"));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Palermo", "Catania", "ft"]).await, bulk("545518.8700"));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Palermo", "Palermo"]).await, bulk("0.0000"));
        assert_eq!(c.send(&["GEODIST", "Sicily", "Foo", "Bar"]).await, nil());
        assert_eq!(c.send(&["GEODIST", "missing", "Foo", "Bar"]).await, nil());
        assert_eq!(
            c.send(&["GEODIST", "Sicily", "Palermo", "Catania", "yd"]).await,
            err("ERR unsupported unit provided. please use M, KM, FT, MI")
        );
        assert_eq!(c.send(&["GEODIST", "Sicily", "a", "b", "km", "x"]).await, syntax_error());
        // Scores of any sorted set decode, clamped to the limits.
        assert_eq!(c.send(&["ZADD", "z", "9007199254740991", "big", "-5", "neg", "1e300", "huge"]).await, int(3));
        assert_eq!(
            c.send(&["GEOPOS", "z", "big", "neg", "huge"]).await,
            arr(vec![
                bulks(&["179.99999731779098511", "85.0511287799999991"]),
                bulks(&["180", "85.0511287799999991"]),
                bulks(&["-179.99999731779098511", "-85.05112751263942528"]),
            ])
        );
        assert_eq!(
            c.send(&["GEOHASH", "z", "big", "neg", "huge"]).await,
            arr(vec![bulk("zzpgzgpfxz0"), bulk("bp05b5048p0"), bulk("00bh0hbj200")])
        );
    }

    async fn geoadd_options_and_errors(server: &TestServer) {
        let mut c = server.raw().await;
        sicily(&mut c).await;
        assert_eq!(c.send(&["GEOADD", "Sicily", "NX", "13.361389", "38.115556", "Palermo", "15", "37", "New"]).await, int(1));
        assert_eq!(c.send(&["GEOADD", "Sicily", "XX", "15", "37", "Palermo", "15", "37", "Other"]).await, int(0));
        assert_eq!(c.send(&["ZSCORE", "Sicily", "Other"]).await, nil());
        assert_eq!(c.send(&["GEOADD", "Sicily", "XX", "CH", "15", "38", "Palermo", "15", "37", "New"]).await, int(1));
        assert_eq!(c.send(&["GEOADD", "Sicily", "ch", "nx", "1", "1", "Palermo", "2", "2", "p2"]).await, int(1));
        assert_eq!(c.send(&["GEOADD", "Sicily", "NX", "XX", "1", "1", "a"]).await, syntax_error());
        assert_eq!(c.send(&["GEOADD", "Sicily", "GT", "1", "1", "a"]).await, syntax_error());
        assert_eq!(c.send(&["GEOADD", "Sicily", "1", "1", "a", "2"]).await, syntax_error());
        assert_eq!(c.send(&["GEOADD", "Sicily", "CH", "NX"]).await, wrong_args("geoadd"));
        assert_eq!(c.send(&["GEOADD", "Sicily", "ch", "ch", "ch"]).await, syntax_error());
        assert_eq!(
            c.send(&["GEOADD", "Sicily", "181", "10", "x"]).await,
            err("ERR invalid longitude,latitude pair 181.000000,10.000000")
        );
        assert_eq!(
            c.send(&["GEOADD", "Sicily", "10", "10", "ok", "10", "-85.06", "x"]).await,
            err("ERR invalid longitude,latitude pair 10.000000,-85.060000")
        );
        assert_eq!(c.send(&["ZSCORE", "Sicily", "ok"]).await, nil(), "nothing added on error");
        assert_eq!(c.send(&["GEOADD", "Sicily", "abc", "10", "x"]).await, err("ERR value is not a valid float"));
        assert_eq!(c.send(&["GEOADD", "k"]).await, wrong_args("geoadd"));
        assert_eq!(c.send(&["SET", "str", "x"]).await, ok());
        assert_eq!(c.send(&["GEOADD", "str", "1", "1", "a"]).await, wrongtype());
        assert_eq!(c.send(&["GEOADD", "str", "200", "1", "a"]).await,
            err("ERR invalid longitude,latitude pair 200.000000,1.000000"));
        assert_eq!(c.send(&["GEOPOS", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["GEOHASH", "str", "a"]).await, wrongtype());
        assert_eq!(c.send(&["GEODIST", "str", "a", "b"]).await, wrongtype());
        assert_eq!(c.send(&["GEODIST", "str", "a", "b", "parsecs"]).await,
            err("ERR unsupported unit provided. please use M, KM, FT, MI"));
        assert_eq!(c.send(&["GEORADIUS", "str", "1", "1", "1", "km"]).await, wrongtype());
        assert_eq!(c.send(&["GEOSEARCH", "str", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"]).await, wrongtype());
        // Limits are inclusive.
        assert_eq!(c.send(&["GEOADD", "edges", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw"]).await, int(2));
        assert_eq!(c.send(&["GEOHASH", "edges", "ne", "sw"]).await, arr(vec![bulk("bp05b5048p0"), bulk("00bh0hbj200")]));
    }

    async fn radius_searches_as_documented(server: &TestServer) {
        let mut c = server.raw().await;
        sicily(&mut c).await;
        assert_eq!(
            c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"]).await,
            arr(vec![bulks(&["Palermo", "190.4424"]), bulks(&["Catania", "56.4413"])])
        );
        assert_eq!(
            c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"]).await,
            arr(vec![
                arr(vec![bulk("Palermo"), palermo_coords()]),
                arr(vec![bulk("Catania"), catania_coords()]),
            ])
        );
        assert_eq!(
            c.send(&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"]).await,
            arr(vec![
                arr(vec![bulk("Catania"), bulk("56.4413"), int(3479447370796909), catania_coords()]),
                arr(vec![bulk("Palermo"), bulk("190.4424"), int(3479099956230698), palermo_coords()]),
            ])
        );
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "COUNT", "1"]).await, bulks(&["Palermo"]));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"]).await, bulks(&["Catania"]));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "100", "km"]).await, bulks(&["Catania"]));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "1", "m"]).await, arr(vec![]));
        assert_eq!(c.send(&["GEORADIUS", "missing", "15", "37", "1", "km"]).await, arr(vec![]));
        assert_eq!(c.send(&["GEOADD", "Sicily", "13.583333", "37.316667", "Agrigento"]).await, int(1));
        assert_eq!(
            c.send(&["GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km"]).await,
            bulks(&["Agrigento", "Palermo"])
        );
        assert_eq!(
            c.send(&["GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "WITHDIST", "DESC"]).await,
            arr(vec![bulks(&["Palermo", "90.9778"]), bulks(&["Agrigento", "0.0000"])])
        );
        assert_eq!(
            c.send(&["GEORADIUSBYMEMBER", "Sicily", "nobody", "100", "km"]).await,
            err("ERR could not decode requested zset member")
        );
        assert_eq!(c.send(&["GEORADIUSBYMEMBER", "missing", "nobody", "100", "km"]).await, arr(vec![]));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"]).await, bulks(&["Agrigento"]));
    }

    async fn geosearch_as_documented(server: &TestServer) {
        let mut c = server.raw().await;
        sicily(&mut c).await;
        assert_eq!(c.send(&["GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2"]).await, int(2));
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"]).await,
            bulks(&["Catania", "Palermo"])
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST"]).await,
            arr(vec![
                arr(vec![bulk("Catania"), bulk("56.4413"), catania_coords()]),
                arr(vec![bulk("Palermo"), bulk("190.4424"), palermo_coords()]),
                arr(vec![bulk("edge2"), bulk("279.7403"), bulks(&["17.24151045083999634", "38.78813451624225195"])]),
                arr(vec![bulk("edge1"), bulk("279.7405"), bulks(&["12.7584877610206604", "38.78813451624225195"])]),
            ])
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "DESC", "COUNT", "2"]).await,
            bulks(&["Catania", "edge1"])
        );
        assert_eq!(
            c.send(&["geosearch", "Sicily", "BYRADIUS", "200", "km", "ASC", "WITHDIST"]).await,
            err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "COUNT", "3"]).await,
            err("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH")
        );
        assert_eq!(c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"]).await, syntax_error());
        assert_eq!(c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"]).await, syntax_error());
        assert_eq!(c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"]).await, syntax_error());
        assert_eq!(c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"]).await, syntax_error());
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"]).await,
            err("ERR need numeric width")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"]).await,
            err("ERR need numeric height")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "km"]).await,
            err("ERR height or width cannot be negative")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "x", "km"]).await,
            err("ERR need numeric radius")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"]).await,
            err("ERR radius cannot be negative")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "0"]).await,
            err("ERR COUNT must be > 0")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "x"]).await,
            not_integer()
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"]).await,
            err("ERR the ANY argument requires COUNT argument")
        );
        assert_eq!(
            c.send(&["GEOSEARCH", "Sicily", "FROMMEMBER", "nobody", "BYRADIUS", "1", "km"]).await,
            err("ERR could not decode requested zset member")
        );
        assert_eq!(c.send(&["GEOSEARCH", "missing", "FROMMEMBER", "nobody", "BYRADIUS", "1", "km"]).await, arr(vec![]));
        assert_eq!(c.send(&["GEOSEARCH", "missing", "FROMMEMBER", "nobody", "BYBOX", "1", "1", "km"]).await, arr(vec![]));
        assert_eq!(
            c.send(&["GEOSEARCH", "missing", "FROMMEMBER", "nobody"]).await,
            wrong_args("geosearch")
        );
        assert_eq!(c.send(&["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1"]).await, syntax_error());
    }

    async fn store_forms(server: &TestServer) {
        let mut c = server.raw().await;
        sicily(&mut c).await;
        assert_eq!(c.send(&["SET", "dst", "x"]).await, ok());
        assert_eq!(c.send(&["EXPIRE", "dst", "100"]).await, int(1));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"]).await, int(2));
        assert_eq!(c.send(&["TTL", "dst"]).await, int(-1));
        assert_eq!(
            c.send(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]).await,
            bulks(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
        );
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst2", "COUNT", "1"]).await, int(1));
        assert_eq!(c.send(&["ZRANGE", "dst2", "0", "-1", "WITHSCORES"]).await, bulks(&["Catania", "56.441257870158204"]));
        assert_eq!(c.send(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "10", "km", "STORE", "d3", "STOREDIST", "d4"]).await, int(1));
        assert_eq!(c.send(&["EXISTS", "d3"]).await, int(0));
        assert_eq!(c.send(&["ZRANGE", "d4", "0", "-1", "WITHSCORES"]).await, bulks(&["Palermo", "0"]));
        assert_eq!(
            c.send(&["GEOSEARCHSTORE", "d5", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST", "DESC"]).await,
            int(2)
        );
        assert_eq!(c.send(&["ZRANGE", "d5", "0", "-1", "WITHSCORES"]).await, bulks(&["Catania", "56.441257870158204", "Palermo", "190.44242984775784"]));
        // No match deletes the destination; so does a missing source.
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "d5"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d5"]).await, int(0));
        assert_eq!(c.send(&["GEOSEARCHSTORE", "d4", "missing", "FROMMEMBER", "x", "BYRADIUS", "1", "km"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "d4"]).await, int(0));
        assert_eq!(c.send(&["GEORADIUSBYMEMBER", "missing", "x", "1", "km", "STORE", "dst"]).await, int(0));
        assert_eq!(c.send(&["EXISTS", "dst"]).await, int(0));
        assert_eq!(
            c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "WITHDIST"]).await,
            err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        );
        assert_eq!(
            c.send(&["GEOSEARCHSTORE", "x", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHCOORD"]).await,
            err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        );
        assert_eq!(c.send(&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"]).await, syntax_error());
        assert_eq!(c.send(&["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km", "STOREDIST", "x"]).await, syntax_error());
        assert_eq!(c.send(&["GEOSEARCHSTORE", "x", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "y"]).await, syntax_error());
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE"]).await, syntax_error());
        assert_eq!(c.send(&["COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"]).await, bulks(&["Sicily", "dst"]));
    }

    async fn keyspace_events(server: &TestServer) {
        let mut c = server.raw().await;
        assert_eq!(c.send(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]).await, ok());
        let mut sub = server.raw().await;
        sub.send(&["PSUBSCRIBE", "__keyevent@0__:*"]).await;
        sicily(&mut c).await;
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"]).await, int(2));
        assert_eq!(c.send(&["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]).await, int(2));
        assert_eq!(c.send(&["GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "d"]).await, int(0));
        assert_eq!(c.send(&["PUBLISH", "__keyevent@0__:end", "x"]).await, int(1));
        let mut events = Vec::new();
        loop {
            let msg = sub.read_frame().await;
            let parts = items(&msg);
            let channel = text(&parts[2]);
            if channel.ends_with(":end") {
                break;
            }
            events.push(format!("{} {}", channel.trim_start_matches("__keyevent@0__:"), text(&parts[3])));
        }
        assert_eq!(
            events,
            ["new Sicily", "zadd Sicily", "new d", "georadiusstore d", "geosearchstore d", "del d"]
        );
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random point around one of a few centres (some near the poles and the
/// antimeridian), sometimes on a grid so that several members coincide.
fn point(rng: &mut Rng) -> (String, String) {
    let centres = [
        (13.36, 38.11),
        (-0.12, 51.5),
        (179.9, -16.5),
        (-179.95, 10.0),
        (25.0, 84.9),
        (0.0, 0.0),
        (-70.0, -84.0),
    ];
    let (cx, cy) = centres[rng.below(centres.len() as u64) as usize];
    let spread = [0.001, 0.05, 1.0, 10.0][rng.below(4) as usize];
    let mut x = cx + (rng.unit() - 0.5) * spread;
    let mut y = cy + (rng.unit() - 0.5) * spread;
    if rng.below(3) == 0 {
        x = (x * 100.0).round() / 100.0;
        y = (y * 100.0).round() / 100.0;
    }
    let x = x.clamp(-180.0, 180.0);
    let y = y.clamp(-85.05, 85.05);
    (format!("{x:.6}"), format!("{y:.6}"))
}

fn search_command(rng: &mut Rng, members: usize) -> Vec<String> {
    let mut cmd: Vec<String> = Vec::new();
    let member = format!("m{}", rng.below(members as u64 + 2));
    let (x, y) = point(rng);
    let units = ["m", "km", "mi", "ft", "KM"];
    let unit = units[rng.below(units.len() as u64) as usize].to_string();
    let radius = format!(
        "{}",
        [0.0, 1.0, 50.0, 1000.0, 20_000.0, 300_000.0][rng.below(6) as usize]
            / if unit == "m" || unit == "ft" {
                0.001
            } else {
                1.0
            }
    );
    let search = rng.below(3);
    match search {
        0 => cmd.extend(["GEORADIUS".into(), "g".into(), x, y, radius, unit.clone()]),
        1 => cmd.extend([
            "GEORADIUSBYMEMBER".into(),
            "g".into(),
            member,
            radius,
            unit.clone(),
        ]),
        _ => {
            cmd.extend(["GEOSEARCH".into(), "g".into()]);
            if rng.below(2) == 0 {
                cmd.extend(["FROMMEMBER".into(), member]);
            } else {
                cmd.extend(["FROMLONLAT".into(), x, y]);
            }
            if rng.below(2) == 0 {
                cmd.extend(["BYRADIUS".into(), radius, unit]);
            } else {
                let w = format!("{}", rng.below(400_000));
                let h = format!("{}", rng.below(400_000));
                cmd.extend(["BYBOX".into(), w, h, "m".into()]);
            }
        }
    }
    for opt in ["WITHDIST", "WITHCOORD", "WITHHASH"] {
        if rng.below(2) == 0 {
            cmd.push(opt.into());
        }
    }
    match rng.below(3) {
        0 => cmd.push("ASC".into()),
        1 => cmd.push("DESC".into()),
        _ => {}
    }
    if rng.below(2) == 0 {
        cmd.extend(["COUNT".into(), format!("{}", 1 + rng.below(12))]);
        if rng.below(4) == 0 {
            cmd.push("ANY".into());
        }
    }
    cmd
}

/// A GEOADD updating an existing member and adding a new one, with random options.
fn geoadd_command(rng: &mut Rng, members: usize) -> Vec<String> {
    let mut cmd = vec!["GEOADD".to_string(), "g".to_string()];
    for opt in ["NX", "XX", "CH"] {
        if rng.below(3) == 0 && !(opt == "XX" && cmd.iter().any(|c| c == "NX")) {
            cmd.push(opt.into());
        }
    }
    let (x, y) = point(rng);
    cmd.extend([x, y, format!("m{}", rng.below(members as u64))]);
    let (x, y) = point(rng);
    cmd.extend([x, y, format!("new{}", rng.below(5))]);
    cmd
}

/// The storing form of a search: GEOSEARCHSTORE, or GEORADIUS[BYMEMBER] with STORE
/// or STOREDIST, into `dst`, without the WITH* options.
fn store_form(cmd: &[String], dist: bool) -> Option<Vec<String>> {
    let kept = cmd.iter().filter(|a| !a.starts_with("WITH")).cloned();
    match cmd[0].as_str() {
        "GEOSEARCH" => {
            let mut out = vec!["GEOSEARCHSTORE".to_string(), "dst".to_string()];
            out.extend(kept.skip(1));
            if dist {
                out.push("STOREDIST".into());
            }
            Some(out)
        }
        "GEORADIUS" | "GEORADIUSBYMEMBER" => {
            let mut out: Vec<String> = kept.collect();
            out.push(if dist { "STOREDIST" } else { "STORE" }.into());
            out.push("dst".into());
            Some(out)
        }
        _ => None,
    }
}

/// Random geo sets and searches: every reply must equal redis-server's, wire bytes
/// compared, in RESP2 and RESP3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_geo_ops_match_redis() {
    if against_redis() {
        return;
    }
    let Some(redis) = RedisServer::start().await else {
        eprintln!("SKIPPED: redis-server not found");
        return;
    };
    let memory = start(Backend::Memory).await;
    let disk = start(Backend::Disk).await;
    let names = ["redis", "memory", "disk"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..6 {
        let resp3 = round % 2 == 1;
        let mut clients = [redis.raw().await, memory.raw().await, disk.raw().await];
        for c in clients.iter_mut() {
            assert_eq!(c.send(&["FLUSHALL"]).await, ok());
            if resp3 {
                c.send(&["HELLO", "3"]).await;
            }
        }
        let members = [10usize, 60, 300][round / 2];
        let mut cmd = vec!["GEOADD".to_string(), "g".to_string()];
        for i in 0..members {
            let (x, y) = point(&mut rng);
            cmd.extend([x, y, format!("m{i}")]);
        }
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        for c in clients.iter_mut() {
            assert_eq!(c.send(&args).await, int(members as i64));
        }
        for step in 0..500 {
            let first = match rng.below(11) {
                0 => vec![
                    "GEODIST".into(),
                    "g".into(),
                    format!("m{}", rng.below(members as u64)),
                    format!("m{}", rng.below(members as u64)),
                    "km".into(),
                ],
                1 => vec![
                    "GEOPOS".into(),
                    "g".into(),
                    format!("m{}", rng.below(members as u64)),
                    "nope".into(),
                ],
                2 => vec![
                    "GEOHASH".into(),
                    "g".into(),
                    format!("m{}", rng.below(members as u64)),
                ],
                3 => geoadd_command(&mut rng, members),
                _ => search_command(&mut rng, members),
            };
            let mut batch = vec![first.clone()];
            if first[0] != "GEOADD"
                && first[0].starts_with("GEO")
                && first.len() > 4
                && rng.below(3) == 0
            {
                if let Some(store) = store_form(&first, rng.below(2) == 0) {
                    batch = vec![
                        store,
                        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"]
                            .map(String::from)
                            .to_vec(),
                    ];
                }
            }
            if first[0] == "GEOADD" {
                batch.push(vec![
                    "ZRANGE".into(),
                    "g".into(),
                    "0".into(),
                    "-1".into(),
                    "WITHSCORES".into(),
                ]);
            }
            for cmd in batch {
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let mut replies = Vec::new();
                for c in clients.iter_mut() {
                    let (frame, wire) = c
                        .send_raw_reply(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
                        .await;
                    replies.push((frame, wire));
                }
                for i in 1..3 {
                    assert!(
                        replies[i].1 == replies[0].1,
                        "round {round} step {step} `{}`\n{}: {:?}\nredis: {:?}",
                        args.join(" "),
                        names[i],
                        replies[i].0,
                        replies[0].0
                    );
                }
            }
        }
    }
    memory.stop().await;
    disk.stop().await;
}
