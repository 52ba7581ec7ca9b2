//! The knowledge tool group: tools that need no AWS credentials.
//!
//! - `aws___search_documentation`, `aws___read_documentation`, `aws___recommend`
//!   ([`docs`]): live AWS documentation with an offline index of skills and API references.
//! - `aws___list_regions` ([`regions`]): every Region with its long name.
//! - `aws___get_regional_availability` ([`availability`]): products, service APIs and
//!   CloudFormation resource types by Region.
//! - `aws___retrieve_skill` ([`skills`]): the skills library.
//!
//! The skills are also MCP resources and workflow prompts ([`content`]).
//!
//! Everything answers offline from snapshots embedded at build time ([`data`]); Region and
//! product lookups go live through a [`RegionDirectory`] when one is configured. This crate
//! builds tool definitions only; transports and deployment live elsewhere.

#![warn(unreachable_pub)]

pub mod availability;
pub mod content;
pub mod data;
pub mod directory;
pub mod docs;
pub mod query_sets;
pub mod regions;
pub mod skills;
mod suggest;

use std::sync::Arc;

use mcp_protocol::{Tool, ToolGroup};

pub use content::SkillContent;
pub use directory::{RegionDirectory, SsmDirectory};
pub use docs::{Docs, DocsConfig};
pub use skills::{Skill, SkillLibrary};

/// The knowledge group and what its tools share.
#[derive(Clone)]
pub struct KnowledgeGroup {
    pub skills: Arc<SkillLibrary>,
    /// Live Region and product data; `None` answers from the bundled snapshots.
    pub live: Option<Arc<dyn RegionDirectory>>,
    pub docs: Arc<Docs>,
}

impl KnowledgeGroup {
    pub fn new(
        skills: Arc<SkillLibrary>,
        live: Option<Arc<dyn RegionDirectory>>,
        docs: DocsConfig,
    ) -> Self {
        let docs = Arc::new(Docs::new(docs, skills.clone()));
        Self { skills, live, docs }
    }
}

impl ToolGroup for KnowledgeGroup {
    fn name(&self) -> &'static str {
        "knowledge"
    }

    fn tools(&self) -> Vec<Tool> {
        vec![
            Tool {
                descriptor: docs::search::descriptor(),
                handler: Arc::new(docs::search::SearchDocumentation {
                    docs: self.docs.clone(),
                }),
            },
            Tool {
                descriptor: docs::read::descriptor(),
                handler: Arc::new(docs::read::ReadDocumentation {
                    docs: self.docs.clone(),
                }),
            },
            Tool {
                descriptor: docs::recommend::descriptor(),
                handler: Arc::new(docs::recommend::Recommend {
                    docs: self.docs.clone(),
                }),
            },
            Tool {
                descriptor: regions::descriptor(),
                handler: Arc::new(regions::ListRegions {
                    live: self.live.clone(),
                }),
            },
            Tool {
                descriptor: availability::descriptor(),
                handler: Arc::new(availability::RegionalAvailability {
                    live: self.live.clone(),
                }),
            },
            Tool {
                descriptor: skills::descriptor(),
                handler: Arc::new(skills::RetrieveSkill {
                    library: self.skills.clone(),
                }),
            },
        ]
    }
}
