//! `synack script`: one line per script, a diff on failure, the totals line last, and
//! the exit status.

use std::path::PathBuf;
use std::process::Command;

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1000>
+0  > S. 0:0(0) ack 1 win 65535 <mss 1460>
";

#[test]
fn reports_each_script_and_ends_with_the_totals() {
    let dir = std::env::temp_dir().join(format!("synack-script-cli-{}", std::process::id()));
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    write(&dir, "good.pkt", GOOD);
    write(
        &sub,
        "bad.pkt",
        &GOOD.replace("win 65535 <mss 1460>", "win 100 <mss 1460>"),
    );
    write(&sub, "skip.pkt", "0 `kldload tcpmd5`\n");
    write(&sub, "not-a-script.txt", "ignored");

    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["script", "--by-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !out.status.success(),
        "a failure must make the exit status non-zero:\n{stdout}"
    );
    assert!(
        stdout.contains("PASS ") && stdout.contains("good.pkt"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL ") && stdout.contains("bad.pkt:6: win 65535 instead of 100"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- expected: > S. 0:0(0) ack 1 win 100 <mss 1460>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+ actual:   > S. 0:0(0) ack 1 win 65535 <mss 1460>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIP ") && stdout.contains("`kldload` is not modelled"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sub ") && stdout.contains("0/2"),
        "per-directory rates:\n{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 1 failed, 1 skipped"),
        "{stdout}"
    );

    // Portable mode lets the window differ: everything passes, exit status 0.
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["script", "--portable", "-q"])
        .arg(dir.join("good.pkt"))
        .arg(sub.join("bad.pkt"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.trim(), "2 passed, 0 failed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_profiles_and_missing_paths_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["script", "--profile", "solaris", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile `solaris`"));
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["script", "/no/such/script.pkt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
