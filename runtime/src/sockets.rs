//! WasmEdge's socket extension of `wasi_snapshot_preview1` (REFERENCE.md, "Serving HTTP from
//! wasm32-wasip1 on WasmEdge"), so a module that serves on WasmEdge serves here unchanged.
//!
//! The guest's listener is the one `serve` bound before starting its workers: each instance's
//! `sock_open` + `sock_bind` + `sock_listen` gets a handle on that shared listener, and the
//! instances accept from it in turn, as gunicorn's pre-forked workers do. Command runs have no
//! listener: `sock_open` answers ENOTSUP.
//!
//! wasmtime-wasi defines `sock_accept`, `sock_recv`, `sock_send` and `sock_shutdown` as stubs,
//! which these shadow; `fd_close` and `fd_fdstat_*` see socket fds here and pass every other
//! fd to wasmtime-wasi's own function.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use wasmtime::{AsContextMut, Caller, Linker, Memory};

use crate::engine::EPOCH_TICK;
use crate::run::HostState;

const MODULE: &str = "wasi_snapshot_preview1";
/// Socket fds start here, far above what wasmtime-wasi hands out for files.
const FIRST_SOCKET_FD: u32 = 1 << 24;
/// Largest read or write passed through at once.
const CHUNK: usize = 64 << 10;

mod errno {
    pub const SUCCESS: i32 = 0;
    pub const AGAIN: i32 = 6;
    pub const BADF: i32 = 8;
    pub const CONNRESET: i32 = 15;
    pub const FAULT: i32 = 21;
    pub const INVAL: i32 = 28;
    pub const IO: i32 = 29;
    pub const NOSYS: i32 = 52;
    pub const NOTCONN: i32 = 53;
    pub const NOTSOCK: i32 = 57;
    pub const NOTSUP: i32 = 58;
    pub const PIPE: i32 = 64;
}

/// The listener `serve` shares among its instances, and what they report back.
#[derive(Debug)]
pub struct Listening {
    listener: TcpListener,
    stop: AtomicBool,
    io_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    /// Instances blocked in `sock_accept`: ready for a connection.
    waiting: AtomicUsize,
    accepted: AtomicU64,
    /// Instances ended while idle to give their memory back (see [`Recycle`]).
    recycled: AtomicU64,
    /// Connections accepted from the kernel that have sent nothing yet. With host deadlines
    /// on, an instance gets a connection only once it has bytes to read, so idle connections
    /// cannot hold the instances (each would for a whole I/O timeout); one silent for the I/O
    /// timeout is closed here. On WasmEdge's terms the module accepts directly, as there.
    parked: std::sync::Mutex<Vec<Parked>>,
    /// The instances' linear memory, in bytes, added up.
    linear_memory: std::sync::atomic::AtomicI64,
    /// Signalled when an instance starts waiting for a client, and when serving stops: what
    /// [`Listening::wait_ready`] sleeps on, so "ready" is seen when it happens, not at the
    /// next tick of a poll.
    ready: (std::sync::Mutex<()>, std::sync::Condvar),
    /// When the first instance first waited for a client (and on the machine's clock): taken
    /// there, since a thread woken by the signal may only run after the first answer.
    first_ready: std::sync::OnceLock<(std::time::Instant, f64)>,
}

struct Parked {
    stream: TcpStream,
    since: std::time::Instant,
}

impl std::fmt::Debug for Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parked")
            .field("since", &self.since)
            .finish()
    }
}

/// Raised (as a trap) by `sock_accept` once `serve` is stopping: the instance ends between
/// requests, never in the middle of one.
#[derive(Debug)]
pub struct Stopping;

impl std::fmt::Display for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server is stopping")
    }
}

impl std::error::Error for Stopping {}

/// Raised (as a trap) by `sock_accept` when an instance whose linear memory grew by at least
/// [`RECYCLE_GROWTH`] since it was first ready comes back for a client and none is waiting. A guest's
/// memory never shrinks, so an idle instance would hold its largest request's buffers for
/// good; `serve` puts a fresh instance (the module's initial memory, mapped copy-on-write) in
/// its place, which is ready in milliseconds. Under load a client is always waiting and no
/// instance is recycled.
#[derive(Debug)]
pub struct Recycle;

impl std::fmt::Display for Recycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the instance is idle and is replaced to give its memory back")
    }
}

impl std::error::Error for Recycle {}

/// Growth of an instance's linear memory past which an idle instance is replaced.
pub const RECYCLE_GROWTH: u64 = 1 << 20;

impl Listening {
    pub fn new(
        listener: TcpListener,
        io_timeout: Option<Duration>,
        request_timeout: Option<Duration>,
    ) -> Listening {
        // Accepts poll (below), so a stop is seen within one poll interval.
        let _ = listener.set_nonblocking(true);
        Listening {
            listener,
            stop: AtomicBool::new(false),
            io_timeout,
            request_timeout,
            waiting: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            recycled: AtomicU64::new(0),
            parked: std::sync::Mutex::new(Vec::new()),
            linear_memory: std::sync::atomic::AtomicI64::new(0),
            ready: Default::default(),
            first_ready: std::sync::OnceLock::new(),
        }
    }

    /// When an instance was first ready, and the same on the machine's clock (milliseconds
    /// since the Unix epoch).
    pub fn first_ready(&self) -> Option<(std::time::Instant, f64)> {
        self.first_ready.get().copied()
    }

    /// Waits until an instance waits for a client (true), serving stops, or `limit` passes.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let (lock, signal) = &self.ready;
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.waiting() > 0 || self.first_ready.get().is_some() {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if self.stopping() || left.is_zero() {
                return false;
            }
            // Bounded, so a signal missed for any reason costs at most this long.
            guard = signal
                .wait_timeout(guard, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Whether a client is waiting to be accepted: a parked connection, or one in the
    /// listener's queue.
    fn client_waiting(&self) -> bool {
        use std::os::fd::AsRawFd;
        if !self
            .parked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            return true;
        }
        let mut fd = libc::pollfd {
            fd: self.listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a zero timeout.
        unsafe { libc::poll(&mut fd, 1, 0) > 0 }
    }

    /// Wakes [`Listening::wait_ready`]. Taking the lock orders this after a waiter's check.
    fn signal_ready(&self) {
        let (lock, signal) = &self.ready;
        drop(lock.lock().unwrap_or_else(|p| p.into_inner()));
        signal.notify_all();
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn recycled(&self) -> u64 {
        self.recycled.load(Ordering::SeqCst)
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The running instances' linear memory, in bytes.
    pub fn linear_memory_bytes(&self) -> u64 {
        self.linear_memory.load(Ordering::Relaxed).max(0) as u64
    }

    pub(crate) fn count_linear_memory(&self, delta: i64) {
        self.linear_memory.fetch_add(delta, Ordering::Relaxed);
    }

    /// Stops accepting: each instance ends at its next accept once no client is waiting, so
    /// requests in flight and clients already queued are answered first.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.signal_ready();
    }
}

enum Socket {
    /// Opened, not yet bound to the shared listener.
    Opened,
    Listener,
    Stream(TcpStream),
}

/// One instance's sockets.
#[derive(Default)]
pub(crate) struct Sockets {
    listening: Option<Arc<Listening>>,
    /// End the instance when it waits for a client with its memory grown and nobody
    /// waiting (the embedded host, which replaces ended instances; WasmEdge does not).
    recycle_idle: bool,
    /// The instance's linear memory when it first waited for a client: what it holds ready.
    ready_memory: Option<u64>,
    table: HashMap<u32, Socket>,
    next_fd: u32,
}

impl Sockets {
    pub(crate) fn new(listening: Option<Arc<Listening>>, recycle_idle: bool) -> Sockets {
        Sockets {
            listening,
            recycle_idle,
            next_fd: FIRST_SOCKET_FD,
            ..Sockets::default()
        }
    }

    /// Answers the connections the guest left open when it ended (a trap, the request
    /// timeout): 504 when it ran out of time, 500 otherwise, so no client is cut off.
    pub(crate) fn answer_abandoned(&mut self, ending: &crate::run::Ending) {
        let (status, reason, why) = match ending {
            crate::run::Ending::Stopped
            | crate::run::Ending::Recycled
            | crate::run::Ending::Exited { code: 0 } => return,
            crate::run::Ending::TimedOut { .. } => (
                504,
                "Gateway Timeout",
                "the request took longer than the server's request timeout".to_string(),
            ),
            other => (
                500,
                "Internal Server Error",
                other
                    .explain()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .replace('"', "'"),
            ),
        };
        let body = format!("{{\"error\":\"the migrated service failed to answer: {why}\"}}");
        for socket in self.table.values_mut() {
            if let Socket::Stream(stream) = socket {
                let answer = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        self.table.clear();
    }

    fn insert(&mut self, socket: Socket) -> u32 {
        let fd = self.next_fd;
        self.next_fd += 1;
        self.table.insert(fd, socket);
        fd
    }

    fn stream(&mut self, fd: u32) -> Result<&mut TcpStream, i32> {
        match self.table.get_mut(&fd) {
            Some(Socket::Stream(s)) => Ok(s),
            Some(_) => Err(errno::NOTCONN),
            None => Err(errno::BADF),
        }
    }
}

fn io_errno(e: &std::io::Error) -> i32 {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted => errno::AGAIN,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => errno::CONNRESET,
        ErrorKind::BrokenPipe => errno::PIPE,
        ErrorKind::NotConnected => errno::NOTCONN,
        _ => errno::IO,
    }
}

fn memory(caller: &mut Caller<'_, HostState>) -> Result<Memory, i32> {
    caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or(errno::FAULT)
}

fn read_u32(caller: &mut Caller<'_, HostState>, at: i32) -> Result<u32, i32> {
    let memory = memory(caller)?;
    let mut bytes = [0u8; 4];
    memory
        .read(&*caller, at as u32 as usize, &mut bytes)
        .map_err(|_| errno::FAULT)?;
    Ok(u32::from_le_bytes(bytes))
}

fn write_bytes(caller: &mut Caller<'_, HostState>, at: u32, bytes: &[u8]) -> Result<(), i32> {
    let memory = memory(caller)?;
    memory
        .write(caller, at as usize, bytes)
        .map_err(|_| errno::FAULT)
}

fn write_u32(caller: &mut Caller<'_, HostState>, at: i32, value: u32) -> Result<(), i32> {
    write_bytes(caller, at as u32, &value.to_le_bytes())
}

/// `(buf, len)` pairs of an iovec array.
fn iovecs(caller: &mut Caller<'_, HostState>, at: i32, count: i32) -> Result<Vec<(u32, u32)>, i32> {
    (0..count.max(0) as u32)
        .map(|i| {
            let base = at as u32 + 8 * i;
            Ok((
                read_u32(caller, base as i32)?,
                read_u32(caller, (base + 4) as i32)?,
            ))
        })
        .collect()
}

fn result(r: Result<(), i32>) -> wasmtime::Result<i32> {
    Ok(r.err().unwrap_or(errno::SUCCESS))
}

/// The functions, shadowing wasmtime-wasi's.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(MODULE, "sock_open", sock_open)?;
    linker.func_wrap(
        MODULE,
        "sock_bind",
        |mut c: Caller<'_, HostState>, fd: i32, _addr: i32, _port: i32| {
            result(bind_or_listen(&mut c, fd))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "sock_listen",
        |mut c: Caller<'_, HostState>, fd: i32, _backlog: i32| result(bind_or_listen(&mut c, fd)),
    )?;
    linker.func_wrap(MODULE, "sock_accept", sock_accept)?;
    linker.func_wrap(MODULE, "sock_recv", sock_recv)?;
    linker.func_wrap(MODULE, "sock_send", sock_send)?;
    linker.func_wrap(
        MODULE,
        "sock_shutdown",
        |mut c: Caller<'_, HostState>, fd: i32, how: i32| {
            result((|| {
                let stream = c.data_mut().sockets.stream(fd as u32)?;
                let how = match how {
                    1 => Shutdown::Read,
                    2 => Shutdown::Write,
                    _ => Shutdown::Both,
                };
                // Already closed by the peer is not an error for the guest.
                let _ = stream.shutdown(how);
                Ok(())
            })())
        },
    )?;
    linker.func_wrap(MODULE, "sock_setsockopt", sock_setsockopt)?;
    linker.func_wrap(
        MODULE,
        "sock_getsockopt",
        |mut c: Caller<'_, HostState>, _fd: i32, _level: i32, _name: i32, value: i32, _len: i32| {
            result(write_u32(&mut c, value, 0))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "sock_getpeeraddr",
        |mut c: Caller<'_, HostState>, fd: i32, addr: i32, kind: i32, port: i32| {
            result(socket_address(&mut c, fd, addr, kind, port, true))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "sock_getlocaladdr",
        |mut c: Caller<'_, HostState>, fd: i32, addr: i32, kind: i32, port: i32| {
            result(socket_address(&mut c, fd, addr, kind, port, false))
        },
    )?;
    // Outbound connections and name lookup are not something a migrated service needs.
    linker.func_wrap(
        MODULE,
        "sock_connect",
        |_: Caller<'_, HostState>, _: i32, _: i32, _: i32| Ok(errno::NOTSUP),
    )?;
    linker.func_wrap(
        MODULE,
        "sock_getaddrinfo",
        |_: Caller<'_, HostState>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32| Ok(errno::NOSYS),
    )?;
    add_fd_functions(linker)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `fd_close` and `fd_fdstat_*`: socket fds here, every other fd to wasmtime-wasi's own
/// implementation (called directly: a host function called through `Func::call` from another
/// host function has no caller instance, so it could not find the guest's memory).
fn add_fd_functions(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;
    linker.func_wrap(
        MODULE,
        "fd_close",
        |mut c: Caller<'_, HostState>, fd: i32| {
            if c.data_mut().sockets.table.remove(&(fd as u32)).is_some() {
                return Ok(errno::SUCCESS);
            }
            with_wasi(&mut c, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::fd_close(wasi, memory, fd))
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_fdstat_get",
        |mut c: Caller<'_, HostState>, fd: i32, out: i32| {
            if c.data().sockets.table.contains_key(&(fd as u32)) {
                // filetype SOCKET_STREAM (6), no flags, all rights.
                let mut stat = [0u8; 24];
                stat[0] = 6;
                stat[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
                stat[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
                return result(write_bytes(&mut c, out as u32, &stat));
            }
            with_wasi(&mut c, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::fd_fdstat_get(wasi, memory, fd, out))
            })
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_fdstat_set_flags",
        |mut c: Caller<'_, HostState>, fd: i32, flags: i32| {
            if c.data().sockets.table.contains_key(&(fd as u32)) {
                // Blocking sockets only: each instance handles one connection at a time.
                return Ok(if flags & 4 == 0 {
                    errno::SUCCESS
                } else {
                    errno::NOTSUP
                });
            }
            with_wasi(&mut c, |wasi, memory| {
                p1::fd_fdstat_set_flags(wasi, memory, fd, flags)
            })
        },
    )?;
    Ok(())
}

/// Runs one of wasmtime-wasi's preview 1 functions on this store's context and memory.
fn with_wasi(
    c: &mut Caller<'_, HostState>,
    call: impl FnOnce(
        &mut wasmtime_wasi::p1::WasiP1Ctx,
        &mut wiggle::GuestMemory<'_>,
    ) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let Some(memory) = c.get_export("memory").and_then(|e| e.into_memory()) else {
        return Ok(errno::FAULT);
    };
    let (bytes, state) = memory.data_and_store_mut(c);
    let mut guest = wiggle::GuestMemory::Unshared(bytes);
    call(&mut state.wasi, &mut guest)
}

/// WasmEdge's `SOL_SOCKET` level and the option names whose values are a `timeval`.
const SOL_SOCKET: i32 = 0;
const SO_RCVTIMEO: i32 = 11;
const SO_SNDTIMEO: i32 = 12;

/// Read and write deadlines are applied, as WasmEdge applies them (it hands the guest's
/// `timeval` to setsockopt(2)); a guest's deadline can shorten the host's, never lengthen it.
/// Other options (buffer sizes, reuse) are accepted and left to the host.
fn sock_setsockopt(
    mut c: Caller<'_, HostState>,
    fd: i32,
    level: i32,
    name: i32,
    value: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    result((|| {
        let fd = fd as u32;
        if !c.data().sockets.table.contains_key(&fd) {
            return Err(errno::NOTSOCK);
        }
        if level != SOL_SOCKET || !matches!(name, SO_RCVTIMEO | SO_SNDTIMEO) {
            return Ok(());
        }
        let mut bytes = vec![0u8; (len.max(0) as usize).min(16)];
        memory(&mut c)?
            .read(&c, value as u32 as usize, &mut bytes)
            .map_err(|_| errno::FAULT)?;
        let deadline = timeval(&bytes).ok_or(errno::INVAL)?;
        let host = c
            .data()
            .sockets
            .listening
            .as_ref()
            .and_then(|l| l.io_timeout);
        let deadline = match (deadline, host) {
            (Some(guest), Some(host)) => Some(guest.min(host)),
            (guest, host) => guest.or(host),
        };
        let Ok(stream) = c.data_mut().sockets.stream(fd) else {
            // A listener's deadlines would only bound accept, which waits for clients.
            return Ok(());
        };
        let applied = match name {
            SO_RCVTIMEO => stream.set_read_timeout(deadline),
            _ => stream.set_write_timeout(deadline),
        };
        applied.map_err(|e| io_errno(&e))
    })())
}

/// A guest `timeval`: wasi-libc's `{ i64 tv_sec; i64 tv_usec }` (16 bytes), or a 32-bit
/// layout (8 bytes). All zero means no deadline.
fn timeval(bytes: &[u8]) -> Option<Option<Duration>> {
    let (seconds, micros) = match bytes.len() {
        16 => (
            i64::from_le_bytes(bytes[..8].try_into().ok()?),
            i64::from_le_bytes(bytes[8..].try_into().ok()?),
        ),
        8 => (
            i64::from(i32::from_le_bytes(bytes[..4].try_into().ok()?)),
            i64::from(i32::from_le_bytes(bytes[4..].try_into().ok()?)),
        ),
        _ => return None,
    };
    if seconds < 0 || !(0..1_000_000).contains(&micros) {
        return None;
    }
    let duration = Duration::from_secs(seconds as u64) + Duration::from_micros(micros as u64);
    Some((!duration.is_zero()).then_some(duration))
}

fn sock_open(
    mut c: Caller<'_, HostState>,
    family: i32,
    kind: i32,
    out: i32,
) -> wasmtime::Result<i32> {
    // Only TCP (type 2) over IPv4 or IPv6 (1, 2), and only under `serve`.
    if c.data().sockets.listening.is_none() || kind != 2 || !(1..=2).contains(&family) {
        return Ok(errno::NOTSUP);
    }
    let fd = c.data_mut().sockets.insert(Socket::Opened);
    result(write_u32(&mut c, out, fd))
}

fn bind_or_listen(c: &mut Caller<'_, HostState>, fd: i32) -> Result<(), i32> {
    match c.data_mut().sockets.table.get_mut(&(fd as u32)) {
        Some(entry @ (Socket::Opened | Socket::Listener)) => {
            *entry = Socket::Listener;
            Ok(())
        }
        Some(Socket::Stream(_)) => Err(errno::INVAL),
        None => Err(errno::BADF),
    }
}

fn sock_accept(mut c: Caller<'_, HostState>, fd: i32, out: i32) -> wasmtime::Result<i32> {
    let listening = match (
        c.data().sockets.table.get(&(fd as u32)),
        &c.data().sockets.listening,
    ) {
        (Some(Socket::Listener), Some(l)) => l.clone(),
        (Some(_), _) => return Ok(errno::INVAL),
        (None, _) => return Ok(errno::BADF),
    };
    let memory = c.data().limiter.size();
    let ready_memory = *c.data_mut().sockets.ready_memory.get_or_insert(memory);
    let grown = c.data().sockets.recycle_idle
        && memory.saturating_sub(ready_memory) >= RECYCLE_GROWTH
        && !listening.stopping();
    if grown && !listening.client_waiting() {
        listening.recycled.fetch_add(1, Ordering::SeqCst);
        return Err(wasmtime::Error::new(Recycle));
    }
    // Waiting for a client is not the request's time.
    c.as_context_mut().set_epoch_deadline(u64::MAX / 2);
    listening.waiting.fetch_add(1, Ordering::SeqCst);
    // Only the first readiness is waited for: later accepts (every request) skip the lock.
    if listening.first_ready.get().is_none() {
        listening
            .first_ready
            .get_or_init(|| (std::time::Instant::now(), crate::serve::unix_ms()));
        listening.signal_ready();
    }
    // A grown instance that finds no client within a poll interval is idle after all (another
    // instance took the client it saw waiting).
    let accepted = next_client_or_idle(&listening, grown);
    listening.waiting.fetch_sub(1, Ordering::SeqCst);
    let stream = match accepted {
        Ok(Next::Client(stream)) => stream,
        Ok(Next::Stopping) => return Err(wasmtime::Error::new(Stopping)),
        Ok(Next::Idle) => {
            listening.recycled.fetch_add(1, Ordering::SeqCst);
            return Err(wasmtime::Error::new(Recycle));
        }
        Err(e) => return Ok(io_errno(&e)),
    };
    listening.accepted.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_read_timeout(listening.io_timeout);
    let _ = stream.set_write_timeout(listening.io_timeout);
    let _ = stream.set_nodelay(true);
    if let Some(limit) = listening.request_timeout {
        let ticks = (limit.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        c.as_context_mut().set_epoch_deadline(ticks);
    }
    let new_fd = c.data_mut().sockets.insert(Socket::Stream(stream));
    result(write_u32(&mut c, out, new_fd))
}

/// How long an idle instance sleeps in poll(2) before it looks at the stop flag again.
const STOP_POLL: Duration = Duration::from_millis(100);

/// The next client, waiting in poll(2) for one; `None` once the server is stopping and no
/// client is queued. Instances share the (non-blocking) listener: the one that loses a race
/// for a connection polls again. With host deadlines on, only a connection that has sent
/// something (or closed) is handed out: see [`Listening::parked`].
#[cfg(test)]
fn next_client(listening: &Listening) -> std::io::Result<Option<TcpStream>> {
    Ok(match next_client_or_idle(listening, false)? {
        Next::Client(stream) => Some(stream),
        Next::Stopping | Next::Idle => None,
    })
}

/// What an instance waiting in `sock_accept` gets.
enum Next {
    Client(TcpStream),
    /// The server is stopping and no client is queued.
    Stopping,
    /// No client came within a poll interval (only when asked to give up when idle).
    Idle,
}

/// [`next_client`], giving up after one poll interval with no client when `idle_exit`.
fn next_client_or_idle(listening: &Listening, idle_exit: bool) -> std::io::Result<Next> {
    let Some(silence) = listening.io_timeout else {
        return next_connection(listening, idle_exit);
    };
    loop {
        let mut parked = listening.parked.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match listening.listener.accept() {
                Ok((stream, _)) => parked.push(Parked {
                    stream,
                    since: std::time::Instant::now(),
                }),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        // Closing them is the answer to clients that never sent a request.
        parked.retain(|p| p.since.elapsed() < silence);
        let wait = if listening.stopping() {
            0
        } else {
            STOP_POLL.as_millis() as i32
        };
        let ready = readable(&listening.listener, &parked, wait)?;
        if let Some(index) = ready {
            // The oldest ready connection first: `parked` is in arrival order, and taking
            // from the middle must keep it so (a swap_remove let the newest jump the queue,
            // and under steady load the oldest starved until it was closed as silent).
            let stream = parked.remove(index).stream;
            stream.set_nonblocking(false)?;
            return Ok(Next::Client(stream));
        }
        if listening.stopping() {
            // Nothing queued has sent a request: what is parked is dropped with the server.
            parked.clear();
            return Ok(Next::Stopping);
        }
        if idle_exit && parked.is_empty() {
            return Ok(Next::Idle);
        }
    }
}

/// Which parked connection (the first in arrival order) has bytes, or its end, to read,
/// waiting up to `wait_ms` for one or for a new connection on the listener.
fn readable(
    listener: &TcpListener,
    parked: &[Parked],
    wait_ms: libc::c_int,
) -> std::io::Result<Option<usize>> {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = std::iter::once(listener.as_raw_fd())
        .chain(parked.iter().map(|p| p.stream.as_raw_fd()))
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.kind() {
            ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    Ok(fds[1..].iter().position(|fd| fd.revents != 0))
}

/// The next connection as the kernel queued it (WasmEdge's behaviour: no host deadlines).
fn next_connection(listening: &Listening, idle_exit: bool) -> std::io::Result<Next> {
    use std::os::fd::AsRawFd;
    loop {
        match listening.listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(Next::Client(stream));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if listening.stopping() {
            return Ok(Next::Stopping);
        }
        let mut ready = libc::pollfd {
            fd: listening.listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let polled = unsafe { libc::poll(&mut ready, 1, STOP_POLL.as_millis() as libc::c_int) };
        if polled == 0 && idle_exit {
            return Ok(Next::Idle);
        }
    }
}

fn sock_recv(
    mut c: Caller<'_, HostState>,
    fd: i32,
    iovs: i32,
    count: i32,
    _flags: i32,
    nread: i32,
    oflags: i32,
) -> wasmtime::Result<i32> {
    result((|| {
        let Some(&(buf, len)) = iovecs(&mut c, iovs, count)?
            .iter()
            .find(|(_, len)| *len > 0)
        else {
            write_u32(&mut c, nread, 0)?;
            return write_u32(&mut c, oflags, 0);
        };
        let mut data = vec![0u8; (len as usize).min(CHUNK)];
        let n = c
            .data_mut()
            .sockets
            .stream(fd as u32)?
            .read(&mut data)
            .map_err(|e| io_errno(&e))?;
        write_bytes(&mut c, buf, &data[..n])?;
        write_u32(&mut c, nread, n as u32)?;
        write_u32(&mut c, oflags, 0)
    })())
}

fn sock_send(
    mut c: Caller<'_, HostState>,
    fd: i32,
    iovs: i32,
    count: i32,
    _flags: i32,
    nwritten: i32,
) -> wasmtime::Result<i32> {
    result((|| {
        let memory = memory(&mut c)?;
        let mut data = Vec::new();
        for (buf, len) in iovecs(&mut c, iovs, count)? {
            let start = data.len();
            data.resize(start + len as usize, 0);
            memory
                .read(&c, buf as usize, &mut data[start..])
                .map_err(|_| errno::FAULT)?;
        }
        let stream = c.data_mut().sockets.stream(fd as u32)?;
        stream.write_all(&data).map_err(|e| io_errno(&e))?;
        write_u32(&mut c, nwritten, data.len() as u32)
    })())
}

/// `{u32 buf; u32 len}` at `addr` gets the IP bytes; `kind` gets 4 or 6.
fn socket_address(
    c: &mut Caller<'_, HostState>,
    fd: i32,
    addr: i32,
    kind: i32,
    port: i32,
    peer: bool,
) -> Result<(), i32> {
    let address = match c.data().sockets.table.get(&(fd as u32)) {
        Some(Socket::Stream(s)) if peer => s.peer_addr().map_err(|e| io_errno(&e))?,
        Some(Socket::Stream(s)) => s.local_addr().map_err(|e| io_errno(&e))?,
        Some(Socket::Listener) if !peer => match &c.data().sockets.listening {
            Some(l) => l.local_addr().map_err(|e| io_errno(&e))?,
            None => return Err(errno::NOTCONN),
        },
        Some(_) => return Err(errno::NOTCONN),
        None => return Err(errno::BADF),
    };
    let (bytes, family): (Vec<u8>, u32) = match address.ip() {
        IpAddr::V4(ip) => (ip.octets().to_vec(), 4),
        IpAddr::V6(ip) => (ip.octets().to_vec(), 6),
    };
    let buf = read_u32(c, addr)?;
    let room = read_u32(c, addr + 4)?;
    if (room as usize) < bytes.len() {
        return Err(errno::INVAL);
    }
    write_bytes(c, buf, &bytes)?;
    write_u32(c, kind, family)?;
    write_u32(c, port, u32::from(address.port()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Ending;

    fn listening() -> Listening {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Listening::new(listener, None, None)
    }

    /// A connected pair: the client's end, and the server's (as `sock_accept` hands it out).
    fn pair(listening: &Listening) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listening.local_addr().unwrap()).unwrap();
        let server = next_client(listening).unwrap().expect("a client is queued");
        (client, server)
    }

    #[test]
    fn a_queued_client_is_accepted_as_a_blocking_stream() {
        let listening = listening();
        let (mut client, mut server) = pair(&listening);
        client.write_all(b"ping").unwrap();
        let mut got = [0; 4];
        // Blocking: the read waits for the bytes instead of failing with EAGAIN.
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
    }

    #[test]
    fn a_stop_ends_accepting_only_once_no_client_is_queued() {
        let listening = listening();
        let _client = TcpStream::connect(listening.local_addr().unwrap()).unwrap();
        listening.stop();
        assert!(listening.stopping());
        // The client that came before the stop is still answered ...
        assert!(next_client(&listening).unwrap().is_some());
        // ... and then the instance ends, without waiting for another.
        let started = std::time::Instant::now();
        assert!(next_client(&listening).unwrap().is_none());
        assert!(started.elapsed() < STOP_POLL * 5);
    }

    #[test]
    fn an_idle_instance_sees_a_stop_within_a_poll_interval() {
        let listening = Arc::new(listening());
        let waiter = {
            let listening = listening.clone();
            std::thread::spawn(move || next_client(&listening).unwrap().is_none())
        };
        std::thread::sleep(STOP_POLL);
        let stopped = std::time::Instant::now();
        listening.stop();
        assert!(waiter.join().unwrap(), "no client was sent");
        assert!(stopped.elapsed() < STOP_POLL * 3);
    }

    #[test]
    fn with_host_deadlines_an_idle_connection_waits_and_one_that_sends_is_served() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let listening = Listening::new(listener, Some(Duration::from_millis(600)), None);
        let address = listening.local_addr().unwrap();
        let mut idle = TcpStream::connect(address).unwrap();
        let mut talking = TcpStream::connect(address).unwrap();
        talking.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut served = next_client(&listening)
            .unwrap()
            .expect("the talking client");
        let mut got = [0u8; 5];
        served.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"GET /");
        // The idle one is closed once silent for the I/O timeout, never handed out.
        let started = std::time::Instant::now();
        let waiter = std::thread::spawn(move || {
            let listening = listening;
            let next = next_client(&listening).unwrap();
            (next.is_some(), listening)
        });
        idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        assert_eq!(
            idle.read_to_end(&mut rest).unwrap(),
            0,
            "closed without an answer"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        // A client after it is served.
        let mut late = TcpStream::connect(address).unwrap();
        late.write_all(b"x").unwrap();
        let (handed, _listening) = waiter.join().unwrap();
        assert!(handed);
    }

    #[test]
    fn parked_connections_are_served_in_the_order_they_came() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let listening = Listening::new(listener, Some(Duration::from_secs(5)), None);
        let address = listening.local_addr().unwrap();
        // Five connections queued in order, all ready at once: the oldest is served first.
        let mut clients: Vec<TcpStream> = (0..5)
            .map(|_| TcpStream::connect(address).unwrap())
            .collect();
        for (i, client) in clients.iter_mut().enumerate() {
            client.write_all(&[b'0' + i as u8]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        let order: Vec<u8> = (0..5)
            .map(|_| {
                let mut served = next_client(&listening).unwrap().unwrap();
                let mut byte = [0u8; 1];
                served.read_exact(&mut byte).unwrap();
                byte[0]
            })
            .collect();
        assert_eq!(order, b"01234");
    }

    fn answer_of(ending: &Ending) -> String {
        let listening = Arc::new(listening());
        let (mut client, server) = pair(&listening);
        let mut sockets = Sockets::new(Some(listening), false);
        sockets.insert(Socket::Stream(server));
        sockets.answer_abandoned(ending);
        assert!(sockets.table.is_empty(), "every socket is closed");
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn clients_left_open_by_a_failed_instance_get_an_answer() {
        let timed_out = answer_of(&Ending::TimedOut { limit_secs: 1.0 });
        assert!(
            timed_out.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"),
            "{timed_out}"
        );
        let trapped = answer_of(&Ending::Trapped {
            message: "unreachable \"here\"".into(),
            backtrace: String::new(),
        });
        assert!(trapped.starts_with("HTTP/1.1 500 "), "{trapped}");
        let (head, body) = trapped.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{trapped}"
        );
        // The body stays JSON whatever the trap's message holds.
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }

    #[test]
    fn a_clean_ending_leaves_connections_alone() {
        let listening = Arc::new(listening());
        let (_client, server) = pair(&listening);
        let mut sockets = Sockets::new(Some(listening), false);
        let fd = sockets.insert(Socket::Stream(server));
        sockets.answer_abandoned(&Ending::Exited { code: 0 });
        assert!(sockets.stream(fd).is_ok());
    }

    #[test]
    fn fds_are_numbered_from_the_first_socket_fd_and_checked() {
        let mut sockets = Sockets::new(None, false);
        let opened = sockets.insert(Socket::Opened);
        assert_eq!(opened, FIRST_SOCKET_FD);
        assert_eq!(sockets.insert(Socket::Listener), FIRST_SOCKET_FD + 1);
        assert_eq!(sockets.stream(opened).unwrap_err(), errno::NOTCONN);
        assert_eq!(sockets.stream(opened + 10).unwrap_err(), errno::BADF);
    }

    #[test]
    fn guest_timevals_are_read_in_both_layouts_and_zero_is_no_deadline() {
        let mut wide = 2i64.to_le_bytes().to_vec();
        wide.extend(500_000i64.to_le_bytes());
        assert_eq!(timeval(&wide), Some(Some(Duration::from_millis(2500))));
        let mut narrow = 1i32.to_le_bytes().to_vec();
        narrow.extend(0i32.to_le_bytes());
        assert_eq!(timeval(&narrow), Some(Some(Duration::from_secs(1))));
        assert_eq!(timeval(&[0; 16]), Some(None));
        let mut negative = (-1i64).to_le_bytes().to_vec();
        negative.extend(0i64.to_le_bytes());
        assert_eq!(timeval(&negative), None);
        assert_eq!(timeval(&[0; 5]), None);
    }

    #[test]
    fn io_errors_become_the_errnos_guests_retry_or_give_up_on() {
        let errno_of = |kind: ErrorKind| io_errno(&std::io::Error::from(kind));
        // A read deadline is EAGAIN, which the glue treats as "try again or drop the client".
        assert_eq!(errno_of(ErrorKind::WouldBlock), errno::AGAIN);
        assert_eq!(errno_of(ErrorKind::TimedOut), errno::AGAIN);
        assert_eq!(errno_of(ErrorKind::ConnectionReset), errno::CONNRESET);
        assert_eq!(errno_of(ErrorKind::BrokenPipe), errno::PIPE);
        assert_eq!(errno_of(ErrorKind::NotConnected), errno::NOTCONN);
        assert_eq!(errno_of(ErrorKind::PermissionDenied), errno::IO);
    }
}
