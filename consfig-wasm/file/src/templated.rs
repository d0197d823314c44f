//! `file:templated`: a file rendered from a Jinja2 template on the host,
//! with the form's and the host's variables and the host's facts.

use consfig_guest::prelude::*;
use consfig_guest::serde::{Deserialize, Serialize};
use consfig_guest::serde_json::{Map, Value, json};

use crate::content::{Attributes, file_has};
use crate::ownership::{Group, User};
use crate::template;

/// A template: the path of a file of the consfig (relative to
/// Consfig.toml), or its text, `{"inline": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(crate = "consfig_guest::serde", untagged, try_from = "Value")]
pub enum Template {
    File(String),
    Inline { inline: String },
}

impl TryFrom<Value> for Template {
    type Error = String;

    fn try_from(json: Value) -> Result<Self, String> {
        match json {
            Value::String(path) => Ok(Template::File(path)),
            Value::Object(map) if map.len() == 1 => match map.get("inline") {
                Some(Value::String(text)) => Ok(Template::Inline {
                    inline: text.clone(),
                }),
                _ => Err(not_a_template(&Value::Object(map))),
            },
            other => Err(not_a_template(&other)),
        }
    }
}

fn not_a_template(json: &Value) -> String {
    format!(
        "{json} is not a template: give the path of a template file of the consfig \
         (relative to Consfig.toml) or {{\"inline\": \"TEXT\"}}"
    )
}

/// Ensure a file is what a Jinja2 template renders (minijinja's dialect),
/// rendered on the host. TEMPLATE is the path of a template file of the
/// consfig, relative to Consfig.toml (sent to the hosts whose forms name
/// it), or the template's text, `{"inline": "..."}`.
///
/// The template sees every variable at its top level and under `vars`: the
/// host's variables from Consfig.toml, overridden by the form's `vars`. And
/// `facts`: `hostname`, `architecture`, `os` (`id`, `version_id`,
/// `version_codename`, `pretty_name`, from the host's os-release; absent
/// when it has none), `in_chroot`, and `user` (who the form runs as, by
/// name). A variable that is not defined is an error naming the template and
/// line (`is defined` and the `default` filter still test for one), so a typo
/// never empties a file. As with Ansible's `template`, the newline after a
/// block tag is dropped, the template's last newline kept, and values are
/// written as they are (not HTML-escaped, whatever the template's name).
///
/// Written as `has-content` writes: atomically and only when the rendered
/// text differs, with `mode` (e.g. `"0640"`; a new file otherwise gets
/// 0644, an existing one keeps its mode); `owner` and `group` (names or
/// numbers, resolved in the host's own /etc/passwd and /etc/group) are set
/// when they differ. Check mode renders too, and predicts exactly.
#[property]
pub fn templated(
    path: String,
    template: Template,
    vars: Option<Map<String, Value>>,
    mode: Option<Mode>,
    owner: Option<User>,
    group: Option<Group>,
) -> Result<Change> {
    let (name, source) = match template {
        Template::File(file) => {
            let bytes = host::consfig_file(&file)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::new(format!("template {file} is not UTF-8 text")))?;
            (file, text)
        }
        Template::Inline { inline } => ("inline".to_owned(), inline),
    };
    let context = template::context(&host::vars(), &vars.unwrap_or_default(), facts());
    let text = template::render(&name, &source, &context).map_err(|e| Error::new(e.to_string()))?;
    let attributes = Attributes::of(mode, owner.as_ref(), group.as_ref())?;
    file_has(&path, text.as_bytes(), &attributes)
}

/// The facts a template sees as `facts`.
fn facts() -> Value {
    let me = host::identity();
    let mut facts = json!({
        "hostname": host::hostname(),
        "architecture": host::architecture(),
        "in_chroot": host::in_chroot(),
        "user": me.user.unwrap_or_else(|| me.uid.to_string()),
    });
    // Without os-release, `facts.os` is undefined, and only a template
    // using it fails.
    if let Ok(os) = host::os_release() {
        facts["os"] = json!({
            "id": os.id,
            "version_id": os.version_id,
            "version_codename": os.version_codename,
            "pretty_name": os.pretty_name,
        });
    }
    facts
}

/// A path of the consfig, or `{"inline": "..."}`.
impl consfig_guest::HasSchema for Template {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::String, Schema::Object(Some(Box::new(Schema::String)))])
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::host::OsRelease;
    use consfig_guest::testing::FakeHost;

    use super::*;

    use consfig_guest::testing::failure;

    fn inline(text: &str) -> Template {
        Template::Inline {
            inline: text.to_owned(),
        }
    }

    fn debian() -> OsRelease {
        OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }
    }

    const SITE: &str = "\
# {{ facts.hostname }} ({{ facts.os.pretty_name }})
{% for port in ports %}
listen {{ port }};
{% endfor %}
server_name {{ vars.domain }};
";

    #[test]
    fn a_template_file_of_the_consfig_renders_with_variables_and_facts() {
        let host = FakeHost::new()
            .hostname("web1")
            .os_release(debian())
            .var("domain", "example.org")
            .var("ports", json!([80, 443]))
            .consfig_file("templates/site.j2", SITE)
            .dir("/etc/nginx");
        let site = || {
            templated(
                "/etc/nginx/site".into(),
                Template::File("templates/site.j2".into()),
                None,
                None,
                None,
                None,
            )
        };
        assert_eq!(host.apply(site), Ok(Change::Changed));
        assert_eq!(
            host.text("/etc/nginx/site").as_deref(),
            Some(
                "# web1 (Debian GNU/Linux 12 (bookworm))\nlisten 80;\nlisten 443;\n\
                 server_name example.org;\n"
            )
        );
        assert_eq!(host.stat("/etc/nginx/site").unwrap().mode.bits(), 0o644);
        assert_eq!(host.apply(site), Ok(Change::Unchanged));

        let form_vars = json!({"domain": "example.net"});
        let Value::Object(form_vars) = form_vars else {
            unreachable!()
        };
        let overridden = move || {
            templated(
                "/etc/nginx/site".into(),
                Template::File("templates/site.j2".into()),
                Some(form_vars),
                None,
                None,
                None,
            )
        };
        assert_eq!(host.apply(overridden.clone()), Ok(Change::Changed));
        assert!(
            host.text("/etc/nginx/site")
                .unwrap()
                .ends_with("server_name example.net;\n")
        );
        assert_eq!(host.apply(overridden), Ok(Change::Unchanged));
    }

    #[test]
    fn an_undefined_variable_fails_naming_template_and_line_and_writes_nothing() {
        let host = FakeHost::new()
            .os_release(debian())
            .consfig_file("templates/site.j2", SITE)
            .var("ports", json!([80]));
        let result = host.apply(|| {
            templated(
                "/site".into(),
                Template::File("templates/site.j2".into()),
                None,
                None,
                None,
                None,
            )
        });
        assert_eq!(
            failure(result),
            "template templates/site.j2, line 5: `vars.domain` is undefined"
        );
        assert!(!host.exists("/site"));
        let result = host.apply(|| {
            templated(
                "/x".into(),
                inline("{{ a }}\n{{ b }}"),
                None,
                None,
                None,
                None,
            )
        });
        assert_eq!(failure(result), "template inline, line 1: `a` is undefined");
    }

    #[test]
    fn a_template_missing_from_the_consfig_is_an_error() {
        let host = FakeHost::new();
        let result = host.apply(|| {
            templated(
                "/x".into(),
                Template::File("nope.j2".into()),
                None,
                None,
                None,
                None,
            )
        });
        assert!(failure(result).contains("nope.j2"));
        assert!(!host.exists("/x"));
    }

    #[test]
    fn facts_are_the_hosts() {
        let host = FakeHost::new()
            .hostname("db1")
            .architecture("aarch64")
            .in_chroot(true)
            .os_release(debian());
        let text = "{{ facts.hostname }} {{ facts.architecture }} {{ facts.in_chroot }} \
                    {{ facts.user }} {{ facts.os.id }} {{ facts.os.version_id }} \
                    {{ facts.os.version_codename }}";
        assert_eq!(
            host.apply(|| templated("/f".into(), inline(text), None, None, None, None)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.text("/f").as_deref(),
            Some("db1 aarch64 True root debian 12 bookworm")
        );
    }

    #[test]
    fn mode_owner_and_group_are_set_with_the_write_and_when_they_differ() {
        let host = FakeHost::new()
            .user("www-data", 33, 33)
            .group("www-data", 33, Vec::<String>::new())
            .dir("/etc");
        let mode = || Some(Mode::new(0o640).unwrap());
        let secret = || {
            templated(
                "/etc/app.conf".into(),
                inline("key = {{ 6 * 7 }}\n"),
                None,
                mode(),
                Some("www-data".into()),
                Some("33".into()),
            )
        };
        assert_eq!(host.apply(secret), Ok(Change::Changed));
        let stat = host.stat("/etc/app.conf").unwrap();
        assert_eq!((stat.mode.bits(), stat.uid, stat.gid), (0o640, 33, 33));
        assert_eq!(host.text("/etc/app.conf").as_deref(), Some("key = 42\n"));
        assert_eq!(host.apply(secret), Ok(Change::Unchanged));

        let host = host
            .mode("/etc/app.conf", 0o666)
            .owner("/etc/app.conf", 0, 0);
        assert_eq!(host.apply(secret), Ok(Change::Changed));
        let stat = host.stat("/etc/app.conf").unwrap();
        assert_eq!((stat.mode.bits(), stat.uid, stat.gid), (0o640, 33, 33));

        let nobody = host.apply(|| {
            templated(
                "/etc/app.conf".into(),
                inline(""),
                None,
                None,
                Some("nobody".into()),
                None,
            )
        });
        assert_eq!(
            failure(nobody),
            "there is no user nobody on this host (in its /etc/passwd)"
        );
    }

    #[test]
    fn check_mode_renders_and_predicts() {
        let host = FakeHost::new().check_mode().file("/f", "old\n");
        let f = || templated("/f".into(), inline("new\n"), None, None, None, None);
        assert_eq!(host.apply(f), Ok(Change::Changed));
        assert_eq!(host.apply(f), Ok(Change::Unchanged));
    }

    #[test]
    fn no_directory_or_symlink_is_replaced() {
        let host = FakeHost::new().dir("/d").symlink("/l", "/d");
        for path in ["/d", "/l"] {
            let path = path.to_owned();
            let result = host.apply(move || templated(path, inline("x"), None, None, None, None));
            assert!(failure(result).ends_with("not a file: not replacing it"));
        }
    }

    #[test]
    fn forms_take_a_path_or_inline_text_and_options_by_name() {
        let host = FakeHost::new().module(&crate::MODULE);
        let form = |json: &str| json.parse::<Form>().unwrap();
        assert_eq!(
            host.apply_form(&form(
                r#"["file:templated", "/motd", {"inline": "hi {{ who }}\n"},
                    {"vars": {"who": "ada"}, "mode": "0600"}]"#
            )),
            Ok(Change::Changed)
        );
        assert_eq!(host.text("/motd").as_deref(), Some("hi ada\n"));
        assert_eq!(host.stat("/motd").unwrap().mode.bits(), 0o600);
        let bad = host.apply_form(&form(r#"["file:templated", "/motd", {"text": "x"}]"#));
        assert_eq!(
            failure(bad),
            "argument 2 (template): {\"text\":\"x\"} is not a template: give the path of a \
             template file of the consfig (relative to Consfig.toml) or {\"inline\": \"TEXT\"}"
        );
        let bad = host.apply_form(&form(
            r#"["file:templated", "/motd", "t.j2", {"vars": [1]}]"#,
        ));
        assert_eq!(
            failure(bad),
            "keyword argument vars: invalid type: sequence, expected a map"
        );
    }
}
