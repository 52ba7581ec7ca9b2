//! Partitions: which one a Region id belongs to, by botocore's `partitions.json` rules.

use std::sync::OnceLock;

use regex::Regex;

/// The partition id and DNS suffix of a Region (botocore's `partitions.json`, matched in
/// its order; an unknown shape falls back to `aws`).
pub fn partition_of(region: &str) -> (&'static str, &'static str) {
    static PARTITIONS: OnceLock<Vec<(Regex, &'static str, &'static str)>> = OnceLock::new();
    let table = PARTITIONS.get_or_init(|| {
        [
            (
                r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$",
                "aws",
                "amazonaws.com",
            ),
            (r"^cn-\w+-\d+$", "aws-cn", "amazonaws.com.cn"),
            (r"^eusc-(de)-\w+-\d+$", "aws-eusc", "amazonaws.eu"),
            (r"^us-iso-\w+-\d+$", "aws-iso", "c2s.ic.gov"),
            (r"^us-isob-\w+-\d+$", "aws-iso-b", "sc2s.sgov.gov"),
            (r"^eu-isoe-\w+-\d+$", "aws-iso-e", "cloud.adc-e.uk"),
            (r"^us-isof-\w+-\d+$", "aws-iso-f", "csp.hci.ic.gov"),
            (r"^us-gov-\w+-\d+$", "aws-us-gov", "amazonaws.com"),
        ]
        .into_iter()
        .filter_map(|(re, id, suffix)| Regex::new(re).ok().map(|r| (r, id, suffix)))
        .collect()
    });
    table
        .iter()
        .find(|(re, _, _)| re.is_match(region))
        .map(|(_, id, suffix)| (*id, *suffix))
        .unwrap_or(("aws", "amazonaws.com"))
}
