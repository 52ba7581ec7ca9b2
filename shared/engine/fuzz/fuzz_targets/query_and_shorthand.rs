//! Any `--query` expression and any shorthand value gets an answer (compiled or refused with
//! a reason), never a panic or a stack overflow, on a stack as small as a runtime worker's.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.to_owned();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = aws_engine::query::compile(&text);
            let _ = aws_engine::shorthand::parse(&text);
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
});
