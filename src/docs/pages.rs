//! The API's pages: one per operation, in SelfCommunity's Docusaurus format, and an index.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// One operation of the spec, with what a page needs.
pub(super) struct Operation<'a> {
    method: String,
    path: String,
    op: &'a Value,
}

impl Operation<'_> {
    pub(super) fn id(&self) -> &str {
        self.op["operationId"].as_str().unwrap_or("operation")
    }

    fn summary(&self) -> &str {
        self.op["summary"].as_str().unwrap_or_else(|| self.id())
    }

    fn secured(&self) -> bool {
        self.op["security"].as_array().is_some_and(|s| !s.is_empty())
    }

    /// The community modes the operation needs (`x-community-modes`), as words: "friendship
    /// mode", "follow mode", "friendship mode or follow mode"; empty when it answers in any.
    fn modes(&self) -> String {
        let modes: Vec<String> = self.op["x-community-modes"]
            .as_array()
            .map(|m| m.iter().filter_map(Value::as_str).map(|m| format!("{m} mode")).collect())
            .unwrap_or_default();
        modes.join(" or ")
    }

    fn staff_only(&self) -> bool {
        self.op["x-staff-only"].as_bool().unwrap_or(false)
    }
}

pub(super) fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    if let Some(paths) = spec["paths"].as_object() {
        for (path, item) in paths {
            if let Some(item) = item.as_object() {
                for (method, op) in item {
                    found.push(Operation { method: method.to_ascii_uppercase(), path: path.clone(), op });
                }
            }
        }
    }
    // The order of the contract's table: by tag, then path, then method.
    found.sort_by(|a, b| {
        let tag = |o: &Operation| o.op["tags"][0].as_str().unwrap_or("").to_owned();
        (tag(a), a.path.clone(), a.method.clone()).cmp(&(tag(b), b.path.clone(), b.method.clone()))
    });
    found
}

/// Resolves `#/components/schemas/X` references.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &spec["components"]["schemas"][name],
        None => schema,
    }
}

fn schema_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

/// A schema in a few words: `integer (int64), minimum 1`.
fn describe_type(spec: &Value, schema: &Value) -> String {
    if let Some(name) = schema_name(schema) {
        return format!("[{name}](#schema-{})", name.to_ascii_lowercase());
    }
    let schema = resolve(spec, schema);
    let mut text = match schema["type"].as_str() {
        Some("array") => format!("array of {}", describe_type(spec, &schema["items"])),
        Some(ty) => ty.to_owned(),
        None => "any".to_owned(),
    };
    if let Some(format) = schema["format"].as_str() {
        write!(text, " ({format})").ok();
    }
    for (key, word) in [("minimum", "minimum"), ("maximum", "maximum"), ("maxItems", "at most"), ("minItems", "at least")] {
        if let Some(n) = schema[key].as_i64() {
            write!(text, ", {word} {n}").ok();
        }
    }
    if schema["nullable"] == Value::Bool(true) {
        text.push_str(", nullable");
    }
    text
}

/// MDX reads `{` as the start of an expression, except in code: escape it elsewhere.
fn escape_mdx(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        }
        if c == '{' && !in_code {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn reason_phrase(status: &str) -> (&'static str, &'static str) {
    match status {
        "200" => ("OK", "https://tools.ietf.org/html/rfc7231#section-6.3.1"),
        "204" => ("No Content", "https://tools.ietf.org/html/rfc7231#section-6.3.5"),
        "400" => ("Bad Request", "https://tools.ietf.org/html/rfc7231#section-6.5.1"),
        "401" => ("Unauthorized", "https://tools.ietf.org/html/rfc7235#section-3.1"),
        "403" => ("Forbidden", "https://tools.ietf.org/html/rfc7231#section-6.5.3"),
        "404" => ("Not Found", "https://tools.ietf.org/html/rfc7231#section-6.5.4"),
        "409" => ("Conflict", "https://tools.ietf.org/html/rfc7231#section-6.5.8"),
        "415" => ("Unsupported Media Type", "https://tools.ietf.org/html/rfc7231#section-6.5.13"),
        "503" => ("Service Unavailable", "https://tools.ietf.org/html/rfc7231#section-6.6.4"),
        _ => ("", ""),
    }
}

/// The path with its parameters filled from their examples, for the example requests.
fn example_path(spec: &Value, operation: &Operation) -> String {
    let mut path = operation.path.clone();
    let mut query = Vec::new();
    for param in operation.op["parameters"].as_array().into_iter().flatten() {
        let name = param["name"].as_str().unwrap_or("");
        let schema = resolve(spec, &param["schema"]);
        let example = schema["example"].as_i64().map(|n| n.to_string());
        match param["in"].as_str() {
            Some("path") => {
                path = path.replace(&format!("{{{name}}}"), example.as_deref().unwrap_or("1"));
            }
            Some("query") if name == "limit" => query.push("limit=20".to_owned()),
            _ => {}
        }
    }
    if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
}

fn request_example(spec: &Value, operation: &Operation) -> Option<Value> {
    let media = &operation.op["requestBody"]["content"]["application/json"];
    let schema = resolve(spec, &media["schema"]);
    media.get("example").or_else(|| schema.get("example")).cloned()
}

fn tabs(default: &str, tabs: &[(String, String)], body: impl Fn(&str) -> String) -> String {
    let labels: Vec<String> = tabs.iter().map(|(v, l)| format!("{{ label: '{l}', value: '{v}', }}")).collect();
    let mut out = String::new();
    out.push_str("````mdx-code-block\n");
    if default == "js" {
        out.push_str("import Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n\n");
    }
    writeln!(out, "<Tabs defaultValue=\"{default}\" values={{[{}]}}>", labels.join(", ")).ok();
    for (value, _) in tabs {
        writeln!(out, "<TabItem value=\"{value}\">\n\n{}\n</TabItem>", body(value)).ok();
    }
    out.push_str("</Tabs>\n````\n");
    out
}

pub(super) fn operation_page(spec: &Value, operation: &Operation, position: usize) -> String {
    let op = operation.op;
    let summary = operation.summary();
    let description = op["description"].as_str().unwrap_or("");
    let mut out = String::new();
    writeln!(out, "---\nsidebar_label: {summary}\nsidebar_position: {position}\ntitle: {summary}\n---\n").ok();
    writeln!(out, "<!-- Generated from openapi.yaml by `connections-api docs`: do not edit. -->\n").ok();
    writeln!(out, "{}\n", escape_mdx(description)).ok();
    let modes = operation.modes();
    if !modes.is_empty() {
        writeln!(out, ":::info\n\nThis operation requires the community to be set to {modes}.\n\n:::\n").ok();
    }
    if operation.staff_only() {
        out.push_str(":::info\n\nThis operation requires admin role.\n\n:::\n\n");
    } else if operation.secured() {
        out.push_str(":::info\n\nThis operation requires authentication.\n\n:::\n\n");
    } else {
        out.push_str(":::info\n\nThis operation needs no authentication.\n\n:::\n\n");
    }
    writeln!(out, "## HTTP Request\n\n`{} {}`\n", operation.method, operation.path).ok();
    writeln!(out, "Operation id: `{}`. The path is also served without its trailing slash.\n", operation.id()).ok();

    out.push_str("### Parameters\n\n");
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    if params.is_empty() && op.get("requestBody").is_none() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("|Name|In|Type|Required|Description|\n|---|---|---|---|---|\n");
        for param in &params {
            writeln!(
                out,
                "|{}|{}|{}|{}|{}|",
                param["name"].as_str().unwrap_or(""),
                param["in"].as_str().unwrap_or(""),
                cell(&describe_type(spec, &param["schema"])),
                param["required"].as_bool().unwrap_or(false),
                cell(param["description"].as_str().unwrap_or("")),
            )
            .ok();
        }
        let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if !body_schema.is_null() {
            let schema = resolve(spec, body_schema);
            let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                writeln!(
                    out,
                    "|{name}|body (`application/json`)|{}|{}|{}|",
                    cell(&describe_type(spec, property)),
                    required.contains(&name.as_str()),
                    cell(property["description"].as_str().unwrap_or("")),
                )
                .ok();
            }
        }
        out.push('\n');
    }

    out.push_str("### Example Request\n\n");
    let url = example_path(spec, operation);
    let body = request_example(spec, operation);
    let js_tabs = [("js".to_owned(), "JavaScript".to_owned()), ("bash".to_owned(), "Bash".to_owned())];
    out.push_str(&tabs("js", &js_tabs, |tab| {
        let mut headers = vec!["  'Accept': 'application/json',".to_owned()];
        let mut curl_headers = vec!["  -H 'Accept: application/json'".to_owned()];
        if body.is_some() {
            headers.push("  'Content-Type': 'application/json',".to_owned());
            curl_headers.push("  -H 'Content-Type: application/json'".to_owned());
        }
        if operation.secured() {
            headers.push("  'Authorization': 'Bearer <token>',".to_owned());
            curl_headers.push("  -H \"Authorization: Bearer <token>\"".to_owned());
        }
        if tab == "js" {
            let body_line = body.as_ref().map(|b| format!("  body: JSON.stringify({b}),\n")).unwrap_or_default();
            format!(
                "```js\nconst headers = {{\n{}\n}};\n\nfetch('{url}',\n{{\n  method: '{}',\n{body_line}  headers: headers\n}})\n.then(function(res) {{\n    return res.json();\n}}).then(function(body) {{\n    console.log(body);\n}});\n```",
                headers.join("\n"),
                operation.method
            )
        } else {
            if let Some(b) = &body {
                curl_headers.push(format!("  -d '{b}'"));
            }
            format!("```bash\ncurl -X {} '{url}' \\\n{}\n```", operation.method, curl_headers.join(" \\\n"))
        }
    }));

    out.push_str("\n## Responses\n\n|Status|Meaning|Description|Schema|\n|---|---|---|---|\n");
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    for (status, response) in &responses {
        let (phrase, link) = reason_phrase(status);
        let schema = &response["content"]["application/json"]["schema"];
        let schema_text = schema_name(schema).unwrap_or("None");
        writeln!(
            out,
            "| {status} | [{phrase}]({link}) | {} | {schema_text} |",
            cell(response["description"].as_str().unwrap_or(""))
        )
        .ok();
    }

    let mut errors = Vec::new();
    for (status, response) in &responses {
        for (name, example) in response["content"]["application/json"]["examples"].as_object().into_iter().flatten() {
            let first = &example["value"]["errors"][0];
            let code = first["code"].as_str().or(first["messages"][0]["code"].as_str()).unwrap_or(name);
            let field = first["field"].as_str().map(|f| format!("`{f}`")).unwrap_or_default();
            errors.push(format!("| {status} | `{code}` | {field} | {} |", cell(example["summary"].as_str().unwrap_or(""))));
        }
    }
    if !errors.is_empty() {
        out.push_str("\n#### Error codes\n\nEvery error has the body `{\"errors\": [...]}` (schema `ErrorBody`).\n\n");
        out.push_str("| Status | Code | Field | Message |\n|---|---|---|---|\n");
        out.push_str(&errors.join("\n"));
        out.push('\n');
    }

    let success = responses.iter().find(|(s, _)| s.starts_with('2'));
    if let Some((_, response)) = success {
        let schema = resolve(spec, &response["content"]["application/json"]["schema"]);
        if schema.to_string().contains("#/components/schemas/ConnectionStatus\"") || schema_name(&response["content"]["application/json"]["schema"]) == Some("ConnectionStatusBody") {
            out.push_str("\n#### Connection Status values\n\n| Parameter | Value |\n|---|---|\n");
            for value in spec["components"]["schemas"]["ConnectionStatus"]["enum"].as_array().into_iter().flatten() {
                let value = value.as_str().unwrap_or("null");
                writeln!(out, "| connection_status | {value} |").ok();
            }
        }
    }

    out.push_str("\n### Example responses\n\n");
    let mut examples: Vec<(String, String, String)> = Vec::new();
    for (status, response) in &responses {
        let media = &response["content"]["application/json"];
        if let Some(example) = media.get("example") {
            examples.push((status.clone(), status.clone(), serde_json::to_string_pretty(example).unwrap_or_default()));
        }
        for (name, example) in media["examples"].as_object().into_iter().flatten() {
            let value = serde_json::to_string_pretty(&example["value"]).unwrap_or_default();
            examples.push((format!("{status}-{name}"), format!("{status} {name}"), value));
        }
        if media.is_null() && status == "204" {
            examples.push((status.clone(), status.clone(), String::new()));
        }
    }
    let labels: Vec<(String, String)> = examples.iter().map(|(v, l, _)| (v.clone(), l.clone())).collect();
    let default = labels.first().map(|(v, _)| v.clone()).unwrap_or_default();
    out.push_str(&tabs(&default, &labels, |value| {
        let body = examples.iter().find(|(v, _, _)| v == value).map(|(_, _, b)| b.as_str()).unwrap_or("");
        if body.is_empty() { "No body.".to_owned() } else { format!("```json\n{body}\n```") }
    }));

    // The schemas this page names, so that it stands alone.
    let mut names = BTreeMap::new();
    collect_schema_names(spec, op, &mut names);
    if !names.is_empty() {
        out.push_str("\n## Schemas\n");
        for name in names.keys() {
            let schema = &spec["components"]["schemas"][name.as_str()];
            writeln!(out, "\n### {name} {{#schema-{}}}\n", name.to_ascii_lowercase()).ok();
            if let Some(description) = schema["description"].as_str() {
                writeln!(out, "{}\n", description.replace('\n', " ")).ok();
            }
            if let Some(properties) = schema["properties"].as_object() {
                let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                out.push_str("|Name|Type|Required|Description|\n|---|---|---|---|\n");
                for (property, definition) in properties {
                    let ty = match definition["additionalProperties"].as_object() {
                        Some(_) => format!("map of {}", describe_type(spec, &definition["additionalProperties"])),
                        None => describe_type(spec, definition),
                    };
                    writeln!(
                        out,
                        "|{property}|{}|{}|{}|",
                        cell(&ty),
                        required.contains(&property.as_str()),
                        cell(definition["description"].as_str().unwrap_or(""))
                    )
                    .ok();
                }
            } else if let Some(values) = schema["enum"].as_array() {
                let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                writeln!(out, "One of {}.", values.join(", ")).ok();
            } else if let Some(variants) = schema["oneOf"].as_array() {
                let names: Vec<String> = variants.iter().filter_map(schema_name).map(|n| format!("`{n}`")).collect();
                writeln!(out, "One of {}.", names.join(", ")).ok();
            }
        }
    }
    out
}

fn collect_schema_names(spec: &Value, value: &Value, names: &mut BTreeMap<String, ()>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = value["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
                if names.insert(name.to_owned(), ()).is_none() {
                    collect_schema_names(spec, &spec["components"]["schemas"][name], names);
                }
            }
            for (key, v) in map {
                if key != "examples" && key != "example" {
                    collect_schema_names(spec, v, names);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_schema_names(spec, v, names)),
        _ => {}
    }
}

pub(super) fn index_page(spec: &Value, ops: &[Operation]) -> String {
    let mut out = String::new();
    writeln!(out, "---\nsidebar_label: API reference\nsidebar_position: 0\ntitle: API reference\n---\n").ok();
    out.push_str("<!-- Generated from openapi.yaml by `connections-api docs`: do not edit. -->\n\n");
    if let Some(description) = spec["info"]["description"].as_str() {
        writeln!(out, "{}\n", escape_mdx(description)).ok();
    }
    out.push_str("The connection state machine behind the actions: [connections](../connections.md). What the webhooks deliver: [webhooks](../webhooks.md).\n\n");
    let mut tag = String::new();
    for operation in ops {
        let this_tag = operation.op["tags"][0].as_str().unwrap_or("Other");
        if this_tag != tag {
            tag = this_tag.to_owned();
            writeln!(out, "\n## {tag}\n\n| Operation | Request | Community mode | Authentication |\n|---|---|---|---|").ok();
        }
        writeln!(
            out,
            "| [{}]({}.md) | `{} {}` | {} | {} |",
            operation.summary(),
            operation.id(),
            operation.method,
            operation.path,
            operation.modes(),
            if operation.secured() { "bearer JWT" } else { "none" },
        )
        .ok();
    }
    out
}

