//! The layering rule of `src/lib.rs`, checked: every path a module of the
//! crate names — in `use` items, types and expressions, through `crate::`
//! or `super::` — must stay in its own layer or reach one its layer may
//! import. The rule is read from the `text` block under "# Layers" in
//! lib.rs, so the documentation and the check cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Each layer and the layers it may import.
type Rule = BTreeMap<String, BTreeSet<String>>;

fn read_rule(lib: &str) -> Rule {
    let start = lib
        .find("//! # Layers")
        .expect("lib.rs has a # Layers section");
    let block = lib[start..]
        .split("//! ```text")
        .nth(1)
        .and_then(|rest| rest.split("//! ```").next())
        .expect("the Layers section has a text block");
    let mut rule = Rule::new();
    for line in block.lines() {
        let line = line.trim_start_matches("//!").trim();
        if line.is_empty() {
            continue;
        }
        let (layer, allowed) = line
            .split_once('→')
            .unwrap_or_else(|| panic!("a rule line is `layer → layers…`: {line:?}"));
        rule.insert(
            layer.trim().to_owned(),
            allowed.split_whitespace().map(str::to_owned).collect(),
        );
    }
    rule
}

/// The module path of a source file: `engine/image.rs` → engine::image.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The first module under the crate root each `crate::`/`super::` path names.
struct Reached<'a> {
    module: &'a [String],
    found: BTreeSet<String>,
}

impl Reached<'_> {
    fn note(&mut self, segments: &[String]) {
        let mut at: Vec<String> = self.module.to_vec();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                at.clear();
                rest = &rest[1..];
            }
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop();
                    rest = &rest[1..];
                }
            }
            _ => return,
        }
        if let Some(top) = at.first().or(rest.first()) {
            self.found.insert(top.clone());
        }
    }

    fn note_use(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.note_use(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(rename) => {
                prefix.push(rename.ident.to_string());
                self.note(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note(prefix),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.note_use(prefix, tree);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Reached<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.note_use(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.note(&segments);
        syn::visit::visit_path(self, path);
    }
}

/// Every import of `source` (the file at `relative` under src/) that its
/// layer may not make, as messages.
fn violations(rule: &Rule, relative: &Path, source: &str) -> Vec<String> {
    let module = module_path(relative);
    let Some(layer) = module.first().filter(|top| rule.contains_key(*top)) else {
        return Vec::new();
    };
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{}: {e}", relative.display()));
    let mut reached = Reached {
        module: &module,
        found: BTreeSet::new(),
    };
    reached.visit_file(&file);
    reached
        .found
        .into_iter()
        .filter(|top| top != layer && rule.contains_key(top) && !rule[layer].contains(top))
        .map(|top| {
            format!(
                "{}: layer {layer} imports {top}, which it may not (allowed: {})",
                relative.display(),
                rule[layer].iter().cloned().collect::<Vec<_>>().join(" ")
            )
        })
        .collect()
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|x| x == "rs") {
            found.push(path);
        }
    }
}

fn crate_rule() -> (PathBuf, Rule) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rule = read_rule(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    (src, rule)
}

#[test]
fn no_module_imports_a_layer_it_may_not() {
    let (src, rule) = crate_rule();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut layers_seen = BTreeSet::new();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if let Some(top) = module_path(relative).first() {
            layers_seen.insert(top.clone());
        }
        problems.extend(violations(
            &rule,
            relative,
            &std::fs::read_to_string(file).unwrap(),
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every folder is a layer of the rule, and every layer a folder.
    let folders: BTreeSet<String> = layers_seen
        .into_iter()
        .filter(|top| src.join(top).is_dir() && top != "bin")
        .collect();
    let layers: BTreeSet<String> = rule.keys().cloned().collect();
    assert_eq!(
        folders, layers,
        "the folders of src/ and the layers of the rule"
    );
}

#[test]
fn the_rule_has_no_cycle() {
    let (_, rule) = crate_rule();
    // Depth-first: a layer reached again on its own path is a cycle.
    fn visit(rule: &Rule, layer: &str, path: &mut Vec<String>) {
        assert!(
            !path.iter().any(|l| l == layer),
            "cycle: {path:?} → {layer}"
        );
        path.push(layer.to_owned());
        for next in &rule[layer] {
            assert!(rule.contains_key(next), "{layer} → {next}: no such layer");
            visit(rule, next, path);
        }
        path.pop();
    }
    for layer in rule.keys() {
        visit(&rule, layer, &mut Vec::new());
    }
}

#[test]
fn the_check_sees_every_way_of_naming_a_layer() {
    let (_, rule) = crate_rule();
    let file = Path::new("sandbox/files.rs");
    for (source, reaches) in [
        ("use crate::engine::image::Image;", true),
        (
            "use crate::{sandbox::overlay::Entry, sandbox::place::Place};",
            false,
        ),
        (
            "use crate::{sandbox::place::Place, wire::outcome::Outcome};",
            true,
        ),
        ("use crate::{host::state::HostState};", true),
        ("fn f() { crate::runtime::fork::exit_child(0) }", true),
        ("fn f(_: crate::controller::plan::HostPlan) {}", true),
        ("use super::place::Place;", false),
        ("use super::super::engine::Image;", true),
    ] {
        let found = violations(&rule, file, source);
        assert_eq!(!found.is_empty(), reaches, "{source}: {found:?}");
    }
    // In a layer's mod.rs, `super` is the crate root.
    let found = violations(
        &rule,
        Path::new("host/mod.rs"),
        "use super::engine::image::Image;",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("layer host imports engine"), "{found:?}");
}
