//! `consfig describe MODULE.wasm…`: the properties of modules, their
//! parameters and docs, and the grants each module needs.

use std::path::PathBuf;

use anyhow::Result;

use crate::controller::modules::{Inspector, read_modules};

pub fn run(paths: &[PathBuf], json: bool) -> Result<i32> {
    let modules = read_modules(paths)?;
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
                serde_json::json!({"path": module.path, "sha256": sha256, "module": info.name,
                                   "doc": info.doc, "needs": info.needs, "properties": properties})
            );
            continue;
        }
        println!(
            "{} ({}, sha256 {})",
            info.name,
            module.path.display(),
            &sha256[..16]
        );
        if !info.doc.is_empty() {
            println!("  {}", info.doc.replace('\n', "\n  "));
        }
        if !info.needs.is_empty() {
            println!("  needs: {}", info.needs.join(", "));
        }
        for p in &info.properties {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|a| {
                    if a.optional {
                        format!("[{}: {}]", a.name, a.type_)
                    } else {
                        format!("{}: {}", a.name, a.type_)
                    }
                })
                .collect();
            println!("\n  {} {}", p.name, params.join(" ").trim_end());
            for line in p.doc.lines() {
                println!("      {line}");
            }
        }
        println!();
    }
    Ok(0)
}
