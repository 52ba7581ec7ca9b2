//! The AWS CLI's shorthand syntax (`Key=a,Values=[x,y],Tags={k=v}`), parsed as the CLI
//! parses it, without the model; [`crate::params`] then types the result with the model.
//!
//! Grammar (the CLI's, restated):
//! - parameter := keyval ("," keyval)*; a key may not repeat at the top level
//! - keyval    := key "@"? "=" values; key chars are `[A-Za-z0-9-_.#/:]` (possibly none)
//! - values    := "" at the end | "[" explicit-list | "{" hash-literal | csv-value
//! - csv-value := first-value ("," second-value)*: later values extend a list until one
//!   cannot be a plain value (a following `key=`), where the parser steps back to the comma
//! - first-value / second-value: a single- or double-quoted string (backslash escapes the
//!   quote and backslash), or a run of word characters in which `\,` stands for a comma;
//!   a first value may contain `=`, a second may not; trailing spaces are dropped
//! - explicit-list := "[" (value ("," value)*)? "]"; hash-literal := "{" (key "=" value ","?)* "}"

use indexmap::IndexMap;

/// A parsed shorthand value, before typing.
#[derive(Debug, Clone, PartialEq)]
pub enum Short {
    Str(String),
    List(Vec<Short>),
    Map(IndexMap<String, Short>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShorthandError(pub String);

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}')
}

/// Within the range the CLI's character classes cover (up to U+FFFF).
fn in_bmp(c: char) -> bool {
    (c as u32) <= 0xFFFF
}

/// Characters that may start a plain value: printable, not a quote, `,`, `=`, `[` or `{`.
fn is_start_word(c: char) -> bool {
    c >= '!' && in_bmp(c) && !matches!(c, '"' | '\'' | ',' | '=' | '[' | '{')
}

/// Characters that may continue a first value (`=`, `[` and `{` allowed; `]` and `}` not).
fn is_first_follow(c: char) -> bool {
    is_ws(c) || (c >= '!' && in_bmp(c) && !matches!(c, '"' | '\'' | ',' | ']' | '}'))
}

/// Characters that may continue a second value (no `=`).
fn is_second_follow(c: char) -> bool {
    is_ws(c) || (c >= '!' && in_bmp(c) && !matches!(c, '"' | '\'' | ',' | '='))
}

/// How deep `[...]` and `{...}` may nest in one value. The parser recurses per level, so
/// without a bound a hostile value would exhaust the stack; real values nest a few levels.
pub const MAX_SHORTHAND_DEPTH: usize = 64;

struct Parser<'a> {
    input: &'a [char],
    text: &'a str,
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, expected: &str) -> ShorthandError {
        let got = self
            .input
            .get(self.i)
            .map(|c| format!("'{c}'"))
            .unwrap_or_else(|| "the end".into());
        ShorthandError(format!(
            "invalid shorthand syntax in '{}': expected {expected} at character {} but found {got}; shorthand looks like Key=value,Other=[a,b],Map={{k=v}} (or give JSON)",
            crate::text::clip(self.text, 200),
            self.i + 1
        ))
    }

    /// Enters one level of `[` or `{`; refused past [`MAX_SHORTHAND_DEPTH`].
    fn descend(&mut self) -> Result<(), ShorthandError> {
        self.depth += 1;
        if self.depth > MAX_SHORTHAND_DEPTH {
            return Err(ShorthandError(format!(
                "shorthand value nests deeper than {MAX_SHORTHAND_DEPTH} levels of [...] or {{...}} at character {}; flatten it or give JSON",
                self.i + 1
            )));
        }
        Ok(())
    }

    fn current(&self) -> Option<char> {
        self.input.get(self.i).copied()
    }

    fn eof(&self) -> bool {
        self.i >= self.input.len()
    }

    fn skip_ws(&mut self) {
        while self.current().is_some_and(is_ws) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: char, ws: bool) -> Result<(), ShorthandError> {
        if ws {
            self.skip_ws();
        }
        if self.current() != Some(c) {
            return Err(self.error(&format!("'{c}'")));
        }
        self.i += 1;
        if ws {
            self.skip_ws();
        }
        Ok(())
    }

    fn parameter(&mut self) -> Result<IndexMap<String, Short>, ShorthandError> {
        let mut params = IndexMap::new();
        let (k, v) = self.keyval()?;
        params.insert(k, v);
        while !self.eof() {
            self.expect(',', true)?;
            let at = self.i;
            let (k, v) = self.keyval()?;
            if params.contains_key(&k) {
                return Err(ShorthandError(format!(
                    "invalid shorthand syntax in '{}': the key '{k}' appears twice (at character {})",
                    self.text,
                    at + 1
                )));
            }
            params.insert(k, v);
        }
        Ok(params)
    }

    fn key(&mut self) -> String {
        let start = self.i;
        while self.current().is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '#' | '/' | ':')
        }) {
            self.i += 1;
        }
        self.input[start..self.i].iter().collect()
    }

    fn keyval(&mut self) -> Result<(String, Short), ShorthandError> {
        let key = self.key();
        // `key@=value` asks for file contents; the marker itself is accepted here.
        let save = self.i;
        self.skip_ws();
        if self.current() == Some('@') {
            self.i += 1;
        } else {
            self.i = save;
        }
        self.expect('=', true)?;
        Ok((key, self.values()?))
    }

    fn values(&mut self) -> Result<Short, ShorthandError> {
        match self.current() {
            None => Ok(Short::Str(String::new())),
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            Some(_) => self.csv_value(),
        }
    }

    fn csv_value(&mut self) -> Result<Short, ShorthandError> {
        let first = self.first_value()?;
        self.skip_ws();
        if self.eof() || self.current() != Some(',') {
            return Ok(Short::Str(first));
        }
        self.expect(',', true)?;
        let mut list = vec![Short::Str(first.clone())];
        loop {
            // A value, then either the end or a comma; anything else means this word
            // starts the next key, so step back to the comma before it.
            let step = self.second_value().and_then(|v| {
                self.skip_ws();
                if self.eof() {
                    return Ok((v, true));
                }
                self.expect(',', true).map(|_| (v, false))
            });
            match step {
                Ok((v, done)) => {
                    list.push(Short::Str(v));
                    if done {
                        break;
                    }
                }
                Err(e) => {
                    if self.eof() {
                        return Err(e);
                    }
                    while self.i > 0 && self.current() != Some(',') {
                        self.i -= 1;
                    }
                    break;
                }
            }
        }
        if list.len() == 1 {
            return Ok(Short::Str(first));
        }
        Ok(Short::List(list))
    }

    /// A plain run of characters: a start character, then `follow` characters, `\,` anywhere.
    fn plain(&self, follow: fn(char) -> bool) -> Option<usize> {
        let mut j = self.i;
        let at = |j: usize| self.input.get(j).copied();
        if at(j) == Some('\\') && at(j + 1) == Some(',') {
            j += 2;
        } else if at(j).is_some_and(is_start_word) {
            j += 1;
        } else {
            return None;
        }
        loop {
            if at(j) == Some('\\') && at(j + 1) == Some(',') {
                j += 2;
            } else if at(j).is_some_and(follow) {
                j += 1;
            } else {
                return Some(j);
            }
        }
    }

    fn take_plain(&mut self, end: usize) -> String {
        let raw: String = self.input[self.i..end].iter().collect();
        self.i = end;
        raw.replace("\\,", ",").trim_end_matches(is_ws).to_owned()
    }

    fn first_value(&mut self) -> Result<String, ShorthandError> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => Ok(match self.plain(is_first_follow) {
                Some(end) => self.take_plain(end),
                None => String::new(),
            }),
        }
    }

    fn second_value(&mut self) -> Result<String, ShorthandError> {
        match self.current() {
            Some('\'') => self.quoted('\''),
            Some('"') => self.quoted('"'),
            _ => match self.plain(is_second_follow) {
                Some(end) => Ok(self.take_plain(end)),
                None => Err(self.error("a value")),
            },
        }
    }

    /// A quoted value: the closing quote is the first one not escaped; if there is none,
    /// the last escaped one closes it (as a backtracking regex would decide).
    fn quoted(&mut self, q: char) -> Result<String, ShorthandError> {
        let start = self.i + 1;
        let mut j = start;
        let mut last_escaped_quote = None;
        let end = loop {
            match self.input.get(j) {
                None => match last_escaped_quote {
                    Some(k) => break k,
                    None => return Err(self.error(&format!("a closing {q}"))),
                },
                Some('\\') if self.input.get(j + 1) == Some(&q) => {
                    last_escaped_quote = Some(j + 1);
                    j += 2;
                }
                Some(c) if *c == q => break j,
                Some(_) => j += 1,
            }
        };
        let inner: String = self.input[start..end].iter().collect();
        self.i = end + 1;
        Ok(inner
            .replace(&format!("\\{q}"), &q.to_string())
            .replace("\\\\", "\\"))
    }

    fn explicit_list(&mut self) -> Result<Short, ShorthandError> {
        self.descend()?;
        self.expect('[', true)?;
        let mut values = Vec::new();
        while self.current() != Some(']') {
            if self.eof() {
                return Err(self.error("']'"));
            }
            values.push(self.explicit_value()?);
            self.skip_ws();
            if self.current() != Some(']') {
                self.expect(',', false)?;
                self.skip_ws();
            }
        }
        self.expect(']', false)?;
        self.depth -= 1;
        Ok(Short::List(values))
    }

    fn explicit_value(&mut self) -> Result<Short, ShorthandError> {
        match self.current() {
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            _ => Ok(Short::Str(self.first_value()?)),
        }
    }

    fn hash_literal(&mut self) -> Result<Short, ShorthandError> {
        self.descend()?;
        self.expect('{', true)?;
        let mut map = IndexMap::new();
        while self.current() != Some('}') {
            if self.eof() {
                return Err(self.error("'}'"));
            }
            let key = self.key();
            let save = self.i;
            self.skip_ws();
            if self.current() == Some('@') {
                self.i += 1;
            } else {
                self.i = save;
            }
            self.expect('=', true)?;
            let v = self.explicit_value()?;
            self.skip_ws();
            if self.current() != Some('}') {
                self.expect(',', false)?;
                self.skip_ws();
            }
            map.insert(key, v);
        }
        self.expect('}', false)?;
        self.depth -= 1;
        Ok(Short::Map(map))
    }
}

/// Parses one shorthand argument value into its top-level keys.
pub fn parse(value: &str) -> Result<IndexMap<String, Short>, ShorthandError> {
    let chars: Vec<char> = value.chars().collect();
    let mut p = Parser {
        input: &chars,
        text: value,
        i: 0,
        depth: 0,
    };
    p.parameter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Short {
        Short::Str(v.into())
    }

    #[test]
    fn key_values_lists_and_hashes() {
        let p = parse("a=b,c=d").expect("ok");
        assert_eq!(p["a"], s("b"));
        assert_eq!(p["c"], s("d"));
        let p = parse("a=b,c").expect("ok");
        assert_eq!(p["a"], Short::List(vec![s("b"), s("c")]));
        let p = parse("Name=x,Values=a,b,c,Other=z").expect("ok");
        assert_eq!(p["Values"], Short::List(vec![s("a"), s("b"), s("c")]));
        assert_eq!(p["Other"], s("z"));
        let p = parse("k={a=1,b=[x,y]},l=[1,2]").expect("ok");
        let Short::Map(m) = &p["k"] else {
            panic!("map")
        };
        assert_eq!(m["b"], Short::List(vec![s("x"), s("y")]));
        assert_eq!(p["l"], Short::List(vec![s("1"), s("2")]));
    }

    #[test]
    fn quoting_escapes_and_spaces() {
        assert_eq!(parse("a='x,y',b=\"q\\\"r\"").expect("ok")["a"], s("x,y"));
        assert_eq!(parse("a='x,y',b=\"q\\\"r\"").expect("ok")["b"], s("q\"r"));
        assert_eq!(parse("a=x\\,y").expect("ok")["a"], s("x,y"));
        assert_eq!(parse("a = b , c = d ").expect("ok")["c"], s("d"));
        assert_eq!(parse("a=b=c").expect("ok")["a"], s("b=c"));
        assert_eq!(parse("a=").expect("ok")["a"], s(""));
    }

    #[test]
    fn errors_say_where() {
        assert!(parse("a").is_err());
        assert!(
            parse("a=b,a=c")
                .expect_err("dup")
                .0
                .contains("appears twice")
        );
        assert!(parse("a={b=1").is_err());
        assert!(parse("a=[1,2").is_err());
        assert!(parse("a='open").is_err());
    }
}
