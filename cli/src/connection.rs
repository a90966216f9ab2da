//! A blocking connection to the server: commands go out as RESP multibulk requests,
//! replies come back as decoded [`Frame`]s.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bytes::BytesMut;
use ferrokv_protocol::{encode, Frame, FrameDecoder, ProtocolError, RespVersion};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP host (name or address) and port.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(String),
}

impl fmt::Display for Address {
    /// `host:port` (IPv6 hosts in brackets, as redis-cli's `anetFormatAddr`), or the
    /// socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(path) => f.write_str(path),
        }
    }
}

/// Why a reply could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The server closed the connection.
    Eof,
    /// A socket error.
    Io(io::Error),
    /// The server sent bytes that are not RESP.
    Protocol(ProtocolError),
}

impl fmt::Display for ReadError {
    /// The texts hiredis reports (redis-cli prints them after `Error: `).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Eof => f.write_str("Server closed the connection"),
            ReadError::Io(err) => f.write_str(&io_error_text(err)),
            ReadError::Protocol(err) => f.write_str(err.message()),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        ReadError::Io(err)
    }
}

/// An I/O error as C's `strerror` spells it: without Rust's ` (os error N)` suffix and
/// without the resolver's `failed to lookup address information: ` preamble.
pub fn io_error_text(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    match text.strip_prefix("failed to lookup address information: ") {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
        }
    }

    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }
}

/// A connected client: writes requests, reads one frame at a time.
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
    decoder: FrameDecoder,
}

/// Appends `argv` to `out` as one RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(argv: &[A], out: &mut BytesMut) {
    let frame = Frame::Array(argv.iter().map(|a| Frame::bulk(a.as_ref())).collect());
    encode(&frame, RespVersion::Resp2, out);
}

impl Connection {
    /// Connects to `addr`, trying each address a host name resolves to.
    pub fn connect(addr: &Address) -> io::Result<Connection> {
        let stream = match addr {
            Address::Tcp { host, port } => {
                let mut last = None;
                let mut found = None;
                for sa in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect(sa) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(err) => last = Some(err),
                    }
                }
                let stream = match found {
                    Some(s) => s,
                    None => {
                        return Err(last.unwrap_or_else(|| {
                            io::Error::new(io::ErrorKind::NotFound, "Name or service not known")
                        }))
                    }
                };
                // Commands are written whole; do not wait to coalesce them.
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        };
        Ok(Connection {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            decoder: FrameDecoder::new(),
        })
    }

    /// Sends one command as a multibulk request.
    pub fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<()> {
        let mut out = BytesMut::new();
        encode_command(argv, &mut out);
        self.stream.write_all(&out)
    }

    /// Bounds how long one socket read may block (`None`: for ever); a read that
    /// times out returns an I/O error and keeps what was already received.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    /// A second handle on the socket that writes raw bytes, so one thread can stream
    /// requests while another reads replies (`--pipe`).
    pub fn writer(&self) -> io::Result<RawWriter> {
        Ok(RawWriter(self.stream.try_clone()?))
    }

    /// Reads the next frame, blocking until it is complete.
    pub fn read_frame(&mut self) -> Result<Frame, ReadError> {
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(ReadError::Protocol)?
            {
                return Ok(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = loop {
                match self.stream.read(&mut chunk) {
                    Ok(n) => break n,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(ReadError::Io(err)),
                }
            };
            if n == 0 {
                return Err(ReadError::Eof);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and reads its reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Result<Frame, ReadError> {
        self.send(argv)?;
        self.read_frame()
    }
}

/// The write half of a [`Connection`], from [`Connection::writer`].
pub struct RawWriter(Stream);

impl RawWriter {
    /// Writes all of `data` to the socket.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn encodes_multibulk() {
        let mut out = BytesMut::new();
        encode_command(&[&b"SET"[..], b"k", b"a b\r\n"], &mut out);
        assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n");
    }

    #[test]
    fn address_display() {
        let tcp = Address::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        assert_eq!(tcp.to_string(), "127.0.0.1:6379");
        let v6 = Address::Tcp {
            host: "::1".into(),
            port: 7000,
        };
        assert_eq!(v6.to_string(), "[::1]:7000");
        assert_eq!(Address::Unix("/tmp/s".into()).to_string(), "/tmp/s");
    }

    #[test]
    fn io_error_texts_match_strerror() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(io_error_text(&refused), "Connection refused");
        let custom =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(io_error_text(&custom), "Name or service not known");
    }

    #[test]
    fn refused_connection_reports_connection_refused() {
        // Bind then drop a listener to find a port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind");
        let err = Connection::connect(&Address::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
        .err()
        .expect("nobody listens");
        assert_eq!(io_error_text(&err), "Connection refused");
    }

    #[test]
    fn round_trip_with_a_fake_server() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = thread::spawn(move || {
            let (mut sock, _) = listener.accept().expect("accept");
            let mut req = [0u8; 64];
            let mut got = Vec::new();
            while !got.ends_with(b"$4\r\nPING\r\n") {
                let n = sock.read(&mut req).expect("read");
                got.extend_from_slice(&req[..n]);
            }
            // A reply split over two writes, then a map, then EOF.
            sock.write_all(b"*2\r\n$1\r\na").expect("write");
            sock.flush().expect("flush");
            thread::sleep(std::time::Duration::from_millis(20));
            sock.write_all(b"\r\n:5\r\n%1\r\n+k\r\n#t\r\n")
                .expect("write");
            got
        });
        let mut conn = Connection::connect(&Address::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
        .expect("connect");
        let reply = conn.command(&["PING"]).expect("reply");
        assert_eq!(
            reply,
            Frame::Array(vec![Frame::bulk("a"), Frame::Integer(5)])
        );
        let reply = conn.read_frame().expect("map");
        assert_eq!(
            reply,
            Frame::Map(vec![(Frame::simple("k"), Frame::Boolean(true))])
        );
        let got = server.join().expect("server");
        assert_eq!(got, b"*1\r\n$4\r\nPING\r\n");
        assert!(matches!(conn.read_frame(), Err(ReadError::Eof)));
    }
}
