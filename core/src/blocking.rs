//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...), served in FIFO order by
//! the writes that make their keys ready.
//!
//! A blocking command that finds nothing registers a [`Waiter`] on each of its keys
//! inside its own atomic scope, so no write can slip between its check and its
//! registration. After a write command commits, the engine looks for waiters on the
//! keys it wrote and re-runs each waiter's command on the waiter's behalf, oldest
//! first, until the key has nothing left to give; the reply goes to the waiter's
//! connection, which has been parked on [`Waiter::wait`]. A waiter is claimed before
//! its command runs, so a timeout, `CLIENT UNBLOCK` or a disconnect racing with a
//! serve can never lose the element it was served.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use ferrokv_protocol::{Frame, RespVersion};
use parking_lot::Mutex;

use crate::clients::ClientHandle;
use crate::storage::{DbIndex, UnixMillis};

/// Where a waiter is in its life.
#[derive(Debug)]
enum State {
    /// Parked on its keys.
    Waiting,
    /// Claimed by a writer that is running its command right now.
    Serving,
    /// Finished with this reply (served, timed out or unblocked), not yet collected.
    Done(Frame),
    /// The reply was collected.
    Collected,
}

/// One blocked client.
#[derive(Debug)]
pub struct Waiter {
    /// The blocked client.
    pub client: Arc<ClientHandle>,
    /// Database of its keys.
    pub db: DbIndex,
    /// The keys it waits on, in command order.
    pub keys: Vec<Bytes>,
    /// The command to re-run when a key becomes ready.
    pub argv: Vec<Bytes>,
    /// Its protocol version (replies are shaped by it).
    pub resp: RespVersion,
    /// Absolute deadline; `None` waits forever.
    pub deadline: Option<UnixMillis>,
    /// Reply when the deadline passes (a null of the command's kind).
    pub timeout_reply: Frame,
    /// A reader that takes nothing away (XREAD): when its command finds nothing,
    /// the writer goes on to the next waiter instead of ending the round, since
    /// later waiters may want other entries of the same key.
    pub shared: bool,
    state: Mutex<State>,
    waker: Mutex<Option<Waker>>,
}

impl Waiter {
    /// Moves Waiting -> Serving; false if someone else got there first.
    fn claim(&self) -> bool {
        let mut state = self.state.lock();
        if matches!(*state, State::Waiting) {
            *state = State::Serving;
            true
        } else {
            false
        }
    }

    /// Puts a claimed waiter back to waiting (its command found nothing).
    fn release(&self) {
        let mut state = self.state.lock();
        if matches!(*state, State::Serving) {
            *state = State::Waiting;
        }
    }

    /// Finishes a claimed (or waiting) waiter with `reply` and wakes its connection.
    fn finish(&self, reply: Frame) {
        *self.state.lock() = State::Done(reply);
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }

    /// Resolves with the reply once the waiter is served, timed out or unblocked.
    /// The connection races it with the deadline and with its socket closing.
    pub fn wait(self: &Arc<Self>) -> WaitReply {
        WaitReply {
            waiter: self.clone(),
        }
    }
}

/// Future of a waiter's reply (see [`Waiter::wait`]).
#[derive(Debug)]
pub struct WaitReply {
    waiter: Arc<Waiter>,
}

impl Future for WaitReply {
    type Output = Frame;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Frame> {
        let w = &self.waiter;
        *w.waker.lock() = Some(cx.waker().clone());
        let mut state = w.state.lock();
        if matches!(*state, State::Done(_)) {
            if let State::Done(reply) = std::mem::replace(&mut *state, State::Collected) {
                return Poll::Ready(reply);
            }
        }
        Poll::Pending
    }
}

/// What a blocking command asks for when it has nothing to return now.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// Keys to wait on.
    pub keys: Vec<Bytes>,
    /// Absolute deadline; `None` for timeout 0 (forever).
    pub deadline: Option<UnixMillis>,
    /// Reply on timeout.
    pub timeout_reply: Frame,
    /// See [`Waiter::shared`].
    pub shared: bool,
}

/// Every blocked client, by key.
#[derive(Debug, Default)]
pub struct BlockingRegistry {
    /// Number of registered waiters: a write checks this before taking any lock.
    waiting: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_key: HashMap<(DbIndex, Bytes), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

impl Inner {
    fn unlink(&mut self, waiter: &Arc<Waiter>) {
        for key in &waiter.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|w| !Arc::ptr_eq(w, waiter));
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        if self
            .by_client
            .get(&waiter.client.id)
            .is_some_and(|w| Arc::ptr_eq(w, waiter))
        {
            self.by_client.remove(&waiter.client.id);
        }
    }
}

/// How `CLIENT UNBLOCK` ends a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnblockMode {
    /// As if the timeout passed.
    Timeout,
    /// With `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Error,
}

impl BlockingRegistry {
    /// Whether any client is blocked (a cheap check for every write).
    #[inline]
    pub fn any(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// Number of blocked clients (`INFO clients` `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.inner.lock().by_client.len()
    }

    /// Whether client `id` is blocked (`CLIENT LIST` flag `b`; exempt from the idle
    /// timeout).
    pub fn is_blocked(&self, id: u64) -> bool {
        self.any() && self.inner.lock().by_client.contains_key(&id)
    }

    /// Number of keys with at least one waiter (`INFO clients` `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        self.inner.lock().by_key.len()
    }

    /// Parks a client on `request.keys`; called from inside the command's scope.
    pub fn register(
        &self,
        client: Arc<ClientHandle>,
        db: DbIndex,
        resp: RespVersion,
        argv: &[Bytes],
        request: BlockRequest,
    ) -> Arc<Waiter> {
        let mut keys = request.keys;
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        let waiter = Arc::new(Waiter {
            client,
            db,
            keys,
            argv: argv.to_vec(),
            resp,
            deadline: request.deadline,
            timeout_reply: request.timeout_reply,
            shared: request.shared,
            state: Mutex::new(State::Waiting),
            waker: Mutex::new(None),
        });
        let mut inner = self.inner.lock();
        for key in &waiter.keys {
            inner
                .by_key
                .entry((db, key.clone()))
                .or_default()
                .push_back(waiter.clone());
        }
        inner.by_client.insert(waiter.client.id, waiter.clone());
        waiter.client.blocked.store(true, Ordering::Relaxed);
        self.waiting.fetch_add(1, Ordering::AcqRel);
        waiter
    }

    /// Removes a waiter and finishes it with `reply` unless it was already served or
    /// is being served. Returns whether this call ended the wait.
    pub fn cancel(&self, waiter: &Arc<Waiter>, reply: Frame) -> bool {
        if !waiter.claim() {
            return false;
        }
        self.remove(waiter);
        waiter.finish(reply);
        true
    }

    /// Drops a waiter whose connection went away, whatever its state.
    pub fn forget(&self, waiter: &Arc<Waiter>) {
        if waiter.claim() {
            self.remove(waiter);
            *waiter.state.lock() = State::Collected;
        }
    }

    fn remove(&self, waiter: &Arc<Waiter>) {
        let mut inner = self.inner.lock();
        inner.unlink(waiter);
        waiter.client.blocked.store(false, Ordering::Relaxed);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }

    /// `CLIENT UNBLOCK`: ends the wait of client `id`; false if it is not blocked.
    pub fn unblock(&self, id: u64, mode: UnblockMode) -> bool {
        let Some(waiter) = self.inner.lock().by_client.get(&id).cloned() else {
            return false;
        };
        let reply = match mode {
            UnblockMode::Timeout => waiter.timeout_reply.clone(),
            UnblockMode::Error => Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        };
        self.cancel(&waiter, reply)
    }

    /// Serves the waiters of `key`, oldest first. `run` re-executes a waiter's
    /// command in non-blocking mode and returns its reply, or `None` when it found
    /// nothing to take (the waiter keeps its place and serving stops: the key is
    /// spent or no longer of the right type).
    pub fn serve_key(
        &self,
        db: DbIndex,
        key: &Bytes,
        run: &mut dyn FnMut(&Waiter) -> Option<Frame>,
    ) {
        let slot = (db, key.clone());
        let mut skip = 0;
        loop {
            let next = {
                let inner = self.inner.lock();
                inner.by_key.get(&slot).and_then(|q| q.get(skip).cloned())
            };
            let Some(waiter) = next else {
                return;
            };
            if !waiter.claim() {
                // Timed out or unblocked concurrently: it is being removed.
                skip += 1;
                continue;
            }
            match run(&waiter) {
                Some(reply) => {
                    self.remove(&waiter);
                    waiter.finish(reply);
                }
                None if waiter.shared => {
                    waiter.release();
                    skip += 1;
                }
                None => {
                    waiter.release();
                    return;
                }
            }
        }
    }

    /// Every key with waiters, with its database, in no particular order (after a
    /// whole-keyspace write such as FLUSHALL or SWAPDB).
    pub fn all_waited_keys(&self) -> Vec<(DbIndex, Bytes)> {
        self.inner.lock().by_key.keys().cloned().collect()
    }

    /// Keys among `keys` that have waiters, in order, without duplicates.
    pub fn waited_keys(&self, db: DbIndex, keys: &[&Bytes]) -> Vec<Bytes> {
        let inner = self.inner.lock();
        let mut out: Vec<Bytes> = Vec::new();
        for key in keys {
            if inner.by_key.contains_key(&(db, (*key).clone())) && !out.contains(key) {
                out.push((*key).clone());
            }
        }
        out
    }
}
