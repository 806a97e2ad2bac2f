//! Tries what a served module must not be able to do, and prints one line per attempt:
//! `NAME allowed` or `NAME denied: WHY`. The host must survive every attempt.
//!
//! sandbox [DIR]   (DIR: the guest path of a directory the host granted, default /data;
//!                  flags such as serve's `--serve` are skipped)

use std::io::Write;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    /// WasmEdge's socket extension, as the glue imports it.
    #[link_name = "sock_open"]
    fn wasmedge_sock_open(family: i32, kind: i32, fd: *mut u32) -> i32;
    #[link_name = "sock_connect"]
    fn wasmedge_sock_connect(fd: u32, addr: *const u8, port: u32) -> i32;
}

fn report(name: &str, result: Result<String, String>) {
    let line = match result {
        Ok(what) => format!("{name} allowed {what}"),
        Err(why) => format!("{name} denied: {why}"),
    };
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn connect_out() -> Result<String, String> {
    let mut fd = 0u32;
    // SAFETY: the host writes one u32 at a valid address.
    let opened = unsafe { wasmedge_sock_open(1, 2, &mut fd) };
    if opened != 0 {
        return Err(format!("sock_open errno {opened}"));
    }
    // {u32 buf; u32 len} over the 4 bytes of 1.1.1.1.
    let ip = [1u8, 1, 1, 1];
    let addr: [u32; 2] = [ip.as_ptr() as u32, 4];
    // SAFETY: addr and ip live across the call.
    let connected = unsafe { wasmedge_sock_connect(fd, addr.as_ptr().cast(), 80) };
    match connected {
        0 => Ok("connected to 1.1.1.1:80".into()),
        errno => Err(format!("sock_connect errno {errno}")),
    }
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| "/data".into());
    report(
        "read-granted",
        std::fs::read_to_string(format!("{dir}/granted.txt")).map_err(|e| e.to_string()),
    );
    report(
        "write-granted",
        std::fs::write(format!("{dir}/written.txt"), b"x")
            .map(|()| String::new())
            .map_err(|e| e.to_string()),
    );
    report(
        "read-etc-passwd",
        std::fs::read_to_string("/etc/passwd")
            .map(|t| t.lines().next().unwrap_or("").to_string())
            .map_err(|e| e.to_string()),
    );
    report(
        "write-outside",
        std::fs::write("/tmp/wasm-migrate-sandbox-escape", b"x")
            .map(|()| String::new())
            .map_err(|e| e.to_string()),
    );
    report(
        "escape-with-dotdot",
        std::fs::read_to_string(format!("{dir}/../../../../etc/passwd"))
            .map(|t| t.lines().next().unwrap_or("").to_string())
            .map_err(|e| e.to_string()),
    );
    report("env-home", std::env::var("HOME").map_err(|e| e.to_string()));
    let mut names: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    names.sort();
    report("env-names", Ok(names.join(",")));
    report("connect-out", connect_out());
}
