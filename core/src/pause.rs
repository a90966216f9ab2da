//! `CLIENT PAUSE` / `CLIENT UNPAUSE` (Redis 7.0's `pauseClients`): for a while, the
//! server holds back every command (`ALL`) or only those that may change the
//! dataset or be propagated (`WRITE`: write commands, `PUBLISH`, `SPUBLISH`, and an
//! `EXEC` whose queue holds one of them). Held commands wait, they do not fail: the
//! engine only says whether a command must wait ([`crate::Engine::must_pause`]); the
//! connection, which can wait without blocking a thread, parks until the pause ends
//! ([`Pause::changed`] or the deadline) and then runs it. Held clients resume in the
//! order they were held, as Redis unblocks its postponed clients: each takes a
//! ticket ([`Pause::take_ticket`]) and runs its held request only when no earlier
//! ticket is outstanding. Expiry is paused too: the active cycle does nothing while
//! clients are paused.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::clients::unix_ms;

/// What a pause holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseKind {
    /// Commands that may write (`CLIENT PAUSE ... WRITE`).
    Write,
    /// Every command (`CLIENT PAUSE ...` / `ALL`).
    All,
}

#[derive(Debug, Default)]
struct State {
    kind: Option<PauseKind>,
    /// Unix ms when the pause ends.
    until: u64,
    wakers: Vec<Waker>,
}

/// The server-wide pause.
#[derive(Debug, Default)]
pub struct Pause {
    /// Whether a pause may be in effect: the one load every command pays.
    on: AtomicBool,
    /// Bumped when the pause ends or changes, to wake the waiting connections.
    generation: AtomicU64,
    state: Mutex<State>,
    /// Tickets of held clients that have not yet run their held request.
    held: Mutex<std::collections::BTreeSet<u64>>,
    next_ticket: AtomicU64,
}

impl Pause {
    /// Pauses until `until` (Unix ms); a pause already in effect keeps the later end
    /// and the stricter kind, as Redis does.
    pub fn pause(&self, kind: PauseKind, until: u64) {
        let mut s = self.state.lock();
        s.kind = Some(s.kind.map_or(kind, |k| k.max(kind)));
        s.until = s.until.max(until);
        self.on.store(true, Ordering::Release);
        self.bump(&mut s);
    }

    /// Ends the pause now (`CLIENT UNPAUSE`, or its deadline passed).
    pub fn unpause(&self) {
        let mut s = self.state.lock();
        s.kind = None;
        s.until = 0;
        self.on.store(false, Ordering::Release);
        self.bump(&mut s);
    }

    fn bump(&self, s: &mut State) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for w in s.wakers.drain(..) {
            w.wake();
        }
    }

    /// The pause in effect and its end (Unix ms), ending it if its time has come.
    pub fn current(&self) -> Option<(PauseKind, u64)> {
        if !self.on.load(Ordering::Acquire) {
            return None;
        }
        let s = self.state.lock();
        let kind = s.kind?;
        let until = s.until;
        drop(s);
        if unix_ms() >= until {
            self.unpause();
            return None;
        }
        Some((kind, until))
    }

    /// A place in line for a client whose request is held.
    pub fn take_ticket(&self) -> u64 {
        let t = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        self.held.lock().insert(t);
        t
    }

    /// Whether no client held before `ticket` is still waiting to run.
    pub fn is_turn(&self, ticket: u64) -> bool {
        self.held
            .lock()
            .first()
            .is_none_or(|&first| first >= ticket)
    }

    /// Clients whose request is held (counted in `blocked_clients`, as Redis'
    /// postponed clients).
    pub fn held_clients(&self) -> usize {
        self.held.lock().len()
    }

    /// The held request of `ticket` ran (or its client left): the next may go.
    pub fn release(&self, ticket: u64) {
        self.held.lock().remove(&ticket);
        let mut s = self.state.lock();
        self.bump(&mut s);
    }

    /// Whether clients are paused (any kind): expiry waits meanwhile.
    pub fn is_paused(&self) -> bool {
        self.current().is_some()
    }

    /// Resolves when the pause ends or changes (not at its deadline: the waiter
    /// keeps its own timer).
    pub fn changed(&self) -> PauseChanged<'_> {
        PauseChanged {
            pause: self,
            generation: self.generation.load(Ordering::Acquire),
        }
    }
}

/// The future of [`Pause::changed`].
#[derive(Debug)]
pub struct PauseChanged<'a> {
    pause: &'a Pause,
    generation: u64,
}

impl Future for PauseChanged<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let pause = self.pause;
        if pause.generation.load(Ordering::Acquire) != self.generation {
            return Poll::Ready(());
        }
        let mut s = pause.state.lock();
        if pause.generation.load(Ordering::Acquire) != self.generation {
            return Poll::Ready(());
        }
        if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            s.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_later_end_and_the_stricter_kind() {
        let p = Pause::default();
        assert_eq!(p.current(), None);
        let far = unix_ms() + 60_000;
        p.pause(PauseKind::All, far);
        p.pause(PauseKind::Write, far - 30_000);
        assert_eq!(p.current(), Some((PauseKind::All, far)));
        p.unpause();
        assert!(!p.is_paused());
        p.pause(PauseKind::Write, unix_ms().saturating_sub(1));
        assert_eq!(p.current(), None, "a pause past its end is over");
    }

    #[test]
    fn held_clients_go_in_order() {
        let p = Pause::default();
        let (a, b) = (p.take_ticket(), p.take_ticket());
        assert!(p.is_turn(a));
        assert!(!p.is_turn(b));
        p.release(a);
        assert!(p.is_turn(b));
        p.release(b);
        assert!(p.is_turn(p.take_ticket()));
    }
}
