//! The docs pages are generated from openapi.yaml (and the state machine): the committed pages
//! must be what the generator makes now. Regenerate them with `make docs`.

use std::path::Path;

const COMMITTED_SPEC: &str = include_str!("../../openapi.yaml");

fn generated() -> Vec<connections_api::docs::Page> {
    let spec: serde_json::Value = serde_yaml::from_str(COMMITTED_SPEC).unwrap();
    connections_api::docs::generate(&spec)
}

#[test]
fn committed_docs_pages_are_what_the_contract_generates() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut problems = Vec::new();
    for page in generated() {
        let path = docs.join(&page.path);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != page.text {
            let diff = similar::TextDiff::from_lines(&committed, &page.text)
                .unified_diff()
                .context_radius(2)
                .header(&format!("docs/{} (committed)", page.path), "generated from openapi.yaml")
                .to_string();
            problems.push(diff);
        }
    }
    // No stale page either: every page under docs/api/ is one the generator makes.
    let made: Vec<String> = generated().into_iter().map(|p| p.path).collect();
    for entry in std::fs::read_dir(docs.join("api")).unwrap() {
        let name = format!("api/{}", entry.unwrap().file_name().to_string_lossy());
        if !made.contains(&name) {
            problems.push(format!("docs/{name} is not generated any more: delete it"));
        }
    }
    assert!(problems.is_empty(), "the docs pages are stale: run `make docs`.\n\n{}", problems.join("\n"));
}

#[test]
fn every_operation_has_a_page_as_complete_as_the_seed() {
    let spec: serde_json::Value = serde_yaml::from_str(COMMITTED_SPEC).unwrap();
    let pages = generated();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            let page = pages.iter().find(|p| p.path == format!("api/{id}.md")).unwrap_or_else(|| panic!("{id}: no page"));
            for part in [
                "sidebar_label: ",
                "title: ",
                "## HTTP Request",
                "### Parameters",
                "### Example Request",
                "<TabItem value=\"js\">",
                "<TabItem value=\"bash\">",
                "## Responses",
                "### Example responses",
            ] {
                assert!(page.text.contains(part), "{id}: no {part:?}");
            }
            let auth_box = if op["x-staff-only"] == true {
                // SelfCommunity's own wording for their staff-only operations.
                "This operation requires admin role."
            } else if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                "This operation requires authentication."
            } else {
                "This operation needs no authentication."
            };
            assert!(page.text.contains(auth_box), "{id}");
            let modes: Vec<&str> = op["x-community-modes"].as_array().map(|m| m.iter().filter_map(|m| m.as_str()).collect()).unwrap_or_default();
            let mode_box = match modes.as_slice() {
                [] => None,
                ["friendship"] => Some("friendship mode"),
                ["follow"] => Some("follow mode"),
                ["friendship", "follow"] => Some("friendship mode or follow mode"),
                other => panic!("{id}: x-community-modes {other:?}"),
            };
            let boxed = |modes: &str| format!(":::info\n\nThis operation requires the community to be set to {modes}.\n\n:::");
            match mode_box {
                Some(modes) => assert!(page.text.contains(&boxed(modes)), "{id}: the mode box says {modes}"),
                None => assert!(!page.text.contains(":::info\n\nThis operation requires the community"), "{id}: no mode box"),
            }
            for status in op["responses"].as_object().unwrap().keys() {
                assert!(page.text.contains(&format!("| {status} |")), "{id}: response {status} listed");
            }
        }
    }
}

#[test]
fn the_state_machine_page_has_every_cell() {
    let page = generated().into_iter().find(|p| p.path == "connections.md").unwrap();
    for code in ["no_connection_request", "already_connected", "no_rejected_request", "no_sent_request", "not_connected"] {
        assert!(page.text.contains(code), "{code}");
    }
    assert!(page.text.contains("```mermaid\nstateDiagram-v2"));
    assert_eq!(page.text.lines().filter(|l| l.starts_with("| ") && l.contains(" | ")).count(), 1 + 6 + 1 + 7 + 1 + 6, "table rows");
}

/// `x-community-modes` names each operation's mode as the contract does: the follow family in
/// follow mode, the connection family's FM operations in friendship mode, the suggestions in
/// either, everything else in any.
#[test]
fn the_contract_names_each_operations_mode() {
    let spec: serde_json::Value = serde_yaml::from_str(COMMITTED_SPEC).unwrap();
    let mut by_mode = std::collections::BTreeMap::<String, Vec<String>>::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let modes = op["x-community-modes"].as_array().map(|m| m.iter().map(|m| m.as_str().unwrap()).collect::<Vec<_>>().join("+"));
            by_mode.entry(modes.unwrap_or_else(|| "any".into())).or_default().push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    for ids in by_mode.values_mut() {
        ids.sort();
    }
    let follow = ["checkUserFollowed", "checkUserFollower", "followUser", "getUserFollowers", "getUserFollowings"];
    assert_eq!(by_mode["follow"], follow);
    assert_eq!(by_mode["friendship+follow"], ["getUserSuggestion"]);
    let friendship = [
        "getUserConnectionRequests", "getUserConnections", "getUserRequestConnectionsSent", "userAcceptRequestConnection",
        "userCancelRejectConnectionRequest", "userCancelRequestConnection", "userMarkSeenConnectionRequest",
        "userRejectConnectionRequest", "userRemoveConnection", "userRequestConnection",
    ];
    assert_eq!(by_mode["friendship"], friendship);
    assert!(by_mode["any"].contains(&"getUserConnectionStatus".to_owned()) && by_mode["any"].contains(&"getUserCounters".to_owned()));
    assert_eq!(by_mode.len(), 4, "{by_mode:?}");
}
