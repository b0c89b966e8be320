//! The docs site, generated from the contract, as three products: the pages of the API
//! (`pages`: one per operation in SelfCommunity's own format, Docusaurus markdown like their
//! `apireference/v2` pages, and an index), the state machine's page (`state_machine`, made from
//! the state machine itself), and the HTML reference served at `/docs/reference/`
//! (`reference`). `connections-api docs` writes the pages under `docs/`; a test fails when the
//! committed pages differ from what this makes.

mod pages;
mod reference;
mod state_machine;
mod webhooks;

pub use reference::reference_html;

use serde_json::Value;

/// A generated file: its path under `docs/` and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub text: String,
}

/// Every page of the docs site, made from `spec` (the committed contract).
pub fn generate(spec: &Value) -> Vec<Page> {
    let ops = pages::operations(spec);
    let mut site = vec![
        Page { path: "api/index.md".to_owned(), text: pages::index_page(spec, &ops) },
        Page { path: "connections.md".to_owned(), text: state_machine::connections_page() },
        Page { path: "webhooks.md".to_owned(), text: webhooks::webhooks_page() },
    ];
    for (position, operation) in ops.iter().enumerate() {
        site.push(Page { path: format!("api/{}.md", operation.id()), text: pages::operation_page(spec, operation, position + 1) });
    }
    site
}

