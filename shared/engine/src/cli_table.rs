//! The AWS CLI's command table (service, operation and argument names and the model
//! members they fill), captured from the pinned CLI by `infra/scripts/generate_cli_table.py`
//! and decoded once on first use.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::Value;

static TABLE_PACK: &[u8] = include_bytes!("../data/cli_table.pack");

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
    operations: BTreeMap<String, RawOperation>,
}

#[derive(Debug, Deserialize)]
struct PackEntry {
    service: String,
    offset: usize,
    length: usize,
}

#[derive(Debug, Deserialize)]
struct RawHeader {
    source: Value,
    services: BTreeMap<String, PackEntry>,
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

/// A service whose operations are decoded on first use.
#[derive(Debug)]
struct LazyService {
    service: String,
    member: &'static [u8],
    decoded: OnceLock<Option<CliService>>,
}

impl LazyService {
    fn get(&self, cli_name: &str) -> Option<&CliService> {
        self.decoded
            .get_or_init(|| match decode_service(&self.service, self.member) {
                Ok(s) => Some(s),
                Err(e) => {
                    // A corrupt member loses one service, not the table; say which.
                    eprintln!("aws-engine: the bundled CLI table of {cli_name} is unreadable: {e}");
                    None
                }
            })
            .as_ref()
    }
}

/// The CLI's service commands by CLI name, each decoded when first asked for: a process that
/// runs `aws s3api ...` reads one service's table, not every service's.
#[derive(Debug)]
pub struct CliServices {
    entries: BTreeMap<String, LazyService>,
}

impl CliServices {
    pub fn get(&self, cli_name: &str) -> Option<&CliService> {
        self.entries.get(cli_name).and_then(|e| e.get(cli_name))
    }

    pub fn contains_key(&self, cli_name: &str) -> bool {
        self.entries.contains_key(cli_name)
    }

    /// CLI names, sorted (decodes nothing).
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    /// The botocore name of a CLI service (decodes nothing).
    pub fn botocore_name(&self, cli_name: &str) -> Option<&str> {
        self.entries.get(cli_name).map(|e| e.service.as_str())
    }

    /// `(CLI name, botocore name)` for every service (decodes nothing).
    pub fn botocore_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(cli, e)| (cli.as_str(), e.service.as_str()))
    }

    /// Calls `visit` with every service: the ones already decoded as they are, the others
    /// decoded for the call and dropped after it, so whole-table work (building an index)
    /// does not keep every service's table in memory.
    pub fn for_each_transient<'a>(&'a self, mut visit: impl FnMut(&'a str, &CliService)) {
        for (cli, e) in &self.entries {
            if let Some(Some(kept)) = e.decoded.get() {
                visit(cli, kept);
                continue;
            }
            match decode_service(&e.service, e.member) {
                Ok(service) => visit(cli, &service),
                Err(err) => {
                    eprintln!("aws-engine: the bundled CLI table of {cli} is unreadable: {err}");
                }
            }
        }
    }

    /// Every service, decoding each and keeping it.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &CliService)> {
        self.entries
            .iter()
            .filter_map(|(cli, e)| e.get(cli).map(|s| (cli, s)))
    }

    pub fn values(&self) -> impl Iterator<Item = &CliService> {
        self.iter().map(|(_, s)| s)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl std::ops::Index<&str> for CliServices {
    type Output = CliService;

    /// Panics for an unknown name, like a map's index; use [`CliServices::get`] otherwise.
    fn index(&self, cli_name: &str) -> &CliService {
        match self.get(cli_name) {
            Some(s) => s,
            None => panic!("no CLI service {cli_name}"),
        }
    }
}

impl<'a> IntoIterator for &'a CliServices {
    type Item = (&'a String, &'a CliService);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The whole table.
#[derive(Debug)]
pub struct CliTable {
    pub source: Value,
    pub services: CliServices,
    /// High-level commands that are not API services (`s3`, `configure`, `history`).
    pub custom_commands: Vec<String>,
    /// Names whose conversion botocore fixes by hand (`CreateCachediSCSIVolume`).
    pub xform_special_cases: BTreeMap<String, String>,
    /// Services the CLI refuses unless a preview is enabled (`sdb`).
    pub preview_services: Vec<String>,
    /// Arguments (`<service>.<operation>.<argument>`, CLI names) never read as file:// paths.
    pub paramfile_disabled: Vec<String>,
}

fn gunzip(member: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    GzDecoder::new(member)
        .read_to_end(&mut raw)
        .map_err(|e| format!("bundled CLI table is not gzip: {e}"))?;
    Ok(raw)
}

fn decode_service(service: &str, member: &[u8]) -> Result<CliService, String> {
    let raw: RawService =
        serde_json::from_slice(&gunzip(member)?).map_err(|e| format!("bundled CLI table: {e}"))?;
    Ok(CliService {
        service: service.to_owned(),
        operations: raw
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
            .collect(),
    })
}

fn decode() -> Result<CliTable, String> {
    let corrupt = || "bundled CLI table is truncated".to_owned();
    let len_bytes: [u8; 4] = TABLE_PACK
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let header_len = u32::from_le_bytes(len_bytes) as usize;
    let header_member = TABLE_PACK.get(4..4 + header_len).ok_or_else(corrupt)?;
    let body: &'static [u8] = TABLE_PACK.get(4 + header_len..).ok_or_else(corrupt)?;
    let header: RawHeader = serde_json::from_slice(&gunzip(header_member)?)
        .map_err(|e| format!("bundled CLI table: {e}"))?;
    let mut entries = BTreeMap::new();
    for (cli, entry) in header.services {
        let member = body
            .get(entry.offset..entry.offset + entry.length)
            .ok_or_else(corrupt)?;
        entries.insert(
            cli,
            LazyService {
                service: entry.service,
                member,
                decoded: OnceLock::new(),
            },
        );
    }
    Ok(CliTable {
        source: header.source,
        custom_commands: header.custom_commands,
        xform_special_cases: header.xform_special_cases.into_iter().collect(),
        preview_services: header.preview_services,
        paramfile_disabled: header.paramfile_disabled,
        services: CliServices { entries },
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
}
