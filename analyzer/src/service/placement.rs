//! Where code runs in execution order. A step written in a helper runs where the helper is
//! called: `prepare_image` in `backend/utils.py` runs at `prepare_image(file)` in the route of
//! `app/main.py`, and `Predictor.predict` runs where `predictor.predict(image)` is called.
//! Following those calls up to the route gives each step a path of positions, outermost
//! first, which orders steps of different functions and modules.

use rustc_hash::FxHashMap;

use super::modules::ModuleIndex;
use super::reach::ImportGraph;
use crate::pipeline::OrderKey;
use crate::pipeline::detect::{CallsByName, order_key};
use crate::report::Location;

/// How many calls up a step is followed: routes rarely reach a step through more helpers.
const MAX_HOPS: usize = 6;

/// Who calls what, across the service: each file's calls by the callee's last name, and
/// which files import each file.
pub(crate) struct CallGraph<'a> {
    by_path: FxHashMap<&'a str, usize>,
    files: &'a [String],
    calls: &'a [CallsByName],
    importers: Vec<Vec<usize>>,
    entry: Option<usize>,
}

/// Where code runs: the outermost call that reaches it, and the path of positions to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    pub location: Location,
    pub scope: String,
    /// Positions from the outermost call down to the code itself.
    pub order: Vec<OrderKey>,
    /// How many calls were followed.
    pub hops: usize,
}

impl<'a> CallGraph<'a> {
    /// `calls[i]` are the calls of file `i` of the index.
    pub fn new(
        index: &'a ModuleIndex,
        calls: &'a [CallsByName],
        graph: &ImportGraph,
        entry: Option<&str>,
    ) -> Self {
        let files = index.files();
        let by_path: FxHashMap<&str, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), i))
            .collect();
        let mut importers = vec![Vec::new(); files.len()];
        for (importer, targets) in graph.edges().iter().enumerate() {
            for &target in targets {
                if target != importer && !importers[target].contains(&importer) {
                    importers[target].push(importer);
                }
            }
        }
        let entry = entry.and_then(|e| by_path.get(e).copied());
        // The entrypoint's calls are the ones production makes: look there first.
        for list in &mut importers {
            list.sort_by_key(|&i| (Some(i) != entry, i));
        }
        Self {
            by_path,
            files,
            calls,
            importers,
            entry,
        }
    }

    /// Where code at `at`, in function `scope`, runs.
    pub fn place(&self, at: &Location, scope: &str) -> Placement {
        let mut placement = Placement {
            location: at.clone(),
            scope: scope.to_string(),
            order: vec![order_key(at)],
            hops: 0,
        };
        let Some(mut file) = self.by_path.get(at.file.as_str()).copied() else {
            return placement;
        };
        let mut seen = vec![(file, scope.to_string())];
        while placement.hops < MAX_HOPS {
            let Some((caller, location, caller_scope)) = self.caller(file, &placement.scope) else {
                break;
            };
            if seen.contains(&(caller, caller_scope.clone())) {
                break;
            }
            seen.push((caller, caller_scope.clone()));
            placement.order.push(order_key(&location));
            placement.location = location;
            placement.scope = caller_scope;
            placement.hops += 1;
            file = caller;
        }
        placement.order.reverse();
        placement
    }

    /// The entrypoint's file, when there is one.
    pub fn entry_file(&self) -> Option<&'a str> {
        self.entry.map(|e| self.files[e].as_str())
    }

    /// Whether a placement ends at the entrypoint's module level: a class built at import
    /// time whose methods the routes call through an instance.
    pub fn at_entry_module_level(&self, placement: &Placement) -> bool {
        placement.scope == "<module>"
            && self.entry.map(|e| self.files[e].as_str()) == Some(placement.location.file.as_str())
    }

    /// The first call of the function `scope` names: in the entrypoint when it imports the
    /// file and calls it, else in its own file from another function, else in a file that
    /// imports it (the entrypoint first). A method nobody calls by name
    /// runs where its class is built.
    fn caller(&self, file: usize, scope: &str) -> Option<(usize, Location, String)> {
        if scope == "<module>" {
            return None;
        }
        let function = scope.rsplit('.').next().unwrap_or(scope);
        let top = scope.split('.').next().unwrap_or(scope);
        let nested = format!("{scope}.");
        let outside = |s: &&str| *s != scope && !s.starts_with(&nested);
        let first_in = |f: usize, name: &str| {
            self.calls[f]
                .calls_of(&self.files[f], name)
                .filter(|(_, s)| outside(s))
                .min_by_key(|(l, _)| order_key(l))
                .map(|(l, s)| (f, l, s.to_string()))
        };
        // The entrypoint's own call first: a function the routes call and the module's
        // `main()` also calls (a script mode) runs where the routes call it when serving.
        let from_entry = self
            .entry
            .filter(|&e| e != file && self.importers[file].contains(&e))
            .and_then(|e| first_in(e, function));
        from_entry
            .or_else(|| first_in(file, function))
            .or_else(|| {
                self.importers[file]
                    .iter()
                    .find_map(|&i| first_in(i, function).or_else(|| first_in(i, top)))
            })
            .or_else(|| (top != function).then(|| first_in(file, top)).flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(entries: &[(&str, &str, u32, &str)]) -> CallsByName {
        let mut out = CallsByName::default();
        for (name, _file, line, scope) in entries {
            out.record(name, (*line, 5, *line, 20), scope);
        }
        out
    }

    fn graph(files: &[&str], imports: &[(&str, &str)]) -> (ModuleIndex, ImportGraph) {
        let names: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        let index = ModuleIndex::new(&names);
        let refs: Vec<Vec<super::super::reach::ImportRef>> = files
            .iter()
            .map(|f| {
                imports
                    .iter()
                    .filter(|(from, _)| from == f)
                    .map(|(_, module)| (module.to_string(), vec![], 0))
                    .collect()
            })
            .collect();
        let graph = ImportGraph::new(&index, &refs, &vec![Vec::new(); files.len()]);
        (index, graph)
    }

    #[test]
    fn a_helper_runs_where_the_route_calls_it_across_modules() {
        let (index, graph) = graph(&["main.py", "utils.py"], &[("main.py", "utils")]);
        let calls = vec![
            calls(&[("prepare", "main.py", 20, "predict")]),
            calls(&[("resize", "utils.py", 4, "prepare")]),
        ];
        let graph = CallGraph::new(&index, &calls, &graph, Some("main.py"));
        let placed = graph.place(&Location::new("utils.py", 4, 5), "prepare");
        assert_eq!(
            (placed.location.file.as_str(), placed.location.line),
            ("main.py", 20)
        );
        assert_eq!(placed.scope, "predict");
        assert_eq!(placed.hops, 1);
        assert_eq!(placed.order.len(), 2);
    }

    #[test]
    fn a_method_runs_where_an_instance_calls_it_in_the_same_file() {
        let (index, graph) = graph(&["app.py"], &[]);
        let calls = vec![calls(&[
            ("predict", "app.py", 40, "main"),
            ("Predictor", "app.py", 30, "<module>"),
        ])];
        let graph = CallGraph::new(&index, &calls, &graph, Some("app.py"));
        let placed = graph.place(&Location::new("app.py", 12, 5), "Predictor.predict");
        assert_eq!((placed.location.line, placed.scope.as_str()), (40, "main"));
        // Its constructor, which nobody else calls by name, runs where the class is built.
        let built = graph.place(&Location::new("app.py", 8, 5), "Predictor.__init__");
        assert_eq!(
            (built.location.line, built.scope.as_str()),
            (30, "<module>")
        );
        assert!(graph.at_entry_module_level(&built));
    }

    #[test]
    fn recursion_and_uncalled_routes_stay_where_they_are() {
        let (index, graph) = graph(&["app.py"], &[]);
        let calls = vec![calls(&[("walk", "app.py", 9, "walk")])];
        let graph = CallGraph::new(&index, &calls, &graph, None);
        let placed = graph.place(&Location::new("app.py", 8, 5), "walk");
        assert_eq!(placed.hops, 0);
        let route = graph.place(&Location::new("app.py", 3, 5), "predict");
        assert_eq!(route.location, Location::new("app.py", 3, 5));
    }
}
