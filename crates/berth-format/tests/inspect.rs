//! `docker inspect --format` rules.

use berth_format::{render_inspect, FormatError};
use serde_json::{json, Value};

fn objects() -> Vec<Value> {
    vec![
        // Keys in sorted order: output is the same with or without
        // serde_json's preserve_order.
        json!({"Config": {"Cmd": null, "Labels": {"app": "shop"}}, "Id": "abc", "Name": "/web", "State": {"Running": true, "Status": "running"}}),
        json!({"Config": {"Cmd": ["sh"], "Labels": {}}, "Id": "def", "Name": "/db", "State": {"Running": false, "Status": "exited"}}),
    ]
}

fn inspect(format: &str, objects: &[Value]) -> (String, Result<(), FormatError>) {
    let mut out = Vec::new();
    let res = render_inspect(format, objects, &mut out);
    (String::from_utf8(out).unwrap(), res)
}

#[test]
fn default_is_an_indented_array() {
    let (out, res) = inspect("", &objects()[1..]);
    res.unwrap();
    let expected = r#"[
    {
        "Config": {
            "Cmd": [
                "sh"
            ],
            "Labels": {}
        },
        "Id": "def",
        "Name": "/db",
        "State": {
            "Running": false,
            "Status": "exited"
        }
    }
]
"#;
    assert_eq!(out, expected);
    let (out, _) = inspect("", &[]);
    assert_eq!(out, "[]\n");
}

#[test]
fn json_is_a_compact_array() {
    let (out, res) = inspect("json", &[json!({"A": 1}), json!({"B": [1.5, null]})]);
    res.unwrap();
    assert_eq!(out, "[{\"A\":1},{\"B\":[1.5,null]}]\n");
}

#[test]
fn template_runs_once_per_object_without_escape_processing() {
    let (out, res) = inspect(
        r"{{.Name}}\t{{.State.Status}} {{index .Config.Labels `app`}}",
        &objects(),
    );
    res.unwrap();
    assert_eq!(out, "/web\\trunning shop\n/db\\texited \n");
}

#[test]
fn unknown_struct_field_fails_but_unknown_label_prints_no_value() {
    let (out, res) = inspect("{{.Config.Labels.nope}}", &objects());
    res.unwrap();
    assert_eq!(out, "<no value>\n<no value>\n");

    let (out, res) = inspect("{{.State.Nope}}", &objects()[..1]);
    assert_eq!(out, "\n");
    assert_eq!(
        res.unwrap_err().to_string(),
        "template parsing error: template: :1:8: executing \"\" at <.State.Nope>: map has no entry for key \"Nope\""
    );
}

#[test]
fn failing_objects_are_reported_after_the_others() {
    // The first object's Cmd is null: ranging is fine, indexing is not.
    let (out, res) = inspect("{{index .Config.Cmd 0}}", &objects());
    assert_eq!(out, "sh\n");
    let err = res.unwrap_err();
    assert!(
        err.to_string().starts_with("template parsing error: "),
        "{err}"
    );

    let (_, res) = inspect("{{.Nope}}", &objects());
    let msg = res.unwrap_err().to_string();
    assert_eq!(msg.lines().count(), 2, "{msg}");
}

#[test]
fn bad_template_writes_nothing() {
    let (out, res) = inspect("{{.Name", &objects());
    assert_eq!(out, "");
    let err = res.unwrap_err();
    assert!(err.is_parse());
    assert_eq!(
        err.to_string(),
        "template parsing error: template: :1: unclosed action"
    );
}
