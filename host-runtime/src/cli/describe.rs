//! `consfig describe MODULE…`: the properties of modules (`.wasm` files, or
//! module directories, built first), their parameters (name, type, whether
//! optional, default) and docs, and the grants each module needs. All of it
//! is the modules' own words, so it is printed with control characters made
//! visible, or, with `--markdown`, escaped so that it cannot change the
//! document's structure.

use std::path::PathBuf;

use anyhow::Result;

use super::shared::load_modules;
use crate::controller::compiler::Compiler;
use crate::controller::modules::Inspector;
use crate::engine::cache::Cache;
use crate::host::bindings::consfig::module::types::ModuleInfo;
use crate::wire::markdown;
use crate::wire::terminal::{escape, json_line, one_line};

/// How `consfig describe` writes what it found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

impl Format {
    /// From the command line's flags, which clap keeps from being both given.
    pub fn new(json: bool, markdown: bool) -> Format {
        match (json, markdown) {
            (true, _) => Format::Json,
            (false, true) => Format::Markdown,
            (false, false) => Format::Text,
        }
    }
}

pub fn run(paths: &[PathBuf], format: Format) -> Result<i32> {
    let modules = load_modules(paths)?;
    let inspector = Inspector::new(&modules, &Compiler::new(Cache::from_env()?))?;
    if format == Format::Markdown {
        let infos: Vec<&ModuleInfo> = inspector.image().modules().map(|(_, info)| info).collect();
        print!("{}", reference(&infos));
        return Ok(0);
    }
    for (module, (sha256, info)) in modules.iter().zip(inspector.image().modules()) {
        if format == Format::Json {
            let properties: Vec<_> = info
                .properties
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name, "doc": p.doc,
                        "params": p.params.iter().map(|a| serde_json::json!({
                            "name": a.name, "schema": a.schema, "optional": a.optional,
                            "default": a.default.as_deref().map(default_value),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                json_line(
                    &serde_json::json!({"path": module.path, "sha256": sha256, "module": info.name,
                                   "doc": info.doc, "needs": info.needs, "properties": properties})
                )
            );
            continue;
        }
        println!(
            "{} ({}, sha256 {})",
            one_line(&info.name),
            one_line(&module.path.to_string_lossy()),
            &sha256[..16]
        );
        if !info.doc.is_empty() {
            println!("  {}", escape(&info.doc.replace('\n', "\n  ")));
        }
        if !info.needs.is_empty() {
            println!("  needs: {}", one_line(&info.needs.join(", ")));
        }
        for p in &info.properties {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|a| {
                    let (name, type_) = (one_line(&a.name), one_line(&a.schema));
                    match (a.optional, &a.default) {
                        (true, Some(default)) => {
                            format!("[{name}: {type_} = {}]", one_line(default))
                        }
                        (true, None) => format!("[{name}: {type_}]"),
                        (false, _) => format!("{name}: {type_}"),
                    }
                })
                .collect();
            println!("\n  {} {}", one_line(&p.name), params.join(" ").trim_end());
            for line in p.doc.lines() {
                println!("      {}", escape(line));
            }
        }
        println!();
    }
    Ok(0)
}

/// A default as JSON: the module's text parsed, or kept as a string when it
/// is not JSON (a module's word, not trusted to be).
fn default_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// The property reference of `modules`, in Markdown: a section per module
/// (its doc and the grants it needs), a subsection per property (its doc and
/// a table of its parameters), in the order the modules were given and
/// declare their properties. Nothing of the build (paths, hashes) is in it,
/// so the same modules give the same text.
fn reference(modules: &[&ModuleInfo]) -> String {
    let mut out = String::from("# Properties\n");
    for info in modules {
        out.push_str(&format!("\n## {}\n", markdown::code(&info.name)));
        if !info.doc.is_empty() {
            out.push_str(&format!("\n{}\n", markdown::doc(&info.doc)));
        }
        let needs: Vec<String> = info.needs.iter().map(|g| markdown::code(g)).collect();
        out.push_str(&format!(
            "\nNeeds: {}.\n",
            if needs.is_empty() {
                "nothing".to_owned()
            } else {
                needs.join(", ")
            }
        ));
        for p in &info.properties {
            out.push_str(&format!("\n### {}\n", markdown::code(&p.name)));
            if !p.doc.is_empty() {
                out.push_str(&format!("\n{}\n", markdown::doc(&p.doc)));
            }
            if p.params.is_empty() {
                out.push_str("\nNo parameters.\n");
                continue;
            }
            out.push_str("\n| parameter | type | required or default |\n|---|---|---|\n");
            for a in &p.params {
                let given = match (a.optional, &a.default) {
                    (true, Some(default)) => {
                        format!("optional, default {}", markdown::code(default))
                    }
                    (true, None) => "optional".to_owned(),
                    (false, _) => "required".to_owned(),
                };
                out.push_str(&format!(
                    "| {} | {} | {given} |\n",
                    markdown::code(&a.name),
                    markdown::code(&a.schema)
                ));
            }
        }
    }
    out
}
