//! Plain-data representations of a TCP header and its options: what the core reasons
//! about, independent of any buffer. [`crate::tcp`] parses them out of and writes them
//! into [`crate::tcp::TcpSegment`] views.

/// The TCP control bits (RFC 9293 §3.1, plus ECE/CWR of RFC 3168).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender (RFC 9293 §3.1).
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers (RFC 9293 §3.1).
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection (RFC 9293 §3.1).
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function (RFC 9293 §3.1).
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant (RFC 9293 §3.1).
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant (RFC 9293 §3.1).
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN-Echo (RFC 3168 §6.1).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion Window Reduced (RFC 3168 §6.1).
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
    /// True if FIN is set.
    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// True if SYN is set.
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// True if RST is set.
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// True if PSH is set.
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// True if ACK is set.
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// True if URG is set.
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
    /// TSval: the sender's timestamp clock when the segment was sent.
    pub tsval: u32,
    /// TSecr: the TSval most recently received from the peer (valid with ACK).
    pub tsecr: u32,
}

/// One SACK block (RFC 2018): `left` is the first sequence number of the block, `right`
/// the one after its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlock {
    /// Left edge: the first sequence number of the block.
    pub left: u32,
    /// Right edge: the sequence number just after the last of the block.
    pub right: u32,
}

/// Up to four SACK blocks, inline (no allocation) (RFC 2018 §3). Slots beyond `len`
/// are always zero, so equality means equal blocks.
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
    #[inline]
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }
    /// Number of blocks.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
    /// True if there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Keep only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        if n < usize::from(self.len) {
            // Clear the dropped slots so that the derived equality, which compares the
            // whole array, only sees the blocks in use.
            for block in &mut self.blocks[n..] {
                *block = SackBlock::default();
            }
            self.len = n as u8;
        }
    }
}

/// The options synack understands, parsed out of (or to be written into) a TCP header.
/// Unknown options are skipped when parsing and never emitted.
///
/// The layout is C's, fields in the order written, so that each `Option`'s
/// undefined payload sits next to its own tag: in the compiler's order the payload of
/// `mss` fell just before `sack`, and options built with `mss: None` were written
/// into a parsed header by a copy through the stack whose loads straddled the
/// stores that had just zeroed the SACK list (a store-to-load forwarding stall on
/// every segment parsed); the size is the same, 56 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct TcpOptions {
    /// MSS (kind 2), RFC 9293 §3.7.1.
    pub mss: Option<u16>,
    /// Window scale shift (kind 3), RFC 7323 §2. Parsing reads a shift above 14 as 14
    /// (RFC 7323 §2.3).
    pub window_scale: Option<u8>,
    /// SACK-permitted (kind 4), RFC 2018.
    pub sack_permitted: bool,
    /// Timestamps (kind 8), RFC 7323 §3.
    pub timestamps: Option<Timestamps>,
    /// SACK blocks (kind 5), RFC 2018.
    pub sack: SackList,
}

impl TcpOptions {
    /// Bytes these options take on the wire, always a multiple of 4: the layout of
    /// [`TcpOptions::emit`], which groups options as Linux does, each group NOP-padded
    /// to a 32-bit boundary:
    ///
    /// | group | bytes |
    /// |---|---|
    /// | MSS | 4 |
    /// | SACK-permitted + timestamps, or NOP NOP + timestamps | 12 |
    /// | NOP NOP + SACK-permitted (without timestamps) | 4 |
    /// | NOP + window scale | 4 |
    /// | NOP NOP + SACK, n blocks | 4 + 8n |
    ///
    /// A header has room for 40 option bytes (RFC 9293 §3.1); more than that cannot
    /// be emitted (see [`TcpOptions::max_sack_blocks`]).
    pub fn wire_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.timestamps.is_some() {
            n += 12;
        } else if self.sack_permitted {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4;
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.len();
        }
        n
    }
}

/// A TCP header as plain data (RFC 9293 §3.1; sequence numbers raw, the core wraps
/// them). The checksum and data offset are not fields: they follow from the rest and are
/// verified on parse and computed on emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number (of the SYN if SYN is set, else of the first data byte).
    pub seq: u32,
    /// Acknowledgment number (meaningful when ACK is set).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Receive window, unscaled as on the wire (RFC 7323 §2.3).
    pub window: u16,
    /// Urgent pointer (meaningful when URG is set).
    pub urgent: u16,
    /// The options synack understands.
    pub options: TcpOptions,
}

impl TcpRepr {
    /// Header length in bytes including options: 20 + [`TcpOptions::wire_len`] (at
    /// most 60 for a header that can be emitted).
    pub fn header_len(&self) -> usize {
        20 + self.options.wire_len()
    }
}
