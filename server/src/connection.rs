//! One client connection: read, decode every complete request, execute, encode the
//! replies into one buffer, write it once. A client with subscriptions also drains
//! its pub/sub queue (filled by publishers on other connections) into the socket.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferrokv_core::blocking::Waiter;
use ferrokv_core::clients::ClientHandle;
use ferrokv_core::command::CmdError;
use ferrokv_core::pubsub::{self, OutputClass, Subscriber};
use ferrokv_core::stats::Stats;
use ferrokv_core::{Engine, Session};
use ferrokv_protocol::{encode, Frame, RequestDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Read buffer growth step; large bulk arguments grow it further as needed.
const READ_CHUNK: usize = 16 * 1024;

/// Serves one client until it quits, is killed, idles out or sends bad protocol.
pub async fn serve_connection(
    engine: Arc<Engine>,
    mut socket: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
) {
    engine.note_connection();
    let _ = socket.set_nodelay(true);
    let maxclients = engine.config.get_i64("maxclients").max(1) as usize;
    if engine.clients.len() >= maxclients {
        Stats::add(&engine.stats.rejected_connections, 1);
        let _ = socket
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let wake = Arc::new(Notify::new());
    let waker = wake.clone();
    let client = engine.clients.register(
        peer.to_string(),
        local.to_string(),
        Some(Box::new(move || waker.notify_one())),
    );
    let id = client.id;
    let mut connection = Connection::new(engine.clone(), socket, client, wake);
    let result = connection.run().await;
    connection.leave();
    if let Err(e) = result {
        // Resets and broken pipes are ordinary client departures.
        if !matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ) {
            eprintln!("client {id}: {e}");
        }
    }
    engine.clients.unregister(id);
}

/// What the connection does after running the requests it has.
enum Next {
    /// Read more input.
    Read,
    /// Close after writing the replies.
    Close,
    /// A command blocked: wait for this waiter's reply, then go on with the input.
    Blocked(Arc<Waiter>),
    /// Clients are paused: wait until this Unix ms (or `CLIENT UNPAUSE`), then run
    /// the held request and go on with the input.
    Paused(u64),
}

/// `Next::Paused` value meaning "wait for the clients held before this one".
const TURN_POLL: u64 = u64::MAX;

/// Input a blocked client may pile up before it is disconnected (Redis'
/// `client-query-buffer-limit` default, 1 GB).
const MAX_BLOCKED_INPUT: usize = 1 << 30;

/// Pub/sub bytes moved from the queue into the output per write while the client
/// is only receiving messages: the queue shares each message with every receiver,
/// the output is this connection's own copy, so it is filled in bounded steps.
const DRAIN_CHUNK: usize = 64 * 1024;

struct Connection {
    engine: Arc<Engine>,
    socket: TcpStream,
    session: Session,
    wake: Arc<Notify>,
    input: BytesMut,
    output: BytesMut,
    decoder: RequestDecoder,
    /// Pub/sub bytes in `output`: still counted against the client's output
    /// buffer limit until written.
    pubsub_in_output: usize,
    /// Since when the output has exceeded the `normal` class soft limit.
    soft_limit_since: Option<std::time::Instant>,
    /// A decoded request held back by `CLIENT PAUSE`, run first once it may.
    held: Option<Vec<bytes::Bytes>>,
    /// This client's place among the held ones (see `ferrokv_core::pause`).
    ticket: Option<u64>,
    /// A ticket whose held request ran, released after the current batch.
    finished_ticket: Option<u64>,
}

impl Connection {
    fn new(
        engine: Arc<Engine>,
        socket: TcpStream,
        client: Arc<ClientHandle>,
        wake: Arc<Notify>,
    ) -> Connection {
        let max_bulk = engine.config.get_i64("proto-max-bulk-len").max(1) as u64;
        Connection {
            session: Session::new(client),
            engine,
            socket,
            wake,
            input: BytesMut::with_capacity(READ_CHUNK),
            output: BytesMut::with_capacity(READ_CHUNK),
            decoder: RequestDecoder::new(max_bulk),
            pubsub_in_output: 0,
            soft_limit_since: None,
            held: None,
            ticket: None,
            finished_ticket: None,
        }
    }

    /// The client's push queue (pub/sub messages, invalidations), if it has one.
    fn queue(&self) -> Option<Arc<Subscriber>> {
        self.session.client.queue()
    }

    /// Drops the client's subscriptions and tracking once the connection is over.
    fn leave(&mut self) {
        for ticket in [self.ticket.take(), self.finished_ticket.take()]
            .into_iter()
            .flatten()
        {
            self.engine.pause.release(ticket);
        }
        self.engine.tracking.disable(&self.session.client);
        if let Some(sub) = self.session.pubsub.subscriber() {
            if sub.closed_by_limit() {
                let limits = self.engine.pubsub.limits(OutputClass::PubSub);
                eprintln!(
                    "Client id={} addr={} closed for overcoming of output buffer limits (pubsub {} {} {}).",
                    self.session.client.id,
                    self.session.client.addr,
                    limits.hard,
                    limits.soft,
                    limits.soft_seconds
                );
            }
        }
        self.engine.pubsub.unsubscribe_all(&mut self.session.pubsub);
    }

    async fn run(&mut self) -> std::io::Result<()> {
        loop {
            if self.session.client.is_killed() {
                return Ok(());
            }
            if !self.read_more().await? {
                return Ok(());
            }
            // Commands run on the async worker. A backend that may wait for the disk
            // steps off it itself, only when it must (the disk backend reads memtables
            // and block cache first and calls `block_in_place` for an actual file
            // read): doing that for every batch here cost the disk backend about 40%
            // of its throughput.
            //
            // The batch is one group for the backend, which may commit its writes
            // together (one write-ahead log record for a pipeline): the replies go
            // out only after the group committed.
            loop {
                let engine = self.engine.clone();
                let mut next = Next::Read;
                let grouped = engine.backend().group(&mut || next = self.process_input());
                if let Some(ticket) = self.finished_ticket.take() {
                    engine.pause.release(ticket);
                }
                if let Err(e) = grouped {
                    // Writes of the batch were lost: none of its replies may be sent.
                    let reply = Frame::from(CmdError::from(e));
                    self.output.clear();
                    encode(&reply, self.session.resp, &mut self.output);
                    next = Next::Close;
                }
                if !self.within_normal_limits() {
                    return Ok(());
                }
                let position = std::mem::take(&mut self.session.propagation.position);
                if position > 0 {
                    self.durable(position).await;
                }
                if !self.flush().await? {
                    return Ok(());
                }
                match next {
                    Next::Read => break,
                    Next::Close => return Ok(()),
                    Next::Blocked(waiter) => {
                        if !self.wait_blocked(waiter).await? {
                            return Ok(());
                        }
                        // Requests that arrived meanwhile are still in the input.
                    }
                    Next::Paused(until) => {
                        if !self.wait_paused(until).await? {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Waits for a blocked command's reply: served by a writer, timed out, or ended
    /// by `CLIENT UNBLOCK`. Keeps reading the socket (Redis buffers what a blocked
    /// client sends) so that a disconnect is noticed; false if the client is gone.
    async fn wait_blocked(&mut self, waiter: Arc<Waiter>) -> std::io::Result<bool> {
        let engine = self.engine.clone();
        let blocking = &engine.blocking;
        let deadline = waiter.deadline.map(|at| {
            let now = ferrokv_core::clients::unix_ms();
            tokio::time::Instant::now() + Duration::from_millis(at.saturating_sub(now))
        });
        let mut reply = std::pin::pin!(waiter.wait());
        let mut timed_out = false;
        let frame = loop {
            let sub = self.queue();
            let timer = async {
                match deadline {
                    Some(at) if !timed_out => tokio::time::sleep_until(at).await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = &mut reply => break frame,
                _ = timer => {
                    timed_out = true;
                    // If a writer already claimed it, its reply is on the way.
                    blocking.cancel(&waiter, waiter.timeout_reply.clone());
                }
                read = self.socket.read_buf(&mut self.input) => {
                    let n = match read {
                        Ok(n) => n,
                        Err(e) => {
                            blocking.forget(&waiter);
                            return Err(e);
                        }
                    };
                    if n == 0 || self.input.len() > MAX_BLOCKED_INPUT {
                        blocking.forget(&waiter);
                        return Ok(false);
                    }
                    Stats::add(&self.engine.stats.net_input_bytes, n as u64);
                }
                _ = self.wake.notified() => {
                    if self.session.client.is_killed() {
                        blocking.forget(&waiter);
                        return Ok(false);
                    }
                }
                // A RESP3 subscriber keeps receiving messages while blocked.
                n = drain_messages(sub.as_deref(), &mut self.output) => {
                    self.pubsub_in_output += n;
                    if !self.flush().await? {
                        blocking.forget(&waiter);
                        return Ok(false);
                    }
                }
            }
        };
        self.drain_all_messages();
        if self.engine.propagation.active() {
            // The writer that served us propagated our pop: wait until it is durable.
            self.durable(u64::MAX).await;
        }
        // `CLIENT REPLY off|skip` applies to the reply of a blocked command too.
        if !self.session.suppress_reply {
            encode(&frame, self.session.resp, &mut self.output);
        }
        Ok(self.flush().await? && !self.session.client.is_killed())
    }

    /// Holds the replies until the propagated writes up to `position` are as durable
    /// as `appendfsync` asks (fsynced under `always`, written under the others).
    async fn durable(&self, position: u64) {
        let wait = self
            .engine
            .propagation
            .control()
            .and_then(|aof| aof.durable(position));
        if let Some(wait) = wait {
            wait.await;
        }
    }

    /// Waits while clients are paused: until `until` (Unix ms) or until the pause
    /// changes, reading (and keeping) what the client sends meanwhile so that a
    /// disconnect is noticed. False if the client is gone.
    async fn wait_paused(&mut self, until: u64) -> std::io::Result<bool> {
        let engine = self.engine.clone();
        let wait = if until == TURN_POLL {
            // Waiting for earlier held clients: they release their turn with a
            // wake-up; the short timer only covers a release that came before
            // this wait began.
            Duration::from_millis(5)
        } else {
            Duration::from_millis(until.saturating_sub(ferrokv_core::clients::unix_ms()))
        };
        let deadline = tokio::time::Instant::now() + wait.min(Duration::from_secs(86_400));
        let changed = engine.pause.changed();
        tokio::pin!(changed);
        // Shown as blocked (`flags=b`) meanwhile, as Redis' postponed clients.
        let client = self.session.client.clone();
        client.blocked.store(true, Ordering::Relaxed);
        let result = self.wait_paused_for(deadline, changed.as_mut()).await;
        client.blocked.store(false, Ordering::Relaxed);
        result
    }

    async fn wait_paused_for(
        &mut self,
        deadline: tokio::time::Instant,
        mut changed: std::pin::Pin<&mut ferrokv_core::pause::PauseChanged<'_>>,
    ) -> std::io::Result<bool> {
        loop {
            let sub = self.queue();
            tokio::select! {
                _ = &mut changed => return Ok(true),
                _ = tokio::time::sleep_until(deadline) => return Ok(true),
                // Pushes (messages, invalidations) still go out meanwhile.
                n = drain_messages(sub.as_deref(), &mut self.output) => {
                    self.pubsub_in_output += n;
                    if !self.flush().await? {
                        return Ok(false);
                    }
                }
                read = self.socket.read_buf(&mut self.input) => {
                    let n = read?;
                    if n == 0 || self.input.len() > MAX_BLOCKED_INPUT {
                        return Ok(false);
                    }
                    Stats::add(&self.engine.stats.net_input_bytes, n as u64);
                }
                _ = self.wake.notified() => {
                    if self.session.client.is_killed() {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Waits for bytes; false when the peer closed, was killed or idled out.
    async fn read_more(&mut self) -> std::io::Result<bool> {
        if self.input.capacity() - self.input.len() < READ_CHUNK / 4 {
            self.input.reserve(READ_CHUNK);
        }
        // Idle clients are closed by the server's client cron (see `lib.rs`), which
        // kills them through `wake`; no per-read timer is needed. The push queue is
        // looked up again after every wake: another client may create it (an
        // invalidation redirected here).
        loop {
            let sub = self.queue();
            tokio::select! {
                read = self.socket.read_buf(&mut self.input) => {
                    let n = read?;
                    Stats::add(&self.engine.stats.net_input_bytes, n as u64);
                    self.session.client.touch(ferrokv_core::clients::unix_ms());
                    return Ok(n > 0);
                }
                _ = self.wake.notified() => {
                    if self.session.client.is_killed() {
                        return Ok(false);
                    }
                }
                n = drain_messages(sub.as_deref(), &mut self.output) => {
                    self.pubsub_in_output += n;
                    if n < DRAIN_CHUNK {
                        // Let the publishers that are running go on first, and send
                        // what they added with this write: one write per burst
                        // instead of one per message, as Redis writes once per
                        // event loop round.
                        tokio::task::yield_now().await;
                        if let Some(sub) = &sub {
                            self.pubsub_in_output +=
                                sub.drain(&mut self.output, DRAIN_CHUNK.saturating_sub(n));
                        }
                    }
                    if !self.flush().await? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Moves every queued pub/sub frame into the output, so that messages
    /// published before a reply was made go out before it.
    fn drain_all_messages(&mut self) {
        if let Some(sub) = self.queue() {
            self.pubsub_in_output += sub.drain(&mut self.output, usize::MAX);
        }
    }

    /// Moves the queued frames that precede the reply of the command just run into
    /// the output: up to the position the engine marked inside the command's scope
    /// for a tracking client (later invalidations follow the reply), else all.
    fn drain_before_reply(&mut self) {
        let mark = self.session.push_mark.take();
        if let Some(sub) = self.queue() {
            self.pubsub_in_output += match mark {
                Some(mark) => sub.drain_until(&mut self.output, mark),
                None => sub.drain(&mut self.output, usize::MAX),
            };
        }
    }

    /// Applies the `normal` class of `client-output-buffer-limit` to the replies of
    /// a batch (the `pubsub` class is enforced by publishers on the queue); false
    /// when the client must be closed, its replies unsent.
    fn within_normal_limits(&mut self) -> bool {
        if self.session.pubsub.is_active() {
            return true;
        }
        let limits = self.engine.pubsub.limits(OutputClass::Normal);
        if limits.hard == 0 && limits.soft == 0 {
            return true;
        }
        let used = self.output.len() as u64;
        if limits.exceeded(used, &mut self.soft_limit_since) {
            eprintln!(
                "Client id={} addr={} closed for overcoming of output buffer limits (normal).",
                self.session.client.id, self.session.client.addr
            );
            self.output.clear();
            return false;
        }
        true
    }

    /// Executes every complete request in the input, up to one that blocks or is
    /// held by `CLIENT PAUSE`.
    fn process_input(&mut self) -> Next {
        loop {
            let argv = match self.held.take() {
                Some(argv) => argv,
                None => match self.decoder.decode(&mut self.input) {
                    Ok(Some(argv)) => argv,
                    Ok(None) => {
                        self.session
                            .client
                            .query_buffer
                            .store(self.input.len(), Ordering::Relaxed);
                        return Next::Read;
                    }
                    Err(e) => {
                        let message = e.message().to_string();
                        self.engine
                            .note_error_reply(format!("ERR {message}").as_bytes());
                        self.output.extend_from_slice(b"-ERR ");
                        self.output.extend_from_slice(e.message().as_bytes());
                        self.output.extend_from_slice(b"\r\n");
                        return Next::Close;
                    }
                },
            };
            let pause = &self.engine.pause;
            if let Some(until) = self.engine.must_pause(&self.session, &argv) {
                self.ticket.get_or_insert_with(|| pause.take_ticket());
                self.held = Some(argv);
                return Next::Paused(until);
            }
            if let Some(ticket) = self.ticket {
                if !pause.is_turn(ticket) {
                    // Clients held earlier run their requests first.
                    self.held = Some(argv);
                    return Next::Paused(TURN_POLL);
                }
                // Its turn is over once the requests it already sent have run
                // (see `run`), as Redis runs a resumed client's whole buffer.
                self.ticket = None;
                self.finished_ticket = Some(ticket);
            }
            if let Some(next) = self.run_request(&argv) {
                return next;
            }
        }
    }

    /// Runs one request and queues its reply (with the pushes due before it);
    /// `Some` when the connection must stop processing input.
    fn run_request(&mut self, argv: &[bytes::Bytes]) -> Option<Next> {
        let reply = self.engine.execute(&mut self.session, argv);
        if let Some(waiter) = self.session.blocked.take() {
            return Some(Next::Blocked(waiter));
        }
        let closing = |s: &Self| s.session.close_after_reply || s.session.client.is_killed();
        if self.queue().is_some() {
            self.drain_before_reply();
            // The confirmations were queued (and just drained) in order with the
            // messages: the nominal reply is not sent again.
            if !reply.is_error() && pubsub::is_subscription_command(&argv[0]) {
                return closing(self).then_some(Next::Close);
            }
        }
        if !self.session.suppress_reply {
            encode(&reply, self.session.resp, &mut self.output);
        }
        closing(self).then_some(Next::Close)
    }

    /// Writes the output; false if the client was killed meanwhile (a client that
    /// stopped reading must not hold its connection open through a stuck write).
    async fn flush(&mut self) -> std::io::Result<bool> {
        if self.output.is_empty() {
            return Ok(true);
        }
        Stats::add(
            &self.engine.stats.net_output_bytes,
            self.output.len() as u64,
        );
        let client = self.session.client.clone();
        client
            .output_buffer
            .store(self.output.len(), Ordering::Relaxed);
        let mut written = 0;
        while written < self.output.len() {
            tokio::select! {
                // The write first: it usually completes at once, and the kill check
                // then costs nothing.
                biased;
                n = self.socket.write(&self.output[written..]) => {
                    let n = n?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::WriteZero.into());
                    }
                    written += n;
                    client
                        .output_buffer
                        .store(self.output.len() - written, Ordering::Relaxed);
                }
                _ = self.wake.notified() => {
                    if client.is_killed() {
                        return Ok(false);
                    }
                }
            }
        }
        self.output.clear();
        if self.pubsub_in_output > 0 {
            if let Some(sub) = self.queue() {
                sub.written(self.pubsub_in_output);
            }
            self.pubsub_in_output = 0;
        }
        if self.output.capacity() > 4 * 1024 * 1024 {
            // Do not keep a huge reply buffer around for an idle client.
            self.output = BytesMut::with_capacity(READ_CHUNK);
        }
        Ok(true)
    }
}

/// Resolves with the number of bytes moved from the client's pub/sub queue into
/// `output` once there are any; never, for a client without subscriptions.
async fn drain_messages(sub: Option<&Subscriber>, output: &mut BytesMut) -> usize {
    match sub {
        Some(sub) => std::future::poll_fn(|cx| sub.poll_drain(cx, output, DRAIN_CHUNK)).await,
        None => std::future::pending().await,
    }
}
