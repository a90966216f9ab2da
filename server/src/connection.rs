//! One client connection: read, decode every complete request, execute, encode the
//! replies into one buffer, write it once.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
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
            let engine = self.engine.clone();
            let mut keep_going = true;
            let grouped = engine
                .backend()
                .group(&mut || keep_going = self.process_input());
            if let Err(e) = grouped {
                // Writes of the batch were lost: none of its replies may be sent.
                let reply = Frame::from(CmdError::from(e));
                self.output.clear();
                encode(&reply, self.session.resp, &mut self.output);
                keep_going = false;
            }
            self.flush().await?;
            if !keep_going {
                return Ok(());
            }
        }
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

    /// Executes every complete request in the input; false when the connection must
    /// close after the replies are written.
    fn process_input(&mut self) -> bool {
        loop {
            match self.decoder.decode(&mut self.input) {
                Ok(Some(argv)) => {
                    let reply = self.engine.execute(&mut self.session, &argv);
                    encode(&reply, self.session.resp, &mut self.output);
                    if self.session.close_after_reply || self.session.client.is_killed() {
                        return false;
                    }
                }
                Ok(None) => {
                    self.session
                        .client
                        .query_buffer
                        .store(self.input.len(), Ordering::Relaxed);
                    return true;
                }
                Err(e) => {
                    let message = e.message().to_string();
                    self.engine
                        .note_error_reply(format!("ERR {message}").as_bytes());
                    self.output.extend_from_slice(b"-ERR ");
                    self.output.extend_from_slice(e.message().as_bytes());
                    self.output.extend_from_slice(b"\r\n");
                    return false;
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
