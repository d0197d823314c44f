//! Rendering Jinja2 templates (with minijinja) for `file:templated`: the
//! context a template sees, and errors that name the template and its line.
//!
//! Pure functions of their inputs: the property gathers variables and facts
//! from the host and hands them here.

use std::fmt;

use consfig_guest::serde_json::{Map, Value as Json};
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// Why a template could not be rendered: its name (the consfig's path of the
/// template file, or `inline`), the line when minijinja knows it, and what
/// went wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template {}", self.template)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RenderError {}

/// What a template sees: every variable at the top level and under `vars`
/// (the host's variables, overridden by the form's own), and `facts`.
pub fn context(host_vars: &Map<String, Json>, form_vars: &Map<String, Json>, facts: Json) -> Json {
    let mut vars = host_vars.clone();
    vars.extend(form_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut context = vars.clone();
    // `vars` and `facts` are the names the documentation promises: a
    // variable of the same name is still reachable as `vars.vars`.
    context.insert("vars".into(), Json::Object(vars));
    context.insert("facts".into(), facts);
    Json::Object(context)
}

/// Render `source` (named `name` in errors) with `context`.
///
/// Using a variable or attribute that is not defined is an error, not an
/// empty string: a typo must not silently empty a configuration file (tests
/// such as `is defined` and the `default` filter still work). Whitespace as
/// Ansible's `template` has it: the newline after a block tag is removed
/// (`trim_blocks`) and the template's final newline is kept.
pub fn render(name: &str, source: &str, context: &Json) -> Result<String, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    // Text as written, as Ansible renders it: minijinja would HTML-escape
    // values in templates named `*.html` or `*.xml`.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Keeps the source in errors, so that they show the failing expression.
    env.set_debug(true);
    env.render_named_str(name, source, to_value(context))
        .map_err(|e| error(name, &e))
}

fn error(name: &str, e: &minijinja::Error) -> RenderError {
    let mut message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    // The failing expression, e.g. `vars.domian`, when minijinja has its span.
    if let (Some(source), Some(range)) = (e.template_source(), e.range())
        && let Some(expression) = source.get(range)
        && !message.contains(expression)
    {
        message = format!("{message} (in `{expression}`)");
    }
    RenderError {
        template: name.to_owned(),
        line: e.line(),
        message,
    }
}

/// JSON as minijinja's values: objects become maps (sorted by key, as
/// serde_json keeps them), arrays sequences.
fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (None, Some(u), _) => Value::from(u),
            (None, None, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => items.iter().map(to_value).collect(),
        Json::Object(map) => Value::from_pairs(map.iter().map(|(k, v)| (k.as_str(), to_value(v)))),
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::serde_json::json;

    use super::*;

    fn map(json: Json) -> Map<String, Json> {
        match json {
            Json::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    fn facts() -> Json {
        json!({
            "hostname": "web1",
            "architecture": "x86_64",
            "os": {"id": "debian", "version_id": "12", "version_codename": "bookworm",
                   "pretty_name": "Debian GNU/Linux 12 (bookworm)"},
            "in_chroot": false,
            "user": "root",
        })
    }

    fn render_with(source: &str, host: Json, form: Json) -> Result<String, RenderError> {
        render("t.j2", source, &context(&map(host), &map(form), facts()))
    }

    #[test]
    fn form_vars_override_host_vars_at_top_level_and_under_vars() {
        let out = render_with(
            "{{ domain }} {{ vars.domain }} {{ port }} {{ vars.port }}\n",
            json!({"domain": "example.org", "port": 80}),
            json!({"domain": "example.net"}),
        );
        assert_eq!(out.unwrap(), "example.net example.net 80 80\n");
    }

    #[test]
    fn loops_conditions_and_filters() {
        let source = "\
{% for site in sites | sort(attribute='name') %}
server {{ site.name | upper }}{% if site.tls %} tls{% endif %} {{ loop.index }}/{{ loop.length }}
{% endfor %}
{{ users | join(', ') }}; {{ missing | default('none') }}; {{ 'x' if extra is defined else 'y' }}
";
        let out = render_with(
            source,
            json!({"sites": [{"name": "b", "tls": true}, {"name": "a", "tls": false}],
                   "users": ["ada", "bob"]}),
            json!({}),
        );
        assert_eq!(
            out.unwrap(),
            "server A 1/2\nserver B tls 2/2\nada, bob; none; y\n"
        );
    }

    #[test]
    fn facts_are_under_facts() {
        let out = render_with(
            "{{ facts.hostname }} {{ facts.architecture }} {{ facts.os.id }} \
             {{ facts.os.version_codename }} {{ facts.in_chroot }} {{ facts.user }}",
            json!({}),
            json!({}),
        );
        assert_eq!(out.unwrap(), "web1 x86_64 debian bookworm False root");
    }

    #[test]
    fn an_undefined_variable_names_the_template_line_and_expression() {
        let err = render_with(
            "# managed\nserver_name {{ vars.domian }};\n",
            json!({"domain": "example.org"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!((err.template.as_str(), err.line), ("t.j2", Some(2)));
        assert_eq!(
            err.to_string(),
            "template t.j2, line 2: `vars.domian` is undefined"
        );

        let err = render("inline", "a\nb\n{{ nope }}", &json!({})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template inline, line 3: `nope` is undefined"
        );

        let err = render("inline", "{% for x in nothing %}{% endfor %}", &json!({})).unwrap_err();
        assert_eq!(err.line, Some(1), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let err = render("site.j2", "ok\n{% if x %}\nno end\n", &json!({"x": 1})).unwrap_err();
        assert_eq!(err.template, "site.j2");
        assert!(err.line.is_some(), "{err}");
        assert!(
            err.to_string().starts_with("template site.j2, line "),
            "{err}"
        );
    }

    #[test]
    fn nothing_is_escaped_whatever_the_name() {
        let context = json!({"title": "Tom & <Jerry>"});
        for name in [
            "templates/index.html.j2",
            "index.html",
            "feed.xml",
            "inline",
        ] {
            assert_eq!(
                render(name, "<h1>{{ title }}</h1>", &context).unwrap(),
                "<h1>Tom & <Jerry></h1>",
                "{name}"
            );
        }
    }

    #[test]
    fn the_trailing_newline_is_kept() {
        assert_eq!(render("inline", "x\n", &json!({})).unwrap(), "x\n");
        assert_eq!(render("inline", "x", &json!({})).unwrap(), "x");
    }
}
