//! `consfig describe MODULE…`: the properties of modules (`.wasm` files, or
//! crate directories, built first), their parameters and docs, and the
//! grants each module needs. All of it is the
//! modules' own words, so it is printed with control characters made visible.

use std::path::PathBuf;

use anyhow::Result;

use super::shared::load_modules;
use crate::controller::modules::Inspector;
use crate::wire::terminal::{escape, json_line, one_line};

pub fn run(paths: &[PathBuf], json: bool) -> Result<i32> {
    let modules = load_modules(paths)?;
    let inspector = Inspector::new(&modules)?;
    for (module, (sha256, info)) in modules.iter().zip(inspector.image().modules()) {
        if json {
            let properties: Vec<_> = info
                .properties
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name, "doc": p.doc,
                        "params": p.params.iter().map(|a| serde_json::json!({
                            "name": a.name, "type": a.type_, "optional": a.optional,
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
                    let (name, type_) = (one_line(&a.name), one_line(&a.type_));
                    if a.optional {
                        format!("[{name}: {type_}]")
                    } else {
                        format!("{name}: {type_}")
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
