//! The API reference offline: which operation a reference URL names, its page rendered
//! from the service model, and its related operations.

use aws_models::{ModelIndex, ServiceDocs, ServiceEntry, ServiceModel, Shape, models};
use url::Url;

/// An operation an API-reference URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPage {
    pub service: String,
    pub operation: String,
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect::<String>()
        .replace("amazon", "")
        .replace("aws", "")
        .replace("service", "")
}

/// Reads `goto/WebAPI/<uid>/<Operation>` links and `.../API_<Operation>.html` pages.
/// `Err` carries why a reference-looking URL matches no single operation.
pub fn resolve(url: &Url, index: &ModelIndex) -> Result<Option<ApiPage>, String> {
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    if let ["goto", "WebAPI", uid, operation, ..] = segments.as_slice() {
        let service = index
            .by_uid(uid)
            .ok_or_else(|| format!("no bundled service model has uid {uid}"))?;
        return match service.operations.iter().find(|o| o == operation) {
            Some(op) => Ok(Some(ApiPage {
                service: service.service_name.clone(),
                operation: op.clone(),
            })),
            None => Err(format!(
                "{} has no operation {operation}",
                service.full_name
            )),
        };
    }
    let Some(last) = segments.last() else {
        return Ok(None);
    };
    let Some(operation) = last
        .strip_prefix("API_")
        .and_then(|s| s.strip_suffix(".html"))
    else {
        return Ok(None);
    };
    // S3 Control pages are named API_control_<Operation>.html.
    let operation = operation.strip_prefix("control_").unwrap_or(operation);
    let candidates: Vec<&ServiceEntry> = index.with_operation(operation).collect();
    let slug = normalise(segments.first().copied().unwrap_or_default());
    let pick = match candidates.as_slice() {
        [] => return Err(format!("no AWS service model has an operation named {operation}")),
        [only] => *only,
        many => many
            .iter()
            .copied()
            .find(|s| {
                [&s.service_name, &s.endpoint_prefix, &s.service_id]
                    .iter()
                    .map(|n| normalise(n))
                    .any(|n| !n.is_empty() && !slug.is_empty() && (slug.contains(&n) || n.contains(&slug)))
            })
            .ok_or_else(|| {
                format!(
                    "{operation} exists in several services ({}); use a goto/WebAPI/<uid>/{operation} link to choose",
                    many.iter().map(|s| s.uid.as_str()).collect::<Vec<_>>().join(", ")
                )
            })?,
    };
    Ok(Some(ApiPage {
        service: pick.service_name.clone(),
        operation: operation.to_owned(),
    }))
}

fn html_to_md(html: &str) -> String {
    let md = htmd::convert(html).unwrap_or_else(|_| html.to_owned());
    md.trim().to_owned()
}

fn type_name(model: &ServiceModel, shape_name: &str) -> String {
    match model.shape(shape_name) {
        Some(s) if s.kind == "list" => {
            let member = s.member.as_ref().map(|m| type_name(model, &m.shape));
            format!("Array of {}", member.unwrap_or_else(|| "values".into()))
        }
        Some(s) if s.kind == "map" => "Map".into(),
        Some(s) if s.kind == "structure" => format!("{shape_name} object"),
        Some(s) => s.kind.clone(),
        None => shape_name.to_owned(),
    }
}

fn constraints(shape: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(min) = shape.min {
        out.push(format!("minimum {min}"));
    }
    if let Some(max) = shape.max {
        out.push(format!("maximum {max}"));
    }
    if let Some(p) = &shape.pattern {
        out.push(format!("pattern `{p}`"));
    }
    if let Some(values) = &shape.enum_values {
        out.push(format!("valid values: {}", values.join(" | ")));
    }
    out
}

fn members_section(
    out: &mut String,
    model: &ServiceModel,
    docs: &ServiceDocs,
    shape_name: Option<&str>,
    empty: &str,
) {
    let Some((shape_name, shape)) = shape_name.and_then(|n| Some((n, model.shape(n)?))) else {
        out.push_str(empty);
        out.push_str("\n\n");
        return;
    };
    if shape.members.is_empty() {
        out.push_str(empty);
        out.push_str("\n\n");
        return;
    }
    for (name, member) in &shape.members {
        let required = if shape.required.contains(name) {
            "Required"
        } else {
            "Optional"
        };
        out.push_str(&format!(
            "- **{name}** ({}, {required})",
            type_name(model, &member.shape)
        ));
        if let Some(doc) = docs.member(shape_name, name, &member.shape) {
            let doc = html_to_md(doc).replace('\n', " ");
            out.push_str(": ");
            out.push_str(doc.trim());
        }
        if let Some(target) = model.shape(&member.shape) {
            let c = constraints(target);
            if !c.is_empty() {
                out.push_str(&format!(" Constraints: {}.", c.join("; ")));
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

/// The operation's reference page as markdown.
pub fn render(page: &ApiPage, why_offline: &str) -> Result<String, String> {
    let model = models().service(&page.service).map_err(|e| e.to_string())?;
    let docs = models().docs(&page.service).map_err(|e| e.to_string())?;
    let op = model
        .operation(&page.operation)
        .ok_or_else(|| format!("{} has no operation {}", page.service, page.operation))?;
    let full_name = model
        .metadata
        .service_full_name
        .clone()
        .unwrap_or_else(|| page.service.clone());
    let version = models()
        .index()
        .ok()
        .and_then(|i| {
            i.source
                .pointer("/packages/botocore")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let mut out = format!(
        "# {}\n\n*{full_name} API reference. Rendered offline from the service model (botocore {version}) because {why_offline}; the published page may have more examples.*\n\n",
        page.operation
    );
    if let Some(doc) = docs.operation(&page.operation) {
        out.push_str(&html_to_md(doc));
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "HTTP: `{} {}` (protocol {}).\n\n",
        op.http.method,
        op.http.request_uri,
        model.metadata.protocol.as_deref().unwrap_or("?")
    ));
    out.push_str("## Request Parameters\n\n");
    members_section(
        &mut out,
        &model,
        &docs,
        op.input.as_ref().map(|r| r.shape.as_str()),
        "The request has no parameters.",
    );
    out.push_str("## Response Elements\n\n");
    members_section(
        &mut out,
        &model,
        &docs,
        op.output.as_ref().map(|r| r.shape.as_str()),
        "The response has no body elements.",
    );
    out.push_str("## Errors\n\n");
    if op.errors.is_empty() {
        out.push_str("No operation-specific errors are modelled; common errors apply.\n");
    }
    for err in &op.errors {
        let shape = model.shape(&err.shape);
        let status = shape
            .and_then(|s| s.error.as_ref())
            .and_then(|e| e.get("httpStatusCode"))
            .and_then(|c| c.as_u64())
            .map(|c| format!(" (HTTP {c})"))
            .unwrap_or_default();
        out.push_str(&format!("- **{}**{status}", err.shape));
        if let Some(doc) = docs.shape(&err.shape) {
            out.push_str(": ");
            out.push_str(html_to_md(doc).replace('\n', " ").trim());
        }
        out.push('\n');
    }
    Ok(out)
}

/// Splits `DescribeVpcs` into `["Describe", "Vpcs"]`.
fn camel_words(s: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for c in s.chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(c.to_string());
        } else if let Some(w) = words.last_mut() {
            w.push(c);
        }
    }
    words
}

/// Operations of the same service that act on the same resource, best first.
pub fn related_operations(page: &ApiPage, limit: usize) -> Vec<String> {
    let Ok(index) = models().index() else {
        return Vec::new();
    };
    let Some(service) = index.service(&page.service) else {
        return Vec::new();
    };
    let words = camel_words(&page.operation);
    let noun: String = words.iter().skip(1).cloned().collect();
    let stem = noun.trim_end_matches('s').to_owned();
    // Same resource first (CreateVpc), then its attributes (ModifyVpcAttribute), then
    // sub-resources (CreateVpcEndpoint), then
    // operations that merely mention it; shorter names first within each group.
    let mut scored: Vec<(usize, usize, &String)> = service
        .operations
        .iter()
        .filter(|o| **o != page.operation)
        .filter_map(|o| {
            let rest: String = camel_words(o).into_iter().skip(1).collect();
            if stem.is_empty() {
                return None;
            }
            let rank = if rest.trim_end_matches('s') == stem {
                0
            } else if rest.trim_end_matches('s') == format!("{stem}Attribute") {
                // Attributes belong to the same resource.
                1
            } else if rest.starts_with(&stem) {
                2
            } else if rest.contains(&stem) {
                3
            } else {
                return None;
            };
            Some((rank, rest.len(), o))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, o)| o.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> &'static ModelIndex {
        models().index().expect("index")
    }

    #[test]
    fn reference_urls_resolve_to_operations() {
        let cases = [
            (
                "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html",
                "ec2",
                "DescribeVpcs",
            ),
            (
                "https://docs.aws.amazon.com/goto/WebAPI/ec2-2016-11-15/DescribeVpcs",
                "ec2",
                "DescribeVpcs",
            ),
            (
                "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListTables.html",
                "dynamodb",
                "ListTables",
            ),
        ];
        for (url, service, op) in cases {
            let page = resolve(&Url::parse(url).expect("url"), index())
                .expect("ok")
                .expect("api page");
            assert_eq!(
                (page.service.as_str(), page.operation.as_str()),
                (service, op),
                "{url}"
            );
        }
        let plain =
            Url::parse("https://docs.aws.amazon.com/lambda/latest/dg/welcome.html").expect("url");
        assert_eq!(resolve(&plain, index()).expect("ok"), None);
        let unknown = Url::parse(
            "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNothing.html",
        )
        .expect("url");
        assert!(resolve(&unknown, index()).is_err());
    }

    #[test]
    fn rendered_page_has_parameters_elements_and_errors() {
        let page = ApiPage {
            service: "ec2".into(),
            operation: "DescribeVpcs".into(),
        };
        let md = render(&page, "live reading is disabled").expect("render");
        assert!(md.starts_with("# DescribeVpcs"));
        assert!(md.contains("## Request Parameters"));
        assert!(md.contains("**VpcIds**"));
        assert!(md.contains("## Response Elements"));
        assert!(md.contains("**Vpcs**"));
        assert!(md.contains("Rendered offline from the service model"));
        let related = related_operations(&page, 10);
        assert!(related.contains(&"CreateVpc".to_owned()), "{related:?}");
        assert!(related.contains(&"DeleteVpc".to_owned()), "{related:?}");
    }
}
