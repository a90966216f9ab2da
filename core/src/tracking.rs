//! Client-side caching (Redis' `tracking.c`): `CLIENT TRACKING` and the invalidation
//! messages it asks for.
//!
//! In the default mode the server remembers, in a tracking table, which clients read
//! which keys (the keys of read-only commands run by a tracking client), and sends
//! each of them one invalidation per key on the key's next modification, then
//! forgets the key. In `BCAST` mode nothing is remembered: every modified key that
//! starts with one of the client's prefixes is sent to it. Keys are names, whatever
//! their database, as in Redis; a flush invalidates everything (a null message).
//!
//! Modifications are observed where `WATCH` observes them: while any client tracks,
//! every command runs on the engine's change-recording [`WatchTxn`](crate::watch::WatchTxn),
//! whose record (changed keys, keys lazy expiry removed, flushes) is handed to
//! [`Tracking::keys_changed`] inside the command's atomic scope; the active expiry
//! cycle reports the keys it removes. A read registers its keys inside its own scope
//! too, so a read and a write of one key are ordered by the key's lock: a write
//! either precedes the read (which sees the new value) or follows it (and
//! invalidates it). With no tracking client the cost is one atomic load per command.
//!
//! Messages go to the client's push queue (the one pub/sub uses): a RESP3 client gets
//! `>2 invalidate [keys]` (or a null for a flush); with `REDIRECT id` they go to that
//! client instead, as a push if it speaks RESP3 or as a `message` on the
//! `__redis__:invalidate` channel if it is a RESP2 client with subscriptions. A
//! redirect target that is gone makes the client's `tracking-redir-broken` push.
//! Invalidations caused by a client's own command are queued after its reply
//! (Redis 7.0's `tracking_pending_keys`), see [`Pending`].

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use ferrokv_protocol::Frame;
use parking_lot::Mutex;

use crate::clients::{ClientHandle, ClientRegistry};
use crate::config::Config;

/// Tracking is on (`flags=t`).
pub const ON: u32 = 1;
/// Broadcasting mode (`flags=B`).
pub const BCAST: u32 = 1 << 1;
/// Keys are remembered only after `CLIENT CACHING yes`.
pub const OPTIN: u32 = 1 << 2;
/// Keys are remembered unless `CLIENT CACHING no` preceded the read.
pub const OPTOUT: u32 = 1 << 3;
/// No invalidations for the client's own modifications.
pub const NOLOOP: u32 = 1 << 4;
/// The redirect target went away (`flags=R`).
pub const BROKEN_REDIRECT: u32 = 1 << 5;

/// Parts of the tracking table, each behind its own lock.
const SHARDS: usize = 64;

/// The channel RESP2 redirect targets receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's tracking mode, shared with the writers that invalidate its keys.
#[derive(Debug, Default)]
pub struct ClientTracking {
    flags: AtomicU32,
    redirect: AtomicU64,
    /// `BCAST` prefixes, sorted.
    prefixes: Mutex<Vec<Bytes>>,
}

impl ClientTracking {
    /// The mode bits (`ON`, `BCAST`, ...).
    #[inline]
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Whether tracking is on.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.flags() & ON != 0
    }

    /// The client invalidations are redirected to (0: none).
    pub fn redirect(&self) -> u64 {
        self.redirect.load(Ordering::Relaxed)
    }

    /// `redir=` of `CLIENT LIST` and `CLIENT GETREDIR`: the redirect target, 0 without
    /// one, -1 when tracking is off.
    pub fn redirect_for_list(&self) -> i64 {
        if self.is_on() {
            self.redirect() as i64
        } else {
            -1
        }
    }

    /// The `BCAST` prefixes, sorted.
    pub fn prefixes(&self) -> Vec<Bytes> {
        self.prefixes.lock().clone()
    }
}

/// What an invalidation message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// These keys changed.
    Keys(Vec<Bytes>),
    /// Everything changed (a flush).
    All,
}

impl Invalidation {
    fn payload(&self) -> Frame {
        match self {
            Invalidation::Keys(keys) => {
                Frame::Array(keys.iter().cloned().map(Frame::Bulk).collect())
            }
            Invalidation::All => Frame::Null,
        }
    }
}

/// Invalidations for the client whose command caused them, sent after its reply.
pub type Pending = Vec<Invalidation>;

/// What one command changed, as recorded by the engine's change-observing `Txn`.
#[derive(Debug, Default)]
pub struct Changes {
    /// Keys a mutation changed (any database).
    pub touched: Vec<(crate::storage::DbIndex, Bytes)>,
    /// Keys lazy expiry removed.
    pub expired: Vec<(crate::storage::DbIndex, Bytes)>,
    /// A database was flushed.
    pub flushed: bool,
}

type Clients = Vec<Weak<ClientHandle>>;

/// The server-wide tracking state: the table of remembered keys and the `BCAST`
/// prefixes.
pub struct Tracking {
    /// Clients with tracking on (`tracking_clients`): while 0, nothing is observed.
    clients: AtomicUsize,
    table: Vec<Mutex<HashMap<Bytes, Clients>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Keys in the table (`tracking_total_keys`).
    keys: AtomicUsize,
    /// (key, client) pairs in the table (`tracking_total_items`).
    items: AtomicUsize,
    /// Prefix -> clients broadcasting on it, in prefix order.
    prefixes: Mutex<BTreeMap<Bytes, Clients>>,
    /// Entries of `prefixes` (`tracking_total_prefixes`); 0 skips the broadcast step.
    prefix_count: AtomicUsize,
    /// `tracking-table-max-keys` (0: no limit).
    max_keys: AtomicUsize,
    /// Where the next eviction for the key limit starts.
    evict_at: AtomicUsize,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            clients: AtomicUsize::new(0),
            table: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            keys: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
            prefixes: Mutex::default(),
            prefix_count: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(1_000_000),
            evict_at: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Debug for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracking")
            .field("clients", &self.tracking_clients())
            .field("keys", &self.total_keys())
            .finish()
    }
}

/// Whether two prefixes would both match some key (one starts with the other).
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn quoted(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Tracking {
    /// Whether any client tracks: the engine observes modifications only then.
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    /// Clients with tracking on (`tracking_clients`).
    pub fn tracking_clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// Keys in the tracking table (`tracking_total_keys`).
    pub fn total_keys(&self) -> usize {
        self.keys.load(Ordering::Relaxed)
    }

    /// Client references in the tracking table (`tracking_total_items`).
    pub fn total_items(&self) -> usize {
        self.items.load(Ordering::Relaxed)
    }

    /// Prefixes clients broadcast on (`tracking_total_prefixes`).
    pub fn total_prefixes(&self) -> usize {
        self.prefix_count.load(Ordering::Relaxed)
    }

    /// Re-reads `tracking-table-max-keys` (at start and after `CONFIG SET`).
    pub fn refresh(&self, config: &Config) {
        let max = config.get_i64("tracking-table-max-keys").max(0) as usize;
        self.max_keys.store(max, Ordering::Relaxed);
    }

    /// The error for `BCAST` prefixes that overlap each other or one the client
    /// already has (Redis' `checkPrefixCollisionsOrReply`).
    pub fn check_prefixes(client: &ClientHandle, prefixes: &[Bytes]) -> Result<(), String> {
        let existing = client.tracking.prefixes.lock();
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(old) = existing.iter().find(|old| overlaps(old, p)) {
                return Err(format!(
                    "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    quoted(p),
                    quoted(old)
                ));
            }
            if let Some(other) = prefixes[i + 1..].iter().find(|q| overlaps(p, q)) {
                return Err(format!(
                    "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    quoted(p),
                    quoted(other)
                ));
            }
        }
        Ok(())
    }

    /// Turns tracking on with `options` (`BCAST`, `OPTIN`, `OPTOUT`, `NOLOOP`), as
    /// Redis' `enableTracking`: the previous mode bits and the broken-redirect mark
    /// are replaced; broadcast prefixes add to those the client already has (none
    /// given means every key).
    pub fn enable(
        &self,
        client: &Arc<ClientHandle>,
        redirect: u64,
        options: u32,
        prefixes: &[Bytes],
    ) {
        let t = &client.tracking;
        let old = t.flags();
        if old & ON == 0 {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
        t.redirect.store(redirect, Ordering::Relaxed);
        let keep = old & !(BCAST | OPTIN | OPTOUT | NOLOOP | BROKEN_REDIRECT);
        t.flags.store(
            keep | ON | (options & (BCAST | OPTIN | OPTOUT | NOLOOP)),
            Ordering::Relaxed,
        );
        if options & BCAST != 0 {
            let empty = [Bytes::new()];
            let wanted = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            let mut table = self.prefixes.lock();
            let mut mine = t.prefixes.lock();
            for p in wanted {
                if mine.contains(p) {
                    continue;
                }
                mine.push(p.clone());
                let list = table.entry(p.clone()).or_insert_with(|| {
                    self.prefix_count.fetch_add(1, Ordering::Relaxed);
                    Vec::new()
                });
                list.push(Arc::downgrade(client));
            }
            mine.sort();
        }
    }

    /// Turns tracking off (`CLIENT TRACKING off`, `RESET`, disconnect): leaves the
    /// broadcast prefixes; remembered keys are dropped lazily, when next modified.
    pub fn disable(&self, client: &Arc<ClientHandle>) {
        let t = &client.tracking;
        let prefixes = std::mem::take(&mut *t.prefixes.lock());
        if !prefixes.is_empty() {
            let mut table = self.prefixes.lock();
            for p in prefixes {
                if let Some(list) = table.get_mut(&p) {
                    list.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(client)));
                    if list.is_empty() {
                        table.remove(&p);
                        self.prefix_count.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
        }
        if t.flags.swap(0, Ordering::Relaxed) & ON != 0 {
            self.clients.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn shard(&self, key: &[u8]) -> &Mutex<HashMap<Bytes, Clients>> {
        &self.table[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// Remembers that `client` read `keys` (Redis' `trackingRememberKeys`), then
    /// keeps the table within `tracking-table-max-keys`.
    pub fn remember<'a>(
        &self,
        registry: &ClientRegistry,
        client: &Arc<ClientHandle>,
        keys: impl Iterator<Item = &'a Bytes>,
    ) {
        for key in keys {
            let mut shard = self.shard(key).lock();
            let list = shard.entry(key.clone()).or_insert_with(|| {
                self.keys.fetch_add(1, Ordering::Relaxed);
                Vec::new()
            });
            if !list
                .iter()
                .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(client)))
            {
                list.push(Arc::downgrade(client));
                self.items.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.limit_keys(registry);
    }

    /// Evicts keys over `tracking-table-max-keys`, invalidating them for their
    /// clients as if they had changed (Redis' `trackingLimitUsedSlots`).
    fn limit_keys(&self, registry: &ClientRegistry) {
        let max = self.max_keys.load(Ordering::Relaxed);
        if max == 0 || self.total_keys() <= max {
            return;
        }
        let start = self.evict_at.fetch_add(1, Ordering::Relaxed);
        for i in 0..SHARDS {
            if self.total_keys() <= max {
                return;
            }
            let victim = {
                let shard = self.table[(start + i) % SHARDS].lock();
                shard.keys().next().cloned()
            };
            if let Some(key) = victim {
                self.invalidate_key(registry, &key, None, &mut Vec::new());
            }
        }
    }

    /// Sends the invalidation of `key` to every client that remembered it and
    /// forgets the key (Redis' `trackingInvalidateKey` without the broadcast part).
    /// `current` is the client whose command made the change: with `NOLOOP` it is
    /// skipped, otherwise its message goes to `pending`, to follow its reply.
    fn invalidate_key(
        &self,
        registry: &ClientRegistry,
        key: &Bytes,
        current: Option<&Arc<ClientHandle>>,
        pending: &mut Pending,
    ) {
        let Some(list) = self.shard(key).lock().remove(key) else {
            return;
        };
        self.keys.fetch_sub(1, Ordering::Relaxed);
        self.items.fetch_sub(list.len(), Ordering::Relaxed);
        for target in list.iter().filter_map(Weak::upgrade) {
            let flags = target.tracking.flags();
            if flags & ON == 0 || flags & BCAST != 0 {
                continue;
            }
            let is_current = current.is_some_and(|c| Arc::ptr_eq(c, &target));
            if is_current {
                if flags & NOLOOP == 0 {
                    pending.push(Invalidation::Keys(vec![key.clone()]));
                }
                continue;
            }
            send(registry, &target, &Invalidation::Keys(vec![key.clone()]));
        }
    }

    /// Reacts to one command's changes: invalidates the remembered keys it changed
    /// or lazily expired, broadcasts them to the matching prefixes and, after a
    /// flush, sends every tracking client a null invalidation. `current` made the
    /// changes; its own messages go to `pending`.
    pub fn keys_changed(
        &self,
        registry: &ClientRegistry,
        changes: &Changes,
        current: &Arc<ClientHandle>,
        pending: &mut Pending,
    ) {
        if changes.flushed {
            self.flushed(registry, Some(current), pending);
        }
        for (_, key) in changes.touched.iter().chain(&changes.expired) {
            self.invalidate_key(registry, key, Some(current), pending);
        }
        if self.prefix_count.load(Ordering::Relaxed) > 0 {
            let by_me = changes.touched.iter().map(|(_, k)| (k, true));
            let expired = changes.expired.iter().map(|(_, k)| (k, false));
            self.broadcast(registry, by_me.chain(expired), Some(current), pending);
        }
    }

    /// Keys the active expiry cycle removed: invalidated with no current client.
    pub fn keys_expired(&self, registry: &ClientRegistry, keys: &[Bytes]) {
        let mut pending = Vec::new();
        for key in keys {
            self.invalidate_key(registry, key, None, &mut pending);
        }
        if self.prefix_count.load(Ordering::Relaxed) > 0 {
            self.broadcast(
                registry,
                keys.iter().map(|k| (k, false)),
                None,
                &mut pending,
            );
        }
    }

    /// A flush: a null invalidation to every tracking client and an empty table
    /// (Redis' `trackingInvalidateKeysOnFlush`).
    fn flushed(
        &self,
        registry: &ClientRegistry,
        current: Option<&Arc<ClientHandle>>,
        pending: &mut Pending,
    ) {
        for client in registry.all() {
            if !client.tracking.is_on() {
                continue;
            }
            if current.is_some_and(|c| Arc::ptr_eq(c, &client)) {
                pending.push(Invalidation::All);
            } else {
                send(registry, &client, &Invalidation::All);
            }
        }
        for shard in &self.table {
            let mut map = shard.lock();
            let items: usize = map.values().map(Vec::len).sum();
            self.keys.fetch_sub(map.len(), Ordering::Relaxed);
            self.items.fetch_sub(items, Ordering::Relaxed);
            *map = HashMap::new();
        }
    }

    /// Sends each broadcasting client the modified keys under each of its prefixes,
    /// one message per prefix with the keys sorted (Redis'
    /// `trackingBroadcastInvalidationMessages`, here once per command instead of
    /// once per event loop round). `modified` pairs a key with whether `current`
    /// changed it, which `NOLOOP` clients are not told about.
    fn broadcast<'a>(
        &self,
        registry: &ClientRegistry,
        modified: impl Iterator<Item = (&'a Bytes, bool)>,
        current: Option<&Arc<ClientHandle>>,
        pending: &mut Pending,
    ) {
        let modified: Vec<(&Bytes, bool)> = modified.collect();
        if modified.is_empty() {
            return;
        }
        let mut messages: Vec<(Arc<ClientHandle>, Invalidation)> = Vec::new();
        {
            let table = self.prefixes.lock();
            for (prefix, clients) in table.iter() {
                let mut keys: Vec<(&Bytes, bool)> = modified
                    .iter()
                    .copied()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                keys.sort_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
                keys.dedup_by(|a, b| a.0 == b.0);
                for client in clients.iter().filter_map(Weak::upgrade) {
                    let is_current = current.is_some_and(|c| Arc::ptr_eq(c, &client));
                    let noloop = is_current && client.tracking.flags() & NOLOOP != 0;
                    let sent: Vec<Bytes> = keys
                        .iter()
                        .filter(|(_, by_current)| !(noloop && *by_current))
                        .map(|(k, _)| (*k).clone())
                        .collect();
                    if !sent.is_empty() {
                        messages.push((client, Invalidation::Keys(sent)));
                    }
                }
            }
        }
        for (client, message) in messages {
            if current.is_some_and(|c| Arc::ptr_eq(c, &client)) {
                pending.push(message);
            } else {
                send(registry, &client, &message);
            }
        }
    }
}

/// Delivers one invalidation for tracking client `target` (Redis'
/// `sendTrackingMessage`): to its redirect target if it has one, as a RESP3 push or,
/// for a RESP2 target with subscriptions, as a `message` on `__redis__:invalidate`;
/// to itself only in RESP3. A redirect target that is gone marks the client and,
/// in RESP3, tells it with a `tracking-redir-broken` push.
pub fn send(registry: &ClientRegistry, target: &Arc<ClientHandle>, message: &Invalidation) {
    let redirect = target.tracking.redirect();
    let dest = if redirect != 0 {
        match registry.get(redirect) {
            Some(dest) => Some(dest),
            None => {
                target
                    .tracking
                    .flags
                    .fetch_or(BROKEN_REDIRECT, Ordering::Relaxed);
                if resp3(target) {
                    target.push_queue().push(&Frame::Push(vec![
                        Frame::Bulk(Bytes::from_static(b"tracking-redir-broken")),
                        Frame::Integer(redirect as i64),
                    ]));
                }
                return;
            }
        }
    } else {
        None
    };
    let redirected = dest.is_some();
    let dest = dest.unwrap_or_else(|| target.clone());
    let frame = if resp3(&dest) {
        Frame::Push(vec![
            Frame::Bulk(Bytes::from_static(b"invalidate")),
            message.payload(),
        ])
    } else if redirected && dest.is_subscribed() {
        Frame::Push(vec![
            Frame::Bulk(Bytes::from_static(b"message")),
            Frame::Bulk(Bytes::from_static(CHANNEL)),
            message.payload(),
        ])
    } else {
        // A RESP2 connection cannot receive pushes.
        return;
    };
    dest.push_queue().push(&frame);
}

fn resp3(client: &ClientHandle) -> bool {
    client.resp.load(Ordering::Relaxed) == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{engine, run, session};

    #[test]
    fn prefixes_must_not_overlap() {
        let e = engine();
        let s = session(&e);
        let b = |v: &[&str]| {
            v.iter()
                .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                .collect::<Vec<_>>()
        };
        assert!(overlaps(b"", b"x"));
        assert!(overlaps(b"ab", b"a"));
        assert!(!overlaps(b"ab", b"ac"));
        assert_eq!(Tracking::check_prefixes(&s.client, &b(&["a", "b"])), Ok(()));
        e.tracking.enable(&s.client, 0, BCAST, &b(&["a"]));
        assert_eq!(
            Tracking::check_prefixes(&s.client, &b(&["ax"])),
            Err("Prefix 'ax' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.".into())
        );
        assert_eq!(e.tracking.total_prefixes(), 1);
        e.tracking.disable(&s.client);
        assert_eq!(e.tracking.total_prefixes(), 0);
        assert_eq!(e.tracking.tracking_clients(), 0);
    }

    #[test]
    fn reads_are_remembered_and_writes_forget_them() {
        let e = engine();
        let mut reader = session(&e);
        let mut writer = session(&e);
        assert_eq!(
            run(&e, &mut reader, &["CLIENT", "TRACKING", "on"]),
            Frame::ok()
        );
        assert!(e.tracking.active());
        run(&e, &mut reader, &["MGET", "a", "b"]);
        run(&e, &mut reader, &["SET", "c", "1"]);
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (2, 2));
        run(&e, &mut writer, &["SET", "a", "1"]);
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (1, 1));
        // The reader's own write: its message waits for its reply.
        run(&e, &mut reader, &["GET", "c"]);
        run(&e, &mut reader, &["DEL", "b", "c"]);
        // b did not exist: deleting it changed nothing, it stays remembered.
        assert_eq!(e.tracking.total_keys(), 1);
        assert!(
            reader.pending_invalidations.is_empty(),
            "sent after the command"
        );
        run(&e, &mut writer, &["FLUSHALL"]);
        assert_eq!(e.tracking.total_keys(), 0);
        run(&e, &mut reader, &["CLIENT", "TRACKING", "off"]);
        assert!(!e.tracking.active());
    }
}
