//! Docs are code. docs/architecture.md, the map, names only files and Rust items that exist, and
//! lists every file of `src/`; every Markdown link in the repository leads to a file of the
//! repository (and a heading of it, for `#anchors`); every `docs/contract.md §N` citation names
//! a section (`§N.M`: a numbered rule of one) that exists; and `src/` keeps the shape the map
//! describes: no file over 600 lines, and no cycle of modules but the protocol's. A failure
//! names what is missing.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` (relative to the root) whose name ends with one of `exts`, skipping
/// build output, git's own files and the pristine upstream ENet (not ours to document).
fn files(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == "target" || rel == ".git" || rel == "vendor/enet/upstream" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if exts.iter().any(|e| rel.ends_with(e)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Markdown without its fenced code blocks (diagrams and shell sessions are not prose).
fn without_fences(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The `code` spans of a Markdown text.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    for line in without_fences(text).lines() {
        let mut parts = line.split('`');
        parts.next();
        while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
            spans.push(span.to_string());
        }
    }
    spans
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A name in CamelCase (a Rust type or trait), as opposed to `snake_case`, `ALL_CAPS` or `R`.
fn is_camel(s: &str) -> bool {
    is_ident(s)
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.contains(|c: char| c.is_ascii_lowercase())
        && !s.contains('_')
}

/// The Rust sources, by module name (`address` holds address.rs and src/address/*).
fn sources() -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for path in files("src", &[".rs"]) {
        let rel = path.strip_prefix(root().join("src")).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        modules
            .entry(module)
            .or_insert_with(String::new)
            .push_str(&read(&path));
    }
    modules
}

/// Whether `text` defines `name`: an item (`fn`, `struct`, ... `macro_rules!`), or an enum
/// variant or struct field on a line of its own.
fn defines(text: &str, name: &str) -> bool {
    const ITEMS: [&str; 9] = [
        "fn ",
        "struct ",
        "enum ",
        "trait ",
        "type ",
        "const ",
        "static ",
        "mod ",
        "macro_rules! ",
    ];
    let ends_name = |rest: &str| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    text.lines().any(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("pub(crate) ").unwrap_or(line);
        let line = line.strip_prefix("pub ").unwrap_or(line);
        let line = line.strip_prefix("unsafe ").unwrap_or(line);
        let line = line.strip_prefix("extern \"C-unwind\" ").unwrap_or(line);
        let line = line.strip_prefix("extern \"C\" ").unwrap_or(line);
        ITEMS.iter().any(|item| {
            line.strip_prefix(item)
                .and_then(|rest| rest.strip_prefix(name))
                .is_some_and(ends_name)
        }) || line
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with([',', '(', ' ', ':', '{']) && ends_name(rest))
    })
}

/// What is wrong with one `code` span of the map, if it names a file or a Rust item that does
/// not exist; `None` for what names neither (Lua code, C functions, error texts).
fn check_span(span: &str, src: &BTreeMap<String, String>) -> Option<String> {
    let anywhere = |name: &str| src.values().any(|text| defines(text, name));
    const DIRS: [&str; 9] = [
        "src/",
        "tests/",
        "docs/",
        "bench/",
        "vendor/",
        "examples/",
        "library/",
        "rockspec/",
        "release/",
    ];
    let first = span.split_whitespace().next().unwrap_or("");
    if DIRS.iter().any(|d| first.starts_with(d)) || first == "build.rs" {
        // A glob names its directory.
        let path = first.split('*').next().unwrap().trim_end_matches('/');
        return (!root().join(path).exists()).then(|| format!("no file {first}"));
    }
    if let Some(name) = span.strip_suffix('!').filter(|n| is_ident(n)) {
        return (!anywhere(name)).then(|| format!("no macro {span}"));
    }
    let segments: Vec<&str> = span.split("::").collect();
    if segments.len() > 1 && segments.iter().all(|s| is_ident(s)) {
        let (owner, item) = (segments[segments.len() - 2], segments[segments.len() - 1]);
        if let Some(module) = src.get(owner) {
            return (!defines(module, item)).then(|| format!("src/{owner}.rs defines no {item}"));
        }
        if is_camel(owner) {
            if !anywhere(owner) {
                return Some(format!("no type {owner} (in {span})"));
            }
            return (!anywhere(item)).then(|| format!("no {item} for {owner} (in {span})"));
        }
        return Some(format!("no module src/{owner}.rs (in {span})"));
    }
    if let Some((ty, field)) = span.split_once('.') {
        if is_camel(ty) && is_ident(field) {
            return (!anywhere(ty) || !anywhere(field)).then(|| format!("no {span}"));
        }
    }
    // Standard and foreign names the map uses as words.
    const FOREIGN: [&str; 6] = ["Cell", "Copy", "Send", "Option", "Result", "Vec"];
    if is_camel(span) && !FOREIGN.contains(&span) {
        return (!anywhere(span)).then(|| format!("no type {span}"));
    }
    // snake_case with an underscore: one of our helpers, unless it is C's, Lua's or std's.
    const FOREIGN_PREFIXES: [&str; 4] = ["lua_", "luaL_", "enet_", "catch_unwind"];
    if is_ident(span)
        && span.contains('_')
        && span.starts_with(|c: char| c.is_ascii_lowercase())
        && !FOREIGN_PREFIXES.iter().any(|p| span.starts_with(p))
    {
        return (!anywhere(span)).then(|| format!("no fn {span}"));
    }
    None
}

#[test]
fn the_map_names_only_what_exists() {
    let src = sources();
    let map = read(&root().join("docs/architecture.md"));
    let missing: BTreeSet<String> = code_spans(&map)
        .iter()
        .filter_map(|span| check_span(span, &src))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md names what does not exist:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_map_knows_when_a_name_disappears() {
    let src = sources();
    for gone in [
        "Reply",
        "lua::push_reply",
        "Args::frobnicate",
        "nothing::here",
        "no_such_helper",
        "src/nowhere.rs",
        "gone!",
    ] {
        assert!(
            check_span(gone, &src).is_some(),
            "{gone} passed as existing"
        );
    }
    for here in [
        "Push",
        "lua::call",
        "Args::live_peer",
        "methods!",
        "src/lua.rs",
        "host_integer",
    ] {
        assert_eq!(check_span(here, &src), None, "{here}");
    }
}

#[test]
fn the_map_lists_every_source_file() {
    let map = read(&root().join("docs/architecture.md"));
    let unlisted: Vec<String> = files("src", &[".rs"])
        .iter()
        .map(|p| {
            p.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|rel| !map.contains(&format!("`{rel}`")))
        .collect();
    assert!(
        unlisted.is_empty(),
        "docs/architecture.md does not list {unlisted:?}"
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    without_fences(markdown)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn links_stay_inside_the_repository() {
    let mut broken = Vec::new();
    for doc in files("", &[".md"]) {
        let text = without_fences(&read(&doc));
        let rel = doc.strip_prefix(root()).unwrap().display().to_string();
        for target in text.split("](").skip(1).filter_map(|t| t.split(')').next()) {
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let file = if path.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(path)
            };
            let Ok(file) = file.canonicalize() else {
                broken.push(format!("{rel}: {target} (no such file)"));
                continue;
            };
            if !file.starts_with(root().canonicalize().unwrap()) {
                broken.push(format!("{rel}: {target} (outside the repository)"));
            } else if !fragment.is_empty()
                && file.extension().is_some_and(|e| e == "md")
                && !anchors(&read(&file)).contains(fragment)
            {
                broken.push(format!("{rel}: {target} (no such heading)"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken links:\n  {}",
        broken.join("\n  ")
    );
}

/// The sections of docs/contract.md (`## N. Title`) and the numbered rules in each (`M. ...`).
fn contract_sections() -> BTreeMap<u32, BTreeSet<u32>> {
    let mut sections = BTreeMap::new();
    let mut current = None;
    for line in without_fences(&read(&root().join("docs/contract.md"))).lines() {
        let number = |s: &str| s.split_once(". ").and_then(|(n, _)| n.parse::<u32>().ok());
        if let Some(heading) = line.strip_prefix("## ") {
            current = number(heading);
            if let Some(n) = current {
                sections.insert(n, BTreeSet::new());
            }
        } else if let (Some(n), Some(rule)) = (current, number(line)) {
            sections.get_mut(&n).unwrap().insert(rule);
        }
    }
    sections
}

#[test]
fn contract_citations_name_sections_that_exist() {
    let sections = contract_sections();
    assert!(sections.len() >= 10, "docs/contract.md lost its sections");
    let mut wrong = Vec::new();
    let texts = ["src", "tests", "docs", "bench", "examples", "README.md"]
        .iter()
        .flat_map(|d| files(d, &[".rs", ".lua", ".md", ".c", ".h", ""]));
    for path in texts {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        for line in text.lines() {
            let Some((_, cited)) = line.split_once("contract.md") else {
                continue;
            };
            for reference in cited.split('§').skip(1) {
                let digits: String = reference
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                if digits.is_empty() {
                    continue; // `§N`, the form itself
                }
                let mut parts = digits.trim_end_matches('.').split('.');
                let section = parts.next().and_then(|n| n.parse::<u32>().ok());
                let rule = parts.next().and_then(|n| n.parse::<u32>().ok());
                let found = match (section.and_then(|n| sections.get(&n)), rule) {
                    (Some(_), None) => true,
                    (Some(rules), Some(rule)) => rules.contains(&rule),
                    (None, _) => false,
                };
                if !found {
                    wrong.push(format!("{rel}: §{digits}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "citations of docs/contract.md that name no section:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = files("src", &[".rs"])
        .iter()
        .map(|p| (p, read(p).lines().count()))
        .filter(|(_, n)| *n > 600)
        .map(|(p, n)| format!("{} ({n} lines)", p.display()))
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

/// Which modules each module of `src/` uses (`crate::name` outside comments).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = sources();
    src.iter()
        .map(|(module, text)| {
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap())
                .collect::<Vec<_>>()
                .join("\n");
            let used = code
                .split("crate::")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|used| used != module && src.contains_key(used))
                .collect();
            (module.clone(), used)
        })
        .collect()
}

#[test]
fn the_only_cycle_of_modules_is_the_protocol() {
    let graph = module_graph();
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        false
    };
    // docs/architecture.md, "Layers": lua.rs, args.rs and object.rs use each other.
    let protocol = ["lua", "args", "object"];
    let mut cycles = Vec::new();
    for (module, used) in &graph {
        for other in used {
            let both_protocol = protocol.contains(&module.as_str()) && protocol.contains(&&**other);
            if !both_protocol && reaches(other, module) {
                cycles.push(format!("{module} -> {other} -> ... -> {module}"));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles: {cycles:?}");
}
