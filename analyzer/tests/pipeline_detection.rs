//! Pipeline detection on small services written inline: the shapes of real code that the
//! samples do not cover.

mod common;
use common::service;

use wasm_migrate_analyzer::pipeline::{ServingKind, StepLibrary};
use wasm_migrate_analyzer::plan::Layout;
use wasm_migrate_analyzer::python::Value;
use wasm_migrate_analyzer::{MigrationPath, Report};

fn plan_ops(r: &Report) -> Vec<String> {
    r.plan.preprocessing.iter().map(|s| s.op.clone()).collect()
}

#[test]
fn functional_transforms_skip_the_image_argument() {
    let (_d, r) = service(&[(
        "app.py",
        "import torchvision.transforms.functional as TF\n\
         def pre(img):\n    t = TF.resize(img, [256])\n    t = TF.center_crop(t, 224)\n    \
         return TF.normalize(t, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])\n",
    )]);
    let normalize = r
        .pipeline
        .preprocessing
        .iter()
        .find(|s| s.op == "normalize")
        .unwrap();
    assert_eq!(
        normalize.param("mean").unwrap().to_string(),
        "[0.485, 0.456, 0.406]"
    );
    assert_eq!(
        normalize.param("std").unwrap().to_string(),
        "[0.229, 0.224, 0.225]"
    );
    let resize = r
        .pipeline
        .preprocessing
        .iter()
        .find(|s| s.op == "resize")
        .unwrap();
    assert_eq!(
        resize.param("size"),
        Some(&Value::List(vec![Value::Int(256)]))
    );
}

#[test]
fn a_transform_made_ahead_runs_where_it_is_applied() {
    // One transform instance at module level, applied in the route after the decode.
    let (_d, r) = service(&[(
        "app.py",
        "import io\nimport torch\nfrom flask import Flask, request\nfrom PIL import Image\n\
         from torchvision import transforms\n\
         app = Flask(__name__)\nmodel = torch.jit.load('m.pt')\n\
         to_tensor = transforms.ToTensor()\nnormalize = transforms.Normalize((0.5,), (0.5,))\n\
         @app.route('/p', methods=['POST'])\ndef p():\n    \
         image = Image.open(io.BytesIO(request.data)).convert('L')\n    \
         return str(model(normalize(to_tensor(image)).unsqueeze(0)).argmax())\n",
    )]);
    assert_eq!(
        plan_ops(&r),
        ["open", "convert", "ToTensor", "Normalize", "unsqueeze"],
        "{:#?}",
        r.plan.preprocessing
    );
}

#[test]
fn numpy_chains_with_varargs_transpose_in_place_ops_and_channel_flips() {
    let (_d, r) = service(&[(
        "infer.py",
        "import numpy as np\nimport cv2\nimport onnxruntime as ort\n\
         sess = ort.InferenceSession('m.onnx')\n\
         def predict(data):\n    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)\n    \
         img = img[..., ::-1]\n    img = cv2.resize(img, (128, 96))\n    x = img.astype(np.float32)\n    \
         x /= 255.0\n    x = (x - mean_for(x)) / np_std\n    x = x.transpose(2, 0, 1)\n    \
         return sess.run(None, {'input': x[None]})\n\
         if __name__ == '__main__':\n    predict(b'')\n",
    )]);
    let ops = plan_ops(&r);
    let expected = [
        "frombuffer",
        "imdecode",
        "reverse_channels",
        "resize",
        "astype",
        "divide",
        "subtract",
        "divide",
        "transpose",
    ];
    assert_eq!(ops, expected, "{:#?}", r.plan.preprocessing);
    let transpose = r
        .pipeline
        .preprocessing
        .iter()
        .find(|s| s.op == "transpose")
        .unwrap();
    assert_eq!(transpose.param("axes").unwrap().to_string(), "[2, 0, 1]");
    let input = r.plan.input.as_ref().unwrap();
    assert_eq!(
        (input.shape.as_deref(), input.layout),
        (Some(&[1, 3, 96, 128][..]), Some(Layout::Nchw))
    );
    assert_eq!(r.pipeline.serving[0].kind, ServingKind::Script);
}

#[test]
fn unused_compositions_and_augmentations_stay_out_of_the_plan() {
    let (_d, r) = service(&[
        (
            "transforms_def.py",
            "from torchvision import transforms as T\n\
             eval_tf = T.Compose([T.Resize(342), T.CenterCrop(299), T.ToTensor()])\n\
             train_tf = T.Compose([T.RandomResizedCrop(299), T.RandomHorizontalFlip(), T.ToTensor()])\n",
        ),
        (
            "app.py",
            "import torch\nfrom flask import Flask, request\nfrom PIL import Image\nfrom transforms_def import eval_tf\n\
             app = Flask(__name__)\nmodel = torch.jit.load('model.pt')\n\
             @app.post('/feedback')\ndef feedback():\n    open('fb.log', 'a').write(request.data.decode())\n    return ''\n\
             @app.post('/predict')\ndef predict():\n    img = Image.open(request.files['image']).convert('RGB')\n    \
             x = eval_tf(img).unsqueeze(0)\n    return str(torch.softmax(model(x), dim=1).argmax().item())\n",
        ),
    ]);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(
        entry.route.as_deref(),
        Some("/predict"),
        "the route that runs the model"
    );
    let ops = plan_ops(&r);
    assert!(ops.contains(&"CenterCrop".to_string()), "{ops:?}");
    assert!(!ops.iter().any(|o| o.starts_with("Random")), "{ops:?}");
    assert_eq!(
        r.plan.input.as_ref().unwrap().shape.as_deref(),
        Some(&[1, 3, 299, 299][..])
    );
    assert!(
        r.pipeline
            .preprocessing
            .iter()
            .any(|s| s.op == "RandomResizedCrop" && s.composition_unused)
    );
}

#[test]
fn tokenizers_called_through_self_and_encode_plus() {
    let (_d, r) = service(&[(
        "handler.py",
        "from transformers import AutoTokenizer, AutoModelForTokenClassification\n\
         class NerHandler:\n    def initialize(self, ctx):\n        \
         self.tokenizer = AutoTokenizer.from_pretrained('./model')\n        \
         self.model = AutoModelForTokenClassification.from_pretrained('./model')\n    \
         def preprocess(self, texts):\n        return self.tokenizer(texts, padding=True, truncation=True, max_length=128)\n",
    )]);
    let call = r
        .pipeline
        .preprocessing
        .iter()
        .find(|s| s.library == StepLibrary::Tokenizer && s.op == "__call__")
        .unwrap();
    assert_eq!(call.param("max_length"), Some(&Value::Int(128)));
    assert_eq!(
        r.plan.input.as_ref().unwrap().shape.as_deref(),
        Some(&[1, 128][..])
    );
}

#[test]
fn torchserve_function_handlers_but_not_tornado_handlers() {
    let (_d, r) = service(&[
        (
            "ts_handler.py",
            "import torch\nmodel = None\ndef handle(data, context):\n    return [1]\n",
        ),
        (
            "web.py",
            "import tornado.web\nclass BaseHandler(tornado.web.RequestHandler):\n    pass\n\
             class PredictHandler(BaseHandler):\n    def initialize(self):\n        pass\n    def handle(self):\n        pass\n",
        ),
    ]);
    let handlers: Vec<(&str, ServingKind)> = r
        .pipeline
        .serving
        .iter()
        .map(|e| (e.handler.as_str(), e.kind))
        .collect();
    assert_eq!(handlers, [("handle", ServingKind::Torchserve)]);
}

#[test]
fn a_framework_python_cannot_run_rules_out_python_in_wasm() {
    let (_d, r) = service(&[(
        "app.py",
        "import pickle\nimport torch\nwith open('model.pkl', 'rb') as f:\n    model = pickle.load(f)\n\
         def predict(x):\n    return model(torch.tensor(x))\n",
    )]);
    assert_eq!(
        r.recommendation.path,
        MigrationPath::Container,
        "{}",
        r.recommendation.rationale
    );
    let wasi_python = r
        .recommendation
        .paths
        .iter()
        .find(|p| p.path == MigrationPath::WasiPython)
        .unwrap();
    assert!(!wasi_python.viable);
}

#[test]
fn offline_scripts_do_not_block_or_feed_the_pipeline() {
    let (_d, r) = service(&[
        (
            "serve.py",
            "import torch\nmodel = torch.jit.load('m.pt')\nif __name__ == '__main__':\n    print(model)\n",
        ),
        (
            "train.py",
            "import torch\nopt = torch.optim.SGD([], lr=0.1)\nopt.step()\nimport subprocess\nsubprocess.run(['ls'])\n",
        ),
        (
            "tests/test_api.py",
            "import subprocess\nsubprocess.run(['pytest'])\n",
        ),
    ]);
    assert_eq!(
        r.recommendation.path,
        MigrationPath::WasiNnGlue,
        "{}",
        r.recommendation.rationale
    );
    let offline: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.location.file != "serve.py" && f.rule.starts_with("process"))
        .collect();
    assert!(!offline.is_empty());
    // Shown apart, never counted: serve.py is what runs, and it imports neither.
    assert!(offline.iter().all(|f| f.outside_serving_path));
    assert_eq!(
        r.summary.findings_outside_serving_path, 3,
        "{:?}",
        r.findings
    );
    assert_eq!(r.outside_serving_path, ["tests/test_api.py", "train.py"]);
    assert_eq!(
        r.entrypoint.as_ref().map(|e| e.file.as_str()),
        Some("serve.py")
    );
    assert!(
        r.pipeline
            .models
            .iter()
            .all(|m| m.location.file == "serve.py")
    );
}
