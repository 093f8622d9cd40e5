//! Runs the built `synack` binary.

use std::process::Command;

fn demo(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_synack"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run synack");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn demo_succeeds_and_shows_handshake_and_time_wait_for_several_seeds_and_losses() {
    for loss in ["0", "0.2"] {
        for seed in ["1", "2", "3", "42"] {
            let (ok, out) = demo(&["--seed", seed, "--loss", loss]);
            assert!(ok, "seed {seed} loss {loss} failed:\n{out}");
            assert!(
                out.contains("<SEQ=0><CTL=SYN>"),
                "seed {seed} loss {loss}:\n{out}"
            );
            assert!(
                out.contains("CTL=SYN,ACK"),
                "seed {seed} loss {loss}:\n{out}"
            );
            assert!(out.contains("TIME-WAIT"), "seed {seed} loss {loss}:\n{out}");
            assert!(
                out.contains("result: OK"),
                "seed {seed} loss {loss}:\n{out}"
            );
        }
    }
}

#[test]
fn demo_with_the_same_seed_prints_the_same_output() {
    let args = ["--seed", "7", "--loss", "0.2", "--bytes", "5000", "--times"];
    let (ok_a, a) = demo(&args);
    let (ok_b, b) = demo(&args);
    assert!(ok_a && ok_b, "{a}");
    assert_eq!(a, b);
}

#[test]
fn demo_moves_many_bytes_and_reports_them() {
    let (ok, out) = demo(&["--bytes", "100000", "--seed", "5", "--loss", "0.05"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("client -> server: 100000 bytes sent, 100000 received, intact"),
        "{out}"
    );
    assert!(
        out.contains("server -> client: 100000 bytes sent, 100000 received, intact"),
        "{out}"
    );
}

#[test]
fn demo_rejects_a_loss_that_is_not_a_probability() {
    let (ok, out) = demo(&["--loss", "1.5"]);
    assert!(!ok);
    assert!(out.contains("not a probability"), "{out}");
}

#[test]
fn demo_fails_when_every_datagram_is_lost() {
    let (ok, out) = demo(&["--loss", "1"]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAILED"), "{out}");
}
