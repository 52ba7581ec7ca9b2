//! The AWS CLI's command table (service, operation and argument names and the model
//! members they fill), captured from the pinned CLI by `infra/scripts/generate_cli_table.py`
//! and decoded once on first use.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::Value;

static TABLE_GZ: &[u8] = include_bytes!("../data/cli_table.json.gz");

/// What a CLI argument fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgTarget {
    /// A top-level input member of the operation.
    Member(String),
    /// `--no-<flag>`: sets the boolean member to false.
    NegatedMember(String),
    /// `--starting-token`, `--page-size`, `--max-items`.
    Paging,
    CliInputJson,
    GenerateCliSkeleton,
    /// The positional output file of operations that return a stream (`lambda invoke out.json`).
    Outfile,
    /// A CLI customisation with no model member (e.g. `ec2 run-instances --count`).
    Custom(String),
}

impl ArgTarget {
    fn parse(raw: &str) -> Self {
        match raw {
            "!paging" => ArgTarget::Paging,
            "!cli-input-json" => ArgTarget::CliInputJson,
            "!generate-cli-skeleton" => ArgTarget::GenerateCliSkeleton,
            "!outfile" => ArgTarget::Outfile,
            _ => {
                if let Some(m) = raw.strip_prefix("!no:") {
                    ArgTarget::NegatedMember(m.to_owned())
                } else if let Some(kind) = raw.strip_prefix("!custom:") {
                    ArgTarget::Custom(kind.to_owned())
                } else {
                    ArgTarget::Member(raw.to_owned())
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawOperation {
    name: String,
    args: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawService {
    service: String,
    operations: BTreeMap<String, RawOperation>,
}

#[derive(Debug, Deserialize)]
struct RawTable {
    source: Value,
    services: BTreeMap<String, RawService>,
    custom_commands: Vec<String>,
    #[serde(default)]
    xform_special_cases: Vec<(String, String)>,
    #[serde(default)]
    preview_services: Vec<String>,
    #[serde(default)]
    paramfile_disabled: Vec<String>,
}

/// One CLI operation.
#[derive(Debug)]
pub struct CliOperation {
    /// The model's operation name (`DescribeVpcs`).
    pub name: String,
    /// CLI argument (without `--`) to what it fills.
    pub args: BTreeMap<String, ArgTarget>,
}

/// One CLI service command (`ec2`, `s3api`).
#[derive(Debug)]
pub struct CliService {
    /// botocore's service name (`s3` for `s3api`).
    pub service: String,
    pub operations: BTreeMap<String, CliOperation>,
}

/// The whole table.
#[derive(Debug)]
pub struct CliTable {
    pub source: Value,
    pub services: BTreeMap<String, CliService>,
    /// High-level commands that are not API services (`s3`, `configure`, `history`).
    pub custom_commands: Vec<String>,
    /// Names whose conversion botocore fixes by hand (`CreateCachediSCSIVolume`).
    pub xform_special_cases: BTreeMap<String, String>,
    /// Services the CLI refuses unless a preview is enabled (`sdb`).
    pub preview_services: Vec<String>,
    /// Arguments (`<service>.<operation>.<argument>`, CLI names) never read as file:// paths.
    pub paramfile_disabled: Vec<String>,
}

fn decode() -> Result<CliTable, String> {
    let mut raw = Vec::new();
    GzDecoder::new(TABLE_GZ)
        .read_to_end(&mut raw)
        .map_err(|e| format!("bundled CLI table is not gzip: {e}"))?;
    let table: RawTable =
        serde_json::from_slice(&raw).map_err(|e| format!("bundled CLI table: {e}"))?;
    Ok(CliTable {
        source: table.source,
        custom_commands: table.custom_commands,
        xform_special_cases: table.xform_special_cases.into_iter().collect(),
        preview_services: table.preview_services,
        paramfile_disabled: table.paramfile_disabled,
        services: table
            .services
            .into_iter()
            .map(|(cli, s)| {
                let operations = s
                    .operations
                    .into_iter()
                    .map(|(cli_op, op)| {
                        let args = op
                            .args
                            .into_iter()
                            .map(|(a, t)| {
                                let target = ArgTarget::parse(&t);
                                (a, target)
                            })
                            .collect();
                        (
                            cli_op,
                            CliOperation {
                                name: op.name,
                                args,
                            },
                        )
                    })
                    .collect();
                (
                    cli,
                    CliService {
                        service: s.service,
                        operations,
                    },
                )
            })
            .collect(),
    })
}

/// The bundled table, decoded on first call.
pub fn cli_table() -> Result<&'static CliTable, String> {
    static TABLE: OnceLock<Result<CliTable, String>> = OnceLock::new();
    TABLE.get_or_init(decode).as_ref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::xform_name;

    #[test]
    fn table_knows_renamed_services_and_argument_targets() {
        let t = cli_table().expect("table");
        assert_eq!(t.services["s3api"].service, "s3");
        assert_eq!(t.services["configservice"].service, "config");
        assert!(t.custom_commands.contains(&"s3".to_owned()));
        let op = &t.services["ec2"].operations["describe-vpcs"];
        assert_eq!(op.name, "DescribeVpcs");
        assert_eq!(op.args["vpc-ids"], ArgTarget::Member("VpcIds".into()));
        assert_eq!(
            op.args["no-dry-run"],
            ArgTarget::NegatedMember("DryRun".into())
        );
        assert_eq!(op.args["page-size"], ArgTarget::Paging);
    }

    /// The port of the name conversion agrees with the CLI for every operation and every
    /// argument that maps to a model member, across all services.
    #[test]
    fn name_conversion_matches_the_cli_everywhere() {
        let t = cli_table().expect("table");
        let (mut ops, mut args, mut mismatches) = (0, 0, Vec::new());
        for (cli_service, service) in &t.services {
            for (cli_op, op) in &service.operations {
                ops += 1;
                if xform_name(&op.name, '-') != *cli_op {
                    mismatches.push(format!("{cli_service} {cli_op} <- {}", op.name));
                }
                for (arg, target) in &op.args {
                    if let ArgTarget::Member(m) = target {
                        args += 1;
                        if xform_name(m, '-') != *arg {
                            mismatches.push(format!("{cli_service} {cli_op} --{arg} <- {m}"));
                        }
                    }
                }
            }
        }
        assert!(
            ops > 18_000 && args > 50_000,
            "{ops} operations, {args} arguments"
        );
        // The CLI renames some arguments on purpose (`--version` clashes with its global
        // option, so members named Version become `--api-version` and the like) and spells a
        // few operations its own way; the table carries those. Everything else agrees.
        assert!(
            mismatches.len() < 160,
            "{} mismatches: {:#?}",
            mismatches.len(),
            &mismatches[..mismatches.len().min(60)]
        );
    }
}
