//! The bundled offline snapshots (`data/*.json.gz`, produced by
//! `infra/scripts/generate_knowledge_data.py`), decoded once on first use.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use mcp_protocol::ToolError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub partition: String,
}

#[derive(Debug, Deserialize)]
pub struct RegionsSnapshot {
    pub source: Value,
    pub regions: Vec<Region>,
}

#[derive(Debug, Deserialize)]
pub struct Product {
    pub code: String,
    pub name: String,
    pub regions: Vec<u16>,
}

#[derive(Debug, Deserialize)]
pub struct ProductsSnapshot {
    pub source: Value,
    pub regions: Vec<String>,
    pub products: Vec<Product>,
}

#[derive(Debug, Deserialize)]
pub struct ServiceApi {
    pub service_name: String,
    pub service_id: String,
    pub endpoint_prefix: String,
    pub full_name: String,
    pub operations: Vec<String>,
    pub regions: Vec<u16>,
    /// `endpoints`, `global`, `ssm` or `partition-default` (a guess).
    pub regions_source: String,
}

#[derive(Debug, Deserialize)]
pub struct ServiceApisSnapshot {
    pub source: Value,
    pub regions: Vec<String>,
    pub services: Vec<ServiceApi>,
}

#[derive(Debug, Deserialize)]
pub struct CfnType {
    pub name: String,
    pub regions: Vec<u16>,
}

#[derive(Debug, Deserialize)]
pub struct CfnSnapshot {
    pub source: Value,
    pub regions: Vec<String>,
    pub types: Vec<CfnType>,
}

fn decode<T: DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T, String> {
    let mut json = Vec::with_capacity(bytes.len() * 6);
    GzDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|e| format!("bundled {name} is not valid gzip: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("bundled {name} does not decode: {e}"))
}

macro_rules! snapshot {
    ($fn_name:ident, $ty:ty, $file:literal) => {
        pub fn $fn_name() -> Result<&'static $ty, ToolError> {
            static CELL: OnceLock<Result<$ty, String>> = OnceLock::new();
            CELL.get_or_init(|| decode($file, include_bytes!(concat!("../data/", $file))))
                .as_ref()
                .map_err(|e| ToolError::Internal(e.clone()))
        }
    };
}

snapshot!(regions, RegionsSnapshot, "regions.json.gz");
snapshot!(products, ProductsSnapshot, "products.json.gz");
snapshot!(service_apis, ServiceApisSnapshot, "service_apis.json.gz");
snapshot!(cfn_resources, CfnSnapshot, "cfn_resources.json.gz");

/// The package versions a snapshot was generated from, for answers that cite their source.
pub fn describe_source(source: &Value) -> String {
    match source.get("packages").and_then(Value::as_object) {
        Some(p) => {
            let versions: Vec<String> = p
                .iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                .collect();
            format!("bundled snapshot ({})", versions.join(", "))
        }
        None => "bundled snapshot".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snapshot_decodes_and_shares_the_region_list() {
        let r = regions().expect("regions");
        let ids: Vec<&str> = r.regions.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.contains(&"us-east-1"));
        assert_eq!(products().expect("products").regions, ids);
        assert_eq!(service_apis().expect("apis").regions, ids);
        assert_eq!(cfn_resources().expect("cfn").regions, ids);
    }

    #[test]
    fn regions_added_in_botocore_1_44_are_bundled() {
        // Saudi Arabia and Chile came with botocore 1.44; tests/e2e/test_data_freshness.py
        // checks the whole list against the pinned botocore.
        let r = regions().expect("regions");
        for id in ["me-west-1", "sa-west-1"] {
            let region = r.regions.iter().find(|r| r.id == id).expect(id);
            assert_eq!(region.partition, "aws");
            assert_ne!(region.name, id, "{id} has no long name");
        }
    }

    #[test]
    fn cfn_resource_types_are_bundled() {
        // cfn-lint changed how it ships its per-Region provider lists (1.58): an empty table
        // here means the generator no longer finds them.
        let cfn = cfn_resources().expect("cfn");
        assert!(cfn.types.len() > 1000, "{} resource types", cfn.types.len());
        assert!(cfn.types.iter().any(|t| t.name == "AWS::S3::Bucket"));
    }
}
