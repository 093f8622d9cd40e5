//! The runner itself: that it notices what it must notice. Each test runs a small
//! script against the endpoint and checks the verdict and the message — a wrong flag,
//! window, option, time, return value or state must fail the script, and the
//! strict and portable modes must change exactly what they claim to.

use synack_script::report::Failure;
use synack_script::{run_source, RunOptions, ScriptResult, Status};

const HANDSHAKE: &str = "
--tolerance_usecs=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S  0:0(0) win 65535 <mss 1000>
+0    > S. 0:0(0) ack 1 win 65535 <mss 1460>
+.1   < .  1:1(0) ack 1 win 65535
+0    accept(3, ..., ...) = 4
";

fn run(body: &str, opts: &RunOptions) -> ScriptResult {
    run_source("inline.pkt", &format!("{HANDSHAKE}{body}"), opts)
}

fn default() -> RunOptions {
    RunOptions::default()
}

fn strict() -> RunOptions {
    RunOptions {
        strict: true,
        ..RunOptions::default()
    }
}

fn portable() -> RunOptions {
    RunOptions {
        portable: true,
        ..RunOptions::default()
    }
}

fn passes(r: &ScriptResult) {
    assert_eq!(r.status, Status::Passed, "{}", r.render(true));
}

fn fails(r: &ScriptResult, line: usize, needle: &str) -> Failure {
    match &r.status {
        Status::Failed(f) => {
            assert!(
                f.message.contains(needle),
                "message {:?} lacks {needle:?}\n{}",
                f.message,
                r.render(true)
            );
            assert_eq!(f.line, line, "{}", r.render(true));
            (**f).clone()
        }
        other => panic!(
            "expected a failure containing {needle:?}, got {other:?}\n{}",
            r.render(true)
        ),
    }
}

#[test]
fn the_baseline_passes() {
    passes(&run(
        "+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 65535\n",
        &strict(),
    ));
}

#[test]
fn a_wrong_flag_fails_with_both_segments_shown() {
    let r = run(
        "+0 close(4) = 0\n+0 > R. 1:1(0) ack 1 win 65535\n",
        &default(),
    );
    let f = fails(&r, 11, "flags F. instead of R.");
    assert_eq!(f.expected.as_deref(), Some("> R. 1:1(0) ack 1 win 65535"));
    assert!(
        f.actual
            .as_deref()
            .unwrap()
            .starts_with("> F. 1:1(0) ack 1 win 65535"),
        "{f:?}"
    );
}

#[test]
fn a_wrong_sequence_or_ack_number_fails() {
    fails(
        &run(
            "+0 close(4) = 0\n+0 > F. 2:2(0) ack 1 win 65535\n",
            &default(),
        ),
        11,
        "seq 1 instead of 2",
    );
    fails(
        &run(
            "+0 close(4) = 0\n+0 > F. 1:1(0) ack 9 win 65535\n",
            &default(),
        ),
        11,
        "ack 1 instead of 9",
    );
}

#[test]
fn windows_are_exact_unless_portable_and_zero_is_never_equal_to_nonzero() {
    let body = "+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 32768\n";
    fails(&run(body, &default()), 11, "win 65535 instead of 32768");
    passes(&run(body, &portable()));
    let body = "+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 0\n";
    fails(&run(body, &portable()), 11, "win 65535 instead of 0");
}

#[test]
fn option_order_matters_unless_portable() {
    let script = "
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 2>
+0  > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 3,sackOK,TS val 5 ecr 1>
";
    let r = run_source("o.pkt", script, &default());
    fails(&r, 6, "options differ");
    // Portable: the set is the same; the wscale value (an OS default) may differ.
    passes(&run_source("o.pkt", script, &portable()));
    // A missing option is a difference in either mode.
    let missing = script.replace("sackOK,TS val 5", "TS val 5");
    let r = run_source("o.pkt", &missing, &portable());
    fails(&r, 6, "unexpected option `sackOK`");
    // And so is a wrong TS echo (the value echoed is the peer's, a protocol rule).
    let wrong_echo = script.replace("TS val 5 ecr 1", "TS val 5 ecr 2");
    fails(
        &run_source("o.pkt", &wrong_echo, &portable()),
        6,
        "TS ecr 1 instead of 2",
    );
}

#[test]
fn a_segment_that_never_comes_or_comes_early_fails() {
    let r = run(
        "+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 65535\n+0 > . 2:2(0) ack 1 win 65535\n",
        &default(),
    );
    fails(&r, 12, "the stack sent nothing");
    let r = run(
        "+0 close(4) = 0\n+.5 > F. 1:1(0) ack 1 win 65535\n",
        &default(),
    );
    fails(&r, 11, "sent at 0.100000 s, expected at 0.600000 s");
    // A range accepts it anywhere inside; `*` at any time.
    passes(&run(
        "+0 close(4) = 0\n+0~+.5 > F. 1:1(0) ack 1 win 65535\n",
        &default(),
    ));
    passes(&run(
        "+0 close(4) = 0\n* > F. 1:1(0) ack 1 win 65535\n",
        &default(),
    ));
}

#[test]
fn an_unexpected_segment_fails_only_in_strict_mode_at_the_end() {
    let body = "+0 close(4) = 0\n";
    passes(&run(body, &default()));
    let r = run(body, &strict());
    let f = fails(
        &r,
        0,
        "strict: 1 segment(s) sent that no line of the script expected",
    );
    assert!(f.actual.unwrap().contains("> F. 1:1(0) ack 1 win 65535"));
    // In any mode, an unexpected segment before an expected one is a mismatch.
    let r = run(
        "+0 close(4) = 0\n+.1 < F. 1:1(0) ack 2 win 65535\n+0 > . 2:2(0) ack 2 win 65534\n",
        &default(),
    );
    fails(&r, 12, "flags F. instead of .");
}

#[test]
fn return_values_errnos_and_socket_options_are_checked() {
    fails(
        &run("+0 write(4, ..., 10) = 11\n", &default()),
        10,
        "write(): returned 10",
    );
    let r = run(
        "+0 fcntl(4, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n+0 read(4, ..., 10) = -1 ECONNRESET\n",
        &default(),
    );
    fails(&r, 11, "read(): failed with EAGAIN, not ECONNRESET");
    // EWOULDBLOCK is EAGAIN.
    passes(&run(
        "+0 fcntl(4, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n+0 read(4, ..., 10) = -1 EWOULDBLOCK\n",
        &default(),
    ));
    fails(
        &run(
            "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n",
            &default(),
        ),
        10,
        "SO_ERROR is 0",
    );
    let r = run(
        "+0 getsockopt(4, SOL_SOCKET, SO_RCVBUF, [65700], [4]) = 0\n",
        &default(),
    );
    fails(&r, 10, "option value 65535, expected 65700");
    passes(&run(
        "+0 getsockopt(4, SOL_SOCKET, SO_RCVBUF, [65700], [4]) = 0\n",
        &portable(),
    ));
    fails(
        &run("+0 close(9) = 0\n", &default()),
        10,
        "returned -1 EBADF",
    );
}

#[test]
fn state_assertions_and_sockstat_are_checked() {
    passes(&run(
        "+0 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n",
        &default(),
    ));
    fails(
        &run(
            "+0 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n",
            &default(),
        ),
        10,
        "tcpi_state is ESTABLISHED",
    );
    passes(&run(
        "+0 `sockstat -4 -P tcp -s | grep -c ESTABLISHED | grep 1`\n",
        &default(),
    ));
    fails(
        &run(
            "+0 `sockstat -4 -P tcp -s | grep packetdril | grep -c LISTEN | grep 2`\n",
            &default(),
        ),
        10,
        "1 of the script's socket(s) in LISTEN (expected 2)",
    );
}

#[test]
fn blocking_calls_must_return_in_their_window() {
    // A blocking read returns when the data arrives at 0.3 s.
    passes(&run(
        "0.1...0.3 read(4, ..., 100) = 10\n0.3 < P. 1:11(10) ack 1 win 65535\n",
        &default(),
    ));
    // The script says it returns at 0.2, but the data comes at 0.3.
    let r = run(
        "0.1...0.2 read(4, ..., 100) = 10\n0.3 < P. 1:11(10) ack 1 win 65535\n",
        &default(),
    );
    fails(
        &r,
        10,
        "the blocking call returned at 0.300000 s, expected at 0.200000 s",
    );
    // A blocking call that never returns.
    let r = run("0.1...0.2 read(4, ..., 100) = 10\n", &default());
    fails(&r, 10, "had not returned");
}

#[test]
fn ifdef_selects_blocks_and_defines_can_be_added() {
    let body = "#ifdef FreeBSD\n+0 close(4) = 1\n#else\n+0 close(4) = 0\n#endif\n";
    passes(&run(body, &default()));
    let with_freebsd = RunOptions {
        defines: vec!["FreeBSD".into()],
        ..RunOptions::default()
    };
    fails(&run(body, &with_freebsd), 11, "close(): returned 0");
}

#[test]
fn unsupported_constructs_skip_and_syntax_errors_fail() {
    let r = run("+0 `ip link set dev tun0 up`\n", &default());
    assert!(
        matches!(&r.status, Status::Skipped(why) if why.contains("`ip` is not modelled")),
        "{r:?}"
    );
    let r = run("+0 < . 1:1(0) ack 1 win 65535 <md5 valid>\n", &default());
    assert!(
        matches!(&r.status, Status::Skipped(why) if why.contains("md5")),
        "{r:?}"
    );
    let r = run("+0 > . 1:5(3) ack 1\n", &default());
    assert!(
        matches!(&r.status, Status::Failed(f) if f.message.starts_with("syntax error")),
        "{r:?}"
    );
    // An unknown sysctl skips; a known one asking for what synack cannot do fails.
    let r = run_source(
        "s.pkt",
        "0 `sysctl -w net.inet.tcp.nonexistent=1`\n",
        &default(),
    );
    assert!(matches!(&r.status, Status::Skipped(_)), "{r:?}");
    let r = run_source(
        "s.pkt",
        "0 `sysctl -w net.inet.tcp.ecn.enable=1`\n",
        &default(),
    );
    assert!(
        matches!(&r.status, Status::Failed(f) if f.message.contains("ECN")),
        "{r:?}"
    );
}

#[test]
fn sequence_numbers_are_relative_to_each_sides_isn() {
    // As in packetdrill: SYNs carry absolute numbers (the peer's ISN is what its SYN
    // says; the stack's random ISN is mapped to the one the script writes), every
    // later segment numbers relative to its sender's ISN.
    let script = "
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 1000000:1000000(0) win 65535 <mss 1000>
+0  > S. 5:5(0) ack 1000001 win 65535 <mss 1460>
+0  < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  < P. 1:4(3) ack 1 win 65535
+.04 > . 1:1(0) ack 4 win 65532
";
    passes(&run_source("isn.pkt", script, &strict()));
    // A wrong relative ACK is caught: the stack ACKs 4, not 5.
    let wrong = script.replace("ack 4 win 65532", "ack 5 win 65532");
    fails(
        &run_source("isn.pkt", &wrong, &default()),
        10,
        "ack 4 instead of 5",
    );
}

#[test]
fn ipv6_scripts_run_over_ipv6() {
    let script = "
--ip_version=ipv6
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535
+0  > S. 0:0(0) ack 1 win 65535 <mss 1440>
";
    passes(&run_source("v6.pkt", script, &strict()));
}

#[test]
fn profiles_change_the_configuration() {
    // The FreeBSD profile's send buffer is 32 KiB: a 40,000-byte non-blocking write
    // takes 32,768; synack's own default (256 KiB) takes it all.
    let body = "+0 fcntl(4, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n+0 write(4, ..., 40000) = 32768\n";
    let freebsd = RunOptions {
        profile: "freebsd".into(),
        ..RunOptions::default()
    };
    passes(&run(body, &freebsd));
    fails(&run(body, &default()), 11, "write(): returned 40000");
    let r = run_source(
        "p.pkt",
        "0 `sysctl -w net.inet.tcp.msl=1000`\n",
        &RunOptions {
            profile: "nosuch".into(),
            ..RunOptions::default()
        },
    );
    assert!(
        matches!(&r.status, Status::Skipped(why) if why.contains("unknown profile")),
        "{r:?}"
    );
}
