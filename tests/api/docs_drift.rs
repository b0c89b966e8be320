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
            assert_eq!(
                page.text.contains("requires the community to be set to friendship mode"),
                op["x-friendship-mode"] == true,
                "{id}: the friendship-mode box follows x-friendship-mode"
            );
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
