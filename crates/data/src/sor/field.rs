//! Lexing the fields of one line: `<...>` groups, with white space around and inside them.
//!
//! The lexer never fails: text that is not a well-formed field comes out as
//! [`Field::Malformed`], so that the caller decides whether it is a deviation or an
//! error, and so that arbitrary bytes can never make it panic.

use std::fmt;

/// One field of a line, borrowed from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    /// `<>` or `< >`.
    Missing,
    /// An unquoted word, without the white space around it.
    Bare(&'a [u8]),
    /// The text between the quotes of `<"...">`.
    Quoted(&'a [u8]),
    /// Text that is not a valid field.
    Malformed(Malformation),
}

/// Why a field is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformation {
    /// Text outside any `<...>`.
    StrayText,
    /// A `<` with no `>` after it on the line.
    Unclosed,
    /// An opening `"` with no closing one on the line.
    UnclosedQuote,
    /// Something other than white space between a closing `"` and the `>`.
    AfterQuote,
    /// White space inside an unquoted word (`<1. 2>`).
    SpaceInWord,
    /// A `<` inside an unquoted word (`<a<b>`).
    BracketInWord,
}

impl fmt::Display for Malformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformation::StrayText => "text outside <...>",
            Malformation::Unclosed => "no closing > on the line",
            Malformation::UnclosedQuote => "no closing quote on the line",
            Malformation::AfterQuote => "text after the closing quote",
            Malformation::SpaceInWord => "white space inside an unquoted value",
            Malformation::BracketInWord => "< inside an unquoted value",
        })
    }
}

/// SoR's white space: only spaces and tabs; every other byte is content.
#[inline]
pub(crate) fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Iterates over the fields of one line (without its line ending).
#[derive(Clone, Debug)]
pub(crate) struct FieldLexer<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> FieldLexer<'a> {
    /// A lexer positioned at the start of `line`.
    #[inline]
    pub(crate) fn new(line: &'a [u8]) -> Self {
        FieldLexer { line, pos: 0 }
    }

    #[inline]
    fn skip_space(&mut self) {
        while self.pos < self.line.len() && is_space(self.line[self.pos]) {
            self.pos += 1;
        }
    }

    /// The next field and its text as written (brackets included), or `None` at the end
    /// of the line.
    #[inline]
    pub(crate) fn next_field(&mut self) -> Option<(Field<'a>, &'a [u8])> {
        self.skip_space();
        let line = self.line;
        let start = self.pos;
        let &first = line.get(start)?;
        if first != b'<' {
            return Some((self.stray_text(), &line[start..self.pos]));
        }
        self.pos += 1;
        self.skip_space();
        let field = match line.get(self.pos) {
            None => Field::Malformed(Malformation::Unclosed),
            Some(b'>') => {
                self.pos += 1;
                Field::Missing
            }
            Some(b'"') => self.quoted(),
            Some(_) => self.bare(),
        };
        Some((field, &line[start..self.pos]))
    }

    /// Consumes text up to the next `<` (or the end of the line).
    fn stray_text(&mut self) -> Field<'a> {
        let rest = &self.line[self.pos..];
        let len = memchr::memchr(b'<', rest).unwrap_or(rest.len());
        // Leave trailing white space out of the reported text; it is skipped anyway.
        let trimmed = rest[..len]
            .iter()
            .rposition(|&b| !is_space(b))
            .map_or(0, |i| i + 1);
        self.pos += trimmed.max(1);
        Field::Malformed(Malformation::StrayText)
    }

    /// Lexes `"...", then white space, then `>`; `pos` is at the opening quote.
    fn quoted(&mut self) -> Field<'a> {
        let open = self.pos;
        let Some(close) = memchr::memchr(b'"', &self.line[open + 1..]).map(|i| open + 1 + i) else {
            self.pos = self.line.len();
            return Field::Malformed(Malformation::UnclosedQuote);
        };
        self.pos = close + 1;
        self.skip_space();
        match self.line.get(self.pos) {
            Some(b'>') => {
                self.pos += 1;
                Field::Quoted(&self.line[open + 1..close])
            }
            None => Field::Malformed(Malformation::Unclosed),
            Some(_) => {
                // Resynchronize at the next `>` so that later fields keep their columns.
                self.skip_to_close();
                Field::Malformed(Malformation::AfterQuote)
            }
        }
    }

    /// Lexes an unquoted word up to `>`; `pos` is at its first byte (not white space).
    #[inline]
    fn bare(&mut self) -> Field<'a> {
        let start = self.pos;
        let line = self.line;
        let mut end = start; // one past the last non-space byte seen
        let mut spaced = false;
        let mut bracket = false;
        let mut i = start;
        while let Some(&b) = line.get(i) {
            if b == b'>' {
                self.pos = i + 1;
                return if bracket {
                    Field::Malformed(Malformation::BracketInWord)
                } else if spaced {
                    Field::Malformed(Malformation::SpaceInWord)
                } else {
                    Field::Bare(&line[start..end])
                };
            }
            if !is_space(b) {
                // A non-space byte after white space means the word has a gap in it;
                // white space only before the `>` is allowed.
                spaced |= end != i;
                bracket |= b == b'<';
                end = i + 1;
            }
            i += 1;
        }
        self.pos = line.len();
        Field::Malformed(Malformation::Unclosed)
    }

    fn skip_to_close(&mut self) {
        let rest = &self.line[self.pos..];
        self.pos += memchr::memchr(b'>', rest).map_or(rest.len(), |i| i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(line: &str) -> Vec<(Field<'_>, &str)> {
        let mut lexer = FieldLexer::new(line.as_bytes());
        let mut out = Vec::new();
        while let Some((field, text)) = lexer.next_field() {
            out.push((field, std::str::from_utf8(text).unwrap()));
        }
        out
    }

    fn fields(line: &str) -> Vec<Field<'_>> {
        lex(line).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn plain_fields() {
        assert_eq!(
            fields("<1><hello><>"),
            vec![Field::Bare(b"1"), Field::Bare(b"hello"), Field::Missing]
        );
        assert_eq!(fields(""), vec![]);
        assert_eq!(fields("   \t "), vec![]);
    }

    #[test]
    fn white_space_around_and_inside_brackets() {
        assert_eq!(
            fields("  <  12 >\t< >  <\t-3\t>  "),
            vec![Field::Bare(b"12"), Field::Missing, Field::Bare(b"-3")]
        );
        assert_eq!(lex("  <  12 >  ")[0].1, "<  12 >");
    }

    #[test]
    fn quoted_strings_keep_spaces_and_brackets() {
        assert_eq!(
            fields(r#"< "ho ho ho" ><"bye bye <> "><"">"#),
            vec![
                Field::Quoted(b"ho ho ho"),
                Field::Quoted(b"bye bye <> "),
                Field::Quoted(b"")
            ]
        );
        assert_eq!(
            fields("<\"héllo wörld\">"),
            vec![Field::Quoted("héllo wörld".as_bytes())]
        );
    }

    #[test]
    fn bare_words_may_hold_utf8_and_quotes() {
        assert_eq!(fields("<héllo>"), vec![Field::Bare("héllo".as_bytes())]);
        assert_eq!(fields(r#"<a"b>"#), vec![Field::Bare(b"a\"b")]);
    }

    #[test]
    fn malformed_fields_resynchronize() {
        use Malformation::*;
        assert_eq!(
            fields("<1. 2><+ 1><3>"),
            vec![
                Field::Malformed(SpaceInWord),
                Field::Malformed(SpaceInWord),
                Field::Bare(b"3")
            ]
        );
        assert_eq!(
            fields(r#"<"a" b><2>"#),
            vec![Field::Malformed(AfterQuote), Field::Bare(b"2")]
        );
        assert_eq!(
            lex(r#"<1><"abc>"#),
            vec![
                (Field::Bare(b"1"), "<1>"),
                (Field::Malformed(UnclosedQuote), r#"<"abc>"#)
            ]
        );
        assert_eq!(
            fields("<1><2"),
            vec![Field::Bare(b"1"), Field::Malformed(Unclosed)]
        );
        assert_eq!(fields("<"), vec![Field::Malformed(Unclosed)]);
        assert_eq!(fields("< "), vec![Field::Malformed(Unclosed)]);
        assert_eq!(fields(r#"<"a" "#), vec![Field::Malformed(Unclosed)]);
        assert_eq!(
            fields("<a<b><c>"),
            vec![Field::Malformed(BracketInWord), Field::Bare(b"c")]
        );
        assert_eq!(
            lex("<1> junk <2> >"),
            vec![
                (Field::Bare(b"1"), "<1>"),
                (Field::Malformed(StrayText), "junk"),
                (Field::Bare(b"2"), "<2>"),
                (Field::Malformed(StrayText), ">"),
            ]
        );
    }

    #[test]
    fn arbitrary_bytes_terminate() {
        let noise: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for start in 0..64 {
            let mut lexer = FieldLexer::new(&noise[start..]);
            let mut n = 0;
            while lexer.next_field().is_some() {
                n += 1;
                assert!(n <= noise.len());
            }
        }
    }
}
