//! Reading an AWS CLI command line: shell words, then service, operation, global options and
//! arguments, resolved against the CLI's command table and the service model.
//!
//! Shell rules (POSIX words, nothing executed): whitespace separates words; single quotes
//! keep everything literally; double quotes keep everything but `\"`, `\\`; a backslash
//! outside quotes escapes the next character. Anything a shell would act on is refused rather
//! than passed through: `;`, `&`, `|`, `<`, `>`, `(`, `)`, newlines, `#` comments, `$`
//! expansion and backquote substitution (inside double quotes too).

use aws_models::models;

use crate::cli_table::{ArgTarget, CliOperation, cli_table};

/// Why a command line was refused. Every message says what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Shell(String),
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    UnknownService(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    UnknownArgument(String),
    #[error("{0}")]
    MissingArgument(String),
    #[error("{0}")]
    DeniedOption(String),
    /// A high-level command (`aws s3 ls`), handled apart from API commands.
    #[error("'aws {0}' is a high-level command, not an API command")]
    HighLevel(String),
    #[error("{0}")]
    Internal(String),
}

/// Splits a command line into words like a POSIX shell, refusing shell syntax.
pub fn shell_words(line: &str) -> Result<Vec<String>, CommandError> {
    let refuse = |what: &str| {
        CommandError::Shell(format!(
            "{what} is not allowed: give exactly one aws command, with no shell operators, redirection, variables or substitution (quote values with single quotes)"
        ))
    };
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\n' | '\r' => return Err(refuse("a line break (a second command)")),
            ';' => return Err(refuse("';' (command chaining)")),
            '&' => return Err(refuse("'&' (chaining or background)")),
            '|' => return Err(refuse("'|' (a pipe or '||')")),
            '<' | '>' => return Err(refuse("redirection")),
            '(' | ')' => return Err(refuse("a subshell")),
            '`' => return Err(refuse("backquote command substitution")),
            '$' => return Err(refuse("'$' expansion")),
            '#' if !in_word => return Err(refuse("a '#' comment")),
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => current.push(ch),
                        None => {
                            return Err(CommandError::Shell(
                                "unterminated single quote: close every ' you open".into(),
                            ));
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => current.push(ch),
                            Some(ch @ ('$' | '`')) => current.push(ch),
                            Some(ch) => {
                                current.push('\\');
                                current.push(ch);
                            }
                            None => {
                                return Err(CommandError::Shell(
                                    "unterminated double quote: close every \" you open".into(),
                                ));
                            }
                        },
                        Some('$') => return Err(refuse("'$' expansion inside double quotes")),
                        Some('`') => {
                            return Err(refuse("backquote substitution inside double quotes"));
                        }
                        Some(ch) => current.push(ch),
                        None => {
                            return Err(CommandError::Shell(
                                "unterminated double quote: close every \" you open".into(),
                            ));
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(ch) => current.push(ch),
                    None => {
                        return Err(CommandError::Shell(
                            "a trailing backslash escapes nothing".into(),
                        ));
                    }
                }
            }
            other => {
                in_word = true;
                current.push(other);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// Whether a URL points at this machine: `localhost`, `127.0.0.0/8` or `::1`, with no user
/// information (which could disguise the host).
pub fn is_loopback_url(text: &str) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The CLI's global options that apply to every command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub output: Option<String>,
    pub query: Option<String>,
    pub endpoint_url: Option<String>,
    pub no_paginate: bool,
    pub cli_read_timeout: Option<String>,
    pub cli_connect_timeout: Option<String>,
}

const OUTPUTS: [&str; 5] = ["json", "text", "table", "yaml", "yaml-stream"];

/// One `--argument` and its raw values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedArg {
    pub name: String,
    pub target: ArgTarget,
    pub values: Vec<String>,
}

/// A command line resolved against the CLI table and the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub cli_service: String,
    /// botocore's service name.
    pub service: String,
    pub cli_operation: String,
    pub operation: String,
    pub args: Vec<ParsedArg>,
    pub globals: GlobalOptions,
    /// `aws <service> <operation> help`.
    pub help: bool,
    /// The positional output file of streaming operations (`aws lambda invoke ... out.json`).
    pub outfile: Option<String>,
}

fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| {
            let bonus = if c.contains(wanted) || wanted.contains(c) {
                0.5
            } else {
                0.0
            };
            (strsim::jaro_winkler(wanted, c) + bonus, c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

/// Every global option the CLI knows (argparse also accepts any unambiguous prefix).
const GLOBAL_OPTIONS: [&str; 17] = [
    "--region",
    "--profile",
    "--output",
    "--query",
    "--endpoint-url",
    "--no-paginate",
    "--cli-read-timeout",
    "--cli-connect-timeout",
    "--no-cli-pager",
    "--no-cli-auto-prompt",
    "--color",
    "--cli-binary-format",
    "--debug",
    "--no-verify-ssl",
    "--no-sign-request",
    "--ca-bundle",
    "--version",
];

/// The full option name a possibly abbreviated one stands for among `names`.
fn expand_prefix<'a>(
    given: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<Option<&'a str>, Vec<&'a str>> {
    let matches: Vec<&str> = names.filter(|n| n.starts_with(given)).collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => {
            if let Some(exact) = many.iter().find(|n| **n == given) {
                Ok(Some(*exact))
            } else {
                Err(many.to_vec())
            }
        }
    }
}

/// Takes a global option at `words[i]` if it is one; returns how many words it used.
fn take_global(words: &[String], i: usize, g: &mut GlobalOptions) -> Result<usize, CommandError> {
    let word = words[i].as_str();
    let (given, inline) = match word.split_once('=') {
        Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
        _ => (word, None),
    };
    if !given.starts_with("--") || given.len() < 3 {
        return Ok(0);
    }
    let name = match expand_prefix(given, GLOBAL_OPTIONS.into_iter()) {
        Ok(Some(n)) => n,
        Ok(None) => return Ok(0),
        Err(candidates) => {
            return Err(CommandError::Syntax(format!(
                "ambiguous option {given}: it could be {}",
                candidates.join(", ")
            )));
        }
    };
    let value = |what: &str| -> Result<(String, usize), CommandError> {
        match &inline {
            Some(v) => Ok((v.clone(), 1)),
            None => words
                .get(i + 1)
                .filter(|v| !v.starts_with("--"))
                .map(|v| (v.clone(), 2))
                .ok_or_else(|| CommandError::Syntax(format!("{name} needs a value ({what})"))),
        }
    };
    match name {
        "--region" => {
            let (v, n) = value("a Region such as us-east-1")?;
            g.region = Some(v);
            Ok(n)
        }
        "--profile" => {
            let (v, n) = value("a profile name")?;
            g.profile = Some(v);
            Ok(n)
        }
        "--output" => {
            let (v, n) = value("json, text, table, yaml or yaml-stream")?;
            if !OUTPUTS.contains(&v.as_str()) {
                return Err(CommandError::Syntax(format!(
                    "--output {v} is not valid; use one of {}",
                    OUTPUTS.join(", ")
                )));
            }
            g.output = Some(v);
            Ok(n)
        }
        "--query" => {
            let (v, n) = value("a JMESPath expression")?;
            if let Err(e) = crate::query::compile(&v) {
                return Err(CommandError::Syntax(format!(
                    "Bad value for --query {}: {e}",
                    crate::text::clip(&v, 200)
                )));
            }
            g.query = Some(v);
            Ok(n)
        }
        "--endpoint-url" => {
            let (v, n) = value("a URL")?;
            let valid = (v.starts_with("http://") || v.starts_with("https://"))
                && v.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
            if !valid {
                return Err(CommandError::Syntax(format!(
                    "--endpoint-url \"{v}\" is not a URL: give it as http://<host>[:port]/ or https://<host>/"
                )));
            }
            if !is_loopback_url(&v) {
                return Err(CommandError::DeniedOption(format!(
                    "--endpoint-url {v} is refused: only loopback endpoints (http://localhost:<port>, http://127.0.0.1:<port>, http://[::1]:<port>) may be given, so commands cannot be sent to other hosts; AWS endpoints are chosen from --region"
                )));
            }
            g.endpoint_url = Some(v);
            Ok(n)
        }
        "--cli-read-timeout" => {
            let (v, n) = value("seconds")?;
            g.cli_read_timeout = Some(v);
            Ok(n)
        }
        "--cli-connect-timeout" => {
            let (v, n) = value("seconds")?;
            g.cli_connect_timeout = Some(v);
            Ok(n)
        }
        "--no-paginate" => {
            g.no_paginate = true;
            Ok(1)
        }
        "--no-cli-pager" | "--no-cli-auto-prompt" => Ok(1),
        "--color" | "--cli-binary-format" => Ok(value("a value")?.1),
        "--debug" | "--no-verify-ssl" | "--no-sign-request" | "--ca-bundle" => {
            Err(CommandError::DeniedOption(format!(
                "{name} is not allowed here (it would weaken security or leak request details); remove it"
            )))
        }
        _ => Ok(0),
    }
}

/// Parses an `aws ...` command line.
pub fn parse_command(line: &str) -> Result<ParsedCommand, CommandError> {
    let words = shell_words(line)?;
    match words.first().map(String::as_str) {
        Some("aws") => {}
        Some(other) => {
            return Err(CommandError::Syntax(format!(
                "commands must start with 'aws', not '{other}' (for example: aws ec2 describe-vpcs)"
            )));
        }
        None => {
            return Err(CommandError::Syntax(
                "the command is empty; give an aws command such as: aws s3api list-buckets".into(),
            ));
        }
    }
    let table = cli_table().map_err(CommandError::Internal)?;
    let mut globals = GlobalOptions::default();
    let mut positional: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    let mut i = 1;
    // Global options may come anywhere; service and operation are the first two other words.
    while i < words.len() {
        let used = take_global(&words, i, &mut globals)?;
        if used > 0 {
            i += used;
            continue;
        }
        if positional.len() < 2 && !words[i].starts_with("--") {
            positional.push(words[i].clone());
        } else {
            rest.push(words[i].clone());
        }
        i += 1;
    }
    let Some(cli_service) = positional.first().cloned() else {
        return Err(CommandError::Syntax(
            "no service given: write aws <service> <operation> [--arguments]".into(),
        ));
    };
    if table.custom_commands.contains(&cli_service) {
        return Err(CommandError::HighLevel(cli_service));
    }
    if table.preview_services.contains(&cli_service) {
        return Err(CommandError::UnknownService(format!(
            "AWS CLI support for {cli_service} is only available in a preview stage; this server does not call it"
        )));
    }
    let Some(service) = table.services.get(&cli_service) else {
        let close = closest(&cli_service, table.services.keys().map(String::as_str), 5);
        return Err(CommandError::UnknownService(format!(
            "unknown service '{cli_service}'; did you mean: {}?",
            close.join(", ")
        )));
    };
    let Some(cli_operation) = positional.get(1).cloned() else {
        return Err(CommandError::Syntax(format!(
            "no operation given for {cli_service}: write aws {cli_service} <operation>, e.g. aws {cli_service} {}",
            service
                .operations
                .keys()
                .next()
                .map(String::as_str)
                .unwrap_or("help")
        )));
    };
    let Some(op) = service.operations.get(&cli_operation) else {
        let close = closest(
            &cli_operation,
            service.operations.keys().map(String::as_str),
            5,
        );
        return Err(CommandError::UnknownOperation(format!(
            "unknown operation '{cli_operation}' for {cli_service}; did you mean: {}?",
            close.join(", ")
        )));
    };
    let help = rest.first().is_some_and(|w| w == "help");
    let (args, outfile) = if help {
        (Vec::new(), None)
    } else {
        parse_args(&service.service, &cli_service, &cli_operation, op, &rest)?
    };
    check_paging(&service.service, &op.name, &args, globals.no_paginate)?;
    Ok(ParsedCommand {
        cli_service,
        service: service.service.clone(),
        cli_operation,
        operation: op.name.clone(),
        args,
        globals,
        help,
        outfile,
    })
}

/// How many values an argument takes, from its member's shape.
enum Arity {
    Flag,
    /// A flag that may also take one value (ec2's boolean `Value` structures).
    FlagOrOne,
    One,
    Many,
}

fn arity(service: &str, operation: &str, target: &ArgTarget) -> Result<Arity, CommandError> {
    let member = match target {
        ArgTarget::NegatedMember(_) => return Ok(Arity::Flag),
        ArgTarget::Member(m) => m,
        ArgTarget::Paging | ArgTarget::CliInputJson | ArgTarget::Outfile => return Ok(Arity::One),
        ArgTarget::GenerateCliSkeleton => return Ok(Arity::One),
        // Customisations take any number of words; they are refused later with a reason.
        ArgTarget::Custom(_) => return Ok(Arity::Many),
    };
    let model = models()
        .service(service)
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let shape = model
        .operation(operation)
        .and_then(|op| op.input.as_ref())
        .and_then(|r| model.shape(&r.shape))
        .and_then(|input| input.members.get(member))
        .and_then(|m| model.shape(&m.shape));
    Ok(match shape {
        Some(s) if s.kind == "boolean" => Arity::Flag,
        Some(s) if crate::arg_kinds::is_boolean_value_structure(&model, s) => Arity::FlagOrOne,
        Some(s) if s.kind == "list" => Arity::Many,
        _ => Arity::One,
    })
}

fn parse_args(
    service: &str,
    cli_service: &str,
    cli_operation: &str,
    op: &CliOperation,
    words: &[String],
) -> Result<(Vec<ParsedArg>, Option<String>), CommandError> {
    let mut out: Vec<ParsedArg> = Vec::new();
    let mut outfile = None;
    let takes_outfile = op.args.values().any(|t| *t == ArgTarget::Outfile);
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let Some(body) = word.strip_prefix("--") else {
            if takes_outfile && outfile.is_none() {
                outfile = Some(word.clone());
                i += 1;
                continue;
            }
            return Err(CommandError::Syntax(format!(
                "unexpected value '{word}': values follow an --argument (aws {cli_service} {cli_operation} --<argument> <value>)"
            )));
        };
        let (given, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (body.to_owned(), None),
        };
        // argparse accepts any unambiguous prefix of an option.
        let name = match expand_prefix(&given, op.args.keys().map(String::as_str)) {
            Ok(Some(full)) => full.to_owned(),
            Ok(None) => {
                let close = closest(&given, op.args.keys().map(String::as_str), 5);
                let valid: Vec<&str> = op
                    .args
                    .iter()
                    .filter(|(_, t)| match t {
                        ArgTarget::Member(_) => true,
                        ArgTarget::Custom(kind) => crate::arg_kinds::translates(kind),
                        _ => false,
                    })
                    .map(|(a, _)| a.as_str())
                    .collect();
                return Err(CommandError::UnknownArgument(format!(
                    "unknown argument --{given} for aws {cli_service} {cli_operation}; did you mean: --{}? Valid arguments: {}",
                    close.join(", --"),
                    valid
                        .iter()
                        .map(|a| format!("--{a}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
            Err(candidates) => {
                return Err(CommandError::UnknownArgument(format!(
                    "--{given} is ambiguous for aws {cli_service} {cli_operation}: it could be --{}",
                    candidates.join(", --")
                )));
            }
        };
        let target = op
            .args
            .get(&name)
            .cloned()
            .unwrap_or(ArgTarget::Custom(String::new()));
        i += 1;
        let mut values = Vec::new();
        match arity(service, &op.name, &target)? {
            Arity::Flag => {
                if let Some(v) = inline {
                    return Err(CommandError::Syntax(format!(
                        "--{name} is a flag and takes no value (got '{v}'); use --{name} or --no-{name}"
                    )));
                }
            }
            Arity::FlagOrOne => match inline {
                Some(v) => values.push(v),
                None => {
                    if let Some(v) = words.get(i).filter(|v| !v.starts_with("--")) {
                        values.push(v.clone());
                        i += 1;
                    }
                }
            },
            Arity::One => match inline {
                Some(v) => values.push(v),
                None => match words.get(i) {
                    Some(v) if !v.starts_with("--") => {
                        values.push(v.clone());
                        i += 1;
                    }
                    _ => {
                        return Err(CommandError::Syntax(format!("--{name} needs a value")));
                    }
                },
            },
            Arity::Many => {
                if let Some(v) = inline {
                    values.push(v);
                }
                while let Some(v) = words.get(i).filter(|v| !v.starts_with("--")) {
                    values.push(v.clone());
                    i += 1;
                }
            }
        }
        // A repeated option keeps its last value, as the CLI does.
        out.retain(|a| a.name != name);
        out.push(ParsedArg {
            name,
            target,
            values,
        });
    }
    // For ec2's boolean Value structures, a flag and its negation contradict each other
    // (for plain booleans the last one wins).
    for a in &out {
        if let ArgTarget::NegatedMember(m) = &a.target
            && let Some(positive) = out
                .iter()
                .find(|b| b.target == ArgTarget::Member(m.clone()))
            && matches!(
                arity(service, &op.name, &positive.target)?,
                Arity::FlagOrOne
            )
        {
            return Err(CommandError::Syntax(format!(
                "Cannot specify both the \"--{}\" option and the \"--{}\" option.",
                positive.name, a.name
            )));
        }
    }
    if takes_outfile && outfile.is_none() {
        return Err(CommandError::MissingArgument(format!(
            "aws {cli_service} {cli_operation} needs an output file after the arguments (where the response body is written), e.g. aws {cli_service} {cli_operation} ... out.json"
        )));
    }
    check_required(service, &op.name, cli_service, cli_operation, op, &out)?;
    Ok((out, outfile))
}

/// The CLI paginates an operation with a paginator unless one of its own paging members is
/// given; then (and with --no-paginate) the CLI's paging arguments are refused.
fn check_paging(
    service: &str,
    operation: &str,
    args: &[ParsedArg],
    no_paginate: bool,
) -> Result<(), CommandError> {
    let paging: Vec<&str> = args
        .iter()
        .filter(|a| a.target == ArgTarget::Paging)
        .map(|a| a.name.as_str())
        .collect();
    if paging.is_empty() {
        return Ok(());
    }
    let model = models()
        .service(service)
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let Some(paginator) = model.paginators.get(operation) else {
        return Ok(());
    };
    let mut own: Vec<String> = Vec::new();
    for key in ["input_token", "limit_key"] {
        match paginator.get(key) {
            Some(serde_json::Value::String(s)) => own.push(s.clone()),
            Some(serde_json::Value::Array(items)) => {
                own.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)));
            }
            _ => {}
        }
    }
    let uses_own = args
        .iter()
        .any(|a| matches!(&a.target, ArgTarget::Member(m) if own.contains(m)));
    if uses_own || no_paginate {
        return Err(CommandError::Syntax(format!(
            "Cannot specify --no-paginate along with pagination arguments: --{} (giving the operation's own paging parameters turns the CLI's pagination off)",
            paging.join(", --")
        )));
    }
    Ok(())
}

fn check_required(
    service: &str,
    operation: &str,
    cli_service: &str,
    cli_operation: &str,
    op: &CliOperation,
    args: &[ParsedArg],
) -> Result<(), CommandError> {
    if args.iter().any(|a| a.target == ArgTarget::CliInputJson) {
        return Ok(()); // required members may come from the JSON document
    }
    let model = models()
        .service(service)
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let Some(input) = model
        .operation(operation)
        .and_then(|o| o.input.as_ref())
        .and_then(|r| model.shape(&r.shape))
    else {
        return Ok(());
    };
    let given: Vec<&str> = args
        .iter()
        .filter_map(|a| match &a.target {
            ArgTarget::Member(m) | ArgTarget::NegatedMember(m) => Some(m.as_str()),
            _ => None,
        })
        .collect();
    // Members a customisation can fill (e.g. --count for MinCount) are not required when
    // the CLI says so; for customisations not translated, any given member will do.
    let customised = op.args.values().any(|t| matches!(t, ArgTarget::Custom(_)));
    let unrequired = crate::arg_kinds::unrequired(service, operation);
    let missing: Vec<String> = input
        .required
        .iter()
        .filter(|m| !given.contains(&m.as_str()))
        .filter(|m| !unrequired.is_some_and(|u| u.contains(&m.as_str())))
        .filter_map(|m| {
            op.args
                .iter()
                .find(|(_, t)| **t == ArgTarget::Member(m.clone()))
                .map(|(a, _)| format!("--{a}"))
        })
        .collect();
    let filled_by_customisation =
        customised && unrequired.is_none() && missing.len() < input.required.len();
    if missing.is_empty() || filled_by_customisation {
        return Ok(());
    }
    Err(CommandError::MissingArgument(format!(
        "aws {cli_service} {cli_operation} needs {}",
        missing.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_follow_posix_quoting() {
        assert_eq!(
            shell_words(r#"aws s3api put-object --key 'a b' --body "c \"d\"" e\ f"#).expect("ok"),
            vec![
                "aws",
                "s3api",
                "put-object",
                "--key",
                "a b",
                "--body",
                "c \"d\"",
                "e f"
            ]
        );
        assert_eq!(
            shell_words("aws ec2 describe-instances --query 'Reservations[?State==`running`]'")
                .expect("ok")[4],
            "Reservations[?State==`running`]"
        );
    }

    #[test]
    fn shell_syntax_is_refused() {
        for bad in [
            "aws s3 ls; rm -rf /",
            "aws s3 ls && curl evil",
            "aws s3 ls || true",
            "aws s3 ls | sh",
            "aws s3 ls > /etc/passwd",
            "aws s3 ls < x",
            "aws s3 ls $(whoami)",
            "aws s3 ls `whoami`",
            "aws s3 ls \"$HOME\"",
            "aws s3 ls $HOME",
            "aws s3 ls &",
            "aws s3 ls\nrm x",
            "aws s3 ls # hidden",
            "aws s3 ls 'open",
            "aws s3 ls \"open",
        ] {
            assert!(
                matches!(shell_words(bad), Err(CommandError::Shell(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn resolves_service_operation_globals_and_arguments() {
        let c = parse_command(
            "aws --region eu-west-1 ec2 describe-vpcs --vpc-ids vpc-1 vpc-2 --dry-run --query 'Vpcs[].VpcId' --output json",
        )
        .expect("parses");
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("ec2", "DescribeVpcs")
        );
        assert_eq!(c.globals.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.globals.query.as_deref(), Some("Vpcs[].VpcId"));
        assert_eq!(c.args[0].target, ArgTarget::Member("VpcIds".into()));
        assert_eq!(c.args[0].values, vec!["vpc-1", "vpc-2"]);
        assert_eq!(c.args[1].target, ArgTarget::Member("DryRun".into()));
        assert!(c.args[1].values.is_empty());

        let s3 =
            parse_command("aws s3api list-objects-v2 --bucket=b --max-items 5").expect("parses");
        assert_eq!(
            (s3.service.as_str(), s3.operation.as_str()),
            ("s3", "ListObjectsV2")
        );
        assert_eq!(s3.args[0].values, vec!["b"]);
        assert_eq!(s3.args[1].target, ArgTarget::Paging);
        assert!(
            parse_command("aws ec2 describe-vpcs help")
                .expect("help")
                .help
        );
    }

    #[test]
    fn the_validation_ladder_names_what_is_valid() {
        let err = |line: &str| parse_command(line).expect_err(line).to_string();
        assert!(err("ls -la").contains("must start with 'aws'"));
        assert!(err("aws ecc2 describe-vpcs").contains("ec2"));
        assert!(err("aws ec2 describe-vpc").contains("describe-vpcs"));
        let unknown = err("aws ec2 describe-vpcs --vpc-identifier vpc-1");
        assert!(unknown.contains("--vpc-ids"), "{unknown}");
        // Translated customisations count among the valid arguments.
        let custom = err("aws ec2 run-instances --image-id ami-1 --counts 2");
        assert!(custom.contains(" --count "), "{custom}");
        // Required members a customisation stands for: --paths may replace
        // --invalidation-batch, but --distribution-id is still needed.
        let missing = err("aws cloudfront create-invalidation --paths /a");
        assert!(missing.contains("--distribution-id"), "{missing}");
        assert!(!missing.contains("--invalidation-batch"), "{missing}");
        assert!(err("aws dynamodb get-item --table-name t").contains("--key"));
        assert!(err("aws s3api list-buckets --debug").contains("--debug is not allowed"));
        assert!(err("aws s3api list-buckets --no-verify-ssl").contains("not allowed"));
        assert!(err("aws s3api list-buckets --output xml").contains("json, text"));
        assert!(err("aws ec2 describe-vpcs --n x").contains("ambiguous"));
        assert!(err("aws ec2 describe-vpcs --dry-run=yes").contains("flag"));
        // A repeated option keeps its last value; prefixes stand for the full name.
        let last =
            parse_command("aws sqs get-queue-url --queue-name a --queue-name b").expect("ok");
        assert_eq!(last.args.len(), 1);
        assert_eq!(last.args[0].values, vec!["b"]);
        let short =
            parse_command("aws --reg eu-west-1 dynamodb describe-table --table t").expect("ok");
        assert_eq!(short.globals.region.as_deref(), Some("eu-west-1"));
        assert_eq!(short.args[0].name, "table-name");
        let out = parse_command("aws lambda invoke --function-name f out.json").expect("ok");
        assert_eq!(out.outfile.as_deref(), Some("out.json"));
        assert!(err("aws sdb list-domains").contains("preview"));
        assert!(err("aws ec2 describe-vpcs --endpoint-url not-a-url").contains("not a URL"));
        for refused in [
            "http://169.254.169.254",
            "http://10.0.0.5:80",
            "https://evil.example.com",
            "http://localhost.evil.com",
            "http://user@127.0.0.1:5000",
            "http://[fe80::1]:80",
        ] {
            assert!(
                err(&format!("aws ec2 describe-vpcs --endpoint-url {refused}"))
                    .contains("loopback"),
                "{refused}"
            );
        }
        for allowed in [
            "http://127.0.0.1:5000",
            "http://localhost:4566/",
            "http://[::1]:9000",
            "http://127.9.9.9",
        ] {
            assert!(is_loopback_url(allowed), "{allowed}");
        }
        assert!(err("aws ec2 describe-vpcs --query '[['").contains("invalid JMESPath"));
        assert!(
            matches!(parse_command("aws s3 ls s3://b"), Err(CommandError::HighLevel(s)) if s == "s3")
        );
        // cli-input-json may carry the required members.
        assert!(parse_command("aws dynamodb get-item --cli-input-json '{}'").is_ok());
    }
}
