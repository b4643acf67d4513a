//! Where berth follows what Docker users see (Go templates over Docker's
//! typed structs) rather than Go over raw JSON, plus Go 1.22+ features.

use berth_format::{MissingField, Template};
use serde_json::{json, Value};

fn render(tmpl: &str, data: &Value) -> Result<String, String> {
    Template::parse(tmpl)
        .and_then(|t| t.render(data))
        .map_err(|e| e.to_string())
}

#[test]
fn join_accepts_json_string_arrays_like_go_string_slices() {
    let data = json!({"Names": ["/web", "/db"], "Mixed": ["a", 1]});
    assert_eq!(
        render("{{join .Names \", \"}}", &data).as_deref(),
        Ok("/web, /db")
    );
    assert_eq!(render("{{join .Missing \",\"}}", &data).as_deref(), Ok(""));
    let err = render("{{join .Mixed \",\"}}", &data).unwrap_err();
    assert!(
        err.ends_with("wrong type for value; expected []string; got []interface {}"),
        "{err}"
    );
}

#[test]
fn index_of_absent_label_is_empty_like_a_go_string_map() {
    let data = json!({"Labels": {"a": "1"}, "NoLabels": null, "Ports": {"80/tcp": [{"HostPort": "8080"}]}});
    assert_eq!(
        render("[{{index .Labels \"zz\"}}]", &data).as_deref(),
        Ok("[]")
    );
    assert_eq!(
        render("[{{index .NoLabels \"zz\"}}]", &data).as_deref(),
        Ok("[]")
    );
    // Maps of non-strings have no such zero value: Go's nil interface.
    assert_eq!(
        render("{{index .Ports \"443/tcp\"}}", &data).as_deref(),
        Ok("<no value>")
    );
    assert_eq!(
        render("{{(index (index .Ports \"80/tcp\") 0).HostPort}}", &data).as_deref(),
        Ok("8080")
    );
}

#[test]
fn len_and_range_of_null_act_as_empty() {
    let data = json!({"Mounts": null});
    assert_eq!(render("{{len .Mounts}}", &data).as_deref(), Ok("0"));
    assert_eq!(
        render("{{range .Mounts}}x{{else}}none{{end}}", &data).as_deref(),
        Ok("none")
    );
}

#[test]
fn field_errors_name_the_json_type() {
    let data = json!({"Name": "web", "N": 1, "L": []});
    let err = render("{{.Name.X}}", &data).unwrap_err();
    assert!(
        err.ends_with("can't evaluate field X in type string"),
        "{err}"
    );
    let err = render("{{.N.X}}", &data).unwrap_err();
    assert!(err.ends_with("can't evaluate field X in type int"), "{err}");
    let err = render("{{.L.X}}", &data).unwrap_err();
    assert!(
        err.ends_with("can't evaluate field X in type []interface {}"),
        "{err}"
    );
}

#[test]
fn numbers_compare_across_int_and_float() {
    let data = json!({"Count": 3, "Ratio": 2.5});
    assert_eq!(
        render(
            "{{eq .Count 3.0}} {{lt .Count .Ratio}} {{gt .Ratio 2}}",
            &data
        )
        .as_deref(),
        Ok("true false true")
    );
}

#[test]
fn range_over_integer() {
    assert_eq!(
        render("{{range 3}}{{.}}{{end}}", &json!({})).as_deref(),
        Ok("012")
    );
    assert_eq!(
        render("{{range $i := 2}}[{{$i}}]{{end}}", &json!({})).as_deref(),
        Ok("[0][1]")
    );
}

#[test]
fn else_with_chain() {
    let data = json!({"A": "", "B": "b"});
    assert_eq!(
        render("{{with .A}}a{{else with .B}}{{.}}{{end}}", &data).as_deref(),
        Ok("b")
    );
}

#[test]
fn case_mapping_is_rune_by_rune() {
    assert_eq!(
        render("{{upper \"straße\"}} {{lower \"ÀB\"}}", &json!({})).as_deref(),
        Ok("STRAßE àb")
    );
}

#[test]
fn json_function_encodes_compactly() {
    assert_eq!(
        render("{{json .}}", &json!({"A": [1, 2.5, "x", null]})).as_deref(),
        Ok("{\"A\":[1,2.5,\"x\",null]}")
    );
}

#[test]
fn json_floats_and_escapes_follow_go_encoding() {
    let data = json!({"F": 1.0, "Big": 1e21, "Tiny": 1e-7, "S": "a\u{1}\u{2028}<>"});
    assert_eq!(
        render(
            "{{json .F}} {{json .Big}} {{json .Tiny}} {{json .S}}",
            &data
        )
        .as_deref(),
        Ok("1 1e+21 1e-7 \"a\\u0001\\u2028<>\"")
    );
}

#[test]
fn row_methods_take_arguments() {
    fn label(row: &Value, args: &[Value]) -> Result<Value, String> {
        let key = args
            .first()
            .and_then(Value::as_str)
            .ok_or("label name must be a string")?;
        Ok(row["Labels"]
            .get(key)
            .cloned()
            .unwrap_or(Value::String(String::new())))
    }
    let tmpl = Template::parse("{{.Label \"app\"}}|{{.Label \"none\"}}|{{\"app\" | .Label}}")
        .unwrap()
        .with_method("Label", label);
    let row = json!({"Labels": {"app": "web"}});
    assert_eq!(tmpl.render(&row).unwrap(), "web||web");
    assert_eq!(tmpl.render(&json!({"Labels": {}})).unwrap(), "||");
    let bad = Template::parse("{{.Label 5}}")
        .unwrap()
        .with_method("Label", label);
    let err = bad.render(&row).unwrap_err().to_string();
    assert!(
        err.ends_with("error calling Label: label name must be a string"),
        "{err}"
    );
}

#[test]
fn missing_field_policies() {
    let row = json!({"Name": "web", "Labels": {"a": "1"}, "State": {"Status": "up"}});
    let plain = Template::parse("{{.Nope}}").unwrap();
    assert_eq!(plain.render(&row).unwrap(), "<no value>");

    let strict_row = Template::parse("{{.Nope}}")
        .unwrap()
        .with_missing_field(MissingField::RowError("*formatter.ContainerContext".into()));
    let err = strict_row.render(&row).unwrap_err().to_string();
    assert_eq!(
        err,
        "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext"
    );
    // Only the row itself is a struct; its maps still print <no value>.
    let nested = Template::parse("{{.Labels.zz}}")
        .unwrap()
        .with_missing_field(MissingField::RowError("T".into()));
    assert_eq!(nested.render(&row).unwrap(), "<no value>");
    let with_args = Template::parse("{{.Name 1}}")
        .unwrap()
        .with_missing_field(MissingField::RowError("T".into()));
    assert!(with_args
        .render(&row)
        .unwrap_err()
        .to_string()
        .ends_with("Name has arguments but cannot be invoked as function"));

    let inspect = |t: &str| {
        Template::parse(t)
            .unwrap()
            .with_missing_field(MissingField::StructError)
            .render(&row)
            .map_err(|e| e.to_string())
    };
    assert!(inspect("{{.State.Nope}}")
        .unwrap_err()
        .ends_with("map has no entry for key \"Nope\""));
    assert!(inspect("{{.Nope}}")
        .unwrap_err()
        .ends_with("map has no entry for key \"Nope\""));
    assert_eq!(inspect("{{.Labels.zz}}").as_deref(), Ok("<no value>"));
}

#[test]
fn go_field_names_reach_json_keys_that_differ_only_in_case() {
    let data =
        serde_json::json!({"Server": {"ApiVersion": "1.50", "apiversion": "other"}, "Os": "linux"});
    // An exact key wins over a case-insensitive one.
    let t = berth_format::Template::parse("{{.Server.apiversion}} {{.OS}}").unwrap();
    assert_eq!(t.render(&data).unwrap(), "other linux");
    let t = berth_format::Template::parse("{{.Server.APIVersion}}").unwrap();
    assert_eq!(
        t.render(&serde_json::json!({"Server": {"ApiVersion": "1.50"}}))
            .unwrap(),
        "1.50"
    );
}
