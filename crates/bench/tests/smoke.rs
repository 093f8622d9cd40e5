//! The benchmark binary keeps working: it runs every measurement at the tiny size and
//! prints the JSON object issue 6 specifies. Nothing here looks at how fast anything was.

use serde_json::Value;

#[test]
fn tiny_run_prints_json_with_every_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synack-bench"))
        .args(["--tiny", "--json"])
        .output()
        .expect("run synack-bench");
    assert!(
        out.status.success(),
        "synack-bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let bulk = v["bulk"].as_array().expect("bulk is an array");
    let mtus: Vec<u64> = bulk.iter().filter_map(|b| b["mtu"].as_u64()).collect();
    assert_eq!(mtus, [1500, 65535]);
    for b in bulk {
        assert!(b["synack_gbps"].as_f64().is_some_and(|x| x > 0.0), "{b}");
        assert!(b["smoltcp_gbps"].as_f64().is_some_and(|x| x > 0.0), "{b}");
        assert!(b.get("linux_loopback_gbps").is_some(), "{b}");
    }
    let in_place = v["bulk_in_place"]
        .as_array()
        .expect("bulk_in_place is an array");
    let mtus: Vec<u64> = in_place.iter().filter_map(|b| b["mtu"].as_u64()).collect();
    assert_eq!(mtus, [1500, 65535]);
    for b in in_place {
        assert!(b["synack_gbps"].as_f64().is_some_and(|x| x > 0.0), "{b}");
        assert!(b["smoltcp_gbps"].as_f64().is_some_and(|x| x > 0.0), "{b}");
    }
    let cycles = v["cycles"].as_array().expect("cycles is an array");
    assert_eq!(cycles.len(), 3);
    let idle: Vec<u64> = cycles.iter().filter_map(|c| c["idle"].as_u64()).collect();
    assert_eq!(idle.len(), 3);
    assert_eq!(idle[0], 0);
    assert!(idle[1] < idle[2], "idle counts rise: {idle:?}");
    for c in cycles {
        assert!(c["synack_per_s"].as_f64().is_some_and(|x| x > 0.0), "{c}");
        assert!(c["smoltcp_per_s"].as_f64().is_some_and(|x| x > 0.0), "{c}");
        assert!(c.get("linux_loopback_per_s").is_some(), "{c}");
    }
    let m = &v["memory"];
    assert!(m["connections"].as_u64().is_some_and(|n| n > 0), "{m}");
    // Allocator-counted: an idle connection costs something, and far less than the
    // smoltcp socket with its caller-provided buffers.
    let synack = m["synack_bytes_per_conn"].as_f64().expect("synack bytes");
    let smoltcp = m["smoltcp_bytes_per_conn"].as_f64().expect("smoltcp bytes");
    assert!(synack > 0.0 && smoltcp > synack, "{m}");
    let f = &v["flows"];
    assert_eq!(f["bytes"].as_u64(), Some(20 * 16 * 1024), "{f}");
}
