//! The scanner: turns one event's text into tokens.
//!
//! packetdrill's lexer (`lexer.l`) is context-free except for a few spots; so is this
//! one. The ambiguities are settled the same way: a `.` directly followed by a digit
//! starts a number (`+.1`), otherwise it is the ACK flag or a separator; `...` is one
//! token, so `1.00...6.00` is a number, an ellipsis and a number.

use core::fmt;

/// One token and the column (0-based, in characters of the event text) where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub col: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// Digits, with an optional fraction (`0.100`, `.1`), or `0x…` hexadecimal; the text
    /// as written.
    Num(String),
    /// `[A-Za-z_][A-Za-z0-9_]*`.
    Ident(String),
    /// A double-quoted string, unescaped.
    Str(String),
    /// A shell command between backticks.
    Backtick(String),
    /// The body of `%{ … }%`.
    Code(String),
    /// `...`
    Ellipsis,
    /// Any other single character: `< > ( ) [ ] { } , : = ~ * + - | ! / .`
    Punct(char),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(s) | Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Backtick(_) => write!(f, "a shell command"),
            Tok::Code(_) => write!(f, "a code block"),
            Tok::Ellipsis => write!(f, "`...`"),
            Tok::Punct(c) => write!(f, "`{c}`"),
        }
    }
}

/// A scanning error: what and where (column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub col: usize,
    pub message: String,
}

/// Split `text` into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) {
            let (tok, end) = number(&chars, i);
            i = end;
            tok
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else if c == '.' && chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
            i += 3;
            Tok::Ellipsis
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(LexError {
                            col: start,
                            message: "unterminated string".into(),
                        })
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(&other) => s.push(other),
                            None => {}
                        }
                        i += 2;
                    }
                    Some(&other) => {
                        s.push(other);
                        i += 1;
                    }
                }
            }
            Tok::Str(s)
        } else if c == '`' {
            let rest = &chars[i + 1..];
            let Some(end) = rest.iter().position(|&x| x == '`') else {
                return Err(LexError {
                    col: start,
                    message: "unterminated shell command (missing closing backtick)".into(),
                });
            };
            i += end + 2;
            Tok::Backtick(rest[..end].iter().collect())
        } else if c == '%' && chars.get(i + 1) == Some(&'{') {
            let body_start = i + 2;
            let mut j = body_start;
            loop {
                if j + 1 >= chars.len() {
                    return Err(LexError {
                        col: start,
                        message: "unterminated code block (missing `}%`)".into(),
                    });
                }
                if chars[j] == '}' && chars[j + 1] == '%' {
                    break;
                }
                j += 1;
            }
            i = j + 2;
            Tok::Code(chars[body_start..j].iter().collect())
        } else if "<>()[]{},:=~*+-|!/.;".contains(c) {
            i += 1;
            Tok::Punct(c)
        } else {
            return Err(LexError {
                col: start,
                message: format!("unexpected character `{c}`"),
            });
        };
        out.push(Token { kind, col: start });
    }
    Ok(out)
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(char::is_ascii_digit)
}

/// A number starting at `i`: hexadecimal, or digits with at most one fraction point
/// (stopping before `...`).
fn number(chars: &[char], mut i: usize) -> (Tok, usize) {
    let start = i;
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x') | Some('X')) {
        i += 2;
        while i < chars.len() && chars[i].is_ascii_hexdigit() {
            i += 1;
        }
        return (Tok::Num(chars[start..i].iter().collect()), i);
    }
    let mut seen_point = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            i += 1;
        } else if c == '.' && !seen_point && chars.get(i + 1) != Some(&'.') {
            // `1.` followed by a non-digit is still a number ("1." = 1.0) unless the dot
            // begins an ellipsis.
            seen_point = true;
            i += 1;
        } else {
            break;
        }
    }
    (Tok::Num(chars[start..i].iter().collect()), i)
}

/// Parse a number token as an integer (decimal or `0x` hexadecimal).
pub fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    text.parse().ok()
}

/// Parse a number token as seconds, returning microseconds (`0.1` → 100000).
pub fn parse_seconds(text: &str) -> Option<i64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut micros: i64 = 0;
    let mut scale = 100_000;
    for c in frac.chars().take(6) {
        micros += i64::from(c.to_digit(10)?) * scale;
        scale /= 10;
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn times_and_ellipsis() {
        assert_eq!(
            kinds("+.1 1.00...6.00 *"),
            vec![
                Tok::Punct('+'),
                Tok::Num(".1".into()),
                Tok::Num("1.00".into()),
                Tok::Ellipsis,
                Tok::Num("6.00".into()),
                Tok::Punct('*'),
            ]
        );
    }

    #[test]
    fn flags_and_ranges() {
        assert_eq!(
            kinds("> F. 1:1(0) ack 2"),
            vec![
                Tok::Punct('>'),
                Tok::Ident("F".into()),
                Tok::Punct('.'),
                Tok::Num("1".into()),
                Tok::Punct(':'),
                Tok::Num("1".into()),
                Tok::Punct('('),
                Tok::Num("0".into()),
                Tok::Punct(')'),
                Tok::Ident("ack".into()),
                Tok::Num("2".into()),
            ]
        );
        assert_eq!(
            kinds("> S. ...(0)"),
            vec![
                Tok::Punct('>'),
                Tok::Ident("S".into()),
                Tok::Punct('.'),
                Tok::Ellipsis,
                Tok::Punct('('),
                Tok::Num("0".into()),
                Tok::Punct(')'),
            ]
        );
    }

    #[test]
    fn commands_code_and_strings() {
        assert_eq!(
            kinds("`sysctl -w a.b=1` %{ assert x == 1 }% \"a\\\"b\""),
            vec![
                Tok::Backtick("sysctl -w a.b=1".into()),
                Tok::Code(" assert x == 1 ".into()),
                Tok::Str("a\"b".into()),
            ]
        );
        assert!(tokenize("`unterminated").is_err());
        assert!(tokenize("%{ x").is_err());
        assert!(tokenize("a # b").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.100"), Some(100_000));
        assert_eq!(parse_seconds(".1"), Some(100_000));
        assert_eq!(parse_seconds("2"), Some(2_000_000));
        assert_eq!(parse_seconds("1.0000019"), Some(1_000_001));
        assert_eq!(parse_int("0x02"), Some(2));
        assert_eq!(parse_int("4294967295"), Some(4_294_967_295));
    }
}
