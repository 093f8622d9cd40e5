//! The parsed form of a script: header options and a list of timed events.
//!
//! The shapes follow packetdrill's language (`gtests/net/packetdrill/parser.y` in Google's
//! and the nplab fork): every event is one line that starts with a time, followed by an
//! inbound (`<`) or outbound (`>`) packet, a socket call with its expected result, a
//! shell command in backticks, or a `%{ … }%` code block.

/// A whole script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// `--name=value` lines (value `None` for a bare `--name`), in order.
    pub options: Vec<(String, Option<String>)>,
    /// The events, in order.
    pub events: Vec<Event>,
}

/// One line of the script with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// 1-based line number in the source file.
    pub line: usize,
    /// The event as written (comments removed), for reports.
    pub text: String,
    pub time: TimeSpec,
    pub kind: EventKind,
}

/// When an event happens, in microseconds of script time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// `1.5`: since the start of the script.
    Absolute(i64),
    /// `+0.1`: since the previous event.
    Relative(i64),
    /// `1.0~2.0`: anywhere in this range.
    AbsoluteRange(i64, i64),
    /// `+1.0~+2.0` (or `+1.0~2.0`): a range after the previous event.
    RelativeRange(i64, i64),
    /// `*`: any time.
    Any,
    /// `a...b`: a blocking call that starts at `a` and returns at `b`. `b` is absolute
    /// unless `a` is relative, in which case both are relative to the previous event
    /// (as packetdrill does).
    Blocking {
        start: i64,
        end: i64,
        relative: bool,
    },
}

/// What an event does.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Packet(PacketSpec),
    Syscall(Syscall),
    /// A shell command in backticks, without the backticks.
    Command(String),
    /// The body of a `%{ … }%` block.
    Code(String),
}

/// The direction of a packet line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script injects it into the stack.
    Inbound,
    /// `>`: the stack must send it.
    Outbound,
}

/// A packet line.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketSpec {
    pub direction: Direction,
    /// `[noecn]`, `[ect0]`, `[ect1]`, `[ce]`, `[ect01]`: the IP ECN field.
    pub ecn: Option<EcnSpec>,
    /// `(ttl 64)`, `(tos 0x20)`, `(hlim 64)`, `(class 0x20)`: IP header fields.
    pub ip_fields: Vec<(String, u32)>,
    pub body: PacketBody,
}

/// The ECN codepoint of an IP header (RFC 3168 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcnSpec {
    NotEct,
    Ect0,
    Ect1,
    Ce,
    /// `[ect01]`: either ECT(0) or ECT(1).
    Ect01,
}

/// The transport part of a packet line.
#[derive(Debug, Clone, PartialEq)]
pub enum PacketBody {
    Tcp(TcpSpec),
    Icmp(IcmpSpec),
    /// Anything the runner does not model (UDP, SCTP, encapsulation); it makes the script
    /// be skipped with this description.
    Unsupported(String),
}

/// A TCP segment line: flags, sequence range, ACK, window, options.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpSpec {
    /// The flag letters as written (`S`, `S.`, `F.`, `R`, `P.`, `SEW`…); `.` is ACK.
    pub flags: FlagSpec,
    /// `start:end(len)`, or `None` for `...(len)` (sequence number not checked).
    pub seq: Option<(u32, u32)>,
    /// The payload length (`(len)`).
    pub len: u32,
    /// `ack N`.
    pub ack: Option<u32>,
    /// `win N`; `None` means "not checked" on an outbound packet.
    pub win: Option<u32>,
    /// `urg N`.
    pub urg: Option<u16>,
    /// The options list.
    pub options: OptionsSpec,
}

/// TCP flags as letters (RFC 9293 §3.1 control bits, RFC 3168 ECE/CWR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlagSpec {
    pub fin: bool,
    pub syn: bool,
    pub rst: bool,
    pub psh: bool,
    pub ack: bool,
    pub urg: bool,
    pub ece: bool,
    pub cwr: bool,
}

impl FlagSpec {
    /// The flags byte of a TCP header.
    pub fn bits(self) -> u8 {
        u8::from(self.fin)
            | u8::from(self.syn) << 1
            | u8::from(self.rst) << 2
            | u8::from(self.psh) << 3
            | u8::from(self.ack) << 4
            | u8::from(self.urg) << 5
            | u8::from(self.ece) << 6
            | u8::from(self.cwr) << 7
    }

    /// From a flags byte.
    pub fn from_bits(b: u8) -> Self {
        FlagSpec {
            fin: b & 0x01 != 0,
            syn: b & 0x02 != 0,
            rst: b & 0x04 != 0,
            psh: b & 0x08 != 0,
            ack: b & 0x10 != 0,
            urg: b & 0x20 != 0,
            ece: b & 0x40 != 0,
            cwr: b & 0x80 != 0,
        }
    }
}

impl core::fmt::Display for FlagSpec {
    /// packetdrill's spelling: `S`, `F`, `R`, `P`, `U`, `E`, `W`, then `.` for ACK.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = String::new();
        for (on, c) in [
            (self.syn, 'S'),
            (self.fin, 'F'),
            (self.rst, 'R'),
            (self.psh, 'P'),
            (self.urg, 'U'),
            (self.ece, 'E'),
            (self.cwr, 'W'),
            (self.ack, '.'),
        ] {
            if on {
                s.push(c);
            }
        }
        f.pad(&s)
    }
}

/// The options of a packet line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsSpec {
    /// No `<…>` at all: the segment carries no options.
    None,
    /// `<...>`: options are not checked.
    Any,
    /// An explicit list, in wire order.
    List(Vec<OptionSpec>),
}

/// One TCP option as written in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionSpec {
    Eol,
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// `sack a:b c:d`: blocks in script (relative) sequence space.
    Sack(Vec<(u32, u32)>),
    Timestamps {
        val: u32,
        ecr: u32,
    },
    /// An option the runner cannot build or check (MD5, Fast Open…): the script is skipped.
    Unsupported(String),
}

/// An ICMP line: `icmp unreachable port_unreachable [seq:end(len)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpSpec {
    /// `unreachable`, `time_exceeded`, `parameter_problem`, `redirect`, `source_quench`,
    /// `packet_too_big`…
    pub kind: String,
    /// The code name, if given.
    pub code: Option<String>,
    /// `mtu N` (fragmentation needed / packet too big).
    pub mtu: Option<u32>,
    /// The quoted TCP segment's sequence number (script space), if given.
    pub seq: Option<u32>,
    pub len: u32,
}

/// A socket call and what it must return.
#[derive(Debug, Clone, PartialEq)]
pub struct Syscall {
    pub name: String,
    pub args: Vec<Expr>,
    /// The expected return value.
    pub ret: Expr,
    /// The expected errno name when the call fails (`-1 EAGAIN`).
    pub errno: Option<String>,
}

/// An argument or result expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything (an address, a buffer).
    Ellipsis,
    Int(i64),
    /// A symbolic constant: `SOL_SOCKET`, `O_NONBLOCK`, `EAGAIN`.
    Symbol(String),
    Str(String),
    /// `[a, b]`: an array; `[8]` is how packetdrill passes a pointer to one integer.
    List(Vec<Expr>),
    /// `{field=value, ...}`.
    Struct(Vec<(Option<String>, Expr)>),
    /// `A | B`.
    Or(Vec<Expr>),
    /// `htons(8080)`, `inet_addr("...")`.
    Call(String, Vec<Expr>),
}

impl core::fmt::Display for Expr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Expr::Ellipsis => write!(f, "..."),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Symbol(s) => write!(f, "{s}"),
            Expr::Str(s) => write!(f, "{s:?}"),
            Expr::List(v) => {
                write!(f, "[")?;
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{e}")?;
                }
                write!(f, "]")
            }
            Expr::Struct(v) => {
                write!(f, "{{")?;
                for (i, (name, e)) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    match name {
                        Some(n) => write!(f, "{n}={e}")?,
                        None => write!(f, "{e}")?,
                    }
                }
                write!(f, "}}")
            }
            Expr::Or(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, " | ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{e}")?;
                }
                write!(f, ")")
            }
        }
    }
}
