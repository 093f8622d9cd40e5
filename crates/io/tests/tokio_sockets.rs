//! The async API: a tokio echo server for 100 concurrent kernel clients, and
//! `copy_bidirectional` between two synack connections.
mod common;
use common::*;
use std::io::{Read, Write};
use std::time::Duration;
use synack_io::tokio_net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENTS: usize = 100;

#[test]
fn tokio_echo_server_serves_100_concurrent_kernel_clients() {
    if !synack_io::netns::tests_can_run("tokio_echo_server_serves_100_concurrent_kernel_clients") {
        return;
    }
    let env = env(Options::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The kernel's sockets are created in the namespace; connecting them is async.
    let sockets = env
        .ns
        .run(|| {
            (0..CLIENTS)
                .map(|_| tokio::net::TcpSocket::new_v4())
                .collect::<std::io::Result<Vec<_>>>()
        })
        .unwrap()
        .unwrap();
    let stack = env.stack.clone();
    rt.block_on(async move {
        let listener = TcpListener::bind(&stack, stack_addr(false, 7))
            .await
            .unwrap();
        let server = tokio::spawn(async move {
            let mut served = Vec::new();
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().await.unwrap();
                served.push(tokio::spawn(async move {
                    let (mut r, mut w) = tokio::io::split(&mut s);
                    let n = tokio::io::copy(&mut r, &mut w).await.unwrap();
                    w.shutdown().await.unwrap();
                    n
                }));
            }
            let mut total = 0;
            for t in served {
                total += t.await.unwrap();
            }
            total
        });
        let mut clients = Vec::new();
        for (i, sock) in sockets.into_iter().enumerate() {
            clients.push(tokio::spawn(async move {
                let mut s = sock.connect(stack_addr(false, 7)).await.unwrap();
                let data = pattern(20_000 + i * 1_000, i as u64);
                let (mut r, mut w) = s.split();
                let send = async {
                    w.write_all(&data).await.unwrap();
                    w.shutdown().await.unwrap();
                };
                let mut back = Vec::new();
                let recv = r.read_to_end(&mut back);
                let (_, n) = tokio::join!(send, recv);
                n.unwrap();
                assert!(back == data, "client {i}: the echo differs");
                data.len() as u64
            }));
        }
        let mut sent = 0;
        for c in clients {
            sent += c.await.unwrap();
        }
        let echoed = tokio::time::timeout(Duration::from_secs(30), server)
            .await
            .expect("the server finished")
            .unwrap();
        assert_eq!(echoed, sent);
    });
}

#[test]
fn copy_bidirectional_relays_between_two_synack_connections() {
    if !synack_io::netns::tests_can_run("copy_bidirectional_relays_between_two_synack_connections")
    {
        return;
    }
    let env = env(Options::default());
    // Behind the relay: a kernel server that sends back every byte inverted (x ^ 0xff),
    // so the answer is known and cannot be confused with an echo.
    let backend = env
        .ns
        .run(|| std::net::TcpListener::bind(host_addr(false, 9200)))
        .unwrap()
        .unwrap();
    let backend = std::thread::spawn(move || {
        for _ in 0..3 {
            let (mut s, _) = backend.accept().unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![0; 16 * 1024];
                loop {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    buf[..n].iter_mut().for_each(|b| *b ^= 0xff);
                    s.write_all(&buf[..n]).unwrap();
                }
            });
        }
    });
    // The relay runs on the runtime's worker while this thread plays the kernel client.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stack = env.stack.clone();
    let listener = rt
        .block_on(TcpListener::bind(&stack, stack_addr(false, 8080)))
        .unwrap();
    let relay = rt.spawn(async move {
        let mut done = Vec::new();
        for _ in 0..3 {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let stack = stack.clone();
            done.push(tokio::spawn(async move {
                let mut outbound = TcpStream::connect(&stack, host_addr(false, 9200))
                    .await
                    .unwrap();
                tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                    .await
                    .unwrap()
            }));
        }
        let mut counts = Vec::new();
        for d in done {
            counts.push(d.await.unwrap());
        }
        counts
    });
    for i in 0..3 {
        let data = pattern(300_000 + i, i as u64);
        let k = env
            .ns
            .run(|| std::net::TcpStream::connect(stack_addr(false, 8080)))
            .unwrap()
            .unwrap();
        let back = std::thread::scope(|sc| {
            sc.spawn(|| {
                (&k).write_all(&data).unwrap();
                k.shutdown(std::net::Shutdown::Write).unwrap();
            });
            let mut back = Vec::new();
            (&k).read_to_end(&mut back).unwrap();
            back
        });
        let expect: Vec<u8> = data.iter().map(|b| b ^ 0xff).collect();
        assert!(back == expect, "relay {i}: wrong answer");
    }
    let counts = rt.block_on(relay).unwrap();
    for (i, (a, b)) in counts.into_iter().enumerate() {
        assert_eq!((a, b), (300_000 + i as u64, 300_000 + i as u64));
    }
    backend.join().unwrap();
}
