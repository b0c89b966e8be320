//! The reference page served at `/docs/reference/`: every generated page in one HTML document.

use std::fmt::Write as _;

use serde_json::Value;

use super::generate;

/// Docusaurus markdown as plain CommonMark: no front matter, MDX tabs as labelled sections,
/// `:::info` boxes as quotes.
fn plain_markdown(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    if lines.peek() == Some(&"---") {
        lines.next();
        for line in lines.by_ref() {
            if line == "---" {
                break;
            }
            if let Some(title) = line.strip_prefix("title: ") {
                writeln!(out, "# {title}").ok();
            }
        }
    }
    let mut in_info = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed == "````mdx-code-block" || trimmed == "````" || trimmed.starts_with("import ") || trimmed.starts_with("<Tabs ") || trimmed == "</Tabs>" || trimmed == "</TabItem>" {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("<TabItem value=\"") {
            writeln!(out, "**{}**", rest.trim_end_matches("\">")).ok();
            continue;
        }
        if trimmed == ":::info" {
            in_info = true;
            continue;
        }
        if trimmed == ":::" {
            in_info = false;
            continue;
        }
        if in_info {
            if !trimmed.is_empty() {
                writeln!(out, "> **Info:** {trimmed}").ok();
            }
            continue;
        }
        // Heading ids (`{#schema-user}`) are Docusaurus syntax; anchors come from the text.
        let line = match line.find(" {#") {
            Some(i) if line.ends_with('}') => &line[..i],
            _ => line,
        };
        writeln!(out, "{}", line.replace("\\{", "{")).ok();
    }
    out
}

/// The reference page served at `/docs/reference/`: every generated page in one HTML document,
/// with nothing loaded from outside the server.
pub fn reference_html(spec: &Value) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let pages = generate(spec);
    let mut nav = String::new();
    let mut body = String::new();
    for page in &pages {
        let anchor = page.path.trim_end_matches(".md").replace('/', "-");
        let title = page.text.lines().find_map(|l| l.strip_prefix("title: ")).unwrap_or(&page.path);
        writeln!(nav, "<li><a href=\"#{anchor}\">{}</a></li>", html_escape(title)).ok();
        let markdown = plain_markdown(&page.text)
            // Links between pages become links within this document.
            .replace("](../connections.md)", "](#connections)")
            .replace("](../webhooks.md)", "](#webhooks)");
        let mut rendered = String::new();
        html::push_html(&mut rendered, Parser::new_ext(&markdown, Options::ENABLE_TABLES));
        let rendered = pages.iter().fold(rendered, |html, p| {
            let name = p.path.trim_start_matches("api/");
            html.replace(&format!("href=\"{name}\""), &format!("href=\"#{}\"", p.path.trim_end_matches(".md").replace('/', "-")))
        });
        writeln!(body, "<section id=\"{anchor}\" class=\"page\">\n{rendered}</section>").ok();
    }
    let title = html_escape(spec["info"]["title"].as_str().unwrap_or("API"));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title} reference</title>\n<style>{REFERENCE_CSS}</style>\n</head>\n<body>\n<nav><p><strong>{title}</strong></p><p><a href=\"/docs/\">Try it (Swagger UI)</a> · <a href=\"/openapi.yaml\">openapi.yaml</a></p><ul>\n{nav}</ul></nav>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
}

const REFERENCE_CSS: &str = "body{margin:0;display:flex;font:15px/1.5 system-ui,sans-serif;color:#1c1e21}\
nav{width:270px;height:100vh;overflow:auto;position:sticky;top:0;padding:1em;background:#f5f6f7;box-sizing:border-box}\
nav ul{padding-left:1em}main{flex:1;padding:1em 2em;max-width:1000px}section.page{border-bottom:1px solid #ddd;padding-bottom:2em}\
table{border-collapse:collapse;margin:1em 0;display:block;overflow-x:auto}td,th{border:1px solid #ddd;padding:.3em .6em;vertical-align:top}\
pre{background:#f5f6f7;padding:.8em;overflow:auto}code{font-family:ui-monospace,monospace;font-size:90%}\
blockquote{border-left:4px solid #4cb3d4;margin:1em 0;padding:.2em 1em;background:#eef9fd}";

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
