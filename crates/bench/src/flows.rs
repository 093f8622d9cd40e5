//! Many flows at once in the simulator (`synack-sim`): two hosts, a 10 Gbit/s link with
//! 1 ms of latency each way, `flows` connections opened together, each sending
//! `per_flow` bytes from client to server.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::{Config, ConnId, Event, Instant};
use synack_sim::{LinkConfig, Sim};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));

/// What a many-flows run measured.
#[derive(Debug, Clone)]
pub struct FlowsRun {
    /// Concurrent flows.
    pub flows: usize,
    /// Bytes received in all.
    pub bytes: u64,
    /// Virtual time from the first SYN to the last byte received, seconds.
    pub virtual_secs: f64,
    /// Wall-clock time the simulation took, seconds.
    pub wall_secs: f64,
    /// The link rate, bits per second.
    pub link_bps: u64,
}

/// Run `flows` concurrent bulk flows of `per_flow` bytes each.
pub fn run(flows: usize, per_flow: u64) -> FlowsRun {
    let link_bps = 10_000_000_000;
    let mut sim = Sim::new(6);
    let config = Config {
        ephemeral_ports: 1024..=65535,
        ..Config::default()
    };
    let c = sim.add_host("client", config.clone(), &[CLIENT]);
    let s = sim.add_host("server", config, &[SERVER]);
    let link = LinkConfig::default()
        .latency(Duration::from_millis(1))
        .rate(link_bps)
        .queue(16 << 20);
    sim.link(c, s, link);
    for h in [c, s] {
        sim.endpoint_mut(h).set_tracing(false);
    }
    sim.set_keep_delivered_bytes(false);
    sim.set_step_limit(u64::MAX);
    let server_addr = SocketAddr::new(SERVER, 80);
    let l = sim
        .endpoint_mut(s)
        .listen(server_addr, flows.max(1))
        .expect("listen");
    let start_virtual = sim.now();
    let mut sent: HashMap<ConnId, u64> = HashMap::new();
    for _ in 0..flows {
        let now = sim.now();
        let id = sim
            .endpoint_mut(c)
            .connect(now, SocketAddr::new(CLIENT, 0), server_addr)
            .expect("connect");
        sent.insert(id, 0);
    }
    let data = crate::pattern_block();
    let mut buf = vec![0u8; 64 * 1024];
    let total = per_flow * flows as u64;
    let mut received = 0u64;
    let mut done_at = Instant::ZERO;
    let wall = std::time::Instant::now();
    sim.run_while(|sim| {
        let now = sim.now();
        let client = sim.endpoint_mut(c);
        while let Some(ev) = client.poll_event() {
            let id = match ev {
                Event::Connected(id) | Event::Writable(id) => id,
                _ => continue,
            };
            let Some(done) = sent.get_mut(&id) else {
                continue;
            };
            while *done < per_flow {
                let want = (per_flow - *done).min(data.len() as u64) as usize;
                match client.send(now, id, &data[..want]) {
                    Ok(n) if n > 0 => *done += n as u64,
                    _ => break,
                }
            }
            if *done == per_flow {
                let _ = client.close(now, id);
                *done += 1; // closed once
            }
        }
        let server = sim.endpoint_mut(s);
        while let Some(ev) = server.poll_event() {
            match ev {
                Event::Incoming(_) => while server.accept(l).is_ok() {},
                Event::Readable(id) | Event::PeerClosed(id) => loop {
                    match server.recv(now, id, &mut buf) {
                        Ok(0) => {
                            let _ = server.close(now, id);
                            break;
                        }
                        Ok(n) => {
                            received += n as u64;
                            if received == total {
                                done_at = now;
                            }
                        }
                        Err(_) => break,
                    }
                },
                _ => {}
            }
        }
        received < total
    })
    .expect("simulation");
    let wall_secs = wall.elapsed().as_secs_f64();
    FlowsRun {
        flows,
        bytes: received,
        virtual_secs: done_at.saturating_since(start_virtual).as_secs_f64(),
        wall_secs,
        link_bps,
    }
}
