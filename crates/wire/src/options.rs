//! TCP options: the raw list ([`TcpOption`], [`TcpOptionIter`]) and the parsed summary
//! ([`TcpOptions`]) that [`crate::TcpRepr`] carries.
//!
//! Options follow the fixed TCP header up to the data offset (RFC 9293 §3.1). Each is
//! either a single kind byte (End of Option List, No-Operation) or kind, length (counting
//! kind and length) and data (RFC 9293 §3.2). synack understands:
//!
//! | kind | length | option | reference |
//! |---|---|---|---|
//! | 0 | – | End of Option List | RFC 9293 §3.2 |
//! | 1 | – | No-Operation | RFC 9293 §3.2 |
//! | 2 | 4 | Maximum Segment Size | RFC 9293 §3.7.1 |
//! | 3 | 3 | Window Scale | RFC 7323 §2.2 |
//! | 4 | 2 | SACK-Permitted | RFC 2018 §2 |
//! | 5 | 2 + 8n, n = 1..=4 | SACK | RFC 2018 §3 |
//! | 8 | 10 | Timestamps | RFC 7323 §3.2 |
//!
//! Any other kind is skipped by its length (RFC 9293 §3.2: a TCP MUST be able to receive
//! options it does not implement, MUST-6). A length byte of 0 or 1, an option running past
//! the header, and a known option with the wrong length are errors (MUST-7: be prepared
//! to handle an illegal option length without crashing; synack drops the segment).

use crate::{SackBlock, SackList, TcpOptions, Timestamps, WireError};

/// Option kind numbers (IANA "TCP Option Kind Numbers").
pub mod kind {
    /// End of Option List (RFC 9293 §3.2).
    pub const EOL: u8 = 0;
    /// No-Operation (RFC 9293 §3.2).
    pub const NOP: u8 = 1;
    /// Maximum Segment Size (RFC 9293 §3.7.1).
    pub const MSS: u8 = 2;
    /// Window Scale (RFC 7323 §2).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK-Permitted (RFC 2018 §2).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018 §3).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3).
    pub const TIMESTAMPS: u8 = 8;
}

/// The most option bytes a TCP header can hold (data offset 15 → 60 bytes, minus the 20
/// fixed ones).
pub const MAX_OPTIONS_LEN: usize = 40;

/// NOP, NOP, Timestamps kind and length: the first word of the usual option layout
/// (RFC 7323 Appendix A), as a big-endian value.
const NOP_NOP_TIMESTAMPS: u32 = u32::from_be_bytes([kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);

/// NOP, NOP, kind 8, length 10; TSval, TSecr (RFC 7323 §3.2): the timestamps as nearly
/// every segment carries them, written as two stores.
#[inline(always)]
fn write_nop_nop_timestamps(out: &mut [u8; 12], ts: Timestamps) {
    let (head, values) = out.split_at_mut(4);
    head.copy_from_slice(&NOP_NOP_TIMESTAMPS.to_be_bytes());
    let values_word = (u64::from(ts.tsval) << 32) | u64::from(ts.tsecr);
    values.copy_from_slice(&values_word.to_be_bytes());
}

/// [`write_nop_nop_timestamps`], returning the ones' complement sum (not folded) of
/// the twelve bytes written, taken from the values rather than read back.
#[inline(always)]
pub(crate) fn emit_nop_nop_timestamps_summed(out: &mut [u8; 12], ts: Timestamps) -> u64 {
    write_nop_nop_timestamps(out, ts);
    u64::from(NOP_NOP_TIMESTAMPS) + u64::from(ts.tsval) + u64::from(ts.tsecr)
}

/// The largest window scale shift (RFC 7323 §2.3); larger received values are read as
/// this.
pub const MAX_WINDOW_SCALE: u8 = 14;

/// One option as it appears on the wire, yielded by [`TcpOptionIter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of Option List (kind 0): nothing after it is an option.
    Eol,
    /// No-Operation (kind 1), usually padding for alignment.
    Nop,
    /// Maximum Segment Size (kind 2, RFC 9293 §3.7.1).
    Mss(u16),
    /// Window Scale (kind 3, RFC 7323 §2.2): the shift count as sent, not clamped.
    WindowScale(u8),
    /// SACK-Permitted (kind 4, RFC 2018 §2).
    SackPermitted,
    /// SACK (kind 5, RFC 2018 §3): one to four blocks.
    Sack(SackList),
    /// Timestamps (kind 8, RFC 7323 §3.2).
    Timestamps(Timestamps),
    /// Any other kind, with its data (the bytes after the length byte).
    Unknown {
        /// The option kind.
        kind: u8,
        /// The option data, without kind and length bytes.
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    /// The kind byte of this option.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::Eol => kind::EOL,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps(_) => kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Bytes this option takes on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOption::Eol | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(list) => 2 + 8 * list.len(),
            TcpOption::Timestamps(_) => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Write this option at the start of `buf`; returns the bytes written.
    ///
    /// Errors: [`WireError::BufferTooSmall`]; [`WireError::TcpOptionBadLength`] for a
    /// SACK option without blocks, an `Unknown` option of kind 0 or 1, or one whose data
    /// does not fit a length byte — none could be parsed back.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.wire_len();
        let kind = self.kind();
        let unparseable = match self {
            TcpOption::Sack(list) => list.is_empty(),
            // Kinds 0 and 1 have no length byte: as `Unknown` they cannot be written.
            TcpOption::Unknown { kind, .. } => *kind <= kind::NOP,
            _ => false,
        };
        if len > usize::from(u8::MAX) || unparseable {
            return Err(WireError::TcpOptionBadLength {
                kind,
                len: len.min(255) as u8,
            });
        }
        let out = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        out[0] = kind;
        if len == 1 {
            return Ok(1);
        }
        out[1] = len as u8;
        let data = &mut out[2..];
        match self {
            TcpOption::Eol | TcpOption::Nop | TcpOption::SackPermitted => {}
            TcpOption::Mss(mss) => data.copy_from_slice(&mss.to_be_bytes()),
            TcpOption::WindowScale(shift) => data[0] = *shift,
            TcpOption::Sack(list) => {
                for (chunk, block) in data.chunks_exact_mut(8).zip(list.as_slice()) {
                    chunk[..4].copy_from_slice(&block.left.to_be_bytes());
                    chunk[4..].copy_from_slice(&block.right.to_be_bytes());
                }
            }
            TcpOption::Timestamps(ts) => {
                data[..4].copy_from_slice(&ts.tsval.to_be_bytes());
                data[4..].copy_from_slice(&ts.tsecr.to_be_bytes());
            }
            TcpOption::Unknown { data: d, .. } => data.copy_from_slice(d),
        }
        Ok(len)
    }
}

fn read_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Parse the option at the start of `bytes` (non-empty); returns it and its length.
fn parse_one(bytes: &[u8]) -> Result<(TcpOption<'_>, usize), WireError> {
    let kind = bytes[0];
    match kind {
        kind::EOL => return Ok((TcpOption::Eol, 1)),
        kind::NOP => return Ok((TcpOption::Nop, 1)),
        _ => {}
    }
    let len_byte = *bytes.get(1).ok_or(WireError::TcpOptionTruncated { kind })?;
    let len = usize::from(len_byte);
    if len < 2 {
        return Err(WireError::TcpOptionBadLength {
            kind,
            len: len_byte,
        });
    }
    // A known option with the wrong length is reported as such even if it also runs
    // past the header: the length byte is the defect.
    let valid_len = match kind {
        kind::MSS => len == 4,
        kind::WINDOW_SCALE => len == 3,
        kind::SACK_PERMITTED => len == 2,
        kind::SACK => (len - 2) % 8 == 0 && (1..=SackList::MAX).contains(&((len - 2) / 8)),
        kind::TIMESTAMPS => len == 10,
        _ => true,
    };
    if !valid_len {
        return Err(WireError::TcpOptionBadLength {
            kind,
            len: len_byte,
        });
    }
    let opt = bytes
        .get(..len)
        .ok_or(WireError::TcpOptionTruncated { kind })?;
    let data = &opt[2..];
    let option = match kind {
        kind::MSS => TcpOption::Mss(u16::from_be_bytes([data[0], data[1]])),
        kind::WINDOW_SCALE => TcpOption::WindowScale(data[0]),
        kind::SACK_PERMITTED => TcpOption::SackPermitted,
        kind::SACK => {
            let mut list = SackList::default();
            for chunk in data.chunks_exact(8) {
                list.push(SackBlock {
                    left: read_u32(&chunk[..4]),
                    right: read_u32(&chunk[4..]),
                });
            }
            TcpOption::Sack(list)
        }
        kind::TIMESTAMPS => TcpOption::Timestamps(Timestamps {
            tsval: read_u32(&data[..4]),
            tsecr: read_u32(&data[4..]),
        }),
        _ => TcpOption::Unknown { kind, data },
    };
    Ok((option, len))
}

/// An iterator over the options in a TCP header's option bytes (RFC 9293 §3.2).
///
/// Yields `Ok` options in wire order. An End of Option List is yielded and ends the
/// iteration (the bytes after it are padding). A malformed option yields one `Err`
/// ([`WireError::TcpOptionBadLength`] or [`WireError::TcpOptionTruncated`]) and ends
/// the iteration.
///
/// ```
/// use synack_wire::options::{TcpOption, TcpOptionIter};
/// let bytes = [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 0];
/// let opts: Vec<_> = TcpOptionIter::new(&bytes).collect::<Result<_, _>>().unwrap();
/// assert_eq!(
///     opts,
///     [TcpOption::Mss(1460), TcpOption::Nop, TcpOption::WindowScale(7), TcpOption::Eol]
/// );
/// ```
#[derive(Debug, Clone)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    /// Iterate over `options` (the header bytes from 20 to the data offset).
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptionIter { rest: options }
    }

    /// The bytes not yet read (empty after an End of Option List or an error).
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match parse_one(self.rest) {
            Ok((TcpOption::Eol, _)) => {
                self.rest = &[];
                Some(Ok(TcpOption::Eol))
            }
            Ok((option, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(option))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for TcpOptionIter<'_> {}

/// The timestamps, if `bytes` are exactly NOP, NOP, Timestamps (RFC 7323 Appendix A):
/// the layout of nearly every segment of a connection using timestamps, which
/// [`TcpOptions::parse`] reads as timestamps alone. The first word is compared whole.
#[inline(always)]
pub(crate) fn parse_timestamps_only(bytes: &[u8]) -> Option<Timestamps> {
    let (head, values) = <&[u8; 12]>::try_from(bytes)
        .ok()?
        .split_first_chunk::<4>()?;
    let (tsval, tsecr) = values.split_first_chunk::<4>()?;
    let tsecr: &[u8; 4] = tsecr.try_into().ok()?;
    (u32::from_be_bytes(*head) == NOP_NOP_TIMESTAMPS).then(|| Timestamps {
        tsval: u32::from_be_bytes(*tsval),
        tsecr: u32::from_be_bytes(*tsecr),
    })
}

/// The options, if `bytes` are laid out as Linux and [`TcpOptions::emit`] lay out a
/// SYN's: MSS, SACK-permitted, Timestamps, NOP, Window Scale. The result is the one
/// the general loop of [`TcpOptions::parse`] gives.
#[inline(always)]
pub(crate) fn parse_syn_layout(bytes: &[u8]) -> Option<TcpOptions> {
    if let [2, 4, m0, m1, 4, 2, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3, 1, 3, 3, shift] = *bytes {
        return Some(TcpOptions {
            mss: Some(u16::from_be_bytes([m0, m1])),
            window_scale: Some(shift.min(MAX_WINDOW_SCALE)),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: u32::from_be_bytes([v0, v1, v2, v3]),
                tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
            }),
            sack: SackList::default(),
        });
    }
    None
}

impl TcpOptions {
    /// The most option bytes a TCP header can hold.
    pub const MAX_LEN: usize = MAX_OPTIONS_LEN;

    /// Parse option bytes into the summary synack uses (RFC 9293 §3.2, RFC 7323,
    /// RFC 2018). Unknown options are skipped; if an option appears twice the later one
    /// wins. A Window Scale shift above 14 is read as 14 (RFC 7323 §2.3).
    ///
    /// Errors: the first malformed option, as [`TcpOptionIter`] reports it.
    ///
    /// Always inlined: returned through a `Result` and then moved into the parsed
    /// header, the options were copied with wider loads than they had just been
    /// written with, a store-to-load forwarding stall on every segment parsed (a third
    /// of `parse_packet`'s samples in the bulk benchmark).
    #[inline(always)]
    pub fn parse(bytes: &[u8]) -> Result<TcpOptions, WireError> {
        // Fast path for the layout nearly every segment of a connection using
        // timestamps carries: NOP, NOP, Timestamps (RFC 7323 Appendix A), the same
        // result the general loop gives, without it.
        if let Some(ts) = parse_timestamps_only(bytes) {
            return Ok(TcpOptions {
                timestamps: Some(ts),
                ..TcpOptions::default()
            });
        }
        if let Some(syn) = parse_syn_layout(bytes) {
            return Ok(syn);
        }
        let mut opts = TcpOptions::default();
        for option in TcpOptionIter::new(bytes) {
            match option? {
                TcpOption::Eol | TcpOption::Nop | TcpOption::Unknown { .. } => {}
                TcpOption::Mss(mss) => opts.mss = Some(mss),
                TcpOption::WindowScale(shift) => {
                    opts.window_scale = Some(shift.min(MAX_WINDOW_SCALE));
                }
                TcpOption::SackPermitted => opts.sack_permitted = true,
                TcpOption::Sack(list) => opts.sack = list,
                TcpOption::Timestamps(ts) => opts.timestamps = Some(ts),
            }
        }
        Ok(opts)
    }

    /// Write the options into `buf` in the layout Linux uses, each group NOP-aligned to
    /// a 4-byte boundary (see [`TcpOptions::wire_len`]); returns the bytes written, which
    /// is always `self.wire_len()`.
    ///
    /// Errors: [`WireError::TcpOptionsTooLong`] if they need more than 40 bytes (too
    /// many SACK blocks; see [`TcpOptions::max_sack_blocks`]),
    /// [`WireError::BufferTooSmall`] if `buf` is shorter than that.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let len = self.wire_len();
        if len > MAX_OPTIONS_LEN {
            return Err(WireError::TcpOptionsTooLong(len));
        }
        let buf = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        // Fast path for timestamps, alone on nearly every segment and with SACK blocks
        // on every duplicate ACK of a connection recovering from loss: NOP, NOP, TS,
        // then NOP, NOP, SACK (RFC 2018 §3), in whole-word stores.
        if let (Some(ts), None, None, false) = (
            self.timestamps,
            self.mss,
            self.window_scale,
            self.sack_permitted,
        ) {
            if let Some((head, rest)) = buf.split_first_chunk_mut::<12>() {
                write_nop_nop_timestamps(head, ts);
                if let Some((word, blocks)) = rest.split_first_chunk_mut::<4>() {
                    // At most 4 blocks: the length fits its byte.
                    let sack_len = (2 + 8 * self.sack.len()) as u8;
                    word.copy_from_slice(&[kind::NOP, kind::NOP, kind::SACK, sack_len]);
                    for (out, block) in blocks.chunks_exact_mut(8).zip(self.sack.as_slice()) {
                        let edges = (u64::from(block.left) << 32) | u64::from(block.right);
                        out.copy_from_slice(&edges.to_be_bytes());
                    }
                }
                return Ok(len);
            }
        }
        // Fast path for a full SYN's options: MSS, SACK-permitted, Timestamps, NOP,
        // Window Scale, in the layout below.
        if let (Some(mss), Some(shift), Some(ts), true, true) = (
            self.mss,
            self.window_scale,
            self.timestamps,
            self.sack_permitted,
            self.sack.is_empty(),
        ) {
            let [m0, m1] = mss.to_be_bytes();
            let [v0, v1, v2, v3] = ts.tsval.to_be_bytes();
            let [e0, e1, e2, e3] = ts.tsecr.to_be_bytes();
            let bytes = [
                2, 4, m0, m1, 4, 2, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3, 1, 3, 3, shift,
            ];
            if let Some(out) = buf.get_mut(..bytes.len()) {
                out.copy_from_slice(&bytes);
                return Ok(bytes.len());
            }
        }
        let mut at = 0;
        let mut put = |option: TcpOption<'_>| -> Result<(), WireError> {
            at += option.emit(&mut buf[at..])?;
            Ok(())
        };
        if let Some(mss) = self.mss {
            put(TcpOption::Mss(mss))?;
        }
        match (self.timestamps, self.sack_permitted) {
            (Some(ts), true) => {
                put(TcpOption::SackPermitted)?;
                put(TcpOption::Timestamps(ts))?;
            }
            (Some(ts), false) => {
                put(TcpOption::Nop)?;
                put(TcpOption::Nop)?;
                put(TcpOption::Timestamps(ts))?;
            }
            (None, true) => {
                put(TcpOption::Nop)?;
                put(TcpOption::Nop)?;
                put(TcpOption::SackPermitted)?;
            }
            (None, false) => {}
        }
        if let Some(shift) = self.window_scale {
            put(TcpOption::Nop)?;
            put(TcpOption::WindowScale(shift))?;
        }
        if !self.sack.is_empty() {
            put(TcpOption::Nop)?;
            put(TcpOption::Nop)?;
            put(TcpOption::Sack(self.sack))?;
        }
        debug_assert_eq!(at, len);
        Ok(len)
    }

    /// The options nearly every segment of a synchronized connection carries:
    /// `Some(Some(timestamps))` when timestamps are the only option, `Some(None)` when
    /// there is none, `None` for anything else.
    #[inline(always)]
    pub(crate) fn usual(&self) -> Option<Option<Timestamps>> {
        match (
            self.mss,
            self.window_scale,
            self.sack_permitted,
            self.sack.is_empty(),
        ) {
            (None, None, false, true) => Some(self.timestamps),
            _ => None,
        }
    }

    /// Write the options as [`TcpOptions::emit`] does into `buf`, which must be exactly
    /// [`TcpOptions::wire_len`] bytes, and return the ones' complement sum of what was
    /// written ([`TcpOptions::wire_sum`]), for the segment's checksum. Timestamps alone,
    /// on nearly every segment, are written with two stores and summed from the two
    /// values; anything else goes through [`TcpOptions::emit`]. Either way the sum
    /// comes from the fields, not from reading back bytes just written (which would
    /// stall store-to-load forwarding).
    ///
    /// Errors: as [`TcpOptions::emit`]; [`WireError::BufferTooSmall`] also if `buf` is
    /// longer than the options. Nothing is written on error.
    #[inline]
    pub(crate) fn emit_summed(&self, buf: &mut [u8]) -> Result<u64, WireError> {
        if let Some(Some(ts)) = self.usual() {
            let out: &mut [u8; 12] = buf.try_into().map_err(|_| WireError::BufferTooSmall)?;
            return Ok(emit_nop_nop_timestamps_summed(out, ts));
        }
        if buf.len() != self.wire_len() {
            return Err(WireError::BufferTooSmall);
        }
        self.emit(buf)?;
        Ok(self.wire_sum())
    }

    /// The ones' complement sum (RFC 1071), not yet folded, of the bytes
    /// [`TcpOptions::emit`] writes, computed from the fields: each group of the layout
    /// ([`TcpOptions::wire_len`]) as its big-endian 32-bit words added as integers,
    /// which is the sum of their 16-bit halves modulo `2^16 - 1` (`2^16 ≡ 1`).
    pub(crate) fn wire_sum(&self) -> u64 {
        // Kind and length bytes as the words they make: NOP = 1, EOL never written.
        let word = |bytes: [u8; 4]| u64::from(u32::from_be_bytes(bytes));
        let mut sum = 0;
        if let Some(mss) = self.mss {
            sum += word([kind::MSS, 4, 0, 0]) + u64::from(mss);
        }
        let ts_sum = |ts: Timestamps| u64::from(ts.tsval) + u64::from(ts.tsecr);
        match (self.timestamps, self.sack_permitted) {
            (Some(ts), true) => {
                sum += word([kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10]) + ts_sum(ts)
            }
            (Some(ts), false) => sum += u64::from(NOP_NOP_TIMESTAMPS) + ts_sum(ts),
            (None, true) => sum += word([kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (None, false) => {}
        }
        if let Some(shift) = self.window_scale {
            sum += word([kind::NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        if !self.sack.is_empty() {
            // The length byte fits: at most 4 blocks.
            let len = (2 + 8 * self.sack.len()) as u8;
            sum += word([kind::NOP, kind::NOP, kind::SACK, len]);
            for block in self.sack.as_slice() {
                sum += u64::from(block.left) + u64::from(block.right);
            }
        }
        sum
    }

    /// How many SACK blocks fit in the option space left by the other options (0..=4):
    /// 4 alone, 3 next to timestamps (RFC 2018 §3).
    pub fn max_sack_blocks(&self) -> usize {
        let others = TcpOptions {
            sack: SackList::default(),
            ..*self
        }
        .wire_len();
        // NOP, NOP, kind, length, then 8 bytes a block.
        (MAX_OPTIONS_LEN.saturating_sub(others + 4) / 8).min(SackList::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_alone_take_the_fast_paths_and_agree_with_the_general_ones() {
        let ts = Timestamps {
            tsval: 0x0102_0304,
            tsecr: 0xfffe_fdfc,
        };
        let only = TcpOptions {
            timestamps: Some(ts),
            ..TcpOptions::default()
        };
        let mut buf = [0u8; 40];
        let n = only.emit(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            &[1, 1, 8, 10, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc]
        );
        assert_eq!(TcpOptions::parse(&buf[..n]).unwrap(), only);
        // The same option laid out differently goes the general way, same result.
        let other = [8, 10, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc, 1, 0];
        assert_eq!(TcpOptions::parse(&other).unwrap(), only);
    }

    #[test]
    fn a_full_syn_takes_the_fast_paths_and_agrees_with_the_general_ones() {
        let syn = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            }),
            sack: SackList::default(),
        };
        let mut buf = [0u8; 40];
        let n = syn.emit(&mut buf).unwrap();
        assert_eq!(n, syn.wire_len());
        assert_eq!(
            &buf[..n],
            &[2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7]
        );
        assert_eq!(TcpOptions::parse(&buf[..n]).unwrap(), syn);
        // What the general loop makes of the same bytes, option by option.
        let mut general = TcpOptions::default();
        for option in TcpOptionIter::new(&buf[..n]) {
            match option.unwrap() {
                TcpOption::Mss(m) => general.mss = Some(m),
                TcpOption::WindowScale(w) => general.window_scale = Some(w),
                TcpOption::SackPermitted => general.sack_permitted = true,
                TcpOption::Timestamps(ts) => general.timestamps = Some(ts),
                _ => {}
            }
        }
        assert_eq!(general, syn);
        // A shift above 14 is read as 14 on the fast path too (RFC 7323 §2.3).
        buf[19] = 15;
        assert_eq!(TcpOptions::parse(&buf[..n]).unwrap().window_scale, Some(14));
        // Too small a buffer: the error of the general path, nothing written.
        let mut small = [0u8; 19];
        assert_eq!(syn.emit(&mut small), Err(WireError::BufferTooSmall));
        assert_eq!(small, [0u8; 19]);
    }

    #[test]
    fn emit_summed_writes_what_emit_writes_and_sums_it() {
        let ts = Some(Timestamps {
            tsval: 0xfffe_fdfc,
            tsecr: 0x0102_0304,
        });
        let cases = [
            TcpOptions::default(),
            TcpOptions {
                timestamps: ts,
                ..TcpOptions::default()
            },
            TcpOptions {
                timestamps: ts,
                sack: sack(&[(0xffff_ffff, 7), (9, 0x8000_0000), (1, 2)]),
                ..TcpOptions::default()
            },
            TcpOptions {
                mss: Some(0xffff),
                window_scale: Some(14),
                sack_permitted: true,
                timestamps: ts,
                sack: SackList::default(),
            },
            TcpOptions {
                mss: Some(536),
                window_scale: Some(0),
                sack_permitted: true,
                timestamps: None,
                sack: sack(&[(5, 6), (7, 8), (9, 10)]),
            },
            TcpOptions {
                sack_permitted: true,
                timestamps: ts,
                ..TcpOptions::default()
            },
        ];
        for opts in cases {
            let want = emit(&opts);
            let mut buf = vec![0u8; want.len()];
            let sum = opts.emit_summed(&mut buf).unwrap();
            assert_eq!(buf, want, "{opts:?}");
            assert_eq!(
                crate::checksum::fold(sum),
                crate::checksum::sum(&want),
                "{opts:?}"
            );
            assert_eq!(opts.wire_sum() % 0xffff, sum % 0xffff, "{opts:?}");
            // Any other length is refused, with nothing written.
            let mut longer = vec![0u8; want.len() + 4];
            assert_eq!(
                opts.emit_summed(&mut longer),
                Err(WireError::BufferTooSmall)
            );
            assert!(longer.iter().all(|&b| b == 0));
        }
    }

    fn sack(blocks: &[(u32, u32)]) -> SackList {
        let mut l = SackList::default();
        for &(left, right) in blocks {
            assert!(l.push(SackBlock { left, right }));
        }
        l
    }

    fn emit(opts: &TcpOptions) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let n = opts.emit(&mut buf).unwrap();
        assert_eq!(n, opts.wire_len());
        buf[..n].to_vec()
    }

    #[test]
    fn linux_syn_layout_is_mss_sackperm_ts_nop_wscale() {
        let opts = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: 0x01020304,
                tsecr: 0,
            }),
            sack: SackList::default(),
        };
        assert_eq!(
            emit(&opts),
            [2, 4, 5, 180, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7]
        );
    }

    #[test]
    fn timestamps_alone_are_nop_nop_aligned() {
        let opts = TcpOptions {
            timestamps: Some(Timestamps { tsval: 1, tsecr: 2 }),
            ..Default::default()
        };
        assert_eq!(emit(&opts), [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn sack_blocks_follow_nop_nop() {
        let opts = TcpOptions {
            timestamps: Some(Timestamps { tsval: 1, tsecr: 2 }),
            sack: sack(&[(10, 20)]),
            ..Default::default()
        };
        assert_eq!(
            emit(&opts),
            [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20]
        );
    }

    #[test]
    fn sack_permitted_without_timestamps_is_nop_nop_aligned() {
        let opts = TcpOptions {
            mss: Some(536),
            sack_permitted: true,
            window_scale: Some(0),
            ..Default::default()
        };
        assert_eq!(emit(&opts), [2, 4, 2, 24, 1, 1, 4, 2, 1, 3, 3, 0]);
    }

    #[test]
    fn no_options_emit_nothing() {
        assert_eq!(emit(&TcpOptions::default()), Vec::<u8>::new());
    }

    #[test]
    fn timestamps_leave_room_for_three_sack_blocks() {
        let mut opts = TcpOptions {
            timestamps: Some(Timestamps::default()),
            ..Default::default()
        };
        assert_eq!(opts.max_sack_blocks(), 3);
        opts.sack = sack(&[(1, 2), (3, 4), (5, 6)]);
        assert_eq!(opts.wire_len(), 40);
        emit(&opts);
        opts.sack.push(SackBlock { left: 7, right: 8 });
        assert_eq!(
            opts.emit(&mut [0; 64]),
            Err(WireError::TcpOptionsTooLong(48))
        );
        assert_eq!(TcpOptions::default().max_sack_blocks(), 4);
    }

    #[test]
    fn emit_into_short_buffer_fails() {
        let opts = TcpOptions {
            mss: Some(1),
            ..Default::default()
        };
        assert_eq!(opts.emit(&mut [0; 3]), Err(WireError::BufferTooSmall));
    }

    #[test]
    fn emitted_options_parse_back() {
        let opts = TcpOptions {
            mss: Some(9000),
            window_scale: Some(14),
            sack_permitted: true,
            timestamps: None,
            sack: sack(&[(1, 2), (3, 4), (5, 6)]),
        };
        assert_eq!(TcpOptions::parse(&emit(&opts)), Ok(opts));
    }

    #[test]
    fn eol_ends_the_list() {
        // After EOL comes garbage that would be an error if read.
        let bytes = [2, 4, 1, 0, 0, 2, 0, 0];
        let opts = TcpOptions::parse(&bytes).unwrap();
        assert_eq!(opts.mss, Some(256));
        let all: Vec<_> = TcpOptionIter::new(&bytes).collect();
        assert_eq!(all, [Ok(TcpOption::Mss(256)), Ok(TcpOption::Eol)]);
    }

    #[test]
    fn nops_are_skipped() {
        let bytes = [1, 1, 1, 4, 2, 1, 1, 1];
        let opts = TcpOptions::parse(&bytes).unwrap();
        assert!(opts.sack_permitted);
    }

    #[test]
    fn unknown_option_is_skipped_by_its_length() {
        // Kind 30 (MPTCP) with 4 data bytes, then MSS.
        let bytes = [30, 6, 0xaa, 0xbb, 0xcc, 0xdd, 2, 4, 0, 100];
        assert_eq!(TcpOptions::parse(&bytes).unwrap().mss, Some(100));
        let mut it = TcpOptionIter::new(&bytes);
        assert_eq!(
            it.next(),
            Some(Ok(TcpOption::Unknown {
                kind: 30,
                data: &[0xaa, 0xbb, 0xcc, 0xdd]
            }))
        );
        assert_eq!(it.next(), Some(Ok(TcpOption::Mss(100))));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn length_byte_zero_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[30, 0, 0, 0]),
            Err(WireError::TcpOptionBadLength { kind: 30, len: 0 })
        );
    }

    #[test]
    fn length_byte_one_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[2, 1, 0, 0]),
            Err(WireError::TcpOptionBadLength { kind: 2, len: 1 })
        );
    }

    #[test]
    fn missing_length_byte_is_truncated() {
        assert_eq!(
            TcpOptions::parse(&[1, 1, 1, 8]),
            Err(WireError::TcpOptionTruncated { kind: 8 })
        );
    }

    #[test]
    fn option_running_past_header_is_truncated() {
        assert_eq!(
            TcpOptions::parse(&[1, 30, 8, 0]),
            Err(WireError::TcpOptionTruncated { kind: 30 })
        );
        assert_eq!(
            TcpOptions::parse(&[1, 1, 8, 10, 0, 0, 0, 0]),
            Err(WireError::TcpOptionTruncated { kind: 8 })
        );
        assert_eq!(
            TcpOptions::parse(&[1, 1, 5, 10, 0, 0, 0, 0]),
            Err(WireError::TcpOptionTruncated { kind: 5 })
        );
    }

    #[test]
    fn known_option_with_wrong_length_is_reported_as_such_even_past_the_end() {
        assert_eq!(
            TcpOptions::parse(&[1, 1, 2, 5]),
            Err(WireError::TcpOptionBadLength { kind: 2, len: 5 })
        );
    }

    #[test]
    fn mss_with_wrong_length_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[2, 3, 0, 1]),
            Err(WireError::TcpOptionBadLength { kind: 2, len: 3 })
        );
    }

    #[test]
    fn window_scale_with_wrong_length_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[3, 4, 7, 1]),
            Err(WireError::TcpOptionBadLength { kind: 3, len: 4 })
        );
    }

    #[test]
    fn sack_permitted_with_wrong_length_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[4, 3, 0, 1]),
            Err(WireError::TcpOptionBadLength { kind: 4, len: 3 })
        );
    }

    #[test]
    fn timestamps_with_wrong_length_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[8, 8, 0, 0, 0, 0, 0, 0]),
            Err(WireError::TcpOptionBadLength { kind: 8, len: 8 })
        );
    }

    #[test]
    fn sack_with_no_blocks_or_partial_block_is_rejected() {
        assert_eq!(
            TcpOptions::parse(&[5, 2, 1, 1]),
            Err(WireError::TcpOptionBadLength { kind: 5, len: 2 })
        );
        let mut bytes = vec![5, 14];
        bytes.extend_from_slice(&[0; 12]);
        assert_eq!(
            TcpOptions::parse(&bytes),
            Err(WireError::TcpOptionBadLength { kind: 5, len: 14 })
        );
    }

    #[test]
    fn sack_with_five_blocks_is_rejected() {
        let mut bytes = vec![5, 42];
        bytes.extend_from_slice(&[0; 40]);
        assert_eq!(
            TcpOptions::parse(&bytes),
            Err(WireError::TcpOptionBadLength { kind: 5, len: 42 })
        );
    }

    #[test]
    fn window_scale_above_14_is_read_as_14() {
        let bytes = [3, 3, 200, 0];
        assert_eq!(TcpOptions::parse(&bytes).unwrap().window_scale, Some(14));
        assert_eq!(
            TcpOptionIter::new(&bytes).next(),
            Some(Ok(TcpOption::WindowScale(200)))
        );
    }

    #[test]
    fn iterator_stops_after_an_error() {
        let mut it = TcpOptionIter::new(&[2, 0, 1, 1]);
        assert!(matches!(it.next(), Some(Err(_))));
        assert_eq!(it.next(), None);
        assert!(it.rest().is_empty());
    }

    #[test]
    fn emitting_unparseable_options_fails() {
        assert_eq!(
            TcpOption::Sack(SackList::default()).emit(&mut [0; 8]),
            Err(WireError::TcpOptionBadLength { kind: 5, len: 2 })
        );
        assert_eq!(
            TcpOption::Unknown { kind: 1, data: &[] }.emit(&mut [0; 8]),
            Err(WireError::TcpOptionBadLength { kind: 1, len: 2 })
        );
        let data = [0u8; 300];
        assert!(TcpOption::Unknown {
            kind: 99,
            data: &data
        }
        .emit(&mut [0; 400])
        .is_err());
    }
}
