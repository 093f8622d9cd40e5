//! The Linux kernel over loopback as the reference: `std::net` sockets (options set
//! with `socket2`).

use crate::{BulkRun, CycleRun, MIB};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

fn listener() -> std::io::Result<TcpListener> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.set_recv_buffer_size(MIB)?;
    s.set_send_buffer_size(MIB)?;
    s.bind(&SockAddr::from(
        "127.0.0.1:0".parse::<SocketAddr>().expect("addr"),
    ))?;
    s.listen(1024)?;
    Ok(s.into())
}

/// `total` bytes over loopback, a sender thread and a receiver thread; the sender's
/// MSS is clamped to `mtu − 40` (TCP_MAXSEG) below MTU 32,000 (above it, loopback's
/// MTU of 65,536 applies), socket buffers 1 MiB. Loopback still
/// hands 64 KiB GSO packets around below MSS 65,483, so the MTU-1500 row mostly shows
/// segment-size effects inside TCP, not per-packet device costs.
pub fn bulk(mtu: u16, total: u64) -> std::io::Result<BulkRun> {
    let l = listener()?;
    let addr = l.local_addr()?;
    let receiver = std::thread::spawn(move || -> std::io::Result<u64> {
        let (mut s, _) = l.accept()?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0u64;
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                return Ok(got);
            }
            got += n as u64;
        }
    });
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    // TCP_MAXSEG accepts at most 32,767; loopback's own MTU (65,536) sets the rest.
    if mtu < 32_000 {
        s.set_tcp_mss(u32::from(mtu).saturating_sub(40))?;
    }
    s.set_send_buffer_size(MIB)?;
    s.set_recv_buffer_size(MIB)?;
    s.connect(&SockAddr::from(addr))?;
    let mut s: TcpStream = s.into();
    let data = crate::pattern_block();
    let start = std::time::Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let want = (total - sent).min(data.len() as u64) as usize;
        s.write_all(&data[..want])?;
        sent += want as u64;
    }
    s.shutdown(std::net::Shutdown::Write)?;
    let bytes = receiver
        .join()
        .map_err(|_| std::io::Error::other("receiver panicked"))??;
    Ok(BulkRun {
        bytes,
        secs: start.elapsed().as_secs_f64(),
        datagrams: 0,
    })
}

/// Connection cycles over loopback, in one thread: connect, accept, the server closes
/// (FIN), the client reads the end of stream and closes with SO_LINGER 0 (RST). No
/// TIME-WAIT anywhere: the kernel's lasts 60 s of real time and would exhaust the
/// ephemeral ports, so this is connect + accept + FIN + RST, not a four-way close.
pub fn cycles(n: u32) -> std::io::Result<CycleRun> {
    let l = listener()?;
    let addr = l.local_addr()?;
    let one = |l: &TcpListener| -> std::io::Result<()> {
        let c = TcpStream::connect(addr)?;
        let (s, _) = l.accept()?;
        drop(s);
        let mut c = Socket::from(c);
        let mut b = [0u8; 1];
        let n = std::io::Read::read(&mut c, &mut b)?;
        debug_assert_eq!(n, 0);
        c.set_linger(Some(Duration::ZERO))?;
        Ok(())
    };
    for _ in 0..n / 10 + 1 {
        one(&l)?;
    }
    let mut secs = f64::INFINITY;
    for _ in 0..crate::RUNS {
        let start = std::time::Instant::now();
        for _ in 0..n {
            one(&l)?;
        }
        secs = secs.min(start.elapsed().as_secs_f64());
    }
    Ok(CycleRun {
        idle: 0,
        cycles: u64::from(n),
        secs,
    })
}
