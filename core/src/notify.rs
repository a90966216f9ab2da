//! Keyspace notifications (Redis' `notify.c`): commands that change a key publish an
//! event on `__keyspace@<db>__:<key>` (class `K`, the event name as message) and on
//! `__keyevent@<db>__:<event>` (class `E`, the key as message), through the ordinary
//! pub/sub registry, for the event classes `notify-keyspace-events` enables.
//!
//! The parsed classes are cached in one atomic ([`Notifier`]), refreshed at start and
//! by `CONFIG SET`; every call site tests it first, so with notifications off (the
//! default) an event costs one relaxed load and a branch. Call sites follow Redis
//! 7.0's `notifyKeyspaceEvent` calls one for one: a handler calls [`Ctx::notify`]
//! where Redis does, after the change, with Redis' event name and class.
//!
//! `expired` events come from two places: lazy expiry (any operation of a command's
//! scope that finds a key past its time removes it, and the backend reports it
//! through [`Txn::drain_expired`](crate::storage::Txn::drain_expired); they are
//! published before the command's next event, or when the command ends) and the
//! active expiry cycle ([`active_expire`]). `new` events (class `n`, Redis' `dbAdd`)
//! need to know whether a write creates its key: [`Ctx::creates`] looks that up
//! before the write, only while `new` events are enabled.

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::{BufMut, Bytes, BytesMut};

use crate::command::Ctx;
use crate::config::{keyspace_events_from_str, Config};
use crate::engine::Engine;
use crate::pubsub::PubSub;
use crate::storage::{DbIndex, ExpireStats, StorageResult};

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: keys removed because their time to live ran out.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: keys evicted by `maxmemory` (never published: ferrokv does not evict).
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: reads of missing keys (`keymiss`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events.
pub const MODULE: u32 = 1 << 12;
/// `n`: a key was created.
pub const NEW: u32 = 1 << 13;

/// The enabled event classes, as one atomic the call sites test.
#[derive(Debug, Default)]
pub struct Notifier {
    flags: AtomicU32,
}

impl Notifier {
    /// Re-reads `notify-keyspace-events` (at start and after `CONFIG SET`).
    pub fn refresh(&self, config: &Config) {
        let text = config.get("notify-keyspace-events").unwrap_or_default();
        self.set_flags(keyspace_events_from_str(&text).unwrap_or(0));
    }

    /// Adopts parsed flags (Redis' `notify_keyspace_events`). Without `K` or `E`
    /// nothing is ever published, so such flags are stored as 0: then a single
    /// `flags & class` test decides everything.
    pub fn set_flags(&self, flags: u32) {
        let effective = if flags & (KEYSPACE | KEYEVENT) == 0 {
            0
        } else {
            flags
        };
        self.flags.store(effective, Ordering::Relaxed);
    }

    /// The effective flags (0 when nothing is published).
    #[inline]
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Whether events of `class` are published.
    #[inline]
    pub fn enabled(&self, class: u32) -> bool {
        self.flags() & class != 0
    }

    /// Publishes `event` of `class` for `key` of database `db`, if enabled.
    pub fn publish(
        &self,
        pubsub: &PubSub,
        class: u32,
        event: &'static str,
        db: DbIndex,
        key: &[u8],
    ) {
        let flags = self.flags();
        if flags & class != 0 {
            publish_with(pubsub, flags, event, db, key);
        }
    }
}

/// Publishes one event on the keyspace and/or keyevent channel, as `flags` ask
/// (Redis' `notifyKeyspaceEvent` after its class test).
fn publish_with(pubsub: &PubSub, flags: u32, event: &'static str, db: DbIndex, key: &[u8]) {
    let mut db_digits = [0u8; 20];
    let db_digits = crate::util::number::format_i64(db as i64, &mut db_digits);
    let event_bytes = Bytes::from_static(event.as_bytes());
    let channel = |prefix: &[u8], suffix: &[u8]| {
        let mut c = BytesMut::with_capacity(prefix.len() + db_digits.len() + 3 + suffix.len());
        c.put_slice(prefix);
        c.put_slice(db_digits);
        c.put_slice(b"__:");
        c.put_slice(suffix);
        c.freeze()
    };
    if flags & KEYSPACE != 0 {
        pubsub.publish(false, &channel(b"__keyspace@", key), &event_bytes);
    }
    if flags & KEYEVENT != 0 {
        let key = Bytes::copy_from_slice(key);
        pubsub.publish(false, &channel(b"__keyevent@", event.as_bytes()), &key);
    }
}

/// One step of active expiry that publishes `expired` for each key it removes, when
/// those events are enabled, and invalidates them for client-side caching while a
/// client tracks (otherwise the backend's plain, non-reporting step).
pub fn active_expire(engine: &Engine, budget: usize) -> ExpireStats {
    let backend = engine.backend();
    let notifying = engine.notify.enabled(EXPIRED);
    let tracking = engine.tracking.active();
    let propagating = engine.propagation.active();
    if !notifying && !tracking && !propagating {
        return backend.active_expire(budget);
    }
    let (notify, pubsub) = (&engine.notify, &engine.pubsub);
    let mut removed: Vec<Bytes> = Vec::new();
    let stats = backend.active_expire_reporting(budget, &mut |db, key| {
        if notifying {
            notify.publish(pubsub, EXPIRED, "expired", db, key);
        }
        if tracking {
            removed.push(Bytes::copy_from_slice(key));
        }
        if propagating {
            engine
                .propagation
                .feed(vec![engine.expired_command(db, key)]);
        }
    });
    if !removed.is_empty() {
        engine.tracking.keys_expired(&engine.clients, &removed);
    }
    stats
}

impl Ctx<'_> {
    /// Whether events of `class` are published: one relaxed atomic load.
    #[inline]
    pub fn notifying(&self, class: u32) -> bool {
        self.engine.notify.enabled(class)
    }

    /// Publishes keyspace event `event` of `class` for `key` in the selected
    /// database. Keys this command's scope found expired so far are announced first,
    /// as Redis publishes `expired` during the lookup that preceded the change.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        let db = self.session.db;
        self.notify_in(db, class, event, key);
    }

    /// [`Ctx::notify`] for a key of database `db` (`MOVE`, `COPY ... DB`).
    #[inline]
    pub fn notify_in(&mut self, db: DbIndex, class: u32, event: &'static str, key: &[u8]) {
        let flags = self.engine.notify.flags();
        if flags & class != 0 {
            self.publish_now(flags, db, event, key);
        }
    }

    #[cold]
    fn publish_now(&mut self, flags: u32, db: DbIndex, event: &'static str, key: &[u8]) {
        if flags & EXPIRED != 0 {
            self.notify_expired();
        }
        publish_with(&self.engine.pubsub, flags, event, db, key);
    }

    /// Publishes `expired` for the keys the command's scope removed by lazy expiry
    /// and not yet announced. The engine calls it when the handler returns.
    #[inline]
    pub fn notify_expired(&mut self) {
        let flags = self.engine.notify.flags();
        let propagating = self.engine.propagation.active();
        if flags & EXPIRED != 0 || propagating {
            let engine = self.engine;
            let pending = &mut self.session.propagation.unit;
            self.txn.drain_expired(&mut |db, key| {
                if flags & EXPIRED != 0 {
                    publish_with(&engine.pubsub, flags, "expired", db, key);
                }
                if propagating {
                    pending.push(engine.expired_command(db, key));
                }
            });
        }
    }

    /// Counts a read lookup for `INFO` `keyspace_hits`/`keyspace_misses` and, on a
    /// miss, publishes `keymiss` (class `m`), as Redis' `lookupKeyReadWithFlags`.
    #[inline]
    pub fn note_read(&mut self, hit: bool, key: &[u8]) {
        let db = self.session.db;
        self.note_read_in(db, hit, key);
    }

    /// Counts the outcome of a read lookup of `key` as Redis' `lookupKeyRead` does (a
    /// value, or one of another type, is a hit; a missing key a miss) and passes the
    /// result on, `WRONGTYPE` included.
    #[inline]
    pub fn counted_read<R>(
        &mut self,
        key: &[u8],
        found: StorageResult<Option<R>>,
    ) -> Result<Option<R>, crate::command::CmdError> {
        let hit = matches!(
            found,
            Ok(Some(_)) | Err(crate::storage::StorageError::WrongType)
        );
        self.note_read(hit, key);
        Ok(found?)
    }

    /// [`Ctx::note_read`] for a key of database `db`.
    #[inline]
    pub fn note_read_in(&mut self, db: DbIndex, hit: bool, key: &[u8]) {
        self.engine.stats.lookup(hit);
        if !hit {
            self.notify_in(db, KEY_MISS, "keymiss", key);
        }
    }

    /// Before a write that may create `key` (in the selected database): whether the
    /// key is missing, so that the write will create it and Redis would publish
    /// `new`. Looked up only while `new` events are enabled; false otherwise.
    #[inline]
    pub fn creates(&mut self, key: &[u8]) -> StorageResult<bool> {
        let db = self.session.db;
        self.creates_in(db, key)
    }

    /// [`Ctx::creates`] for a key of database `db`.
    #[inline]
    pub fn creates_in(&mut self, db: DbIndex, key: &[u8]) -> StorageResult<bool> {
        if !self.notifying(NEW) {
            return Ok(false);
        }
        Ok(self.txn.meta(db, key)?.is_none())
    }

    /// Publishes `new` for `key` when `created` (the answer of [`Ctx::creates`]
    /// before a write that took place).
    #[inline]
    pub fn notify_new(&mut self, created: bool, key: &[u8]) {
        if created {
            self.notify(NEW, "new", key);
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use ferrokv_protocol::{decode_frame, Frame};

    use super::*;
    use crate::testing::{engine, run, session};
    use crate::Session;

    /// The `(channel, message)` pairs queued for a pattern subscriber.
    fn events(s: &Session) -> Vec<(String, String)> {
        let Some(sub) = s.pubsub.subscriber() else {
            return Vec::new();
        };
        let mut out = BytesMut::new();
        let n = sub.drain(&mut out, usize::MAX);
        sub.written(n);
        let mut events = Vec::new();
        while let Some(f) = decode_frame(&mut out).unwrap() {
            let Frame::Array(items) = f else {
                panic!("not an array: {f:?}")
            };
            let text = |f: &Frame| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            };
            if text(&items[0]) == "pmessage" {
                events.push((text(&items[2]), text(&items[3])));
            }
        }
        events
    }

    /// Keyspace and keyevent pairs for `(event, key)` in db 0, in that order.
    fn both(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .flat_map(|(event, key)| {
                [
                    (format!("__keyspace@0__:{key}"), event.to_string()),
                    (format!("__keyevent@0__:{event}"), key.to_string()),
                ]
            })
            .collect()
    }

    fn setup(flags: &str) -> (Engine, Session, Session) {
        let e = engine();
        let mut sub = session(&e);
        let mut c = session(&e);
        assert_eq!(
            run(
                &e,
                &mut c,
                &["CONFIG", "SET", "notify-keyspace-events", flags]
            ),
            Frame::simple("OK")
        );
        run(&e, &mut sub, &["PSUBSCRIBE", "__key*__:*"]);
        events(&sub);
        (e, sub, c)
    }

    #[test]
    fn flags_without_a_channel_kind_publish_nothing() {
        let n = Notifier::default();
        n.set_flags(GENERIC | LIST);
        assert_eq!(n.flags(), 0);
        n.set_flags(KEYSPACE | LIST);
        assert!(n.enabled(LIST) && !n.enabled(HASH));
        n.set_flags(0);
        assert!(!n.enabled(GENERIC | STRING | LIST | EXPIRED | NEW));
    }

    #[test]
    fn refresh_reads_the_configuration() {
        let e = engine();
        assert_eq!(e.notify.flags(), 0, "off by default");
        e.config
            .set_startup("notify-keyspace-events", "Elx")
            .unwrap();
        e.notify.refresh(&e.config);
        assert_eq!(e.notify.flags(), KEYEVENT | LIST | EXPIRED);
    }

    #[test]
    fn config_set_enables_and_disables() {
        let (e, sub, mut c) = setup("KEA");
        run(&e, &mut c, &["SET", "k", "v"]);
        assert_eq!(events(&sub), both(&[("set", "k")]));
        run(&e, &mut c, &["CONFIG", "SET", "notify-keyspace-events", ""]);
        run(&e, &mut c, &["SET", "k", "v"]);
        assert_eq!(events(&sub), vec![]);
    }

    #[test]
    fn keyspace_only_and_class_filter() {
        let (e, sub, mut c) = setup("Kl");
        run(&e, &mut c, &["SET", "s", "v"]);
        run(&e, &mut c, &["RPUSH", "l", "a"]);
        run(&e, &mut c, &["DEL", "l"]);
        assert_eq!(
            events(&sub),
            vec![("__keyspace@0__:l".to_string(), "rpush".to_string())]
        );
    }

    #[test]
    fn keyevent_only_names_the_key() {
        let (e, sub, mut c) = setup("E$");
        run(&e, &mut c, &["SELECT", "3"]);
        run(&e, &mut c, &["INCR", "n"]);
        assert_eq!(
            events(&sub),
            vec![("__keyevent@3__:incrby".to_string(), "n".to_string())]
        );
    }

    #[test]
    fn new_is_published_before_the_command_event() {
        let (e, sub, mut c) = setup("KEAn");
        run(&e, &mut c, &["SET", "k", "1"]);
        run(&e, &mut c, &["SET", "k", "2"]);
        assert_eq!(
            events(&sub),
            both(&[("new", "k"), ("set", "k"), ("set", "k")])
        );
        // `n` alone: only creations.
        run(
            &e,
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "En"],
        );
        run(&e, &mut c, &["RPUSH", "l", "a"]);
        run(&e, &mut c, &["RPUSH", "l", "b"]);
        assert_eq!(
            events(&sub),
            vec![("__keyevent@0__:new".to_string(), "l".to_string())]
        );
    }

    #[test]
    fn lazy_expiry_publishes_expired() {
        let (e, sub, mut c) = setup("KEA");
        run(&e, &mut c, &["SET", "k", "v", "PX", "1"]);
        assert_eq!(events(&sub), both(&[("set", "k"), ("expire", "k")]));
        std::thread::sleep(std::time::Duration::from_millis(5));
        // A read that finds the key expired.
        assert_eq!(run(&e, &mut c, &["GET", "k"]), Frame::Null);
        assert_eq!(events(&sub), both(&[("expired", "k")]));
        // A write over an expired key: `expired` comes first.
        run(&e, &mut c, &["SET", "k", "v", "PX", "1"]);
        events(&sub);
        std::thread::sleep(std::time::Duration::from_millis(5));
        run(&e, &mut c, &["RPUSH", "k", "a"]);
        assert_eq!(events(&sub), both(&[("expired", "k"), ("rpush", "k")]));
        // Without `x`, nothing.
        run(
            &e,
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "KE$"],
        );
        run(&e, &mut c, &["SET", "q", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(run(&e, &mut c, &["GET", "q"]), Frame::Null);
        assert_eq!(events(&sub), both(&[("set", "q")]));
    }

    #[test]
    fn active_expiry_publishes_expired() {
        let (e, sub, mut c) = setup("Ex");
        run(&e, &mut c, &["SELECT", "2"]);
        run(&e, &mut c, &["SET", "k", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let stats = e.active_expire_cycle();
        assert_eq!(stats.expired, 1);
        assert_eq!(
            events(&sub),
            vec![("__keyevent@2__:expired".to_string(), "k".to_string())]
        );
    }

    #[test]
    fn a_failed_command_publishes_nothing() {
        let (e, sub, mut c) = setup("KEA");
        run(&e, &mut c, &["SET", "s", "v"]);
        events(&sub);
        assert!(run(&e, &mut c, &["LPUSH", "s", "a"]).is_error());
        assert!(run(&e, &mut c, &["INCR", "s"]).is_error());
        assert_eq!(events(&sub), vec![]);
    }
}
