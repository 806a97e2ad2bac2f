//! The serving layer: HTTP routes, TorchServe's `handle`, and routers mounted with a prefix.

use super::PipelineDetector;
use crate::pipeline::{Endpoint, Mount, ServingKind};
use crate::python::{CallSite, FunctionSite};

impl PipelineDetector {
    /// What one call contributes: a model load, a step, a label file.
    /// `app.include_router(router, prefix=...)`, `app.register_blueprint(bp, url_prefix=...)`.
    pub(super) fn mount(&mut self, site: &CallSite<'_, '_>) {
        let keyword = if site.method == Some("include_router") {
            "prefix"
        } else {
            "url_prefix"
        };
        let Some(prefix) = site
            .arg(None, Some(keyword))
            .and_then(|v| v.as_str().map(str::to_string))
        else {
            return;
        };
        let target = site
            .arg_qualified(Some(0), None)
            .or_else(|| site.arg_text(0).map(str::to_string));
        if let Some(target) = target {
            self.pipeline.mounts.push(Mount {
                target,
                prefix,
                file: site.location().file,
            });
        }
    }

    /// Routes (`@app.post("/predict")`) and TorchServe's module-level `handle`.
    pub(super) fn endpoints(&mut self, site: &FunctionSite) {
        for d in &site.decorators {
            let Some(attr) = d.attr.as_deref() else {
                continue;
            };
            let http = matches!(
                attr,
                "route" | "get" | "post" | "put" | "delete" | "patch" | "api_route"
            );
            // `@app.route` on an app imported from the service's own package (the classic
            // Flask layout: `from webapp import app` in routes.py) resolves to a qualified
            // name; a library function named like a route (`requests.get`) is no decorator.
            let library = d.qualified.as_deref().is_some_and(|q| {
                let root = q.split('.').next().unwrap_or(q);
                matches!(
                    root,
                    "requests" | "httpx" | "urllib" | "aiohttp" | "functools"
                )
            });
            if !http || library {
                continue;
            }
            let kind = if self.imports_fastapi && !self.imports_flask {
                ServingKind::Fastapi
            } else if self.imports_flask {
                ServingKind::Flask
            } else {
                continue;
            };
            let path = d
                .args
                .get("arg0")
                .or_else(|| d.args.get("rule"))
                .or_else(|| d.args.get("path"));
            let methods = match attr {
                "route" | "api_route" => d
                    .args
                    .get("methods")
                    .and_then(|m| {
                        m.as_list().map(|l| {
                            l.iter()
                                .filter_map(|v| v.as_str().map(str::to_uppercase))
                                .collect()
                        })
                    })
                    .unwrap_or_else(|| vec!["GET".to_string()]),
                other => vec![other.to_uppercase()],
            };
            let path = path.and_then(|p| p.as_str().map(str::to_string));
            // `APIRouter(prefix="/v1")`: the router's own prefix is part of the path.
            let path = path.map(|p| format!("{}{p}", d.owner_prefix.as_deref().unwrap_or("")));
            let stem = site.location.file.rsplit('/').next().unwrap_or_default();
            let stem = stem.strip_suffix(".py").unwrap_or(stem);
            self.pipeline.serving.push(Endpoint {
                kind,
                methods,
                path,
                handler: match &site.class {
                    Some(c) => format!("{c}.{}", site.name),
                    None => site.name.clone(),
                },
                handler_methods: Vec::new(),
                location: site.location.clone(),
                router: d.owner.as_ref().map(|owner| format!("{stem}.{owner}")),
            });
        }
        let handler_signature = site.parameters.len() == 2 && site.parameters[1] == "context";
        if site.class.is_none()
            && site.name == "handle"
            && (self.imports_torchserve || handler_signature)
        {
            self.pipeline.serving.push(Endpoint {
                kind: ServingKind::Torchserve,
                methods: Vec::new(),
                path: None,
                handler: site.name.clone(),
                handler_methods: Vec::new(),
                location: site.location.clone(),
                router: None,
            });
        }
    }
}
