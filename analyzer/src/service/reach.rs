//! The files the serving path reaches: the entrypoint, the local modules it imports (at any
//! depth, inside functions too), the packages those live in, and modules started by name.

use std::collections::VecDeque;

use super::modules::ModuleIndex;

/// One import statement of a file: `(module, names, level)`.
pub type ImportRef = (String, Vec<String>, u32);

/// Which file imports which, resolved once: `edges[i]` are the files file i loads.
#[derive(Debug, Default)]
pub struct ImportGraph {
    edges: Vec<Vec<usize>>,
}

impl ImportGraph {
    /// `imports[i]` are file i's imports and `started[i]` the modules it starts by name
    /// (`uvicorn.run("app.main:app")`). Importing a module runs its packages' `__init__`s.
    pub fn new(index: &ModuleIndex, imports: &[Vec<ImportRef>], started: &[Vec<String>]) -> Self {
        let edges = (0..index.files().len())
            .map(|i| {
                let file = index.file(i);
                let mut targets = Vec::new();
                for (module, names, level) in &imports[i] {
                    if names.is_empty() || names.iter().any(|n| n == "*") {
                        targets.extend(index.resolve(file, module, *level));
                    } else {
                        for name in names {
                            targets.extend(index.resolve_from(file, module, name, *level));
                        }
                    }
                }
                targets.extend(started[i].iter().filter_map(|m| index.find_named(m)));
                let with_packages: Vec<usize> = targets
                    .iter()
                    .flat_map(|&t| index.package_inits(index.file(t)).into_iter().chain([t]))
                    .chain(index.package_inits(file))
                    .collect();
                let mut out = with_packages;
                out.sort_unstable();
                out.dedup();
                out
            })
            .collect();
        ImportGraph { edges }
    }

    /// `edges()[i]`: the files file i loads.
    pub fn edges(&self) -> &[Vec<usize>] {
        &self.edges
    }

    /// The files `entry` loads, itself included.
    pub fn reachable(&self, entry: usize) -> Vec<bool> {
        let mut seen = vec![false; self.edges.len()];
        let mut queue = VecDeque::from([entry]);
        seen[entry] = true;
        while let Some(i) = queue.pop_front() {
            for &t in &self.edges[i] {
                if !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
        seen
    }
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
        let graph = ImportGraph::new(&ix, &imports, &started);
        assert_eq!(
            graph.reachable(5),
            vec![true, true, true, true, false, true]
        );
        let reached = graph.reachable(1);
        assert!(!reached[4] && !reached[5] && reached[3] && reached[0]);
    }
}
