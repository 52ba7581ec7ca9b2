//! botocore's flexible checksums (`httpChecksum` in the models): the request checksum an
//! operation supports or requires, sent in a header, and the response checksum asked for with
//! `ChecksumMode` and checked against the body received.

use std::str::FromStr;

use aws_models::Operation;
use aws_smithy_checksums::ChecksumAlgorithm;
use serde_json::{Map, Value};

use crate::serialize::RequestParts;

/// The algorithms whose response checksum is checked, in botocore's order of preference when
/// a response carries several.
const RESPONSE_ALGORITHMS: [&str; 5] = ["crc64nvme", "crc32c", "crc32", "sha1", "sha256"];

/// What an operation's `httpChecksum` trait asks of a call.
pub(crate) struct ChecksumPlan {
    /// The member naming the algorithm (`ChecksumAlgorithm`), when the operation has one.
    algorithm_member: Option<String>,
    required: bool,
    /// The member that asks for the response checksum (`ChecksumMode`).
    pub(crate) validation_member: Option<String>,
}

impl ChecksumPlan {
    pub(crate) fn of(operation: &Operation) -> Self {
        let spec = operation.http_checksum.as_ref();
        let text = |key: &str| {
            spec.and_then(|s| s.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            algorithm_member: text("requestAlgorithmMember"),
            required: spec
                .and_then(|s| s.get("requestChecksumRequired"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            validation_member: text("requestValidationModeMember"),
        }
    }

    /// Adds `x-amz-checksum-<algorithm>` (the algorithm asked for, else CRC32 where the
    /// operation takes or needs a checksum), unless the caller sent that header already.
    pub(crate) fn add_request_checksum(
        &self,
        params: &Map<String, Value>,
        parts: &mut RequestParts,
    ) -> Result<(), String> {
        let chosen = self
            .algorithm_member
            .as_ref()
            .and_then(|m| params.get(m))
            .and_then(Value::as_str);
        let name = match chosen {
            Some(name) => name,
            None if self.required || self.algorithm_member.is_some() => "CRC32",
            None => return Ok(()),
        };
        let algorithm = ChecksumAlgorithm::from_str(name).map_err(|_| {
            format!(
                "checksum algorithm {name} is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256"
            )
        })?;
        let header = format!("x-amz-checksum-{}", algorithm.as_str());
        if has_header(parts, &header) {
            return Ok(());
        }
        if self.algorithm_member.is_some() && !has_header(parts, "x-amz-sdk-checksum-algorithm") {
            parts.headers.push((
                "x-amz-sdk-checksum-algorithm".into(),
                algorithm.as_str().to_ascii_uppercase(),
            ));
        }
        parts
            .headers
            .push((header, checksum_of(algorithm, &parts.body)));
        Ok(())
    }

    /// Checks the body against the first checksum the response carries, as botocore does when
    /// `ChecksumMode` asked for one. Checksums of a multipart object's parts (`...-3`) cover
    /// the parts, not the body, and are not checked.
    pub(crate) fn verify_response(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), String> {
        if self.validation_member.is_none() {
            return Ok(());
        }
        for name in RESPONSE_ALGORITHMS {
            let header = format!("x-amz-checksum-{name}");
            let Some((_, expected)) = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&header))
            else {
                continue;
            };
            let Ok(algorithm) = ChecksumAlgorithm::from_str(name) else {
                continue;
            };
            if expected.contains('-') {
                return Ok(());
            }
            let actual = checksum_of(algorithm, body);
            if &actual != expected {
                return Err(format!(
                    "Expected checksum {expected} did not match calculated checksum: {actual}"
                ));
            }
            return Ok(());
        }
        Ok(())
    }
}

fn has_header(parts: &RequestParts, name: &str) -> bool {
    parts
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// The base64 checksum of `body`, as the `x-amz-checksum-*` headers carry it.
fn checksum_of(algorithm: ChecksumAlgorithm, body: &[u8]) -> String {
    let mut checksum = algorithm.into_impl();
    checksum.update(body);
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        checksum.finalize(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(validation: bool) -> ChecksumPlan {
        ChecksumPlan {
            algorithm_member: Some("ChecksumAlgorithm".into()),
            required: false,
            validation_member: validation.then(|| "ChecksumMode".into()),
        }
    }

    fn parts(body: &[u8]) -> RequestParts {
        RequestParts {
            method: "PUT".into(),
            path: "/k".into(),
            query: String::new(),
            headers: Vec::new(),
            body: body.to_vec(),
            host_prefix: None,
        }
    }

    #[test]
    fn the_algorithm_asked_for_is_computed() {
        // Known values for "hello world": CRC32 0x0d4a1185, SHA-256 b94d27b9...
        let mut p = parts(b"hello world");
        plan(false)
            .add_request_checksum(&Map::new(), &mut p)
            .expect("crc32");
        assert!(
            p.headers
                .contains(&("x-amz-checksum-crc32".into(), "DUoRhQ==".into()))
        );
        assert!(
            p.headers
                .contains(&("x-amz-sdk-checksum-algorithm".into(), "CRC32".into()))
        );
        let mut p = parts(b"hello world");
        let params = Map::from_iter([("ChecksumAlgorithm".to_owned(), Value::from("SHA256"))]);
        plan(false)
            .add_request_checksum(&params, &mut p)
            .expect("sha256");
        assert!(p.headers.contains(&(
            "x-amz-checksum-sha256".into(),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".into()
        )));
        let params = Map::from_iter([("ChecksumAlgorithm".to_owned(), Value::from("MD4"))]);
        let err = plan(false)
            .add_request_checksum(&params, &mut parts(b""))
            .expect_err("unknown");
        assert!(err.contains("CRC32C") && err.contains("MD4"), "{err}");
    }

    #[test]
    fn a_response_body_that_does_not_match_its_checksum_is_refused() {
        let good = vec![("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())];
        assert!(plan(true).verify_response(&good, b"hello world").is_ok());
        let err = plan(true)
            .verify_response(&good, b"hello worle")
            .expect_err("corrupt");
        assert!(
            err.starts_with("Expected checksum DUoRhQ== did not match"),
            "{err}"
        );
        // Not asked for, or a multipart object's part checksum: not checked.
        assert!(plan(false).verify_response(&good, b"x").is_ok());
        let parts = vec![("x-amz-checksum-crc32".to_owned(), "abc=-3".to_owned())];
        assert!(plan(true).verify_response(&parts, b"x").is_ok());
    }
}
