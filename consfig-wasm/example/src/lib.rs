//! The example consfig module: how a module of your own composes the
//! standard ones.
//!
//! `example:website` puts a small static website in place by applying forms
//! of the `file` and `cmd` modules through the host, exactly as a consfig
//! would list them, built with those modules' typed constructors (their
//! crates are dependencies); each step is idempotent, so the whole is too.
//! The consfig deploying it is `Consfig.toml`, next to this crate.

use consfig_cmd::forms as cmd;
use consfig_file::forms as file;
use consfig_guest::prelude::*;

/// Put a small static website under `root`: the directory, an `index.html`
/// (mode 0644) greeting from this host, and a `built.txt` a build command
/// makes once.
///
/// Changed if any step changed the host.
#[property]
fn website(root: String) -> Result<Change> {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        bail!("refusing to make a website of /");
    }
    let index = format!("{root}/index.html");
    let built = format!("{root}/built.txt");
    let page = format!(
        "<!doctype html>\n<title>{host}</title>\n<h1>Hello from {host}</h1>\n<p>Managed by Consfig.</p>\n",
        host = host::hostname(),
    );
    // The path reaches the shell as an argument, never as shell code.
    let build = ["sh", "-c", "echo built > \"$1\"", "sh", &built].map(String::from);

    let steps: [Form; 4] = [
        file::directory_exists(root).into(),
        file::has_content(&index, page).into(),
        file::has_mode(&index, Mode::new(0o644)?),
        cmd::single(build).creates(&built).into(),
    ];
    let mut change = Change::Unchanged;
    for step in &steps {
        change |= apply(step)?;
    }
    Ok(change)
}

consfig_guest::module! {
    name: "example",
    doc: "The example consfig module: a website composed of file: and cmd: forms.",
    properties: [website],
}

#[cfg(test)]
mod tests {
    use consfig_guest::serde_json::json;
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn names(forms: &[Form]) -> Vec<&str> {
        forms.iter().map(Form::name).collect()
    }

    #[test]
    fn composes_file_and_cmd_forms_without_running_them() {
        let host = FakeHost::new().hostname("web1");
        assert_eq!(
            host.apply(|| website("/srv/site/".into())),
            Ok(Change::Unchanged),
            "every step answered unchanged"
        );
        let forms = host.forms_applied();
        assert_eq!(
            names(&forms),
            [
                "file:directory-exists",
                "file:has-content",
                "file:has-mode",
                "cmd:single"
            ]
        );
        assert_eq!(forms[0].args()[0], json!("/srv/site"));
        // Built with cmd's typed constructor: `creates` is given by name.
        assert_eq!(
            forms[3].args()[1],
            json!({"creates": "/srv/site/built.txt"})
        );
        let page = forms[1].args()[1].as_str().unwrap();
        assert!(page.contains("<h1>Hello from web1</h1>"), "{page}");
        assert!(
            host.commands_run().is_empty(),
            "the cmd: form was only recorded"
        );
        assert!(!host.exists("/srv/site"), "and so were the file: forms");
    }

    #[test]
    fn changed_when_a_step_changed_and_stops_at_a_failure() {
        let root = Form::new("file:directory-exists").arg("/srv/site").unwrap();
        let host = FakeHost::new().form(root.clone(), Change::Changed);
        assert_eq!(
            host.apply(|| website("/srv/site".into())),
            Ok(Change::Changed)
        );

        let host = FakeHost::new().form_fails(root, "mkdir /srv/site: Permission denied");
        assert_eq!(
            host.apply(|| website("/srv/site".into()))
                .unwrap_err()
                .message(),
            "file:directory-exists: mkdir /srv/site: Permission denied"
        );
        assert_eq!(host.forms_applied().len(), 1, "no step after the failure");
    }

    #[test]
    fn refuses_the_root() {
        let host = FakeHost::new();
        assert_eq!(
            host.apply(|| website("/".into())).unwrap_err().message(),
            "refusing to make a website of /"
        );
        assert!(host.forms_applied().is_empty());
    }
}
