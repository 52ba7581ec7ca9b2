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
