//! `--format` for list commands, checked against what docker CLI 28.2.2
//! printed for `docker context ls` over the same two contexts.

use berth_format::{Format, FormatError, RowContext};
use serde_json::{json, Value};

/// Rows as `docker context ls --format '{{json .}}'` printed them.
fn contexts() -> Vec<Value> {
    vec![
        json!({"Current": false, "Description": "a much longer description here", "DockerEndpoint": "tcp://127.0.0.1:1", "Error": "", "Name": "berth-test-ctx"}),
        json!({"Current": true, "Description": "Current DOCKER_HOST based configuration", "DockerEndpoint": "unix:///var/run/docker.sock", "Error": "", "Name": "default"}),
    ]
}

const HEADERS: &[(&str, &str)] = &[
    ("Name", "NAME"),
    ("Description", "DESCRIPTION"),
    ("DockerEndpoint", "DOCKER ENDPOINT"),
    ("Error", "ERROR"),
];

const DEFAULT_TABLE: &str =
    "{{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}";

fn ctx() -> RowContext<'static> {
    RowContext {
        headers: HEADERS,
        type_name: Some("*formatter.clientContextContext"),
        ..RowContext::default()
    }
}

fn render(format: &str, rows: &[Value]) -> Result<String, FormatError> {
    let mut out = Vec::new();
    Format::parse(format, DEFAULT_TABLE).render_rows(rows, &ctx(), &mut out)?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}

#[test]
fn format_parse_follows_docker_keywords() {
    assert_eq!(
        Format::parse("", "{{.ID}}"),
        Format::Table("{{.ID}}".into())
    );
    assert_eq!(
        Format::parse("table", "{{.ID}}"),
        Format::Table("{{.ID}}".into())
    );
    assert_eq!(
        Format::parse("table {{.Name}}", "{{.ID}}"),
        Format::Table(" {{.Name}}".into())
    );
    assert_eq!(Format::parse("json", "{{.ID}}"), Format::Json);
    assert_eq!(
        Format::parse("JSON", "{{.ID}}"),
        Format::Template("JSON".into())
    );
    assert_eq!(
        Format::parse("{{.Name}}", "{{.ID}}"),
        Format::Template("{{.Name}}".into())
    );
    assert!(Format::parse("tablex", "").is_table());
    assert!(!Format::Json.is_table());
}

#[test]
fn escapes_and_spaces_are_processed_like_docker() {
    let f = Format::parse(r"table   {{.A}}\t{{.B}}\n  ", "");
    assert_eq!(f.template_text(), "{{.A}}\t{{.B}}\n");
    assert_eq!(Format::Json.template_text(), "{{json .}}");
    // The replacement also hits quoted strings, which then break: as in Docker.
    let err = render(r#"{{join (split .Name "-") "\n"}}"#, &contexts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template parsing error: template: :1: unterminated quoted string"
    );
}

#[test]
fn default_table_matches_docker() {
    let expected = "\
NAME             DESCRIPTION                               DOCKER ENDPOINT               ERROR
berth-test-ctx   a much longer description here            tcp://127.0.0.1:1             
default *        Current DOCKER_HOST based configuration   unix:///var/run/docker.sock   
";
    assert_eq!(render("", &contexts()).unwrap(), expected);
    assert_eq!(render("table", &contexts()).unwrap(), expected);
}

#[test]
fn custom_tables_match_docker() {
    let cases = [
        (
            r"table {{.Name}}\t{{.DockerEndpoint}}",
            "NAME             DOCKER ENDPOINT\nberth-test-ctx   tcp://127.0.0.1:1\ndefault          unix:///var/run/docker.sock\n",
        ),
        (
            // Header functions keep the titles; `pad` is applied to them too.
            r"table {{upper .Name}}\t{{json .Description}}\t{{truncate .Name 3}}|",
            "NAME             DESCRIPTION                                 NAME|\n\
             BERTH-TEST-CTX   \"a much longer description here\"            ber|\n\
             DEFAULT          \"Current DOCKER_HOST based configuration\"   def|\n",
        ),
        (
            r#"table {{pad .Name 1 1}}\t{{split .Name "-"}}"#,
            " NAME              NAME\n berth-test-ctx    [berth test ctx]\n default           [default]\n",
        ),
        (
            r"table {{.Name}}\t{{.Error}}",
            "NAME             ERROR\nberth-test-ctx   \ndefault          \n",
        ),
    ];
    for (format, expected) in cases {
        assert_eq!(
            render(format, &contexts()).unwrap(),
            expected,
            "format {format:?}"
        );
    }
}

#[test]
fn short_columns_get_docker_minimum_width() {
    let rows = [json!({"Name": "a", "Error": "x"})];
    assert_eq!(
        render(r"table {{.Name}}\t{{.Error}}", &rows).unwrap(),
        "NAME      ERROR\na         x\n"
    );
}

#[test]
fn table_without_rows_prints_the_header() {
    assert_eq!(
        render(r"table {{.Name}}\t{{.Error}}", &[]).unwrap(),
        "NAME      ERROR\n"
    );
}

#[test]
fn plain_template_prints_one_line_per_row_without_header() {
    assert_eq!(
        render(r"{{.Name}}\t{{.Current}}", &contexts()).unwrap(),
        "berth-test-ctx\tfalse\ndefault\ttrue\n"
    );
    assert_eq!(render("{{.Name}}", &[]).unwrap(), "");
}

#[test]
fn json_prints_each_row_on_a_line() {
    let expected = "\
{\"Current\":false,\"Description\":\"a much longer description here\",\"DockerEndpoint\":\"tcp://127.0.0.1:1\",\"Error\":\"\",\"Name\":\"berth-test-ctx\"}
{\"Current\":true,\"Description\":\"Current DOCKER_HOST based configuration\",\"DockerEndpoint\":\"unix:///var/run/docker.sock\",\"Error\":\"\",\"Name\":\"default\"}
";
    assert_eq!(render("json", &contexts()).unwrap(), expected);
}

#[test]
fn unknown_field_is_a_docker_error_and_prints_nothing() {
    let mut out = Vec::new();
    let err = Format::parse("table {{.Name}}{{.Nope}}", DEFAULT_TABLE)
        .render_rows(&contexts(), &ctx(), &mut out)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "template parsing error: template: :1:11: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.clientContextContext"
    );
    assert!(out.is_empty());
}

#[test]
fn without_type_name_unknown_fields_print_no_value() {
    let ctx = RowContext {
        headers: HEADERS,
        ..RowContext::default()
    };
    let mut out = Vec::new();
    Format::parse("{{.Name}} {{.Nope}}", "")
        .render_rows(&contexts()[..1], &ctx, &mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "berth-test-ctx <no value>\n"
    );
}

#[test]
fn header_stops_at_a_header_error_like_docker() {
    fn label(row: &Value, args: &[Value]) -> Result<Value, String> {
        let key = args.first().and_then(Value::as_str).unwrap_or_default();
        Ok(row["Labels"].get(key).cloned().unwrap_or_else(|| json!("")))
    }
    let ctx = RowContext {
        headers: &[("Name", "NAME")],
        type_name: Some("T"),
        methods: &[("Label", label)],
    };
    let rows = [json!({"Name": "web", "Labels": {"app": "shop"}})];
    let mut out = Vec::new();
    Format::parse(r#"table {{.Name}}\t{{.Label "app"}}\t{{.Name}}"#, "")
        .render_rows(&rows, &ctx, &mut out)
        .unwrap();
    // The header map has no Label method: the header stops after "NAME\t".
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "NAME      \nweb       shop      web\n"
    );
}

#[test]
fn wide_characters_take_two_columns() {
    let rows = [
        json!({"Name": "日本", "Error": "x"}),
        json!({"Name": "abcdefghij", "Error": "y"}),
    ];
    assert_eq!(
        render(r"table {{.Name}}\t{{.Error}}", &rows).unwrap(),
        "NAME         ERROR\n日本         x\nabcdefghij   y\n"
    );
}
