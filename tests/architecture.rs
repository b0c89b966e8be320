//! The import rule of `docs/architecture.md`, read from the code's own paths: every `use` of
//! `crate::`, `super::` or `self::` (groups expanded) and every `crate::...` / `super::...` path
//! written inline, each resolved to the file of the module it names.
//!
//! - A module imports only from its own layer or the layers below it.
//! - A feature (`src/features/<name>/`) never imports another feature.
//! - No two files import each other, directly or in a circle.
//!
//! Each violation is printed with its file and line. `mod` declarations are not imports, and a
//! file's inline test module (`mod tests { ... }`) is read as part of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file's layer is its top module's (`src/features/...` is
/// `features`); `lib.rs` declares them all and is outside the rule.
const LAYERS: &[&str] = &["domain", "db", "outbox", "http", "features", "docs", "server", "app"];

/// One import: the line it is written on and the full path it names (`crate::db::pairs::hid`).
#[derive(Debug)]
struct Import {
    line: usize,
    path: Vec<String>,
}

/// A source file: its module path (`["crate", "db", "pairs"]`) and what it imports.
#[derive(Debug)]
struct SourceFile {
    relative: String,
    module: Vec<String>,
    imports: Vec<Import>,
}

fn module_of(relative: &Path) -> Vec<String> {
    let mut module = vec!["crate".to_owned()];
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match part.strip_suffix(".rs") {
            Some("lib") | Some("mod") if last => {}
            Some(stem) => module.push(stem.to_owned()),
            None if !last => module.push(part.clone()),
            None => {}
        }
    }
    module
}

/// The text with comments blanked (line numbers kept) and string literals emptied, so that
/// paths in either are not read as imports.
fn code_only(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == '*' && bytes.get(i + 1) == Some(&'/')) {
                if bytes[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || (next == Some('#') && bytes.get(i + 2).is_some_and(|c| *c == '"' || *c == '#'))) {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1;
            out.push_str("\"\"");
            while j < bytes.len() {
                if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if bytes[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            i = j;
        } else if c == '"' {
            out.push_str("\"\"");
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                if bytes.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' && next.is_some() && bytes.get(i + 2) == Some(&'\'') {
            // A character literal such as '"'.
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            let end = (i + 2..bytes.len()).find(|j| bytes[*j] == '\'').unwrap_or(bytes.len() - 1);
            out.push_str("' '");
            i = end + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Expands a `use` tree (`crate::db::{pairs::hid, rows::{self, Row}}`) into full paths.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut base = prefix.to_vec();
        base.extend(segments(&tree[..open]));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        let mut path = prefix.to_vec();
        for segment in segments(tree) {
            if segment != "self" || path.is_empty() {
                path.push(segment);
            }
        }
        out.push(path);
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every import of one file's text.
fn imports_of(text: &str) -> Vec<Import> {
    let code = code_only(text);
    let chars: Vec<char> = code.chars().collect();
    let line_at = |pos: usize| chars[..pos].iter().filter(|c| **c == '\n').count() + 1;
    // Where a file's inline module starts (its test module): there `super` is the file itself.
    let inline_from = code
        .lines()
        .scan(0usize, |offset, line| {
            let at = *offset;
            *offset += line.chars().count() + 1;
            Some((at, line))
        })
        .find(|(_, line)| {
            let line = line.trim_start();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            line.starts_with("mod ") && line.trim_end().ends_with('{')
        })
        .map(|(at, _)| at)
        .unwrap_or(usize::MAX);
    let inside = |pos: usize, mut path: Vec<String>| {
        if pos > inline_from && path.first().map(String::as_str) == Some("super") {
            path[0] = "self".to_owned();
        }
        path
    };

    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !is_word(chars[i - 1]);
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        if boundary && rest.starts_with("use ") {
            let end = (i..chars.len()).find(|j| chars[*j] == ';').unwrap_or(chars.len());
            let tree: String = chars[i + 4..end].iter().collect();
            let first = tree.trim_start().split("::").next().unwrap_or("").trim().to_owned();
            if ["crate", "super", "self"].contains(&first.as_str()) {
                let mut paths = Vec::new();
                expand(&tree, &[], &mut paths);
                for path in paths {
                    found.push(Import { line: line_at(i), path: inside(i, path) });
                }
            }
            i = end;
            continue;
        }
        if boundary && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let mut j = i;
            while j < chars.len() && (is_word(chars[j]) || (chars[j] == ':' && chars.get(j + 1) == Some(&':'))) {
                j += if chars[j] == ':' { 2 } else { 1 };
            }
            let path: String = chars[i..j].iter().collect();
            found.push(Import { line: line_at(i), path: inside(i, segments(&path)) });
            i = j;
            continue;
        }
        i += 1;
    }
    found
}

fn read_sources(root: &Path) -> Vec<SourceFile> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "main.rs"))
        .map(|path| {
            let relative = path.strip_prefix(root).expect("under src/").to_path_buf();
            let text = std::fs::read_to_string(&path).expect("a source file");
            SourceFile {
                relative: format!("src/{}", relative.display()),
                module: module_of(&relative),
                imports: imports_of(&text),
            }
        })
        .collect()
}

/// The file an import names: the longest prefix of its path (made absolute) that is a file's
/// module. `None`: outside the crate's files (an item of `lib.rs`, say).
fn resolve<'a>(from: &SourceFile, path: &[String], files: &'a BTreeMap<Vec<String>, usize>) -> Option<(&'a Vec<String>, usize)> {
    let mut absolute: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => vec!["crate".to_owned()],
        Some("self") | Some("super") => from.module.clone(),
        _ => return None,
    };
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "crate" if absolute.len() == 1 => {}
            "self" => {}
            "super" => {
                absolute.pop();
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    absolute.extend(rest.iter().cloned());
    (1..=absolute.len()).rev().find_map(|n| files.get_key_value(&absolute[..n]).map(|(k, v)| (k, *v)))
}

/// A module's layer (its index in [`LAYERS`]) and, for a feature, its name.
fn layer_of(module: &[String]) -> Option<(usize, Option<&str>)> {
    let top = module.get(1)?;
    let layer = LAYERS.iter().position(|l| l == top)?;
    let feature = (top == "features").then(|| module.get(2).map(String::as_str)).flatten();
    Some((layer, feature))
}

/// Every violation of the rule in the files under `root`, one line each.
fn violations(root: &Path) -> Vec<String> {
    let sources = read_sources(root);
    let files: BTreeMap<Vec<String>, usize> = sources.iter().enumerate().map(|(i, f)| (f.module.clone(), i)).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut edge_line: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (i, file) in sources.iter().enumerate() {
        if file.module.len() == 1 {
            continue; // lib.rs: declares the layers.
        }
        let Some((layer, feature)) = layer_of(&file.module) else {
            problems.push(format!("{}: a top-level module outside the layers {LAYERS:?}", file.relative));
            continue;
        };
        for import in &file.imports {
            let Some((target, j)) = resolve(file, &import.path, &files) else { continue };
            if i == j {
                continue;
            }
            let shown = import.path.join("::");
            match layer_of(target) {
                None => problems.push(format!("{}:{}: imports {shown}, outside the layers", file.relative, import.line)),
                Some((to_layer, _)) if to_layer > layer => problems.push(format!(
                    "{}:{}: imports {shown} from `{}`, a layer above `{}`",
                    file.relative, import.line, LAYERS[to_layer], LAYERS[layer]
                )),
                Some((_, Some(other))) if feature.is_some_and(|f| f != other) => problems.push(format!(
                    "{}:{}: imports {shown}: the feature `{}` may not import the feature `{other}`",
                    file.relative,
                    import.line,
                    feature.unwrap_or_default()
                )),
                _ => {}
            }
            edges.entry(i).or_default().insert(j);
            edge_line.entry((i, j)).or_insert(import.line);
        }
    }
    for cycle in cycles(sources.len(), &edges) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{}:{}", sources[w[0]].relative, edge_line.get(&(w[0], w[1])).copied().unwrap_or(0)))
            .collect();
        problems.push(format!("files import each other in a circle: {} -> {}", steps.join(" -> "), sources[cycle[0]].relative));
    }
    problems
}

/// One circle through each strongly connected group of files (Tarjan), as the list of its files
/// with the first repeated at the end.
fn cycles(n: usize, edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<usize, BTreeSet<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in self.edges.get(&v).into_iter().flatten() {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.groups.push(group);
                }
            }
        }
    }
    let mut t = Tarjan { edges, index: vec![None; n], low: vec![0; n], on_stack: vec![false; n], stack: Vec::new(), next: 0, groups: Vec::new() };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    // A circle inside each group: walk from its first file along edges that stay in the group.
    t.groups
        .into_iter()
        .map(|group| {
            let members: BTreeSet<usize> = group.iter().copied().collect();
            let start = *members.iter().next().unwrap_or(&0);
            let mut path = vec![start];
            let mut seen = BTreeSet::from([start]);
            let mut at = start;
            loop {
                let next = edges.get(&at).into_iter().flatten().copied().filter(|w| members.contains(w)).min_by_key(|w| (!seen.contains(w), *w == start));
                match next {
                    Some(w) if w == start || seen.contains(&w) => {
                        let from = path.iter().position(|p| *p == w).unwrap_or(0);
                        let mut circle = path[from..].to_vec();
                        circle.push(w);
                        return circle;
                    }
                    Some(w) => {
                        seen.insert(w);
                        path.push(w);
                        at = w;
                    }
                    None => return path,
                }
            }
        })
        .collect()
}

#[test]
fn modules_import_only_downward_features_never_each_other_and_files_never_in_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&root);
    assert!(problems.is_empty(), "{} violation(s) of the import rule (docs/architecture.md):\n{}", problems.len(), problems.join("\n"));
}

/// The check itself, on a small tree with one violation of each kind planted: each is found.
#[test]
fn each_kind_of_violation_is_found_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the folder");
        std::fs::write(path, text).expect("write a file");
    };
    write("lib.rs", "pub mod domain;\npub mod db;\npub mod features;\n");
    write("domain/mod.rs", "//! Pure.\n\nuse crate::db::Thing; // upward\n");
    write("db/mod.rs", "pub mod a;\npub mod b;\n");
    write("db/a.rs", "use super::b::B;\npub struct A;\n");
    write("db/b.rs", "use super::a::A;\npub struct B;\n");
    write("features/mod.rs", "pub mod one;\npub mod two;\n");
    write("features/one/mod.rs", "pub fn f() {\n    let _ = crate::features::two::g();\n}\n");
    write("features/two/mod.rs", "/// `crate::features::one` in a comment is not an import.\npub fn g() { let _ = \"crate::features::one\"; }\n");
    let problems = violations(dir.path());
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(has("src/domain/mod.rs:3: imports crate::db::Thing from `db`, a layer above `domain`"), "{problems:#?}");
    assert!(has("src/features/one/mod.rs:2: imports crate::features::two::g: the feature `one` may not import the feature `two`"), "{problems:#?}");
    assert!(has("files import each other in a circle: src/db/a.rs:1 -> src/db/b.rs:1 -> src/db/a.rs"), "{problems:#?}");
    assert_eq!(problems.len(), 3, "nothing else (comments and strings are not imports): {problems:#?}");
}
