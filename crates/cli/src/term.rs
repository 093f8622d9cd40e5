//! The terminal: colour when standard output is one and `NO_COLOR` is unset
//! (<https://no-color.org>), and its width, so that ladders fit when they can.

use std::io::{IsTerminal, Write};

/// Write `text` to standard output. A reader that went away (`synack ladder x | head`)
/// ends the program quietly, as the default SIGPIPE would, instead of a panic.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("synack: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! say {
    () => { $crate::term::emit("\n") };
    ($($arg:tt)*) => { $crate::term::emit(&format!("{}\n", format_args!($($arg)*))) };
}

/// What the output can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Use ANSI colours.
    pub colour: bool,
    /// Columns, when standard output is a terminal.
    pub width: Option<usize>,
}

impl Term {
    /// Standard output as it is now.
    pub fn stdout() -> Term {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = if tty {
            terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
        } else {
            None
        };
        Term {
            colour: tty && !no_color,
            width,
        }
    }
}

/// The widest line of `text`, not counting ANSI escapes.
pub fn widest(text: &str) -> usize {
    text.lines().map(visible_len).max().unwrap_or(0)
}

/// Characters of `line` a terminal shows (ANSI escapes excluded).
pub fn visible_len(line: &str) -> usize {
    let mut n = 0;
    let mut escape = false;
    for c in line.chars() {
        if escape {
            if c.is_ascii_alphabetic() {
                escape = false;
            }
        } else if c == '\x1b' {
            escape = true;
        } else {
            n += 1;
        }
    }
    n
}

/// Word-wrap `text` to `width` columns, indenting continuation lines by `indent`.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if col > indent && col + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if col > 0 && !out.ends_with(' ') {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_do_not_count() {
        assert_eq!(visible_len("\x1b[1;36mLISTEN\x1b[0m  x"), 9);
        assert_eq!(widest("ab\n\x1b[31mabcd\x1b[0m\n"), 4);
    }

    #[test]
    fn wrapping_keeps_words_and_indents() {
        assert_eq!(
            wrap("one two three four", 9, 3),
            "one two\n   three\n   four"
        );
    }
}
