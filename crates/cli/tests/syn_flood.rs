//! A SYN flood over the TUN device (issue 7): inside a network namespace the test creates,
//! a raw socket sends 20,000 SYNs from spoofed sources in 198.18.0.0/15 at
//! `synack serve --http`, while curl downloads from it. The downloads succeed — the
//! listener answers with SYN cookies (RFC 4987) once its SYN queue is full — and the
//! server's summary says how many cookies it sent and validated.
//!
//! (It lives with the CLI's tests because it drives the `synack` binary.) Needs root,
//! /dev/net/tun, iproute2, curl and python3; without them it says why and passes,
//! except under `CI=true`, where that is a failure.

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use synack_io::netns::{ChildGuard, NetNs};

const SPOOFED_SYNS: u32 = 20_000;

/// Raw-socket SYN flood: `count` SYNs to `dst:port` from random sources in
/// 198.18.0.0/15 (never 198.18.0.1 or .2, never .0 or .255), paced in bursts of 500.
const FLOOD: &str = r#"
import random, socket, struct, sys, time
dst, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
daddr = socket.inet_aton(dst)
for i in range(count):
    while True:
        h = rnd.getrandbits(17)
        if h & 0xFF not in (0, 255) and h not in (1, 2):
            break
    saddr = struct.pack("!I", 0xC6120000 | h)
    opts = struct.pack("!BBH", 2, 4, 1460)
    tcp = struct.pack("!HHIIBBHHH", rnd.randrange(1024, 65535), port, rnd.getrandbits(32),
                      0, 6 << 4, 0x02, 65535, 0, 0) + opts
    c = csum(saddr + daddr + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rnd.getrandbits(16), 0, 64, 6,
                     0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + tcp, (dst, 0))
    if i % 500 == 499:
        time.sleep(0.1)
print(count)
"#;

#[test]
fn curl_downloads_succeed_during_a_spoofed_syn_flood() {
    if !can_run("curl_downloads_succeed_during_a_spoofed_syn_flood") {
        return;
    }
    let ns = NetNs::create("synack-flood").unwrap();
    let dir = std::env::temp_dir().join(format!("synack-flood-{}", ns.name()));
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    let data: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(site.join("file.bin"), &data).unwrap();
    let want = sha256(&data);

    let mut args = net_args(None);
    args.extend(["--port", "80", "--http"].map(String::from));
    args.push(site.display().to_string());
    let mut server = Server::start(&ns, &args);

    // The flood, in the background.
    let mut flood = ns.command("python3");
    flood
        .args(["-c", FLOOD, STACK, "80", &SPOOFED_SYNS.to_string(), "7"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut flood = ChildGuard::spawn(&mut flood).expect("start the flood");
    std::thread::sleep(Duration::from_millis(500));

    // Downloads until the flood is over (at least three).
    let out = dir.join("out.bin");
    let mut downloads = 0;
    let mut during = 0;
    loop {
        let flooding = flood.0.try_wait().unwrap().is_none();
        if !flooding && downloads >= 3 {
            break;
        }
        let _ = std::fs::remove_file(&out);
        let st = ns
            .command("curl")
            .args(["-sS", "--fail", "--max-time", "60", "-o"])
            .arg(&out)
            .arg(format!("http://{STACK}/file.bin"))
            .stdin(Stdio::null())
            .status()
            .expect("run curl");
        assert!(st.success(), "download {} failed: {st}", downloads + 1);
        let got = std::fs::read(&out).unwrap();
        assert_eq!(sha256(&got), want, "download {} differs", downloads + 1);
        downloads += 1;
        if flooding {
            during += 1;
        }
        assert!(downloads < 1000, "the flood never ended");
    }
    let flood_out = flood.0.wait_with_output_ref();
    assert!(flood_out.0.success(), "the flood failed: {}", flood_out.1);

    let st = server.interrupt();
    assert!(st.success(), "serve: {st}");
    let done = server.wait_for("done:", Duration::from_secs(1));
    let _ = writeln!(
        std::io::stderr(),
        "{SPOOFED_SYNS} spoofed SYNs; {downloads} downloads ({during} during the flood); {done}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(during >= 1, "no download overlapped the flood");
    let sent: u64 = done
        .split("SYN cookies: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no SYN cookie count in: {done}"));
    assert!(sent > 1000, "{done}");
}

/// `wait_with_output` for a child we only hold by `&mut`.
trait WaitRef {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, String);
}

impl WaitRef for std::process::Child {
    fn wait_with_output_ref(&mut self) -> (std::process::ExitStatus, String) {
        let st = self.wait().expect("wait");
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (st, err)
    }
}
