//! A jump host's forwarding (ProxyJump): a `direct-tcpip` channel of the
//! jump's SSH session, carried to the next session over a socket pair by a
//! thread of its own.
//!
//! libssh2 cannot give a channel to another session as its transport, and a
//! session serialises its calls, so one blocking thread per direction would
//! deadlock: the thread owns the jump's session in non-blocking mode and
//! moves bytes both ways, waiting in `poll` on the pair's end and the jump's
//! own socket. It ends when the next session closes its end (and the jump's
//! session with it, which ends the tunnel that carried that one, if any), or
//! when the far side closes the channel.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ssh2::{BlockDirections, Channel, Session};

/// The most bytes held in either direction before reading more of it.
const BUFFERED: usize = 256 << 10;

/// How long the thread sleeps in `poll` at most: a safety net only, as
/// every wait it needs is on a descriptor.
const POLL_AT_MOST: Duration = Duration::from_millis(500);

/// A jump's session, connected, with the descriptor of its transport (the
/// TCP connection, or the previous tunnel's end), for waiting on.
pub struct JumpSession {
    pub session: Session,
    pub transport: OwnedFd,
}

/// Start forwarding `channel` (of `jump`) to the returned socket, which the
/// next session uses as its connection.
pub fn start(jump: JumpSession, channel: Channel) -> std::io::Result<UnixStream> {
    let (near, far) = UnixStream::pair()?;
    far.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("consfig-jump".into())
        .spawn(move || pump(jump, channel, far))?;
    Ok(near)
}

fn would_block(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock
}

fn pump(jump: JumpSession, mut channel: Channel, local: UnixStream) {
    jump.session.set_blocking(false);
    let mut up = Vec::new(); // from the next session, for the channel
    let mut down = Vec::new(); // from the channel, for the next session
    let mut chunk = vec![0u8; 64 << 10];
    let (mut local_done, mut remote_done) = (false, false);
    loop {
        let mut moved = false;
        if !local_done && up.len() < BUFFERED {
            match (&local).read(&mut chunk) {
                Ok(0) => local_done = true,
                Ok(n) => {
                    up.extend_from_slice(&chunk[..n]);
                    moved = true;
                }
                Err(e) if would_block(&e) || e.kind() == ErrorKind::Interrupted => {}
                Err(_) => local_done = true,
            }
        }
        while !up.is_empty() {
            match channel.write(&up) {
                Ok(0) => break,
                Ok(n) => {
                    up.drain(..n);
                    moved = true;
                }
                Err(e) if would_block(&e) => break,
                Err(_) => return,
            }
        }
        // The next session is gone and all it said has been passed on: the
        // tunnel has done its work (its session said goodbye, if it could).
        if local_done && up.is_empty() {
            break;
        }
        // Read the channel last: a write may have taken in packets, and the
        // wait below must not sleep on data libssh2 already holds.
        if !remote_done && down.len() < BUFFERED {
            match channel.read(&mut chunk) {
                Ok(0) if channel.eof() => remote_done = true,
                Ok(0) => {}
                Ok(n) => {
                    down.extend_from_slice(&chunk[..n]);
                    moved = true;
                }
                Err(e) if would_block(&e) => {}
                Err(_) => remote_done = true,
            }
        }
        while !down.is_empty() {
            match (&local).write(&down) {
                Ok(n) => {
                    down.drain(..n);
                    moved = true;
                }
                Err(e) if would_block(&e) || e.kind() == ErrorKind::Interrupted => break,
                Err(_) => return,
            }
        }
        if remote_done && down.is_empty() {
            // The far side closed: so does the next session's connection.
            let _ = local.shutdown(std::net::Shutdown::Both);
            break;
        }
        if moved {
            continue;
        }
        let mut local_events = PollFlags::empty();
        if !local_done && up.len() < BUFFERED {
            local_events |= PollFlags::POLLIN;
        }
        if !down.is_empty() {
            local_events |= PollFlags::POLLOUT;
        }
        let jump_events = match jump.session.block_directions() {
            BlockDirections::Outbound | BlockDirections::Both => {
                PollFlags::POLLIN | PollFlags::POLLOUT
            }
            _ => PollFlags::POLLIN,
        };
        let mut fds = [
            PollFd::new(local.as_fd(), local_events),
            PollFd::new(jump.transport.as_fd(), jump_events),
        ];
        let timeout = PollTimeout::try_from(POLL_AT_MOST).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(_) => return,
        }
    }
    // Close the channel politely, bounded: the jump's session ends with this thread.
    jump.session.set_blocking(true);
    jump.session.set_timeout(5_000);
    let _ = channel.send_eof();
    let _ = channel.close();
    let _ = jump
        .session
        .disconnect(None, "consfig: the tunnel's work is done", None);
}
