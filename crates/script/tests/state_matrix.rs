//! The state × segment matrix: generates `tests/scripts/state-event/*.pkt` and
//! `tests/scripts/close/*.pkt`, and checks that the committed files are what the
//! generator writes (`SYNACK_BLESS=1 cargo test -p synack-script --test state_matrix`
//! rewrites them after a deliberate change).
//!
//! Every script takes a connection to one state of RFC 9293 §3.3.2, injects one kind of
//! segment (SYN, SYN-ACK, ACK, data, FIN, RST, RST-ACK) at one position relative to the
//! receive window (left edge RCV.NXT, right edge RCV.NXT + RCV.WND − 1, just below the
//! window, just beyond it; for ACKs also an acknowledgment of something never sent and
//! one older than SND.UNA − MAX.SND.WND), and expects the reply §3.10.7 gives — with
//! RFC 5961's challenge ACKs, which synack implements — and the state and error the
//! application then sees. The `close` scripts call close() and shutdown() in every
//! state. They run in strict mode ([`scripts.rs`](./scripts.rs)): any segment the stack
//! sends that the script does not expect fails it.
//!
//! Conventions: the peer's ISN is 0 and the stack's is mapped to 0; the peer offers only
//! an MSS (no window scaling, timestamps or SACK), so windows are plain 16-bit values:
//! the stack's receive window is 65,535 and its right edge stays at 65,536 in script
//! sequence space. The peer's segments acknowledge SND.UNA, except ACK segments, which
//! acknowledge SND.NXT (and so acknowledge an outstanding FIN).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Closed,
    Listen,
    SynSent,
    SynRcvdPassive,
    SynRcvdActive,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

const STATES: &[St] = &[
    St::Closed,
    St::Listen,
    St::SynSent,
    St::SynRcvdPassive,
    St::SynRcvdActive,
    St::Established,
    St::FinWait1,
    St::FinWait2,
    St::CloseWait,
    St::Closing,
    St::LastAck,
    St::TimeWait,
];

impl St {
    fn name(self) -> &'static str {
        match self {
            St::Closed => "closed",
            St::Listen => "listen",
            St::SynSent => "syn-sent",
            St::SynRcvdPassive => "syn-rcvd-passive",
            St::SynRcvdActive => "syn-rcvd-active",
            St::Established => "established",
            St::FinWait1 => "fin-wait-1",
            St::FinWait2 => "fin-wait-2",
            St::CloseWait => "close-wait",
            St::Closing => "closing",
            St::LastAck => "last-ack",
            St::TimeWait => "time-wait",
        }
    }

    /// The synchronized states (§3.5.2), where the connection-under-test has a
    /// descriptor, 4.
    fn synchronized(self) -> bool {
        matches!(
            self,
            St::Established
                | St::FinWait1
                | St::FinWait2
                | St::CloseWait
                | St::Closing
                | St::LastAck
                | St::TimeWait
        )
    }

    /// The `TCPI_…` name of a state.
    fn tcpi(self) -> &'static str {
        match self {
            St::Closed => "TCPI_CLOSED",
            St::Listen => "TCPI_LISTEN",
            St::SynSent => "TCPI_SYN_SENT",
            St::SynRcvdPassive | St::SynRcvdActive => "TCPI_SYN_RECEIVED",
            St::Established => "TCPI_ESTABLISHED",
            St::FinWait1 => "TCPI_FIN_WAIT_1",
            St::FinWait2 => "TCPI_FIN_WAIT_2",
            St::CloseWait => "TCPI_CLOSE_WAIT",
            St::Closing => "TCPI_CLOSING",
            St::LastAck => "TCPI_LAST_ACK",
            St::TimeWait => "TCPI_TIME_WAIT",
        }
    }

    /// (RCV.NXT, SND.UNA, SND.NXT) in script sequence space once in this state.
    fn numbers(self) -> (u32, u32, u32) {
        match self {
            St::Established => (1, 1, 1),
            St::FinWait1 => (1, 1, 2),
            St::FinWait2 => (1, 2, 2),
            St::CloseWait => (2, 1, 1),
            St::Closing => (2, 1, 2),
            St::LastAck => (2, 1, 2),
            St::TimeWait => (2, 2, 2),
            St::SynRcvdPassive | St::SynRcvdActive => (1, 0, 1),
            St::SynSent => (0, 0, 1),
            St::Closed | St::Listen => (0, 0, 0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
    RstAck,
}

const KINDS: &[Kind] = &[
    Kind::Syn,
    Kind::SynAck,
    Kind::Ack,
    Kind::Data,
    Kind::Fin,
    Kind::Rst,
    Kind::RstAck,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Syn => "syn",
            Kind::SynAck => "syn-ack",
            Kind::Ack => "ack",
            Kind::Data => "data",
            Kind::Fin => "fin",
            Kind::Rst => "rst",
            Kind::RstAck => "rst-ack",
        }
    }

    fn flags(self) -> &'static str {
        match self {
            Kind::Syn => "S",
            Kind::SynAck => "S.",
            Kind::Ack => ".",
            Kind::Data => "P.",
            Kind::Fin => "F.",
            Kind::Rst => "R",
            Kind::RstAck => "R.",
        }
    }

    fn len(self) -> u32 {
        if self == Kind::Data {
            10
        } else {
            0
        }
    }

    fn has_ack(self) -> bool {
        !matches!(self, Kind::Syn | Kind::Rst)
    }
}

/// Where the segment's sequence number (or, for `AckNew`/`AckOld`, its acknowledgment)
/// lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    LeftEdge,
    RightEdge,
    BelowWindow,
    BeyondWindow,
    /// SEG.ACK > SND.NXT: acknowledges something never sent.
    AckUnsent,
    /// SEG.ACK < SND.UNA − MAX.SND.WND (RFC 5961 §5.2).
    AckAncient,
}

impl Pos {
    fn name(self) -> &'static str {
        match self {
            Pos::LeftEdge => "left-edge",
            Pos::RightEdge => "right-edge",
            Pos::BelowWindow => "below-window",
            Pos::BeyondWindow => "beyond-window",
            Pos::AckUnsent => "ack-unsent",
            Pos::AckAncient => "ack-ancient",
        }
    }
}

/// The right edge of the stack's receive window in script space: RCV.NXT 1 plus 65,535,
/// which never moves left (§3.8.6) and does not move right while nothing is read.
const RIGHT: u32 = 65_536;

/// What the stack does: its reply (a `>` line without time), how long after the
/// segment, and what the application sees afterwards.
struct Expect {
    reply: Option<String>,
    delay: &'static str,
    /// The state afterwards (of descriptor 4, 3 for a listener, or of the half-open
    /// connection counted by sockstat).
    state: St,
    so_error: &'static str,
    /// Why, in the words of the RFC.
    why: String,
}

fn ack_line(seq: u32, ack: u32) -> String {
    format!(".  {seq}:{seq}(0) ack {ack} win {}", RIGHT - ack)
}

fn script_header(title: &str, why: &str) -> String {
    let mut s = String::new();
    for line in title.lines() {
        let _ = writeln!(s, "// {line}");
    }
    let _ = writeln!(s, "//");
    for line in wrap(why, 86) {
        let _ = writeln!(s, "// {line}");
    }
    s.push_str("// Generated by crates/script/tests/state_matrix.rs; do not edit.\n\n");
    s.push_str("--tolerance_usecs=1000\n\n");
    s
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Lines that bring a connection to `st`; every state is reached by 0.8 s. Timers: the
/// handshake's round trip is 500 ms, so the RTO is 1.5 s (RFC 6298 §2.3) and a FIN
/// sent at 0.5 s is not retransmitted before the scripts end; the SYN-ACK of a
/// half-open connection is retransmitted at 1 s, after its scripts end.
fn preamble(st: St) -> String {
    let mut s = String::new();
    s.push_str("0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    match st {
        St::Closed => {
            s.push_str("+0    bind(3, ..., ...) = 0\n");
        }
        St::Listen => {
            s.push_str("+0    bind(3, ..., ...) = 0\n+0    listen(3, 1) = 0\n");
        }
        St::SynSent => {
            s.push_str("+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n");
            s.push_str("+0    connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n");
            s.push_str("+0    > S  0:0(0) win 65535 <...>\n");
        }
        St::SynRcvdActive => {
            s.push_str("+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n");
            s.push_str("+0    connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n");
            s.push_str("+0    > S  0:0(0) win 65535 <...>\n");
            s.push_str("+.1   < S  0:0(0) win 65535 <mss 1000>\n");
            s.push_str("+0    > S. 0:0(0) ack 1 win 65535 <mss 1460>\n");
        }
        _ => {
            s.push_str("+0    bind(3, ..., ...) = 0\n+0    listen(3, 1) = 0\n");
            s.push_str("+0    < S  0:0(0) win 65535 <mss 1000>\n");
            s.push_str("+0    > S. 0:0(0) ack 1 win 65535 <mss 1460>\n");
            if st != St::SynRcvdPassive {
                s.push_str("+.5   < .  1:1(0) ack 1 win 65535\n");
                s.push_str("+0    accept(3, ..., ...) = 4\n");
            }
            match st {
                St::FinWait1 | St::FinWait2 | St::Closing | St::TimeWait => {
                    s.push_str("+.1   shutdown(4, SHUT_WR) = 0\n");
                    s.push_str("+0    > F. 1:1(0) ack 1 win 65535\n");
                }
                _ => {}
            }
            match st {
                St::FinWait2 | St::TimeWait => {
                    s.push_str("+.1   < .  1:1(0) ack 2 win 65535\n");
                }
                St::CloseWait | St::LastAck => {
                    s.push_str("+.1   < F. 1:1(0) ack 1 win 65535\n");
                    s.push_str("+0    > .  1:1(0) ack 2 win 65534\n");
                }
                St::Closing => {
                    s.push_str("+.1   < F. 1:1(0) ack 1 win 65535\n");
                    s.push_str("+0    > .  2:2(0) ack 2 win 65534\n");
                }
                _ => {}
            }
            match st {
                St::TimeWait => {
                    s.push_str("+.1   < F. 1:1(0) ack 2 win 65535\n");
                    s.push_str("+0    > .  2:2(0) ack 2 win 65534\n");
                }
                St::LastAck => {
                    s.push_str("+.1   shutdown(4, SHUT_WR) = 0\n");
                    s.push_str("+0    > F. 1:1(0) ack 2 win 65534\n");
                }
                _ => {}
            }
        }
    }
    s
}

/// The checks after the segment: the error and state the application sees, and (for a
/// half-open passive connection, which has no descriptor) the count `sockstat` reports.
fn postamble(st_before: St, e: &Expect) -> String {
    let mut s = String::new();
    // Long enough for a delayed ACK (40 ms) that should not come to show up, short of
    // any retransmission timeout (1.5 s after a 500 ms round trip).
    match st_before {
        St::Closed | St::Listen | St::SynRcvdPassive => {
            let syn_rcvd = usize::from(e.state == St::SynRcvdPassive);
            let _ = writeln!(
                s,
                "+.1   `sockstat -4 -P tcp -s | grep -c SYN_RCVD | grep {syn_rcvd}`"
            );
            let established = usize::from(e.state == St::Established || e.state == St::CloseWait);
            if established == 1 {
                s.push_str("+0    accept(3, ..., ...) = 4\n");
                let _ = writeln!(
                    s,
                    "+0    getsockopt(4, SOL_SOCKET, SO_ERROR, [{}], [4]) = 0",
                    e.so_error
                );
                let _ = writeln!(s, "+0    %{{ assert tcpi_state == {} }}%", e.state.tcpi());
            } else if st_before != St::Closed {
                s.push_str("+0    fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n");
                s.push_str(
                    "+0    accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)\n",
                );
                s.push_str("+0    %{ assert tcpi_state == TCPI_LISTEN }%\n");
            } else {
                s.push_str("+0    %{ assert tcpi_state == TCPI_CLOSED }%\n");
            }
        }
        St::SynSent | St::SynRcvdActive => {
            let _ = writeln!(
                s,
                "+.1   getsockopt(3, SOL_SOCKET, SO_ERROR, [{}], [4]) = 0",
                e.so_error
            );
            let _ = writeln!(s, "+0    %{{ assert tcpi_state == {} }}%", e.state.tcpi());
        }
        _ => {
            let _ = writeln!(
                s,
                "+.1   getsockopt(4, SOL_SOCKET, SO_ERROR, [{}], [4]) = 0",
                e.so_error
            );
            let _ = writeln!(s, "+0    %{{ assert tcpi_state == {} }}%", e.state.tcpi());
        }
    }
    s
}

/// The segment to inject and the expected outcome, per RFC 9293 §3.10.7.
fn case(st: St, kind: Kind, pos: Pos) -> Option<(String, Expect)> {
    let (rcv_nxt, snd_una, snd_nxt) = st.numbers();
    let len = kind.len();
    match st {
        St::Closed | St::Listen => {
            if pos != Pos::LeftEdge {
                return None;
            }
            let seg_seq = 0;
            let seg_ack = if kind.has_ack() { 7 } else { 0 };
            let seg = segment(kind, seg_seq, seg_ack);
            let e = if st == St::Closed {
                closed_reply(kind, seg_seq, seg_ack)
            } else {
                listen_reply(kind, seg_seq, seg_ack)
            };
            Some((seg, e))
        }
        St::SynSent => syn_sent_case(kind, pos),
        St::SynRcvdPassive | St::SynRcvdActive => syn_rcvd_case(st, kind, pos),
        _ => {
            if matches!(pos, Pos::AckUnsent | Pos::AckAncient) && kind != Kind::Ack {
                return None;
            }
            let wnd = RIGHT - rcv_nxt;
            let seq = match pos {
                Pos::LeftEdge | Pos::AckUnsent | Pos::AckAncient => rcv_nxt,
                Pos::RightEdge => rcv_nxt + wnd - 1,
                Pos::BelowWindow => rcv_nxt.wrapping_sub(len.max(1)),
                Pos::BeyondWindow => rcv_nxt + wnd,
            };
            let ack = match (kind, pos) {
                (_, Pos::AckUnsent) => snd_nxt + 1,
                // More than MAX.SND.WND (65,535) below SND.UNA, in 32-bit space.
                (_, Pos::AckAncient) => snd_una.wrapping_sub(70_000),
                (Kind::Ack, _) => snd_nxt,
                _ => snd_una,
            };
            let seg = segment(kind, seq, ack);
            Some((seg, synchronized_reply(st, kind, pos, seq, ack, len)))
        }
    }
}

fn segment(kind: Kind, seq: u32, ack: u32) -> String {
    let len = kind.len();
    let end = seq.wrapping_add(len);
    let mut s = format!("{:<2} {seq}:{end}({len})", kind.flags());
    if kind.has_ack() {
        let _ = write!(s, " ack {ack}");
    }
    s.push_str(" win 65535");
    if matches!(kind, Kind::Syn | Kind::SynAck) {
        s.push_str(" <mss 1000>");
    }
    s
}

fn closed_reply(kind: Kind, seq: u32, ack: u32) -> Expect {
    let (reply, why) = match kind {
        Kind::Rst | Kind::RstAck => (
            None,
            "An incoming segment containing a RST is discarded.".to_string(),
        ),
        k if k.has_ack() => (
            Some(format!("R  {ack}:{ack}(0) win 0")),
            "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>.".to_string(),
        ),
        _ => {
            let seg_len = kind.len() + u32::from(kind == Kind::Syn);
            (
                Some(format!("R. 0:0(0) ack {} win 0", seq + seg_len)),
                "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>."
                    .to_string(),
            )
        }
    };
    Expect {
        reply,
        delay: "+0",
        state: St::Closed,
        so_error: "0",
        why: format!(
            "RFC 9293 §3.10.7.1, CLOSED: all data in the incoming segment is discarded. {why}"
        ),
    }
}

fn listen_reply(kind: Kind, _seq: u32, ack: u32) -> Expect {
    let (reply, state, why) = match kind {
        Kind::Rst | Kind::RstAck => (None, St::Listen, "first, check for a RST: an incoming RST should be ignored."),
        Kind::Syn => (
            Some("S. 0:0(0) ack 1 win 65535 <mss 1460>".to_string()),
            St::SynRcvdPassive,
            "third, check for a SYN: send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and enter SYN-RECEIVED.",
        ),
        _ => (
            Some(format!("R  {ack}:{ack}(0) win 0")),
            St::Listen,
            "second, check for an ACK: any acknowledgment is bad in LISTEN; <SEQ=SEG.ACK><CTL=RST>.",
        ),
    };
    Expect {
        reply,
        delay: "+0",
        state,
        so_error: "0",
        why: format!("RFC 9293 §3.10.7.2, LISTEN: {why}"),
    }
}

fn syn_sent_case(kind: Kind, pos: Pos) -> Option<(String, Expect)> {
    // In SYN-SENT the position that matters is SEG.ACK: acceptable (ISS+1), at or below
    // ISS, or beyond SND.NXT (§3.10.7.3 "first, check the ACK bit").
    let ack = match pos {
        Pos::LeftEdge => 1,
        Pos::BelowWindow => 0,
        Pos::BeyondWindow => 2,
        _ => return None,
    };
    if !kind.has_ack() && pos != Pos::LeftEdge {
        return None;
    }
    let seg = segment(kind, 0, ack);
    let acceptable = ack == 1;
    let e = match kind {
        _ if kind.has_ack() && !acceptable && matches!(kind, Kind::RstAck) => Expect {
            reply: None,
            delay: "+0",
            state: St::SynSent,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: an unacceptable ACK on a RST: drop the segment.".into(),
        },
        _ if kind.has_ack() && !acceptable => Expect {
            reply: Some(format!("R  {ack}:{ack}(0) win 0")),
            delay: "+0",
            state: St::SynSent,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: if SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset <SEQ=SEG.ACK><CTL=RST> and discard the segment.".into(),
        },
        Kind::RstAck => Expect {
            reply: None,
            delay: "+0",
            state: St::Closed,
            so_error: "ECONNREFUSED",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: a RST with an acceptable ACK: the user is signalled \"error: connection reset\", enter CLOSED (the application sees ECONNREFUSED).".into(),
        },
        Kind::Rst => Expect {
            reply: None,
            delay: "+0",
            state: St::SynSent,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: a RST without an ACK is dropped.".into(),
        },
        Kind::SynAck => Expect {
            reply: Some(ack_line(1, 1)),
            delay: "+0",
            state: St::Established,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: a SYN with an acceptable ACK: our SYN is acknowledged, enter ESTABLISHED and send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.".into(),
        },
        Kind::Syn => Expect {
            reply: Some("S. 0:0(0) ack 1 win 65535 <mss 1460>".into()),
            delay: "+0",
            state: St::SynRcvdActive,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: a SYN without an ACK (simultaneous open, MUST-10): enter SYN-RECEIVED and send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.".into(),
        },
        _ => Expect {
            reply: None,
            delay: "+0",
            state: St::SynSent,
            so_error: "0",
            why: "RFC 9293 §3.10.7.3, SYN-SENT: if neither the SYN nor the RST bit is set, drop the segment.".into(),
        },
    };
    Some((seg, e))
}

fn syn_rcvd_case(st: St, kind: Kind, pos: Pos) -> Option<(String, Expect)> {
    let passive = st == St::SynRcvdPassive;
    let (rcv_nxt, _, _) = st.numbers();
    let wnd = RIGHT - rcv_nxt;
    let len = kind.len();
    let (seq, ack) = match pos {
        Pos::LeftEdge => (rcv_nxt, 1),
        Pos::RightEdge => (rcv_nxt + wnd - 1, 1),
        Pos::BelowWindow => (rcv_nxt.wrapping_sub(len.max(1)), 1),
        Pos::BeyondWindow => (rcv_nxt + wnd, 1),
        Pos::AckUnsent if kind == Kind::Ack => (rcv_nxt, 2),
        _ => return None,
    };
    let seg = segment(kind, seq, ack);
    let acceptable = match (len, wnd) {
        (0, _) => seq.wrapping_sub(rcv_nxt) < wnd,
        _ => {
            seq.wrapping_sub(rcv_nxt) < wnd || seq.wrapping_add(len - 1).wrapping_sub(rcv_nxt) < wnd
        }
    };
    // The handshake's ACK takes either kind of SYN-RECEIVED to ESTABLISHED.
    let after_est = St::Established;
    let e = if !acceptable {
        if matches!(kind, Kind::Rst | Kind::RstAck) {
            Expect {
                reply: None,
                delay: "+0",
                state: st,
                so_error: "0",
                why:
                    "RFC 9293 §3.10.7.4, first check: an unacceptable segment with RST is dropped."
                        .into(),
            }
        } else if kind == Kind::SynAck && seq == 0 && !passive {
            Expect {
                reply: None,
                delay: "+0",
                state: St::Established,
                so_error: "0",
                why: "RFC 9293 §3.5 Figure 7 (simultaneous open), line 6: the peer's SYN-ACK (SEG.SEQ = IRS, SEG.ACK = ISS + 1) acknowledges our SYN: ESTABLISHED, with nothing more to send.".into(),
            }
        } else if kind == Kind::Syn && seq == 0 {
            Expect {
                reply: Some("S. 0:0(0) ack 1 win 65535 <mss 1460>".into()),
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, first check: the peer's SYN again (SEG.SEQ = IRS) is not acceptable; it says our SYN-ACK was lost, so the SYN-ACK is sent again (as §3.5 Figure 9's retransmission).".into(),
            }
        } else {
            Expect {
                reply: Some(ack_line(1, 1)),
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, first check: an unacceptable segment is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped.".into(),
            }
        }
    } else {
        match kind {
            Kind::Rst | Kind::RstAck if seq == rcv_nxt => Expect {
                reply: None,
                delay: "+0",
                state: if passive { St::Listen } else { St::Closed },
                so_error: if passive { "0" } else { "ECONNREFUSED" },
                why: if passive {
                    "RFC 9293 §3.10.7.4, second check, SYN-RECEIVED: a RST on a connection from a passive OPEN returns it to LISTEN (MUST-11); the half-open connection is gone.".into()
                } else {
                    "RFC 9293 §3.10.7.4, second check, SYN-RECEIVED: a RST on a connection from an active OPEN refuses it: CLOSED, \"connection refused\" (MUST-11).".into()
                },
            },
            Kind::Rst | Kind::RstAck => Expect {
                reply: Some(ack_line(1, 1)),
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, second check with RFC 5961 §3.2: an in-window RST not at RCV.NXT gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.".into(),
            },
            Kind::Syn | Kind::SynAck if passive => Expect {
                reply: None,
                delay: "+0",
                state: St::Listen,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, fourth check, SYN-RECEIVED: a SYN on a connection from a passive OPEN returns it to LISTEN.".into(),
            },
            Kind::Syn | Kind::SynAck => Expect {
                reply: Some(ack_line(1, 1)),
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, fourth check with RFC 5961 §4: a SYN in the window of a connection from an active OPEN gets a challenge ACK.".into(),
            },
            Kind::Ack if ack == 2 => Expect {
                reply: Some("R  2:2(0) win 0".into()),
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, fifth check, SYN-RECEIVED: an unacceptable ACK (SEG.ACK > SND.NXT) gets <SEQ=SEG.ACK><CTL=RST>.".into(),
            },
            Kind::Ack => Expect {
                reply: None,
                delay: "+0",
                state: after_est,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, fifth check, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT: enter ESTABLISHED.".into(),
            },
            Kind::Data if seq == rcv_nxt => Expect {
                reply: Some(ack_line(1, 11)),
                delay: "+.04",
                state: after_est,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4: the ACK completes the handshake (ESTABLISHED) and the text is accepted; the acknowledgment is delayed (40 ms, §3.8.6.3).".into(),
            },
            Kind::Data => Expect {
                reply: Some(ack_line(1, 1)),
                delay: "+0",
                state: after_est,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4: the ACK completes the handshake (ESTABLISHED); text beyond RCV.NXT is held out of order and an immediate duplicate ACK is sent (RFC 5681 §4.2).".into(),
            },
            Kind::Fin if seq == rcv_nxt => Expect {
                reply: Some(ack_line(1, 2)),
                delay: "+0",
                state: St::CloseWait,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4: the ACK completes the handshake, then the FIN (eighth step): CLOSE-WAIT, ACK the FIN.".into(),
            },
            Kind::Fin => Expect {
                reply: Some(ack_line(1, 1)),
                delay: "+0",
                state: after_est,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4: the ACK completes the handshake; a FIN beyond RCV.NXT waits for the data before it and is acknowledged at once.".into(),
            },
        }
    };
    Some((seg, e))
}

fn synchronized_reply(st: St, kind: Kind, pos: Pos, seq: u32, ack: u32, len: u32) -> Expect {
    let (rcv_nxt, snd_una, snd_nxt) = st.numbers();
    let wnd = RIGHT - rcv_nxt;
    let acceptable = match len {
        0 => seq.wrapping_sub(rcv_nxt) < wnd,
        _ => {
            seq.wrapping_sub(rcv_nxt) < wnd || seq.wrapping_add(len - 1).wrapping_sub(rcv_nxt) < wnd
        }
    };
    let plain_ack = |why: &str| Expect {
        reply: Some(ack_line(snd_nxt, rcv_nxt)),
        delay: "+0",
        state: st,
        so_error: "0",
        why: why.to_string(),
    };
    if matches!(kind, Kind::Syn | Kind::SynAck) {
        return plain_ack(
            "RFC 5961 §4 (RFC 9293 §3.10.7.4, first and fourth checks): a SYN in a synchronized state, in the window or not, gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped.",
        );
    }
    if !acceptable {
        if matches!(kind, Kind::Rst | Kind::RstAck) {
            return Expect {
                reply: None,
                delay: "+0",
                state: st,
                so_error: "0",
                why: "RFC 9293 §3.10.7.4, first check: a RST outside the window is dropped.".into(),
            };
        }
        return plain_ack(
            "RFC 9293 §3.10.7.4, first check: an unacceptable segment gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped.",
        );
    }
    if matches!(kind, Kind::Rst | Kind::RstAck) {
        if seq == rcv_nxt {
            let (state, err) = if st == St::TimeWait {
                (St::Closed, "0")
            } else {
                (St::Closed, "ECONNRESET")
            };
            return Expect {
                reply: None,
                delay: "+0",
                state,
                so_error: err,
                why: "RFC 9293 §3.10.7.4, second check (with RFC 5961 §3.2: SEG.SEQ = RCV.NXT exactly): the connection is reset and enters CLOSED; the application is told (ECONNRESET), except in TIME-WAIT, where both directions had already closed normally (MUST-12).".into(),
            };
        }
        return plain_ack(
            "RFC 5961 §3.2 (RFC 9293 §3.10.7.4, second check): an in-window RST not exactly at RCV.NXT gets a challenge ACK.",
        );
    }
    // Fifth: the ACK field.
    if pos == Pos::AckUnsent {
        return plain_ack(
            "RFC 9293 §3.10.7.4, fifth check: an ACK of something not yet sent (SEG.ACK > SND.NXT): send an ACK, drop the segment.",
        );
    }
    if pos == Pos::AckAncient {
        return plain_ack(
            "RFC 5961 §5.2 (RFC 9293 MAY-12, §3.10.7.4): SEG.ACK below SND.UNA − MAX.SND.WND: a challenge ACK, and the segment is dropped.",
        );
    }
    let fin_acked = ack == snd_nxt && snd_una < snd_nxt;
    let mut state = st;
    let mut why = String::from("RFC 9293 §3.10.7.4: the segment is acceptable.");
    if fin_acked {
        match st {
            St::FinWait1 => {
                state = St::FinWait2;
                why.push_str(" Fifth check: it acknowledges our FIN: FIN-WAIT-1 → FIN-WAIT-2.");
            }
            St::Closing => {
                state = St::TimeWait;
                why.push_str(" Fifth check: it acknowledges our FIN: CLOSING → TIME-WAIT.");
            }
            St::LastAck => {
                return Expect {
                    reply: None,
                    delay: "+0",
                    state: St::Closed,
                    so_error: "0",
                    why: "RFC 9293 §3.10.7.4, fifth check, LAST-ACK: our FIN is acknowledged: delete the TCB, enter CLOSED and return.".into(),
                };
            }
            _ => {}
        }
    }
    let fin_received = matches!(st, St::CloseWait | St::Closing | St::LastAck | St::TimeWait);
    match kind {
        Kind::Ack => Expect {
            reply: None,
            delay: "+0",
            state,
            so_error: "0",
            why: format!("{why} Nothing needs an answer."),
        },
        Kind::Data if fin_received => Expect {
            reply: None,
            delay: "+0",
            state,
            so_error: "0",
            why: format!(
                "{why} Seventh, the text: after the peer's FIN \"this should not occur ... ignore the segment text\"."
            ),
        },
        Kind::Data if seq == rcv_nxt => Expect {
            reply: Some(ack_line(snd_nxt, rcv_nxt + len)),
            delay: "+.04",
            state,
            so_error: "0",
            why: format!(
                "{why} Seventh, the text is accepted in order; its ACK is delayed 40 ms (§3.8.6.3, MUST-40)."
            ),
        },
        Kind::Data => Expect {
            reply: Some(ack_line(snd_nxt, rcv_nxt)),
            delay: "+0",
            state,
            so_error: "0",
            why: format!(
                "{why} Seventh, text beyond RCV.NXT (only the octet at the right edge fits) is held out of order (SHLD-31) and acknowledged at once (RFC 5681 §4.2)."
            ),
        },
        Kind::Fin if fin_received => {
            if state == St::Closed {
                unreachable!("LAST-ACK with its FIN acknowledged returned above")
            }
            Expect {
                reply: Some(ack_line(snd_nxt, rcv_nxt)),
                delay: "+0",
                state,
                so_error: "0",
                why: format!(
                    "{why} Eighth, a FIN again: acknowledge it and remain in the state (in TIME-WAIT, restart the 2 MSL timeout)."
                ),
            }
        }
        Kind::Fin if seq == rcv_nxt => {
            let after = match state {
                St::Established => St::CloseWait,
                St::FinWait2 => St::TimeWait,
                St::FinWait1 => St::Closing,
                other => other,
            };
            Expect {
                reply: Some(ack_line(snd_nxt, rcv_nxt + 1)),
                delay: "+0",
                state: after,
                so_error: "0",
                why: format!(
                    "{why} Eighth, the FIN: advance RCV.NXT over it, acknowledge it; {} → {}.",
                    state_name(state),
                    state_name(after)
                ),
            }
        }
        Kind::Fin => Expect {
            reply: Some(ack_line(snd_nxt, rcv_nxt)),
            delay: "+0",
            state,
            so_error: "0",
            why: format!(
                "{why} The FIN lies beyond RCV.NXT: it is remembered until the data before it arrives, and acknowledged at once."
            ),
        },
        _ => unreachable!("handled above"),
    }
}

fn state_name(st: St) -> &'static str {
    match st {
        St::Closed => "CLOSED",
        St::Listen => "LISTEN",
        St::SynSent => "SYN-SENT",
        St::SynRcvdPassive | St::SynRcvdActive => "SYN-RECEIVED",
        St::Established => "ESTABLISHED",
        St::FinWait1 => "FIN-WAIT-1",
        St::FinWait2 => "FIN-WAIT-2",
        St::CloseWait => "CLOSE-WAIT",
        St::Closing => "CLOSING",
        St::LastAck => "LAST-ACK",
        St::TimeWait => "TIME-WAIT",
    }
}

/// The state × segment scripts: file name and text.
fn state_event_scripts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let positions = [
        Pos::LeftEdge,
        Pos::RightEdge,
        Pos::BelowWindow,
        Pos::BeyondWindow,
        Pos::AckUnsent,
        Pos::AckAncient,
    ];
    for &st in STATES {
        for &kind in KINDS {
            for &pos in &positions {
                let Some((seg, e)) = case(st, kind, pos) else {
                    continue;
                };
                let name = if matches!(st, St::Closed | St::Listen) {
                    format!("{}-{}.pkt", st.name(), kind.name())
                } else {
                    format!("{}-{}-{}.pkt", st.name(), kind.name(), pos.name())
                };
                let title = format!(
                    "{} arriving in {}{}.",
                    kind.name().to_uppercase(),
                    state_name(st),
                    if matches!(st, St::Closed | St::Listen) {
                        String::new()
                    } else if st == St::SynSent {
                        format!(", SEG.ACK {}", pos.name())
                    } else {
                        format!(", at the window's {}", pos.name())
                    }
                );
                let mut s = script_header(&title, &e.why);
                s.push_str(&preamble(st));
                let _ = writeln!(s, "+.1   < {seg}");
                if let Some(r) = &e.reply {
                    let _ = writeln!(s, "{:<5} > {r}", e.delay);
                }
                s.push_str(&postamble(st, &e));
                if st == St::SynSent && e.state == St::SynSent {
                    // Still SYN-SENT: our SYN is retransmitted after the initial RTO (1 s).
                    s.push_str("1.0   > S  0:0(0) win 65535 <...>\n");
                }
                out.push((name, s));
            }
        }
    }
    out
}

/// close() and shutdown(SHUT_WR) in every state the application can hold a socket in.
fn close_scripts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for &st in STATES {
        for call in ["close", "shutdown"] {
            let Some((why, lines)) = close_case(st, call) else {
                continue;
            };
            let name = format!("{call}-in-{}.pkt", st.name());
            let title = format!("{call}() in {}.", state_name(st));
            let mut s = script_header(&title, &why);
            s.push_str(&preamble(st));
            s.push_str(&lines);
            out.push((name, s));
        }
    }
    // Closing with unread data: RST instead of FIN (SHLD-3).
    let why = "RFC 9293 §3.6.1 (SHLD-3): a CLOSE with received data still unread means data is lost; the stack sends a RST <SEQ=SND.NXT><CTL=RST> instead of a FIN, and the connection is gone.";
    let mut s = script_header("close() in ESTABLISHED with unread data.", why);
    s.push_str(&preamble(St::Established));
    s.push_str("+.1   < P. 1:11(10) ack 1 win 65535\n");
    s.push_str("+0    close(4) = 0\n");
    s.push_str("+0    > R  1:1(0) win 0\n");
    s.push_str("+.1   < .  11:11(0) ack 1 win 65535\n");
    s.push_str("+0    > R  1:1(0) win 0\n");
    out.push(("close-in-established-with-unread-data.pkt".into(), s));
    let why = "RFC 9293 §3.6.1 (SHLD-3): data arriving after CLOSE cannot be delivered; the stack answers it with a RST and the connection is gone.";
    let mut s = script_header("Data arriving in FIN-WAIT-1 after close().", why);
    s.push_str(&preamble(St::Established));
    s.push_str("+.1   close(4) = 0\n");
    s.push_str("+0    > F. 1:1(0) ack 1 win 65535\n");
    s.push_str("+.1   < P. 1:11(10) ack 1 win 65535\n");
    s.push_str("+0    > R  2:2(0) win 0\n");
    s.push_str("+.1   < .  11:11(0) ack 2 win 65535\n");
    s.push_str("+0    > R  2:2(0) win 0\n");
    out.push(("data-after-close-in-fin-wait-1.pkt".into(), s));
    out
}

fn close_case(st: St, call: &str) -> Option<(String, String)> {
    let fd = if st.synchronized() { 4 } else { 3 };
    let c = |c: &str| {
        if c == "close" {
            format!("+.1   close({fd}) = 0\n")
        } else {
            format!("+.1   shutdown({fd}, SHUT_WR) = 0\n")
        }
    };
    let mut s = c(call);
    let why: String;
    match (st, call) {
        (St::Closed, "close") => {
            why = "A socket that never connected: close() releases it; a later segment finds no TCB and is answered per §3.10.7.1.".into();
            s.push_str("+.1   < S  0:0(0) win 65535 <mss 1000>\n+0    > R. 0:0(0) ack 1 win 0\n");
        }
        (St::Closed | St::Listen, "shutdown") => {
            why = "shutdown() needs a connection: ENOTCONN (POSIX), nothing is sent.".into();
            s = "+.1   shutdown(3, SHUT_WR) = -1 ENOTCONN (Socket is not connected)\n".to_string();
            s.push_str("+.1   getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n");
        }
        (St::Listen, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in LISTEN: any outstanding RECEIVEs are returned, the TCB is deleted; a SYN then finds no listener (§3.10.7.1).".into();
            s.push_str("+.1   < S  0:0(0) win 65535 <mss 1000>\n+0    > R. 0:0(0) ack 1 win 0\n");
        }
        (St::SynSent, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in SYN-SENT: delete the TCB; nothing is sent, and a SYN-ACK arriving later finds no connection (§3.10.7.1: <SEQ=SEG.ACK><CTL=RST>).".into();
            if call == "shutdown" {
                s.push_str("+0    getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n");
                s.push_str("+0    %{ assert tcpi_state == TCPI_CLOSED }%\n");
            }
            s.push_str("+.1   < S. 0:0(0) ack 1 win 65535 <mss 1000>\n+0    > R  1:1(0) win 0\n");
        }
        (St::SynRcvdPassive, _) => {
            why = "The half-open connection belongs to the listener: closing the listening socket drops it (it is never accepted); the peer's ACK completing the handshake then finds no connection and gets <SEQ=SEG.ACK><CTL=RST>.".into();
            if call == "shutdown" {
                return None;
            }
            s.push_str("+.1   < .  1:1(0) ack 1 win 65535\n+0    > R  1:1(0) win 0\n");
        }
        (St::SynRcvdActive, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in SYN-RECEIVED: the FIN is queued \"for processing after entering ESTABLISHED\": it follows the ACK that completes the handshake, and the connection goes on to FIN-WAIT-1.".into();
            s.push_str("+.1   < .  1:1(0) ack 1 win 65535\n+0    > F. 1:1(0) ack 1 win 65535\n");
            s.push_str("+.1   < F. 1:1(0) ack 2 win 65535\n+0    > .  2:2(0) ack 2 win 65534\n");
            if call == "shutdown" {
                s.push_str("+0    %{ assert tcpi_state == TCPI_TIME_WAIT }%\n");
            }
        }
        (St::Established, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in ESTABLISHED: queue a FIN after the data and enter FIN-WAIT-1; the peer's ACK and FIN take it through FIN-WAIT-2 to TIME-WAIT.".into();
            s.push_str("+0    > F. 1:1(0) ack 1 win 65535\n");
            s.push_str("+.1   < F. 1:1(0) ack 2 win 65535\n+0    > .  2:2(0) ack 2 win 65534\n");
            if call == "shutdown" {
                s.push_str("+0    %{ assert tcpi_state == TCPI_TIME_WAIT }%\n");
                s.push_str("+0    read(4, ..., 100) = 0\n");
            }
        }
        (St::FinWait1 | St::FinWait2, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in FIN-WAIT-1/2: \"Strictly speaking, this is an error\"; the FIN was already sent, so nothing is sent again; the connection continues to TIME-WAIT.".into();
            if st == St::FinWait1 {
                s.push_str("+.1   < .  1:1(0) ack 2 win 65535\n");
            }
            s.push_str("+.1   < F. 1:1(0) ack 2 win 65535\n+0    > .  2:2(0) ack 2 win 65534\n");
            if call == "shutdown" {
                s.push_str("+0    %{ assert tcpi_state == TCPI_TIME_WAIT }%\n");
            }
        }
        (St::CloseWait, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in CLOSE-WAIT: queue a FIN and enter LAST-ACK (the specification's \"CLOSING\" here is RFC 793's erratum); its ACK ends the connection.".into();
            s.push_str("+0    > F. 1:1(0) ack 2 win 65534\n");
            if call == "shutdown" {
                s.push_str("+0    %{ assert tcpi_state == TCPI_LAST_ACK }%\n");
            }
            s.push_str("+.1   < .  2:2(0) ack 2 win 65535\n");
            if call == "shutdown" {
                s.push_str("+0    %{ assert tcpi_state == TCPI_CLOSED }%\n");
                s.push_str("+0    read(4, ..., 100) = 0\n");
            }
        }
        (St::Closing | St::LastAck | St::TimeWait, _) => {
            why = "RFC 9293 §3.10.4, CLOSE in CLOSING, LAST-ACK or TIME-WAIT: \"error: connection closing\"; synack treats the repeated close as done, and nothing is sent.".into();
            if call == "shutdown" {
                let _ = writeln!(s, "+0    %{{ assert tcpi_state == {} }}%", st.tcpi());
            }
            if st != St::TimeWait {
                s.push_str("+.1   < .  2:2(0) ack 2 win 65535\n");
            }
            if call == "shutdown" {
                let after = if st == St::LastAck {
                    "TCPI_CLOSED"
                } else {
                    "TCPI_TIME_WAIT"
                };
                let _ = writeln!(s, "+0    %{{ assert tcpi_state == {after} }}%");
            }
        }
        _ => return None,
    }
    Some((why, s))
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scripts")
}

fn check_or_bless(dir: &str, scripts: Vec<(String, String)>) {
    let dir = scripts_dir().join(dir);
    let bless = std::env::var_os("SYNACK_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "pkt") {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &scripts {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    if !bless {
        let on_disk = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pkt"))
                })
                .count()
            })
            .unwrap_or(0);
        assert_eq!(
            on_disk,
            scripts.len(),
            "{}: {} scripts on disk, the generator makes {}; run with SYNACK_BLESS=1",
            dir.display(),
            on_disk,
            scripts.len()
        );
    }
    assert!(
        stale.is_empty(),
        "generated scripts out of date in {}: {stale:?}; run SYNACK_BLESS=1 cargo test -p synack-script --test state_matrix",
        dir.display()
    );
}

#[test]
fn state_event_scripts_are_up_to_date() {
    let scripts = state_event_scripts();
    // Every state meets every kind of segment.
    for &st in STATES {
        for &kind in KINDS {
            assert!(
                scripts.iter().any(|(n, _)| n.starts_with(&format!(
                    "{}-{}",
                    st.name(),
                    kind.name()
                ))),
                "{st:?} × {kind:?} missing"
            );
        }
    }
    check_or_bless("state-event", scripts);
}

#[test]
fn close_scripts_are_up_to_date() {
    check_or_bless("close", close_scripts());
}
