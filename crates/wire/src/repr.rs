//! Plain-data representations of a TCP header and its options.

/// The TCP control bits (RFC 9293 §3.1, plus ECE/CWR of RFC 3168).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const ECE: TcpFlags = TcpFlags(0x40);
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// No bits set.
    pub const fn empty() -> Self {
        TcpFlags(0)
    }
    /// The raw byte.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// True if every bit of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// `self` with the bits of `other` set (or cleared) per `on`.
    pub const fn with(self, other: TcpFlags, on: bool) -> Self {
        if on {
            TcpFlags(self.0 | other.0)
        } else {
            TcpFlags(self.0 & !other.0)
        }
    }
    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl core::fmt::Debug for TcpFlags {
    /// RFC 9293 notation: `SYN,ACK`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl core::fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const NAMES: [(TcpFlags, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The RFC 7323 timestamps option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamps {
    pub tsval: u32,
    pub tsecr: u32,
}

/// One SACK block (RFC 2018): `left` is the first sequence number of the block, `right`
/// the one after its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlock {
    pub left: u32,
    pub right: u32,
}

/// Up to four SACK blocks, inline (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackList {
    blocks: [SackBlock; 4],
    len: u8,
}

impl SackList {
    /// Most blocks one option can carry (40 bytes of option space: 2 + 4 × 8).
    pub const MAX: usize = 4;

    /// Append a block; returns false (and does nothing) when already full.
    pub fn push(&mut self, block: SackBlock) -> bool {
        if usize::from(self.len) >= Self::MAX {
            return false;
        }
        self.blocks[usize::from(self.len)] = block;
        self.len += 1;
        true
    }
    /// The blocks, in the order they were pushed / appear on the wire.
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Keep only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        if n < usize::from(self.len) {
            self.len = n as u8;
        }
    }
}

/// The options synack understands, parsed out of (or to be written into) a TCP header.
/// Unknown options are skipped when parsing and never emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// MSS (kind 2), RFC 9293 §3.7.1.
    pub mss: Option<u16>,
    /// Window scale shift (kind 3), RFC 7323 §2.
    pub window_scale: Option<u8>,
    /// SACK-permitted (kind 4), RFC 2018.
    pub sack_permitted: bool,
    /// Timestamps (kind 8), RFC 7323 §3.
    pub timestamps: Option<Timestamps>,
    /// SACK blocks (kind 5), RFC 2018.
    pub sack: SackList,
}

impl TcpOptions {
    /// Bytes these options take on the wire, padded with NOPs/EOL to a multiple of 4.
    pub fn wire_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 3;
        }
        if self.sack_permitted {
            n += 2;
        }
        if self.timestamps.is_some() {
            n += 10;
        }
        if !self.sack.is_empty() {
            n += 2 + 8 * self.sack.len();
        }
        (n + 3) & !3
    }
}

/// A TCP header as plain data (sequence numbers raw; the core wraps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpRepr {
    /// Header length in bytes including options (20..=60).
    pub fn header_len(&self) -> usize {
        20 + self.options.wire_len()
    }
}
