//! `synack serve` and `synack connect` against the kernel's own programs (curl, Python's
//! http.server, Python sockets), each test inside a network namespace it creates and
//! deletes (nothing leaves the machine; addresses from 198.18.0.0/15). Every transfer runs
//! twice: on a clean device and through `--impair loss=0.05,reorder=0.05,dup=0.01`.
//!
//! Needs root, /dev/net/tun, iproute2, curl and python3; without them the tests say why
//! and pass, except under `CI=true`, where that is a failure.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_io::netns::{ChildGuard, NetNs};

const HOST: &str = "198.18.0.1";
const MB: usize = 1 << 20;

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(ns: &NetNs) -> Scratch {
        let p = std::env::temp_dir().join(format!("synack-cli-{}", ns.name()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pseudo-random bytes (xorshift64*), fast enough for 100 MB.
fn random_file(path: &Path, len: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let mut data = vec![0u8; len];
    for c in data.chunks_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        c.copy_from_slice(&v[..c.len()]);
    }
    std::fs::write(path, &data).unwrap();
    sha256(&data)
}

/// Run a command in the namespace; its output, failing the test if it fails.
fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `(bytes, sha256)` from a "N bytes (sha256 HEX)" fragment after `label`.
fn tally_after(line: &str, label: &str) -> (u64, String) {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in {line}"))
        + label.len()..];
    let mut words = rest.split_whitespace();
    let bytes = words.next().unwrap().parse().unwrap();
    let sha = rest
        .split("(sha256 ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap()
        .to_string();
    (bytes, sha)
}

// ---- curl downloads from `serve --http` ----

fn curl_download(size: usize, impaired: Option<u64>) {
    let ns = NetNs::create("synack-test").unwrap();
    // The kernel keeps its TIME-WAITs against RSTs (RFC 1337's remedy; Linux's default
    // lets a RST end one). Through the impaired device a segment of the kernel's, held
    // back 10 ms or duplicated, can reach the stack after it has closed and freed the
    // connection: the listener on port 80 answers it with a RST (§3.10.7.2), as it
    // must, and that RST would end the TIME-WAIT this test looks for.
    run_ok(
        ns.command("sh")
            .args(["-c", "echo 1 > /proc/sys/net/ipv4/tcp_rfc1337"]),
    );
    let dir = Scratch::new(&ns);
    let site = dir.path("site");
    std::fs::create_dir_all(&site).unwrap();
    let want = random_file(&site.join("big.bin"), size, 42);
    let mut args = net_args(impaired);
    args.extend(["--port", "80", "--http"].map(String::from));
    args.push(site.display().to_string());
    let mut server = Server::start(&ns, &args);
    let out = dir.path("out.bin");
    run_ok(
        ns.command("curl")
            .args(["-sS", "--fail", "--max-time", "120", "-o"])
            .arg(&out)
            .arg(format!("http://{STACK}/big.bin")),
    );
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), size);
    assert_eq!(sha256(&got), want, "the download differs");
    // A missing file is a 404.
    let code = run_ok(
        ns.command("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{STACK}/nope")),
    );
    assert_eq!(String::from_utf8_lossy(&code.stdout), "404");
    // curl closed first (after the response), so the kernel holds the TIME-WAITs of both
    // connections (once our FIN has reached it: through the impaired device that may
    // take a retransmission).
    server.wait_for("closed:", Duration::from_secs(10));
    let start = Instant::now();
    loop {
        let ss = run_ok(ns.command("ss").args(["-tan", "state", "time-wait"]));
        let ss = String::from_utf8_lossy(&ss.stdout).into_owned();
        if ss.matches(&format!("{STACK}:80")).count() == 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not both kernel TIME-WAITs:\n{ss}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = server.interrupt();
    assert!(st.success(), "serve: {st}");
    server.wait_for("done:", Duration::from_secs(1));
}

#[test]
fn curl_downloads_100mb_from_serve_http() {
    if can_run("curl_downloads_100mb_from_serve_http") {
        curl_download(100 * MB, None);
    }
}

#[test]
fn curl_downloads_through_an_impaired_device() {
    if can_run("curl_downloads_through_an_impaired_device") {
        curl_download(100 * MB, Some(1));
    }
}

// ---- the kernel uploads to `serve --discard` and `serve --echo` ----

const UPLOAD: &str = r#"
import hashlib, os, socket, sys, threading
host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=300)
got, count = hashlib.sha256(), [0]
def reader():
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
        count[0] += len(b)
t = threading.Thread(target=reader)
t.start()
sent, left = hashlib.sha256(), total
block = os.urandom(1 << 20)
while left:
    chunk = block[: min(left, len(block))]
    block = block[1:] + block[:1]
    s.sendall(chunk)
    sent.update(chunk)
    left -= len(chunk)
s.shutdown(socket.SHUT_WR)
t.join()
print(total, sent.hexdigest(), count[0], got.hexdigest())
"#;

fn upload(mode: &str, size: usize, impaired: Option<u64>) {
    let ns = NetNs::create("synack-test").unwrap();
    let mut args = net_args(impaired);
    args.extend(["--port", "9", &format!("--{mode}"), "--once"].map(String::from));
    let mut server = Server::start(&ns, &args);
    let out = run_ok(ns.command("timeout").args([
        "120",
        "python3",
        "-c",
        UPLOAD,
        STACK,
        "9",
        &size.to_string(),
    ]));
    let out = String::from_utf8_lossy(&out.stdout).to_string();
    let f: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(f.len(), 4, "client said: {out}");
    let (sent, sent_sha, back, back_sha) = (
        f[0].parse::<u64>().unwrap(),
        f[1],
        f[2].parse::<u64>().unwrap(),
        f[3],
    );
    assert_eq!(sent, size as u64);
    let line = server.wait_for("closed:", Duration::from_secs(30));
    let (received, received_sha) = tally_after(&line, "received ");
    assert_eq!(
        (received, received_sha.as_str()),
        (sent, sent_sha),
        "what serve received"
    );
    if mode == "echo" {
        let (echoed, echoed_sha) = tally_after(&line, "sent ");
        assert_eq!(
            (echoed, echoed_sha.as_str()),
            (sent, sent_sha),
            "what serve sent"
        );
        assert_eq!((back, back_sha), (sent, sent_sha), "what came back");
    } else {
        assert_eq!(back, 0);
    }
    let st = server.wait_exit(Duration::from_secs(40));
    assert!(st.success(), "serve --once: {st}");
}

#[test]
fn kernel_uploads_100mb_to_serve_discard() {
    if can_run("kernel_uploads_100mb_to_serve_discard") {
        upload("discard", 100 * MB, None);
    }
}

#[test]
fn kernel_uploads_100mb_to_serve_echo() {
    if can_run("kernel_uploads_100mb_to_serve_echo") {
        upload("echo", 100 * MB, None);
    }
}

#[test]
fn kernel_uploads_through_an_impaired_device() {
    if can_run("kernel_uploads_through_an_impaired_device") {
        upload("discard", 100 * MB, Some(2));
        upload("echo", 100 * MB, Some(3));
    }
}

// ---- `connect` asks Python's http.server, closing its side at once ----

/// Datagrams of a pcap file (LINKTYPE_RAW, as synack writes it).
fn pcap_datagrams(path: &Path) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() >= 24, "no pcap header");
    let magic = u32::from_le_bytes(b[0..4].try_into().unwrap());
    assert!(
        magic == 0xa1b2_3c4d || magic == 0xa1b2_c3d4,
        "not a little-endian pcap: {magic:#x}"
    );
    assert_eq!(
        u32::from_le_bytes(b[20..24].try_into().unwrap()),
        101,
        "link type RAW"
    );
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let incl = u32::from_le_bytes(b[i + 8..i + 12].try_into().unwrap()) as usize;
        out.push(b[i + 16..i + 16 + incl].to_vec());
        i += 16 + incl;
    }
    assert_eq!(i, b.len(), "trailing bytes in the pcap file");
    out
}

/// A hosts file for one namespace, removed on drop.
struct NetnsHosts(PathBuf);

impl NetnsHosts {
    fn new(ns: &NetNs, line: &str) -> NetnsHosts {
        let dir = PathBuf::from("/etc/netns").join(ns.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), format!("127.0.0.1 localhost\n{line}\n")).unwrap();
        NetnsHosts(dir)
    }
}

impl Drop for NetnsHosts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn connect_http10(size: usize, impaired: Option<u64>) {
    let ns = NetNs::create("synack-test").unwrap();
    let dir = Scratch::new(&ns);
    let site = dir.path("site");
    std::fs::create_dir_all(&site).unwrap();
    let want = random_file(&site.join("page.bin"), size, 7);
    let mut py = ChildGuard::spawn(
        ns.command("python3")
            .args([
                "-m",
                "http.server",
                "8000",
                "--bind",
                "0.0.0.0",
                "--directory",
            ])
            .arg(&site)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .unwrap();
    // Wait until it listens.
    let start = Instant::now();
    while ns
        .run(|| std::net::TcpStream::connect("127.0.0.1:8000"))
        .unwrap()
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "http.server did not start"
        );
        assert!(py.0.try_wait().unwrap().is_none(), "http.server exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pcap = dir.path("connect.pcap");
    let mut args = net_args(impaired);
    args.push("--pcap".into());
    args.push(pcap.display().to_string());
    // The clean run names the peer by a host name, from the namespace's own hosts file
    // (`ip netns exec` puts /etc/netns/NAME/hosts in place of /etc/hosts).
    let _hosts = impaired
        .is_none()
        .then(|| NetnsHosts::new(&ns, &format!("{HOST} kernel-peer")));
    if impaired.is_none() {
        args.push("kernel-peer:8000".into());
    } else {
        args.push(format!("{HOST}:8000"));
    }
    let mut child = ns
        .command("timeout")
        .args(["120", SYNACK, "connect"])
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The request, then end of input at once: our FIN follows the request.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /page.bin HTTP/1.0\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "connect: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&out.stdout[..split]);
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    let body = &out.stdout[split..];
    assert_eq!(body.len(), size, "{head}");
    assert_eq!(sha256(body), want, "the page differs");

    // The capture shows the order: our FIN first, then the kernel, in CLOSE-WAIT (its
    // segments acknowledge our FIN), still sending the response, then its own FIN.
    let stack_ip: std::net::IpAddr = STACK.parse().unwrap();
    let mut our_fin_ack = None; // the acknowledgment number that covers our FIN
    let mut kernel_fin_before_ours = false;
    let mut close_wait_data = 0usize;
    let mut kernel_fin_after = false;
    for d in pcap_datagrams(&pcap) {
        let Ok(p) = synack_wire::parse_packet(&d) else {
            continue;
        };
        if p.src == stack_ip {
            if p.tcp.flags.fin() && our_fin_ack.is_none() {
                our_fin_ack = Some(p.tcp.seq.wrapping_add(p.payload.len() as u32 + 1));
            }
        } else if p.tcp.flags.fin() && our_fin_ack.is_none() {
            kernel_fin_before_ours = true;
        } else if our_fin_ack.is_some() {
            kernel_fin_after |= p.tcp.flags.fin();
            if p.tcp.flags.ack() && Some(p.tcp.ack) == our_fin_ack {
                close_wait_data += p.payload.len();
            }
        }
    }
    assert!(our_fin_ack.is_some(), "synack sent no FIN");
    assert!(!kernel_fin_before_ours, "the kernel closed first");
    assert!(kernel_fin_after, "the kernel's FIN did not follow ours");
    if impaired.is_none() {
        // Through an impaired device our FIN may arrive late, after the response; on a
        // clean one it arrives with the request, so nearly all of it is sent in CLOSE-WAIT.
        assert!(
            close_wait_data >= size / 2,
            "only {close_wait_data} bytes of the response were sent from CLOSE-WAIT"
        );
    }
    drop(py);
}

#[test]
fn connect_half_closes_and_still_gets_the_whole_response() {
    if can_run("connect_half_closes_and_still_gets_the_whole_response") {
        connect_http10(4 * MB, None);
    }
}

#[test]
fn connect_through_an_impaired_device() {
    if can_run("connect_through_an_impaired_device") {
        connect_http10(4 * MB, Some(4));
    }
}

// ---- failures: refused, reset, timed out ----

const RESETTER: &str = r#"
import socket, struct, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
n = 0
while n < 100000:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
"#;

fn connect_cmd(ns: &NetNs, target: &str, extra: &[&str]) -> Command {
    // `timeout` bounds the run even if something hangs.
    let mut c = ns.command("timeout");
    c.args(["60", SYNACK, "connect"])
        .args(net_args(None))
        .args(extra)
        .arg(target);
    c
}

#[test]
fn connect_reports_refusal_reset_and_timeout() {
    if !can_run("connect_reports_refusal_reset_and_timeout") {
        return;
    }
    let ns = NetNs::create("synack-test").unwrap();
    // Nobody listens: the kernel answers the SYN with a RST.
    let out = connect_cmd(&ns, &format!("{HOST}:9"), &[])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("connection refused") && err.lines().count() == 1,
        "{err}"
    );

    // Nobody owns the address: the SYNs go unanswered.
    let out = connect_cmd(&ns, "198.18.0.99:80", &["--connect-timeout", "1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("timed out") && err.lines().count() == 1,
        "{err}"
    );

    // The kernel resets the connection in the middle of an upload.
    let mut py = ChildGuard::spawn(
        ns.command("python3")
            .args(["-c", RESETTER, "9300"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
    .unwrap();
    let mut ready = String::new();
    BufReader::new(py.0.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let mut child = connect_cmd(&ns, &format!("{HOST}:9300"), &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        // Until the pipe breaks (connect exited) or 64 MB.
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("reset") && err.lines().count() == 1, "{err}");
}
