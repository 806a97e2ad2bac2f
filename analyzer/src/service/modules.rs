//! The service's Python modules by dotted name, and how an import statement in one file
//! resolves to another file, the way `sys.path` would find it when the service runs.

use rustc_hash::FxHashMap;

/// Every Python file of the service under its full dotted name (`src.app.settings` for
/// `src/app/settings.py`, `app` for `app/__init__.py`).
#[derive(Debug, Default)]
pub struct ModuleIndex {
    files: Vec<String>,
    by_name: FxHashMap<String, usize>,
    by_file: FxHashMap<String, usize>,
}

impl ModuleIndex {
    pub fn new(files: &[String]) -> Self {
        let mut by_name = FxHashMap::default();
        for (i, f) in files.iter().enumerate() {
            if let Some(name) = dotted_name(f) {
                by_name.entry(name).or_insert(i);
            }
        }
        let by_file = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i))
            .collect();
        ModuleIndex {
            files: files.to_vec(),
            by_name,
            by_file,
        }
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }

    pub fn file(&self, index: usize) -> &str {
        &self.files[index]
    }

    pub fn index_of(&self, file: &str) -> Option<usize> {
        self.by_file.get(file).copied()
    }

    /// The file of `module` imported from `from_file` with `level` leading dots.
    ///
    /// An absolute import is tried from the importing file's folder upwards: a script puts
    /// its own folder on `sys.path`, and a service started from its root puts the root there.
    pub fn resolve(&self, from_file: &str, module: &str, level: u32) -> Option<usize> {
        if level > 0 {
            return self
                .by_name
                .get(&absolute(from_file, module, level))
                .copied();
        }
        let mut package = package_of(from_file);
        loop {
            let full = join(&package, module);
            if let Some(&i) = self.by_name.get(&full) {
                return Some(i);
            }
            if package.is_empty() {
                return None;
            }
            package = match package.rfind('.') {
                Some(dot) => package[..dot].to_string(),
                None => String::new(),
            };
        }
    }

    /// The file a `from MODULE import NAME` brings in: the submodule `MODULE.NAME` when there
    /// is one, else `MODULE` itself.
    pub fn resolve_from(
        &self,
        from_file: &str,
        module: &str,
        name: &str,
        level: u32,
    ) -> Option<usize> {
        self.resolve(from_file, &join(module, name), level)
            .or_else(|| self.resolve(from_file, module, level))
    }

    /// A module named in a deployment file (`uvicorn app.main:app`, `python -m serve`): the
    /// full name, or else the one file whose dotted name ends with it.
    pub fn find_named(&self, module: &str) -> Option<usize> {
        if let Some(&i) = self.by_name.get(module) {
            return Some(i);
        }
        let suffix = format!(".{module}");
        let mut hits = self
            .by_name
            .iter()
            .filter(|(name, _)| name.ends_with(&suffix));
        let first = hits.next().map(|(_, &i)| i);
        // Two files that both end with the name: prefer the shallower one.
        hits.fold(first, |best, (_, &i)| match best {
            Some(b) if depth(&self.files[b]) <= depth(&self.files[i]) => Some(b),
            _ => Some(i),
        })
    }

    /// A file path named in a deployment file (`python src/serve.py`, `handler.py`), matched
    /// on whole path components from the end.
    pub fn find_path(&self, path: &str) -> Option<usize> {
        let path = path.trim_start_matches("./");
        let wanted: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if wanted.is_empty() {
            return None;
        }
        self.files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let parts: Vec<&str> = f.split('/').collect();
                parts.len() >= wanted.len() && parts[parts.len() - wanted.len()..] == wanted[..]
            })
            .min_by_key(|(_, f)| depth(f))
            .map(|(i, _)| i)
    }

    /// The `__init__.py` files of the packages a module lives in: importing `app.api.routes`
    /// runs `app/__init__.py` and `app/api/__init__.py` first.
    pub fn package_inits(&self, file: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut dir = String::new();
        let parts: Vec<&str> = file.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            dir = if dir.is_empty() {
                (*part).to_string()
            } else {
                format!("{dir}/{part}")
            };
            let init = format!("{dir}/__init__.py");
            if init != file
                && let Some(i) = self.index_of(&init)
            {
                out.push(i);
            }
        }
        out
    }
}

/// `src/app/settings.py` -> `src.app.settings`; `app/__init__.py` -> `app`.
pub fn dotted_name(file: &str) -> Option<String> {
    let stem = file
        .strip_suffix(".py")
        .or_else(|| file.strip_suffix(".pyi"))?;
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    if stem == "__init__" {
        return Some(String::new());
    }
    Some(stem.replace('/', "."))
}

/// The package a file's relative imports start from: its folder (`app.api` for
/// `app/api/routes.py` and for `app/api/__init__.py`).
pub fn package_of(file: &str) -> String {
    match file.rfind('/') {
        Some(slash) => file[..slash].replace('/', "."),
        None => String::new(),
    }
}

/// The absolute dotted name of `from ...module import` in `from_file`.
pub fn absolute(from_file: &str, module: &str, level: u32) -> String {
    absolute_in(&package_of(from_file), module, level)
}

/// `from ..module import` in `package`: one package up per extra dot.
pub fn absolute_in(package: &str, module: &str, level: u32) -> String {
    let mut package = package;
    for _ in 1..level {
        package = package.rfind('.').map_or("", |dot| &package[..dot]);
    }
    join(package, module)
}

fn join(package: &str, module: &str) -> String {
    match (package.is_empty(), module.is_empty()) {
        (true, _) => module.to_string(),
        (_, true) => package.to_string(),
        _ => format!("{package}.{module}"),
    }
}

fn depth(file: &str) -> usize {
    file.matches('/').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ModuleIndex {
        ModuleIndex::new(&[
            "app/__init__.py".into(),
            "app/main.py".into(),
            "app/settings.py".into(),
            "app/api/__init__.py".into(),
            "app/api/routes.py".into(),
            "scripts/train.py".into(),
            "settings.py".into(),
        ])
    }

    #[test]
    fn absolute_imports_are_found_from_the_importing_folder_upwards() {
        let ix = index();
        // `python app/main.py` puts app/ on sys.path: `import settings` is app/settings.py.
        assert_eq!(ix.resolve("app/main.py", "settings", 0), Some(2));
        // From the root, the root's settings.py.
        assert_eq!(ix.resolve("scripts/train.py", "settings", 0), Some(6));
        assert_eq!(ix.resolve("app/api/routes.py", "app.settings", 0), Some(2));
        assert_eq!(ix.resolve("app/main.py", "numpy", 0), None);
    }

    #[test]
    fn relative_imports_climb_one_package_per_extra_dot() {
        let ix = index();
        assert_eq!(ix.resolve("app/api/routes.py", "settings", 2), Some(2));
        assert_eq!(ix.resolve_from("app/main.py", "", "settings", 1), Some(2));
        assert_eq!(ix.resolve_from("app/main.py", "api", "routes", 1), Some(4));
        assert_eq!(
            absolute("app/api/__init__.py", "routes", 1),
            "app.api.routes"
        );
    }

    #[test]
    fn deployment_names_match_whole_components() {
        let ix = index();
        assert_eq!(ix.find_named("app.main"), Some(1));
        assert_eq!(ix.find_named("main"), Some(1));
        assert_eq!(ix.find_named("ain"), None);
        assert_eq!(ix.find_path("./app/main.py"), Some(1));
        assert_eq!(ix.find_path("settings.py"), Some(6));
        assert_eq!(ix.package_inits("app/api/routes.py"), vec![0, 3]);
    }
}
