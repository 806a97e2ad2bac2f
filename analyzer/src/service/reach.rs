//! The files the serving path reaches: the entrypoint, the local modules it imports (at any
//! depth, inside functions too), the packages those live in, and modules started by name.

use std::collections::VecDeque;

use super::modules::ModuleIndex;

/// One import statement of a file: `(module, names, level)`.
pub type ImportRef = (String, Vec<String>, u32);

/// Which of `index`'s files the entrypoint reaches. `imports[i]` are file i's imports and
/// `started[i]` the modules it starts by name (`uvicorn.run("app.main:app")`).
pub fn reachable(
    index: &ModuleIndex,
    entry: usize,
    imports: &[Vec<ImportRef>],
    started: &[Vec<String>],
) -> Vec<bool> {
    let mut seen = vec![false; index.files().len()];
    let mut queue = VecDeque::from([entry]);
    seen[entry] = true;
    let mut visit = |i: usize, queue: &mut VecDeque<usize>| {
        if !seen[i] {
            seen[i] = true;
            queue.push_back(i);
        }
    };
    for init in index.package_inits(index.file(entry)) {
        visit(init, &mut queue);
    }
    while let Some(i) = queue.pop_front() {
        let file = index.file(i).to_string();
        let mut targets = Vec::new();
        for (module, names, level) in &imports[i] {
            if names.is_empty() || names.iter().any(|n| n == "*") {
                targets.extend(index.resolve(&file, module, *level));
            } else {
                for name in names {
                    targets.extend(index.resolve_from(&file, module, name, *level));
                }
            }
        }
        for module in &started[i] {
            targets.extend(index.find_named(module));
        }
        for t in targets {
            for init in index.package_inits(index.file(t)) {
                visit(init, &mut queue);
            }
            visit(t, &mut queue);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_at_any_depth_and_their_packages_are_reached() {
        let ix = ModuleIndex::new(&[
            "app/__init__.py".into(),
            "app/main.py".into(),
            "app/model.py".into(),
            "app/settings.py".into(),
            "train.py".into(),
            "run.py".into(),
        ]);
        let mut imports = vec![Vec::new(); 6];
        imports[1] = vec![("model".to_string(), vec!["load".to_string()], 1)];
        imports[2] = vec![("app.settings".to_string(), vec![], 0)];
        imports[4] = vec![("app.model".to_string(), vec![], 0)];
        let mut started = vec![Vec::new(); 6];
        started[5] = vec!["app.main".to_string()];
        let reached = reachable(&ix, 5, &imports, &started);
        assert_eq!(reached, vec![true, true, true, true, false, true]);
        let reached = reachable(&ix, 1, &imports, &started);
        assert!(!reached[4] && !reached[5] && reached[3]);
    }
}
