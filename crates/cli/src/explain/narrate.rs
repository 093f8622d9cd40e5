//! Turning a ladder into numbered explanations: for each line, what was sent and why,
//! what the receiver made of it, the state changes and what each side now knows.
//!
//! Nothing here is scripted per scenario: the text is derived from the trace (segments,
//! arrivals, losses, state changes), so it stays true to whatever the simulator did.

use synack::State;
use synack_trace::ladder::{Line, LineKind};
use synack_trace::{Segment, Side, Trace};

/// What one side knows, as far as the handshake and the close go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Knows {
    /// It has chosen (and sent) its ISN.
    own_isn: bool,
    /// It has received the peer's ISN.
    peer_isn: bool,
    /// The peer has acknowledged its SYN: the peer knows its ISN.
    syn_acked: bool,
    /// The peer said it will send no more (its FIN arrived).
    peer_done: bool,
    /// Its own FIN was acknowledged: the peer knows it will send no more.
    fin_acked: bool,
}

impl Knows {
    fn describe(&self, peer: &str) -> String {
        let mut facts = Vec::new();
        if self.own_isn {
            facts.push("its own ISN".to_string());
        }
        if self.peer_isn {
            facts.push(format!("{peer}'s ISN"));
        }
        if self.syn_acked {
            facts.push(format!("that {peer} has its ISN"));
        }
        if self.peer_done {
            facts.push(format!("that {peer} has finished sending"));
        }
        if self.fin_acked {
            facts.push(format!("that {peer} knows it has finished"));
        }
        if facts.is_empty() {
            "nothing of this connection".to_string()
        } else {
            facts.join(", ")
        }
    }
}

fn name(side: Side) -> &'static str {
    match side {
        Side::A => "A",
        Side::B => "B",
    }
}

fn state_meaning(state: State) -> &'static str {
    match state {
        State::Closed => "no connection",
        State::Listen => "a server waiting for a SYN",
        State::SynSent => "its SYN sent, waiting for the answer",
        State::SynReceived => "a SYN received and answered, waiting for the ACK of its own",
        State::Established => "both directions open",
        State::FinWait1 => "its FIN sent, not yet acknowledged",
        State::FinWait2 => "its FIN acknowledged, waiting for the peer's",
        State::CloseWait => "the peer has finished, the application has not closed yet",
        State::Closing => "both FINs sent, waiting for the ACK of its own",
        State::LastAck => "its FIN sent after the peer's, waiting for the last ACK",
        State::TimeWait => "waiting 2\u{d7}MSL before forgetting the connection",
    }
}

/// Numbers as the ladder shows them.
struct Numbers {
    relative: bool,
    base: [u32; 2],
}

impl Numbers {
    fn seq(&self, side: Side, v: u32) -> u32 {
        if self.relative {
            v.wrapping_sub(self.base[side.index()])
        } else {
            v
        }
    }
}

/// Explanations for every line of `trace`'s ladder, as `(line number, text)`.
pub fn explain(trace: &Trace, lines: &[Line], relative: bool) -> Vec<(usize, String)> {
    let numbers = Numbers {
        relative,
        base: [
            trace.initial_seq(Side::A).unwrap_or(0),
            trace.initial_seq(Side::B).unwrap_or(0),
        ],
    };
    let mut states = [
        trace.peer(Side::A).initial_state,
        trace.peer(Side::B).initial_state,
    ];
    let mut knows = [Knows::default(); 2];
    if states[0].is_synchronized() && states[1].is_synchronized() {
        for k in &mut knows {
            k.own_isn = true;
            k.peer_isn = true;
            k.syn_acked = true;
        }
    }
    let mut out = Vec::new();
    for line in lines {
        let before = states;
        let before_knows = knows;
        for t in &line.transitions {
            if let Some(tr) = trace.transitions().get(*t) {
                states[tr.side.index()] = tr.to;
            }
        }
        let mut text = Vec::new();
        match line.kind {
            LineKind::Initial => {
                text.push(format!(
                    "Before anything happens, A is {} ({}) and B is {} ({}).",
                    states[0],
                    state_meaning(states[0]),
                    states[1],
                    state_meaning(states[1])
                ));
            }
            LineKind::State(side) => {
                for t in &line.transitions {
                    if let Some(tr) = trace.transitions().get(*t) {
                        text.push(standalone(side, tr.from, tr.to));
                    }
                }
            }
            LineKind::Send(id) | LineKind::Arrive(id) | LineKind::SendArrive(id) => {
                let Some(seg) = trace.segments().get(id.0) else {
                    continue;
                };
                let sent = matches!(line.kind, LineKind::Send(_) | LineKind::SendArrive(_));
                let arrived = matches!(line.kind, LineKind::Arrive(_) | LineKind::SendArrive(_));
                let (x, y) = (seg.from, seg.from.other());
                let f = seg.summary.flags;
                if sent
                    && f.syn()
                    && f.ack()
                    && !seg.injected
                    && before[x.index()] == State::Listen
                    && states[x.index()] == State::Listen
                {
                    // A SYN-ACK sent from LISTEN keeps no state: a SYN cookie (RFC 4987).
                    text.push(format!(
                        "{x} answers with a SYN-ACK that acknowledges {y}'s SYN (ACK={}), but \
                         its SYN queue is full: instead of queueing the connection it makes \
                         its ISN (SEQ={}) a SYN cookie (a keyed hash of the 4-tuple, {y}'s \
                         ISN and the time, with {y}'s MSS folded in) and forgets the SYN. \
                         {x} stays in LISTEN; all it will need is in the cookie.",
                        numbers.seq(y, seg.summary.ack),
                        numbers.seq(x, seg.summary.seq),
                        x = name(x),
                        y = name(y)
                    ));
                } else if sent || seg.injected || seg.duplicate || !arrived {
                    text.push(what(seg, &numbers, sent));
                } else {
                    text.push(format!(
                        "{}'s segment from before ({}) reaches {}.",
                        name(x),
                        short(seg, &numbers),
                        name(y)
                    ));
                }
                // Learn.
                if sent && seg.summary.flags.syn() && !seg.injected {
                    knows[x.index()].own_isn = true;
                }
                if arrived && !seg.corrupted {
                    learn(&mut knows, seg, states[y.index()], before[y.index()]);
                }
                // State changes on this line.
                let mut changed = false;
                for t in &line.transitions {
                    if let Some(tr) = trace.transitions().get(*t) {
                        changed = true;
                        text.push(transition(tr.side, tr.from, tr.to, seg));
                    }
                }
                let occupies = seg.summary.len > 0 || f.syn() || f.fin();
                if sent && !arrived && seg.arrived_at.is_none() && !occupies {
                    text.push(format!(
                        "The network loses it: {} learns nothing. Nobody retransmits a bare \
                         ACK; if {} was waiting for it, {}'s own timer will resend what the \
                         ACK would have acknowledged.",
                        name(y),
                        name(y),
                        name(y)
                    ));
                } else if sent && !arrived && seg.arrived_at.is_none() {
                    text.push(format!(
                        "The network loses it: {} learns nothing, and {} will send it again \
                         when its retransmission timer runs out.",
                        name(y),
                        name(x)
                    ));
                } else if sent && !arrived {
                    text.push(
                        "It is still in the network while the next lines happen.".to_string(),
                    );
                }
                if arrived && !changed {
                    if let Some(s) = no_change(trace, seg, before[y.index()], &numbers) {
                        text.push(s);
                    }
                }
            }
        }
        for side in [Side::A, Side::B] {
            if matches!(states[side.index()], State::Closed | State::Listen) {
                knows[side.index()] = Knows::default();
            }
        }
        if knows != before_knows {
            text.push(format!(
                "Now A knows {}; B knows {}.",
                knows[0].describe("B"),
                knows[1].describe("A")
            ));
        }
        out.push((line.number, text.join(" ")));
    }
    out
}

fn short(seg: &Segment, numbers: &Numbers) -> String {
    let s = &seg.summary;
    let mut t = format!("SEQ={}", numbers.seq(seg.from, s.seq));
    if s.flags.ack() {
        t.push_str(&format!(" ACK={}", numbers.seq(seg.from.other(), s.ack)));
    }
    t.push_str(&format!(" {}", s.flags));
    t
}

/// What the segment is and why it was sent.
fn what(seg: &Segment, numbers: &Numbers, sent: bool) -> String {
    let s = &seg.summary;
    let f = s.flags;
    let (x, y) = (name(seg.from), name(seg.from.other()));
    let seq = numbers.seq(seg.from, s.seq);
    let ack = numbers.seq(seg.from.other(), s.ack);
    if seg.injected {
        let kind = if f.syn() { "SYN" } else { "segment" };
        return format!(
            "A {kind} claiming to come from {x} (SEQ={seq}) arrives at {y}, but {x} did not \
             send it in this connection: an old duplicate from an earlier one, delayed in \
             the network."
        );
    }
    if seg.duplicate {
        return format!("The network delivers a second copy of {x}'s segment to {y}.");
    }
    let mut t = if f.rst() {
        format!("{x} sends a reset (RST, SEQ={seq}).")
    } else if f.syn() && f.ack() {
        format!(
            "{x} answers with its own SYN, carrying its ISN (SEQ={seq}), and acknowledges \
             {y}'s SYN: ACK={ack} is the next sequence number it expects from {y}."
        )
    } else if f.syn() {
        format!(
            "{x} opens the connection with a SYN carrying its initial sequence number \
             (ISN, SEQ={seq})."
        )
    } else if f.fin() && s.len > 0 {
        format!(
            "{x} sends its last {} bytes with a FIN: it has nothing more to send.",
            s.len
        )
    } else if f.fin() {
        format!(
            "{x} sends a FIN (SEQ={seq}): it has nothing more to send. A FIN occupies one \
             sequence number, so it can be acknowledged like data."
        )
    } else if s.len > 0 {
        format!(
            "{x} sends {} bytes of data (sequence numbers {seq} to {}).",
            s.len,
            seq.wrapping_add(s.len - 1)
        )
    } else if seg.marks.keep_alive {
        format!("{x} sends a keep-alive probe.")
    } else {
        format!("{x} acknowledges everything {y} sent before sequence number {ack} (ACK={ack}).")
    };
    if seg.retransmission && sent {
        t.push_str(&format!(
            " It is a retransmission: {x} got no acknowledgment in time."
        ));
    }
    if seg.corrupted {
        t.push_str(&format!(
            " A bit is flipped on the way: {y}'s checksum rejects it, as if it were lost."
        ));
    }
    if seg.marks.out_of_order {
        t.push_str(" The network reordered it.");
    }
    if let Some(n) = seg.marks.dup_ack {
        t.push_str(&format!(" Duplicate ACK #{n}: something is missing."));
    }
    t
}

/// Update what the receiver knows from an arrival.
fn learn(knows: &mut [Knows; 2], seg: &Segment, after: State, before: State) {
    let y = seg.from.other();
    let f = seg.summary.flags;
    let k = &mut knows[y.index()];
    if f.rst() {
        if after != before {
            *k = Knows {
                own_isn: false,
                ..Knows::default()
            };
        }
        return;
    }
    if f.syn()
        && !seg.injected
        && after != State::Closed
        && (after != before || after.is_synchronized())
    {
        k.peer_isn = true;
    }
    if f.syn() && seg.injected && matches!(after, State::SynReceived) {
        // It believes it learned an ISN: the old one.
        k.peer_isn = true;
    }
    if f.ack() {
        // A synchronized state means this end's SYN has been acknowledged.
        k.syn_acked |= after.is_synchronized();
        if matches!(
            (before, after),
            (State::FinWait1, State::FinWait2)
                | (State::FinWait1, State::TimeWait)
                | (State::Closing, State::TimeWait)
                | (State::LastAck, State::Closed)
        ) {
            k.fin_acked = true;
        }
    }
    if f.fin() && after != before {
        k.peer_done = true;
    }
    if after == State::Listen {
        *k = Knows::default();
    }
    if f.syn() && after.is_synchronized() {
        k.own_isn = true;
    }
    if f.ack() && !f.syn() && before == State::Listen && after.is_synchronized() {
        // A SYN cookie came back: the ACK carries the peer's ISN + 1 and our ISN + 1.
        k.own_isn = true;
        k.peer_isn = true;
    }
}

/// Why a state changed on a segment's line.
fn transition(side: Side, from: State, to: State, seg: &Segment) -> String {
    let me = name(side);
    let other = name(side.other());
    let by_sender = seg.from == side;
    use State::*;
    match (from, to) {
        (Closed, SynSent) => format!(
            "{me}'s application called connect: {me} is SYN-SENT. It knows its own ISN but \
             not {other}'s."
        ),
        (Listen, SynReceived) if !seg.summary.flags.syn() => format!(
            "The ACK brings {me}'s cookie back (ACK = cookie + 1). {me} checks the hash: it \
             is one {me} made in the last two minutes for this 4-tuple and {other}'s ISN \
             (SEQ - 1). Only now does {me} create the connection, with the MSS the cookie \
             carried (window scale and SACK come back in the echoed timestamp)."
        ),
        (Listen, SynReceived) => format!(
            "{me} was listening: it records {other}'s ISN, answers, and waits in \
             SYN-RECEIVED. It cannot know yet whether {other} will get the answer."
        ),
        (SynSent, SynReceived) => format!(
            "{me} gets a SYN while its own is unanswered: a simultaneous open. It learns \
             {other}'s ISN and moves to SYN-RECEIVED; its own SYN still needs an ACK."
        ),
        (SynSent, Established) => format!(
            "{me} now has {other}'s ISN and knows {other} received its own: ESTABLISHED. \
             Its ACK will tell {other} the same."
        ),
        (SynReceived, Established) if seg.summary.flags.syn() => {
            format!("{me} learns that {other} received its SYN: ESTABLISHED.")
        }
        (SynReceived, Established) => format!(
            "{me} learns that {other} received its SYN: ESTABLISHED. Both ends now know both \
             ISNs and know that the other knows: that takes three segments, because each \
             SYN must be acknowledged and the middle segment does two jobs."
        ),
        (SynReceived, Listen) => format!(
            "The reset tells {me} this half-open connection was a mistake: because it came \
             from LISTEN it simply goes back to LISTEN (RFC 9293, MUST-11), and nothing \
             reached the application."
        ),
        (Established | SynReceived, FinWait1) => format!(
            "{me}'s application closed its sending side: FIN-WAIT-1. {me} can still receive."
        ),
        (Established, CloseWait) => format!(
            "{me} learns {other} has finished sending: CLOSE-WAIT. Its application reads \
             end-of-stream, and {me} may go on sending as long as it likes."
        ),
        (FinWait1, FinWait2) => format!(
            "{me} learns its FIN arrived: FIN-WAIT-2. Its direction is closed; it waits for \
             {other}'s FIN."
        ),
        (CloseWait, LastAck) => format!(
            "{me}'s application closes too: {me} sends its FIN and waits in LAST-ACK for \
             the acknowledgment."
        ),
        (FinWait1, Closing) => format!(
            "{other}'s FIN arrives before the ACK of {me}'s own: both closed at once. {me} \
             acknowledges it and waits in CLOSING for the ACK of its own FIN."
        ),
        (FinWait2 | FinWait1 | Closing, TimeWait) => format!(
            "{me} has seen both FINs acknowledged or arrive and enters TIME-WAIT. It must \
             linger for 2\u{d7}MSL: if its last ACK is lost, {other} will resend its FIN and \
             {me} must still be there to acknowledge it; and any old segment of this \
             connection dies in the network before the same 4-tuple can be used again."
        ),
        (LastAck, Closed) => format!(
            "{me}'s FIN is acknowledged: nothing is left to say, CLOSED. The side that \
             closes second needs no TIME-WAIT."
        ),
        (_, Closed) if seg.summary.flags.rst() && by_sender => format!(
            "{me} aborts the connection with it: CLOSED, and the data still in flight is lost."
        ),
        (TimeWait, Closed) if seg.summary.flags.rst() => format!(
            "{me} accepts the reset even in TIME-WAIT and forgets the connection early: the \
             \"TIME-WAIT assassination\" of RFC 1337. RFC 9293 allows it, and Linux does it \
             too unless net.ipv4.tcp_rfc1337 is set."
        ),
        (_, Closed) if seg.summary.flags.rst() => format!(
            "{me} accepts the reset (its sequence number is exactly the one {me} expects) \
             and drops the connection: CLOSED. Its application hears \"connection reset\"."
        ),
        (from, to) => format!("{me} goes from {from} to {to}."),
    }
}

/// A state change with no segment on its line (a timer, or a crash).
fn standalone(side: Side, from: State, to: State) -> String {
    let me = name(side);
    match (from, to) {
        (State::TimeWait, State::Closed) => format!(
            "{me}'s 2\u{d7}MSL timer expires: CLOSED. Only now may the same 4-tuple carry a \
             new connection."
        ),
        (_, State::Closed) => format!(
            "{me} crashes and restarts: it forgets the connection without sending anything. \
             The other end cannot tell; the connection is now half-open."
        ),
        (from, to) => format!("{me}'s timer moves it from {from} to {to}."),
    }
}

/// What an arrival that changed no state did.
fn no_change(trace: &Trace, seg: &Segment, state: State, numbers: &Numbers) -> Option<String> {
    let y = seg.from.other();
    let me = name(y);
    let other = name(seg.from);
    let f = seg.summary.flags;
    if seg.corrupted {
        return Some(format!("{me} discards it."));
    }
    if state == State::TimeWait {
        return Some(if f.fin() {
            format!(
                "{me} is still in TIME-WAIT, so it can acknowledge the retransmitted FIN \
                 again, and it restarts its 2\u{d7}MSL timer. Without TIME-WAIT {other} \
                 would have got a reset and reported an error for a connection that had \
                 closed normally."
            )
        } else {
            format!(
                "{me} is in TIME-WAIT: the segment is old, outside the window, so {me} only \
                 answers with an ACK of where it stands. Because TIME-WAIT still holds the \
                 4-tuple, this stray segment cannot be taken for data of a new connection."
            )
        });
    }
    if matches!(state, State::Closed) && !f.rst() {
        return Some(format!(
            "{me} has no connection for this 4-tuple, so it answers with a reset."
        ));
    }
    if matches!(state, State::Closed) && f.rst() {
        return Some(format!(
            "{me} has no connection: the reset changes nothing."
        ));
    }
    if state == State::SynSent && f.syn() && f.ack() {
        let isn = trace.initial_seq(y).unwrap_or(0);
        if seg.summary.ack != isn.wrapping_add(1) {
            return Some(format!(
                "{me} is in SYN-SENT and this SYN-ACK acknowledges ACK={}, not its own SYN \
                 (which would be ACK={}): it answers a SYN {me} never sent in this \
                 connection. {me} refuses it with a reset and keeps waiting.",
                numbers.seq(y, seg.summary.ack),
                numbers.seq(y, isn.wrapping_add(1))
            ));
        }
    }
    if f.rst() {
        return Some(format!(
            "{me} ignores this reset: it does not match the connection it has."
        ));
    }
    if state.is_synchronized() && seg.summary.len > 0 {
        return Some(format!(
            "{me} takes the data in order and will acknowledge it."
        ));
    }
    None
}
