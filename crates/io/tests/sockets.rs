//! The socket API against the kernel's TCP: data both ways, both address families, and
//! the errors a Rust programmer expects.
mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};
use synack_io::{TcpListener, TcpStream};

fn can_run(name: &str) -> bool {
    synack_io::netns::tests_can_run(name)
}

/// Make the kernel socket's close send a RST (SO_LINGER with a zero timeout).
fn linger_zero(s: &impl AsFd) {
    nix::sys::socket::setsockopt(
        s,
        nix::sys::socket::sockopt::Linger,
        &nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
    .expect("SO_LINGER");
}

#[test]
fn echo_both_ways_over_ipv4_and_ipv6() {
    if !can_run("echo_both_ways_over_ipv4_and_ipv6") {
        return;
    }
    let env = env(Options::default());
    for v6 in [false, true] {
        // The kernel connects to synack, synack echoes.
        let listener = TcpListener::bind(&env.stack, stack_addr(v6, 7)).unwrap();
        let server = std::thread::spawn(move || {
            let (s, peer) = listener.accept().unwrap();
            assert_eq!(s.peer_addr().unwrap(), peer);
            let mut buf = vec![0; 32 * 1024];
            loop {
                let n = (&s).read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                (&s).write_all(&buf[..n]).unwrap();
            }
            s.shutdown(Shutdown::Write).unwrap();
        });
        let data = pattern(1 << 20, 7);
        let k = env
            .ns
            .run(|| std::net::TcpStream::connect(stack_addr(v6, 7)))
            .unwrap()
            .unwrap();
        let back = std::thread::scope(|sc| {
            sc.spawn(|| {
                (&k).write_all(&data).unwrap();
                k.shutdown(Shutdown::Write).unwrap();
            });
            let mut back = Vec::new();
            (&k).read_to_end(&mut back).unwrap();
            back
        });
        server.join().unwrap();
        assert!(back == data, "v6={v6}: the echo differs");

        // synack connects to the kernel, the kernel echoes.
        let kl = env
            .ns
            .run(|| std::net::TcpListener::bind(host_addr(v6, 8)))
            .unwrap()
            .unwrap();
        let kernel = std::thread::spawn(move || {
            let (mut s, _) = kl.accept().unwrap();
            let mut buf = vec![0; 32 * 1024];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).unwrap();
            }
        });
        let s = TcpStream::connect(&env.stack, host_addr(v6, 8)).unwrap();
        assert_eq!(s.peer_addr().unwrap(), host_addr(v6, 8));
        assert_eq!(s.local_addr().unwrap().ip(), stack_addr(v6, 0).ip());
        let back = std::thread::scope(|sc| {
            sc.spawn(|| {
                (&s).write_all(&data).unwrap();
                s.shutdown(Shutdown::Write).unwrap();
            });
            let mut back = Vec::new();
            (&s).read_to_end(&mut back).unwrap();
            back
        });
        kernel.join().unwrap();
        assert!(back == data, "v6={v6}: the kernel's echo differs");
    }
}

#[test]
fn refused_and_unanswered_connections() {
    if !can_run("refused_and_unanswered_connections") {
        return;
    }
    let env = env(Options::default());
    for v6 in [false, true] {
        let e = TcpStream::connect(&env.stack, host_addr(v6, 9)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "v6={v6}: {e}");
    }
    // An address in the prefix that nobody owns: the SYNs go unanswered.
    let nobody = "198.18.0.99:80".parse().unwrap();
    let start = Instant::now();
    let e =
        TcpStream::connect_timeout(&env.stack, &nobody, Duration::from_millis(300)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        env.stack.connection_count(),
        0,
        "the failed attempts are gone"
    );
}

#[test]
fn kernel_reset_mid_transfer_is_connection_reset() {
    if !can_run("kernel_reset_mid_transfer_is_connection_reset") {
        return;
    }
    let env = env(Options::default());
    // synack sends; the kernel reads a little, then resets.
    let kl = env
        .ns
        .run(|| std::net::TcpListener::bind(host_addr(false, 9100)))
        .unwrap()
        .unwrap();
    let s = TcpStream::connect(&env.stack, host_addr(false, 9100)).unwrap();
    let (mut k, _) = kl.accept().unwrap();
    let writer = std::thread::spawn({
        let s = s.try_clone().unwrap();
        move || {
            let chunk = vec![1u8; 64 * 1024];
            loop {
                if let Err(e) = (&s).write_all(&chunk) {
                    return e;
                }
            }
        }
    });
    let mut buf = vec![0; 100_000];
    k.read_exact(&mut buf).unwrap();
    linger_zero(&k);
    drop(k);
    let e = writer.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
    assert_eq!(s.close_reason(), Some(synack::CloseReason::Reset));
    let e = (&s).read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");

    // The kernel sends; synack is reading when the RST comes.
    let listener = TcpListener::bind(&env.stack, stack_addr(false, 9101)).unwrap();
    let mut k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 9101)))
        .unwrap()
        .unwrap();
    let (s, _) = listener.accept().unwrap();
    k.write_all(&[2u8; 10_000]).unwrap();
    let mut got = vec![0; 10_000];
    (&s).read_exact(&mut got).unwrap();
    linger_zero(&k);
    drop(k);
    let e = (&s).read(&mut got).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
}

#[test]
fn errors_options_and_shutdown() {
    if !can_run("errors_options_and_shutdown") {
        return;
    }
    let env = env(Options::default());
    let stack = &env.stack;
    let l = TcpListener::bind(stack, stack_addr(false, 80)).unwrap();
    assert_eq!(
        TcpListener::bind(stack, stack_addr(false, 80))
            .unwrap_err()
            .kind(),
        ErrorKind::AddrInUse
    );
    assert_eq!(
        TcpListener::bind(stack, "198.18.0.77:80")
            .unwrap_err()
            .kind(),
        ErrorKind::AddrNotAvailable
    );
    let any = TcpListener::bind(stack, "0.0.0.0:0").unwrap();
    let port = any.local_addr().unwrap().port();
    assert!((32768..=60999).contains(&port), "{port}");
    let _k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, port)))
        .unwrap()
        .unwrap();
    let (_s, _) = any.accept().unwrap();

    l.set_nonblocking(true).unwrap();
    assert_eq!(l.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
    l.set_nonblocking(false).unwrap();

    let mut k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 80)))
        .unwrap()
        .unwrap();
    let (s, _) = l.accept().unwrap();
    // Timeouts and non-blocking reads.
    assert_eq!(
        s.set_read_timeout(Some(Duration::ZERO)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert_eq!(s.read_timeout().unwrap(), Some(Duration::from_millis(100)));
    let start = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(
        (&s).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    assert!(start.elapsed() >= Duration::from_millis(100));
    s.set_read_timeout(None).unwrap();
    s.set_nonblocking(true).unwrap();
    assert_eq!(
        (&s).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    s.set_nonblocking(false).unwrap();
    // Nagle.
    assert!(!s.nodelay().unwrap());
    s.set_nodelay(true).unwrap();
    assert!(s.nodelay().unwrap());
    // A handle shares the connection; shutdown(Write) sends the FIN.
    let s2 = s.try_clone().unwrap();
    (&s2).write_all(b"data").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        (&s2).write(b"more").unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    let mut got = Vec::new();
    k.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"data");
    // shutdown(Read): reads end, whatever arrives.
    k.write_all(b"ignored").unwrap();
    s.shutdown(Shutdown::Read).unwrap();
    assert_eq!((&s).read(&mut buf).unwrap(), 0);
    drop((s, s2));

    // abort: the kernel sees a reset; the handle is dead.
    let mut k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 80)))
        .unwrap()
        .unwrap();
    let (s, _) = l.accept().unwrap();
    s.abort().unwrap();
    assert_eq!(
        (&s).write(b"x").unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    let e = k.read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");

    // A stopped stack fails every call.
    let mut k2 = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 80)))
        .unwrap()
        .unwrap();
    let (s, _) = l.accept().unwrap();
    k2.write_all(b"x").unwrap();
    stack.stop().unwrap();
    assert_eq!(
        (&s).write(b"x").unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(
        TcpStream::connect(stack, host_addr(false, 1))
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
}

#[test]
fn jumbo_mtu_transfers_both_ways() {
    if !can_run("jumbo_mtu_transfers_both_ways") {
        return;
    }
    // MTU 65535: segments of up to 65,495 bytes, which GRO must never merge into a
    // datagram longer than 65,535 bytes (the kernel would drop it).
    let env = env(Options {
        mtu: 65535,
        ..Options::default()
    });
    let data = pattern(2 << 20, 9);
    // synack -> kernel
    let kl = env
        .ns
        .run(|| std::net::TcpListener::bind(host_addr(false, 9400)))
        .unwrap()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let (mut k, _) = kl.accept().unwrap();
        k.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut got = Vec::new();
        k.read_to_end(&mut got).unwrap();
        got
    });
    let s = TcpStream::connect(&env.stack, host_addr(false, 9400)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    (&s).write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(reader.join().unwrap() == data, "synack -> kernel differs");
    // kernel -> synack
    let l = TcpListener::bind(&env.stack, stack_addr(false, 9401)).unwrap();
    let k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 9401)))
        .unwrap()
        .unwrap();
    let (s, _) = l.accept().unwrap();
    let writer = std::thread::spawn({
        let data = data.clone();
        move || {
            (&k).write_all(&data).unwrap();
            k.shutdown(Shutdown::Write).unwrap();
        }
    });
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    assert!(got == data, "kernel -> synack differs");
    let stats = env.stack.stats();
    assert_eq!(
        stats.tx_errors, 0,
        "the device refused datagrams: {stats:?}"
    );
}

#[test]
fn unanswered_retransmissions_end_in_timed_out() {
    if !can_run("unanswered_retransmissions_end_in_timed_out") {
        return;
    }
    let env = env(Options::default());
    let kl = env
        .ns
        .run(|| std::net::TcpListener::bind(host_addr(false, 9500)))
        .unwrap()
        .unwrap();
    let s = TcpStream::connect(&env.stack, host_addr(false, 9500)).unwrap();
    let (_k, _) = kl.accept().unwrap();
    s.set_user_timeout(Duration::from_secs(1)).unwrap();
    // The kernel's side of the device goes down: nothing synack sends is answered.
    let st = env
        .ns
        .command("ip")
        .args(["link", "set", "synack0", "down"])
        .status()
        .unwrap();
    assert!(st.success());
    (&s).write_all(b"into the void").unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let e = (&s).read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert_eq!(s.close_reason(), Some(synack::CloseReason::TimedOut));
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!((&s).write(b"x").unwrap_err().kind(), ErrorKind::TimedOut);
}
