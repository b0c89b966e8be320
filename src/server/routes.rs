//! The routes the server serves, as the error middleware and the metrics need them: each
//! path's methods (the `Allow` header of a `405`), its parameters' names (the router only knows
//! `param0`, ...), and each request's label (its operationId, or its path template). Built from
//! the generated spec and from the same list of paths the router is given (`server::app`).

use poem::error::ResponseError;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::http::error::{Routes, framework_error};

/// A path template of the spec (`/api/v2/user/{id}/...`), split once into its segments.
#[derive(Clone, Debug)]
struct Template {
    text: String,
    /// `None` for a parameter (`{id}`), which matches any non-empty segment.
    segments: Vec<Option<String>>,
}

impl Template {
    fn new(text: &str) -> Self {
        let segments = text
            .trim_end_matches('/')
            .split('/')
            .map(|segment| (!(segment.starts_with('{') && segment.ends_with('}'))).then(|| segment.to_owned()))
            .collect();
        Template { text: text.to_owned(), segments }
    }

    /// Whether a request path matches, with or without its trailing slash. Runs on every
    /// request (the metrics' label), so it allocates nothing.
    fn matches(&self, path: &str) -> bool {
        let mut parts = path.trim_end_matches('/').split('/');
        // `str::is_empty` by name: poem-openapi's `Type::is_empty` (always false) is in scope.
        self.segments.iter().all(|segment| match (segment, parts.next()) {
            (None, Some(part)) => !str::is_empty(part),
            (Some(literal), Some(part)) => literal == part,
            (_, None) => false,
        }) && parts.next().is_none()
    }
}

/// The paths the server serves, with their methods (for the `Allow` header of a `405`) and the
/// names of their path parameters (the router only knows them as `param0`, `param1`, ...).
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Template, Vec<String>)>,
    /// (METHOD, template, operationId), for the metrics' labels.
    operations: Vec<(String, Template, String)>,
}

impl RouteTable {
    /// A path the router serves (poem's syntax: `/docs/*file`, `/user/:id`), for every method
    /// in `methods`.
    pub fn add_router_path(&mut self, path: &str, methods: &[&str]) {
        let template: Vec<String> = path
            .split('/')
            .map(|segment| match segment.strip_prefix('*').or_else(|| segment.strip_prefix(':')) {
                Some(name) => format!("{{{name}}}"),
                None => segment.to_owned(),
            })
            .collect();
        self.add(&template.join("/"), methods);
    }

    /// Reads the paths and methods from an OpenAPI document.
    pub fn from_spec(spec: &serde_json::Value) -> Self {
        let mut table = RouteTable::default();
        if let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) {
            for (template, item) in paths {
                let mut methods: Vec<String> = item
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .filter(|m| matches!(m.as_str(), "get" | "put" | "post" | "delete" | "patch" | "head" | "options"))
                            .map(|m| m.to_ascii_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                methods.sort();
                table.routes.push((Template::new(template), methods));
                for (method, op) in item.as_object().into_iter().flatten() {
                    if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                        table.operations.push((method.to_ascii_uppercase(), Template::new(template), id.to_owned()));
                    }
                }
            }
        }
        table
    }

    /// The label of a request in the metrics: its operationId, else the path template it
    /// matched, else `other` (unknown paths must not make a label each).
    pub fn label(&self, method: &str, path: &str) -> &str {
        if let Some((_, _, id)) = self.operations.iter().find(|(m, t, _)| m == method && t.matches(path)) {
            return id;
        }
        self.template(path).map_or("other", |(t, _)| t.text.as_str())
    }

    pub fn add(&mut self, path: &str, methods: &[&str]) {
        self.routes.push((Template::new(path), methods.iter().map(|m| (*m).to_owned()).collect()));
    }

    fn template(&self, path: &str) -> Option<&(Template, Vec<String>)> {
        self.routes.iter().find(|(template, _)| template.matches(path))
    }

}

impl Routes for RouteTable {
    fn allowed_methods(&self, path: &str) -> Option<String> {
        self.template(path).map(|(_, methods)| methods.join(", "))
    }

    fn param_name(&self, path: &str, router_name: &str) -> Option<String> {
        let index: usize = router_name.strip_prefix("param")?.parse().ok()?;
        let (template, _) = self.template(path)?;
        template
            .text
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .nth(index)
            .map(str::to_owned)
    }
}

/// Middleware: every error leaves the server as the contract's JSON error body.
pub async fn json_errors<E: Endpoint>(next: E, req: Request, routes: &RouteTable) -> poem::Result<Response> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    match next.call(req).await {
        Ok(response) => Ok(response.into_response()),
        Err(err) => Ok(framework_error(err, &method, &path, routes).as_response()),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_paths_with_or_without_the_slash() {
        let t = Template::new("/api/v2/user/{id}/connection/request/");
        assert!(t.matches("/api/v2/user/7/connection/request/"));
        assert!(t.matches("/api/v2/user/abc/connection/request"));
        assert!(!t.matches("/api/v2/user//connection/request/"));
        assert!(!t.matches("/api/v2/user/7/connection/accept/"));
        assert!(!t.matches("/api/v2/user/7/connection/request/extra/"));
        assert!(!t.matches("/api/v2/user/7/connection"));
    }

    #[test]
    fn router_parameter_names_map_to_the_spec_names() {
        let mut routes = RouteTable::default();
        routes.add("/api/v2/user/{id}/connection/request/", &["POST"]);
        assert_eq!(routes.param_name("/api/v2/user/x/connection/request", "param0").as_deref(), Some("id"));
        assert_eq!(routes.param_name("/api/v2/user/x/connection/request", "param1"), None);
        assert_eq!(routes.allowed_methods("/api/v2/user/x/connection/request/").as_deref(), Some("POST"));
    }

    #[test]
    fn router_paths_become_templates() {
        let mut routes = RouteTable::default();
        routes.add_router_path("/docs/*file", &["GET"]);
        assert_eq!(routes.allowed_methods("/docs/swagger-ui.css").as_deref(), Some("GET"));
        assert_eq!(routes.label("GET", "/docs/index.html"), "/docs/{file}");
    }
}
