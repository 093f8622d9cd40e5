//! Comparing a segment the stack sent with the `>` line that expects it.
//!
//! Checked, as packetdrill checks them (`verify_outbound_live_packet` in its
//! `run_packet.c`): the flags (all eight), the sequence number (unless `...`), the
//! payload length, the ACK number when the ACK flag is expected, the window (unless
//! omitted), the urgent pointer when given, the IP fields the line names, and the
//! options — byte for byte in order, except the stack's TS value, which packetdrill does
//! not compare unless `--tcp_ts_tick_usecs` is given (the TS echo is compared).
//!
//! **Portable mode** relaxes exactly what a script's author could only copy from the OS
//! the script was written on, not from a protocol rule:
//! - options are compared as a set (order and NOP/EOL padding are layout; RFC 9293
//!   §3.1 lets options appear in any order);
//! - the window-scale *value* may differ (the shift follows the buffer size an OS
//!   picks, RFC 7323 §2.3), its presence may not;
//! - a window may differ as long as it is zero exactly when the expected one is (the
//!   window offered is the receiver's buffer policy, RFC 9293 §3.8.6; a zero window is
//!   flow control the script is testing).

use crate::ast::{OptionSpec, OptionsSpec, PacketSpec, TcpSpec};
use crate::packet::{Decoded, IpFields, WireOption};

/// How strictly to compare.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchConfig {
    pub portable: bool,
    pub ts_tick_us: Option<i64>,
    pub tolerance_us: i64,
}

/// Differences between the expected segment and `actual` (already in script space);
/// empty when they match.
pub(crate) fn compare(
    t: &TcpSpec,
    spec: &PacketSpec,
    ip: IpFields,
    actual: &Decoded,
    cfg: &MatchConfig,
    ts_origin: Option<(u32, u32)>,
) -> Vec<String> {
    let mut out = Vec::new();
    if t.flags != actual.flags {
        out.push(format!("flags {} instead of {}", actual.flags, t.flags));
    }
    if let Some((start, _)) = t.seq {
        if actual.seq != start {
            out.push(format!("seq {} instead of {}", actual.seq, start));
        }
    }
    if actual.payload_len != t.len as usize {
        out.push(format!(
            "{} bytes of data instead of {}",
            actual.payload_len, t.len
        ));
    }
    if t.flags.ack {
        if let Some(ack) = t.ack {
            if actual.ack != ack {
                out.push(format!("ack {} instead of {}", actual.ack, ack));
            }
        }
    }
    if let Some(win) = t.win {
        let a = u32::from(actual.window);
        let ok = if cfg.portable {
            (a == 0) == (win == 0)
        } else {
            a == win
        };
        if !ok {
            out.push(format!("win {a} instead of {win}"));
        }
    }
    if let Some(urg) = t.urg {
        if actual.urgent != urg {
            out.push(format!("urg {} instead of {}", actual.urgent, urg));
        }
    }
    for (name, _) in &spec.ip_fields {
        match name.as_str() {
            "ttl" | "hlim" if actual.ip.ttl != ip.ttl => {
                out.push(format!("{name} {} instead of {}", actual.ip.ttl, ip.ttl))
            }
            "tos" | "class" if (actual.ip.dscp, actual.ip.ecn) != (ip.dscp, ip.ecn) => {
                out.push(format!(
                    "{name} {:#04x} instead of {:#04x}",
                    (actual.ip.dscp << 2) | actual.ip.ecn,
                    (ip.dscp << 2) | ip.ecn
                ))
            }
            _ => {}
        }
    }
    if spec.ecn.is_some() {
        let ok = match spec.ecn {
            Some(crate::ast::EcnSpec::Ect01) => actual.ip.ecn == 1 || actual.ip.ecn == 2,
            _ => actual.ip.ecn == ip.ecn,
        };
        if !ok {
            out.push(format!("ECN field {} instead of {}", actual.ip.ecn, ip.ecn));
        }
    }
    match &t.options {
        OptionsSpec::Any => {}
        OptionsSpec::None => {
            let meaningful = actual
                .options
                .iter()
                .any(|o| !cfg.portable || !matches!(o, WireOption::Nop | WireOption::Eol));
            if meaningful {
                out.push("options sent where none were expected".into());
            }
        }
        OptionsSpec::List(list) => {
            if cfg.portable {
                compare_options_as_set(list, &actual.options, cfg, ts_origin, &mut out);
            } else {
                compare_options_in_order(list, &actual.options, cfg, ts_origin, &mut out);
            }
        }
    }
    out
}

fn compare_options_in_order(
    expected: &[OptionSpec],
    actual: &[WireOption],
    cfg: &MatchConfig,
    ts_origin: Option<(u32, u32)>,
    out: &mut Vec<String>,
) {
    if expected.len() != actual.len() || expected.iter().zip(actual).any(|(e, a)| !same_kind(e, a))
    {
        out.push("options differ (kinds or order)".into());
        return;
    }
    for (e, a) in expected.iter().zip(actual) {
        if let Some(p) = option_value_problem(e, a, false, cfg, ts_origin) {
            out.push(p);
        }
    }
}

fn compare_options_as_set(
    expected: &[OptionSpec],
    actual: &[WireOption],
    cfg: &MatchConfig,
    ts_origin: Option<(u32, u32)>,
    out: &mut Vec<String>,
) {
    let exp: Vec<&OptionSpec> = expected
        .iter()
        .filter(|o| !matches!(o, OptionSpec::Nop | OptionSpec::Eol))
        .collect();
    let mut act: Vec<Option<&WireOption>> = actual
        .iter()
        .filter(|o| !matches!(o, WireOption::Nop | WireOption::Eol))
        .map(Some)
        .collect();
    for e in exp {
        let found = act.iter_mut().find(|a| a.is_some_and(|a| same_kind(e, a)));
        match found {
            Some(slot) => {
                let a = slot.take().expect("found above");
                if let Some(p) = option_value_problem(e, a, true, cfg, ts_origin) {
                    out.push(p);
                }
            }
            None => out.push(format!("option `{}` missing", option_name(e))),
        }
    }
    for a in act.into_iter().flatten() {
        out.push(format!("unexpected option `{}`", wire_option_name(a)));
    }
}

fn same_kind(e: &OptionSpec, a: &WireOption) -> bool {
    matches!(
        (e, a),
        (OptionSpec::Eol, WireOption::Eol)
            | (OptionSpec::Nop, WireOption::Nop)
            | (OptionSpec::Mss(_), WireOption::Mss(_))
            | (OptionSpec::WindowScale(_), WireOption::WindowScale(_))
            | (OptionSpec::SackPermitted, WireOption::SackPermitted)
            | (OptionSpec::Sack(_), WireOption::Sack(_))
            | (OptionSpec::Timestamps { .. }, WireOption::Timestamps { .. })
    )
}

fn option_value_problem(
    e: &OptionSpec,
    a: &WireOption,
    portable: bool,
    cfg: &MatchConfig,
    ts_origin: Option<(u32, u32)>,
) -> Option<String> {
    match (e, a) {
        (OptionSpec::Mss(x), WireOption::Mss(y)) if x != y => {
            Some(format!("mss {y} instead of {x}"))
        }
        (OptionSpec::WindowScale(x), WireOption::WindowScale(y)) if x != y && !portable => {
            Some(format!("wscale {y} instead of {x}"))
        }
        (OptionSpec::Sack(x), WireOption::Sack(y)) if x != y => {
            Some(format!("sack {} instead of {}", blocks(y), blocks(x)))
        }
        (
            OptionSpec::Timestamps { val, ecr },
            WireOption::Timestamps {
                val: aval,
                ecr: aecr,
            },
        ) => {
            if ecr != aecr {
                return Some(format!("TS ecr {aecr} instead of {ecr}"));
            }
            if let (Some(tick), Some((s0, l0))) = (cfg.ts_tick_us, ts_origin) {
                // The stack's clock must have advanced like the script's since the first
                // TS value (the absolute value is the stack's choice, RFC 7323 §5.4).
                let want = i64::from(val.wrapping_sub(s0) as i32);
                let got = i64::from(aval.wrapping_sub(l0) as i32);
                if (want - got).abs() * tick > cfg.tolerance_us {
                    return Some(format!("TS val advanced {got} ticks instead of {want}"));
                }
            }
            None
        }
        _ => None,
    }
}

fn blocks(b: &[(u32, u32)]) -> String {
    b.iter()
        .map(|(l, r)| format!("{l}:{r}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn option_name(e: &OptionSpec) -> String {
    crate::packet::format_spec_options(std::slice::from_ref(e))
        .trim_matches(['<', '>'])
        .to_string()
}

fn wire_option_name(a: &WireOption) -> String {
    crate::packet::format_wire_options(std::slice::from_ref(a))
        .trim_matches(['<', '>'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Direction, FlagSpec, PacketBody};
    use core::net::{IpAddr, Ipv4Addr};

    fn spec(t: TcpSpec) -> PacketSpec {
        PacketSpec {
            direction: Direction::Outbound,
            ecn: None,
            ip_fields: vec![],
            body: PacketBody::Tcp(t),
        }
    }

    fn syn_ack() -> TcpSpec {
        TcpSpec {
            flags: FlagSpec {
                syn: true,
                ack: true,
                ..Default::default()
            },
            seq: Some((0, 0)),
            len: 0,
            ack: Some(1),
            win: Some(65535),
            urg: None,
            options: OptionsSpec::List(vec![
                OptionSpec::Mss(1460),
                OptionSpec::Nop,
                OptionSpec::WindowScale(6),
                OptionSpec::SackPermitted,
            ]),
        }
    }

    fn actual(window: u16, options: Vec<WireOption>) -> Decoded {
        Decoded {
            src: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dst: IpAddr::V4(Ipv4Addr::LOCALHOST),
            src_port: 1,
            dst_port: 2,
            seq: 0,
            ack: 1,
            flags: FlagSpec {
                syn: true,
                ack: true,
                ..Default::default()
            },
            window,
            urgent: 0,
            options,
            payload_len: 0,
            ip: IpFields::default(),
        }
    }

    const STRICT: MatchConfig = MatchConfig {
        portable: false,
        ts_tick_us: None,
        tolerance_us: 0,
    };
    const PORTABLE: MatchConfig = MatchConfig {
        portable: true,
        ts_tick_us: None,
        tolerance_us: 0,
    };

    #[test]
    fn option_order_and_wscale_value_matter_unless_portable() {
        let t = syn_ack();
        let a = actual(
            65535,
            vec![
                WireOption::Mss(1460),
                WireOption::SackPermitted,
                WireOption::Nop,
                WireOption::WindowScale(7),
            ],
        );
        let d = compare(&t, &spec(t.clone()), IpFields::default(), &a, &STRICT, None);
        assert_eq!(d, vec!["options differ (kinds or order)".to_string()]);
        let d = compare(
            &t,
            &spec(t.clone()),
            IpFields::default(),
            &a,
            &PORTABLE,
            None,
        );
        assert!(d.is_empty(), "{d:?}");
        // But a missing option, or a wrong MSS, is a difference either way.
        let a = actual(
            65535,
            vec![WireOption::Mss(1400), WireOption::WindowScale(7)],
        );
        let d = compare(
            &t,
            &spec(t.clone()),
            IpFields::default(),
            &a,
            &PORTABLE,
            None,
        );
        assert_eq!(
            d,
            vec![
                "mss 1400 instead of 1460".to_string(),
                "option `sackOK` missing".to_string()
            ]
        );
    }

    #[test]
    fn windows_differ_only_in_portable_mode_and_never_across_zero() {
        let t = syn_ack();
        let opts = vec![
            WireOption::Mss(1460),
            WireOption::Nop,
            WireOption::WindowScale(6),
            WireOption::SackPermitted,
        ];
        let a = actual(64240, opts.clone());
        assert_eq!(
            compare(&t, &spec(t.clone()), IpFields::default(), &a, &STRICT, None),
            vec!["win 64240 instead of 65535".to_string()]
        );
        assert!(compare(
            &t,
            &spec(t.clone()),
            IpFields::default(),
            &a,
            &PORTABLE,
            None
        )
        .is_empty());
        let a = actual(0, opts);
        assert_eq!(
            compare(
                &t,
                &spec(t.clone()),
                IpFields::default(),
                &a,
                &PORTABLE,
                None
            ),
            vec!["win 0 instead of 65535".to_string()]
        );
    }

    #[test]
    fn flags_seq_ack_and_length_are_always_checked() {
        let t = syn_ack();
        let mut a = actual(
            65535,
            vec![
                WireOption::Mss(1460),
                WireOption::Nop,
                WireOption::WindowScale(6),
                WireOption::SackPermitted,
            ],
        );
        a.flags.ack = false;
        a.ack = 7;
        a.payload_len = 3;
        let d = compare(
            &t,
            &spec(t.clone()),
            IpFields::default(),
            &a,
            &PORTABLE,
            None,
        );
        assert_eq!(
            d,
            vec![
                "flags S instead of S.".to_string(),
                "3 bytes of data instead of 0".to_string(),
                "ack 7 instead of 1".to_string()
            ]
        );
    }

    #[test]
    fn timestamps_echo_is_checked_value_only_with_a_tick() {
        let mut t = syn_ack();
        t.options = OptionsSpec::List(vec![OptionSpec::Timestamps { val: 200, ecr: 5 }]);
        let a = actual(65535, vec![WireOption::Timestamps { val: 9_000, ecr: 5 }]);
        assert!(compare(&t, &spec(t.clone()), IpFields::default(), &a, &STRICT, None).is_empty());
        let a2 = actual(65535, vec![WireOption::Timestamps { val: 9_000, ecr: 6 }]);
        assert_eq!(
            compare(
                &t,
                &spec(t.clone()),
                IpFields::default(),
                &a2,
                &STRICT,
                None
            ),
            vec!["TS ecr 6 instead of 5".to_string()]
        );
        let ticked = MatchConfig {
            ts_tick_us: Some(1000),
            tolerance_us: 10_000,
            ..STRICT
        };
        // 100 script ticks since the origin, but the stack advanced 8,900.
        let d = compare(
            &t,
            &spec(t.clone()),
            IpFields::default(),
            &a,
            &ticked,
            Some((100, 100)),
        );
        assert_eq!(
            d,
            vec!["TS val advanced 8900 ticks instead of 100".to_string()]
        );
    }

    #[test]
    fn no_options_means_none_sent() {
        let mut t = syn_ack();
        t.options = OptionsSpec::None;
        let a = actual(65535, vec![WireOption::Mss(1460)]);
        assert_eq!(
            compare(
                &t,
                &spec(t.clone()),
                IpFields::default(),
                &a,
                &PORTABLE,
                None
            ),
            vec!["options sent where none were expected".to_string()]
        );
    }
}
