//! Publish/subscribe: who listens to which channel, pattern and shard channel, and
//! the per-client queues that published messages are delivered into.
//!
//! A client that runs any (P|S)(UN)SUBSCRIBE gets a [`Subscriber`]: a byte-accounted
//! queue of encoded frames shared with its connection. `PUBLISH` encodes a message at
//! most once per protocol version and pushes the same `Bytes` into every receiving
//! queue (a reference count, no copy), holding only the lock of the channel's shard
//! of the registry (one of [`SHARDS`]), never a global one; patterns have one lock of
//! their own, which `PUBLISH` skips while no pattern is subscribed. Subscribe and
//! unsubscribe confirmations go through the same queue, pushed under the same shard
//! lock, so a client sees its confirmation before the first message of a channel
//! and every message published before it left the channel before the confirmation.
//!
//! Publishing to one channel holds its shard lock for the whole fan-out, so every
//! subscriber of a channel receives its messages in one order, as with Redis' single
//! thread. The connection drains its queue into its socket (see the server); the
//! queue counts the bytes it holds plus those drained but not yet written, and the
//! publisher closes a client whose count crosses the `pubsub` class of
//! `client-output-buffer-limit` (hard limit at once, soft limit once exceeded for
//! longer than its seconds), as Redis' `checkClientOutputBufferLimits` does.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use ferrokv_protocol::{encode, Frame, RespVersion};
use parking_lot::Mutex;

use crate::clients::ClientHandle;
use crate::config::Config;
use crate::util::glob::glob_match;

/// Number of independently locked parts of each channel namespace.
pub const SHARDS: usize = 64;

/// The three subscription namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SUBSCRIBE` / `PUBLISH`: plain channels.
    Channel,
    /// `PSUBSCRIBE`: glob patterns over plain channels.
    Pattern,
    /// `SSUBSCRIBE` / `SPUBLISH`: shard channels, a namespace of their own.
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

/// Client classes of `client-output-buffer-limit` that ferrokv has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputClass {
    /// Ordinary clients (`normal`; no limit by default).
    Normal,
    /// Clients with at least one subscription (`pubsub`; 32mb 8mb 60 by default).
    PubSub,
}

/// One class's `client-output-buffer-limit`: 0 disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputLimits {
    /// Bytes at which the client is closed at once.
    pub hard: u64,
    /// Bytes the client may exceed for at most `soft_seconds`.
    pub soft: u64,
    /// How long the soft limit may stay exceeded.
    pub soft_seconds: u64,
}

impl OutputLimits {
    /// Whether a client holding `used` bytes must be closed; `soft_since` remembers
    /// when it went over the soft limit (Redis' `obuf_soft_limit_reached_time`).
    pub fn exceeded(&self, used: u64, soft_since: &mut Option<Instant>) -> bool {
        let hard = self.hard > 0 && used >= self.hard;
        let mut soft = self.soft > 0 && used >= self.soft;
        if soft {
            match soft_since {
                None => {
                    *soft_since = Some(Instant::now());
                    soft = false;
                }
                Some(since) => {
                    if since.elapsed().as_secs() <= self.soft_seconds {
                        soft = false;
                    }
                }
            }
        } else {
            *soft_since = None;
        }
        hard || soft
    }
}

/// The cached limits of one class, readable without taking the configuration lock.
#[derive(Debug, Default)]
struct LimitCell {
    hard: AtomicU64,
    soft: AtomicU64,
    seconds: AtomicU64,
}

impl LimitCell {
    fn load(&self) -> OutputLimits {
        OutputLimits {
            hard: self.hard.load(Ordering::Relaxed),
            soft: self.soft.load(Ordering::Relaxed),
            soft_seconds: self.seconds.load(Ordering::Relaxed),
        }
    }

    fn store(&self, limits: OutputLimits) {
        self.hard.store(limits.hard, Ordering::Relaxed);
        self.soft.store(limits.soft, Ordering::Relaxed);
        self.seconds.store(limits.soft_seconds, Ordering::Relaxed);
    }
}

/// A client's delivery queue, shared between the registry (publishers push) and its
/// connection (which drains it into the socket).
pub struct Subscriber {
    client: Arc<ClientHandle>,
    outbox: Mutex<Outbox>,
    /// Set when the output buffer limit closed the client.
    over_limit: AtomicBool,
}

#[derive(Default)]
struct Outbox {
    frames: VecDeque<Bytes>,
    /// Bytes queued plus bytes drained by the connection and not yet written.
    bytes: usize,
    closed: bool,
    soft_since: Option<Instant>,
    waker: Option<Waker>,
    /// Frames ever queued and ever drained: positions for [`Subscriber::drain_until`].
    pushed: u64,
    drained: u64,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("client", &self.client.id)
            .field("pending_bytes", &self.pending_bytes())
            .finish()
    }
}

impl Subscriber {
    /// A queue for `client`.
    pub fn new(client: Arc<ClientHandle>) -> Subscriber {
        Subscriber {
            client,
            outbox: Mutex::new(Outbox::default()),
            over_limit: AtomicBool::new(false),
        }
    }

    /// The client this queue belongs to.
    pub fn client(&self) -> &Arc<ClientHandle> {
        &self.client
    }

    fn resp3(&self) -> bool {
        self.client.resp.load(Ordering::Relaxed) == 3
    }

    /// Queues one encoded frame, closing the client when `limits` are exceeded.
    /// Returns true when the queue has just gone over the soft limit, so that the
    /// registry watches it from then on (see [`PubSub::enforce_limits`]).
    fn deliver(&self, frame: &Bytes, limits: Option<&OutputLimits>) -> bool {
        let mut o = self.outbox.lock();
        if o.closed {
            return false;
        }
        o.bytes += frame.len();
        o.frames.push_back(frame.clone());
        o.pushed += 1;
        let mut went_over_soft = false;
        if let Some(limits) = limits {
            let was_over = o.soft_since.is_some();
            if limits.exceeded(o.bytes as u64, &mut o.soft_since) {
                self.close(o);
                return false;
            }
            went_over_soft = !was_over && o.soft_since.is_some();
        }
        let waker = o.waker.take();
        drop(o);
        if let Some(w) = waker {
            w.wake();
        }
        went_over_soft
    }

    /// Closes the client for exceeding its output buffer limit: its queue is
    /// dropped at once and its connection told to go.
    fn close(&self, mut o: parking_lot::MutexGuard<'_, Outbox>) {
        o.closed = true;
        o.frames = VecDeque::new();
        o.drained = o.pushed;
        o.bytes = 0;
        let waker = o.waker.take();
        drop(o);
        self.over_limit.store(true, Ordering::Relaxed);
        self.client.kill();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Moves queued frames into `out`: all of them, or as many as fit in `max` bytes
    /// (at least one). Returns the bytes moved, which stay counted against the
    /// output limit until [`Subscriber::written`] reports them sent.
    pub fn drain(&self, out: &mut BytesMut, max: usize) -> usize {
        let mut o = self.outbox.lock();
        Self::drain_locked(&mut o, out, max)
    }

    fn drain_locked(o: &mut Outbox, out: &mut BytesMut, max: usize) -> usize {
        Self::drain_upto(o, out, max, u64::MAX)
    }

    /// Drains frames (at least one if any) fitting in `max` bytes, stopping at
    /// frame position `mark`.
    fn drain_upto(o: &mut Outbox, out: &mut BytesMut, max: usize, mark: u64) -> usize {
        let mut moved = 0;
        while let Some(front) = o.frames.front() {
            if (moved > 0 && moved + front.len() > max) || o.drained >= mark {
                break;
            }
            moved += front.len();
            out.extend_from_slice(front);
            o.frames.pop_front();
            o.drained += 1;
        }
        if o.frames.capacity() > 1024 && o.frames.len() < 64 {
            o.frames.shrink_to(64);
        }
        moved
    }

    /// Moves the frames queued before position `mark` (a [`Subscriber::position`]
    /// taken earlier) into `out`, leaving later ones queued. Returns the bytes moved.
    pub fn drain_until(&self, out: &mut BytesMut, mark: u64) -> usize {
        let mut o = self.outbox.lock();
        Self::drain_upto(&mut o, out, usize::MAX, mark)
    }

    /// The number of frames queued so far: frames queued later are after this
    /// position (see [`Subscriber::drain_until`]).
    pub fn position(&self) -> u64 {
        self.outbox.lock().pushed
    }

    /// Queues one out-of-band frame (a RESP3 push such as an invalidation),
    /// encoded for the client's protocol, outside the pub/sub output limit.
    pub fn push(&self, frame: &Frame) {
        let version = if self.resp3() {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        };
        let mut out = BytesMut::new();
        encode(frame, version, &mut out);
        self.deliver(&out.freeze(), None);
    }

    /// [`Subscriber::drain`] as a poll: `Pending` (waking the task later) while the
    /// queue is empty.
    pub fn poll_drain(&self, cx: &mut Context<'_>, out: &mut BytesMut, max: usize) -> Poll<usize> {
        let mut o = self.outbox.lock();
        let moved = Self::drain_locked(&mut o, out, max);
        if moved > 0 || o.closed {
            return Poll::Ready(moved);
        }
        match &o.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => o.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Reports `n` drained bytes as written to the socket.
    pub fn written(&self, n: usize) {
        let mut o = self.outbox.lock();
        o.bytes = o.bytes.saturating_sub(n);
    }

    /// Bytes queued or drained but not yet written (`omem`).
    pub fn pending_bytes(&self) -> usize {
        self.outbox.lock().bytes
    }

    /// Whether frames are waiting to be drained.
    pub fn has_frames(&self) -> bool {
        !self.outbox.lock().frames.is_empty()
    }

    /// Whether the output buffer limit closed this client.
    pub fn closed_by_limit(&self) -> bool {
        self.over_limit.load(Ordering::Relaxed)
    }
}

/// One client's subscriptions, kept in its session.
#[derive(Debug, Default)]
pub struct ClientPubSub {
    channels: BTreeSet<Bytes>,
    /// In subscription order, as Redis' list of patterns.
    patterns: Vec<Bytes>,
    shard_channels: BTreeSet<Bytes>,
    subscriber: Option<Arc<Subscriber>>,
}

impl ClientPubSub {
    /// Whether the client has any subscription (Redis' `CLIENT_PUBSUB` flag): RESP2
    /// clients are then limited to the subscription commands, PING, QUIT and RESET.
    pub fn is_active(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }

    /// The client's delivery queue, once it ran a subscription command.
    pub fn subscriber(&self) -> Option<&Arc<Subscriber>> {
        self.subscriber.as_ref()
    }

    /// Channels subscribed (`sub=` in `CLIENT LIST`).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Patterns subscribed (`psub=`).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Shard channels subscribed (`ssub=`).
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.len()
    }

    /// The count a confirmation of `kind` reports: channels plus patterns, or shard
    /// channels alone (Redis' `subscriptionCount` of the pubsub type).
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard_channels.len(),
        }
    }

    fn ensure_subscriber(&mut self, client: &Arc<ClientHandle>) -> Arc<Subscriber> {
        self.subscriber
            .get_or_insert_with(|| client.push_queue())
            .clone()
    }

    fn mirror_counts(&self) {
        if let Some(sub) = &self.subscriber {
            let counts = [
                self.channels.len(),
                self.patterns.len(),
                self.shard_channels.len(),
            ];
            for (slot, n) in sub.client.subscriptions.iter().zip(counts) {
                slot.store(n, Ordering::Relaxed);
            }
        }
    }
}

type Subscribers = Vec<Arc<Subscriber>>;

/// Channel name -> subscribers, split into [`SHARDS`] locks by a hash of the name.
struct Namespace {
    shards: Vec<Mutex<HashMap<Bytes, Subscribers>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Channels with at least one subscriber.
    active: AtomicUsize,
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
            active: AtomicUsize::new(0),
        }
    }
}

impl Namespace {
    fn shard(&self, name: &[u8]) -> &Mutex<HashMap<Bytes, Subscribers>> {
        &self.shards[(self.hasher.hash_one(name) as usize) % SHARDS]
    }

    fn subscribers(&self, name: &[u8]) -> usize {
        self.shard(name).lock().get(name).map_or(0, Vec::len)
    }

    fn names(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let map = shard.lock();
            out.extend(
                map.keys()
                    .filter(|name| pattern.is_none_or(|p| glob_match(p, name, false)))
                    .cloned(),
            );
        }
        out
    }
}

/// Adds `sub` to `name`'s list in `map`; returns whether the channel is new.
fn add_to(map: &mut HashMap<Bytes, Subscribers>, name: &Bytes, sub: &Arc<Subscriber>) -> bool {
    match map.entry(name.clone()) {
        Entry::Occupied(mut e) => {
            e.get_mut().push(sub.clone());
            false
        }
        Entry::Vacant(e) => {
            e.insert(vec![sub.clone()]);
            true
        }
    }
}

/// Removes client `id` from `name`'s list; returns whether the channel is now gone.
fn remove_from(map: &mut HashMap<Bytes, Subscribers>, name: &[u8], id: u64) -> bool {
    let Some(list) = map.get_mut(name) else {
        return false;
    };
    if let Some(at) = list.iter().position(|s| s.client.id == id) {
        list.swap_remove(at);
    }
    if list.is_empty() {
        map.remove(name);
        true
    } else {
        false
    }
}

/// A message encoded lazily, once per protocol version, for all its receivers.
struct Encoded {
    frame: Frame,
    wire: [Option<Bytes>; 2],
}

impl Encoded {
    fn new(frame: Frame) -> Encoded {
        Encoded {
            frame,
            wire: [None, None],
        }
    }

    fn get(&mut self, resp3: bool) -> &Bytes {
        let frame = &self.frame;
        self.wire[resp3 as usize].get_or_insert_with(|| {
            let version = if resp3 {
                RespVersion::Resp3
            } else {
                RespVersion::Resp2
            };
            let mut out = BytesMut::new();
            encode(frame, version, &mut out);
            out.freeze()
        })
    }
}

/// The server-wide registry of subscriptions.
pub struct PubSub {
    channels: Namespace,
    shard_channels: Namespace,
    patterns: Mutex<HashMap<Bytes, Subscribers>>,
    /// Distinct patterns subscribed: `PUBLISH` skips the pattern lock while it is 0.
    pattern_count: AtomicUsize,
    limits: [LimitCell; 2],
    /// Queues over the soft limit, re-checked by [`PubSub::enforce_limits`].
    over_soft: Mutex<Vec<Arc<Subscriber>>>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSub")
            .field("channels", &self.channel_count())
            .field("patterns", &self.pattern_count())
            .finish()
    }
}

impl Default for PubSub {
    fn default() -> Self {
        let pubsub = PubSub {
            channels: Namespace::default(),
            shard_channels: Namespace::default(),
            patterns: Mutex::new(HashMap::new()),
            pattern_count: AtomicUsize::new(0),
            limits: Default::default(),
            over_soft: Mutex::new(Vec::new()),
        };
        // Redis' defaults until the configuration is read.
        pubsub.limits[1].store(OutputLimits {
            hard: 32 << 20,
            soft: 8 << 20,
            soft_seconds: 60,
        });
        pubsub
    }
}

fn confirmation(word: &'static str, name: Option<&Bytes>, count: usize) -> Frame {
    Frame::Push(vec![
        Frame::Bulk(Bytes::from_static(word.as_bytes())),
        name.map_or(Frame::Null, |n| Frame::Bulk(n.clone())),
        Frame::Integer(count as i64),
    ])
}

impl PubSub {
    /// Re-reads `client-output-buffer-limit` (at start, on every subscription
    /// command and once a second from the server's cron, so `CONFIG SET` applies
    /// without a configuration lookup per message).
    pub fn refresh_limits(&self, config: &Config) {
        let value = config.get("client-output-buffer-limit").unwrap_or_default();
        let words: Vec<&str> = value.split_whitespace().collect();
        for chunk in words.chunks(4) {
            let [class, hard, soft, secs] = chunk else {
                continue;
            };
            let slot = match *class {
                "normal" => 0,
                "pubsub" => 1,
                _ => continue,
            };
            let n = |w: &str| w.parse::<u64>().unwrap_or(0);
            self.limits[slot].store(OutputLimits {
                hard: n(hard),
                soft: n(soft),
                soft_seconds: n(secs),
            });
        }
    }

    /// The cached `client-output-buffer-limit` of a class.
    pub fn limits(&self, class: OutputClass) -> OutputLimits {
        self.limits[(class == OutputClass::PubSub) as usize].load()
    }

    /// Subscribes the client to `name` in namespace `kind`; returns the confirmation,
    /// which is also queued for the client (see the module docs).
    pub fn subscribe(
        &self,
        state: &mut ClientPubSub,
        client: &Arc<ClientHandle>,
        kind: Kind,
        name: &Bytes,
    ) -> Frame {
        let sub = state.ensure_subscriber(client);
        let frame = match kind {
            Kind::Channel | Kind::Shard => {
                let (ns, set) = match kind {
                    Kind::Channel => (&self.channels, &mut state.channels),
                    _ => (&self.shard_channels, &mut state.shard_channels),
                };
                let mut map = ns.shard(name).lock();
                if set.insert(name.clone()) && add_to(&mut map, name, &sub) {
                    ns.active.fetch_add(1, Ordering::Relaxed);
                }
                let frame = confirmation(kind.subscribe_word(), Some(name), state.count(kind));
                sub.push(&frame);
                frame
            }
            Kind::Pattern => {
                let mut map = self.patterns.lock();
                if !state.patterns.contains(name) {
                    state.patterns.push(name.clone());
                    if add_to(&mut map, name, &sub) {
                        self.pattern_count.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let frame = confirmation(kind.subscribe_word(), Some(name), state.count(kind));
                sub.push(&frame);
                frame
            }
        };
        state.mirror_counts();
        frame
    }

    /// Unsubscribes the client from `names` in namespace `kind`, or from everything
    /// in it when `names` is empty; returns the confirmations (also queued for the
    /// client): one per name, or `[word, nil, 0]` when there was nothing to leave.
    pub fn unsubscribe(
        &self,
        state: &mut ClientPubSub,
        client: &Arc<ClientHandle>,
        kind: Kind,
        names: &[Bytes],
    ) -> Vec<Frame> {
        let sub = state.ensure_subscriber(client);
        let all: Vec<Bytes>;
        let names = if names.is_empty() {
            all = match kind {
                Kind::Channel => state.channels.iter().cloned().collect(),
                Kind::Pattern => state.patterns.clone(),
                Kind::Shard => state.shard_channels.iter().cloned().collect(),
            };
            &all[..]
        } else {
            names
        };
        let mut frames = Vec::with_capacity(names.len().max(1));
        for name in names {
            frames.push(self.leave(state, &sub, kind, name, true));
        }
        if frames.is_empty() {
            let frame = confirmation(kind.unsubscribe_word(), None, state.count(kind));
            sub.push(&frame);
            frames.push(frame);
        }
        state.mirror_counts();
        frames
    }

    /// Removes one subscription; with `notify`, queues and returns its confirmation.
    fn leave(
        &self,
        state: &mut ClientPubSub,
        sub: &Arc<Subscriber>,
        kind: Kind,
        name: &Bytes,
        notify: bool,
    ) -> Frame {
        let id = sub.client.id;
        let deliver = |frame: &Frame| {
            if notify {
                sub.push(frame);
            }
        };
        match kind {
            Kind::Channel | Kind::Shard => {
                let (ns, set) = match kind {
                    Kind::Channel => (&self.channels, &mut state.channels),
                    _ => (&self.shard_channels, &mut state.shard_channels),
                };
                let mut map = ns.shard(name).lock();
                if set.remove(name) && remove_from(&mut map, name, id) {
                    ns.active.fetch_sub(1, Ordering::Relaxed);
                }
                let frame = confirmation(kind.unsubscribe_word(), Some(name), state.count(kind));
                deliver(&frame);
                frame
            }
            Kind::Pattern => {
                let mut map = self.patterns.lock();
                if let Some(at) = state.patterns.iter().position(|p| p == name) {
                    state.patterns.remove(at);
                    if remove_from(&mut map, name, id) {
                        self.pattern_count.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                let frame = confirmation(kind.unsubscribe_word(), Some(name), state.count(kind));
                deliver(&frame);
                frame
            }
        }
    }

    /// Drops every subscription without confirmations (disconnect, `RESET`).
    pub fn unsubscribe_all(&self, state: &mut ClientPubSub) {
        let Some(sub) = state.subscriber.clone() else {
            return;
        };
        let channels: Vec<Bytes> = state.channels.iter().cloned().collect();
        for name in &channels {
            self.leave(state, &sub, Kind::Channel, name, false);
        }
        let patterns = state.patterns.clone();
        for name in &patterns {
            self.leave(state, &sub, Kind::Pattern, name, false);
        }
        let shards: Vec<Bytes> = state.shard_channels.iter().cloned().collect();
        for name in &shards {
            self.leave(state, &sub, Kind::Shard, name, false);
        }
        state.mirror_counts();
    }

    /// Delivers `payload` to the subscribers of `channel` (and, for plain channels,
    /// of every matching pattern); returns the number of deliveries, each pattern
    /// counted per subscriber, as `PUBLISH` replies.
    pub fn publish(&self, shard: bool, channel: &Bytes, payload: &Bytes) -> usize {
        let limits = self.limits(OutputClass::PubSub);
        let ns = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        let mut receivers = 0;
        {
            let map = ns.shard(channel).lock();
            if let Some(subs) = map.get(channel) {
                let word: &'static [u8] = if shard { b"smessage" } else { b"message" };
                let mut msg = Encoded::new(Frame::Push(vec![
                    Frame::Bulk(Bytes::from_static(word)),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(payload.clone()),
                ]));
                for sub in subs {
                    if sub.deliver(msg.get(sub.resp3()), Some(&limits)) {
                        self.over_soft.lock().push(sub.clone());
                    }
                }
                receivers += subs.len();
            }
        }
        if !shard && self.pattern_count.load(Ordering::Relaxed) > 0 {
            let map = self.patterns.lock();
            for (pattern, subs) in map.iter() {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                let mut msg = Encoded::new(Frame::Push(vec![
                    Frame::Bulk(Bytes::from_static(b"pmessage")),
                    Frame::Bulk(pattern.clone()),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(payload.clone()),
                ]));
                for sub in subs {
                    if sub.deliver(msg.get(sub.resp3()), Some(&limits)) {
                        self.over_soft.lock().push(sub.clone());
                    }
                }
                receivers += subs.len();
            }
        }
        receivers
    }

    /// Re-checks the queues that went over the soft limit (once a second, from the
    /// server's cron, as Redis' `clientsCron` does): a client whose queue stayed
    /// over it for longer than the limit's seconds is closed even if nothing more
    /// is published to it. Also applies a lowered hard limit.
    pub fn enforce_limits(&self) {
        let watched = std::mem::take(&mut *self.over_soft.lock());
        if watched.is_empty() {
            return;
        }
        let limits = self.limits(OutputClass::PubSub);
        let mut keep = Vec::new();
        for sub in watched {
            if keep.iter().any(|k| Arc::ptr_eq(k, &sub)) {
                continue;
            }
            let mut o = sub.outbox.lock();
            if o.closed {
                continue;
            }
            if limits.exceeded(o.bytes as u64, &mut o.soft_since) {
                sub.close(o);
                continue;
            }
            let still_over = o.soft_since.is_some();
            drop(o);
            if still_over {
                keep.push(sub);
            }
        }
        self.over_soft.lock().extend(keep);
    }

    /// Active channels (with at least one subscriber) matching `pattern`
    /// (`PUBSUB CHANNELS` / `SHARDCHANNELS`).
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        if shard {
            self.shard_channels.names(pattern)
        } else {
            self.channels.names(pattern)
        }
    }

    /// Subscribers of one channel, patterns excluded (`PUBSUB NUMSUB` /
    /// `SHARDNUMSUB`).
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        if shard {
            self.shard_channels.subscribers(channel)
        } else {
            self.channels.subscribers(channel)
        }
    }

    /// Channels with at least one subscriber (`pubsub_channels` in `INFO stats`).
    pub fn channel_count(&self) -> usize {
        self.channels.active.load(Ordering::Relaxed)
    }

    /// Distinct patterns subscribed (`PUBSUB NUMPAT`, `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        self.pattern_count.load(Ordering::Relaxed)
    }

    /// Shard channels with at least one subscriber (`pubsubshard_channels`).
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.active.load(Ordering::Relaxed)
    }
}

/// Commands a RESP2 client may run while it has subscriptions.
const SUBSCRIBED_MODE_COMMANDS: [&str; 9] = [
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// Whether `name` is a (P|S)(UN)SUBSCRIBE command, whose replies are the
/// confirmations queued by the registry rather than the handler's return value.
pub fn is_subscription_command(name: &[u8]) -> bool {
    SUBSCRIBED_MODE_COMMANDS[1..7]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
}

/// Whether a RESP2 client in subscribed mode may not run `spec` (a top-level
/// spec or one of its subcommands).
pub fn refused_in_subscribed_mode(
    session: &crate::Session,
    spec: &crate::command::CommandSpec,
) -> bool {
    session.resp == RespVersion::Resp2
        && session.pubsub.is_active()
        && !SUBSCRIBED_MODE_COMMANDS.contains(&spec.name)
}

/// The refusal a RESP2 client in subscribed mode gets for a command outside the
/// subscription commands, PING, QUIT and RESET (Redis' `processCommand` check, which
/// comes after the unknown-command and arity checks: those are left to the engine,
/// as are unknown subcommands). Counts the rejection as Redis does.
pub fn refuse_in_subscribed_mode(
    engine: &crate::Engine,
    session: &crate::Session,
    argv: &[Bytes],
) -> Option<Frame> {
    if session.resp != RespVersion::Resp2 || !session.pubsub.is_active() {
        return None;
    }
    let spec = engine.command(argv.first()?)?;
    if !refused_in_subscribed_mode(session, spec) {
        return None;
    }
    let (spec, fullname) = if spec.subcommands.is_empty() || argv.len() < 2 {
        if !spec.arity_ok(argv.len()) {
            return None;
        }
        (spec, spec.name.to_string())
    } else {
        let sub = spec
            .subcommands
            .iter()
            .find(|s| argv[1].eq_ignore_ascii_case(s.name.as_bytes()))?;
        if !sub.arity_ok(argv.len()) {
            return None;
        }
        (sub, format!("{}|{}", spec.name, sub.name))
    };
    if let Some(stat) = engine.command_stats.get(spec) {
        stat.rejected.fetch_add(1, Ordering::Relaxed);
    }
    let message = format!(
        "ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    engine.note_error_reply(message.as_bytes());
    Some(Frame::Error(Bytes::from(message)))
}
