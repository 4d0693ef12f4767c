//! Just enough of a Rust lexer for the tidy rules: it separates code from comments and string
//! literals, so braces in strings do not count and SQL is looked for only in literals.

/// One source file split into code and literals.
pub struct Lexed {
    /// The source with every comment replaced by spaces and every string or char literal by
    /// `_`, newlines kept, so line numbers and brace nesting of the code stay as they were and a
    /// line is code exactly when it is not blank here.
    pub code: String,
    /// Each string literal's text (escapes left as written) with the line it starts on.
    pub literals: Vec<(usize, String)>,
}

/// Splits `source` into code and string literals.
pub fn lex(source: &str) -> Lexed {
    let chars: Vec<char> = source.chars().collect();
    let mut lexer = Lexer { chars: &chars, pos: 0, line: 1, code: String::new(), literals: vec![] };
    lexer.run();
    Lexed { code: lexer.code, literals: lexer.literals }
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
    line: usize,
    code: String,
    literals: Vec<(usize, String)>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Consumes one character as blank (a newline stays a newline).
    fn blank(&mut self) -> char {
        let c = self.chars[self.pos];
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.code.push('\n');
        } else {
            self.code.push(' ');
        }
        c
    }

    /// Consumes one character of a literal, hidden as `_` (a newline stays a newline).
    fn hide(&mut self) -> char {
        let c = self.blank();
        if c != '\n' {
            self.code.pop();
            self.code.push('_');
        }
        c
    }

    /// Consumes one character as code.
    fn keep(&mut self) {
        let c = self.chars[self.pos];
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        self.code.push(c);
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                '/' if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.blank();
                    }
                }
                '/' if self.peek(1) == Some('*') => self.block_comment(),
                '"' => self.string(0),
                '\'' => self.char_or_lifetime(),
                c if c.is_alphabetic() || c == '_' => self.identifier(),
                _ => self.keep(),
            }
        }
    }

    fn block_comment(&mut self) {
        let mut depth = 0;
        while self.peek(0).is_some() {
            if self.peek(0) == Some('/') && self.peek(1) == Some('*') {
                depth += 1;
                self.blank();
                self.blank();
            } else if self.peek(0) == Some('*') && self.peek(1) == Some('/') {
                depth -= 1;
                self.blank();
                self.blank();
                if depth == 0 {
                    return;
                }
            } else {
                self.blank();
            }
        }
    }

    /// An identifier, or the prefix of a byte, C or raw string (`b"`, `r#"`, `br"`, ...).
    fn identifier(&mut self) {
        let start = self.pos;
        let mut end = start;
        while self.chars.get(end).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
            end += 1;
        }
        let word: String = self.chars[start..end].iter().collect();
        let next = self.chars.get(end).copied();
        let raw = matches!(word.as_str(), "r" | "br" | "cr");
        let hashes = self.chars[end..].iter().take_while(|c| **c == '#').count();
        if raw && self.chars.get(end + hashes) == Some(&'"') {
            while self.pos < end {
                self.keep();
            }
            self.string(hashes);
        } else if matches!(word.as_str(), "b" | "c") && next == Some('"') {
            self.keep();
            self.string(0);
        } else {
            while self.pos < end {
                self.keep();
            }
        }
    }

    /// A string literal at `"` (after `hashes` for a raw string): its text becomes a literal.
    fn string(&mut self, hashes: usize) {
        let line = self.line;
        for _ in 0..hashes {
            self.hide();
        }
        self.hide();
        let mut text = String::new();
        while self.peek(0).is_some() {
            if hashes == 0 && self.peek(0) == Some('\\') && self.peek(1).is_some() {
                text.push(self.hide());
                text.push(self.hide());
                continue;
            }
            if self.peek(0) == Some('"') && (1..=hashes).all(|i| self.peek(i) == Some('#')) {
                for _ in 0..=hashes {
                    self.hide();
                }
                break;
            }
            text.push(self.hide());
        }
        self.literals.push((line, text));
    }

    /// A char literal (`'x'`, `'\n'`, `'\u{1F600}'`) is blanked; a lifetime stays code.
    fn char_or_lifetime(&mut self) {
        let escaped = self.peek(1) == Some('\\');
        let len = if escaped {
            self.chars
                .get(self.pos + 3..)
                .and_then(|rest| rest.iter().position(|c| *c == '\''))
                .map(|p| p + 4)
        } else if self.peek(2) == Some('\'') {
            Some(3)
        } else {
            None
        };
        match len {
            Some(len) => (0..len).for_each(|_| {
                self.hide();
            }),
            None => self.keep(),
        }
    }
}
