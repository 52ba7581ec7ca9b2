//! Skills: folders with a `SKILL.md` (YAML front matter `name`, `description`) and optional
//! `references/`, `scripts/` and `assets/`. The bundled library is embedded from
//! `infra/skills/`; an organisation's folder may add skills and wins on equal names.
//!
//! Also `aws___retrieve_skill`, which loads a skill's `SKILL.md` or one of its files.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use include_dir::{Dir, include_dir};
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::suggest::closest;

static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../infra/skills");

const FRONT_MATTER_KEYS: [&str; 6] = [
    "name",
    "description",
    "license",
    "allowed-tools",
    "metadata",
    "compatibility",
];
/// Largest file read from an organisation's skills folder.
const MAX_SKILL_FILE_BYTES: u64 = 1024 * 1024;

/// One loaded skill.
#[derive(Debug, Clone)]
pub struct Skill {
    pub name: String,
    pub description: String,
    /// `metadata.type`: decision-guide, procedure, troubleshooting or sdk-guide.
    pub kind: Option<String>,
    /// `metadata.plugin`: the plugin that ships it.
    pub plugin: Option<String>,
    /// Where it came from: `bundled` or the organisation folder's path.
    pub origin: String,
    /// Every file, by its path inside the skill folder (`SKILL.md`, `references/x.md`).
    pub files: BTreeMap<String, Cow<'static, str>>,
}

impl Skill {
    pub fn body(&self) -> &str {
        self.files.get("SKILL.md").map(|c| c.as_ref()).unwrap_or("")
    }
}

/// Splits `---\n<yaml>\n---\n<body>`.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let end = rest.find("\n---")?;
    let yaml = &rest[..end];
    let after = &rest[end + 4..];
    let body = after.split_once('\n').map(|(_, b)| b).unwrap_or("");
    Some((yaml, body))
}

#[derive(Debug, Deserialize)]
struct FrontMatter {
    name: String,
    description: String,
    #[serde(default)]
    compatibility: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, serde_yaml_ng::Value>>,
}

/// Checks a skill folder against the format rules; returns every problem found.
pub fn validate(folder: &str, files: &BTreeMap<String, Cow<'static, str>>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(skill_md) = files.get("SKILL.md") else {
        return vec![format!("{folder}: no SKILL.md")];
    };
    let Some((yaml, body)) = split_front_matter(skill_md) else {
        return vec![format!(
            "{folder}/SKILL.md: no front matter (it must start with a --- line and end it with another)"
        )];
    };
    match serde_yaml_ng::from_str::<serde_yaml_ng::Mapping>(yaml) {
        Ok(map) => {
            for key in map.keys() {
                let k = key.as_str().unwrap_or("");
                if !FRONT_MATTER_KEYS.contains(&k) {
                    problems.push(format!(
                        "{folder}/SKILL.md: unknown front matter key '{k}' (allowed: {})",
                        FRONT_MATTER_KEYS.join(", ")
                    ));
                }
            }
        }
        Err(e) => problems.push(format!("{folder}/SKILL.md: front matter is not YAML: {e}")),
    }
    match serde_yaml_ng::from_str::<FrontMatter>(yaml) {
        Ok(fm) => {
            if let Err(why) = check_name(&fm.name) {
                problems.push(format!("{folder}/SKILL.md: name '{}' {why}", fm.name));
            }
            if fm.name != folder {
                problems.push(format!(
                    "{folder}/SKILL.md: name '{}' must equal the folder name",
                    fm.name
                ));
            }
            let d = fm.description.trim().chars().count();
            if d == 0 || d > 1024 {
                problems.push(format!(
                    "{folder}/SKILL.md: description has {d} characters (1-1024 allowed)"
                ));
            }
            if let Some(c) = &fm.compatibility
                && c.chars().count() > 500
            {
                problems.push(format!(
                    "{folder}/SKILL.md: compatibility longer than 500 characters"
                ));
            }
        }
        Err(e) => problems.push(format!(
            "{folder}/SKILL.md: front matter needs string fields name and description: {e}"
        )),
    }
    if body.trim().is_empty() {
        problems.push(format!("{folder}/SKILL.md: the body is empty"));
    }
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".md")) {
        for link in relative_links(text) {
            let base = Path::new(path).parent().unwrap_or(Path::new(""));
            let target = normalise_path(&base.join(link));
            if !target.as_ref().is_some_and(|t| files.contains_key(t)) {
                problems.push(format!(
                    "{folder}/{path}: link to '{link}' does not resolve to a file of this skill"
                ));
            }
        }
    }
    problems
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be 1-64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only a-z, 0-9 and hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err("must not start or end with a hyphen or contain '--'");
    }
    Ok(())
}

/// Targets of markdown links `](target)` that point inside the skill.
fn relative_links(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        let target = target.split_whitespace().next().unwrap_or("");
        let external = target.is_empty()
            || target.contains("://")
            || target.starts_with("mailto:")
            || target.starts_with('#');
        if !external {
            out.push(target);
        }
        rest = &rest[end..];
    }
    out
}

/// Resolves `.` and `..` without touching the file system; `None` if it climbs out.
fn normalise_path(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(p.to_str()?.to_owned()),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

fn collect_embedded(
    dir: &'static Dir<'static>,
    files: &mut BTreeMap<String, Cow<'static, str>>,
    root: &Path,
) {
    for f in dir.files() {
        if let (Some(text), Ok(rel)) = (f.contents_utf8(), f.path().strip_prefix(root))
            && let Some(rel) = rel.to_str()
        {
            files.insert(rel.replace('\\', "/"), Cow::Borrowed(text));
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, files, root);
    }
}

fn collect_disk(
    dir: &Path,
    root: &Path,
    files: &mut BTreeMap<String, Cow<'static, str>>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.file_type()?;
        let path = entry.path();
        // Symlinks are skipped so an organisation folder cannot pull in files from elsewhere.
        if meta.is_symlink() {
            continue;
        }
        if meta.is_dir() {
            collect_disk(&path, root, files)?;
        } else if meta.is_file()
            && entry.metadata()?.len() <= MAX_SKILL_FILE_BYTES
            && let (Ok(text), Ok(rel)) = (std::fs::read_to_string(&path), path.strip_prefix(root))
            && let Some(rel) = rel.to_str()
        {
            files.insert(rel.to_owned(), Cow::Owned(text));
        }
    }
    Ok(())
}

fn build_skill(
    folder: &str,
    origin: &str,
    files: BTreeMap<String, Cow<'static, str>>,
) -> Result<Skill, Vec<String>> {
    let problems = validate(folder, &files);
    if !problems.is_empty() {
        return Err(problems);
    }
    let (yaml, _) = split_front_matter(files.get("SKILL.md").map(|c| c.as_ref()).unwrap_or(""))
        .ok_or_else(|| vec![format!("{folder}: no front matter")])?;
    let fm: FrontMatter = serde_yaml_ng::from_str(yaml).map_err(|e| vec![e.to_string()])?;
    let meta = |k: &str| {
        fm.metadata
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Ok(Skill {
        name: fm.name.clone(),
        description: fm.description.trim().to_owned(),
        kind: meta("type"),
        plugin: meta("plugin"),
        origin: origin.to_owned(),
        files,
    })
}

/// Every skill the server offers, by name.
#[derive(Debug, Clone, Default)]
pub struct SkillLibrary {
    skills: BTreeMap<String, Arc<Skill>>,
    /// Problems found while loading (invalid skills are left out).
    pub problems: Vec<String>,
}

impl SkillLibrary {
    /// The skills embedded from `infra/skills/`.
    pub fn bundled() -> Self {
        let mut lib = Self::default();
        for dir in BUNDLED.dirs() {
            let Some(folder) = dir.path().file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let mut files = BTreeMap::new();
            collect_embedded(dir, &mut files, dir.path());
            lib.add(folder, "bundled", files);
        }
        lib
    }

    /// Adds (or replaces, on equal names) the skills of an organisation's folder.
    pub fn with_folder(mut self, root: &Path) -> Self {
        let entries = match std::fs::read_dir(root) {
            Ok(e) => e,
            Err(e) => {
                self.problems
                    .push(format!("skills folder {}: {e}", root.display()));
                return self;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let Some(folder) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if !is_dir || folder.starts_with('.') {
                continue;
            }
            let mut files = BTreeMap::new();
            if let Err(e) = collect_disk(&path, &path, &mut files) {
                self.problems.push(format!("{}: {e}", path.display()));
                continue;
            }
            self.add(&folder, &root.display().to_string(), files);
        }
        self
    }

    /// Adds (or replaces, on equal names) skills given as files in memory, by folder name
    /// then path inside the folder (an organisation's S3 prefix, for example).
    pub fn with_files(
        mut self,
        origin: &str,
        folders: BTreeMap<String, BTreeMap<String, String>>,
    ) -> Self {
        for (folder, files) in folders {
            let files = files.into_iter().map(|(k, v)| (k, Cow::Owned(v))).collect();
            self.add(&folder, origin, files);
        }
        self
    }

    fn add(&mut self, folder: &str, origin: &str, files: BTreeMap<String, Cow<'static, str>>) {
        match build_skill(folder, origin, files) {
            Ok(skill) => {
                self.skills.insert(skill.name.clone(), Arc::new(skill));
            }
            Err(problems) => {
                for p in &problems {
                    tracing::warn!(problem = %p, "skill left out");
                }
                self.problems.extend(problems);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Skill>> {
        self.skills.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Skill>> {
        self.skills.values()
    }

    pub fn len(&self) -> usize {
        self.skills.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    skill_name: String,
    #[serde(default)]
    file: Option<String>,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "retrieve_skill",
        title: "Retrieve a skill",
        description: "Retrieve domain-specific expertise for an AWS task: a skill gives the workflow, decision framework, exact API calls, pitfalls and verification steps. Called with a skill name it returns the skill's SKILL.md and the list of its reference files; pass file (e.g. 'references/condition-keys.md') to load one of them. Use aws___search_documentation with topic agent_skills to discover skill names.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "skill_name": {"type": "string", "description": "The skill's name, e.g. 'iam-least-privilege-policies'."},
                "file": {"type": "string", "description": "A file inside the skill, e.g. 'references/x.md'. Omit for SKILL.md."}
            },
            "required": ["skill_name"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "skill_name": {"type": "string"},
                "description": {"type": "string"},
                "file": {"type": "string"},
                "content": {"type": "string"},
                "files": {"type": "array", "items": {"type": "string"}}
            },
            "required": ["skill_name", "description", "file", "content", "files"]
        })),
        annotations: ToolAnnotations::READ_ONLY_LOCAL,
    }
}

pub struct RetrieveSkill {
    pub library: Arc<SkillLibrary>,
}

#[async_trait]
impl ToolHandler for RetrieveSkill {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("retrieve_skill", arguments)?;
        let name = input.skill_name.trim();
        let Some(skill) = self.library.get(name) else {
            let close = closest(name, self.library.iter().map(|s| s.name.as_str()), 5);
            let hint = if close.is_empty() {
                "Use aws___search_documentation with topics [\"agent_skills\"] to find skill names."
                    .to_owned()
            } else {
                format!("Did you mean: {}?", close.join(", "))
            };
            return Err(ToolError::NotFound(format!(
                "Unknown skill '{name}'. {hint}"
            )));
        };
        let files: Vec<&str> = skill.files.keys().map(String::as_str).collect();
        let file = match input.file.as_deref().map(str::trim) {
            None | Some("") | Some("SKILL.md") | Some("./SKILL.md") => "SKILL.md".to_owned(),
            Some(f) => {
                let refused = f.starts_with('/')
                    || f.contains('\\')
                    || f.contains('\0')
                    || f.contains('%')
                    || f.split('/').any(|part| part == "..");
                if refused {
                    return Err(ToolError::InvalidArgument(format!(
                        "file '{f}' is refused: give a path inside the skill folder without '..', '/' at the start, '%' or '\\'. Files of {name}: {}",
                        files.join(", ")
                    )));
                }
                f.strip_prefix("./").unwrap_or(f).to_owned()
            }
        };
        let Some(content) = skill.files.get(&file) else {
            return Err(ToolError::NotFound(format!(
                "Skill {name} has no file '{file}'. Its files: {}",
                files.join(", ")
            )));
        };
        let structured = json!({
            "skill_name": skill.name,
            "description": skill.description,
            "file": file,
            "content": content,
            "files": files,
        });
        Ok(ToolOutput::structured(structured))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, Cow<'static, str>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Cow::Owned(v.to_string())))
            .collect()
    }

    #[test]
    fn every_bundled_skill_is_valid() {
        let lib = SkillLibrary::bundled();
        assert!(lib.problems.is_empty(), "{:#?}", lib.problems);
        assert!(lib.len() >= 5, "only {} bundled skills", lib.len());
        for skill in lib.iter() {
            assert!(skill.kind.is_some(), "{} lacks metadata.type", skill.name);
        }
    }

    #[test]
    fn the_format_rules_are_enforced() {
        let bad = files(&[(
            "SKILL.md",
            "---\nname: Bad--Name\ndescription: \"\"\nextra: 1\n---\nBody [x](references/missing.md)\n",
        )]);
        let problems = validate("bad-name", &bad);
        let all = problems.join("\n");
        assert!(all.contains("unknown front matter key 'extra'"), "{all}");
        assert!(all.contains("may contain only"), "{all}");
        assert!(all.contains("must equal the folder name"), "{all}");
        assert!(all.contains("description has 0 characters"), "{all}");
        assert!(all.contains("does not resolve"), "{all}");

        let good = files(&[
            (
                "SKILL.md",
                "---\nname: ok\ndescription: Does a thing. Use when needed.\n---\nSee [r](references/r.md) and [web](https://aws.amazon.com).\n",
            ),
            ("references/r.md", "Back to [skill](../SKILL.md)."),
        ]);
        assert!(
            validate("ok", &good).is_empty(),
            "{:?}",
            validate("ok", &good)
        );
    }

    #[test]
    fn organisation_skills_win_over_bundled_ones() {
        let lib = SkillLibrary::bundled();
        let Some(first) = lib.iter().next().cloned() else {
            panic!("no bundled skills");
        };
        let dir = std::env::temp_dir().join(format!("skills-test-{}", std::process::id()));
        let skill_dir = dir.join(&first.name);
        std::fs::create_dir_all(&skill_dir).expect("mkdir");
        std::fs::write(
            skill_dir.join("SKILL.md"),
            format!(
                "---\nname: {}\ndescription: Organisation version.\n---\nOurs.\n",
                first.name
            ),
        )
        .expect("write");
        let lib = lib.with_folder(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let skill = lib.get(&first.name).expect("present");
        assert_eq!(skill.description, "Organisation version.");
        assert_ne!(skill.origin, "bundled");
    }
}
