//! An in-memory stream: entries packed in nodes of consecutive IDs, as Redis'
//! listpacks (a node's first entry's fields are its master fields, and later entries
//! with the same fields store only their values), plus consumer groups in ordered
//! maps. The memory backend stores streams this way, and so does the reference
//! backend of `testing`; it implements [`StreamOps`] directly.
//!
//! Node layout: master fields (varint count, then varint-length-prefixed fields),
//! then per entry: a flag byte ([`DELETED`], [`SAME_FIELDS`]), the ms offset from the
//! node's first ID and the sequence (varints), then either the values of the master
//! fields or a varint count and the field/value pairs. Deleted entries keep their
//! place (flagged) until the node's last live entry goes, as in Redis.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::storage::{
    ConsumerInfo, GroupInfo, NodeLimits, PendingEntry, StreamGroupOps, StreamId, StreamMeta,
    StreamNode, StreamOps, UnixMillis,
};
use crate::util::number::{format_i64, parse_i64};

/// Entry flag: deleted (by `XDEL` or an exact trim), skipped by reads.
const DELETED: u8 = 1;
/// Entry flag: the entry has the node's master fields and stores only values.
const SAME_FIELDS: u8 = 2;

/// Bytes a node costs beyond its buffer (map slot and struct), for accounting.
const NODE_OVERHEAD: usize = 64;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = buf.get(*pos) {
        *pos += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7F) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

/// Stores a field or value: a canonical integer (as `INCR` would print it) as one
/// tagged varint of its zigzag form, like a listpack's integer encodings (`123456`
/// takes 3 bytes instead of 7), anything else as a tagged length and its bytes.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if let Some(v) = canonical_int(b) {
        let zigzag = ((v << 1) ^ (v >> 63)) as u64;
        if zigzag < 1 << 62 {
            put_varint(out, (zigzag << 1) | 1);
            return;
        }
    }
    put_varint(out, (b.len() as u64) << 1);
    out.extend_from_slice(b);
}

fn canonical_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let v = parse_i64(b)?;
    let mut buf = [0u8; 20];
    (format_i64(v, &mut buf) == b).then_some(v)
}

/// One stored field or value, borrowed or rebuilt from its integer form.
enum Item<'a> {
    Raw(&'a [u8]),
    Int(i64),
}

impl Item<'_> {
    fn to_bytes(&self) -> Bytes {
        match self {
            Item::Raw(b) => Bytes::copy_from_slice(b),
            Item::Int(v) => {
                let mut buf = [0u8; 20];
                Bytes::copy_from_slice(format_i64(*v, &mut buf))
            }
        }
    }

    fn eq_bytes(&self, other: &[u8]) -> bool {
        match self {
            Item::Raw(b) => *b == other,
            Item::Int(v) => canonical_int(other) == Some(*v),
        }
    }
}

fn get_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Item<'a> {
    let tag = get_varint(buf, pos);
    if tag & 1 == 1 {
        let zigzag = tag >> 1;
        return Item::Int(((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64));
    }
    let len = (tag >> 1) as usize;
    let start = (*pos).min(buf.len());
    let end = start.saturating_add(len).min(buf.len());
    *pos = end;
    Item::Raw(&buf[start..end])
}

/// Bytes of a listpack integer element (encoding plus back-length), as Redis
/// stores it.
pub fn lp_int_bytes(v: i64) -> u64 {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32_768..=32_767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    enc + lp_backlen(enc)
}

/// Bytes of a listpack string element (integers in canonical form are stored as
/// integers, as `lpAppend` does).
pub fn lp_str_bytes(s: &[u8]) -> u64 {
    if let Some(v) = canonical_int(s) {
        return lp_int_bytes(v);
    }
    let n = s.len() as u64;
    let enc = if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    };
    enc + lp_backlen(enc)
}

fn lp_backlen(len: u64) -> u64 {
    match len {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Listpack bytes of a node's master entry after its two counters: the field
/// count, the field names and the terminating 0.
pub fn lp_master_bytes(fields: &[&[u8]]) -> u64 {
    let names = fields.iter().step_by(2);
    lp_int_bytes(names.len() as i64) + names.map(|f| lp_str_bytes(f)).sum::<u64>() + lp_int_bytes(0)
}

/// Listpack bytes an entry adds to a node whose first ID is `master` (Redis'
/// entry layout: flags, ms and seq deltas, the field count and names unless they
/// are the master's, the values, and the element count).
pub fn lp_entry_bytes(master: StreamId, id: StreamId, fields: &[&[u8]], same_fields: bool) -> u64 {
    let flags = if same_fields { SAME_FIELDS } else { 0 };
    let nfields = (fields.len() / 2) as i64;
    let mut bytes = lp_int_bytes(i64::from(flags))
        + lp_int_bytes(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int_bytes(id.seq.wrapping_sub(master.seq) as i64);
    let mut count = nfields + 3;
    if !same_fields {
        bytes += lp_int_bytes(nfields);
        bytes += fields
            .iter()
            .step_by(2)
            .map(|f| lp_str_bytes(f))
            .sum::<u64>();
        count += nfields + 1;
    }
    bytes += fields
        .iter()
        .skip(1)
        .step_by(2)
        .map(|v| lp_str_bytes(v))
        .sum::<u64>();
    bytes + lp_int_bytes(count)
}

/// Total listpack bytes of a node: header and end byte, the live and deleted
/// counters, and `rest` (everything else).
pub fn lp_node_bytes(rest: u64, live: u64, deleted: u64) -> u64 {
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    7 + lp_int_bytes(as_i64(live)) + lp_int_bytes(as_i64(deleted)) + rest
}

/// Bytes of an entry's fields and values (what Redis adds to the node size when it
/// decides whether the entry fits).
pub fn entry_len(fields: &[&[u8]]) -> u64 {
    fields.iter().map(|f| f.len() as u64).sum()
}

/// The number of nodes of the radix tree Redis keeps a stream's nodes in, keyed by
/// their first IDs as 16 big-endian bytes (`XINFO STREAM`'s `radix-tree-nodes`).
/// Redis' rax compresses single-child chains, so its nodes are the root, every
/// branching prefix, every child of one, and every key: for sorted keys, the
/// common prefixes of neighbours and the prefixes one byte longer on both sides.
/// `firsts` must be sorted and distinct.
pub fn rax_nodes(firsts: &[StreamId]) -> u64 {
    let keys: Vec<[u8; 16]> = firsts.iter().map(|id| id.to_be_bytes()).collect();
    let mut starts: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    starts.insert(&[]);
    for k in &keys {
        starts.insert(&k[..]);
    }
    for pair in keys.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let lcp = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
        if lcp < 16 {
            starts.insert(&a[..lcp]);
            starts.insert(&a[..lcp + 1]);
            starts.insert(&b[..lcp + 1]);
        }
    }
    starts.len() as u64
}

/// One node: entries appended consecutively, packed in one buffer.
#[derive(Debug, Clone)]
struct Node {
    buf: Vec<u8>,
    /// Offset of the first entry (after the master fields).
    entries_at: u32,
    /// Entries appended (deleted ones included).
    appended: u32,
    /// Live entries.
    live: u32,
    /// ID of the last appended entry.
    last: StreamId,
    /// Redis' listpack bytes of this node except the two counters (see
    /// [`lp_node_bytes`]), to split nodes where Redis does.
    lp_rest: u32,
}

/// One decoded entry position inside a node.
#[derive(Clone, Copy)]
struct Slot {
    at: usize,
    id: StreamId,
    deleted: bool,
    end: usize,
}

impl Node {
    fn new(first: StreamId, fields: &[&[u8]]) -> Node {
        let mut buf = Vec::new();
        let names: Vec<&[u8]> = fields.iter().step_by(2).copied().collect();
        put_varint(&mut buf, names.len() as u64);
        for f in names {
            put_bytes(&mut buf, f);
        }
        Node {
            entries_at: buf.len() as u32,
            buf,
            appended: 0,
            live: 0,
            last: first,
            lp_rest: lp_master_bytes(fields).min(u64::from(u32::MAX)) as u32,
        }
    }

    fn same_fields(&self, fields: &[&[u8]]) -> bool {
        let mut pos = 0;
        let n = get_varint(&self.buf, &mut pos) as usize;
        if n * 2 != fields.len() {
            return false;
        }
        fields
            .iter()
            .step_by(2)
            .all(|f| get_bytes(&self.buf, &mut pos).eq_bytes(f))
    }

    fn push(&mut self, first: StreamId, id: StreamId, fields: &[&[u8]]) {
        let same = self.same_fields(fields);
        let added = lp_entry_bytes(first, id, fields, same);
        self.lp_rest = (u64::from(self.lp_rest) + added).min(u64::from(u32::MAX)) as u32;
        let buf = &mut self.buf;
        buf.push(if same { SAME_FIELDS } else { 0 });
        // Wrapping: after XSETID on an emptied stream an entry may sit below its
        // node's first ID, as in Redis (whose deltas are then negative).
        put_varint(buf, id.ms.wrapping_sub(first.ms));
        put_varint(buf, id.seq);
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                put_bytes(buf, v);
            }
        } else {
            put_varint(buf, fields.len() as u64);
            for f in fields {
                put_bytes(buf, f);
            }
        }
        self.appended += 1;
        self.live += 1;
        self.last = id;
    }

    /// Walks the entry slots in order until `f` returns false.
    fn slots(&self, first: StreamId, f: &mut dyn FnMut(&Slot) -> bool) {
        let nmaster = {
            let mut p = 0;
            get_varint(&self.buf, &mut p)
        };
        let mut pos = self.entries_at as usize;
        while pos < self.buf.len() {
            let at = pos;
            let flags = self.buf[pos];
            pos += 1;
            let ms = first.ms.wrapping_add(get_varint(&self.buf, &mut pos));
            let seq = get_varint(&self.buf, &mut pos);
            let n = if flags & SAME_FIELDS != 0 {
                nmaster
            } else {
                get_varint(&self.buf, &mut pos)
            };
            for _ in 0..n {
                get_bytes(&self.buf, &mut pos);
            }
            let slot = Slot {
                at,
                id: StreamId { ms, seq },
                deleted: flags & DELETED != 0,
                end: pos,
            };
            if !f(&slot) {
                return;
            }
        }
    }

    /// The flat field/value list of the entry at `slot`.
    fn fields(&self, slot: &Slot) -> Vec<Bytes> {
        let mut pos = slot.at;
        let flags = self.buf[pos];
        pos += 1;
        get_varint(&self.buf, &mut pos);
        get_varint(&self.buf, &mut pos);
        let mut out;
        if flags & SAME_FIELDS != 0 {
            // Master field names and the entry's values, read side by side.
            let mut names_at = 0;
            let n = get_varint(&self.buf, &mut names_at);
            out = Vec::with_capacity(2 * n.min(1024) as usize);
            for _ in 0..n {
                out.push(get_bytes(&self.buf, &mut names_at).to_bytes());
                out.push(get_bytes(&self.buf, &mut pos).to_bytes());
            }
        } else {
            let n = get_varint(&self.buf, &mut pos);
            out = Vec::with_capacity(n.min(2048) as usize);
            for _ in 0..n {
                out.push(get_bytes(&self.buf, &mut pos).to_bytes());
            }
        }
        debug_assert!(pos == slot.end);
        out
    }
}

/// One consumer of a group.
#[derive(Debug, Clone, Default)]
struct Consumer {
    seen: UnixMillis,
    active: Option<UnixMillis>,
    pel: BTreeSet<StreamId>,
}

/// One consumer group.
#[derive(Debug, Clone, Default)]
struct Group {
    last_id: StreamId,
    entries_read: Option<u64>,
    pel: BTreeMap<StreamId, PendingEntry>,
    consumers: BTreeMap<Bytes, Consumer>,
}

/// Consumer groups in ordered maps (group and consumer names in byte order, pending
/// entries in ID order), as Redis' radix trees.
#[derive(Debug, Clone, Default)]
pub struct MemGroups {
    groups: BTreeMap<Bytes, Group>,
}

impl StreamGroupOps for MemGroups {
    fn group(&mut self, group: &[u8]) -> Option<GroupInfo> {
        self.groups.get(group).map(|g| GroupInfo {
            last_id: g.last_id,
            entries_read: g.entries_read,
            pending: g.pel.len() as u64,
            consumers: g.consumers.len() as u64,
        })
    }

    fn set_group(&mut self, group: &[u8], last_id: StreamId, entries_read: Option<u64>) {
        let g = self
            .groups
            .entry(Bytes::copy_from_slice(group))
            .or_default();
        g.last_id = last_id;
        g.entries_read = entries_read;
    }

    fn remove_group(&mut self, group: &[u8]) -> bool {
        self.groups.remove(group).is_some()
    }

    fn for_each_group(&mut self, visit: &mut dyn FnMut(&[u8], &GroupInfo) -> bool) {
        for (name, g) in &self.groups {
            let info = GroupInfo {
                last_id: g.last_id,
                entries_read: g.entries_read,
                pending: g.pel.len() as u64,
                consumers: g.consumers.len() as u64,
            };
            if !visit(name, &info) {
                return;
            }
        }
    }

    fn pending(&mut self, group: &[u8], id: StreamId) -> Option<PendingEntry> {
        self.groups.get(group)?.pel.get(&id).cloned()
    }

    fn set_pending(&mut self, group: &[u8], id: StreamId, entry: &PendingEntry) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        if let Some(old) = g.pel.insert(id, entry.clone()) {
            if let Some(c) = g.consumers.get_mut(&old.consumer) {
                c.pel.remove(&id);
            }
        }
        g.consumers
            .entry(entry.consumer.clone())
            .or_default()
            .pel
            .insert(id);
    }

    fn remove_pending(&mut self, group: &[u8], id: StreamId) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        match g.pel.remove(&id) {
            Some(old) => {
                if let Some(c) = g.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
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
        let Some(g) = self.groups.get(group) else {
            return;
        };
        if start > end {
            return;
        }
        match consumer {
            None => {
                let range = g.pel.range(start..=end);
                let mut go = |(id, e): (&StreamId, &PendingEntry)| visit(*id, e);
                if rev {
                    for item in range.rev() {
                        if !go(item) {
                            return;
                        }
                    }
                } else {
                    for item in range {
                        if !go(item) {
                            return;
                        }
                    }
                }
            }
            Some(name) => {
                let Some(c) = g.consumers.get(name) else {
                    return;
                };
                let ids: Box<dyn Iterator<Item = &StreamId>> = if rev {
                    Box::new(c.pel.range(start..=end).rev())
                } else {
                    Box::new(c.pel.range(start..=end))
                };
                for id in ids {
                    if let Some(e) = g.pel.get(id) {
                        if !visit(*id, e) {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn consumer(&mut self, group: &[u8], consumer: &[u8]) -> Option<ConsumerInfo> {
        let c = self.groups.get(group)?.consumers.get(consumer)?;
        Some(ConsumerInfo {
            seen_time: c.seen,
            active_time: c.active,
            pending: c.pel.len() as u64,
        })
    }

    fn set_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        seen_time: UnixMillis,
        active_time: Option<UnixMillis>,
    ) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        let c = g
            .consumers
            .entry(Bytes::copy_from_slice(consumer))
            .or_default();
        c.seen = seen_time;
        c.active = active_time;
    }

    fn remove_consumer(&mut self, group: &[u8], consumer: &[u8]) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        let Some(c) = g.consumers.remove(consumer) else {
            return false;
        };
        for id in c.pel {
            g.pel.remove(&id);
        }
        true
    }

    fn for_each_consumer(
        &mut self,
        group: &[u8],
        visit: &mut dyn FnMut(&[u8], &ConsumerInfo) -> bool,
    ) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        for (name, c) in &g.consumers {
            let info = ConsumerInfo {
                seen_time: c.seen,
                active_time: c.active,
                pending: c.pel.len() as u64,
            };
            if !visit(name, &info) {
                return;
            }
        }
    }
}

/// A whole stream in memory: packed nodes keyed by their first ID, the counters and
/// the consumer groups.
#[derive(Debug, Clone, Default)]
pub struct MemStream {
    nodes: BTreeMap<StreamId, Node>,
    len: u64,
    meta: StreamMeta,
    groups: MemGroups,
    /// Bytes held by node buffers plus per-node overhead.
    heap: usize,
}

impl MemStream {
    /// An empty stream.
    pub fn new() -> MemStream {
        MemStream::default()
    }

    /// Approximate heap bytes (node buffers; groups counted roughly per entry).
    pub fn heap_bytes(&self) -> usize {
        self.heap
    }

    fn node_bytes(node: &Node) -> usize {
        node.buf.capacity() + NODE_OVERHEAD
    }

    /// The key of the node a forward walk from `start` begins at, as Redis'
    /// iterator seeks: the last node keyed at or below `start`, else the first.
    fn forward_from(&self, start: StreamId) -> Option<StreamId> {
        self.nodes
            .range(..=start)
            .next_back()
            .or_else(|| self.nodes.first_key_value())
            .map(|(k, _)| *k)
    }

    /// Visits live entries forward with Redis' iterator rules (`streamIteratorGetID`):
    /// entries below `start` are skipped and the first live entry past `end` ends
    /// the walk, so that entries appended below their node's first ID (possible
    /// after XSETID on an emptied stream) are met where Redis meets them.
    fn walk_forward(
        &self,
        start: StreamId,
        end: StreamId,
        visit: &mut dyn FnMut(StreamId, &[Bytes]) -> bool,
    ) {
        let Some(first_key) = self.forward_from(start) else {
            return;
        };
        for (key, node) in self.nodes.range(first_key..) {
            let mut go = true;
            node.slots(*key, &mut |slot| {
                if slot.deleted || slot.id < start {
                    return true;
                }
                go = slot.id <= end && visit(slot.id, &node.fields(slot));
                go
            });
            if !go {
                return;
            }
        }
    }

    /// The reverse walk, as Redis: from the last node keyed at or below `end` (else
    /// the last node) backwards, skipping live entries past `end`, ending at the
    /// first live entry below `start`.
    fn walk_backward(
        &self,
        start: StreamId,
        end: StreamId,
        visit: &mut dyn FnMut(StreamId, &[Bytes]) -> bool,
    ) {
        let Some(last_key) = self
            .nodes
            .range(..=end)
            .next_back()
            .or_else(|| self.nodes.last_key_value())
            .map(|(k, _)| *k)
        else {
            return;
        };
        for (key, node) in self.nodes.range(..=last_key).rev() {
            let mut slots = Vec::with_capacity(node.appended as usize);
            node.slots(*key, &mut |slot| {
                if !slot.deleted && slot.id <= end {
                    slots.push(*slot);
                }
                true
            });
            for slot in slots.iter().rev() {
                if slot.id < start || !visit(slot.id, &node.fields(slot)) {
                    return;
                }
            }
        }
    }
}

impl StreamOps for MemStream {
    fn len(&mut self) -> u64 {
        self.len
    }

    fn meta(&mut self) -> StreamMeta {
        self.meta
    }

    fn set_meta(&mut self, meta: &StreamMeta) {
        self.meta = *meta;
    }

    fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        let tail_full = match self.nodes.last_key_value() {
            None => true,
            Some((_, node)) => {
                let (live, appended) = (u64::from(node.live), u64::from(node.appended));
                let bytes = lp_node_bytes(u64::from(node.lp_rest), live, appended - live);
                limits.is_full(bytes, appended, entry_len(fields))
            }
        };
        if tail_full {
            if let Some((_, node)) = self.nodes.iter_mut().next_back() {
                // A closed node never grows again: give its spare room back.
                let before = MemStream::node_bytes(node);
                node.buf.shrink_to_fit();
                self.heap = self.heap - before + MemStream::node_bytes(node);
            }
            let node = Node::new(id, fields);
            self.heap += MemStream::node_bytes(&node);
            self.nodes.insert(id, node);
        }
        if let Some((first, node)) = self.nodes.iter_mut().next_back() {
            let before = MemStream::node_bytes(node);
            node.push(*first, id, fields);
            self.heap = self.heap - before + MemStream::node_bytes(node);
        }
        self.len += 1;
    }

    fn remove(&mut self, id: StreamId, drop_empty_node: bool) -> bool {
        // Found as Redis' XDEL finds it: the first live entry of a forward walk
        // from `id`.
        let Some(first_key) = self.forward_from(id) else {
            return false;
        };
        let mut found = None;
        for (key, node) in self.nodes.range(first_key..) {
            let mut done = false;
            node.slots(*key, &mut |slot| {
                if slot.deleted || slot.id < id {
                    return true;
                }
                if slot.id == id {
                    found = Some((*key, slot.at));
                }
                done = true;
                false
            });
            if done {
                break;
            }
        }
        let Some((key, at)) = found else {
            return false;
        };
        let Some(node) = self.nodes.get_mut(&key) else {
            return false;
        };
        node.buf[at] |= DELETED;
        node.live -= 1;
        self.len -= 1;
        if node.live == 0 && drop_empty_node {
            if let Some(node) = self.nodes.remove(&key) {
                self.heap -= MemStream::node_bytes(&node);
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
        if rev {
            self.walk_backward(start, end, visit);
        } else {
            self.walk_forward(start, end, visit);
        }
    }

    fn first_node(&mut self) -> Option<StreamNode> {
        self.nodes.first_key_value().map(|(k, n)| StreamNode {
            first: *k,
            last: n.last,
            live: u64::from(n.live),
        })
    }

    fn remove_first_node(&mut self) {
        if let Some((_, node)) = self.nodes.pop_first() {
            self.len -= u64::from(node.live);
            self.heap -= MemStream::node_bytes(&node);
        }
    }

    fn nodes(&mut self) -> u64 {
        self.nodes.len() as u64
    }

    fn for_each_node(&mut self, visit: &mut dyn FnMut(StreamId)) {
        for k in self.nodes.keys() {
            visit(*k);
        }
    }

    fn groups(&mut self) -> &mut dyn StreamGroupOps {
        &mut self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &mut MemStream, start: StreamId, end: StreamId, rev: bool) -> Vec<u64> {
        let mut out = Vec::new();
        s.range(start, end, rev, &mut |id, _| {
            out.push(id.ms);
            true
        });
        out
    }

    #[test]
    fn append_range_remove() {
        let mut s = MemStream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            let fields: Vec<&[u8]> = if i % 11 == 0 {
                vec![b"n", b"-12", b"m", b"007", b"k", b"9223372036854775807"]
            } else if i % 7 == 0 {
                vec![b"other", v.as_bytes()]
            } else {
                vec![b"f", v.as_bytes(), b"g", b"x"]
            };
            s.append(StreamId::new(i, 0), &fields, NodeLimits::default());
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.nodes(), 3);
        let all = ids(&mut s, StreamId::MIN, StreamId::MAX, false);
        assert_eq!(all, (1..=250).collect::<Vec<_>>());
        let back = ids(&mut s, StreamId::new(95, 0), StreamId::new(105, 0), true);
        assert_eq!(back, (95..=105).rev().collect::<Vec<_>>());
        let mut got = Vec::new();
        s.range(
            StreamId::new(7, 0),
            StreamId::new(8, 0),
            false,
            &mut |_, f| {
                got.push(f.to_vec());
                true
            },
        );
        assert_eq!(got[0], vec![Bytes::from("other"), Bytes::from("7")]);
        assert_eq!(
            got[1],
            vec![
                Bytes::from("f"),
                Bytes::from("8"),
                Bytes::from("g"),
                Bytes::from("x")
            ]
        );
        let mut got = Vec::new();
        s.range(
            StreamId::new(11, 0),
            StreamId::new(11, 0),
            false,
            &mut |_, f| {
                got.extend(f.iter().cloned());
                true
            },
        );
        let want: Vec<Bytes> = ["n", "-12", "m", "007", "k", "9223372036854775807"]
            .into_iter()
            .map(Bytes::from)
            .collect();
        assert_eq!(got, want);
        assert!(s.remove(StreamId::new(100, 0), true));
        assert!(!s.remove(StreamId::new(100, 0), true));
        assert_eq!(s.len(), 249);
        for i in 1..100 {
            assert!(s.remove(StreamId::new(i, 0), true));
        }
        assert_eq!(s.nodes(), 2);
        assert_eq!(s.first_node().map(|n| n.first), Some(StreamId::new(101, 0)));
        s.remove_first_node();
        assert_eq!(s.len(), 50);
    }
}
