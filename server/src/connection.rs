//! One client connection: read, decode every complete request, execute, encode the
//! replies into one buffer, write it once.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferrokv_core::blocking::Waiter;
use ferrokv_core::clients::ClientHandle;
use ferrokv_core::command::CmdError;
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
    let result = Connection::new(engine.clone(), socket, client, wake)
        .run()
        .await;
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
}

/// Input a blocked client may pile up before it is disconnected (Redis'
/// `client-query-buffer-limit` default, 1 GB).
const MAX_BLOCKED_INPUT: usize = 1 << 30;

struct Connection {
    engine: Arc<Engine>,
    socket: TcpStream,
    session: Session,
    wake: Arc<Notify>,
    input: BytesMut,
    output: BytesMut,
    decoder: RequestDecoder,
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
        }
    }

    async fn run(mut self) -> std::io::Result<()> {
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
                if let Err(e) = grouped {
                    // Writes of the batch were lost: none of its replies may be sent.
                    let reply = Frame::from(CmdError::from(e));
                    self.output.clear();
                    encode(&reply, self.session.resp, &mut self.output);
                    next = Next::Close;
                }
                self.flush().await?;
                match next {
                    Next::Read => break,
                    Next::Close => return Ok(()),
                    Next::Blocked(waiter) => {
                        if !self.wait_blocked(waiter).await? {
                            return Ok(());
                        }
                        // Requests that arrived meanwhile are still in the input.
                    }
                }
            }
        }
    }

    /// Waits for a blocked command's reply: served by a writer, timed out, or ended
    /// by `CLIENT UNBLOCK`. Keeps reading the socket (Redis buffers what a blocked
    /// client sends) so that a disconnect is noticed; false if the client is gone.
    async fn wait_blocked(&mut self, waiter: Arc<Waiter>) -> std::io::Result<bool> {
        let blocking = &self.engine.blocking;
        let deadline = waiter.deadline.map(|at| {
            let now = ferrokv_core::clients::unix_ms();
            tokio::time::Instant::now() + Duration::from_millis(at.saturating_sub(now))
        });
        let mut reply = std::pin::pin!(waiter.wait());
        let mut timed_out = false;
        let frame = loop {
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
            }
        };
        encode(&frame, self.session.resp, &mut self.output);
        self.flush().await?;
        Ok(!self.session.client.is_killed())
    }

    /// Waits for bytes; false when the peer closed, was killed or idled out.
    async fn read_more(&mut self) -> std::io::Result<bool> {
        if self.input.capacity() - self.input.len() < READ_CHUNK / 4 {
            self.input.reserve(READ_CHUNK);
        }
        // Idle clients are closed by the server's client cron (see `lib.rs`), which
        // kills them through `wake`; no per-read timer is needed.
        tokio::select! {
            read = self.socket.read_buf(&mut self.input) => {
                let n = read?;
                Stats::add(&self.engine.stats.net_input_bytes, n as u64);
                self.session.client.touch(ferrokv_core::clients::unix_ms());
                Ok(n > 0)
            }
            _ = self.wake.notified() => Ok(!self.session.client.is_killed()),
        }
    }

    /// Executes every complete request in the input, up to one that blocks.
    fn process_input(&mut self) -> Next {
        loop {
            match self.decoder.decode(&mut self.input) {
                Ok(Some(argv)) => {
                    let reply = self.engine.execute(&mut self.session, &argv);
                    if let Some(waiter) = self.session.blocked.take() {
                        return Next::Blocked(waiter);
                    }
                    encode(&reply, self.session.resp, &mut self.output);
                    if self.session.close_after_reply || self.session.client.is_killed() {
                        return Next::Close;
                    }
                }
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
            }
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        Stats::add(
            &self.engine.stats.net_output_bytes,
            self.output.len() as u64,
        );
        self.socket.write_all(&self.output).await?;
        self.output.clear();
        if self.output.capacity() > 4 * 1024 * 1024 {
            // Do not keep a huge reply buffer around for an idle client.
            self.output = BytesMut::with_capacity(READ_CHUNK);
        }
        Ok(())
    }
}
