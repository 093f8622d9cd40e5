//! Who closes first, and what each side goes through.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};
use synack::State;

/// The kernel's view: `ss -tan` lines in the namespace.
fn kernel_sockets(env: &Env) -> String {
    let out = env.ns.command("ss").arg("-tan").output().expect("ss");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn synack_closing_first_goes_through_time_wait() {
    if !synack_io::netns::tests_can_run("synack_closing_first_goes_through_time_wait") {
        return;
    }
    let env = env(Options {
        msl: Some(Duration::from_millis(500)),
        ..Options::default()
    });
    let listener = env
        .ns
        .run(|| std::net::TcpListener::bind(host_addr(false, 9000)))
        .unwrap()
        .unwrap();
    let s = synack_io::TcpStream::connect(&env.stack, host_addr(false, 9000)).unwrap();
    let (mut k, _) = listener.accept().unwrap();
    (&s).write_all(b"bye").unwrap();
    s.shutdown(Shutdown::Write).unwrap(); // our FIN goes first
    let mut got = Vec::new();
    k.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bye");
    drop(k); // the kernel's FIN answers ours
    let mut rest = Vec::new();
    (&s).read_to_end(&mut rest).unwrap();
    wait_for("TIME-WAIT", Duration::from_secs(5), || {
        s.state() == Some(State::TimeWait)
    });
    let (local, peer) = (s.local_addr().unwrap(), s.peer_addr().unwrap());
    drop(s);
    assert_eq!(env.stack.state_of(local, peer), Some(State::TimeWait));
    assert_eq!(env.stack.time_wait_count(), 1);
    // The kernel, which closed second, keeps no TIME-WAIT of its own.
    let ss = kernel_sockets(&env);
    assert!(!ss.contains("TIME-WAIT"), "{ss}");
    // 2 x MSL later the record is gone.
    wait_for("the end of TIME-WAIT", Duration::from_secs(5), || {
        env.stack.state_of(local, peer).is_none()
    });
}

#[test]
fn kernel_closing_first_leaves_time_wait_in_the_kernel() {
    if !synack_io::netns::tests_can_run("kernel_closing_first_leaves_time_wait_in_the_kernel") {
        return;
    }
    let env = env(Options::default());
    let listener = synack_io::TcpListener::bind(&env.stack, stack_addr(false, 9001)).unwrap();
    let mut k = env
        .ns
        .run(|| std::net::TcpStream::connect(stack_addr(false, 9001)))
        .unwrap()
        .unwrap();
    let (s, peer) = listener.accept().unwrap();
    k.write_all(b"hello").unwrap();
    k.shutdown(Shutdown::Write).unwrap(); // the kernel's FIN goes first
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(s.state(), Some(State::CloseWait));
    (&s).write_all(b"world").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    k.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"world");
    wait_for("CLOSED", Duration::from_secs(5), || {
        s.state() == Some(State::Closed)
    });
    assert_eq!(s.close_reason(), Some(synack::CloseReason::Normal));
    drop(s);
    let ss = kernel_sockets(&env);
    let line = ss
        .lines()
        .find(|l| l.contains(&peer.to_string()))
        .unwrap_or_else(|| panic!("no kernel socket for {peer}:\n{ss}"));
    assert!(line.starts_with("TIME-WAIT"), "{line}");
    assert_eq!(env.stack.time_wait_count(), 0);
}
