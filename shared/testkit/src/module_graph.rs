//! Which top-level modules of a crate refer to which, and whether that graph has a cycle.
//!
//! A top-level module is what `lib.rs` declares with `mod x;` (a file `src/x.rs` or a
//! directory `src/x/`); everything below it, files and inline modules alike, counts as that
//! module. The crate root itself is the node `lib`: only references from inside its function
//! bodies count, since its `mod` declarations and re-exports are the crate's table of contents,
//! not a use. A reference is a `use` or a path in code or in macro tokens that starts with
//! `crate::`, `super::` or `self::` (and, in `lib.rs`, a bare `module::` or re-exported name).
//! `crate::Name` where `lib.rs` re-exports `Name` from a module counts as that module.
//!
//! Test modules (`#[cfg(test)] mod tests`) are counted like any other code: a test that reaches
//! up to a higher module is as much an import circle as production code doing it.
//!
//! Sources are parsed with `syn`, so comments, doc comments and string literals never count.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The node standing for the crate root (`lib.rs`).
pub const ROOT: &str = "lib";

/// Where one module first refers to another: `file:line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub file: PathBuf,
    pub line: usize,
}

/// Top-level modules of one crate and the references between them.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    /// Every top-level module, and [`ROOT`].
    pub nodes: BTreeSet<String>,
    /// `from -> to -> first reference`; a module's references to itself are left out.
    pub edges: BTreeMap<String, BTreeMap<String, Reference>>,
}

/// Panics, naming every cycle and the references that make it, if the top-level modules of the
/// crate whose sources are in `src_dir` (holding `lib.rs`) refer to each other in a circle.
pub fn assert_no_cycles(src_dir: impl AsRef<Path>) {
    let src_dir = src_dir.as_ref();
    let graph = match ModuleGraph::from_dir(src_dir) {
        Ok(graph) => graph,
        Err(e) => panic!("cannot read the module graph of {}: {e}", src_dir.display()),
    };
    let cycles = graph.cycles();
    if !cycles.is_empty() {
        panic!(
            "the top-level modules of {} import each other in a circle:\n{}",
            src_dir.display(),
            graph.describe(&cycles)
        );
    }
}

impl ModuleGraph {
    /// Reads the crate whose root is `src_dir/lib.rs`.
    pub fn from_dir(src_dir: &Path) -> Result<Self, String> {
        Self::from_loader(src_dir, &|path| std::fs::read_to_string(path).ok())
    }

    /// Reads the crate through `load` (file path to its text, `None` when absent), so tests
    /// can give sources that are not on disk.
    pub fn from_loader(
        src_dir: &Path,
        load: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<Self, String> {
        let root_file = src_dir.join("lib.rs");
        let root = parse(&root_file, load)?;
        let crate_root = CrateRoot::read(&root);

        let mut graph = ModuleGraph::default();
        graph.nodes.insert(ROOT.to_string());
        graph.nodes.extend(crate_root.modules.iter().cloned());

        let mut queue = VecDeque::new();
        queue.push_back(Pending {
            file: root_file,
            syntax: root,
            module_path: Vec::new(),
            child_dir: src_dir.to_path_buf(),
        });
        while let Some(pending) = queue.pop_front() {
            let owner = pending
                .module_path
                .first()
                .cloned()
                .unwrap_or_else(|| ROOT.to_string());
            let mut scan = Scan {
                crate_root: &crate_root,
                file: &pending.file,
                owner: &owner,
                module_path: pending.module_path.clone(),
                child_dir: pending.child_dir.clone(),
                fn_depth: 0,
                found: Vec::new(),
                children: Vec::new(),
            };
            scan.visit_file(&pending.syntax);
            for (target, line) in scan.found {
                if target != owner {
                    graph
                        .edges
                        .entry(owner.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| Reference {
                            file: pending.file.clone(),
                            line,
                        });
                }
            }
            for child in scan.children {
                let file = child.locate(load)?;
                let syntax = parse(&file, load)?;
                let child_dir = if file.file_name().is_some_and(|name| name == "mod.rs") {
                    file.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    file.with_extension("")
                };
                queue.push_back(Pending {
                    file,
                    syntax,
                    module_path: child.module_path,
                    child_dir,
                });
            }
        }
        Ok(graph)
    }

    /// One cycle per strongly connected group of modules, each as `[a, b, ..., a]`: the
    /// shortest circle through the group's first module by name.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        self.strongly_connected()
            .into_iter()
            .filter(|group| group.len() > 1)
            .filter_map(|group| self.shortest_cycle(&group))
            .collect()
    }

    /// The cycles as `a -> b -> a` lines, each followed by every reference between the
    /// modules of its strongly connected group (all of them have to go for it to come apart).
    pub fn describe(&self, cycles: &[Vec<String>]) -> String {
        let groups = self.strongly_connected();
        let mut text = String::new();
        for cycle in cycles {
            let _ = writeln!(text, "  {}", cycle.join(" -> "));
            let Some(group) = groups
                .iter()
                .find(|g| cycle.first().is_some_and(|c| g.contains(c)))
            else {
                continue;
            };
            if group.len() + 1 > cycle.len() {
                let _ = writeln!(text, "    in the group {}", group.join(", "));
            }
            for (from, targets) in self.edges.iter().filter(|(from, _)| group.contains(from)) {
                for (to, at) in targets.iter().filter(|(to, _)| group.contains(to)) {
                    let _ = writeln!(
                        text,
                        "      {from} -> {to}  ({}:{})",
                        at.file.display(),
                        at.line
                    );
                }
            }
        }
        text
    }

    fn targets(&self, node: &str) -> impl Iterator<Item = &String> {
        self.edges.get(node).into_iter().flat_map(|t| t.keys())
    }

    /// Tarjan's algorithm; groups come out with their members sorted.
    fn strongly_connected(&self) -> Vec<Vec<String>> {
        struct State<'a> {
            graph: &'a ModuleGraph,
            next_index: usize,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            groups: Vec<Vec<String>>,
        }
        fn connect<'a>(state: &mut State<'a>, node: &'a str) {
            state.index.insert(node, state.next_index);
            state.low.insert(node, state.next_index);
            state.next_index += 1;
            state.stack.push(node);
            state.on_stack.insert(node);
            for target in state.graph.targets(node) {
                let target = target.as_str();
                if !state.index.contains_key(target) {
                    connect(state, target);
                    let low = state.low[node].min(state.low[target]);
                    state.low.insert(node, low);
                } else if state.on_stack.contains(target) {
                    let low = state.low[node].min(state.index[target]);
                    state.low.insert(node, low);
                }
            }
            if state.low[node] == state.index[node] {
                let mut group = Vec::new();
                while let Some(member) = state.stack.pop() {
                    state.on_stack.remove(member);
                    group.push(member.to_string());
                    if member == node {
                        break;
                    }
                }
                group.sort();
                state.groups.push(group);
            }
        }
        let mut state = State {
            graph: self,
            next_index: 0,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            groups: Vec::new(),
        };
        for node in &self.nodes {
            if !state.index.contains_key(node.as_str()) {
                connect(&mut state, node);
            }
        }
        state.groups.sort();
        state.groups
    }

    /// Breadth-first from the group's first member back to itself, inside the group.
    fn shortest_cycle(&self, group: &[String]) -> Option<Vec<String>> {
        let start = group.first()?;
        let members: BTreeSet<&String> = group.iter().collect();
        let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for target in self.targets(node).filter(|t| members.contains(t)) {
                if target == start {
                    let mut cycle = vec![start.clone()];
                    let mut at = node;
                    while at != start {
                        cycle.push(at.clone());
                        at = came_from.get(at)?;
                    }
                    cycle.push(start.clone());
                    cycle.reverse();
                    return Some(cycle);
                }
                if !came_from.contains_key(target) {
                    came_from.insert(target, node);
                    queue.push_back(target);
                }
            }
        }
        None
    }
}

fn parse(file: &Path, load: &dyn Fn(&Path) -> Option<String>) -> Result<syn::File, String> {
    let text = load(file).ok_or_else(|| format!("{} cannot be read", file.display()))?;
    syn::parse_file(&text).map_err(|e| format!("{} does not parse: {e}", file.display()))
}

/// What `lib.rs` declares: its modules, the names it re-exports from them and its own items.
struct CrateRoot {
    modules: BTreeSet<String>,
    reexports: BTreeMap<String, String>,
    items: BTreeSet<String>,
}

impl CrateRoot {
    fn read(root: &syn::File) -> Self {
        let mut modules = BTreeSet::new();
        let mut items = BTreeSet::new();
        let mut uses = Vec::new();
        for item in &root.items {
            let name = match item {
                syn::Item::Mod(m) if m.content.is_none() => {
                    modules.insert(m.ident.to_string());
                    continue;
                }
                syn::Item::Use(u) => {
                    uses.push(u);
                    continue;
                }
                syn::Item::Const(i) => &i.ident,
                syn::Item::Enum(i) => &i.ident,
                syn::Item::Fn(i) => &i.sig.ident,
                syn::Item::Macro(i) => match &i.ident {
                    Some(ident) => ident,
                    None => continue,
                },
                syn::Item::Static(i) => &i.ident,
                syn::Item::Struct(i) => &i.ident,
                syn::Item::Trait(i) => &i.ident,
                syn::Item::Type(i) => &i.ident,
                syn::Item::Union(i) => &i.ident,
                _ => continue,
            };
            items.insert(name.to_string());
        }
        let mut reexports = BTreeMap::new();
        for u in uses {
            for (path, name) in use_paths(&u.tree) {
                let Some(name) = name else { continue };
                let start = match path.first().map(String::as_str) {
                    Some("crate" | "self") => 1,
                    _ => 0,
                };
                if let Some(module) = path.get(start).filter(|m| modules.contains(*m)) {
                    reexports.insert(name, module.clone());
                }
            }
        }
        CrateRoot {
            modules,
            reexports,
            items,
        }
    }

    /// The node a path from the crate root (`crate::` already taken off) lands in.
    fn node_of(&self, absolute: &[String]) -> Option<String> {
        let Some(first) = absolute.first() else {
            // `use crate::*` or `use super::*` up to the root: the root's items.
            return Some(ROOT.to_string());
        };
        if self.modules.contains(first) {
            Some(first.clone())
        } else if let Some(module) = self.reexports.get(first) {
            Some(module.clone())
        } else if self.items.contains(first) {
            Some(ROOT.to_string())
        } else {
            None
        }
    }
}

/// The paths a `use` tree names, each with the name it binds (`None` for a glob).
fn use_paths(tree: &syn::UseTree) -> Vec<(Vec<String>, Option<String>)> {
    fn walk(
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Option<String>)>,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                walk(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) if n.ident == "self" => {
                out.push((prefix.clone(), prefix.last().cloned()));
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                out.push((path, Some(n.ident.to_string())));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                out.push((path, Some(r.rename.to_string())));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    walk(tree, prefix, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

struct Pending {
    file: PathBuf,
    syntax: syn::File,
    module_path: Vec<String>,
    /// Where the files of this file's `mod x;` declarations live.
    child_dir: PathBuf,
}

/// A `mod x;` still to be read.
struct ChildModule {
    module_path: Vec<String>,
    candidates: Vec<PathBuf>,
}

impl ChildModule {
    fn locate(&self, load: &dyn Fn(&Path) -> Option<String>) -> Result<PathBuf, String> {
        self.candidates
            .iter()
            .find(|path| load(path).is_some())
            .cloned()
            .ok_or_else(|| {
                format!(
                    "module {} is in none of {:?}",
                    self.module_path.join("::"),
                    self.candidates
                )
            })
    }
}

/// The walk over one file.
struct Scan<'a> {
    crate_root: &'a CrateRoot,
    file: &'a Path,
    owner: &'a str,
    module_path: Vec<String>,
    child_dir: PathBuf,
    fn_depth: usize,
    /// `(target node, line)`.
    found: Vec<(String, usize)>,
    children: Vec<ChildModule>,
}

impl Scan<'_> {
    /// The root's references count only inside function bodies (see the module docs).
    fn counts(&self) -> bool {
        self.owner != ROOT || self.fn_depth > 0
    }

    /// Records the path `segments` (as written, relative to the current module) if it names
    /// another top-level module or the root.
    fn refer(&mut self, segments: &[String], line: usize) {
        if !self.counts() {
            return;
        }
        let Some(first) = segments.first() else {
            return;
        };
        let absolute: Vec<String> = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" => {
                let ups = segments.iter().take_while(|s| *s == "super").count();
                let Some(keep) = self.module_path.len().checked_sub(ups) else {
                    return;
                };
                let mut path = self.module_path[..keep].to_vec();
                path.extend_from_slice(&segments[ups..]);
                path
            }
            "self" if segments.len() > 1 => {
                let mut path = self.module_path.clone();
                path.extend_from_slice(&segments[1..]);
                path
            }
            // A bare path names a top-level module only where they are in scope: the root.
            _ if self.module_path.is_empty() => segments.to_vec(),
            _ => return,
        };
        if let Some(node) = self.crate_root.node_of(&absolute) {
            // Bare names in the root are its own items unless they name a module or re-export.
            if node == ROOT && !matches!(first.as_str(), "crate" | "super" | "self") {
                return;
            }
            self.found.push((node, line));
        }
    }

    /// Paths inside macro input (`format!`, `matches!`, `vec!`...), which syn leaves as tokens.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => {
                    self.scan_tokens(group.stream());
                    i += 1;
                }
                TokenTree::Ident(ident) if !follows_path_separator(&trees, i) => {
                    let line = ident.span().start().line;
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    // A lone word in macro input is too often a local name to count.
                    if segments.len() > 1 {
                        self.refer(&segments, line);
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

fn follows_path_separator(trees: &[TokenTree], i: usize) -> bool {
    i >= 2
        && matches!((&trees[i - 2], &trees[i - 1]),
            (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':')
}

fn segments_of(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn line_of(path: &syn::Path) -> usize {
    path.segments
        .first()
        .map(|s| s.ident.span().start().line)
        .unwrap_or(0)
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        let name = module.ident.to_string();
        match &module.content {
            Some((_, items)) => {
                let outer_dir = self.child_dir.clone();
                self.child_dir = outer_dir.join(&name);
                self.module_path.push(name);
                for item in items {
                    self.visit_item(item);
                }
                self.module_path.pop();
                self.child_dir = outer_dir;
            }
            None => {
                let mut module_path = self.module_path.clone();
                module_path.push(name.clone());
                let explicit = module.attrs.iter().find_map(|attr| match &attr.meta {
                    syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        _ => None,
                    },
                    _ => None,
                });
                let candidates = match explicit {
                    // `#[path]` is relative to the directory of the declaring file.
                    Some(path) => vec![self.file.parent().unwrap_or(Path::new("")).join(path)],
                    None => vec![
                        self.child_dir.join(format!("{name}.rs")),
                        self.child_dir.join(&name).join("mod.rs"),
                    ],
                };
                self.children.push(ChildModule {
                    module_path,
                    candidates,
                });
            }
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let line = item.use_token.span.start().line;
        for (path, _) in use_paths(&item.tree) {
            self.refer(&path, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.refer(&segments_of(path), line_of(path));
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.scan_tokens(mac.tokens.clone());
    }

    // `pub(crate)` / `pub(in crate::x)` say who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.fn_depth += 1;
        syn::visit::visit_item_fn(self, item);
        self.fn_depth -= 1;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.fn_depth += 1;
        syn::visit::visit_impl_item_fn(self, item);
        self.fn_depth -= 1;
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.fn_depth += 1;
        syn::visit::visit_trait_item_fn(self, item);
        self.fn_depth -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn graph(files: &[(&str, &str)]) -> ModuleGraph {
        let files: HashMap<PathBuf, String> = files
            .iter()
            .map(|(path, text)| (Path::new("src").join(path), text.to_string()))
            .collect();
        match ModuleGraph::from_loader(Path::new("src"), &|path| files.get(path).cloned()) {
            Ok(graph) => graph,
            Err(e) => panic!("{e}"),
        }
    }

    fn edges(graph: &ModuleGraph) -> Vec<(String, String)> {
        graph
            .edges
            .iter()
            .flat_map(|(from, to)| to.keys().map(|to| (from.clone(), to.clone())))
            .collect()
    }

    fn pair(from: &str, to: &str) -> (String, String) {
        (from.to_string(), to.to_string())
    }

    #[test]
    fn a_cycle_is_found_and_named() {
        let g = graph(&[
            (
                "lib.rs",
                "pub mod command; pub mod customs; pub mod params;",
            ),
            ("command.rs", "use crate::customs::Custom;"),
            ("customs.rs", "pub fn f() { crate::params::build(); }"),
            ("params.rs", "use crate::command::Parsed;"),
        ]);
        let cycles = g.cycles();
        assert_eq!(
            cycles,
            vec![vec!["command", "customs", "params", "command"]]
        );
        let text = g.describe(&cycles);
        assert!(
            text.contains("command -> customs -> params -> command"),
            "{text}"
        );
        assert!(
            text.contains("customs -> params  (src/customs.rs:1)"),
            "{text}"
        );
    }

    #[test]
    fn an_acyclic_graph_passes() {
        let g = graph(&[
            ("lib.rs", "pub mod a; pub mod b; mod c; pub use a::Thing;"),
            ("a.rs", "use crate::b::B; use crate::c;"),
            ("b.rs", "pub struct B(crate::c::C);"),
            ("c.rs", "pub struct C;"),
        ]);
        assert!(g.cycles().is_empty());
        assert_eq!(
            edges(&g),
            vec![pair("a", "b"), pair("a", "c"), pair("b", "c")]
        );
        assert_eq!(g.describe(&g.cycles()), "");
    }

    #[test]
    fn super_in_nested_modules_resolves_to_the_right_module() {
        let g = graph(&[
            ("lib.rs", "pub mod run; pub mod wait; pub mod text;"),
            // run/context.rs: `super::` is `run` itself; `super::super::text` is `text`.
            (
                "run.rs",
                "mod context; mod inline { fn f() { super::super::wait::go(); } }",
            ),
            (
                "run/context.rs",
                "use super::Runner; use super::super::text::Line;",
            ),
            // wait/ is a directory module; its child's `super::super::run` is `run`.
            ("wait/mod.rs", "mod poll;"),
            (
                "wait/poll.rs",
                "use super::super::run::Runner; use super::Waiter;",
            ),
            ("text.rs", "#[cfg(test)] mod tests { use super::*; }"),
        ]);
        assert_eq!(
            edges(&g),
            vec![
                pair("run", "text"),
                pair("run", "wait"),
                pair("wait", "run")
            ]
        );
        assert_eq!(g.cycles(), vec![vec!["run", "wait", "run"]]);
    }

    #[test]
    fn the_root_counts_only_function_bodies_and_reexports_resolve() {
        let g = graph(&[
            (
                "lib.rs",
                "pub mod a; pub mod b; pub use b::Widget; pub struct Root(a::A);\n\
                 pub fn go() { a::start(); }",
            ),
            // `crate::Widget` is `b`'s, re-exported; `crate::Root` is the root's own.
            (
                "a.rs",
                "pub fn start() { let _ = crate::Widget; } pub struct A;",
            ),
            ("b.rs", "pub struct Widget; fn f(_: crate::Root) {}"),
        ]);
        assert_eq!(
            edges(&g),
            vec![pair("a", "b"), pair("b", "lib"), pair("lib", "a")]
        );
        assert_eq!(g.cycles(), vec![vec!["a", "b", "lib", "a"]]);
    }

    #[test]
    fn comments_strings_and_macro_tokens() {
        let g = graph(&[
            ("lib.rs", "mod a; mod b; mod c;"),
            (
                "a.rs",
                "// use crate::b::X;\n/// crate::b::Y\nfn f() { let s = \"crate::b::Z\";\n\
                 assert!(matches!(s, crate::c::K)); }",
            ),
            ("b.rs", ""),
            ("c.rs", ""),
        ]);
        assert_eq!(edges(&g), vec![pair("a", "c")]);
    }

    #[test]
    #[should_panic(expected = "module a is in none of")]
    fn a_missing_module_file_is_an_error() {
        graph(&[("lib.rs", "mod a;")]);
    }
}
