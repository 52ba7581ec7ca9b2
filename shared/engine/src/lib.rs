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
//! scalars, `--cli-input-json`). [`validate`] checks values against the model (the validation ladder) and
//! [`serialize`] writes the request parts of each protocol; [`endpoints`] says where a
//! service is reached in a Region and how to sign for it; [`sign`] signs with SigV4 as
//! botocore does; [`response`] parses answers into what the AWS CLI prints. Sending builds on it.

pub mod cli_table;
pub mod command;
pub mod endpoints;
pub mod names;
pub mod params;
pub mod response;
pub mod serialize;
pub mod shorthand;
pub mod sign;
pub mod validate;

pub use cli_table::{ArgTarget, CliTable, cli_table};
pub use command::{CommandError, ParsedCommand, parse_command};
pub use names::xform_name;
pub use params::{ApiCall, CallOptions, LocalFiles, build_call, build_call_with};
