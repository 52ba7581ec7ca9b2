//! JMESPath expressions (`--query`, paginator and waiter expressions), compiled behind a
//! bound on how deeply they nest.
//!
//! The JMESPath parser and interpreter recurse once per nested bracket and once per chained
//! operator, so a few kilobytes of `((((...` or `a.a.a...` would exhaust a thread's stack and
//! abort the whole process. Expressions are therefore measured before they are compiled:
//! literals (`'raw'`, `"quoted"`, `` `json` ``) are skipped, and every bracket level and every
//! operator (`.`, `|`, `||`, `&&`, `!`, comparisons) counts. Real queries stay far below the
//! limit.

use jmespath::Expression;

/// Most bracket levels plus chained operators one expression may hold: with 128 every form
/// still ran on a 2 MiB stack in an unoptimised build, so 100 leaves room for the caller.
pub const MAX_QUERY_DEPTH: usize = 100;

/// Why an expression was not compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "the expression nests too deeply ({depth} brackets and operators; at most {MAX_QUERY_DEPTH}); split it or query the output in steps"
    )]
    TooDeep { depth: usize },
    #[error("invalid JMESPath expression: {0}")]
    Invalid(String),
}

/// Compiles `expr` after checking its depth.
pub fn compile(expr: &str) -> Result<Expression<'static>, QueryError> {
    let depth = depth(expr);
    if depth > MAX_QUERY_DEPTH {
        return Err(QueryError::TooDeep { depth });
    }
    jmespath::compile(expr).map_err(|e| QueryError::Invalid(e.to_string()))
}

/// An upper bound on the recursion the expression causes: open brackets plus operators,
/// outside literals.
fn depth(expr: &str) -> usize {
    let mut count = 0usize;
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => skip_literal(&mut chars, c),
            '(' | '[' | '{' | '.' | '|' | '&' | '!' | '<' | '>' | '=' | '@' | '*' => count += 1,
            _ => {}
        }
    }
    count
}

/// Moves past a literal that opened with `quote`, honouring backslash escapes.
fn skip_literal(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            c if c == quote => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs `f` on a thread with a small stack, like a runtime worker thread.
    fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(f)
            .expect("thread")
            .join()
            .expect("no stack overflow");
    }

    #[test]
    fn hostile_nesting_is_refused_not_a_crash() {
        for hostile in [
            format!("{}a{}", "(".repeat(3000), ")".repeat(3000)),
            format!("{}a", "!".repeat(5000)),
            format!("{}a", "a.".repeat(5000)),
            format!("{}a", "a|".repeat(5000)),
            format!("{}a", "a||".repeat(5000)),
            format!("{}a{}", "[".repeat(5000), "]".repeat(5000)),
            format!("a[?{}b]", "!".repeat(5000)),
        ] {
            let err = compile(&hostile).map(|_| ()).expect_err("refused");
            assert!(matches!(err, QueryError::TooDeep { .. }), "{err}");
            assert!(err.to_string().contains("at most 100"));
        }
    }

    #[test]
    fn the_deepest_accepted_expressions_compile_and_run_on_a_small_stack() {
        let half = MAX_QUERY_DEPTH / 2;
        let cases = [
            format!(
                "{}a{}",
                "(".repeat(MAX_QUERY_DEPTH),
                ")".repeat(MAX_QUERY_DEPTH)
            ),
            format!("{}a", "!".repeat(MAX_QUERY_DEPTH)),
            format!("{}a", "a.".repeat(MAX_QUERY_DEPTH)),
            format!("{}a", "a|".repeat(MAX_QUERY_DEPTH)),
            format!("{}a", "a||".repeat(half)),
            format!("a[?{}b]", "!".repeat(MAX_QUERY_DEPTH - 2)),
        ];
        on_small_stack(move || {
            for expr in cases {
                let compiled = compile(&expr).expect("within the limit");
                let _ = compiled.search(json!({"a": {"a": 1}, "b": [1]}));
            }
        });
    }

    #[test]
    fn literals_do_not_count_and_real_queries_pass() {
        let deep_literal = format!("a == '{}'", "(".repeat(1000));
        assert!(compile(&deep_literal).is_ok());
        let real = "Reservations[].Instances[?State.Name=='running'].{Id:InstanceId,Type:InstanceType,Tags:Tags[?Key=='Name'].Value|[0]}";
        assert!(compile(real).is_ok());
        assert!(matches!(
            compile("a[").map(|_| ()),
            Err(QueryError::Invalid(_))
        ));
    }
}
