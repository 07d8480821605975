//! Text made safe for a terminal. Names, paths, refs and messages come from
//! hostile inputs (a file named with a newline and an ESC sequence); written raw
//! they could forge report lines or colours. Every human-readable output passes
//! its untrusted text through `printable`.

use std::borrow::Cow;

/// `text` with control characters (C0, DEL, C1) and bidirectional overrides
/// escaped as `\n`, `\t`, `\r` or `\u{..}`; unchanged (borrowed) when it has none.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `printable` escapes `c`: a control character or a bidirectional
/// override.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_line_breaks_escape_sequences_and_bidi_overrides() {
        assert_eq!(printable("app\n  PASS"), "app\\n  PASS");
        assert_eq!(printable("x\u{1b}[32mok"), "x\\u{1b}[32mok");
        assert_eq!(printable("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
        assert_eq!(printable("plain/ünïcode"), "plain/ünïcode");
    }
}
