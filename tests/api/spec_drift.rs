//! The drift check: `openapi.yaml` (the contract, by hand) must say what the code serves.
//!
//! Both are parsed and compared as data (key order and YAML style ignored). A difference fails
//! with a unified diff of the two canonical forms. To see the generated spec:
//!
//!     cargo run -- openapi

use std::collections::BTreeMap;

use connections_api::domain::{Action, Relation};
use serde_json::Value;

const COMMITTED: &str = include_str!("../../openapi.yaml");
const SHOW_GENERATED: &str = "cargo run -- openapi";

/// Keys `openapi.yaml` may hold that poem-openapi cannot emit, removed from the contract before
/// comparing: (key, why). Anything else in the contract must come from the code.
const CONTRACT_ONLY_KEYS: &[(&str, &str)] = &[(
    "links",
    "OpenAPI response links (for stateful contract tests) have no poem-openapi attribute",
)];

fn strip_contract_only(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, _) in CONTRACT_ONLY_KEYS {
                map.remove(*key);
            }
            map.values_mut().for_each(strip_contract_only);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_contract_only),
        _ => {}
    }
}

/// Sorted keys, pretty-printed: the form both sides are diffed in.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let map: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sorted(v))).collect();
                serde_json::to_value(map).unwrap()
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&sorted(value)).unwrap() + "\n"
}

/// `None` when the contract and the code agree; otherwise the diff to print.
fn drift(committed_yaml: &str, generated: &Value) -> Option<String> {
    let mut committed: Value = serde_yaml::from_str(committed_yaml).expect("openapi.yaml parses as YAML");
    strip_contract_only(&mut committed);
    let (left, right) = (canonical(&committed), canonical(generated));
    (left != right).then(|| {
        similar::TextDiff::from_lines(&left, &right)
            .unified_diff()
            .context_radius(4)
            .header("openapi.yaml (committed)", "generated from the code")
            .to_string()
    })
}

#[test]
fn openapi_yaml_matches_the_code() {
    let generated = connections_api::server::spec::generate().expect("spec generates");
    if let Some(diff) = drift(COMMITTED, &generated) {
        panic!(
            "openapi.yaml and the code disagree. Change both together. \
             See the generated spec with `{SHOW_GENERATED}`.\n\n{diff}"
        );
    }
}

#[test]
fn the_check_fails_when_one_side_changes() {
    let generated = connections_api::server::spec::generate().unwrap();
    let edited = COMMITTED.replacen("summary: Request Connection", "summary: Request a Connection", 1);
    assert_ne!(edited, COMMITTED, "the edit applies");
    let diff = drift(&edited, &generated).expect("a changed summary is drift");
    assert!(diff.contains("-        \"summary\": \"Request a Connection\","), "{diff}");
    assert!(diff.contains("+        \"summary\": \"Request Connection\","), "{diff}");

    let mut code_side = generated.clone();
    code_side["info"]["version"] = Value::from("9.9.9");
    assert!(drift(COMMITTED, &code_side).is_some(), "a change on the code side is drift too");
}

#[test]
fn only_the_listed_keys_are_stripped() {
    let with_links = COMMITTED.replacen(
        "      responses:\n        '200':\n",
        "      responses:\n        '200':\n          links:\n            again:\n              operationId: userRequestConnection\n",
        1,
    );
    assert_ne!(with_links, COMMITTED);
    let generated = connections_api::server::spec::generate().unwrap();
    assert_eq!(drift(&with_links, &generated), None, "links are contract-only");
    let with_other = with_links.replacen("          links:", "          x-other:", 1);
    assert!(drift(&with_other, &generated).is_some(), "any other extra key is drift");
}

/// Every operation documents every error it can answer, each with examples that validate.
#[test]
fn every_error_response_has_examples_of_its_codes() {
    let spec = connections_api::server::spec::generate().unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: operationId"));
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{id}: summary");
            assert!(op["description"].as_str().is_some_and(|s| !s.is_empty()), "{id}: description");
            assert!(op["security"].is_array(), "{id}: security");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status == "204" {
                    assert!(response.get("content").is_none(), "{id} {status}: no body");
                    continue;
                }
                if let Some(stream) = response["content"].get("text/event-stream") {
                    // A stream of events: their schema, no example of a whole body.
                    assert!(stream["schema"].is_object(), "{id} {status}: the events' schema");
                    continue;
                }
                let media = &response["content"]["application/json"];
                assert!(media.is_object(), "{id} {status}: application/json");
                if status.starts_with('2') {
                    assert!(media["example"].is_object() || media["example"].is_array(), "{id} {status}: example");
                } else {
                    assert_eq!(media["schema"]["$ref"], "#/components/schemas/ErrorBody", "{id} {status}: schema");
                    let examples = media["examples"].as_object().unwrap();
                    assert!(!examples.is_empty(), "{id} {status}: examples");
                    for (name, example) in examples {
                        let errors = example["value"]["errors"].as_array().unwrap();
                        let first = &errors[0];
                        let shown = first["code"].as_str().or(first["messages"][0]["code"].as_str()).unwrap();
                        assert!(name.ends_with(shown), "{id} {status}: example {name} shows {shown}");
                    }
                }
            }
        }
    }
}

/// The operation of each action, by operationId.
const ACTIONS: &[(&str, Action)] = &[
    ("userRequestConnection", Action::Request),
    ("userAcceptRequestConnection", Action::Accept),
    ("userRejectConnectionRequest", Action::Reject),
    ("userCancelRejectConnectionRequest", Action::CancelReject),
    ("userCancelRequestConnection", Action::CancelRequest),
    ("userRemoveConnection", Action::Remove),
    ("userMarkSeenConnectionRequest", Action::MarkSeen),
];

/// The codes each action's operation documents for `409` are exactly the conflicts the state
/// machine can answer to it from some state: an operation's error set is compared by its codes,
/// so two sets with the same statuses cannot be swapped unnoticed.
#[test]
fn each_action_documents_the_conflicts_the_state_machine_can_answer() {
    let spec = connections_api::server::spec::generate().unwrap();
    let operation = |wanted: &str| -> serde_json::Map<String, Value> {
        for item in spec["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if op["operationId"] == wanted {
                    return op.as_object().unwrap().clone();
                }
            }
        }
        panic!("{wanted}: not in the spec");
    };
    for (id, action) in ACTIONS {
        let mut documented: Vec<String> = connections_api::server::spec::documented_codes(&operation(id))
            .into_iter()
            .filter(|(status, _)| *status == 409)
            .map(|(_, code)| code)
            .collect();
        documented.sort();
        let mut possible: Vec<String> = Relation::ALL
            .iter()
            .filter_map(|relation| connections_api::domain::apply(*relation, *action).err())
            .map(|conflict| conflict.code().to_owned())
            .collect();
        possible.sort();
        possible.dedup();
        assert_eq!(documented, possible, "{id}: the 409 codes it documents against those it can answer");
    }
}

#[test]
fn connection_status_is_a_nullable_enum_that_lists_null() {
    let spec = connections_api::server::spec::generate().unwrap();
    let schema = &spec["components"]["schemas"]["ConnectionStatus"];
    assert_eq!(schema["nullable"], true);
    let values = schema["enum"].as_array().unwrap();
    assert!(values.contains(&Value::Null), "{schema}");
    for value in ["connected", "sent_connection_request", "received_connection_request"] {
        assert!(values.contains(&Value::from(value)), "{value}");
    }
}

#[test]
fn every_path_keeps_its_trailing_slash() {
    let spec = connections_api::server::spec::generate().unwrap();
    for path in spec["paths"].as_object().unwrap().keys() {
        assert!(path.starts_with("/api/v2/") && path.ends_with('/'), "{path}");
    }
}

/// The success example of `operation_id` in the committed contract.
fn committed_example(operation_id: &str) -> Value {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if op["operationId"] == operation_id {
                return op["responses"]["200"]["content"]["application/json"]["example"].clone();
            }
        }
    }
    panic!("{operation_id}: not in openapi.yaml");
}

/// The same keys, each holding the same kind of JSON value (`null`, a string, a number...), and
/// the same `connection_status`: what the example shows is what the server answers.
fn assert_answers_like(operation_id: &str, example: &Value, answer: &Value) {
    let kinds = |v: &Value| -> BTreeMap<String, &'static str> {
        v.as_object()
            .unwrap_or_else(|| panic!("{operation_id}: not an object: {v}"))
            .iter()
            .map(|(k, v)| {
                let kind = match v {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                };
                (k.clone(), kind)
            })
            .collect()
    };
    assert_eq!(kinds(example), kinds(answer), "{operation_id}: the example's shape against the server's answer");
    assert_eq!(example["connection_status"], answer["connection_status"], "{operation_id}: {example} against {answer}");
}

/// Examples say what the operations do, where the spec can say it: the server's answer in the
/// situation an example shows has the example's shape and status (oneself is `null`).
#[tokio::test]
async fn success_examples_show_what_the_server_answers() {
    use crate::harness::{TestApp, json};

    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);

    let (status, me) = json(app.get(&alice, "/api/v2/user/me/").await).await;
    assert_eq!(status, 200);
    assert_answers_like("getMe", &committed_example("getMe"), &me);

    app.set_up(&alice, &bob, Relation::Connected).await;
    let (status, user) = json(app.get(&alice, &format!("/api/v2/user/{}/", bob.id)).await).await;
    assert_eq!(status, 200);
    assert_answers_like("getSpecificUser", &committed_example("getSpecificUser"), &user);

    let (status, requested) = json(app.request(&alice, carol.id).await).await;
    assert_eq!(status, 200);
    assert_answers_like("userRequestConnection", &committed_example("userRequestConnection"), &requested);
}
