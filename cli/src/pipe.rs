//! `--pipe`: mass insertion. Raw RESP from stdin is streamed to the server while the
//! replies are counted; a final `ECHO` of a random marker tells when the last reply
//! arrived, as in redis-cli's pipe mode.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use ferrokv_protocol::Frame;

use crate::client::{print_out, Client};
use crate::connection::{encode_command, ReadError};

/// A 20-character marker no real data should echo back.
fn magic() -> Vec<u8> {
    let mut seed = [0u8; 10];
    let from_urandom = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .is_ok();
    if !from_urandom {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        seed.copy_from_slice(&nanos.to_le_bytes()[..10]);
    }
    seed.iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect()
}

/// Streams `input` to the server and waits for every reply; returns the exit status
/// (1 when a reply was an error or the server stopped answering).
pub fn run(client: &mut Client, mut input: impl Read + Send + 'static) -> i32 {
    if !client.connect(false) {
        return 1;
    }
    let timeout = client.options().pipe_timeout;
    let Some(mut conn) = client.take_connection() else {
        return 1;
    };
    let mut writer = match conn.writer() {
        Ok(w) => w,
        Err(err) => {
            eprintln!("Error: {err}");
            return 1;
        }
    };
    let marker = magic();
    let mut echo = BytesMut::new();
    encode_command(&[&b"ECHO"[..], &marker], &mut echo);
    let sent_all = Arc::new(AtomicBool::new(false));
    let sent_flag = Arc::clone(&sent_all);
    thread::spawn(move || {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match input.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    eprintln!("Error reading from stdin: {err}");
                    std::process::exit(1);
                }
            };
            if let Err(err) = writer.write_all(&chunk[..n]) {
                eprintln!("Error writing to the server: {err}");
                std::process::exit(1);
            }
        }
        // Printed before the marker goes out, so it always precedes the last reply.
        print_out(b"All data transferred. Waiting for the last reply...\n");
        if let Err(err) = writer.write_all(&echo) {
            eprintln!("Error writing to the server: {err}");
            std::process::exit(1);
        }
        sent_flag.store(true, Ordering::Release);
    });

    // Wake up every so often to check the timeout once everything was sent.
    if let Err(err) = conn.set_read_timeout(Some(Duration::from_millis(200))) {
        eprintln!("Error: {err}");
        return 1;
    }
    let (mut errors, mut replies) = (0u64, 0u64);
    let mut last_read = Instant::now();
    let mut saw_sent = false;
    loop {
        match conn.read_frame() {
            Ok(frame) => {
                last_read = Instant::now();
                match &frame {
                    Frame::Error(msg) => {
                        eprintln!("{}", String::from_utf8_lossy(msg));
                        errors += 1;
                    }
                    Frame::Bulk(data) if data[..] == marker[..] => {
                        print_out(b"Last reply received from server.\n");
                        break;
                    }
                    _ => {}
                }
                replies += 1;
            }
            Err(ReadError::Io(err))
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if !saw_sent && sent_all.load(Ordering::Acquire) {
                    saw_sent = true;
                    last_read = last_read.max(Instant::now());
                }
                if saw_sent && timeout > 0 && last_read.elapsed() > Duration::from_secs(timeout) {
                    eprintln!("No replies for {timeout} seconds: exiting.");
                    errors += 1;
                    break;
                }
            }
            Err(err) => {
                eprintln!("Error reading replies from server: {err}");
                return 1;
            }
        }
    }
    print_out(format!("errors: {errors}, replies: {replies}\n").as_bytes());
    i32::from(errors > 0)
}
