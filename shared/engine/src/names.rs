//! The AWS CLI's name conversion (botocore's `xform_name`), ported: `DescribeVpcs` ->
//! `describe-vpcs`, `ListAWSDefaultServiceQuotas` -> `list-aws-default-service-quotas`,
//! `PutBucketACLs` -> `put-bucket-acls`.
//!
//! The rules, in order:
//! 1. a name that already contains the separator is returned unchanged, and the few names
//!    botocore converts by hand (`CreateCachediSCSIVolume`) use its conversion;
//! 2. a trailing run of two or more capitals followed by `s` (`ARNs`, `ACLs`) becomes
//!    `<sep>` plus that run in lower case;
//! 3. before every capital that starts a capitalised word (`[A-Z][a-z]+`) and follows any
//!    character, insert the separator (one left-to-right pass without overlaps, as a regex
//!    substitution does);
//! 4. between a lower-case letter or digit and a capital, insert the separator;
//! 5. lower-case everything.

/// Converts a model name to the CLI's spelling with `sep` (`-` for commands and options).
/// Names botocore converts by hand (its pre-seeded cache) come from the bundled table.
pub fn xform_name(name: &str, sep: char) -> String {
    if name.contains(sep) {
        return name.to_owned();
    }
    if let Ok(table) = crate::cli_table::cli_table()
        && let Some(special) = table.xform_special_cases.get(name)
    {
        return if sep == '-' {
            special.clone()
        } else {
            special.replace('-', &sep.to_string())
        };
    }
    let mut name: String = name.to_owned();
    if let Some(start) = special_suffix(&name) {
        let suffix = name[start..].to_lowercase();
        name.truncate(start);
        name.push(sep);
        name.push_str(&suffix);
    }
    let first = first_cap_pass(&name, sep);
    end_cap_pass(&first, sep).to_lowercase()
}

/// Start of a trailing `[A-Z]{2,}s` run (the leftmost start that still matches).
fn special_suffix(name: &str) -> Option<usize> {
    let bytes = name.as_bytes();
    if bytes.len() < 3 || *bytes.last()? != b's' {
        return None;
    }
    let end = bytes.len() - 1;
    let mut start = end;
    while start > 0 && bytes[start - 1].is_ascii_uppercase() {
        start -= 1;
    }
    (end - start >= 2).then_some(start)
}

/// `(.)([A-Z][a-z]+)` -> `\1<sep>\2`, scanning left to right without overlapping matches.
fn first_cap_pass(name: &str, sep: char) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        // A match needs one character, then a capital, then at least one lower-case letter.
        if chars.get(i + 1).is_some_and(char::is_ascii_uppercase)
            && chars.get(i + 2).is_some_and(char::is_ascii_lowercase)
        {
            let mut j = i + 2;
            while j < chars.len() && chars[j].is_ascii_lowercase() {
                j += 1;
            }
            out.push(chars[i]);
            out.push(sep);
            out.extend(&chars[i + 1..j]);
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `([a-z0-9])([A-Z])` -> `\1<sep>\2`, left to right without overlaps.
fn end_cap_pass(name: &str, sep: char) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len()
            && (chars[i].is_ascii_lowercase() || chars[i].is_ascii_digit())
            && chars[i + 1].is_ascii_uppercase()
        {
            out.push(chars[i]);
            out.push(sep);
            out.push(chars[i + 1]);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_conversions() {
        for (model, cli) in [
            ("DescribeVpcs", "describe-vpcs"),
            ("GetSAMLProvider", "get-saml-provider"),
            (
                "ListAWSDefaultServiceQuotas",
                "list-aws-default-service-quotas",
            ),
            ("CreateDBInstance", "create-db-instance"),
            ("PutBucketACL", "put-bucket-acl"),
            ("ListTagsForResource", "list-tags-for-resource"),
            (
                "DescribeDBClusterSnapshotAttributes",
                "describe-db-cluster-snapshot-attributes",
            ),
            ("GetObjectACLs", "get-object-acls"),
            ("already-done", "already-done"),
            ("VpcIds", "vpc-ids"),
            ("MaxResults", "max-results"),
            ("S3Bucket", "s3-bucket"),
            ("Ipv6CidrBlock", "ipv6-cidr-block"),
        ] {
            assert_eq!(xform_name(model, '-'), cli, "{model}");
        }
        assert_eq!(xform_name("DescribeVpcs", '_'), "describe_vpcs");
    }

    /// The port of the name conversion agrees with the CLI for every operation and every
    /// argument that maps to a model member, across all services.
    #[test]
    fn name_conversion_matches_the_cli_everywhere() {
        let t = crate::cli_table::cli_table().expect("table");
        let (mut ops, mut args, mut mismatches) = (0, 0, Vec::new());
        for (cli_service, service) in &t.services {
            for (cli_op, op) in &service.operations {
                ops += 1;
                if xform_name(&op.name, '-') != *cli_op {
                    mismatches.push(format!("{cli_service} {cli_op} <- {}", op.name));
                }
                for (arg, target) in &op.args {
                    if let crate::cli_table::ArgTarget::Member(m) = target {
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
