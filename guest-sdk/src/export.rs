//! The module as the host sees it: the table `module!` builds, and the
//! `properties` export (init, describe, validate, apply) working on it.
//!
//! Dispatch lives here rather than in the macro's expansion so that it is
//! ordinary, tested code; the expansion only forwards to it.

use serde_json::Value;

use crate::bindings::consfig::module::types as wit;
use crate::property::{Param, Property};
use crate::{Change, Error, Result, args};

/// One property in a module's table.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub doc: &'static str,
    pub params: &'static [Param],
    pub validate: fn(&[Value]) -> Result<()>,
    pub call: fn(Vec<Value>) -> Result<Change>,
    pub check_defaults: fn() -> Result<()>,
}

impl Entry {
    pub const fn of<P: Property>() -> Entry {
        Entry {
            name: P::NAME,
            doc: P::DOC,
            params: P::PARAMS,
            validate: P::validate,
            call: P::call,
            check_defaults: P::check_defaults,
        }
    }
}

/// A module: what `module!` defines.
#[derive(Debug)]
pub struct Module {
    pub name: &'static str,
    pub doc: &'static str,
    pub init: Option<fn() -> Result<()>>,
    pub properties: &'static [Entry],
    /// Grants the module needs, as text (see `module!`).
    pub needs: &'static [&'static str],
}

impl Module {
    pub fn full_name(&self, property: &Entry) -> String {
        format!("{}:{}", self.name, property.name)
    }

    /// The property with this full name, e.g. `file:has-content`.
    pub fn property(&self, name: &str) -> Result<&Entry> {
        let local = name
            .strip_prefix(self.name)
            .and_then(|rest| rest.strip_prefix(':'));
        if let Some(entry) = local.and_then(|l| self.properties.iter().find(|p| p.name == l)) {
            return Ok(entry);
        }
        let known: Vec<String> = self.properties.iter().map(|p| self.full_name(p)).collect();
        let known = match known.is_empty() {
            true => "it has none".to_owned(),
            false => format!("it has {}", known.join(", ")),
        };
        Err(Error::new(format!(
            "module {} has no property {name} ({known})",
            self.name
        )))
    }

    /// Check every property's defaults, then run the module's init.
    pub fn init(&self) -> Result<()> {
        for property in self.properties {
            (property.check_defaults)().map_err(|e| e.context(self.full_name(property)))?;
        }
        self.init.map_or(Ok(()), |init| init())
    }

    /// Decode a form's arguments without effect; forms among them are
    /// validated too (see `form::validating`).
    pub fn validate(&'static self, name: &str, args: &str) -> Result<()> {
        let property = self.property(name)?;
        let args = args::parse(args)?;
        crate::form::validating(self, || (property.validate)(&args))
    }

    pub fn apply(&self, name: &str, args: &str) -> Result<Change> {
        let property = self.property(name)?;
        (property.call)(args::parse(args)?)
    }

    pub fn describe(&self) -> wit::ModuleInfo {
        wit::ModuleInfo {
            name: self.name.to_owned(),
            doc: self.doc.trim().to_owned(),
            needs: self.needs.iter().map(|n| (*n).to_owned()).collect(),
            properties: self
                .properties
                .iter()
                .map(|p| wit::PropertyInfo {
                    name: self.full_name(p),
                    doc: p.doc.to_owned(),
                    params: p
                        .params
                        .iter()
                        .map(|param| wit::ParamInfo {
                            name: param.name.to_owned(),
                            schema: (param.schema)().to_string(),
                            optional: param.optional,
                            default: param.default.map(str::to_owned),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    // The rest of the `properties` export, with errors as text.

    pub fn export_init(&self) -> Result<(), String> {
        report_panics();
        self.init().map_err(|e| e.to_string())
    }

    pub fn export_describe(&self) -> wit::ModuleInfo {
        report_panics();
        self.describe()
    }

    pub fn export_validate(&'static self, name: &str, args: &str) -> Result<(), String> {
        report_panics();
        self.validate(name, args).map_err(|e| e.to_string())
    }

    pub fn export_apply(&self, name: &str, args: &str) -> Result<wit::Change, String> {
        report_panics();
        match self.apply(name, args) {
            Ok(Change::Unchanged) => Ok(wit::Change::Unchanged),
            Ok(Change::Changed) => Ok(wit::Change::Changed),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Tell the host why the module panics, before it aborts, so the form's
/// reason says so; the standard hook still prints the message with the
/// form's output. Installed once, in the module (never in native tests,
/// which have no host to tell).
fn report_panics() {
    #[cfg(target_arch = "wasm32")]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            let standard = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                crate::bindings::consfig::module::host::panicked(&panic_message(info));
                standard(info);
            }));
        });
    }
}

/// `panicked at src/lib.rs:4:5: deliberate panic`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    match info.location() {
        Some(at) => format!(
            "panicked at {}:{}:{}: {message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("panicked: {message}"),
    }
}

/// Whether two property names are equal, in a constant: `module!` refuses
/// two properties of the same name at compile time.
pub const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Where a property function's result is returned, so that a function with
/// another return type is reported at its return type.
pub fn returns(result: Result<Change>) -> Result<Change> {
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Form, property};

    /// Ensure a file has exactly this content.
    #[property]
    fn has_content(path: String, content: String) -> Result<Change> {
        Ok(Change::from(path.len() > content.len()))
    }

    /// Remove a path.
    ///
    /// Unchanged if it is absent.
    #[property]
    fn absent(_path: String) -> Result<Change> {
        Ok(Change::Unchanged)
    }

    #[property(name = "single")]
    fn run_single(argv: Vec<String>, creates: Option<String>) -> Result<Change> {
        if argv.is_empty() {
            crate::bail!("empty argv");
        }
        Ok(Change::from(creates.is_none()))
    }

    #[property]
    fn nothing() -> Result<Change> {
        Ok(Change::Unchanged)
    }

    /// Named like the expansion's locals, which must not shadow it.
    #[property]
    fn args(params: Vec<u32>) -> Result<Change> {
        Ok(Change::from(!params.is_empty()))
    }

    fn setup() -> Result<()> {
        Err("no setup today".into())
    }

    static FILE: Module = Module {
        name: "file",
        doc: "Files and directories.\n",
        init: None,
        properties: &[
            Entry::of::<__consfig_property_has_content>(),
            Entry::of::<__consfig_property_absent>(),
            Entry::of::<__consfig_property_run_single>(),
            Entry::of::<__consfig_property_nothing>(),
            Entry::of::<__consfig_property_args>(),
        ],
        needs: &[],
    };

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn names_properties_in_kebab_case() {
        assert_eq!(__consfig_property_has_content::NAME, "has-content");
        assert_eq!(__consfig_property_run_single::NAME, "single");
        let names: Vec<_> = FILE
            .describe()
            .properties
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(
            names,
            [
                "file:has-content",
                "file:absent",
                "file:single",
                "file:nothing",
                "file:args",
            ]
        );
    }

    #[test]
    fn describes_docs_and_params() {
        let info = FILE.describe();
        assert_eq!(
            (info.name.as_str(), info.doc.as_str()),
            ("file", "Files and directories.")
        );
        let [content, absent, single, nothing, _] = &info.properties[..] else {
            panic!()
        };
        assert_eq!(content.doc, "Ensure a file has exactly this content.");
        assert_eq!(absent.doc, "Remove a path.\n\nUnchanged if it is absent.");
        assert_eq!(nothing.doc, "");
        let params = |p: &wit::PropertyInfo| {
            p.params
                .iter()
                .map(|p| (p.name.clone(), p.schema.clone(), p.optional))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            params(content),
            [
                ("path".into(), "string".into(), false),
                ("content".into(), "string".into(), false)
            ]
        );
        assert_eq!(params(absent), [("path".into(), "string".into(), false)]);
        assert_eq!(
            params(single),
            [
                ("argv".into(), "list<string>".into(), false),
                ("creates".into(), "optional<string>".into(), true)
            ]
        );
    }

    #[test]
    fn applies_by_full_name() {
        assert_eq!(
            FILE.apply("file:has-content", r#"["/etc/motd","hi\n"]"#),
            Ok(Change::Changed)
        );
        assert_eq!(
            FILE.apply("file:has-content", r#"["/x","long"]"#),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            FILE.apply("file:single", r#"[["true"]]"#),
            Ok(Change::Changed)
        );
        assert_eq!(
            FILE.apply("file:single", r#"[["true"], "/x"]"#),
            Ok(Change::Unchanged)
        );
        assert_eq!(err(FILE.apply("file:single", "[[]]")), "empty argv");
        assert_eq!(FILE.apply("file:nothing", "[]"), Ok(Change::Unchanged));
        assert_eq!(FILE.apply("file:args", "[[1]]"), Ok(Change::Changed));
    }

    #[test]
    fn validates_without_calling() {
        FILE.validate("file:single", r#"[["false"]]"#).unwrap();
        FILE.validate("file:single", "[[]]").unwrap();
        assert_eq!(
            err(FILE.validate("file:has-content", r#"["/x"]"#)),
            "missing argument 2 (content)"
        );
        assert_eq!(
            err(FILE.validate("file:has-content", r#"["/x", 42]"#)),
            "argument 2 (content): invalid type: integer `42`, expected a string"
        );
        assert_eq!(
            err(FILE.validate("file:absent", r#"["/x", "extra"]"#)),
            "too many arguments: expected 1 (path), got 2"
        );
        assert_eq!(
            err(FILE.validate("file:absent", r#"{"path": "/x"}"#)),
            "the arguments must be a JSON array, not an object"
        );
    }

    /// Apply each of these forms.
    #[property]
    fn each(forms: Vec<crate::Form>) -> Result<Change> {
        Ok(Change::from(!forms.is_empty()))
    }

    static NEST: Module = Module {
        name: "nest",
        doc: "",
        init: None,
        properties: &[Entry::of::<__consfig_property_each>()],
        needs: &[],
    };

    #[test]
    fn validates_forms_among_the_arguments() {
        NEST.validate("nest:each", r#"[[["nest:each", [["nest:each", []]]]]]"#)
            .unwrap();
        let deep = r#"[[["nest:each", [["nest:each", [], "extra"]]]]]"#;
        assert_eq!(
            err(NEST.validate("nest:each", deep)),
            "argument 1 (forms): nest:each: argument 1 (forms): nest:each: \
             too many arguments: expected 1 (forms), got 2"
        );
        assert_eq!(
            err(NEST.validate("nest:each", r#"[[["nest:nope"]]]"#)),
            "argument 1 (forms): nest:nope: module nest has no property nest:nope (it has nest:each)"
        );
        // Applying decodes forms without validating them: each is validated
        // when it runs.
        assert_eq!(NEST.apply("nest:each", deep), Ok(Change::Changed));
    }

    #[test]
    fn unknown_properties_list_the_known_ones() {
        let known = "(it has file:has-content, file:absent, file:single, file:nothing, file:args)";
        assert_eq!(
            err(FILE.apply("file:nope", "[]")),
            format!("module file has no property file:nope {known}")
        );
        assert_eq!(
            err(FILE.validate("cmd:single", "[]")),
            format!("module file has no property cmd:single {known}")
        );
        assert!(FILE.property("file").is_err());
        assert!(FILE.property("filex:absent").is_err());
    }

    #[test]
    fn runs_init() {
        FILE.init().unwrap();
        let with_setup = Module {
            init: Some(setup),
            ..FILE
        };
        assert_eq!(with_setup.export_init(), Err("no setup today".to_owned()));
    }

    /// Make an account.
    #[property]
    fn account(
        name: String,
        home: Option<String>,
        #[default = "/bin/sh"] login_shell: String,
    ) -> Result<Change> {
        crate::ensure!(
            name != "root" || home.is_some(),
            "{name} {login_shell}: root needs a home"
        );
        Ok(Change::from(login_shell != "/bin/sh"))
    }

    #[property]
    fn listen(#[default = "eighty"] port: u16) -> Result<Change> {
        Ok(Change::from(port > 0))
    }

    static ACCOUNTS: Module = Module {
        name: "file",
        doc: "",
        init: None,
        properties: &[Entry::of::<__consfig_property_account>()],
        needs: &[],
    };

    #[test]
    fn takes_optional_arguments_by_name() {
        let apply = |args: &str| ACCOUNTS.apply("file:account", args);
        assert_eq!(apply(r#"["ada"]"#), Ok(Change::Unchanged));
        assert_eq!(
            apply(r#"["ada", {"login-shell": "/bin/zsh"}]"#),
            Ok(Change::Changed)
        );
        assert_eq!(apply(r#"["ada", null, "/bin/zsh"]"#), Ok(Change::Changed));
        assert_eq!(
            apply(r#"["root", {"home": "/root"}]"#),
            Ok(Change::Unchanged)
        );
        assert_eq!(err(apply(r#"["root"]"#)), "root /bin/sh: root needs a home");
        assert_eq!(
            err(ACCOUNTS.validate("file:account", r#"["ada", {"shell": "/bin/zsh"}]"#)),
            r#"unknown keyword argument "shell": it takes home, login-shell"#
        );
        assert_eq!(
            err(ACCOUNTS.validate("file:account", r#"["ada", {"home": 1}]"#)),
            "keyword argument home: invalid type: integer `1`, expected a string"
        );
        ACCOUNTS
            .validate("file:account", r#"["ada", {"home": "/h"}]"#)
            .unwrap();
    }

    #[test]
    fn describes_optional_parameters_and_defaults() {
        let info = ACCOUNTS.describe();
        let params: Vec<_> = info.properties[0]
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.optional, p.default.as_deref()))
            .collect();
        assert_eq!(
            params,
            [
                ("name", false, None),
                ("home", true, None),
                ("login-shell", true, Some(r#""/bin/sh""#))
            ]
        );
    }

    #[test]
    fn a_default_that_does_not_decode_fails_the_module_at_load() {
        ACCOUNTS.init().unwrap();
        const LISTEN: &[Entry] = &[Entry::of::<__consfig_property_listen>()];
        let broken = Module {
            properties: LISTEN,
            ..ACCOUNTS
        };
        assert_eq!(
            err(broken.init()),
            "file:listen: the default of argument 1 (port), \"eighty\", is no value of it: \
             invalid type: string \"eighty\", expected u16"
        );
    }

    #[test]
    fn builds_typed_forms_that_the_property_takes() {
        let plain = __consfig_form_has_content::has_content("/etc/motd", String::from("hi\n"));
        assert_eq!(
            plain.to_string(),
            r#"["file:has-content","/etc/motd","hi\n"]"#
        );
        let single = __consfig_form_run_single::run_single(vec!["true".to_owned()]);
        assert_eq!(single.to_string(), r#"["file:single",["true"]]"#);
        let creates = single.clone().creates("/x");
        assert_eq!(
            creates.to_string(),
            r#"["file:single",["true"],{"creates":"/x"}]"#
        );
        let account = __consfig_form_account::account("root")
            .login_shell("/bin/zsh")
            .home("/root");
        assert_eq!(
            account.to_string(),
            r#"["file:account","root",{"home":"/root","login-shell":"/bin/zsh"}]"#
        );
        // What the constructors make, the properties take.
        for form in [plain, Form::from(creates), account.into()] {
            let args = serde_json::to_string(form.args()).unwrap();
            let module = if form.name() == "file:account" {
                &ACCOUNTS
            } else {
                &FILE
            };
            module.validate(form.name(), &args).unwrap();
        }
    }

    #[test]
    fn compares_names_in_constants() {
        const { assert!(same_name("has-content", "has-content")) };
        assert!(!same_name("a", "ab"));
        assert!(!same_name("ab", "ac"));
    }
}
