//! Shell lines (`` `…` ``) and code blocks (`%{ … }%`), mapped onto the runner.
//!
//! There is no shell and no kernel: each command the FreeBSD suite uses is given its
//! meaning for synack, and anything else makes the script be skipped.
//!
//! - `sysctl -w name=value …` changes the profile ([`crate::profile::Profile::apply_sysctl`]):
//!   the endpoint's [`synack::Config`] (if the endpoint does not exist yet — it is built
//!   at the first packet or call, after the `sysctl` lines at the top of a script) and
//!   the socket layer's defaults. A value synack cannot be configured to honour fails
//!   the script at that line; an unknown name skips the script.
//! - `sockstat -4|-6 -P tcp [-p PORT] -s [| grep packetdril] | grep -c STATE | grep N` is
//!   an assertion: N sockets are in STATE (FreeBSD's names, `SYN_RCVD`, `TIME_WAIT`…).
//!   Without `grep packetdril` it counts every TCP endpoint on the port — the script's
//!   sockets and whatever the endpoint holds for the 4-tuples the script used
//!   (half-open connections, TIME-WAIT records); with it, only the script's sockets.
//! - `tcpdrop -s STATE` drops (aborts, no RST for TIME-WAIT) the script's connections
//!   in that state.
//! - `%{ assert tcpi_state == TCPI_X }%` checks the state of the latest call's socket;
//!   `%{ assert tcpi_options == … }%` the options the connection negotiated, from
//!   [`synack::Endpoint::stats`] (TCPI_OPT_TIMESTAMPS, _SACK, _WSCALE; _ECN never, as
//!   synack does not negotiate ECN).

use crate::exec::{Exec, Step, Stop};
use crate::profile::SysctlEffect;
use crate::sockets::Kind;
use synack::State;

/// Commands the runner cannot give a meaning to, found before the script runs.
pub(crate) fn unsupported(cmd: &str) -> Option<String> {
    let stages: Vec<Vec<&str>> = cmd
        .split('|')
        .map(|s| s.split_whitespace().collect())
        .collect();
    let first = stages
        .first()
        .and_then(|s| s.first())
        .copied()
        .unwrap_or("");
    match first {
        "sysctl" => {
            for arg in &stages[0][1..] {
                if arg.starts_with('-') {
                    continue;
                }
                let Some((name, value)) = arg.split_once('=') else {
                    return Some(format!(
                        "`sysctl {arg}` reads a value (only `name=value` is modelled)"
                    ));
                };
                let mut probe = crate::profile::Profile::synack();
                if probe.apply_sysctl(name, value) == SysctlEffect::Unknown {
                    return Some(format!("sysctl `{name}` is not modelled"));
                }
            }
            None
        }
        "sockstat" => parse_sockstat(&stages).err(),
        "tcpdrop" => match stages[0].as_slice() {
            ["tcpdrop", "-s", state] if state_by_name(state).is_some() => None,
            _ => Some(format!("`{cmd}` (only `tcpdrop -s STATE` is modelled)")),
        },
        "" => Some("an empty shell command".into()),
        other => Some(format!("the shell command `{other}` is not modelled")),
    }
}

/// Code blocks the runner cannot evaluate.
pub(crate) fn unsupported_code(code: &str) -> Option<String> {
    parse_assert(code).err()
}

/// A `sockstat` pipeline: the state to count, the count expected, the port filter, and
/// whether only the script's own sockets count.
struct Sockstat {
    state: State,
    state_name: String,
    count: String,
    port: Option<u16>,
    own_only: bool,
}

fn parse_sockstat(stages: &[Vec<&str>]) -> Result<Sockstat, String> {
    let mut port = None;
    let first = &stages[0];
    let mut i = 1;
    while i < first.len() {
        match first[i] {
            "-4" | "-6" | "-s" | "-c" | "-l" => {}
            "-P" => {
                i += 1;
                if first.get(i) != Some(&"tcp") {
                    return Err("sockstat for a protocol other than TCP".into());
                }
            }
            "-p" => {
                i += 1;
                port = Some(
                    first
                        .get(i)
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| "sockstat -p without a port".to_string())?,
                );
            }
            other => return Err(format!("sockstat option `{other}` is not modelled")),
        }
        i += 1;
    }
    let mut own_only = false;
    let mut state = None;
    let mut count = None;
    for stage in &stages[1..] {
        match stage.as_slice() {
            ["grep", "packetdril"] | ["grep", "packetdrill"] => own_only = true,
            ["grep", "-c", name] => {
                state = Some(
                    state_by_name(name)
                        .map(|s| (s, name.to_string()))
                        .ok_or_else(|| format!("sockstat: unknown state `{name}`"))?,
                )
            }
            ["grep", n] if state.is_some() && n.chars().all(|c| c.is_ascii_digit()) => {
                count = Some(n.to_string())
            }
            other => {
                return Err(format!(
                    "sockstat pipeline stage `{}` is not modelled",
                    other.join(" ")
                ))
            }
        }
    }
    match (state, count) {
        (Some((state, state_name)), Some(count)) => Ok(Sockstat {
            state,
            state_name,
            count,
            port,
            own_only,
        }),
        _ => Err("a sockstat pipeline that is not `… | grep -c STATE | grep N`".into()),
    }
}

fn state_by_name(name: &str) -> Option<State> {
    Some(match name {
        "CLOSED" => State::Closed,
        "LISTEN" => State::Listen,
        "SYN_SENT" => State::SynSent,
        "SYN_RCVD" | "SYN_RECEIVED" => State::SynReceived,
        "ESTABLISHED" => State::Established,
        "CLOSE_WAIT" => State::CloseWait,
        "FIN_WAIT_1" => State::FinWait1,
        "CLOSING" => State::Closing,
        "LAST_ACK" => State::LastAck,
        "FIN_WAIT_2" => State::FinWait2,
        "TIME_WAIT" => State::TimeWait,
        _ => return None,
    })
}

fn tcpi_state(name: &str) -> Option<State> {
    state_by_name(name.strip_prefix("TCPI_")?)
}

/// `assert LHS == RHS` with LHS `tcpi_state` or `tcpi_options`.
enum Assert {
    State(State),
    Options(u32),
}

fn parse_assert(code: &str) -> Result<Assert, String> {
    let code = code.trim();
    let Some(rest) = code.strip_prefix("assert") else {
        return Err(format!(
            "code block `{code}` (only `assert tcpi_… == …` is modelled)"
        ));
    };
    let Some((lhs, rhs)) = rest.split_once("==") else {
        return Err(format!("code block `{code}`"));
    };
    let (lhs, rhs) = (lhs.trim(), rhs.trim());
    match lhs {
        "tcpi_state" => tcpi_state(rhs)
            .map(Assert::State)
            .ok_or_else(|| format!("unknown state `{rhs}`")),
        "tcpi_options" => {
            let mut v = 0;
            for part in rhs.trim_matches(['(', ')']).split('|') {
                v |= match part.trim() {
                    "0" => 0,
                    "TCPI_OPT_TIMESTAMPS" => 1,
                    "TCPI_OPT_SACK" => 2,
                    "TCPI_OPT_WSCALE" => 4,
                    "TCPI_OPT_ECN" => 8,
                    other => return Err(format!("unknown tcpi_options value `{other}`")),
                };
            }
            Ok(Assert::Options(v))
        }
        other => Err(format!(
            "code block about `{other}` (only tcpi_state and tcpi_options are modelled)"
        )),
    }
}

impl Exec<'_> {
    pub(crate) fn command(&mut self, cmd: &str) -> Step {
        let stages: Vec<Vec<&str>> = cmd
            .split('|')
            .map(|s| s.split_whitespace().collect())
            .collect();
        match stages[0][0] {
            "sysctl" => {
                for arg in &stages[0][1..] {
                    if arg.starts_with('-') {
                        continue;
                    }
                    let (name, value) = arg.split_once('=').expect("checked by `unsupported`");
                    let before = self.profile.config.clone();
                    match self.profile.apply_sysctl(name, value) {
                        SysctlEffect::Applied => {
                            if self.ep.is_some() && self.profile.config != before {
                                self.notes.push(format!(
                                    "line {}: sysctl {name}={value} comes after the endpoint was created and changes only later sockets' defaults",
                                    self.line
                                ));
                            }
                        }
                        SysctlEffect::NoOp(why) => self
                            .notes
                            .push(format!("line {}: sysctl {name}={value}: {why}", self.line)),
                        SysctlEffect::Unsupported(why) => {
                            return Err(self.fail(format!("sysctl {name}={value}: {why}")))
                        }
                        SysctlEffect::Unknown => {
                            return Err(Stop::Skip(format!("sysctl `{name}` is not modelled")))
                        }
                    }
                }
                Ok(())
            }
            "sockstat" => {
                let s = parse_sockstat(&stages).map_err(Stop::Skip)?;
                let n = self.count_sockets(s.state, s.port, s.own_only);
                // `grep N` succeeds if the count's line contains N.
                if n.to_string().contains(&s.count) {
                    Ok(())
                } else {
                    Err(self.fail(format!(
                        "{} {} socket(s) in {} (expected {})",
                        n,
                        if s.own_only { "of the script's" } else { "TCP" },
                        s.state_name,
                        s.count
                    )))
                }
            }
            "tcpdrop" => {
                let state = state_by_name(stages[0][2]).expect("checked by `unsupported`");
                let now = self.now;
                let fds: Vec<i64> = self.sockets.keys().copied().collect();
                for fd in fds {
                    let Some(conn) = self.sockets.get(&fd).and_then(|s| s.conn()) else {
                        continue;
                    };
                    if self.ep().state(conn) == Some(state) {
                        let _ = self.ep().abort(now, conn);
                        if let Some(s) = self.sockets.get_mut(&fd) {
                            s.kind = Kind::Gone;
                        }
                    }
                }
                Ok(())
            }
            other => Err(Stop::Skip(format!(
                "the shell command `{other}` is not modelled"
            ))),
        }
    }

    /// Sockets in `state`: the script's descriptors, plus (unless `own_only`) what the
    /// endpoint holds for every 4-tuple the script used.
    fn count_sockets(&mut self, state: State, port: Option<u16>, own_only: bool) -> usize {
        let mut n = 0;
        let mut counted = Vec::new();
        let fds: Vec<(Kind, bool)> = self.sockets.values().map(|s| (s.kind, true)).collect();
        for (kind, _) in fds {
            let (st, tuple) = match kind {
                Kind::Fresh | Kind::Bound(_) | Kind::Gone => (State::Closed, None),
                Kind::Listening(_) => (State::Listen, None),
                Kind::Conn(c) => {
                    let ep = self.ep();
                    (ep.state(c).unwrap_or(State::Closed), ep.tuple(c))
                }
            };
            if let Some(t) = tuple {
                counted.push(t);
            }
            let port_ok = port
                .is_none_or(|p| tuple.is_none_or(|t| t.local.port() == p || t.remote.port() == p));
            if st == state && port_ok {
                n += 1;
            }
        }
        if !own_only {
            for t in self.tuples.clone() {
                if counted.contains(&t) {
                    continue;
                }
                if port.is_some_and(|p| t.local.port() != p && t.remote.port() != p) {
                    continue;
                }
                if self.ep().state_of(t) == Some(state) {
                    n += 1;
                }
            }
        }
        n
    }

    pub(crate) fn code(&mut self, code: &str) -> Step {
        match parse_assert(code).map_err(Stop::Skip)? {
            Assert::State(want) => {
                let got = match self
                    .last_fd
                    .and_then(|fd| self.sockets.get(&fd))
                    .map(|s| s.kind)
                {
                    Some(Kind::Conn(c)) => self.ep().state(c).unwrap_or(State::Closed),
                    Some(Kind::Listening(_)) => State::Listen,
                    Some(_) | None => State::Closed,
                };
                if got == want {
                    Ok(())
                } else {
                    Err(self.fail(format!("tcpi_state is {got}, expected {want}")))
                }
            }
            Assert::Options(want) => {
                // What the connection negotiated, as the endpoint reports it.
                let conn = self
                    .last_fd
                    .and_then(|fd| self.sockets.get(&fd))
                    .and_then(|s| s.conn());
                let stats = conn.and_then(|c| self.ep().stats(c));
                let got = stats.map_or(0, |st| {
                    u32::from(st.timestamps)
                        | u32::from(st.sack) << 1
                        | u32::from(st.rcv_wscale.is_some()) << 2
                });
                if got == want {
                    Ok(())
                } else {
                    Err(self.fail(format!("tcpi_options is {got:#x}, expected {want:#x}")))
                }
            }
        }
    }
}
