//! Streams over versioned sub-keys: what
//! [`Txn::with_stream`](ferrokv_core::storage::Txn::with_stream) hands to a command.
//!
//! The metadata record holds the live entry count and, as its payload, the stream's
//! counters ([`StreamMeta`]), node count, a low-water mark below which trims
//! deleted everything, and a hint naming the tail node. Sub-key suffixes (after the key's
//! `db | hash | len | key | version` prefix):
//!
//! | suffix | value |
//! | --- | --- |
//! | `0x01 \| id` | the entry: varint count, then varint-length fields and values |
//! | `0x02 \| first id` | a node: appended u64, live u64, last id, listpack bytes u64, master field names |
//! | `0x03 \| group` | a group: last id, entries read (u64, MAX = unknown), pending u64, consumers u64 |
//! | `0x04 \| glen u32 \| group \| id` | a pending entry: delivery time u64, count u64, consumer |
//! | `0x05 \| glen u32 \| group \| consumer` | a consumer: seen u64, active u64 (MAX = never), pending u64 |
//! | `0x06 \| glen u32 \| group \| clen u32 \| consumer \| id` | empty: the consumer's pending list |
//!
//! IDs are big-endian (ms, seq), so entries and pending lists are in ID order, and
//! `XRANGE ... COUNT n` or `XREADGROUP` read only what they return. Nodes mirror
//! Redis' listpacks (see [`StreamNode`]) so that approximate trims remove what Redis
//! removes; entries are deleted physically, nodes only count them.

use bytes::Bytes;
use ferrokv_core::storage::{
    ConsumerInfo, GroupInfo, NodeLimits, PendingEntry, StreamGroupOps, StreamId, StreamMeta,
    StreamNode, StreamOps, UnixMillis,
};

use ferrokv_core::util::stream::{entry_len, lp_entry_bytes, lp_master_bytes, lp_node_bytes};

use crate::collections::Coll;
use crate::store::OrderedStore;

const ENTRY: u8 = 1;
const NODE: u8 = 2;
const GROUP: u8 = 3;
const PEL: u8 = 4;
const CONSUMER: u8 = 5;
const CPEL: u8 = 6;

/// Bytes of the counters in the metadata payload.
const META_LEN: usize = 81;

pub(crate) struct StreamView<'c, 't, 'a, S: OrderedStore>(pub(crate) &'c mut Coll<'t, 'a, S>);

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

fn id_at(b: &[u8], at: usize) -> StreamId {
    StreamId::new(u64_at(b, at), u64_at(b, at + 8))
}

fn tagged(tag: u8, id: StreamId) -> [u8; 17] {
    let mut out = [0u8; 17];
    out[0] = tag;
    out[1..].copy_from_slice(&id.to_be_bytes());
    out
}

/// `tag | glen u32 | group`: the start of a group's records of kind `tag`.
fn group_prefix(tag: u8, group: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + group.len() + 16);
    out.push(tag);
    out.extend_from_slice(&(group.len() as u32).to_be_bytes());
    out.extend_from_slice(group);
    out
}

fn cpel_prefix(group: &[u8], consumer: &[u8]) -> Vec<u8> {
    let mut out = group_prefix(CPEL, group);
    out.extend_from_slice(&(consumer.len() as u32).to_be_bytes());
    out.extend_from_slice(consumer);
    out
}

fn with_id(mut prefix: Vec<u8>, id: StreamId) -> Vec<u8> {
    prefix.extend_from_slice(&id.to_be_bytes());
    prefix
}

/// The exclusive end of the records starting with `prefix`.
fn after(prefix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return out;
        }
    }
    vec![0xFF; prefix.len() + 1]
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7F) << shift;
        }
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

fn encode_entry(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + fields.iter().map(|f| f.len() + 1).sum::<usize>());
    put_varint(&mut out, fields.len() as u64);
    for f in fields {
        put_varint(&mut out, f.len() as u64);
        out.extend_from_slice(f);
    }
    out
}

fn decode_entry(raw: &[u8]) -> Option<Vec<Bytes>> {
    let mut pos = 0;
    let n = get_varint(raw, &mut pos)?;
    let mut out = Vec::with_capacity(n.min(1024) as usize);
    for _ in 0..n {
        let len = get_varint(raw, &mut pos)? as usize;
        let end = pos.checked_add(len).filter(|&e| e <= raw.len())?;
        out.push(Bytes::copy_from_slice(&raw[pos..end]));
        pos = end;
    }
    Some(out)
}

/// A node record: the node, its appended count, its listpack size without the
/// counters (see `util::stream::lp_node_bytes`) and its master field names (encoded
/// as an entry).
struct DiskNode {
    node: StreamNode,
    appended: u64,
    lp_rest: u64,
    master: Bytes,
}

impl DiskNode {
    fn decode(k: &[u8], v: &[u8]) -> DiskNode {
        DiskNode {
            node: StreamNode {
                first: id_at(k, 1),
                last: id_at(v, 16),
                live: u64_at(v, 8),
            },
            appended: u64_at(v, 0),
            lp_rest: u64_at(v, 32),
            master: Bytes::copy_from_slice(v.get(40..).unwrap_or_default()),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + self.master.len());
        out.extend_from_slice(&self.appended.to_be_bytes());
        out.extend_from_slice(&self.node.live.to_be_bytes());
        out.extend_from_slice(&self.node.last.to_be_bytes());
        out.extend_from_slice(&self.lp_rest.to_be_bytes());
        out.extend_from_slice(&self.master);
        out
    }

    /// Whether `fields` has exactly the node's master field names.
    fn same_fields(&self, fields: &[&[u8]]) -> bool {
        let names: Vec<&[u8]> = fields.iter().step_by(2).copied().collect();
        self.master[..] == encode_entry(&names)[..]
    }
}

fn opt(v: Option<u64>) -> u64 {
    v.unwrap_or(u64::MAX)
}

fn from_opt(v: u64) -> Option<u64> {
    (v != u64::MAX).then_some(v)
}

impl<S: OrderedStore> StreamView<'_, '_, '_, S> {
    fn nodes_count(&self) -> u64 {
        u64_at(&self.0.rec.payload, 40)
    }

    fn write_meta(&mut self, meta: &StreamMeta, nodes: u64) {
        let low = self.low();
        self.write_payload(meta, nodes, low);
    }

    fn write_payload(&mut self, meta: &StreamMeta, nodes: u64, low: StreamId) {
        let mut out = Vec::with_capacity(META_LEN);
        out.extend_from_slice(&meta.last_id.to_be_bytes());
        out.extend_from_slice(&meta.max_deleted.to_be_bytes());
        out.extend_from_slice(&meta.entries_added.to_be_bytes());
        out.extend_from_slice(&nodes.to_be_bytes());
        out.extend_from_slice(&low.to_be_bytes());
        // Keep the tail hint (see `tail_hint`).
        out.extend_from_slice(self.0.rec.payload.get(64..81).unwrap_or(&[0; 17]));
        self.0.rec.payload = Bytes::from(out);
        self.0.wrote = true;
    }

    /// The first ID of the last node created, if any: a point read finds the tail
    /// node without an iterator (one per XADD otherwise). A hint only: if that node
    /// is gone, the last node is found by a reverse walk.
    fn tail_hint(&self) -> Option<StreamId> {
        let p = &self.0.rec.payload;
        (p.get(80) == Some(&1)).then(|| id_at(p, 64))
    }

    fn set_tail_hint(&mut self, first: StreamId) {
        let mut out = self.0.rec.payload.to_vec();
        out.resize(81, 0);
        out[64..80].copy_from_slice(&first.to_be_bytes());
        out[80] = 1;
        self.0.rec.payload = Bytes::from(out);
        self.0.wrote = true;
    }

    /// The last node: through the tail hint when it still exists.
    fn tail_node(&mut self) -> Option<DiskNode> {
        if let Some(first) = self.tail_hint() {
            let key = tagged(NODE, first);
            if let Some(v) = self.0.read(&key) {
                return Some(DiskNode::decode(&key, &v));
            }
        }
        let tail = self.node_at_or_before(StreamId::MAX)?;
        self.set_tail_hint(tail.node.first);
        Some(tail)
    }

    /// The low-water mark: every entry and node record below this ID is known
    /// to be deleted (by trims), so walks from the head start here instead of
    /// stepping over their tombstones until compaction drops them.
    fn low(&self) -> StreamId {
        id_at(&self.0.rec.payload, 48)
    }

    fn set_nodes(&mut self, nodes: u64) {
        let meta = self.meta_now();
        self.write_meta(&meta, nodes);
    }

    fn meta_now(&self) -> StreamMeta {
        let p = &self.0.rec.payload;
        StreamMeta {
            last_id: id_at(p, 0),
            max_deleted: id_at(p, 16),
            entries_added: u64_at(p, 32),
        }
    }

    /// The node record whose key is the greatest at or below `at` (the last node
    /// when `at` is MAX).
    fn node_at_or_before(&mut self, at: StreamId) -> Option<DiskNode> {
        let to = match at.next() {
            Some(n) => tagged(NODE, n).to_vec(),
            None => vec![NODE + 1],
        };
        let mut found = None;
        self.0.walk(&[NODE], Some(&to), true, &mut |k, v| {
            found = Some(DiskNode::decode(k, v));
            false
        });
        found
    }

    /// The node holding entry `id`: the last one keyed at or below it, else the
    /// first (as Redis' iterator seeks).
    fn node_of(&mut self, id: StreamId) -> Option<DiskNode> {
        if let Some(n) = self.node_at_or_before(id) {
            return Some(n);
        }
        let from = tagged(NODE, self.low());
        let mut found = None;
        self.0.walk(&from, Some(&[NODE + 1]), false, &mut |k, v| {
            found = Some(DiskNode::decode(k, v));
            false
        });
        found
    }

    /// The first ID of the node after the one keyed `first`.
    fn node_after(&mut self, first: StreamId) -> Option<StreamId> {
        let from = tagged(NODE, first.next()?);
        let mut found = None;
        self.0.walk(&from, Some(&[NODE + 1]), false, &mut |k, _| {
            found = Some(id_at(k, 1));
            false
        });
        found
    }

    fn put_node(&mut self, n: &DiskNode) {
        self.0.put(&tagged(NODE, n.node.first), &n.encode());
    }

    fn group_record(&mut self, group: &[u8]) -> Option<GroupInfo> {
        let mut k = vec![GROUP];
        k.extend_from_slice(group);
        let v = self.0.read(&k)?;
        Some(decode_group(&v))
    }

    fn put_group(&mut self, group: &[u8], g: &GroupInfo) {
        let mut k = vec![GROUP];
        k.extend_from_slice(group);
        let mut v = Vec::with_capacity(40);
        v.extend_from_slice(&g.last_id.to_be_bytes());
        v.extend_from_slice(&opt(g.entries_read).to_be_bytes());
        v.extend_from_slice(&g.pending.to_be_bytes());
        v.extend_from_slice(&g.consumers.to_be_bytes());
        self.0.put(&k, &v);
        self.0.wrote = true;
    }

    fn consumer_key(group: &[u8], consumer: &[u8]) -> Vec<u8> {
        let mut k = group_prefix(CONSUMER, group);
        k.extend_from_slice(consumer);
        k
    }

    fn put_consumer(&mut self, group: &[u8], consumer: &[u8], c: &ConsumerInfo) {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(&c.seen_time.to_be_bytes());
        v.extend_from_slice(&opt(c.active_time).to_be_bytes());
        v.extend_from_slice(&c.pending.to_be_bytes());
        self.0.put(&Self::consumer_key(group, consumer), &v);
        self.0.wrote = true;
    }

    fn adjust_consumer_pending(&mut self, group: &[u8], consumer: &[u8], delta: i64) {
        if let Some(mut c) = self.consumer_record(group, consumer) {
            c.pending = c.pending.saturating_add_signed(delta);
            self.put_consumer(group, consumer, &c);
        }
    }

    fn consumer_record(&mut self, group: &[u8], consumer: &[u8]) -> Option<ConsumerInfo> {
        let v = self.0.read(&Self::consumer_key(group, consumer))?;
        Some(decode_consumer(&v))
    }
}

fn decode_group(v: &[u8]) -> GroupInfo {
    GroupInfo {
        last_id: id_at(v, 0),
        entries_read: from_opt(u64_at(v, 16)),
        pending: u64_at(v, 24),
        consumers: u64_at(v, 32),
    }
}

fn decode_consumer(v: &[u8]) -> ConsumerInfo {
    ConsumerInfo {
        seen_time: u64_at(v, 0),
        active_time: from_opt(u64_at(v, 8)),
        pending: u64_at(v, 16),
    }
}

fn decode_pending(v: &[u8]) -> PendingEntry {
    PendingEntry {
        delivery_time: u64_at(v, 0),
        delivery_count: u64_at(v, 8),
        consumer: Bytes::copy_from_slice(v.get(16..).unwrap_or_default()),
    }
}

impl<S: OrderedStore> StreamOps for StreamView<'_, '_, '_, S> {
    fn len(&mut self) -> u64 {
        self.0.rec.len
    }

    fn meta(&mut self) -> StreamMeta {
        self.meta_now()
    }

    fn set_meta(&mut self, meta: &StreamMeta) {
        let nodes = self.nodes_count();
        self.write_meta(meta, nodes);
    }

    fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        let value = encode_entry(fields);
        let key = tagged(ENTRY, id);
        self.0.put(&key, &value);
        if id < self.low() {
            // XSETID can move the last ID back below trimmed entries: the mark
            // must stay at or below every live entry.
            let (meta, nodes) = (self.meta_now(), self.nodes_count());
            self.write_payload(&meta, nodes, id);
        }
        let size = self.0.size(key.len(), value.len());
        self.0.grow(size);
        self.0.rec.len += 1;
        self.0.wrote = true;
        let tail = self.tail_node().filter(|t| {
            let deleted = t.appended.saturating_sub(t.node.live);
            let bytes = lp_node_bytes(t.lp_rest, t.node.live, deleted);
            !limits.is_full(bytes, t.appended, entry_len(fields))
        });
        match tail {
            Some(mut t) => {
                let same = t.same_fields(fields);
                t.lp_rest += lp_entry_bytes(t.node.first, id, fields, same);
                t.node.live += 1;
                t.node.last = id;
                t.appended += 1;
                self.put_node(&t);
            }
            None => {
                let names: Vec<&[u8]> = fields.iter().step_by(2).copied().collect();
                let t = DiskNode {
                    node: StreamNode {
                        first: id,
                        last: id,
                        live: 1,
                    },
                    appended: 1,
                    lp_rest: lp_master_bytes(fields) + lp_entry_bytes(id, id, fields, true),
                    master: Bytes::from(encode_entry(&names)),
                };
                self.put_node(&t);
                let n = self.nodes_count() + 1;
                self.set_nodes(n);
                self.set_tail_hint(id);
            }
        }
    }

    fn remove(&mut self, id: StreamId, drop_empty_node: bool) -> bool {
        let key = tagged(ENTRY, id);
        let Some(old) = self.0.read(&key) else {
            return false;
        };
        self.0.del(&key);
        let size = self.0.size(key.len(), old.len());
        self.0.shrink(size);
        self.0.rec.len = self.0.rec.len.saturating_sub(1);
        self.0.wrote = true;
        if let Some(mut t) = self.node_of(id) {
            t.node.live = t.node.live.saturating_sub(1);
            if t.node.live == 0 && drop_empty_node {
                self.0.del(&tagged(NODE, t.node.first));
                let n = self.nodes_count().saturating_sub(1);
                self.set_nodes(n);
            } else {
                self.put_node(&t);
            }
        }
        true
    }

    fn range(
        &mut self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &[Bytes]) -> bool,
    ) {
        if start > end {
            return;
        }
        let from = tagged(ENTRY, start.max(self.low()));
        let to = match end.next() {
            Some(n) => tagged(ENTRY, n).to_vec(),
            None => vec![ENTRY + 1],
        };
        let mut bad = false;
        self.0
            .walk(&from, Some(&to), rev, &mut |k, v| match decode_entry(v) {
                Some(fields) => visit(id_at(k, 1), &fields),
                None => {
                    bad = true;
                    false
                }
            });
        if bad {
            self.0.corrupt("stream entry");
        }
    }

    fn first_node(&mut self) -> Option<StreamNode> {
        let mut found = None;
        let from = tagged(NODE, self.low());
        self.0.walk(&from, Some(&[NODE + 1]), false, &mut |k, v| {
            found = Some(StreamNode {
                first: id_at(k, 1),
                last: id_at(v, 16),
                live: u64_at(v, 8),
            });
            false
        });
        found
    }

    fn remove_first_node(&mut self) {
        let Some(node) = self.first_node() else {
            return;
        };
        // The node's entries are all those below the next node's first ID (an
        // entry may sit below its node's own first ID after XSETID, as in Redis).
        let next = self.node_after(node.first);
        let low = self.low();
        let mut doomed = Vec::new();
        let to = match next {
            Some(n) => tagged(ENTRY, n).to_vec(),
            None => vec![ENTRY + 1],
        };
        self.0
            .walk(&tagged(ENTRY, low), Some(&to), false, &mut |k, v| {
                doomed.push((k.to_vec(), v.len()));
                true
            });
        for (k, vlen) in doomed {
            self.0.del(&k);
            let size = self.0.size(k.len(), vlen);
            self.0.shrink(size);
            self.0.rec.len = self.0.rec.len.saturating_sub(1);
        }
        self.0.del(&tagged(NODE, node.first));
        let n = self.nodes_count().saturating_sub(1);
        let meta = self.meta_now();
        let low = next.unwrap_or_else(|| node.last.next().unwrap_or(StreamId::MAX));
        self.write_payload(&meta, n, low);
    }

    fn nodes(&mut self) -> u64 {
        self.nodes_count()
    }

    fn for_each_node(&mut self, visit: &mut dyn FnMut(StreamId)) {
        let from = tagged(NODE, self.low());
        self.0.walk(&from, Some(&[NODE + 1]), false, &mut |k, _| {
            visit(id_at(k, 1));
            true
        });
    }

    fn groups(&mut self) -> &mut dyn StreamGroupOps {
        self
    }
}

impl<S: OrderedStore> StreamGroupOps for StreamView<'_, '_, '_, S> {
    fn group(&mut self, group: &[u8]) -> Option<GroupInfo> {
        self.group_record(group)
    }

    fn set_group(&mut self, group: &[u8], last_id: StreamId, entries_read: Option<u64>) {
        let mut g = self.group_record(group).unwrap_or_default();
        g.last_id = last_id;
        g.entries_read = entries_read;
        self.put_group(group, &g);
    }

    fn remove_group(&mut self, group: &[u8]) -> bool {
        if self.group_record(group).is_none() {
            return false;
        }
        let mut k = vec![GROUP];
        k.extend_from_slice(group);
        self.0.del(&k);
        for tag in [PEL, CONSUMER, CPEL] {
            let p = group_prefix(tag, group);
            self.0.del_range(&p, &after(&p));
        }
        self.0.wrote = true;
        true
    }

    fn for_each_group(&mut self, visit: &mut dyn FnMut(&[u8], &GroupInfo) -> bool) {
        self.0
            .walk(&[GROUP], Some(&[GROUP + 1]), false, &mut |k, v| {
                visit(&k[1..], &decode_group(v))
            });
    }

    fn pending(&mut self, group: &[u8], id: StreamId) -> Option<PendingEntry> {
        let v = self.0.read(&with_id(group_prefix(PEL, group), id))?;
        Some(decode_pending(&v))
    }

    fn set_pending(&mut self, group: &[u8], id: StreamId, entry: &PendingEntry) {
        let Some(mut g) = self.group_record(group) else {
            return;
        };
        match self.pending(group, id) {
            Some(old) => {
                if old.consumer != entry.consumer {
                    self.0.del(&with_id(cpel_prefix(group, &old.consumer), id));
                    self.adjust_consumer_pending(group, &old.consumer, -1);
                    self.adjust_consumer_pending(group, &entry.consumer, 1);
                }
            }
            None => {
                g.pending += 1;
                self.put_group(group, &g);
                self.adjust_consumer_pending(group, &entry.consumer, 1);
            }
        }
        let mut v = Vec::with_capacity(16 + entry.consumer.len());
        v.extend_from_slice(&entry.delivery_time.to_be_bytes());
        v.extend_from_slice(&entry.delivery_count.to_be_bytes());
        v.extend_from_slice(&entry.consumer);
        self.0.put(&with_id(group_prefix(PEL, group), id), &v);
        self.0
            .put(&with_id(cpel_prefix(group, &entry.consumer), id), &[]);
        self.0.wrote = true;
    }

    fn remove_pending(&mut self, group: &[u8], id: StreamId) -> bool {
        let Some(old) = self.pending(group, id) else {
            return false;
        };
        self.0.del(&with_id(group_prefix(PEL, group), id));
        self.0.del(&with_id(cpel_prefix(group, &old.consumer), id));
        self.adjust_consumer_pending(group, &old.consumer, -1);
        if let Some(mut g) = self.group_record(group) {
            g.pending = g.pending.saturating_sub(1);
            self.put_group(group, &g);
        }
        self.0.wrote = true;
        true
    }

    fn pending_range(
        &mut self,
        group: &[u8],
        consumer: Option<&[u8]>,
        start: StreamId,
        end: StreamId,
        rev: bool,
        visit: &mut dyn FnMut(StreamId, &PendingEntry) -> bool,
    ) {
        if start > end {
            return;
        }
        let prefix = match consumer {
            None => group_prefix(PEL, group),
            Some(c) => cpel_prefix(group, c),
        };
        let plen = prefix.len();
        let span = |lo: StreamId, hi: StreamId| {
            let to = match hi.next() {
                Some(n) => with_id(prefix.clone(), n),
                None => after(&prefix),
            };
            (with_id(prefix.clone(), lo), to)
        };
        if consumer.is_none() {
            let (from, to) = span(start, end);
            self.0.walk(&from, Some(&to), rev, &mut |k, v| {
                visit(id_at(k, plen), &decode_pending(v))
            });
            return;
        }
        // The consumer's list names the IDs, the group's list holds the rest: read
        // them in batches, since a walk cannot look records up as it goes.
        let (mut lo, mut hi) = (start, end);
        loop {
            let (from, to) = span(lo, hi);
            let mut ids = Vec::new();
            self.0.walk(&from, Some(&to), rev, &mut |k, _| {
                ids.push(id_at(k, plen));
                ids.len() < 64
            });
            for id in &ids {
                if let Some(e) = self.pending(group, *id) {
                    if !visit(*id, &e) {
                        return;
                    }
                }
            }
            let Some(&last) = ids.last().filter(|_| ids.len() == 64) else {
                return;
            };
            let moved = if rev {
                last.prev().map(|p| hi = p)
            } else {
                last.next().map(|n| lo = n)
            };
            if moved.is_none() || lo > hi {
                return;
            }
        }
    }

    fn consumer(&mut self, group: &[u8], consumer: &[u8]) -> Option<ConsumerInfo> {
        self.consumer_record(group, consumer)
    }

    fn set_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        seen_time: UnixMillis,
        active_time: Option<UnixMillis>,
    ) {
        let Some(mut g) = self.group_record(group) else {
            return;
        };
        let c = match self.consumer_record(group, consumer) {
            Some(c) => c,
            None => {
                g.consumers += 1;
                self.put_group(group, &g);
                ConsumerInfo::default()
            }
        };
        let c = ConsumerInfo {
            seen_time,
            active_time,
            ..c
        };
        self.put_consumer(group, consumer, &c);
    }

    fn remove_consumer(&mut self, group: &[u8], consumer: &[u8]) -> bool {
        if self.consumer_record(group, consumer).is_none() {
            return false;
        }
        let prefix = cpel_prefix(group, consumer);
        let plen = prefix.len();
        let mut ids = Vec::new();
        self.0
            .walk(&prefix, Some(&after(&prefix)), false, &mut |k, _| {
                ids.push(id_at(k, plen));
                true
            });
        let mut g = self.group_record(group).unwrap_or_default();
        for id in &ids {
            self.0.del(&with_id(group_prefix(PEL, group), *id));
            self.0.del(&with_id(prefix.clone(), *id));
        }
        g.pending = g.pending.saturating_sub(ids.len() as u64);
        g.consumers = g.consumers.saturating_sub(1);
        self.put_group(group, &g);
        self.0.del(&Self::consumer_key(group, consumer));
        self.0.wrote = true;
        true
    }

    fn for_each_consumer(
        &mut self,
        group: &[u8],
        visit: &mut dyn FnMut(&[u8], &ConsumerInfo) -> bool,
    ) {
        let prefix = group_prefix(CONSUMER, group);
        let plen = prefix.len();
        self.0
            .walk(&prefix, Some(&after(&prefix)), false, &mut |k, v| {
                visit(&k[plen..], &decode_consumer(v))
            });
    }
}
