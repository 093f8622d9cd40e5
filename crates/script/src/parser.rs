//! The parser: script text to [`Script`].
//!
//! Two passes. The first works on lines: it removes `//` and `/* */` comments, keeps or
//! drops `#ifdef NAME` / `#ifndef NAME` / `#else` / `#endif` blocks according to the
//! defined names, collects `--name=value` header options, and joins an event that
//! spans lines (open brackets or an open `%{`). The second tokenizes each event
//! ([`crate::lexer`]) and parses it by recursive descent.

use crate::ast::*;
use crate::lexer::{parse_int, parse_seconds, tokenize, Tok, Token};
use core::fmt;

/// A syntax error at a line of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse a script. `defines` are the names `#ifdef` tests for.
pub fn parse(source: &str, defines: &[String]) -> Result<Script, ParseError> {
    let mut options = Vec::new();
    let mut events = Vec::new();
    for (line, text) in logical_lines(source, defines)? {
        let trimmed = text.trim();
        if let Some(opt) = trimmed.strip_prefix("--") {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                None => (opt.trim().to_string(), None),
            };
            options.push((name, value));
            continue;
        }
        if trimmed.starts_with('`') && trimmed.ends_with('`') && trimmed.len() > 1 {
            // packetdrill's init and cleanup commands: a shell command without a time,
            // before the first event (it runs at time 0) or after the last.
            let cmd = trimmed[1..trimmed.len() - 1].to_string();
            let time = if events.is_empty() {
                TimeSpec::Absolute(0)
            } else {
                TimeSpec::Relative(0)
            };
            events.push(Event {
                line,
                text: trimmed.to_string(),
                time,
                kind: EventKind::Command(cmd),
            });
            continue;
        }
        let tokens = tokenize(trimmed).map_err(|e| ParseError {
            line,
            message: format!("column {}: {}", e.col + 1, e.message),
        })?;
        let mut p = Parser {
            toks: &tokens,
            pos: 0,
            line,
        };
        let event = p.event(trimmed)?;
        events.push(event);
    }
    Ok(Script { options, events })
}

/// Comment-free, preprocessed lines with their starting line numbers; an event that
/// spans several lines comes out as one.
fn logical_lines(source: &str, defines: &[String]) -> Result<Vec<(usize, String)>, ParseError> {
    let stripped = strip_comments(source);
    // #ifdef stack: each entry is (this branch active, an earlier branch was active).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (idx, raw) in stripped.lines().enumerate() {
        let line = idx + 1;
        let t = raw.trim();
        let active = stack.iter().all(|(a, _)| *a);
        if let Some(rest) = t.strip_prefix('#') {
            let mut words = rest.split_whitespace();
            let directive = words.next().unwrap_or("");
            let name = words.next().unwrap_or("");
            match directive {
                "ifdef" | "ifndef" => {
                    let defined = defines.iter().any(|d| d == name);
                    let on = if directive == "ifdef" {
                        defined
                    } else {
                        !defined
                    };
                    stack.push((on, on));
                }
                "else" => {
                    let Some(top) = stack.last_mut() else {
                        return Err(ParseError {
                            line,
                            message: "#else without #ifdef".into(),
                        });
                    };
                    *top = (!top.1, true);
                }
                "endif" => {
                    if stack.pop().is_none() {
                        return Err(ParseError {
                            line,
                            message: "#endif without #ifdef".into(),
                        });
                    }
                }
                _ if !active => {}
                _ => {
                    return Err(ParseError {
                        line,
                        message: format!("unknown preprocessor directive `#{directive}`"),
                    })
                }
            }
            continue;
        }
        if !active {
            continue;
        }
        if let Some((start, mut text)) = pending.take() {
            text.push(' ');
            text.push_str(t);
            if open_brackets(&text) {
                pending = Some((start, text));
            } else {
                out.push((start, text));
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if open_brackets(t) {
            pending = Some((line, t.to_string()));
        } else {
            out.push((line, t.to_string()));
        }
    }
    if let Some((start, _)) = pending {
        return Err(ParseError {
            line: start,
            message: "unbalanced brackets: the event never ends".into(),
        });
    }
    if !stack.is_empty() {
        return Err(ParseError {
            line: stripped.lines().count(),
            message: "#ifdef without #endif".into(),
        });
    }
    Ok(out)
}

/// True if `text` has more opening than closing `( [ {` (outside strings and
/// backticks), or an unclosed `%{`.
fn open_brackets(text: &str) -> bool {
    let mut depth: i32 = 0;
    let mut in_str = false;
    let mut in_tick = false;
    let mut in_code = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_code {
            if c == '}' && chars.get(i + 1) == Some(&'%') {
                in_code = false;
                i += 1;
            }
        } else if in_str {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if in_tick {
            if c == '`' {
                in_tick = false;
            }
        } else {
            match c {
                '"' => in_str = true,
                '`' => in_tick = true,
                '%' if chars.get(i + 1) == Some(&'{') => {
                    in_code = true;
                    i += 1;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    depth > 0 || in_code || in_tick
}

/// Remove `/* … */` (keeping newlines, so line numbers stay right) and `// …` comments,
/// except inside strings, backticks and code blocks.
fn strip_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let mut in_str = false;
    let mut in_tick = false;
    let mut in_code = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = next {
                    out.push(n);
                    i += 1;
                }
            } else if c == '"' || c == '\n' {
                in_str = false;
            }
        } else if in_tick {
            // A shell command may span lines (packetdrill's lexer allows it).
            out.push(c);
            if c == '`' {
                in_tick = false;
            }
        } else if in_code {
            out.push(c);
            if c == '}' && next == Some('%') {
                out.push('%');
                i += 1;
                in_code = false;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1; // the '/'
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        } else {
            match c {
                '"' => in_str = true,
                '`' => in_tick = true,
                '%' if next == Some('{') => in_code = true,
                _ => {}
            }
            out.push(c);
        }
        i += 1;
    }
    out
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    line: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            line: self.line,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.kind)
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.pos).map(|t| &t.kind);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> PResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.err(format!("expected `{c}`, found {}", self.describe_next()))
        }
    }

    fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == name)
    }

    fn eat_ident(&mut self, name: &str) -> bool {
        if self.is_ident(name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            Some(t) => t.to_string(),
            None => "the end of the line".into(),
        }
    }

    fn number_text(&mut self) -> PResult<String> {
        match self.next() {
            Some(Tok::Num(s)) => Ok(s.clone()),
            _ => {
                self.pos = self.pos.saturating_sub(1);
                self.err(format!("expected a number, found {}", self.describe_next()))
            }
        }
    }

    fn u32_value(&mut self) -> PResult<u32> {
        let text = self.number_text()?;
        match parse_int(&text).and_then(|v| u32::try_from(v).ok()) {
            Some(v) => Ok(v),
            None => self.err(format!("`{text}` is not a 32-bit unsigned number")),
        }
    }

    fn seconds(&mut self) -> PResult<i64> {
        let text = self.number_text()?;
        match parse_seconds(&text) {
            Some(v) => Ok(v),
            None => self.err(format!("`{text}` is not a time in seconds")),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn expect_end(&self) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.err(format!(
                "unexpected {} at the end of the event",
                self.describe_next()
            ))
        }
    }

    fn event(&mut self, text: &str) -> PResult<Event> {
        let time = self.time()?;
        let kind = match self.peek() {
            Some(Tok::Punct('<')) => EventKind::Packet(self.packet(Direction::Inbound)?),
            Some(Tok::Punct('>')) => EventKind::Packet(self.packet(Direction::Outbound)?),
            Some(Tok::Backtick(cmd)) => {
                let cmd = cmd.clone();
                self.pos += 1;
                self.expect_end()?;
                EventKind::Command(cmd)
            }
            Some(Tok::Code(code)) => {
                let code = code.clone();
                self.pos += 1;
                self.expect_end()?;
                EventKind::Code(code)
            }
            Some(Tok::Ident(_)) if self.peek_at(1) == Some(&Tok::Punct('(')) => {
                EventKind::Syscall(self.syscall()?)
            }
            _ => {
                return self.err(format!(
                    "expected a packet, a system call, a command or a code block after the time, found {}",
                    self.describe_next()
                ))
            }
        };
        if let (TimeSpec::Blocking { .. }, EventKind::Packet(_) | EventKind::Command(_)) =
            (&time, &kind)
        {
            return self.err("only a system call can have a blocking time `a...b`");
        }
        Ok(Event {
            line: self.line,
            text: text.to_string(),
            time,
            kind,
        })
    }

    /// `*`, `[+]t`, `[+]a~[+]b`, `[+]a...[+]b`.
    fn time(&mut self) -> PResult<TimeSpec> {
        if self.eat_punct('*') {
            return Ok(TimeSpec::Any);
        }
        let relative = self.eat_punct('+');
        let start = self.seconds()?;
        if self.eat_punct('~') {
            self.eat_punct('+');
            let end = self.seconds()?;
            if end < start {
                return self.err("time range ends before it starts");
            }
            return Ok(if relative {
                TimeSpec::RelativeRange(start, end)
            } else {
                TimeSpec::AbsoluteRange(start, end)
            });
        }
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.eat_punct('+');
            let end = self.seconds()?;
            if end < start {
                return self.err("blocking call ends before it starts");
            }
            return Ok(TimeSpec::Blocking {
                start,
                end,
                relative,
            });
        }
        Ok(if relative {
            TimeSpec::Relative(start)
        } else {
            TimeSpec::Absolute(start)
        })
    }

    fn packet(&mut self, direction: Direction) -> PResult<PacketSpec> {
        self.pos += 1; // < or >
        let mut ecn = None;
        if self.eat_punct('[') {
            let name = match self.next() {
                Some(Tok::Ident(s)) => s.clone(),
                _ => return self.err("expected an ECN codepoint name in `[...]`"),
            };
            ecn = Some(match name.as_str() {
                "noecn" => EcnSpec::NotEct,
                "ect0" => EcnSpec::Ect0,
                "ect1" => EcnSpec::Ect1,
                "ce" => EcnSpec::Ce,
                "ect01" => EcnSpec::Ect01,
                other => return self.err(format!("unknown ECN codepoint `{other}`")),
            });
            self.expect_punct(']')?;
        }
        let mut ip_fields = Vec::new();
        if self.is_punct('(') {
            self.pos += 1;
            loop {
                let name = match self.next() {
                    Some(Tok::Ident(s)) => s.clone(),
                    _ => return self.err("expected an IP header field name in `(...)`"),
                };
                let value = self.u32_value()?;
                ip_fields.push((name, value));
                if self.eat_punct(')') {
                    break;
                }
                self.expect_punct(',')?;
            }
        }
        let body = if self.is_ident("icmp") {
            self.pos += 1;
            PacketBody::Icmp(self.icmp()?)
        } else if self.is_ident("udp") || self.is_ident("sctp") || self.is_ident("udplite") {
            let what = self.describe_next();
            self.pos = self.toks.len();
            PacketBody::Unsupported(format!("{what} packets"))
        } else {
            let tcp = self.tcp()?;
            if self.eat_punct('/') {
                // `.../udp(1234 > 5678)`: TCP encapsulated in UDP (RFC 8445-style tunnels).
                self.pos = self.toks.len();
                PacketBody::Unsupported("TCP over UDP encapsulation".into())
            } else {
                PacketBody::Tcp(tcp)
            }
        };
        self.expect_end()?;
        Ok(PacketSpec {
            direction,
            ecn,
            ip_fields,
            body,
        })
    }

    fn flags(&mut self) -> PResult<FlagSpec> {
        let mut f = FlagSpec::default();
        let mut any = false;
        loop {
            match self.peek() {
                Some(Tok::Ident(s)) if s.chars().all(|c| "FSRPUEWN".contains(c)) => {
                    for c in s.clone().chars() {
                        match c {
                            'F' => f.fin = true,
                            'S' => f.syn = true,
                            'R' => f.rst = true,
                            'P' => f.psh = true,
                            'U' => f.urg = true,
                            'E' => f.ece = true,
                            'W' => f.cwr = true,
                            // N (the experimental NS bit of RFC 3540, historic): not modelled.
                            _ => return self.err("the NS flag (`N`) is not supported"),
                        }
                    }
                    self.pos += 1;
                    any = true;
                }
                Some(Tok::Punct('.')) => {
                    f.ack = true;
                    self.pos += 1;
                    any = true;
                }
                Some(Tok::Punct('-')) if !any => {
                    // `-`: no flags at all.
                    self.pos += 1;
                    return Ok(f);
                }
                _ => break,
            }
        }
        if !any {
            return self.err(format!(
                "expected TCP flags, found {}",
                self.describe_next()
            ));
        }
        Ok(f)
    }

    fn tcp(&mut self) -> PResult<TcpSpec> {
        let flags = self.flags()?;
        let seq = if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            None
        } else {
            let start = self.u32_value()?;
            self.expect_punct(':')?;
            let end = self.u32_value()?;
            Some((start, end))
        };
        self.expect_punct('(')?;
        let len = self.u32_value()?;
        self.expect_punct(')')?;
        if let Some((start, end)) = seq {
            if end.wrapping_sub(start) != len {
                return self.err(format!(
                    "sequence range {start}:{end} does not match the length ({len})"
                ));
            }
        }
        // nplab's `!` after the range: "do not check the length"; not needed here.
        self.eat_punct('!');
        let mut spec = TcpSpec {
            flags,
            seq,
            len,
            ack: None,
            win: None,
            urg: None,
            options: OptionsSpec::None,
        };
        loop {
            if self.eat_ident("ack") {
                spec.ack = Some(self.u32_value()?);
            } else if self.eat_ident("win") {
                spec.win = Some(self.u32_value()?);
            } else if self.eat_ident("urg") {
                let v = self.u32_value()?;
                spec.urg =
                    Some(u16::try_from(v).or_else(|_| self.err("urgent pointer too large"))?);
            } else {
                break;
            }
        }
        if self.eat_punct('<') {
            spec.options = self.options()?;
        }
        Ok(spec)
    }

    fn options(&mut self) -> PResult<OptionsSpec> {
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.expect_punct('>')?;
            return Ok(OptionsSpec::Any);
        }
        let mut list = Vec::new();
        if self.eat_punct('>') {
            return Ok(OptionsSpec::List(list));
        }
        loop {
            let name = match self.next() {
                Some(Tok::Ident(s)) => s.clone(),
                _ => {
                    self.pos -= 1;
                    return self.err(format!(
                        "expected a TCP option, found {}",
                        self.describe_next()
                    ));
                }
            };
            let opt = match name.as_str() {
                "nop" => OptionSpec::Nop,
                "eol" => OptionSpec::Eol,
                "mss" => {
                    let v = self.u32_value()?;
                    OptionSpec::Mss(u16::try_from(v).or_else(|_| self.err("MSS too large"))?)
                }
                "wscale" => {
                    let v = self.u32_value()?;
                    OptionSpec::WindowScale(
                        u8::try_from(v).or_else(|_| self.err("window scale too large"))?,
                    )
                }
                "sackOK" => OptionSpec::SackPermitted,
                "sack" => {
                    let mut blocks = Vec::new();
                    while matches!(self.peek(), Some(Tok::Num(_))) {
                        let a = self.u32_value()?;
                        self.expect_punct(':')?;
                        let b = self.u32_value()?;
                        blocks.push((a, b));
                    }
                    OptionSpec::Sack(blocks)
                }
                "TS" => {
                    if !self.eat_ident("val") {
                        return self.err("expected `val` after `TS`");
                    }
                    let val = self.u32_value()?;
                    if !self.eat_ident("ecr") {
                        return self.err("expected `ecr` after the TS value");
                    }
                    let ecr = self.u32_value()?;
                    OptionSpec::Timestamps { val, ecr }
                }
                other => {
                    // md5, FO (Fast Open), exp, mp (MPTCP)...: skip its arguments.
                    while !self.at_end() && !self.is_punct(',') && !self.is_punct('>') {
                        self.pos += 1;
                    }
                    OptionSpec::Unsupported(other.to_string())
                }
            };
            list.push(opt);
            if self.eat_punct('>') {
                return Ok(OptionsSpec::List(list));
            }
            self.expect_punct(',')?;
        }
    }

    fn icmp(&mut self) -> PResult<IcmpSpec> {
        let kind = match self.next() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => return self.err("expected an ICMP type name"),
        };
        let code = match self.peek() {
            Some(Tok::Ident(s)) if s != "mtu" => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        };
        let mut mtu = None;
        if self.eat_ident("mtu") {
            mtu = Some(self.u32_value()?);
        }
        let mut seq = None;
        let mut len = 0;
        if self.eat_punct('[') {
            let start = self.u32_value()?;
            self.expect_punct(':')?;
            let _end = self.u32_value()?;
            self.expect_punct('(')?;
            len = self.u32_value()?;
            self.expect_punct(')')?;
            self.expect_punct(']')?;
            seq = Some(start);
        }
        Ok(IcmpSpec {
            kind,
            code,
            mtu,
            seq,
            len,
        })
    }

    fn syscall(&mut self) -> PResult<Syscall> {
        let name = match self.next() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => unreachable!("checked by the caller"),
        };
        self.expect_punct('(')?;
        let args = self.expr_list(')')?;
        self.expect_punct('=')?;
        let ret = self.expr()?;
        let mut errno = None;
        if let Some(Tok::Ident(e)) = self.peek() {
            errno = Some(e.clone());
            self.pos += 1;
        }
        // A trailing `(note)`, e.g. `(Operation now in progress)` or `(flags O_RDWR)`.
        if self.is_punct('(') {
            self.pos = self.toks.len();
        }
        self.expect_end()?;
        Ok(Syscall {
            name,
            args,
            ret,
            errno,
        })
    }

    fn expr_list(&mut self, close: char) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat_punct(close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat_punct(close) {
                return Ok(args);
            }
            self.expect_punct(',')?;
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        let first = self.primary()?;
        if !self.is_punct('|') {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.eat_punct('|') {
            all.push(self.primary()?);
        }
        Ok(Expr::Or(all))
    }

    fn primary(&mut self) -> PResult<Expr> {
        let negative = self.eat_punct('-');
        match self.next().cloned() {
            Some(Tok::Ellipsis) if !negative => Ok(Expr::Ellipsis),
            Some(Tok::Num(s)) => match parse_int(&s) {
                Some(v) => Ok(Expr::Int(if negative { -v } else { v })),
                None => self.err(format!("`{s}` is not an integer")),
            },
            Some(Tok::Str(s)) if !negative => Ok(Expr::Str(s)),
            Some(Tok::Ident(s)) if !negative => {
                if self.eat_punct('(') {
                    let args = self.expr_list(')')?;
                    Ok(Expr::Call(s, args))
                } else {
                    Ok(Expr::Symbol(s))
                }
            }
            Some(Tok::Punct('[')) if !negative => Ok(Expr::List(self.expr_list(']')?)),
            Some(Tok::Punct('{')) if !negative => {
                let mut fields = Vec::new();
                if self.eat_punct('}') {
                    return Ok(Expr::Struct(fields));
                }
                loop {
                    let name = match (self.peek().cloned(), self.peek_at(1)) {
                        (Some(Tok::Ident(n)), Some(Tok::Punct('='))) => {
                            self.pos += 2;
                            Some(n)
                        }
                        _ => None,
                    };
                    fields.push((name, self.expr()?));
                    if self.eat_punct('}') {
                        return Ok(Expr::Struct(fields));
                    }
                    self.expect_punct(',')?;
                }
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                self.err(format!(
                    "expected an expression, found {}",
                    self.describe_next()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Event {
        let s = parse(src, &[]).unwrap();
        assert_eq!(s.events.len(), 1, "{s:?}");
        s.events.into_iter().next().unwrap()
    }

    #[test]
    fn packet_lines() {
        let e = one("+0.10 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>");
        assert_eq!(e.time, TimeSpec::Relative(100_000));
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        assert_eq!(p.direction, Direction::Inbound);
        let PacketBody::Tcp(t) = p.body else { panic!() };
        assert!(t.flags.syn && t.flags.ack && !t.flags.fin);
        assert_eq!(
            (t.seq, t.len, t.ack, t.win),
            (Some((0, 0)), 0, Some(1), Some(32767))
        );
        assert_eq!(
            t.options,
            OptionsSpec::List(vec![
                OptionSpec::Mss(1460),
                OptionSpec::SackPermitted,
                OptionSpec::Eol,
                OptionSpec::Eol
            ])
        );
        let e = one("* > S 0:0(0) win 65535 <...>");
        assert_eq!(e.time, TimeSpec::Any);
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        let PacketBody::Tcp(t) = p.body else { panic!() };
        assert_eq!(t.options, OptionsSpec::Any);
        let e = one("+0 > . 1:1(0) ack 100 win 65535 <nop,nop,sack 50:75 600:700, TS val 1 ecr 2>");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        let PacketBody::Tcp(t) = p.body else { panic!() };
        assert_eq!(
            t.options,
            OptionsSpec::List(vec![
                OptionSpec::Nop,
                OptionSpec::Nop,
                OptionSpec::Sack(vec![(50, 75), (600, 700)]),
                OptionSpec::Timestamps { val: 1, ecr: 2 }
            ])
        );
        let e = one("+0 > S. ...(0) ack 65537 win 65535");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        let PacketBody::Tcp(t) = p.body else { panic!() };
        assert_eq!(t.seq, None);
        let e = one("+0.00 > (tos 0x20) S 0:0(0) win 65535");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        assert_eq!(p.ip_fields, vec![("tos".to_string(), 0x20)]);
        let e = one("+0.00 <[noecn] . 1:1(0) ack 1 win 5");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        assert_eq!(p.ecn, Some(EcnSpec::NotEct));
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(parse("0 < . 1:5(3) ack 1 win 5", &[]).is_err());
        assert!(parse("0 < . 1:1(0) ack 1 win 5 extra", &[]).is_err());
        assert!(parse("0 > S 0:0(0) <mss>", &[]).is_err());
    }

    #[test]
    fn syscalls() {
        let e = one("+0.00 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
        let EventKind::Syscall(s) = e.kind else {
            panic!()
        };
        assert_eq!(s.name, "connect");
        assert_eq!(s.args, vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis]);
        assert_eq!(
            (s.ret, s.errno.as_deref()),
            (Expr::Int(-1), Some("EINPROGRESS"))
        );
        let e = one("+0.00 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0");
        let EventKind::Syscall(s) = e.kind else {
            panic!()
        };
        assert_eq!(
            s.args[2],
            Expr::Or(vec![
                Expr::Symbol("O_RDWR".into()),
                Expr::Symbol("O_NONBLOCK".into())
            ])
        );
        let e = one("+0.00 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)");
        let EventKind::Syscall(s) = e.kind else {
            panic!()
        };
        assert_eq!((s.ret, s.errno), (Expr::Int(2), None));
        let e = one("1.00...6.00 connect(3, ..., ...) = -1 ETIMEDOUT");
        assert_eq!(
            e.time,
            TimeSpec::Blocking {
                start: 1_000_000,
                end: 6_000_000,
                relative: false
            }
        );
        let e = one("+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0");
        let EventKind::Syscall(s) = e.kind else {
            panic!()
        };
        assert_eq!(
            s.args[3],
            Expr::Struct(vec![
                (Some("l_onoff".into()), Expr::Int(1)),
                (Some("l_linger".into()), Expr::Int(0))
            ])
        );
    }

    #[test]
    fn preprocessing() {
        let src = "--ip_version=ipv4\n// comment\n0 `a` // trailing\n#ifdef X\n+0 `b`\n#else\n+0 `c`\n#endif\n/* multi\nline */ +0 %{ assert tcpi_state == 1 }%\n+0 setsockopt(3,\n SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n";
        let s = parse(src, &[]).unwrap();
        assert_eq!(s.options, vec![("ip_version".into(), Some("ipv4".into()))]);
        let kinds: Vec<_> = s.events.iter().map(|e| (e.line, e.kind.clone())).collect();
        assert_eq!(kinds[0], (3, EventKind::Command("a".into())));
        assert_eq!(kinds[1], (7, EventKind::Command("c".into())));
        assert_eq!(
            kinds[2],
            (10, EventKind::Code(" assert tcpi_state == 1 ".into()))
        );
        assert_eq!(kinds[3].0, 11);
        let s = parse(src, &["X".to_string()]).unwrap();
        assert_eq!(s.events[1].kind, EventKind::Command("b".into()));
        assert!(parse("#ifdef X\n0 `a`\n", &[]).is_err());
        assert!(parse("#endif\n", &[]).is_err());
    }
}
