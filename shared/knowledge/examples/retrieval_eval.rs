//! Retrieval quality of the two offline rankers over the labelled query sets of `tests/data/`:
//! `aws___search_documentation` with the live search off (its offline BM25 index of skills and
//! API operations, called in-process through the tool handler, limit 10) and
//! `aws___suggest_aws_commands` (the `aws-suggest` ranking).
//!
//! Per query set and per kind of accepted answer it prints hit@1, hit@3 and MRR@10 of the
//! search and recall@5 of the suggestions, then the first-call latency of each ranker in a
//! fresh process. It reports and never gates.
//!
//! A search result matches a skill or an operation answer, and a command answer through the
//! command's operation (high-level commands such as `aws s3 cp` have none, so search cannot
//! match them). A suggestion matches a command answer, and an operation answer through its
//! command's operation.
//!
//! ```text
//! cargo run --release -p knowledge-tools --example retrieval_eval [-- --set NAME] [-- -v]
//! ```
//!
//! `--set` is one of `search`, `suggest`, `suggest-holdout`, `retrieval-dev`,
//! `retrieval-holdout`; `-v` lists the misses of the sets that may be tuned on (held-out sets
//! are reported as figures only: see `tests/data/README.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use knowledge_tools::docs::index::SearchIndex;
use knowledge_tools::docs::search::SearchDocumentation;
use knowledge_tools::query_sets::{
    ApiOperation, Case, Phrasing, QuerySetError, Split, load_retrieval, load_search, load_suggest,
};
use knowledge_tools::{Docs, DocsConfig, SkillLibrary};
use mcp_protocol::{CallerIdentity, KnownIdentity, ToolContext, ToolHandler};
use serde_json::{Value, json};

/// How deep the search is read (as `tests/search_eval.py` does) and the suggestions.
const SEARCH_DEPTH: usize = 10;
const SUGGEST_DEPTH: usize = 5;

struct QuerySet {
    name: &'static str,
    cases: Vec<Case>,
    /// Held out: its misses are never listed.
    held_out: bool,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn load_sets() -> Result<Vec<QuerySet>, QuerySetError> {
    let dir = data_dir();
    let retrieval = load_retrieval(&dir.join("retrieval_queries.json"))?;
    let half = |split: Split| -> Vec<Case> {
        retrieval
            .iter()
            .filter(|c| c.split == Some(split))
            .cloned()
            .collect()
    };
    Ok(vec![
        QuerySet {
            name: "search",
            cases: load_search(&dir.join("search_queries.json"))?,
            held_out: false,
        },
        QuerySet {
            name: "suggest",
            cases: load_suggest(&dir.join("suggest_queries.json"))?,
            held_out: false,
        },
        QuerySet {
            name: "suggest-holdout",
            cases: load_suggest(&dir.join("suggest_queries_holdout.json"))?,
            held_out: true,
        },
        QuerySet {
            name: "retrieval-dev",
            cases: half(Split::Dev),
            held_out: false,
        },
        QuerySet {
            name: "retrieval-holdout",
            cases: half(Split::Holdout),
            held_out: true,
        },
    ])
}

/// One search result, as far as matching goes.
#[derive(Debug, Clone, PartialEq)]
enum Found {
    Skill(String),
    Api(ApiOperation),
    Other,
}

impl Found {
    fn from_result(v: &Value) -> Self {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match (text("skill_name"), text("service"), text("operation")) {
            (Some(name), _, _) => Found::Skill(name),
            (None, Some(service), Some(operation)) => {
                Found::Api(ApiOperation { service, operation })
            }
            _ => Found::Other,
        }
    }

    fn label(&self) -> String {
        match self {
            Found::Skill(name) => format!("skill {name}"),
            Found::Api(op) => format!("{} {}", op.service, op.operation),
            Found::Other => "?".into(),
        }
    }
}

/// The offline documentation search, through its tool handler.
struct Search {
    handler: SearchDocumentation,
    ctx: ToolContext,
    runtime: tokio::runtime::Runtime,
}

impl Search {
    fn new() -> Result<Self, String> {
        let config = DocsConfig {
            live: false,
            ..DocsConfig::default()
        };
        let docs = Arc::new(Docs::new(config, Arc::new(SkillLibrary::bundled())));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("no async runtime: {e}"))?;
        let ctx = ToolContext {
            identity: Arc::new(KnownIdentity(CallerIdentity::local())),
            session_id: "retrieval-eval".into(),
            protocol_version: "2025-06-18".into(),
            region: "us-east-1".into(),
            request_id: json!(1),
            meta: None,
            peer: None,
        };
        Ok(Self {
            handler: SearchDocumentation { docs },
            ctx,
            runtime,
        })
    }

    fn top(&self, query: &str) -> Result<Vec<Found>, String> {
        let args = json!({"search_phrase": query, "limit": SEARCH_DEPTH});
        let out = self
            .runtime
            .block_on(self.handler.call(&self.ctx, args))
            .map_err(|e| format!("search for '{query}' failed: {e}"))?;
        let results = out.structured["results"]
            .as_array()
            .ok_or_else(|| format!("search for '{query}' answered without results"))?;
        Ok(results.iter().map(Found::from_result).collect())
    }
}

/// The operation a CLI command calls (`aws s3api list-buckets` -> s3 ListBuckets); `None` for
/// high-level commands and unknown ones.
fn command_operation(command: &str) -> Option<ApiOperation> {
    let mut words = command.split_whitespace().skip(1);
    let (service, operation) = (words.next()?, words.next()?);
    let cli = aws_engine::cli_table().ok()?.services.get(service)?;
    let op = cli.operations.get(operation)?;
    Some(ApiOperation {
        service: cli.service.clone(),
        operation: op.name.clone(),
    })
}

/// `aws s3api list-buckets --bucket x` -> `aws s3api list-buckets`.
fn command_key(command: &str) -> String {
    command
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerKind {
    Skill,
    Operation,
    Command,
    Any,
}

impl AnswerKind {
    const ALL: [AnswerKind; 4] = [
        AnswerKind::Skill,
        AnswerKind::Operation,
        AnswerKind::Command,
        AnswerKind::Any,
    ];

    fn name(self) -> &'static str {
        match self {
            AnswerKind::Skill => "skill",
            AnswerKind::Operation => "API operation",
            AnswerKind::Command => "CLI command",
            AnswerKind::Any => "any",
        }
    }
}

/// A case's accepted answers of one kind, in the terms each ranker answers in.
struct Accepted {
    skills: Vec<String>,
    operations: Vec<ApiOperation>,
    commands: Vec<String>,
}

impl Accepted {
    fn of(case: &Case, kind: AnswerKind) -> Option<Self> {
        let mapped = || -> Vec<ApiOperation> {
            case.commands
                .iter()
                .filter_map(|c| command_operation(c))
                .collect()
        };
        let commands = || case.commands.iter().map(|c| command_key(c)).collect();
        let accepted = match kind {
            AnswerKind::Skill => Self {
                skills: case.skills.clone(),
                operations: Vec::new(),
                commands: Vec::new(),
            },
            AnswerKind::Operation => Self {
                skills: Vec::new(),
                operations: case.operations.clone(),
                commands: Vec::new(),
            },
            AnswerKind::Command => Self {
                skills: Vec::new(),
                operations: mapped(),
                commands: commands(),
            },
            AnswerKind::Any => Self {
                skills: case.skills.clone(),
                operations: case.operations.iter().cloned().chain(mapped()).collect(),
                commands: commands(),
            },
        };
        let present = match kind {
            AnswerKind::Skill => !case.skills.is_empty(),
            AnswerKind::Operation => !case.operations.is_empty(),
            AnswerKind::Command => !case.commands.is_empty(),
            AnswerKind::Any => true,
        };
        present.then_some(accepted)
    }

    fn search_matches(&self, found: &Found) -> bool {
        match found {
            Found::Skill(name) => self.skills.contains(name),
            Found::Api(op) => self.operations.contains(op),
            Found::Other => false,
        }
    }

    /// Suggestions answer in commands; an operation answer matches the command's operation,
    /// a command answer matches the command itself.
    fn suggest_matches(&self, command: &str, kind: AnswerKind) -> bool {
        let by_command = self.commands.contains(&command_key(command));
        let by_operation =
            || command_operation(command).is_some_and(|op| self.operations.contains(&op));
        match kind {
            AnswerKind::Skill => false,
            AnswerKind::Command => by_command,
            AnswerKind::Operation | AnswerKind::Any => by_command || by_operation(),
        }
    }
}

/// What both rankers returned for one case.
struct Answers {
    search: Vec<Found>,
    suggest: Vec<String>,
}

/// Where the first accepted answer ranked (1-based), per ranker.
#[derive(Clone, Copy)]
struct Ranks {
    search: Option<usize>,
    suggest: Option<usize>,
}

fn ranks(answers: &Answers, accepted: &Accepted, kind: AnswerKind) -> Ranks {
    Ranks {
        search: answers
            .search
            .iter()
            .position(|f| accepted.search_matches(f))
            .map(|i| i + 1),
        suggest: answers
            .suggest
            .iter()
            .position(|c| accepted.suggest_matches(c, kind))
            .map(|i| i + 1),
    }
}

/// Figures over the cases that have an answer of one kind.
#[derive(Default)]
struct Figures {
    cases: usize,
    search_hit1: usize,
    search_hit3: usize,
    search_rr: f64,
    /// Cases with an operation or command answer: the ones a suggestion can match.
    suggest_cases: usize,
    suggest_hit5: usize,
}

impl Figures {
    fn add(&mut self, r: Ranks, suggest_applies: bool) {
        self.cases += 1;
        if let Some(rank) = r.search {
            self.search_hit1 += usize::from(rank == 1);
            self.search_hit3 += usize::from(rank <= 3);
            self.search_rr += 1.0 / rank as f64;
        }
        if suggest_applies {
            self.suggest_cases += 1;
            self.suggest_hit5 += usize::from(r.suggest.is_some_and(|r| r <= SUGGEST_DEPTH));
        }
    }

    fn row(&self, set: &str, label: &str) -> String {
        let share = |n: usize| n as f64 / self.cases as f64;
        let suggest = match self.suggest_cases {
            0 => "-".to_owned(),
            n if n == self.cases => format!("{:.3}", self.suggest_hit5 as f64 / n as f64),
            n => format!("{:.3} of {n}", self.suggest_hit5 as f64 / n as f64),
        };
        format!(
            "| {set} | {label} | {} | {:.3} | {:.3} | {:.3} | {suggest} |",
            self.cases,
            share(self.search_hit1),
            share(self.search_hit3),
            self.search_rr / self.cases as f64,
        )
    }
}

const TABLE_HEAD: &str = "| set | answers | cases | search hit@1 | search hit@3 | search MRR@10 | suggest recall@5 |\n|---|---|---:|---:|---:|---:|---:|";

fn evaluate(set: &QuerySet, search: &Search, verbose: bool) -> Result<(), String> {
    let suggester = aws_suggest::Suggester::global().map_err(|e| e.to_string())?;
    let mut by_kind: Vec<Figures> = AnswerKind::ALL.iter().map(|_| Figures::default()).collect();
    let mut by_phrasing: Vec<Figures> = Phrasing::ALL.iter().map(|_| Figures::default()).collect();
    let mut misses = Vec::new();
    for case in &set.cases {
        let answers = Answers {
            search: search.top(&case.query)?,
            suggest: suggester
                .suggest(&case.query, SUGGEST_DEPTH)
                .into_iter()
                .map(|s| s.command)
                .collect(),
        };
        for (i, kind) in AnswerKind::ALL.iter().enumerate() {
            let Some(accepted) = Accepted::of(case, *kind) else {
                continue;
            };
            let r = ranks(&answers, &accepted, *kind);
            let suggest_applies = *kind != AnswerKind::Skill
                && !(accepted.operations.is_empty() && accepted.commands.is_empty());
            by_kind[i].add(r, suggest_applies);
            if *kind == AnswerKind::Any {
                if let Some(p) = case
                    .phrasing
                    .and_then(|p| Phrasing::ALL.iter().position(|x| *x == p))
                {
                    by_phrasing[p].add(r, suggest_applies);
                }
                if r.search != Some(1) || (suggest_applies && r.suggest.is_none()) {
                    misses.push(miss_line(case, &answers, r));
                }
            }
        }
    }
    for (i, kind) in AnswerKind::ALL.iter().enumerate() {
        if by_kind[i].cases > 0 {
            println!("{}", by_kind[i].row(set.name, kind.name()));
        }
    }
    for (i, phrasing) in Phrasing::ALL.iter().enumerate() {
        if by_phrasing[i].cases > 0 {
            let label = format!("any, {} phrasing", phrasing.name());
            println!("{}", by_phrasing[i].row(set.name, &label));
        }
    }
    if verbose && set.held_out {
        println!("\n({}: held out, misses not listed)\n", set.name);
    } else if verbose && !misses.is_empty() {
        println!(
            "\n{} misses (search not first, or no suggestion in the top {SUGGEST_DEPTH}):",
            set.name
        );
        for m in &misses {
            println!("{m}");
        }
        println!();
    }
    Ok(())
}

fn miss_line(case: &Case, answers: &Answers, r: Ranks) -> String {
    let show = |rank: Option<usize>| rank.map_or("-".to_owned(), |r| r.to_string());
    let search: Vec<String> = answers.search.iter().take(3).map(Found::label).collect();
    format!(
        "  {:?}\n    search rank {}: {}\n    suggest rank {}: {}",
        case.query,
        show(r.search),
        search.join(", "),
        show(r.suggest),
        answers.suggest.join(", "),
    )
}

/// Child mode: one cold call of one ranker, timed from the start of `main`.
fn first_call(ranker: &str, started: Instant) -> Result<(), String> {
    let query = "which account do my credentials belong to";
    let answered = match ranker {
        "search" => Search::new()?.top(query)?.len(),
        // The index built at run time from the skills and models, as before it was prebuilt.
        "search-built" => {
            let index = SearchIndex::build(Arc::new(SkillLibrary::bundled()));
            index.search(query, |_| true).len()
        }
        "suggest" => {
            let suggester = aws_suggest::Suggester::global().map_err(|e| e.to_string())?;
            suggester.suggest(query, SUGGEST_DEPTH).len()
        }
        other => {
            return Err(format!(
                "--first-call takes search, search-built or suggest, not '{other}'"
            ));
        }
    };
    if answered == 0 {
        return Err(format!("{ranker} gave no answer to {query:?}"));
    }
    println!("{}", started.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

/// Runs `first_call` in a fresh process: (ms from its `main` to the answer, ms from spawn to
/// exit).
fn first_call_in_fresh_process(ranker: &str) -> Result<(f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let spawned = Instant::now();
    let out = std::process::Command::new(exe)
        .args(["--first-call", ranker])
        .output()
        .map_err(|e| format!("cannot run the {ranker} first call: {e}"))?;
    let wall = spawned.elapsed().as_secs_f64() * 1000.0;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let in_main = stdout.trim().parse::<f64>().map_err(|_| {
        format!(
            "the {ranker} first call answered {:?} (stderr: {})",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    Ok((in_main, wall))
}

struct Args {
    set: Option<String>,
    verbose: bool,
    first_call: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        set: None,
        verbose: false,
        first_call: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" | "--verbose" => args.verbose = true,
            "--set" => args.set = Some(it.next().ok_or("--set needs a name")?),
            "--first-call" => {
                args.first_call = Some(it.next().ok_or("--first-call needs a ranker")?)
            }
            other => return Err(format!("unknown argument '{other}' (--set NAME, -v)")),
        }
    }
    Ok(args)
}

fn run(started: Instant) -> Result<(), String> {
    let args = parse_args()?;
    if let Some(ranker) = &args.first_call {
        return first_call(ranker, started);
    }
    let sets = load_sets().map_err(|e| e.to_string())?;
    if let Some(wanted) = &args.set
        && !sets.iter().any(|s| s.name == wanted)
    {
        let names: Vec<&str> = sets.iter().map(|s| s.name).collect();
        return Err(format!(
            "unknown set '{wanted}'; sets: {}",
            names.join(", ")
        ));
    }
    let search = Search::new()?;
    println!("{TABLE_HEAD}");
    for set in &sets {
        if args.set.as_deref().is_none_or(|w| w == set.name) {
            evaluate(set, &search, args.verbose)?;
        }
    }
    println!("\nFirst call in a fresh process (ms; from the start of main / from spawn to exit):");
    for ranker in ["search", "search-built", "suggest"] {
        let (in_main, wall) = first_call_in_fresh_process(ranker)?;
        println!("| {ranker} | {in_main:.0} | {wall:.0} |");
    }
    warm_calls(&search)
}

/// Mean time of a warm call of each ranker over the search set's queries.
fn warm_calls(search: &Search) -> Result<(), String> {
    let queries: Vec<String> = load_search(&data_dir().join("search_queries.json"))
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|c| c.query)
        .collect();
    let suggester = aws_suggest::Suggester::global().map_err(|e| e.to_string())?;
    let started = Instant::now();
    for q in &queries {
        search.top(q)?;
    }
    let search_ms = started.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64;
    let started = Instant::now();
    for q in &queries {
        suggester.suggest(q, SUGGEST_DEPTH);
    }
    let suggest_ms = started.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64;
    println!(
        "\nWarm call, mean over {} queries (ms): search {search_ms:.2}, suggest {suggest_ms:.2}",
        queries.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let started = Instant::now();
    match run(started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("retrieval_eval: {e}");
            ExitCode::FAILURE
        }
    }
}
