//! Rejects recursive Rego at load time, as OPA's compiler does. regorus walks
//! rule and function calls on the native stack without a depth limit, so
//! `f(x) if { f(x + 1) }` would overflow it and abort the whole process.
//!
//! The check builds the graph of which rule (or function) refers to which,
//! from regorus's parsed modules, and reports every strongly connected group
//! with more than one member, or one that refers to itself. It is
//! conservative: a reference through a computed key (`data.pkg[k]`) counts as
//! referring to every rule under the known prefix.

use std::collections::BTreeMap;

use regorus::unstable::{Expr, Literal, Module, Query, Ref, Rule, RuleHead};

/// A group of rules that call each other: where its first rule is and its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// `file:line` of the first rule of the group.
    pub location: String,
    /// The files that define a member of the group.
    pub files: Vec<String>,
    /// The rules of the group, as `data.<package>.<name>`.
    pub rules: Vec<String>,
}

/// One rule name (all its definitions together) and what it refers to.
struct Node {
    path: Vec<String>,
    /// (file, line) of each definition, sorted.
    places: Vec<(String, u32)>,
    references: Vec<Vec<String>>,
}

/// Every recursive group among the rules of `modules`, in location order.
pub fn find_cycles(modules: &[Ref<Module>]) -> Vec<Cycle> {
    let mut nodes: BTreeMap<Vec<String>, Node> = BTreeMap::new();
    for module in modules {
        let package = path_of(&module.package.refr).unwrap_or_default();
        let imports = imports_of(module);
        for rule in &module.policy {
            let (head, span) = match rule.as_ref() {
                Rule::Spec { head, span, .. } => (head_ref(head), span),
                Rule::Default { refr, span, .. } => (refr, span),
            };
            let mut path = vec!["data".to_string()];
            path.extend(package.iter().cloned());
            path.extend(path_of(head).unwrap_or_default());
            let mut references = Vec::new();
            references_in_rule(rule, &mut references);
            let resolved: Vec<Vec<String>> = references
                .into_iter()
                .filter_map(|r| resolve(r, &package, &imports))
                .collect();
            let node = nodes.entry(path.clone()).or_insert_with(|| Node {
                path,
                places: Vec::new(),
                references: Vec::new(),
            });
            node.places
                .push((span.source.get_path().clone(), span.line));
            node.references.extend(resolved);
        }
    }
    let nodes: Vec<Node> = nodes.into_values().collect();
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|node| {
            (0..nodes.len())
                .filter(|&other| {
                    node.references
                        .iter()
                        .any(|r| overlaps(r, &nodes[other].path))
                })
                .collect()
        })
        .collect();
    let mut cycles: Vec<Cycle> = strongly_connected(&edges)
        .into_iter()
        .filter(|group| group.len() > 1 || edges[group[0]].contains(&group[0]))
        .map(|group| {
            let mut places: Vec<(String, u32)> = group
                .iter()
                .flat_map(|&i| nodes[i].places.iter().cloned())
                .collect();
            places.sort();
            let mut files: Vec<String> = places.iter().map(|(f, _)| f.clone()).collect();
            files.dedup();
            let mut rules: Vec<String> = group.iter().map(|&i| nodes[i].path.join(".")).collect();
            rules.sort();
            Cycle {
                location: format!("{}:{}", places[0].0, places[0].1),
                files,
                rules,
            }
        })
        .collect();
    cycles.sort_by(|a, b| a.location.cmp(&b.location));
    cycles
}

/// Whether one path is a prefix of the other: evaluating either touches the other.
fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

fn head_ref(head: &RuleHead) -> &Ref<Expr> {
    match head {
        RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => {
            refr
        }
    }
}

/// `import data.lib.k8s [as name]` → name (or `k8s`) → `data.lib.k8s`.
fn imports_of(module: &Module) -> BTreeMap<String, Vec<String>> {
    let mut imports = BTreeMap::new();
    for import in &module.imports {
        let Some(path) = path_of(&import.refr) else {
            continue;
        };
        if path.first().map(String::as_str) != Some("data") {
            continue;
        }
        let alias = match &import.r#as {
            Some(span) => span.text().to_string(),
            None => path.last().cloned().unwrap_or_default(),
        };
        imports.insert(alias, path);
    }
    imports
}

/// A reference as an absolute `data` path, or `None` when it cannot reach a rule.
fn resolve(
    reference: Vec<String>,
    package: &[String],
    imports: &BTreeMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let first = reference.first()?.as_str();
    match first {
        "data" => Some(reference),
        "input" => None,
        _ => match imports.get(first) {
            Some(target) => {
                let mut path = target.clone();
                path.extend(reference.into_iter().skip(1));
                Some(path)
            }
            None => {
                let mut path = vec!["data".to_string()];
                path.extend(package.iter().cloned());
                path.extend(reference);
                Some(path)
            }
        },
    }
}

/// The constant part of a reference: `a.b["c"][x].d` → `[a, b, c]`.
fn path_of(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Var { value, .. } => Some(vec![value.as_string().ok()?.to_string()]),
        Expr::RefDot { refr, field, .. } => {
            let mut path = path_of(refr)?;
            path.push(field.1.as_string().ok()?.to_string());
            Some(path)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut path = path_of(refr)?;
            if let Expr::String { value, .. } = index.as_ref() {
                path.push(value.as_string().ok()?.to_string());
            }
            Some(path)
        }
        _ => None,
    }
}

fn references_in_rule(rule: &Rule, out: &mut Vec<Vec<String>>) {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    index_references(refr, out);
                    if let Some(assign) = assign {
                        references_in(&assign.value, out);
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    index_references(refr, out);
                    if let Some(key) = key {
                        references_in(key, out);
                    }
                }
                RuleHead::Func {
                    refr, args, assign, ..
                } => {
                    index_references(refr, out);
                    for arg in args {
                        references_in(arg, out);
                    }
                    if let Some(assign) = assign {
                        references_in(&assign.value, out);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    references_in(&assign.value, out);
                }
                references_in_query(&body.query, out);
            }
        }
        Rule::Default { args, value, .. } => {
            for arg in args {
                references_in(arg, out);
            }
            references_in(value, out);
        }
    }
}

/// The computed keys of a rule head (`a[x]`), not the head's own name.
fn index_references(head: &Expr, out: &mut Vec<Vec<String>>) {
    match head {
        Expr::RefDot { refr, .. } => index_references(refr, out),
        Expr::RefBrack { refr, index, .. } => {
            index_references(refr, out);
            references_in(index, out);
        }
        _ => {}
    }
}

fn references_in_query(query: &Query, out: &mut Vec<Vec<String>>) {
    for statement in &query.stmts {
        match &statement.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    references_in(key, out);
                }
                references_in(value, out);
                references_in(collection, out);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => references_in(expr, out),
            Literal::Every { domain, query, .. } => {
                references_in(domain, out);
                references_in_query(query, out);
            }
        }
        for with in &statement.with_mods {
            references_in(&with.r#as, out);
        }
    }
}

fn references_in(expr: &Expr, out: &mut Vec<Vec<String>>) {
    match expr {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. } => {}
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => {
            if let Some(path) = path_of(expr) {
                out.push(path);
            }
            // Computed keys and the parts below them refer to rules too.
            let mut part = expr;
            loop {
                match part {
                    Expr::RefDot { refr, .. } => part = refr,
                    Expr::RefBrack { refr, index, .. } => {
                        references_in(index, out);
                        part = refr;
                    }
                    _ => break,
                }
            }
            if !matches!(part, Expr::Var { .. }) {
                references_in(part, out);
            }
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                references_in(item, out);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                references_in(key, out);
                references_in(value, out);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            references_in(term, out);
            references_in_query(query, out);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            references_in(key, out);
            references_in(value, out);
            references_in_query(query, out);
        }
        Expr::Call { fcn, params, .. } => {
            references_in(fcn, out);
            for param in params {
                references_in(param, out);
            }
        }
        Expr::UnaryExpr { expr, .. } => references_in(expr, out),
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            references_in(lhs, out);
            references_in(rhs, out);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                references_in(key, out);
            }
            references_in(value, out);
            references_in(collection, out);
        }
    }
}

/// Tarjan's strongly connected components, iteratively (the graph comes from
/// user input, so no recursion on its size).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let count = edges.len();
    let mut index = vec![UNSEEN; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut groups = Vec::new();
    let mut next = 0;
    for start in 0..count {
        if index[start] != UNSEEN {
            continue;
        }
        // (node, position of the next edge to follow)
        let mut work = vec![(start, 0usize)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (node, ref mut position)) = work.last_mut() {
            if let Some(&target) = edges[node].get(*position) {
                *position += 1;
                if index[target] == UNSEEN {
                    index[target] = next;
                    low[target] = next;
                    next += 1;
                    stack.push(target);
                    on_stack[target] = true;
                    work.push((target, 0));
                } else if on_stack[target] {
                    low[node] = low[node].min(index[target]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut group = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    group.push(member);
                    if member == node {
                        break;
                    }
                }
                group.sort();
                groups.push(group);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycles_of(files: &[(&str, &str)]) -> Vec<Cycle> {
        let mut engine = regorus::Engine::new();
        for (name, text) in files {
            engine
                .add_policy(name.to_string(), text.to_string())
                .unwrap();
        }
        find_cycles(engine.get_modules())
    }

    #[test]
    fn a_function_calling_itself_is_a_cycle_at_its_line() {
        let cycles = cycles_of(&[(
            "p.rego",
            "package p\n\nallow if f(1)\n\nf(x) if {\n  f(x + 1)\n}\n",
        )]);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].location, "p.rego:5");
        assert_eq!(cycles[0].rules, vec!["data.p.f".to_string()]);
    }

    #[test]
    fn rules_calling_each_other_across_packages_are_one_cycle() {
        let cycles = cycles_of(&[
            ("a.rego", "package a\nimport data.b\n\nx if b.y\n"),
            ("b.rego", "package b\n\ny if data.a[\"x\"]\n"),
        ]);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].rules, vec!["data.a.x", "data.b.y"]);
        assert_eq!(cycles[0].files, vec!["a.rego", "b.rego"]);
    }

    #[test]
    fn ordinary_helpers_and_the_builtin_library_have_no_cycle() {
        let cycles = cycles_of(&[(
            "p.rego",
            "package p\n\nimages contains i if { some c in input.containers; i := c.image }\n\ndeny contains msg if {\n  some image in images\n  not allowed(image)\n  msg := image\n}\n\nallowed(i) if startswith(i, data.baselines.registry)\n",
        )]);
        assert!(cycles.is_empty(), "{cycles:?}");
        let builtin = super::super::builtin_policy_files();
        let mut engine = regorus::Engine::new();
        for file in builtin {
            engine.add_policy(file.name, file.text).unwrap();
        }
        assert!(find_cycles(engine.get_modules()).is_empty());
    }
}
