//! The AWS service models, as botocore ships them, bundled into the binary and decoded
//! lazily, one service at a time, on first use.
//!
//! `data/` is produced by `infra/scripts/generate_models.py` from a pinned botocore: an
//! index of every service (names, protocol, operations) that is cheap to load, a pack of
//! gzip members (one per service: model without documentation, paginators, waiters), a
//! second pack with each service's documentation (decoded only for help and reference
//! pages), and a plain-text corpus of every operation's documentation for offline search. This crate only reads models; it
//! does not parse command lines or build requests.
//!
//! Central types: [`ModelIndex`] (what exists), [`ServiceModel`] (one service's shapes and
//! operations), [`ServiceDocs`] (its documentation), [`models()`] (the process-wide lazy
//! store).

#![warn(unreachable_pub)]

mod partitions;

pub use partitions::partition_of;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use flate2::read::GzDecoder;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

static INDEX_GZ: &[u8] = include_bytes!("../data/index.json.gz");
static PACK: &[u8] = include_bytes!("../data/services.pack");
static DOCS_PACK: &[u8] = include_bytes!("../data/docs.pack");
static API_DOCS_GZ: &[u8] = include_bytes!("../data/api_docs.json.gz");

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    #[error("bundled model data is corrupt: {0}")]
    Corrupt(String),
    #[error("unknown service '{0}'")]
    UnknownService(String),
}

/// One service as the index describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceEntry {
    /// botocore's name (`ec2`, `s3`, `dynamodb`).
    pub service_name: String,
    pub api_version: String,
    /// `ec2-2016-11-15`; the API reference's `goto/WebAPI/<uid>/<Operation>` links use it.
    pub uid: String,
    pub service_id: String,
    pub endpoint_prefix: String,
    pub full_name: String,
    pub abbreviation: Option<String>,
    pub protocol: Option<String>,
    #[serde(default)]
    pub protocols: Vec<Option<String>>,
    pub signing_name: String,
    pub global_endpoint: Option<String>,
    offset: usize,
    length: usize,
    docs_offset: usize,
    docs_length: usize,
    pub operations: Vec<String>,
}

impl ServiceEntry {
    /// The public API reference link for an operation (a stable redirect to its page).
    pub fn api_reference_url(&self, operation: &str) -> String {
        format!(
            "https://docs.aws.amazon.com/goto/WebAPI/{}/{operation}",
            self.uid
        )
    }

    /// The name people know the service by (`Amazon EC2`), else its full name.
    pub fn display_name(&self) -> &str {
        self.abbreviation.as_deref().unwrap_or(&self.full_name)
    }
}

#[derive(Debug, Deserialize)]
struct IndexFile {
    source: Value,
    services: Vec<ServiceEntry>,
}

/// Every service and operation, without their shapes.
#[derive(Debug)]
pub struct ModelIndex {
    pub source: Value,
    pub services: Vec<ServiceEntry>,
    by_name: HashMap<String, usize>,
    by_uid: HashMap<String, usize>,
}

impl ModelIndex {
    pub fn service(&self, service_name: &str) -> Option<&ServiceEntry> {
        self.by_name.get(service_name).map(|&i| &self.services[i])
    }

    pub fn by_uid(&self, uid: &str) -> Option<&ServiceEntry> {
        self.by_uid.get(uid).map(|&i| &self.services[i])
    }

    /// Services that have an operation of this exact name.
    pub fn with_operation<'a>(
        &'a self,
        operation: &'a str,
    ) -> impl Iterator<Item = &'a ServiceEntry> {
        self.services.iter().filter(move |s| {
            s.operations
                .binary_search_by(|o| o.as_str().cmp(operation))
                .is_ok()
        })
    }

    pub fn operation_count(&self) -> usize {
        self.services.iter().map(|s| s.operations.len()).sum()
    }
}

/// A reference from an operation or a structure member to a shape, with its traits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// `header`, `headers`, `uri`, `querystring`, `statusCode` for HTTP-binding protocols.
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    #[serde(default)]
    pub flattened: bool,
    #[serde(default)]
    pub xml_attribute: bool,
    pub xml_namespace: Option<Value>,
    #[serde(default)]
    pub idempotency_token: bool,
    #[serde(default)]
    pub jsonvalue: bool,
    #[serde(default)]
    pub host_label: bool,
    #[serde(default)]
    pub deprecated: bool,
    pub result_wrapper: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub eventpayload: bool,
    pub timestamp_format: Option<String>,
}

/// A shape: a structure, list, map or scalar type with its constraints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: String,
    /// Members in model order (serialisers depend on it).
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef>,
    #[serde(default)]
    pub required: Vec<String>,
    pub member: Option<Box<ShapeRef>>,
    pub key: Option<Box<ShapeRef>>,
    pub value: Option<Box<ShapeRef>>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    pub payload: Option<String>,
    #[serde(default)]
    pub flattened: bool,
    pub timestamp_format: Option<String>,
    pub location_name: Option<String>,
    pub xml_namespace: Option<Value>,
    #[serde(default)]
    pub exception: bool,
    pub error: Option<Value>,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub requires_length: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub event: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub deprecated: bool,
}

/// How an operation maps to HTTP.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpBinding {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub request_uri: String,
    pub response_code: Option<u16>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: HttpBinding,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    #[serde(default)]
    pub deprecated: bool,
    /// `{"hostPrefix": ...}` when the operation adds a host prefix.
    pub endpoint: Option<Value>,
    pub auth: Option<Vec<String>>,
    pub authtype: Option<String>,
    pub http_checksum: Option<Value>,
    pub static_context_params: Option<Value>,
    pub context_params: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: Option<String>,
    pub endpoint_prefix: Option<String>,
    pub protocol: Option<String>,
    #[serde(default)]
    pub protocols: Vec<String>,
    pub service_id: Option<String>,
    pub service_full_name: Option<String>,
    pub service_abbreviation: Option<String>,
    pub signature_version: Option<String>,
    pub signing_name: Option<String>,
    pub target_prefix: Option<String>,
    pub json_version: Option<String>,
    pub uid: Option<String>,
    pub global_endpoint: Option<String>,
    pub xml_namespace: Option<String>,
    /// Present when a JSON service also answers its former query-protocol clients.
    pub aws_query_compatible: Option<Value>,
}

/// A service's pack member, with each shape left as raw JSON until it is asked for.
#[derive(Deserialize)]
struct ModelFile<'a> {
    #[serde(borrow)]
    model: RawModel<'a>,
    #[serde(default)]
    paginators: BTreeMap<String, Value>,
    #[serde(default)]
    waiters: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawModel<'a> {
    metadata: Metadata,
    #[serde(default)]
    operations: BTreeMap<String, Operation>,
    #[serde(default, borrow)]
    shapes: HashMap<String, &'a RawValue>,
}

/// One service: its metadata, operations, shapes, paginators and waiters.
#[derive(Debug)]
pub struct ServiceModel {
    pub service_name: String,
    pub metadata: Metadata,
    pub operations: BTreeMap<String, Operation>,
    shapes: Shapes,
    pub paginators: BTreeMap<String, Value>,
    pub waiters: BTreeMap<String, Value>,
}

/// A service's shapes, each decoded from the model's JSON the first time it is asked for: a
/// request touches a few dozen of the thousands a large model has (EC2: 4,000), and decoding
/// them all would cost a first call tens of milliseconds and the process ten megabytes.
struct Shapes {
    json: String,
    by_name: HashMap<String, LazyShape>,
}

struct LazyShape {
    /// Where the shape's JSON is in `Shapes::json` (empty for shapes given decoded).
    span: Range<usize>,
    decoded: OnceLock<Option<Box<Shape>>>,
}

impl std::fmt::Debug for Shapes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shapes")
            .field("count", &self.by_name.len())
            .finish_non_exhaustive()
    }
}

impl ServiceModel {
    /// A model built from parts already decoded (tests, hand-made models).
    pub fn from_parts(
        service_name: impl Into<String>,
        metadata: Metadata,
        operations: BTreeMap<String, Operation>,
        shapes: BTreeMap<String, Shape>,
    ) -> Self {
        let by_name = shapes
            .into_iter()
            .map(|(name, shape)| {
                let lazy = LazyShape {
                    span: 0..0,
                    decoded: OnceLock::from(Some(Box::new(shape))),
                };
                (name, lazy)
            })
            .collect();
        Self {
            service_name: service_name.into(),
            metadata,
            operations,
            shapes: Shapes {
                json: String::new(),
                by_name,
            },
            paginators: BTreeMap::new(),
            waiters: BTreeMap::new(),
        }
    }

    /// Decodes a pack member, leaving the shapes for [`ServiceModel::shape`].
    fn decode(service_name: &str, json: String) -> Result<Self, ModelError> {
        let file: ModelFile = serde_json::from_str(&json)
            .map_err(|e| ModelError::Corrupt(format!("{service_name}: {e}")))?;
        let base = json.as_ptr() as usize;
        let by_name = file
            .model
            .shapes
            .into_iter()
            .map(|(name, raw)| {
                // The raw value borrows from `json`, so its address is inside it.
                let start = (raw.get().as_ptr() as usize).saturating_sub(base);
                let lazy = LazyShape {
                    span: start..start + raw.get().len(),
                    decoded: OnceLock::new(),
                };
                (name, lazy)
            })
            .collect();
        let metadata = file.model.metadata;
        let operations = file.model.operations;
        let (paginators, waiters) = (file.paginators, file.waiters);
        Ok(Self {
            service_name: service_name.to_owned(),
            metadata,
            operations,
            shapes: Shapes { json, by_name },
            paginators,
            waiters,
        })
    }

    /// A shape by name, decoded on first use (`None` for a name the model does not have).
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        let lazy = self.shapes.by_name.get(name)?;
        lazy.decoded
            .get_or_init(|| {
                let json = self.shapes.json.get(lazy.span.clone())?;
                serde_json::from_str(json).ok().map(Box::new)
            })
            .as_deref()
    }

    /// Every shape's name, in no particular order.
    pub fn shape_names(&self) -> impl Iterator<Item = &str> {
        self.shapes.by_name.keys().map(String::as_str)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, ModelError> {
    // A gzip member ends with its uncompressed size (mod 2^32): allocating exactly that
    // avoids the doubling of a growing buffer, which shows in the peak memory of a first call.
    let size = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
        .map_or(0, |tail| u32::from_le_bytes(tail) as usize);
    let mut out = Vec::with_capacity(size.min(256 << 20));
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| ModelError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// The process-wide model store.
pub struct Models {
    index: Result<ModelIndex, ModelError>,
    loaded: Mutex<HashMap<String, Arc<ServiceModel>>>,
}

impl Models {
    fn load() -> Self {
        let index = gunzip(INDEX_GZ)
            .and_then(|raw| {
                serde_json::from_slice::<IndexFile>(&raw)
                    .map_err(|e| ModelError::Corrupt(format!("index: {e}")))
            })
            .map(|f| {
                let by_name = f
                    .services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.service_name.clone(), i))
                    .collect();
                let by_uid = f
                    .services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.uid.clone(), i))
                    .collect();
                ModelIndex {
                    source: f.source,
                    services: f.services,
                    by_name,
                    by_uid,
                }
            });
        Self {
            index,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub fn index(&self) -> Result<&ModelIndex, ModelError> {
        self.index.as_ref().map_err(Clone::clone)
    }

    /// The model of a service by botocore name, decoded on first use and kept.
    ///
    /// Documentation is bundled apart (it is most of a large model's size and requests never
    /// need it); [`Models::docs`] decodes it on demand.
    pub fn service(&self, service_name: &str) -> Result<Arc<ServiceModel>, ModelError> {
        if let Ok(loaded) = self.loaded.lock()
            && let Some(m) = loaded.get(service_name)
        {
            return Ok(m.clone());
        }
        let raw = self.pack_member(service_name, PACK, |e| (e.offset, e.length))?;
        let json = String::from_utf8(raw)
            .map_err(|e| ModelError::Corrupt(format!("{service_name}: {e}")))?;
        let model = Arc::new(ServiceModel::decode(service_name, json)?);
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(service_name.to_owned(), model.clone());
        }
        Ok(model)
    }

    /// The documentation of a service's operations and shapes, decoded afresh on each call
    /// (help pages and reference pages are rare; keeping it would double a model's memory).
    pub fn docs(&self, service_name: &str) -> Result<ServiceDocs, ModelError> {
        let raw = self.pack_member(service_name, DOCS_PACK, |e| (e.docs_offset, e.docs_length))?;
        let file: DocsFile = serde_json::from_slice(&raw)
            .map_err(|e| ModelError::Corrupt(format!("{service_name} documentation: {e}")))?;
        Ok(ServiceDocs::from(file))
    }

    /// A service's uncompressed member of the model pack or of the documentation pack.
    ///
    /// Each pack is named only by its caller, so a program that never reads documentation
    /// links no documentation pack (8 MB of a Lambda function's zip).
    fn pack_member(
        &self,
        service_name: &str,
        pack: &'static [u8],
        place: fn(&ServiceEntry) -> (usize, usize),
    ) -> Result<Vec<u8>, ModelError> {
        let entry = self
            .index()?
            .service(service_name)
            .ok_or_else(|| ModelError::UnknownService(service_name.to_owned()))?;
        let (offset, length) = place(entry);
        let member = pack
            .get(offset..offset + length)
            .ok_or_else(|| ModelError::Corrupt(format!("{service_name}: outside the pack")))?;
        gunzip(member)
    }
}

/// The documentation (HTML, as the models carry it) of one service.
#[derive(Debug, Default)]
pub struct ServiceDocs {
    /// The service's own description.
    pub service: Option<String>,
    operations: HashMap<String, String>,
    shapes: HashMap<String, ShapeDocs>,
}

#[derive(Debug, Default)]
struct ShapeDocs {
    documentation: Option<String>,
    members: HashMap<String, String>,
}

impl ServiceDocs {
    pub fn operation(&self, operation: &str) -> Option<&str> {
        self.operations.get(operation).map(String::as_str)
    }

    pub fn shape(&self, shape: &str) -> Option<&str> {
        self.shapes.get(shape)?.documentation.as_deref()
    }

    /// A structure member's documentation or, where the member has none, that of the shape
    /// it refers to.
    pub fn member(&self, structure: &str, member: &str, target: &str) -> Option<&str> {
        self.shapes
            .get(structure)
            .and_then(|s| s.members.get(member))
            .map(String::as_str)
            .or_else(|| self.shape(target))
    }
}

/// A member of the documentation pack (empty entries are left out by the generator).
#[derive(Deserialize)]
struct DocsFile {
    documentation: Option<String>,
    #[serde(default)]
    operations: HashMap<String, String>,
    #[serde(default)]
    shapes: HashMap<String, DocumentedShape>,
}

#[derive(Deserialize)]
struct DocumentedShape {
    documentation: Option<String>,
    #[serde(default)]
    members: HashMap<String, String>,
}

impl From<DocsFile> for ServiceDocs {
    fn from(file: DocsFile) -> Self {
        let shapes = file
            .shapes
            .into_iter()
            .map(|(name, shape)| {
                let docs = ShapeDocs {
                    documentation: shape.documentation,
                    members: shape.members,
                };
                (name, docs)
            })
            .collect();
        Self {
            service: file.documentation.filter(|d| !d.is_empty()),
            operations: file.operations,
            shapes,
        }
    }
}

/// The bundled models, loaded on first call.
pub fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(Models::load)
}

/// One operation's documentation as plain text, for offline search.
#[derive(Debug, Clone)]
pub struct OperationDoc {
    pub service: usize,
    pub operation: String,
    pub text: String,
}

/// The plain-text documentation of every operation (cut to a few thousand characters).
pub fn api_docs() -> Result<&'static [OperationDoc], ModelError> {
    static DOCS: OnceLock<Result<Vec<OperationDoc>, ModelError>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let raw = gunzip(API_DOCS_GZ)?;
        #[derive(Deserialize)]
        struct File {
            operations: Vec<(usize, String, String)>,
        }
        let f: File = serde_json::from_slice(&raw)
            .map_err(|e| ModelError::Corrupt(format!("api docs: {e}")))?;
        Ok(f.operations
            .into_iter()
            .map(|(service, operation, text)| OperationDoc {
                service,
                operation,
                text,
            })
            .collect())
    })
    .as_deref()
    .map_err(Clone::clone)
}

/// Calls `visit(service index, operation, plain-text documentation)` for every operation's
/// documentation, streaming it from the bundle without keeping it: for building an index
/// that needs a little of each (the whole corpus is several megabytes once decoded).
pub fn for_each_api_doc(visit: impl FnMut(usize, &str, &str)) -> Result<(), ModelError> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    struct FileSeed<F>(F);
    struct OperationsSeed<'f, F>(&'f mut F);

    impl<'de, F: FnMut(usize, &str, &str)> Visitor<'de> for FileSeed<F> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the API documentation corpus")
        }
        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if key == "operations" {
                    map.next_value_seed(OperationsSeed(&mut self.0))?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }

    impl<'de, F: FnMut(usize, &str, &str)> DeserializeSeed<'de> for OperationsSeed<'_, F> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de, F: FnMut(usize, &str, &str)> Visitor<'de> for OperationsSeed<'_, F> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of [service, operation, text]")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some((service, operation, text)) =
                seq.next_element::<(usize, String, String)>()?
            {
                (self.0)(service, &operation, &text);
            }
            Ok(())
        }
    }

    let reader = std::io::BufReader::new(GzDecoder::new(API_DOCS_GZ));
    let mut de = serde_json::Deserializer::from_reader(reader);
    de.deserialize_map(FileSeed(visit))
        .map_err(|e| ModelError::Corrupt(format!("api docs: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_covers_every_bundled_service() {
        let index = models().index().expect("index");
        assert!(index.services.len() >= 400);
        assert!(index.operation_count() >= 18_000);
        let ec2 = index.service("ec2").expect("ec2");
        assert_eq!(ec2.uid, "ec2-2016-11-15");
        assert_eq!(ec2.protocol.as_deref(), Some("ec2"));
        assert_eq!(
            ec2.api_reference_url("DescribeVpcs"),
            "https://docs.aws.amazon.com/goto/WebAPI/ec2-2016-11-15/DescribeVpcs"
        );
        assert!(
            index
                .with_operation("DescribeVpcs")
                .any(|s| s.service_name == "ec2")
        );
    }

    #[test]
    fn services_decode_lazily_with_shapes_in_model_order() {
        let m = models().service("dynamodb").expect("dynamodb");
        let op = m.operation("PutItem").expect("PutItem");
        assert_eq!(op.http.method, "POST");
        let input = m
            .shape(&op.input.as_ref().expect("input").shape)
            .expect("shape");
        let names: Vec<&str> = input.members.keys().map(String::as_str).collect();
        assert_eq!(names[..2], ["TableName", "Item"]);
        assert!(input.required.contains(&"TableName".to_owned()));
        assert!(m.paginators.contains_key("Scan"));
        assert!(Arc::ptr_eq(
            &m,
            &models().service("dynamodb").expect("again")
        ));
        let docs = models().docs("dynamodb").expect("docs");
        assert!(docs.operation("PutItem").is_some_and(|d| d.contains("<p>")));
        assert!(docs.service.is_some());
        let table_name = docs
            .member("PutItemInput", "TableName", "TableArn")
            .expect("member docs");
        assert!(table_name.contains("table"), "{table_name}");
        // A member without documentation of its own falls back to its target shape's.
        assert_eq!(
            docs.member("PutItemInput", "NoSuchMember", "AttributeValue"),
            docs.shape("AttributeValue")
        );
        assert!(docs.shape("AttributeValue").is_some());
        assert_eq!(
            docs.member("PutItemInput", "NoSuchMember", "NoSuchShape"),
            None
        );
        assert!(matches!(
            models().service("nope"),
            Err(ModelError::UnknownService(_))
        ));
    }

    #[test]
    fn every_service_model_decodes() {
        let index = models().index().expect("index");
        for s in &index.services {
            let m = models().service(&s.service_name).expect("decodes");
            assert_eq!(m.operations.len(), s.operations.len(), "{}", s.service_name);
            // Shapes decode on demand: each one must.
            for name in m.shape_names() {
                assert!(m.shape(name).is_some(), "{}: shape {name}", s.service_name);
            }
        }
        assert_eq!(api_docs().expect("docs").len(), index.operation_count());
        let mut streamed = 0;
        for_each_api_doc(|service, operation, text| {
            let kept = &api_docs().expect("docs")[streamed];
            assert_eq!(
                (service, operation, text),
                (kept.service, kept.operation.as_str(), kept.text.as_str())
            );
            streamed += 1;
        })
        .expect("streams");
        assert_eq!(streamed, index.operation_count());
    }
}
