//! `synack explain`: every scenario's output is golden (deterministic: fixed seed,
//! virtual time), and the ladders show what each scenario is about.
//!
//! `SYNACK_UPDATE_GOLDEN=1 cargo test -p synack-cli --test explain` rewrites the golden
//! files after a deliberate change; read the diff before committing it.

use std::path::Path;
use std::process::Command;

fn synack(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run synack");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("SYNACK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SYNACK_UPDATE_GOLDEN=1 makes it)", path.display()));
    assert!(got == want, "{} differs; got:\n{got}", path.display());
}

const SCENARIOS: [&str; 10] = [
    "handshake",
    "old-duplicate-syn",
    "simultaneous-open",
    "close",
    "half-close",
    "simultaneous-close",
    "lost-last-ack",
    "time-wait-shield",
    "half-open-reset",
    "syn-flood",
];

#[test]
fn list_names_every_scenario() {
    let (ok, out, _) = synack(&["explain", "--list"]);
    assert!(ok);
    for name in SCENARIOS {
        assert!(
            out.contains(&format!("  {name} ")),
            "{name} missing:\n{out}"
        );
    }
    assert!(!out.contains("not available yet"));
    golden("explain-list.txt", &out);
}

#[test]
fn every_scenario_matches_its_golden_output() {
    for name in SCENARIOS {
        let (ok, out, err) = synack(&["explain", name]);
        assert!(ok, "{name}: {err}");
        assert!(!out.contains('\x1b'), "no colour when not on a terminal");
        golden(&format!("explain-{name}.txt"), &out);
    }
}

#[test]
fn scenarios_show_what_they_are_about() {
    let show = |name: &str| synack(&["explain", name]).1;
    let has = |name: &str, out: &str, what: &[&str]| {
        for w in what {
            assert!(out.contains(w), "{name}: no {w:?} in\n{out}");
        }
    };
    has(
        "handshake",
        &show("handshake"),
        &["SYN-SENT", "SYN-RECEIVED", "CTL=SYN,ACK", "ESTABLISHED"],
    );
    has(
        "old-duplicate-syn",
        &show("old-duplicate-syn"),
        &["(injected)", "CTL=RST", "--> LISTEN", "old duplicate"],
    );
    let open = show("simultaneous-open");
    assert!(open.matches("SYN-RECEIVED").count() >= 2, "{open}");
    has(
        "close",
        &show("close"),
        &[
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "CLOSE-WAIT",
            "LAST-ACK",
            "TIME-WAIT",
            "(2 MSL)",
        ],
    );
    has(
        "half-close",
        &show("half-close"),
        &["CLOSE-WAIT", "<DATA=1448>", "FIN-WAIT-2"],
    );
    let both = show("simultaneous-close");
    assert!(
        both.matches("--> CLOSING").count() + both.matches("CLOSING     <--").count() >= 2,
        "{both}"
    );
    has(
        "lost-last-ack",
        &show("lost-last-ack"),
        &["X (lost)", "(retransmission)", "TIME-WAIT"],
    );
    has(
        "time-wait-shield",
        &show("time-wait-shield"),
        &[
            "TIME-WAIT   <-- <SEQ=1><ACK=1><CTL=PSH,ACK><DATA=500>",
            "still holds the",
        ],
    );
    has(
        "half-open-reset",
        &show("half-open-reset"),
        &["CTL=RST", "crashes", "half-open"],
    );
    has(
        "syn-flood",
        &show("syn-flood"),
        &[
            "<CTL=SYN,ACK> <-- LISTEN",
            "--> ESTABLISHED",
            "SYN cookie",
            "stays in",
            "cookie back",
        ],
    );
}

#[test]
fn unknown_scenarios_fail_clearly() {
    let (ok, _, err) = synack(&["explain", "nope"]);
    assert!(!ok);
    assert!(err.contains("handshake"), "{err}");
}

#[test]
fn explain_writes_svg_and_a_capture_that_draws_the_same_states() {
    let dir = std::env::temp_dir().join(format!("synack-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("close.svg");
    let pcap = dir.join("close.pcapng");
    let (ok, out, err) = synack(&[
        "explain",
        "lost-last-ack",
        "--svg",
        svg.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("wrote"));
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.contains("TIME-WAIT") && drawing.contains("<svg"));
    // The capture, read back: the same states for both ends, the loss included.
    let (ok, ladder, err) = synack(&["ladder", pcap.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(ladder.contains("TIME-WAIT / CLOSED"), "{ladder}");
    assert!(ladder.contains("--> X (lost)"), "{ladder}");
    assert!(ladder.contains("(retransmission)"), "{ladder}");
    std::fs::remove_dir_all(&dir).ok();
}
