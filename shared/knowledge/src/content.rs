//! The skills library over MCP resources and prompts.
//!
//! Every file of every skill is a resource `skill://<name>/<path>` (`skill://s3-bucket-setup/SKILL.md`,
//! `skill://s3-bucket-setup/references/bucket-policies.md`). A few common workflows are
//! prompts: the user's request filled in from the arguments, followed by the matching
//! skill's `SKILL.md` as an embedded resource.

use std::sync::Arc;

use mcp_protocol::{
    ContentError, FilledPrompt, PromptArgument, PromptDescriptor, PromptMessage, PromptProvider,
    ResourceDescriptor, ResourceProvider, ResourceText,
};
use serde_json::{Map, Value};

use crate::skills::{Skill, SkillLibrary};
use crate::suggest::closest;

const SCHEME: &str = "skill://";

/// Serves the skills library as resources and the workflow prompts.
pub struct SkillContent {
    pub library: Arc<SkillLibrary>,
}

/// The URI of one file of a skill.
pub fn skill_uri(skill: &str, path: &str) -> String {
    format!("{SCHEME}{skill}/{path}")
}

fn mime_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("md") => "text/markdown",
        Some("sh") => "text/x-shellscript",
        Some("py") => "text/x-python",
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        _ => "text/plain",
    }
}

fn describe(skill: &Skill, path: &str, text: &str) -> ResourceDescriptor {
    let (name, description) = if path == "SKILL.md" {
        (skill.name.clone(), skill.description.clone())
    } else {
        (
            format!("{}/{path}", skill.name),
            // Short: the skill's SKILL.md entry carries its description.
            format!(
                "{path} of the skill {} (start from {})",
                skill.name,
                skill_uri(&skill.name, "SKILL.md")
            ),
        )
    };
    ResourceDescriptor {
        uri: skill_uri(&skill.name, path),
        name,
        title: None,
        description: Some(description),
        mime_type: mime_type(path).into(),
        size: Some(text.len() as u64),
    }
}

impl SkillContent {
    fn read_file(&self, skill: &str, path: &str) -> Result<ResourceText, ContentError> {
        let Some(found) = self.library.get(skill) else {
            let close = closest(skill, self.library.iter().map(|s| s.name.as_str()), 5);
            let hint = if close.is_empty() {
                "resources/list shows every skill".to_owned()
            } else {
                format!("did you mean: {}?", close.join(", "))
            };
            return Err(ContentError::NotFound(format!(
                "Unknown skill '{skill}' in the resource URI; {hint}"
            )));
        };
        let Some(text) = found.files.get(path) else {
            let files: Vec<String> = found.files.keys().map(|p| skill_uri(skill, p)).collect();
            return Err(ContentError::NotFound(format!(
                "Skill {skill} has no file '{path}'. Its resources: {}",
                files.join(", ")
            )));
        };
        Ok(ResourceText {
            uri: skill_uri(skill, path),
            mime_type: mime_type(path).into(),
            text: text.to_string(),
        })
    }
}

impl ResourceProvider for SkillContent {
    fn list(&self) -> Vec<ResourceDescriptor> {
        self.library
            .iter()
            .flat_map(|skill| {
                skill
                    .files
                    .iter()
                    .map(|(path, text)| describe(skill, path, text))
            })
            .collect()
    }

    fn read(&self, uri: &str) -> Result<ResourceText, ContentError> {
        let parsed = uri
            .strip_prefix(SCHEME)
            .and_then(|rest| rest.split_once('/'))
            .filter(|(skill, path)| !skill.is_empty() && !path.is_empty());
        let Some((skill, path)) = parsed else {
            return Err(ContentError::NotFound(format!(
                "Unknown resource URI '{uri}': skill resources are skill://<skill-name>/SKILL.md or skill://<skill-name>/<file>, e.g. skill://s3-bucket-setup/SKILL.md (resources/list shows them all)"
            )));
        };
        self.read_file(skill, path)
    }
}

/// One workflow prompt: a request template over the arguments and the skill it draws on.
struct Workflow {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    skill: &'static str,
    /// (name, description, required)
    arguments: &'static [(&'static str, &'static str, bool)],
    /// The request; `{arg}` is replaced by the argument, or by the `default` of
    /// [`fill`] when an optional argument is absent.
    template: &'static str,
}

const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "secure-s3-bucket",
        title: "Set up a secure S3 bucket",
        description: "Create an S3 bucket with encryption, blocked public access, versioning and a policy that requires TLS.",
        skill: "s3-bucket-setup",
        arguments: &[
            ("bucket_name", "Name of the bucket to create", true),
            ("region", "AWS Region for the bucket", false),
            (
                "purpose",
                "What the bucket will hold (shapes lifecycle and access)",
                false,
            ),
        ],
        template: "Set up a secure S3 bucket named {bucket_name} in {region}. It will hold: {purpose}. Follow the skill below: encryption, Block Public Access, versioning, a TLS-only bucket policy and a lifecycle rule that fits, then verify each setting.",
    },
    Workflow {
        name: "troubleshoot-lambda",
        title: "Troubleshoot a Lambda function",
        description: "Find why a Lambda function fails, times out or is throttled, from its configuration, metrics and logs.",
        skill: "lambda-troubleshooting",
        arguments: &[
            ("function_name", "Name or ARN of the function", true),
            (
                "symptom",
                "What goes wrong (error message, timeouts, throttling...)",
                false,
            ),
            ("region", "AWS Region of the function", false),
        ],
        template: "Troubleshoot the Lambda function {function_name} in {region}. Symptom: {symptom}. Follow the skill below: read the configuration, metrics and recent logs, find the cause, then propose and verify a fix.",
    },
    Workflow {
        name: "investigate-cloudformation-failure",
        title: "Investigate a CloudFormation failure",
        description: "Find the root cause of a failed or rolled-back CloudFormation stack operation.",
        skill: "cloudformation-troubleshooting",
        arguments: &[
            ("stack_name", "Name or ID of the stack", true),
            ("region", "AWS Region of the stack", false),
        ],
        template: "Investigate why the CloudFormation stack {stack_name} in {region} failed. Follow the skill below: find the first failed resource event, explain its root cause and say how to recover the stack.",
    },
    Workflow {
        name: "least-privilege-iam-policy",
        title: "Write a least-privilege IAM policy",
        description: "Write an IAM policy that grants only the actions and resources a workload needs.",
        skill: "iam-least-privilege-policies",
        arguments: &[
            (
                "workload",
                "What the principal must do (e.g. 'read objects under s3://b/in/ and write to table T')",
                true,
            ),
            (
                "principal",
                "Role or user that will carry the policy",
                false,
            ),
        ],
        template: "Write a least-privilege IAM policy for {principal} so that it can: {workload}. Follow the skill below: exact actions, resource ARNs and conditions; validate the policy before attaching it.",
    },
];

/// What an absent optional argument reads as in the request.
const UNSPECIFIED: &str = "(not specified: ask me or use the configured default)";

fn descriptor(w: &Workflow) -> PromptDescriptor {
    PromptDescriptor {
        name: w.name.into(),
        title: Some(w.title.into()),
        description: format!(
            "{} Draws on the skill {}.",
            w.description,
            skill_uri(w.skill, "SKILL.md")
        ),
        arguments: w
            .arguments
            .iter()
            .map(|(name, description, required)| PromptArgument {
                name: (*name).into(),
                description: (*description).into(),
                required: *required,
            })
            .collect(),
    }
}

/// Fills the template; refuses missing required arguments and unknown ones.
fn fill(w: &Workflow, arguments: &Map<String, Value>) -> Result<String, ContentError> {
    let known: Vec<&str> = w.arguments.iter().map(|a| a.0).collect();
    if let Some(unknown) = arguments.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ContentError::InvalidArguments(format!(
            "prompt {} has no argument '{unknown}'; its arguments: {}",
            w.name,
            known.join(", ")
        )));
    }
    let mut text = w.template.to_owned();
    for (name, _, required) in w.arguments {
        let value = match arguments.get(*name) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            None | Some(Value::Null) | Some(Value::String(_)) if !required => UNSPECIFIED.into(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(ContentError::InvalidArguments(format!(
                    "prompt {} needs the argument '{name}'",
                    w.name
                )));
            }
            Some(_) => {
                return Err(ContentError::InvalidArguments(format!(
                    "argument '{name}' of prompt {} must be a string",
                    w.name
                )));
            }
        };
        text = text.replace(&format!("{{{name}}}"), &value);
    }
    Ok(text)
}

impl PromptProvider for SkillContent {
    fn list(&self) -> Vec<PromptDescriptor> {
        WORKFLOWS
            .iter()
            .filter(|w| self.library.get(w.skill).is_some())
            .map(descriptor)
            .collect()
    }

    fn get(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<FilledPrompt, ContentError> {
        let offered: Vec<&Workflow> = WORKFLOWS
            .iter()
            .filter(|w| self.library.get(w.skill).is_some())
            .collect();
        let Some(w) = offered.iter().find(|w| w.name == name) else {
            let names: Vec<&str> = offered.iter().map(|w| w.name).collect();
            return Err(ContentError::NotFound(format!(
                "Unknown prompt '{name}'. Available prompts: {}",
                names.join(", ")
            )));
        };
        let request = fill(w, arguments)?;
        let skill = self.read_file(w.skill, "SKILL.md")?;
        Ok(FilledPrompt {
            description: w.title.into(),
            messages: vec![PromptMessage::Text(request), PromptMessage::Resource(skill)],
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn content() -> SkillContent {
        SkillContent {
            library: Arc::new(SkillLibrary::bundled()),
        }
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_skill_file_is_listed_and_readable() {
        let c = content();
        let listed = ResourceProvider::list(&c);
        let files: usize = c.library.iter().map(|s| s.files.len()).sum();
        assert_eq!(listed.len(), files);
        let skill_md = listed
            .iter()
            .find(|r| r.uri == "skill://s3-bucket-setup/SKILL.md")
            .expect("listed");
        assert_eq!(skill_md.name, "s3-bucket-setup");
        assert_eq!(skill_md.mime_type, "text/markdown");
        for r in &listed {
            let read = c.read(&r.uri).expect("readable");
            assert_eq!(read.text.len() as u64, r.size.unwrap_or_default());
        }
        let reference = c
            .read("skill://s3-bucket-setup/references/bucket-policies.md")
            .expect("reference");
        assert!(!reference.text.is_empty());
    }

    #[test]
    fn unknown_uris_name_the_valid_forms() {
        let c = content();
        let e = c.read("https://example.com/x").unwrap_err();
        assert!(
            e.to_string().contains("skill://<skill-name>/SKILL.md"),
            "{e}"
        );
        let e = c.read("skill://s3-bucket-setp/SKILL.md").unwrap_err();
        assert!(e.to_string().contains("s3-bucket-setup"), "{e}");
        let e = c.read("skill://s3-bucket-setup/nope.md").unwrap_err();
        assert!(
            e.to_string().contains("skill://s3-bucket-setup/SKILL.md"),
            "{e}"
        );
        assert!(c.read("skill://s3-bucket-setup/").is_err());
    }

    #[test]
    fn workflows_draw_on_existing_skills() {
        let c = content();
        assert_eq!(PromptProvider::list(&c).len(), WORKFLOWS.len());
    }

    #[test]
    fn prompt_fills_arguments_and_embeds_the_skill() {
        let c = content();
        let p = c
            .get(
                "secure-s3-bucket",
                &args(json!({"bucket_name": "logs-1", "region": "eu-west-1"})),
            )
            .expect("filled");
        let PromptMessage::Text(text) = &p.messages[0] else {
            panic!("text first")
        };
        assert!(
            text.contains("logs-1") && text.contains("eu-west-1"),
            "{text}"
        );
        assert!(text.contains(UNSPECIFIED), "{text}");
        assert!(!text.contains('{'), "{text}");
        let PromptMessage::Resource(r) = &p.messages[1] else {
            panic!("resource second")
        };
        assert_eq!(r.uri, "skill://s3-bucket-setup/SKILL.md");
    }

    #[test]
    fn prompt_refuses_bad_arguments_and_names() {
        let c = content();
        let e = c.get("secure-s3-bucket", &Map::new()).unwrap_err();
        assert!(e.to_string().contains("bucket_name"), "{e}");
        let e = c
            .get(
                "secure-s3-bucket",
                &args(json!({"bucket_name": "b", "colour": "red"})),
            )
            .unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = c
            .get("secure-s3-bucket", &args(json!({"bucket_name": 3})))
            .unwrap_err();
        assert!(e.to_string().contains("string"), "{e}");
        let e = c.get("nope", &Map::new()).unwrap_err();
        assert!(e.to_string().contains("troubleshoot-lambda"), "{e}");
    }
}
