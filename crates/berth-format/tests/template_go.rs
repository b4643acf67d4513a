//! Go text/template behaviour, table-driven. The expected texts were
//! produced by Go's text/template with docker/cli's template functions over
//! the same JSON data, so each row pins one Go behaviour. Object keys are
//! written in sorted order, so `json` output does not depend on whether
//! serde_json keeps insertion order.

use berth_format::Template;
use serde_json::{json, Value};

fn data() -> Value {
    json!({
        "Name": "web",
        "Labels": {"a": "1", "b": "2", "com.example.x": "y"},
        "Ports": ["80/tcp", "443/tcp"],
        "Size": 1000000,
        "Ratio": 1.5,
        "Nil": null,
        "Up": true,
        "Empty": "",
        "Count": 3,
        "Nested": {"Inner": {"Deep": "v"}},
        "Mixed": [1, "s", null, {"k": "v"}, [1, 2]]
    })
}

/// (what, template, expected output or Go error message)
type Case = (
    &'static str,
    &'static str,
    Result<&'static str, &'static str>,
);

const RENDER_CASES: &[Case] = &[
("field", "{{.Name}}", Ok("web")),
    ("nested field", "{{.Nested.Inner.Deep}}", Ok("v")),
    ("missing key prints no value", "{{.Missing}}", Ok("<no value>")),
    ("missing chain prints no value", "{{.Missing.Deeper}}", Ok("<no value>")),
    ("null prints no value", "{{.Nil}}", Ok("<no value>")),
    ("map printed sorted", "{{.Labels}}", Ok("map[a:1 b:2 com.example.x:y]")),
    ("slice printed", "{{.Ports}}", Ok("[80/tcp 443/tcp]")),
    ("mixed slice printed", "{{.Mixed}}", Ok("[1 s <nil> map[k:v] [1 2]]")),
    ("integer stays integer", "{{.Size}}", Ok("1000000")),
    ("float prints like go", "{{.Ratio}}", Ok("1.5")),
    ("bool", "{{.Up}}", Ok("true")),
    ("json of object", "{{json .Labels}}", Ok("{\"a\":\"1\",\"b\":\"2\",\"com.example.x\":\"y\"}")),
    ("json of slice", "{{json .Ports}}", Ok("[\"80/tcp\",\"443/tcp\"]")),
    ("json of string no html escape", "{{json \"<a&b>\"}}", Ok("\"<a&b>\"")),
    ("json of missing is null", "{{json .Missing}}", Ok("null")),
    ("json of nested", "{{json .Nested}}", Ok("{\"Inner\":{\"Deep\":\"v\"}}")),
    ("range over slice", "{{range .Ports}}[{{.}}]{{end}}", Ok("[80/tcp][443/tcp]")),
    ("range with index", "{{range $i, $p := .Ports}}{{$i}}={{$p}} {{end}}", Ok("0=80/tcp 1=443/tcp ")),
    ("range over map two vars sorted", "{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}", Ok("a=1,b=2,com.example.x=y,")),
    ("range over map one var gets values", "{{range $v := .Labels}}{{$v}}{{end}}", Ok("12y")),
    ("range over map dot is value", "{{range .Labels}}{{.}}{{end}}", Ok("12y")),
    ("range else on null", "{{range .Nil}}x{{else}}none{{end}}", Ok("none")),
    ("range break", "{{range .Ports}}{{if eq . \"443/tcp\"}}{{break}}{{end}}{{.}}{{end}}", Ok("80/tcp")),
    ("range continue", "{{range .Ports}}{{if eq . \"80/tcp\"}}{{continue}}{{end}}{{.}}{{end}}", Ok("443/tcp")),
    ("dollar inside range", "{{range .Ports}}{{$.Name}}:{{.}} {{end}}", Ok("web:80/tcp web:443/tcp ")),
    ("if else", "{{if .Up}}up{{else}}down{{end}}", Ok("up")),
    ("if empty string false", "{{if .Empty}}yes{{else}}no{{end}}", Ok("no")),
    ("else if chain", "{{if .Empty}}a{{else if .Nil}}b{{else if .Count}}c{{end}}", Ok("c")),
    ("with sets dot", "{{with .Nested.Inner}}{{.Deep}}{{end}}", Ok("v")),
    ("with else", "{{with .Missing}}x{{else}}none{{end}}", Ok("none")),
    ("variables", "{{$n := .Name}}{{$n}}-{{$n = \"other\"}}{{$n}}", Ok("web-other")),
    ("variable scope ends with if", "{{$x := \"a\"}}{{if true}}{{$x := \"b\"}}{{$x}}{{end}}{{$x}}", Ok("ba")),
    ("pipeline into printf", "{{.Name | printf \"%s!\"}}", Ok("web!")),
    ("printf verbs", "{{printf \"%s|%5s|%-5s|%d|%05d|%x|%q|%v|%.2f|%t|%e|%g\" .Name .Name .Name 3 42 255 .Name .Ports 3.14159 .Up 1234.5678 0.00001}}", Ok("web|  web|web  |3|00042|ff|\"web\"|[80/tcp 443/tcp]|3.14|true|1.234568e+03|1e-05")),
    ("printf bad verb and missing", "{{printf \"%d|%s\" .Name}}", Ok("%!d(string=web)|%!s(MISSING)")),
    ("printf extra args", "{{printf \"%s\" .Name 1}}", Ok("web%!(EXTRA int=1)")),
    ("printf nil", "{{printf \"%v|%s\" nil nil}}", Ok("<nil>|%!s(<nil>)")),
    ("print spacing", "{{print 1 2 \"a\" \"b\" 3}}", Ok("1 2ab3")),
    ("print nil", "{{print .Nil .Missing}}", Ok("<nil> <nil>")),
    ("println", "{{println .Name 3}}", Ok("web 3\n")),
    ("len", "{{len .Name}} {{len .Ports}} {{len .Labels}}", Ok("3 2 3")),
    ("index map", "{{index .Labels \"com.example.x\"}}", Ok("y")),
    ("index slice", "{{index .Ports 1}}", Ok("443/tcp")),
    ("index nested", "{{index .Mixed 3 \"k\"}}", Ok("v")),
    ("slice", "{{slice .Name 1}} {{slice .Ports 0 1}}", Ok("eb [80/tcp]")),
    ("eq ne lt le gt ge", "{{eq .Name \"web\"}} {{ne .Name \"web\"}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}}", Ok("true false true true true false")),
    ("eq multiple", "{{eq .Name \"db\" \"web\"}}", Ok("true")),
    ("eq missing", "{{eq .Missing \"x\"}} {{eq .Missing .Nil}}", Ok("false true")),
    ("and or not", "{{and .Up .Name}} {{or .Empty .Name}} {{not .Up}} {{and .Empty .Name}}", Ok("web web false ")),
    ("and or short circuit", "{{or .Name (index .Ports 9)}}", Ok("web")),
    ("split", "{{split \"a:b:c\" \":\"}} {{split \"abc\" \"\"}}", Ok("[a b c] [a b c]")),
    ("lower upper title", "{{lower \"ABC\"}} {{upper .Name}} {{title \"hello big-world\"}}", Ok("abc WEB Hello Big-World")),
    ("pad", "[{{pad .Name 2 1}}][{{pad .Empty 2 1}}]", Ok("[  web ][]")),
    ("truncate", "{{truncate .Name 2}} {{truncate .Name 10}}", Ok("we web")),
    ("trim markers", "a  {{- .Name -}}  b", Ok("awebb")),
    ("comment", "x{{/* ignored */}}y", Ok("xy")),
    ("define and template", "{{define \"p\"}}<{{.}}>{{end}}{{template \"p\" .Name}}", Ok("<web>")),
    ("block", "{{block \"b\" .Name}}[{{.}}]{{end}}", Ok("[web]")),
    ("html urlquery js", "{{html \"<b>\"}} {{urlquery \"a b\"}} {{js \"it's\"}}", Ok("&lt;b&gt; a+b it\\'s")),
    ("float formatting", "{{1e6}} {{123456.0}} {{1234567.0}} {{0.0001}} {{0.00001}} {{2.50}} {{-0.0}}", Ok("1e+06 123456 1.234567e+06 0.0001 1e-05 2.5 -0")),
    ("number literals", "{{0x1F}} {{'a'}} {{1_000}} {{010}} {{-5}}", Ok("31 97 1000 8 -5")),
    ("raw string", "{{`a\\tb`}}", Ok("a\\tb")),
    ("parenthesized", "{{(index .Ports 0) | len}}", Ok("6")),
];

const ERROR_CASES: &[Case] = &[
("unclosed action", "{{.Name", Err("template: :1: unclosed action")),
    ("undefined function", "{{foo .Name}}", Err("template: :1: function \"foo\" not defined")),
    ("undefined variable", "{{$y}}", Err("template: :1: undefined variable \"$y\"")),
    ("unexpected end", "{{end}}", Err("template: :1: unexpected {{end}}")),
    ("unexpected else", "{{else}}", Err("template: :1: unexpected {{else}}")),
    ("unexpected eof in if", "{{if .Up}}x", Err("template: :1: unexpected EOF")),
    ("unterminated string", "{{\"abc}}", Err("template: :1: unterminated quoted string")),
    ("missing value for range", "{{range}}{{end}}", Err("template: :1: missing value for range")),
    ("bad character", "{{.Name !}}", Err("template: :1: unexpected \"!\" in operand")),
    ("non executable pipeline stage", "{{.Name | 3}}", Err("template: :1: non executable command in pipeline stage 2")),
    ("too many range declarations", "{{range $a, $b, $c := .Ports}}{{end}}", Err("template: :1: too many declarations in range")),
    ("break outside range", "{{break}}", Err("template: :1: {{break}} outside {{range}}")),
    ("unclosed comment", "{{/* x }}", Err("template: :1: unclosed comment")),
    ("field of null", "{{.Nil.X}}", Err("template: :1:6: executing \"\" at <.Nil.X>: nil pointer evaluating interface {}.X")),
    ("field of string", "{{.Name.X}}", Err("template: :1:7: executing \"\" at <.Name.X>: can't evaluate field X in type string")),
    ("field with arguments", "{{.Name \"arg\"}}", Err("template: :1:2: executing \"\" at <.Name>: Name is not a method but has arguments")),
    ("pipeline into field", "{{\"x\" | .Labels}}", Err("template: :1:8: executing \"\" at <.Labels>: Labels is not a method but has arguments")),
    ("wrong arg count", "{{upper}}", Err("template: :1:2: executing \"\" at <upper>: wrong number of args for upper: want 1 got 0")),
    ("wrong arg count variadic", "{{and}}", Err("template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0")),
    ("wrong arg type", "{{upper .Up}}", Err("template: :1:8: executing \"\" at <.Up>: wrong type for value; expected string; got bool")),
    ("missing arg for string param", "{{upper .Missing}}", Err("template: :1:8: executing \"\" at <.Missing>: invalid value; expected string")),
    ("literal of wrong type", "{{upper 5}}", Err("template: :1:8: executing \"\" at <5>: expected string; found 5")),
    ("integer param given string", "{{truncate .Name \"2\"}}", Err("template: :1:17: executing \"\" at <\"2\">: expected integer; found \"2\"")),
    ("index out of range", "{{index .Ports 5}}", Err("template: :1:2: executing \"\" at <index .Ports 5>: error calling index: index out of range: 5")),
    ("len of number", "{{len 3}}", Err("template: :1:2: executing \"\" at <len 3>: error calling len: len of type int")),
    ("nil is not a command", "{{nil}}", Err("template: :1:2: executing \"\" at <nil>: nil is not a command")),
    ("argument to non-function", "{{1 2}}", Err("template: :1:2: executing \"\" at <1>: can't give argument to non-function 1")),
    ("template not defined", "{{template \"nope\"}}", Err("template: :1:11: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined")),
    ("incompatible comparison", "{{eq .Name 1}}", Err("template: :1:2: executing \"\" at <eq .Name 1>: error calling eq: incompatible types for comparison")),
    ("lt on bool", "{{lt true false}}", Err("template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison")),
];

fn run(tmpl: &str, data: &Value) -> Result<String, String> {
    Template::parse(tmpl)
        .and_then(|t| t.render(data))
        .map_err(|e| e.to_string())
}

fn check(cases: &[Case]) {
    let data = data();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(what, tmpl, expected)| {
            let expected = expected
                .map(str::to_string)
                .map_err(|e| format!("template parsing error: {e}"));
            let got = run(tmpl, &data);
            (got != expected)
                .then(|| format!("{what}: {tmpl:?}\n   want {expected:?}\n   got  {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) differ from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn renders_like_go() {
    check(RENDER_CASES);
}

#[test]
fn fails_like_go() {
    check(ERROR_CASES);
}

#[test]
fn actions_may_span_lines() {
    let out = run("{{printf \"%s-%s\"\n  .Name\n  \"x\"}}", &data());
    assert_eq!(out.as_deref(), Ok("web-x"));
}

#[test]
fn error_position_counts_lines_and_columns() {
    let err = run("line one\n  {{.Nil.X}}", &data()).unwrap_err();
    assert_eq!(
        err,
        "template parsing error: template: :2:8: executing \"\" at <.Nil.X>: nil pointer evaluating interface {}.X"
    );
}

#[test]
fn error_inside_define_names_the_template() {
    let err = run(
        "{{.Name}}{{template \"x\" .}}{{define \"x\"}}\n{{.Name.X}}{{end}}",
        &data(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "template parsing error: template: :2:7: executing \"x\" at <.Name.X>: can't evaluate field X in type string"
    );
}

#[test]
fn error_context_is_the_whole_command() {
    let err = run("{{index .Labels \"a\" \"b\" \"c\" \"d\" \"e\"}}", &data()).unwrap_err();
    assert_eq!(
        err,
        "template parsing error: template: :1:2: executing \"\" at <index .Labels \"a\" \"b\" \"c\" \"d\" \"e\">: \
         error calling index: cannot index slice/array with type string"
    );
}

#[test]
fn named_template_errors_carry_the_name() {
    let err = Template::parse_named("version", "{{.X").unwrap_err();
    assert_eq!(
        err.to_string(),
        "template parsing error: template: version:1: unclosed action"
    );
    assert!(err.is_parse());
}
