//! End-to-end tests of the sandbox: the `script-worker` binary run as a child process, answered
//! by a fake AWS host.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use script_sandbox::{AwsHost, HostCallError, Limits, Sandbox, ScriptError, WorkerCommand};
use serde_json::{Value, json};

/// One recorded call: service, operation, params, region.
type Call = (String, String, Value, Option<String>);

/// A fake AWS: a few canned operations, and a record of every call.
#[derive(Default)]
struct FakeAws {
    calls: Mutex<Vec<Call>>,
}

#[async_trait::async_trait]
impl AwsHost for FakeAws {
    async fn call_aws(
        &self,
        service: String,
        operation: String,
        params: Value,
        region: Option<String>,
    ) -> Result<Value, HostCallError> {
        self.calls.lock().unwrap().push((
            service.clone(),
            operation.clone(),
            params.clone(),
            region.clone(),
        ));
        match (service.as_str(), operation.as_str()) {
            ("s3", "ListBuckets") => {
                Ok(json!({"Buckets": [{"Name": "alpha"}, {"Name": "beta"}], "Owner": {"ID": "x"}}))
            }
            ("s3", "GetBucketLocation") => {
                let bucket = params["Bucket"].as_str().unwrap_or_default();
                if bucket == "beta" {
                    Err(HostCallError::new("AccessDenied", "Access Denied"))
                } else {
                    Ok(
                        json!({"LocationConstraint": region.unwrap_or_else(|| "us-east-1".to_owned())}),
                    )
                }
            }
            ("test", "Sleep") => {
                let ms = params["Millis"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(json!({"Slept": ms}))
            }
            ("test", "Echo") => Ok(params),
            _ => Err(HostCallError::new(
                "UnknownOperationException",
                format!("{service} {operation}"),
            )),
        }
    }
}

fn sandbox(limits: Limits) -> Sandbox {
    Sandbox::new(
        WorkerCommand::new(env!("CARGO_BIN_EXE_script-worker")),
        limits,
    )
}

fn fast_limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(10),
        ..Limits::default()
    }
}

async fn run(code: &str) -> (Result<script_sandbox::ScriptOutcome, ScriptError>, FakeAws) {
    let host = FakeAws::default();
    let out = sandbox(fast_limits()).run(code, &host).await;
    (out, host)
}

/// After any failure the sandbox must still run an ordinary script.
async fn assert_still_works() {
    let (out, _) = run("x = 20\nx + 22").await;
    assert_eq!(out.expect("a normal script still runs").result, json!(42));
}

#[tokio::test]
async fn several_calls_and_a_dict_result() {
    let code = r#"
buckets = call_aws("s3", "ListBuckets")["Buckets"]
names = [b["Name"] for b in buckets]
where = call_aws("s3", "GetBucketLocation", {"Bucket": names[0]}, region="eu-west-1")
echoed = call_aws(service="test", operation="Echo", params={"N": [1, 2.5, None, True], "S": "é"})
{"names": names, "where": where["LocationConstraint"], "echo": echoed}
"#;
    let (out, host) = run(code).await;
    let out = out.unwrap();
    assert_eq!(out.aws_calls, 3);
    assert_eq!(
        out.result,
        json!({"names": ["alpha", "beta"], "where": "eu-west-1", "echo": {"N": [1, 2.5, null, true], "S": "é"}})
    );
    assert_eq!(out.stdout, "");
    let calls = host.calls.lock().unwrap();
    assert_eq!(
        calls[0],
        ("s3".to_owned(), "ListBuckets".to_owned(), json!({}), None)
    );
    assert_eq!(calls[1].2, json!({"Bucket": "alpha"}));
    assert_eq!(calls[1].3.as_deref(), Some("eu-west-1"));
    assert_eq!(out.to_json()["aws_calls"], json!(3));
}

#[tokio::test]
async fn print_capture_last_expression_and_return() {
    let (out, _) = run(
        "for i in range(3):\n    print('line', i)\nprint('a', 'b', sep='-', end='!')\n[1, (2, 3)]",
    )
    .await;
    let out = out.unwrap();
    assert_eq!(out.stdout, "line 0\nline 1\nline 2\na-b!");
    assert_eq!(out.result, json!([1, [2, 3]]));

    let (out, _) = run("def f():\n    return 7\nreturn {'v': f()}").await;
    assert_eq!(out.unwrap().result, json!({"v": 7}));

    // Ending on a statement gives null.
    let (out, _) = run("x = 1").await;
    assert_eq!(out.unwrap().result, Value::Null);
}

#[tokio::test]
async fn python_errors_carry_the_line() {
    let (out, _) = run("x = 1\nprint('before')\ny = undefined_name + x\n").await;
    match out {
        Err(ScriptError::Python {
            exc_type,
            message,
            line,
            stdout,
            traceback,
            ..
        }) => {
            assert_eq!(exc_type, "NameError");
            assert!(message.contains("undefined_name"), "{message}");
            assert_eq!(line, Some(3));
            assert_eq!(stdout, "before\n");
            assert!(traceback.contains("line 3"), "{traceback}");
        }
        other => panic!("expected a NameError, got {other:?}"),
    }
    let (out, _) = run("def f(:\n  pass").await;
    match out {
        Err(ScriptError::Python { exc_type, line, .. }) => {
            assert_eq!(exc_type, "SyntaxError");
            assert_eq!(line, Some(1));
        }
        other => panic!("expected a SyntaxError, got {other:?}"),
    }
    let (out, _) = run("def inner():\n    return {}['k']\n\ninner()").await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, ScriptError::Python { exc_type, line: Some(2), .. } if exc_type == "KeyError"),
        "{err:?}"
    );
    assert_eq!(err.kind(), "python_error");
    assert!(err.to_string().contains("(line 2)"), "{err}");
}

#[tokio::test]
async fn aws_errors_can_be_caught_or_propagate() {
    let code = r#"
result = {}
for name in ["alpha", "beta"]:
    try:
        result[name] = call_aws("s3", "GetBucketLocation", {"Bucket": name})["LocationConstraint"]
    except RuntimeError as e:
        result[name] = "error " + str(e).split(":", 1)[0]
result
"#;
    let (out, _) = run(code).await;
    let out = out.unwrap();
    assert_eq!(
        out.result,
        json!({"alpha": "us-east-1", "beta": "error AccessDenied"})
    );
    assert_eq!(out.aws_calls, 2);

    let (out, _) =
        run("print('start')\ncall_aws('s3', 'GetBucketLocation', {'Bucket': 'beta'})\n").await;
    match out {
        Err(ScriptError::Python {
            exc_type,
            message,
            line,
            stdout,
            aws_calls,
            ..
        }) => {
            assert_eq!(exc_type, "RuntimeError");
            assert_eq!(message, "AccessDenied: Access Denied");
            assert_eq!(line, Some(2));
            assert_eq!(stdout, "start\n");
            assert_eq!(aws_calls, 1);
        }
        other => panic!("expected an uncaught AWS error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_call_arguments_raise_type_error_in_the_script() {
    let code = r#"
errors = []
for args in [(1, "X"), ("s3",), ("s3", "ListBuckets", [1])]:
    try:
        call_aws(*args)
    except TypeError as e:
        errors.append(str(e))
try:
    call_aws("s3", "ListBuckets", {1: 2})
except TypeError as e:
    errors.append(str(e))
errors
"#;
    let (out, host) = run(code).await;
    let out = out.unwrap();
    let errors = out.result.as_array().unwrap();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[1].as_str().unwrap().contains("operation"));
    assert!(errors[3].as_str().unwrap().contains("keys"));
    assert_eq!(out.aws_calls, 0);
    assert!(host.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn gathered_async_calls_run_in_parallel() {
    let code = r#"
import asyncio
results = await asyncio.gather(
    call_aws_async("test", "Sleep", {"Millis": 600}),
    call_aws_async("test", "Sleep", {"Millis": 600}),
    call_aws_async("test", "Sleep", {"Millis": 600}),
    call_aws_async("s3", "GetBucketLocation", {"Bucket": "alpha"}),
)
[r.get("Slept", r.get("LocationConstraint")) for r in results]
"#;
    let started = Instant::now();
    let (out, _) = run(code).await;
    let elapsed = started.elapsed();
    let out = out.unwrap();
    assert_eq!(out.result, json!([600, 600, 600, "us-east-1"]));
    assert_eq!(out.aws_calls, 4);
    assert!(
        elapsed < Duration::from_millis(1500),
        "calls were not parallel: {elapsed:?}"
    );

    // An error in one gathered call is catchable.
    let code = r#"
import asyncio
try:
    await asyncio.gather(call_aws_async("s3", "ListBuckets"), call_aws_async("s3", "GetBucketLocation", {"Bucket": "beta"}))
    r = "no error"
except RuntimeError as e:
    r = str(e)
r
"#;
    let (out, _) = run(code).await;
    assert_eq!(out.unwrap().result, json!("AccessDenied: Access Denied"));
}

#[tokio::test]
async fn too_many_aws_calls_stop_the_script() {
    let limits = Limits {
        max_aws_calls: 5,
        ..fast_limits()
    };
    let host = FakeAws::default();
    let out = sandbox(limits)
        .run(
            "for i in range(50):\n    call_aws('s3', 'ListBuckets')\n",
            &host,
        )
        .await;
    match out {
        Err(ScriptError::TooManyCalls {
            limit, aws_calls, ..
        }) => {
            assert_eq!(limit, 5);
            assert_eq!(aws_calls, 5);
        }
        other => panic!("expected TooManyCalls, got {other:?}"),
    }
    assert_eq!(host.calls.lock().unwrap().len(), 5);
    assert_still_works().await;
}

#[tokio::test]
async fn the_deadline_counts_time_spent_in_aws_calls() {
    let limits = Limits {
        timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let host = FakeAws::default();
    let started = Instant::now();
    let out = sandbox(limits)
        .run(
            "print('waiting')\ncall_aws('test', 'Sleep', {'Millis': 60000})",
            &host,
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match out {
        Err(ScriptError::Timeout {
            seconds,
            stdout,
            aws_calls,
        }) => {
            assert_eq!(seconds, 1);
            assert_eq!(stdout, "waiting\n");
            assert_eq!(aws_calls, 1);
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_worker_is_a_worker_error() {
    let sandbox = Sandbox::new(
        WorkerCommand::new("/nonexistent/script-worker"),
        Limits::default(),
    );
    let err = sandbox.run("1", &FakeAws::default()).await.unwrap_err();
    assert!(matches!(err, ScriptError::Worker(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Escape attempts: each is refused or stopped with a clear error, and the sandbox stays usable.
// ---------------------------------------------------------------------------------------------

/// Runs `code` and expects a Python exception of `exc_type`.
async fn expect_python_error(code: &str, exc_type: &str) -> String {
    let (out, _) = run(code).await;
    let message = match out {
        Err(ScriptError::Python {
            exc_type: got,
            message,
            ..
        }) => {
            assert_eq!(got, exc_type, "{code}: {message}");
            message
        }
        other => panic!("{code}: expected {exc_type}, got {other:?}"),
    };
    assert_still_works().await;
    message
}

#[tokio::test]
async fn imports_of_system_modules_are_refused() {
    for module in [
        "socket",
        "subprocess",
        "ctypes",
        "importlib",
        "builtins",
        "shutil",
    ] {
        let message = expect_python_error(&format!("import {module}"), "ModuleNotFoundError").await;
        assert!(message.contains(module), "{message}");
    }
    expect_python_error("from os import system\nsystem('id')", "ImportError").await;
    // `os` exists only as a facade over an empty environment.
    let (out, _) =
        run("import os\n[os.getenv('PATH'), os.getenv('HOME', 'none'), dict(os.environ)]").await;
    assert_eq!(out.unwrap().result, json!([null, "none", {}]));
}

#[tokio::test]
async fn files_are_unreachable() {
    let message = expect_python_error("open('/etc/passwd').read()", "PermissionError").await;
    assert!(message.contains("no file system"), "{message}");
    expect_python_error(
        "from pathlib import Path\nPath('/etc/passwd').read_text()",
        "PermissionError",
    )
    .await;
    expect_python_error(
        "from pathlib import Path\nPath('x.txt').write_text('data')",
        "PermissionError",
    )
    .await;
    expect_python_error(
        "from pathlib import Path\nlist(Path('/').iterdir())",
        "PermissionError",
    )
    .await;
}

#[tokio::test]
async fn dynamic_code_and_introspection_are_unavailable() {
    for code in [
        "__import__('os').system('id')",
        "eval('1 + 1')",
        "exec('import os')",
        "compile('1', 'x', 'eval')",
        "globals()",
        "breakpoint()",
    ] {
        expect_python_error(code, "NameError").await;
    }
    for code in [
        "().__class__.__base__.__subclasses__()",
        "getattr((), '__class__')",
        "(lambda: 0).__globals__",
        "(lambda: 0).__code__",
        "print.__self__",
    ] {
        expect_python_error(code, "AttributeError").await;
    }
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_by_the_deadline() {
    let limits = Limits {
        timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let started = Instant::now();
    let out = sandbox(limits)
        .run("n = 0\nwhile True:\n    n += 1\n", &FakeAws::default())
        .await;
    assert!(
        matches!(out, Err(ScriptError::Timeout { seconds: 1, .. })),
        "{out:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_still_works().await;
}

#[tokio::test]
async fn memory_bombs_are_stopped() {
    let limits = Limits {
        max_memory_bytes: 64 * 1024 * 1024,
        ..fast_limits()
    };
    for code in [
        "'a' * 10**10",
        "x = [0] * 10**10",
        "l = []\nwhile True:\n    l.append('x' * 10000)\n",
        "s = 'ab'\nwhile True:\n    s = s + s\n",
        "d = {}\ni = 0\nwhile True:\n    d[i] = [i] * 100\n    i += 1\n",
        "2 ** (10 ** 12)",
    ] {
        let out = sandbox(limits.clone()).run(code, &FakeAws::default()).await;
        assert!(
            matches!(out, Err(ScriptError::MemoryLimit { limit_bytes, .. }) if limit_bytes == 64 * 1024 * 1024),
            "{code}: {out:?}"
        );
    }
    assert_still_works().await;
    // MemoryError from the limit cannot be swallowed by the script.
    let out = sandbox(limits)
        .run(
            "try:\n    x = 'a' * 10**10\nexcept MemoryError:\n    x = 'caught'\nx",
            &FakeAws::default(),
        )
        .await;
    assert!(
        matches!(out, Err(ScriptError::MemoryLimit { .. })),
        "{out:?}"
    );
}

#[tokio::test]
async fn deep_nesting_and_recursion_are_refused() {
    let deep_parens = format!("x = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let deep_lists = format!("x = {}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_unary = format!("x = {}1", "not ".repeat(100_000));
    let deep_power = format!("x = 1{}", "**1".repeat(100_000));
    for code in [&deep_parens, &deep_lists, &deep_unary, &deep_power] {
        let message = expect_python_error(code, "SyntaxError").await;
        assert!(message.contains("too deeply nested"), "{message}");
    }
    let mut deep_blocks = String::new();
    for depth in 0..2_000 {
        deep_blocks.push_str(&" ".repeat(depth));
        deep_blocks.push_str("if True:\n");
    }
    deep_blocks.push_str(&" ".repeat(2_000));
    deep_blocks.push_str("pass\n");
    let (out, _) = run(&deep_blocks).await;
    assert!(
        matches!(
            out,
            Err(ScriptError::Python { .. } | ScriptError::TooDeep { .. })
        ),
        "{out:?}"
    );
    assert_still_works().await;

    expect_python_error("def f(n):\n    return f(n + 1)\nf(0)", "RecursionError").await;
    // Deep data built at run time: operations that recurse over it are bounded too.
    let build = "a = []\nfor i in range(200000):\n    a = [a]\n";
    expect_python_error(
        &format!("{build}import json\njson.dumps(a)"),
        "RecursionError",
    )
    .await;
    expect_python_error(&format!("{build}a == [a]"), "RecursionError").await;
    // Returning it gives a clipped value, not a crash.
    let (out, _) = run(&format!("{build}a")).await;
    assert!(
        out.unwrap()
            .result
            .to_string()
            .contains("nested too deeply")
    );
}

#[tokio::test]
async fn output_floods_are_cut_with_a_marker() {
    let limits = Limits {
        max_output_bytes: 10_000,
        ..fast_limits()
    };
    let out = sandbox(limits.clone())
        .run(
            "for i in range(200000):\n    print('line', i)\n'finished'",
            &FakeAws::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.result, json!("finished"));
    assert!(out.stdout.starts_with("line 0\nline 1\n"));
    let (kept, marker) = out
        .stdout
        .split_at(out.stdout.find("[output truncated").expect("a marker"));
    assert!(kept.len() <= 10_001, "{}", kept.len());
    assert!(marker.contains("more bytes were printed"), "{marker}");

    // A flood that never ends is stopped by the deadline and still returns its head.
    let limits = Limits {
        timeout: Duration::from_secs(1),
        ..limits
    };
    let out = sandbox(limits)
        .run("while True:\n    print('x' * 1000)\n", &FakeAws::default())
        .await;
    match out {
        Err(ScriptError::Timeout { stdout, .. }) => assert!(
            stdout.len() >= 9_000 && stdout.len() <= 10_200,
            "{}",
            stdout.len()
        ),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_still_works().await;
}

#[tokio::test]
async fn huge_results_are_refused() {
    let limits = Limits {
        max_result_bytes: 100_000,
        ..fast_limits()
    };
    let out = sandbox(limits)
        .run("'x' * 1_000_000", &FakeAws::default())
        .await;
    assert!(
        matches!(
            out,
            Err(ScriptError::ResultTooLarge {
                limit_bytes: 100_000,
                ..
            })
        ),
        "{:?}",
        out.map(|o| o.result.to_string().len())
    );
    assert_still_works().await;
}

#[tokio::test]
async fn without_the_counting_allocator_the_address_space_limit_still_stops_memory_bombs() {
    let limits = Limits {
        max_memory_bytes: 64 * 1024 * 1024,
        ..fast_limits()
    };
    let plain = Sandbox::new(
        WorkerCommand::new(env!("CARGO_BIN_EXE_script-worker-plain")),
        limits,
    );
    for code in [
        "l = []\nwhile True:\n    l.append('x' * 100000)\n",
        "s = 'ab'\nwhile True:\n    s = s + s\n",
        "'a' * 10**10",
    ] {
        let out = plain.run(code, &FakeAws::default()).await;
        assert!(
            matches!(out, Err(ScriptError::MemoryLimit { .. })),
            "{code}: {out:?}"
        );
    }
    let out = plain
        .run("print('ok')\n6 * 7", &FakeAws::default())
        .await
        .unwrap();
    assert_eq!((out.result, out.stdout.as_str()), (json!(42), "ok\n"));
}

/// The features `PYTHON_SUBSET_DOC` promises, in one script.
#[tokio::test]
async fn the_documented_subset_works() {
    let code = r#"
import json, re, math, datetime, base64, collections, itertools, functools, typing, dataclasses, asyncio, sys
from dataclasses import dataclass
from collections import Counter, defaultdict

@dataclass
class Bucket:
    name: str
    size: int = 0

def twice(f):
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs) * 2
    return wrapper

@twice
def total(x, *rest, scale=1, **extra):
    return (x + sum(rest)) * scale

class Acc:
    def __init__(self):
        self.n = 0
    def add(self, k):
        self.n += k
        return self

async def size_of(name):
    r = await call_aws_async("test", "Echo", {"Name": name})
    return len(r["Name"])

first, *others = [1, 2, 3]
counts = defaultdict(list)
counts["x"].append(1)
with_result = None
try:
    with open("f.txt") as fh:
        with_result = fh.read()
except PermissionError:
    with_result = "denied"
{
    "dataclass": Bucket("b", 3).size,
    "decorated": total(1, 2, scale=3),
    "chained": Acc().add(2).add(3).n,
    "counter": Counter("abca")["a"],
    "defaultdict": dict(counts),
    "re": re.search(r"(\d+)", "abc 123").group(1),
    "json": json.loads(json.dumps({"k": [1, 2]})),
    "math": math.sqrt(16),
    "base64": base64.b64encode(b"hi").decode(),
    "itertools": list(itertools.chain([1], [2])),
    "functools": functools.reduce(lambda a, b: a + b, [1, 2, 3]),
    "fstring": f"{3.14159:.2f}",
    "sorted": sorted([3, 1, 2], key=lambda v: -v),
    "dictcomp": {k: v for k, v in zip("ab", range(2))},
    "now": datetime.datetime.now(datetime.timezone.utc).year >= 2025,
    "walrus": (w := 5) + w,
    "starred": others,
    "with": with_result,
    "async": await asyncio.gather(size_of("abc"), size_of("de")),
    "python": sys.version_info[0],
}
"#;
    let (out, _) = run(code).await;
    let out = out.unwrap();
    assert_eq!(
        out.result,
        json!({
            "dataclass": 3, "decorated": 18, "chained": 5, "counter": 2, "defaultdict": {"x": [1]},
            "re": "123", "json": {"k": [1, 2]}, "math": 4.0, "base64": "aGk=", "itertools": [1, 2],
            "functools": 6, "fstring": "3.14", "sorted": [3, 2, 1], "dictcomp": {"a": 0, "b": 1},
            "now": true, "walrus": 10, "starred": [2, 3], "with": "denied", "async": [3, 2], "python": 3
        })
    );
    assert_eq!(out.aws_calls, 2);
    // And what it says is missing is missing.
    for (code, exc_type) in [
        ("def g():\n    yield 1", "NotImplementedError"),
        (
            "class A:\n    pass\nclass B(A):\n    pass",
            "NotImplementedError",
        ),
        ("import time", "ModuleNotFoundError"),
        ("import random", "ModuleNotFoundError"),
        ("import boto3", "ModuleNotFoundError"),
    ] {
        let (out, _) = run(code).await;
        assert!(
            matches!(&out, Err(ScriptError::Python { exc_type: got, .. }) if got == exc_type),
            "{code}: {out:?}"
        );
    }
}

/// Large answers arriving while the script is busy printing must not deadlock the two pipes.
#[tokio::test]
async fn large_answers_and_heavy_output_flow_at_once() {
    let code = r#"
big = "x" * 300000
futures = [call_aws_async("test", "Echo", {"Blob": big}) for i in range(4)]
for i in range(3000):
    print("line", i, "y" * 100)
import asyncio
answers = await asyncio.gather(*futures)
[len(a["Blob"]) for a in answers]
"#;
    let limits = Limits {
        max_output_bytes: 4 * 1024 * 1024,
        ..fast_limits()
    };
    let out = sandbox(limits)
        .run(code, &FakeAws::default())
        .await
        .unwrap();
    assert_eq!(out.result, json!([300000, 300000, 300000, 300000]));
    assert!(
        out.stdout
            .ends_with(&format!("line 2999 {}\n", "y".repeat(100)))
    );
}
