//! `consfig new DIR`: a new consfig, ready to deploy. A Cargo workspace
//! (one target directory for all its module crates, so the SDK is built
//! once) with one module crate, named after DIR, whose documented property
//! composes standard ones; a `Consfig.toml` deploying it to this machine
//! (host `laptop`, connection `local`); a `.gitignore`; a README of three
//! lines. The files are the templates in `host-runtime/templates/new/`.
//!
//! With `--python` or `--js`, the module is a Python (`modules/NAME/app.py`)
//! or JavaScript (`modules/NAME/app.js`) one instead, whose documented
//! property makes the same page with host calls, and there is no
//! workspace: the templates in `templates/new-python/` and `new-js/`.

use std::path::{Path, PathBuf};

use consfig_contract::name::is_name;

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0} exists and is not an empty directory: name a new one")]
    NotEmpty(PathBuf),
    #[error(
        "{dir}: its name makes no module name (lowercase letters, digits and inner dashes, starting with a letter): name the directory e.g. my-site"
    )]
    BadName { dir: PathBuf },
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `consfig new` made.
#[derive(Debug)]
pub struct Scaffold {
    /// The consfig's directory, absolute.
    pub dir: PathBuf,
    /// Its module's name, which is also its crate's.
    pub module: String,
}

/// The language of a new consfig's module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Rust,
    Python,
    JavaScript,
}

impl Language {
    /// Where each template goes; `@NAME@` is the module's name.
    fn templates(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Language::Rust => &RUST_TEMPLATES,
            Language::Python => &PYTHON_TEMPLATES,
            Language::JavaScript => &JS_TEMPLATES,
        }
    }

    /// The file of the module that defines its properties.
    pub fn module_source(self) -> &'static str {
        match self {
            Language::Rust => "src/lib.rs",
            Language::Python => "app.py",
            Language::JavaScript => "app.js",
        }
    }
}

const PYTHON_TEMPLATES: [(&str, &str); 4] = [
    (
        "Consfig.toml",
        include_str!("../../templates/new-python/Consfig.toml"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/new-python/gitignore"),
    ),
    (
        "README.md",
        include_str!("../../templates/new-python/README.md"),
    ),
    (
        "modules/@NAME@/app.py",
        include_str!("../../templates/new-python/app.py"),
    ),
];

const JS_TEMPLATES: [(&str, &str); 4] = [
    (
        "Consfig.toml",
        include_str!("../../templates/new-js/Consfig.toml"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/new-js/gitignore"),
    ),
    (
        "README.md",
        include_str!("../../templates/new-js/README.md"),
    ),
    (
        "modules/@NAME@/app.js",
        include_str!("../../templates/new-js/app.js"),
    ),
];

/// Where each template goes; `@NAME@` is the module's name.
const RUST_TEMPLATES: [(&str, &str); 6] = [
    ("Cargo.toml", include_str!("../../templates/new/Cargo.toml")),
    (
        "Consfig.toml",
        include_str!("../../templates/new/Consfig.toml"),
    ),
    (".gitignore", include_str!("../../templates/new/gitignore")),
    ("README.md", include_str!("../../templates/new/README.md")),
    (
        "modules/@NAME@/Cargo.toml",
        include_str!("../../templates/new/module-Cargo.toml"),
    ),
    (
        "modules/@NAME@/src/lib.rs",
        include_str!("../../templates/new/module-lib.rs"),
    ),
];

/// The module name a directory's name gives: lowercased, `_` and spaces
/// made dashes; `None` when that is still no name.
pub fn module_name(dir: &Path) -> Option<String> {
    let base = dir.file_name()?.to_str()?;
    let name: String = base
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    is_name(&name).then_some(name)
}

/// A TOML string holding `text`, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Make a consfig in `dir` (new, or empty) whose module, in `language`,
/// builds with the guest SDK at `sdk`.
pub fn create(dir: &Path, sdk: &Path, language: Language) -> Result<Scaffold, ScaffoldError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ScaffoldError::Write { path, source }
    };
    let module = module_name(dir).ok_or_else(|| ScaffoldError::BadName {
        dir: dir.to_owned(),
    })?;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(ScaffoldError::NotEmpty(dir.to_owned()));
        }
    }
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    let dir = std::fs::canonicalize(dir).map_err(write_error(dir))?;
    // The page the module's property makes, inside the consfig (ignored by
    // git): a first deploy needs no other directory, and no root.
    let www = dir.join("www").to_string_lossy().into_owned();
    // The standard modules' library crates lie beside the SDK, in a
    // checkout as `make install` lays them out.
    let std_file = sdk.parent().unwrap_or(sdk).join("consfig-wasm/file");
    for (to, template) in language.templates() {
        let path = dir.join(to.replace("@NAME@", &module));
        let text = template
            .replace("@NAME@", &module)
            .replace("@SDK@", &toml_string(&sdk.to_string_lossy()))
            .replace("@STD_FILE@", &toml_string(&std_file.to_string_lossy()))
            .replace("@WWW_GRANT@", &toml_string(&format!("write:{www}")))
            .replace("@WWW@", &toml_string(&www));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error(parent))?;
        }
        std::fs::write(&path, text).map_err(write_error(&path))?;
    }
    Ok(Scaffold { dir, module })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_come_from_the_directory() {
        assert_eq!(module_name(Path::new("/x/site")).as_deref(), Some("site"));
        assert_eq!(
            module_name(Path::new("My_Web site")).as_deref(),
            Some("my-web-site")
        );
        assert_eq!(module_name(Path::new("9lives")), None);
        assert_eq!(module_name(Path::new("a.b")), None);
        assert_eq!(module_name(Path::new("/")), None);
    }

    #[test]
    fn writes_a_workspace_a_module_crate_and_a_consfig() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("web-site");
        let made = create(&dir, Path::new("/opt/sdk \"x\"/guest-sdk"), Language::Rust).unwrap();
        assert_eq!(made.module, "web-site");
        let read = |p: &str| std::fs::read_to_string(made.dir.join(p)).unwrap();
        let workspace: toml::Table = read("Cargo.toml").parse().unwrap();
        assert_eq!(
            workspace["workspace"]["dependencies"]["consfig-guest"]["path"].as_str(),
            Some("/opt/sdk \"x\"/guest-sdk")
        );
        assert_eq!(
            workspace["workspace"]["dependencies"]["consfig-file"]["path"].as_str(),
            Some("/opt/sdk \"x\"/consfig-wasm/file"),
            "the standard file module's crate, beside the SDK"
        );
        let module: toml::Table = read("modules/web-site/Cargo.toml").parse().unwrap();
        assert_eq!(module["package"]["name"].as_str(), Some("web-site"));
        assert!(read("modules/web-site/src/lib.rs").contains("name: \"web-site\""));
        let consfig: toml::Table = read("Consfig.toml").parse().unwrap();
        let www = made.dir.join("www").display().to_string();
        assert_eq!(
            consfig["module"]["web-site"]["grants"][0].as_str(),
            Some(format!("write:{www}").as_str())
        );
        assert_eq!(
            consfig["hosts"]["laptop"]["properties"][0][1].as_str(),
            Some(www.as_str())
        );
        assert_eq!(read("README.md").lines().count(), 3);
        assert!(read(".gitignore").lines().any(|l| l == "/target"));
        // Never over a consfig that is there.
        assert!(matches!(
            create(&dir, Path::new("/sdk"), Language::Python),
            Err(ScaffoldError::NotEmpty(_))
        ));
    }

    #[test]
    fn writes_a_python_or_js_module_and_a_consfig_without_a_workspace() {
        for (language, source, declared) in [
            (Language::Python, "app.py", "module(\"my-site\""),
            (Language::JavaScript, "app.js", "module(\"my-site\""),
        ] {
            let root = tempfile::tempdir().unwrap();
            let made = create(&root.path().join("my_site"), Path::new("/sdk"), language).unwrap();
            assert_eq!(made.module, "my-site");
            let read = |p: &str| std::fs::read_to_string(made.dir.join(p)).unwrap();
            let app = read(&format!("modules/my-site/{source}"));
            assert!(app.contains(declared), "{app}");
            assert!(!app.contains("@NAME@"), "{app}");
            assert!(!made.dir.join("Cargo.toml").exists());
            let consfig: toml::Table = read("Consfig.toml").parse().unwrap();
            assert_eq!(
                consfig["modules"].as_array().unwrap(),
                &[toml::Value::from("modules/my-site")]
            );
            let www = made.dir.join("www").display().to_string();
            assert_eq!(
                consfig["module"]["my-site"]["grants"][0].as_str(),
                Some(format!("write:{www}").as_str())
            );
            assert_eq!(
                consfig["hosts"]["laptop"]["properties"][0][0].as_str(),
                Some("my-site:hello")
            );
            assert!(read(".gitignore").lines().any(|l| l == "/www"));
            let readme = read("README.md");
            assert_eq!(readme.lines().count(), 3);
            assert!(readme.contains(source), "{readme}");
        }
    }
}
