//! The AWS engine: from an AWS CLI command line to a validated AWS API call, using the
//! bundled service models (`aws-models`) and the CLI's own command table, with no Python and
//! no AWS CLI at run time.
//!
//! This first layer covers names and command lines: the CLI's name conversion
//! ([`names::xform_name`]), its command table ([`cli_table`]), and [`command`], which splits a
//! command like a POSIX shell (refusing chaining, redirection and substitution), resolves the
//! service and operation, and maps every `--argument` to the model member it fills, with
//! "did you mean" answers for unknown names; [`shorthand`] and [`params`] turn argument values
//! into API parameters exactly as the CLI does (shorthand syntax, JSON, lists, typed
//! scalars, `--cli-input-json`), with [`customs`] for the arguments the CLI adds on top of
//! the models (`--zip-file`, `--port`, `--count`...). [`validate`] checks values against the
//! model (the validation ladder) and
//! [`serialize`] writes the request parts of each protocol; [`endpoints`] says where a
//! service is reached in a Region (FIPS and dual-stack included) and how to sign for it; [`sign`] signs with SigV4 as
//! botocore does. [`execute`] sends one call (retries, S3 addressing and access point ARNs in
//! `access_point`, flexible checksums in `checksum`) and [`response`]
//! parses the answer into what the AWS CLI prints; [`paginate`] walks and merges pages as the CLI does; [`run`] runs a
//! whole command line (Region choice, policy gate, `--query`, outfiles) and [`highlevel`] the
//! CLI's `s3` commands. [`policy`] decides whether a call may run (deny list, read-only
//! mode, consent); [`presign`] makes pre-signed S3 URLs as botocore does; [`wait`] runs the
//! CLI's `wait` commands from the waiter models.

#![warn(unreachable_pub)]

mod access_point;
mod arg_kinds;
mod arg_values;
mod call;
mod checksum;
pub mod cli_table;
pub mod command;
pub mod customs;
pub mod endpoints;
pub mod execute;
pub mod highlevel;
pub mod names;
pub mod paginate;
pub mod params;
pub mod policy;
pub mod presign;
pub mod protected;
mod python;
pub mod query;
pub mod response;
pub mod run;
mod runner;
pub mod serialize;
pub mod shorthand;
pub mod sign;
pub mod staging;
pub mod text;
pub mod validate;
pub mod wait;

pub use call::{CallGate, CommandOutcome, OpenGate, RunError, RunSettings};
pub use cli_table::{ArgTarget, CliTable, cli_table};
pub use command::{CommandError, ParsedCommand, parse_command};
pub use names::xform_name;
pub use params::{ApiCall, CallOptions, LocalFiles, build_call, build_call_with};
pub use policy::GateCall;
pub use policy::{CommandPattern, Decision, Policy, PolicyError, is_read_only};
pub use runner::Runner;
