# wasm-migrate (verify/src/http/keras_compat.py): written as `sitecustomize` first on the
# original server's PYTHONPATH for a Keras service, so that a Keras 2 model whose training
# configuration Keras 3 refuses loads without it, as the harness and convert load it.
from wasm_migrate_import_hook import run_shadowed_sitecustomize

run_shadowed_sitecustomize(__file__)

from wasm_migrate_service import load_keras_models_for_inference  # noqa: E402

load_keras_models_for_inference()
