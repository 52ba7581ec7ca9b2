//! Property tests for the command-line parser: any input, however hostile, gets an answer
//! (a parse or an error naming the problem) and never a panic; shell syntax outside quotes
//! is always refused.

use aws_engine::command::shell_words;
use aws_engine::{build_call, parse_command, shorthand};
use proptest::prelude::*;

/// Words drawn from real commands, shell metacharacters and shorthand punctuation, so the
/// generator reaches deep into the parser rather than failing at the first word.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("aws".to_owned()),
        Just("ec2".to_owned()),
        Just("describe-vpcs".to_owned()),
        Just("dynamodb".to_owned()),
        Just("put-item".to_owned()),
        Just("--table-name".to_owned()),
        Just("--item".to_owned()),
        Just("--vpc-ids".to_owned()),
        Just("--filters".to_owned()),
        Just("--region".to_owned()),
        Just("--query".to_owned()),
        Just("--cli-input-json".to_owned()),
        Just("Name=a,Values=[b,c]".to_owned()),
        Just("'{\"id\":{\"S\":\"1\"}}'".to_owned()),
        Just(";".to_owned()),
        Just("&&".to_owned()),
        Just("|".to_owned()),
        Just("$(x)".to_owned()),
        Just("`x`".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        "[a-zA-Z0-9=,{}\\[\\]'\"\\\\ .:/_-]{0,12}",
        any::<String>(),
    ]
}

/// JMESPath operators and operands, nesting and not.
fn query_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("[?".to_owned()),
        Just("{a:".to_owned()),
        Just("}".to_owned()),
        Just("!".to_owned()),
        Just("a.".to_owned()),
        Just("a".to_owned()),
        Just("|".to_owned()),
        Just("||".to_owned()),
        Just("&&".to_owned()),
        Just("==".to_owned()),
        Just("@".to_owned()),
        Just("`1`".to_owned()),
        Just("'s'".to_owned()),
        Just("f(".to_owned()),
        Just(",".to_owned()),
        Just("*".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_command_line_gets_an_answer(parts in proptest::collection::vec(fragment(), 0..10)) {
        let line = parts.join(" ");
        if let Ok(parsed) = parse_command(&line) {
            let _ = build_call(&parsed);
        }
    }

    #[test]
    fn any_shorthand_gets_an_answer(text in "[a-zA-Z0-9=,{}\\[\\]'\"\\\\ @.:_-]{0,40}") {
        let _ = shorthand::parse(&text);
    }

    #[test]
    fn chaining_outside_quotes_is_always_refused(
        before in "[a-z0-9 -]{0,20}",
        op in prop_oneof![Just(";"), Just("&&"), Just("||"), Just("|"), Just(">"), Just("<"), Just("$("), Just("`"), Just("\n")],
        after in "[a-z0-9 -]{0,20}",
    ) {
        let line = format!("aws s3api list-buckets {before}{op}{after}");
        prop_assert!(shell_words(&line).is_err(), "{line:?} was accepted");
    }
}

/// Runs `f` on a thread whose stack is as small as a runtime worker's, so a parser that
/// recursed without bound would abort the test binary instead of passing.
fn on_worker_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no stack overflow");
}

/// Parses, builds, validates and serialises `line` the way a call would, returning the first
/// error's text.
fn whole_path(line: &str) -> Result<(), String> {
    let parsed = parse_command(line).map_err(|e| e.to_string())?;
    let call = build_call(&parsed).map_err(|e| e.to_string())?;
    let model = aws_models::models()
        .service(&call.service)
        .map_err(|e| e.to_string())?;
    aws_engine::validate::validate(&model, &call.operation, &call.params)
        .map_err(|e| e.to_string())?;
    let operation = model.operation(&call.operation).ok_or("no operation")?;
    aws_engine::serialize::serialize(&model, operation, &call.params)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn hostile_nesting_gets_an_error_on_a_worker_stack() {
    on_worker_stack(|| {
        let deep =
            |open: &str, close: &str, n: usize| format!("{}x{}", open.repeat(n), close.repeat(n));
        let cases = [
            (
                format!("aws s3api list-buckets --query '{}'", deep("(", ")", 3000)),
                "nests too deeply",
            ),
            (
                format!("aws s3api list-buckets --query '{}a'", "a.".repeat(5000)),
                "nests too deeply",
            ),
            (
                format!("aws s3api list-buckets --query '{}a'", "!".repeat(5000)),
                "nests too deeply",
            ),
            (
                format!(
                    "aws dynamodb put-item --table-name t --item a={}",
                    deep("{a=", "}", 5000)
                ),
                "deeper than 64 levels",
            ),
            (
                format!(
                    "aws ec2 describe-vpcs --filters Name=a,Values={}",
                    deep("[", "]", 5000)
                ),
                "deeper than 64 levels",
            ),
            (
                format!(
                    "aws dynamodb put-item --table-name t --item '{}'",
                    deep("{\"a\":", "}", 5000)
                ),
                "recursion limit",
            ),
        ];
        for (line, expected) in cases {
            let err = whole_path(&line).expect_err("refused");
            assert!(err.contains(expected), "{expected:?} not in {err}");
            assert!(
                err.len() < 2000,
                "the error echoes the whole input: {}",
                &err[..300]
            );
        }
    });
}

#[test]
fn the_deepest_accepted_values_run_the_whole_path_on_a_worker_stack() {
    on_worker_stack(|| {
        // DynamoDB's AttributeValue is a recursive shape: the deepest JSON serde accepts runs
        // through building, validation and serialisation.
        let mut item = String::from("{\"S\":\"x\"}");
        for _ in 0..60 {
            item = format!("{{\"M\":{{\"a\":{item}}}}}");
        }
        let line = format!("aws dynamodb put-item --table-name t --item '{{\"k\":{item}}}'");
        whole_path(&line).expect("accepted");
        let shorthand = format!(
            "aws ec2 describe-vpcs --filters Name=a,Values={}x{}",
            "[".repeat(60),
            "]".repeat(60)
        );
        let _ = whole_path(&shorthand);
    });
}

proptest! {
    // Fewer cases: each runs on a thread of its own.
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_query_gets_an_answer_on_a_worker_stack(
        parts in proptest::collection::vec(query_fragment(), 0..120),
        repeat in 1usize..12,
    ) {
        // Long runs of one operator build the deep trees a naive parser would recurse on.
        let expr = parts.iter().map(|p| p.repeat(repeat)).collect::<String>();
        on_worker_stack(move || {
            let _ = aws_engine::query::compile(&expr);
        });
    }
}
