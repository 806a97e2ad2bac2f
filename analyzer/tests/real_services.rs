//! Patterns met in public inference services (bench/corpus), each as a small service of our
//! own: package layouts, values in other modules, entrypoints named by deployment files, side
//! scripts and backups, steps hidden in libraries, models behind wrappers.

mod common;
use common::service;

use wasm_migrate_analyzer::python::Value;
use wasm_migrate_analyzer::{MigrationPath, Report};

fn param<'r>(r: &'r Report, op: &str, key: &str) -> Option<&'r Value> {
    r.plan
        .preprocessing
        .iter()
        .find(|s| s.op == op)
        .and_then(|s| s.params.get(key))
}

const FLOATS: fn(&[f64]) -> Value = |v| Value::List(v.iter().map(|x| Value::Float(*x)).collect());

#[test]
fn a_package_takes_its_constants_from_settings_and_its_steps_from_another_module() {
    let (_d, r) = service(&[
        (
            "Dockerfile",
            "FROM python:3.11\nRUN python scripts/train.py\nCMD [\"uvicorn\", \"app.main:app\"]\n",
        ),
        ("app/__init__.py", ""),
        (
            "app/settings.py",
            "import os\nRESIZE_TO = int(os.environ.get('RESIZE', '256'))\nCROP = RESIZE_TO - 32\nIMAGENET_MEAN = (0.485, 0.456, 0.406)\n",
        ),
        ("app/consts.py", "SCALE = [0.229, 0.224, 0.225]\n"),
        (
            "app/preprocess.py",
            "from torchvision import transforms\nfrom .settings import RESIZE_TO, CROP, IMAGENET_MEAN\nfrom . import consts as c\n\nclass Pre:\n    def __init__(self, size=RESIZE_TO):\n        self.size = size\n\n    def __call__(self, img):\n        t = transforms.Compose([transforms.Resize(self.size), transforms.CenterCrop(CROP), transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, c.SCALE)])\n        return t(img)\n",
        ),
        (
            "app/main.py",
            "import io\nimport torch\nfrom PIL import Image\nfrom fastapi import FastAPI, UploadFile\nfrom .preprocess import Pre\n\napp = FastAPI()\nmodel = torch.jit.load('model.pt')\npre = Pre()\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    img = Image.open(io.BytesIO(await file.read())).convert('RGB')\n    x = pre(img).unsqueeze(0)\n    return {'y': model(x).softmax(1).tolist()}\n",
        ),
        ("app copy.py", "import subprocess\nsubprocess.run(['ls'])\n"),
        (
            "scripts/train.py",
            "import torch\nopt = torch.optim.SGD([], lr=0.1)\nopt.step()\n",
        ),
    ]);
    let entry = r.entrypoint.as_ref().expect("an entrypoint");
    assert_eq!(entry.file, "app/main.py");
    assert!(
        entry.evidence.starts_with("Dockerfile:3"),
        "{}",
        entry.evidence
    );
    assert_eq!(
        r.recommendation.path,
        MigrationPath::WasiNnGlue,
        "{}",
        r.recommendation.rationale
    );
    assert_eq!(r.outside_serving_path, ["app copy.py", "scripts/train.py"]);
    assert!(
        r.findings
            .iter()
            .filter(|f| f.rule.starts_with("training") || f.rule.starts_with("process"))
            .all(|f| f.outside_serving_path)
    );
    // Values from settings.py, a module alias and a parameter's default.
    assert_eq!(param(&r, "Resize", "size"), Some(&Value::Int(256)));
    assert_eq!(param(&r, "CenterCrop", "size"), Some(&Value::Int(224)));
    assert_eq!(
        param(&r, "Normalize", "mean"),
        Some(&FLOATS(&[0.485, 0.456, 0.406]))
    );
    assert_eq!(
        param(&r, "Normalize", "std"),
        Some(&FLOATS(&[0.229, 0.224, 0.225]))
    );
    // The other module's steps run where main.py calls into it: after the decode.
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(
        &ops[..6],
        [
            "open",
            "convert",
            "Resize",
            "CenterCrop",
            "ToTensor",
            "Normalize"
        ]
    );
    assert!(
        !r.findings.iter().any(|f| f.rule == "unresolved-parameter"),
        "{:?}",
        r.findings
    );
}

#[test]
fn a_parameter_without_a_value_is_named_not_dropped() {
    let (_d, r) = service(&[(
        "app.py",
        "import torch\nfrom torchvision import transforms\nfrom flask import Flask, request\nfrom PIL import Image\napp = Flask(__name__)\nmodel = torch.jit.load('m.pt')\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    side = int(request.args['side'])\n    img = Image.open(request.files['file']).convert('RGB')\n    t = transforms.Compose([transforms.Resize(size=side), transforms.ToTensor()])\n    return {'y': model(t(img).unsqueeze(0)).tolist()}\n",
    )]);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "unresolved-parameter")
        .expect("the unresolved size is a finding");
    assert!(
        f.message.contains("`size`") && f.message.contains("side"),
        "{}",
        f.message
    );
    assert!(matches!(
        param(&r, "Resize", "size"),
        Some(Value::Expr { .. })
    ));
}

#[test]
fn torchvision_weights_presets_and_torchserve_base_handlers_are_written_out() {
    let (_d, r) = service(&[(
        "app.py",
        "from flask import Flask, request\nfrom PIL import Image\nfrom torchvision.models import resnet50, ResNet50_Weights\napp = Flask(__name__)\nweights = ResNet50_Weights.DEFAULT\nmodel = resnet50(weights=weights).eval()\npreprocess = weights.transforms()\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    img = Image.open(request.files['file']).convert('RGB')\n    return {'y': model(preprocess(img).unsqueeze(0)).tolist()}\n",
    )]);
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(
        &ops[..6],
        [
            "open",
            "convert",
            "Resize",
            "CenterCrop",
            "ToTensor",
            "Normalize"
        ]
    );
    assert_eq!(param(&r, "Resize", "size"), Some(&Value::Int(232)));
    assert_eq!(param(&r, "CenterCrop", "size"), Some(&Value::Int(224)));

    let (_d, r) = service(&[(
        "handler.py",
        "from ts.torch_handler.image_classifier import ImageClassifier\n\nclass FoodClassifier(ImageClassifier):\n    topk = 3\n",
    )]);
    assert_eq!(
        r.entrypoint.as_ref().map(|e| e.file.as_str()),
        Some("handler.py")
    );
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(
        ops,
        ["open", "Resize", "CenterCrop", "ToTensor", "Normalize"]
    );
    let topk = r
        .plan
        .postprocessing
        .iter()
        .find(|s| s.op == "topk")
        .expect("top-k");
    assert_eq!(topk.params.get("k"), Some(&Value::Int(3)));
    assert!(r.plan.model.is_some(), "the base handler loads the model");
}

#[test]
fn ultralytics_steps_are_written_out_and_an_exported_size_is_named_unresolved() {
    let (_d, r) = service(&[(
        "api.py",
        "from fastapi import FastAPI, UploadFile\nfrom ultralytics import YOLO\nimport numpy as np, cv2\napp = FastAPI()\nmodel = YOLO('weights/best.onnx')\n\n@app.post('/detect')\nasync def detect(file: UploadFile):\n    img = cv2.imdecode(np.frombuffer(await file.read(), np.uint8), cv2.IMREAD_COLOR)\n    return model(img, conf=0.4)[0].boxes.xyxy.tolist()\n",
    )]);
    assert_eq!(
        ops(&r),
        [
            "frombuffer",
            "imdecode",
            "letterbox",
            "bgr-to-rgb",
            "divide"
        ]
    );
    assert!(matches!(
        param(&r, "letterbox", "new_shape"),
        Some(Value::Expr { .. })
    ));
    assert_eq!(param(&r, "letterbox", "auto"), Some(&Value::Bool(false)));
    let nms = r
        .plan
        .postprocessing
        .iter()
        .find(|s| s.op == "nms")
        .expect("NMS");
    assert_eq!(nms.params.get("conf"), Some(&Value::Float(0.4)));
    assert!(r.findings.iter().any(|f| f.rule.starts_with("unresolved-")));
    let model = r.plan.model.as_ref().expect("the YOLO model");
    assert_eq!(model.framework.as_str(), "onnx");
    assert_eq!(r.recommendation.path, MigrationPath::WasiNnGlue);
}

#[test]
fn steps_hidden_in_a_library_make_the_plan_incomplete_not_silent() {
    let (_d, r) = service(&[(
        "api.py",
        "import timm\nfrom timm.data import resolve_data_config, create_transform\nfrom fastapi import FastAPI, UploadFile\nfrom PIL import Image\napp = FastAPI()\nmodel = timm.create_model('my_lab_net_v7', checkpoint_path='net.pth')\ntf = create_transform(**resolve_data_config({}, model=model))\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    return model(tf(Image.open(file.file)).unsqueeze(0)).tolist()\n",
    )]);
    let hidden = r
        .findings
        .iter()
        .find(|f| f.rule == "preprocessing-hidden")
        .expect("a hidden-steps finding");
    assert!(hidden.message.contains("timm"), "{}", hidden.message);
}

#[test]
fn local_and_windows_paths_are_not_downloads_and_remote_code_is_flagged() {
    let (_d, r) = service(&[(
        "app.py",
        "from transformers import AutoModel\nfrom efficientnet_pytorch import EfficientNet\nm1 = AutoModel.from_pretrained('C:\\\\models\\\\bert')\nm2 = AutoModel.from_pretrained('models/bert/v2')\nm3 = EfficientNet.from_pretrained('efficientnet-b0', weights_path='weights/b0.pth')\nm4 = AutoModel.from_pretrained('./nomic', trust_remote_code=True)\n",
    )]);
    let downloads: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("download"))
        .collect();
    assert!(downloads.is_empty(), "{downloads:?}");
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "dynamic-trust-remote-code")
    );
    assert!(
        r.pipeline
            .models
            .iter()
            .any(|m| m.artifact.as_deref() == Some("weights/b0.pth"))
    );
}

#[test]
fn a_tokenizer_from_another_module_and_a_pickled_vectorizer_are_seen() {
    let (_d, r) = service(&[
        ("Dockerfile", "CMD [\"uvicorn\", \"main:app\"]\n"),
        (
            "models.py",
            "from transformers import AutoTokenizer, AutoModelForSequenceClassification\ntokenizer = AutoTokenizer.from_pretrained('./model')\nmodel = AutoModelForSequenceClassification.from_pretrained('./model')\n",
        ),
        (
            "main.py",
            "from fastapi import FastAPI\nfrom models import tokenizer, model\napp = FastAPI()\n\n@app.post('/score')\ndef score(text: str):\n    inputs = tokenizer(text, truncation=True, max_length=128, return_tensors='pt')\n    return {'y': model(**inputs).logits.softmax(-1).tolist()}\n",
        ),
    ]);
    let call = r
        .plan
        .preprocessing
        .iter()
        .find(|s| s.op == "__call__")
        .expect("the tokenizer call is a step");
    assert_eq!(call.params.get("max_length"), Some(&Value::Int(128)));

    let (_d, r) = service(&[(
        "app.py",
        "import joblib\nfrom flask import Flask, request\napp = Flask(__name__)\nvectorizer = joblib.load('tfidf.pkl')\nmodel = joblib.load('svm.pkl')\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    return {'y': int(model.predict(vectorizer.transform([request.json['text']]))[0])}\n",
    )]);
    let hidden = r
        .findings
        .iter()
        .find(|f| f.rule == "preprocessing-hidden")
        .expect("the vectorizer's steps are a finding");
    assert!(
        hidden.message.contains("scikit-learn"),
        "{}",
        hidden.message
    );
}

fn ops(r: &Report) -> Vec<&str> {
    r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect()
}

#[test]
fn a_helper_module_runs_where_the_route_calls_it_and_what_follows_the_model_is_not_input() {
    // A Compose defined in one module, applied by a helper in another, called from the
    // route; a heatmap drawn after the model in a third helper.
    let (_d, r) = service(&[
        ("backend/__init__.py", ""),
        (
            "backend/model.py",
            "import torch\nfrom torchvision import transforms\npreprocess = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])\nmodel = torch.jit.load('backend/model.pt')\n",
        ),
        (
            "backend/utils.py",
            "import cv2\nimport torch\nimport numpy as np\nfrom PIL import Image\nfrom .model import preprocess\n\ndef prepare_image(file):\n    image = Image.open(file).convert('RGB')\n    return preprocess(image).unsqueeze(0)\n\ndef heatmap(t):\n    a = t.numpy().transpose(1, 2, 0)\n    a = cv2.cvtColor(a, cv2.COLOR_RGB2BGR)\n    return cv2.resize(a, (64, 64))\n",
        ),
        (
            "app/main.py",
            "# run: uvicorn app.main:app\nfrom fastapi import FastAPI, UploadFile\nfrom backend.model import model\nfrom backend.utils import prepare_image, heatmap\n\napp = FastAPI()\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    x = prepare_image(file.file)\n    out = model(x).softmax(1)\n    return {'p': out.tolist(), 'map': heatmap(x[0]).tolist()}\n",
        ),
    ]);
    assert_eq!(
        ops(&r),
        [
            "open",
            "convert",
            "Resize",
            "CenterCrop",
            "ToTensor",
            "unsqueeze"
        ]
    );
}

#[test]
fn a_method_called_through_an_instance_runs_after_the_route_decodes() {
    let (_d, r) = service(&[(
        "app.py",
        "import io\nimport torch\nfrom PIL import Image\nfrom flask import Flask, request\nfrom torchvision import transforms\n\nclass Predictor:\n    def __init__(self, path):\n        self.model = torch.jit.load(path)\n        self.transform = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])\n\n    def predict(self, image):\n        x = self.transform(image).unsqueeze(0)\n        y = self.model(x)\n        return (y * 100).round()\n\napp = Flask(__name__)\npredictor = Predictor('model.pt')\n\n@app.route('/predict', methods=['POST'])\ndef main():\n    image = Image.open(io.BytesIO(request.data))\n    if image.mode != 'RGB':\n        image = image.convert('RGB')\n    return {'y': predictor.predict(image).tolist()}\n",
    )]);
    assert_eq!(
        ops(&r),
        ["open", "convert", "Resize", "ToTensor", "unsqueeze"]
    );
    assert_eq!(
        param(&r, "convert", "when"),
        Some(&Value::Str("image.mode != 'RGB'".into()))
    );
    assert_eq!(param(&r, "Resize", "when"), None);
}

#[test]
fn timm_create_transform_is_written_out_from_the_architecture_default() {
    let (_d, r) = service(&[(
        "app.py",
        "import timm, torch\nfrom timm.data import resolve_data_config, create_transform\nfrom PIL import Image\nfrom fastapi import FastAPI, UploadFile\napp = FastAPI()\nmodel = timm.create_model('efficientnet_b0', num_classes=2)\nmodel.load_state_dict(torch.load('weights.pt'))\ntransform = create_transform(**resolve_data_config(model.pretrained_cfg, model=model))\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    image = Image.open(file.file).convert('RGB')\n    return model(transform(image).unsqueeze(0)).softmax(1).tolist()\n",
    )]);
    assert_eq!(
        ops(&r),
        [
            "open",
            "convert",
            "Resize",
            "CenterCrop",
            "ToTensor",
            "Normalize",
            "unsqueeze"
        ]
    );
    // 224 / 0.875, bicubic: efficientnet_b0's `ra_in1k` config.
    assert_eq!(param(&r, "Resize", "size"), Some(&Value::Int(256)));
    assert_eq!(param(&r, "CenterCrop", "size"), Some(&Value::Int(224)));
    assert!(
        !r.findings.iter().any(|f| f.rule == "preprocessing-hidden"),
        "the knowledge base knows efficientnet_b0"
    );
}

#[test]
fn text_models_behind_wrappers_get_their_tokenizer_and_pooling() {
    let (_d, r) = service(&[(
        "app.py",
        "from fastapi import FastAPI\nfrom transformers import pipeline\napp = FastAPI()\nclassifier = pipeline('sentiment-analysis', model='models/distilbert')\n\n@app.post('/classify')\nasync def classify(text: str):\n    return classifier(text, truncation=True)\n",
    )]);
    assert_eq!(ops(&r), ["__call__"]);
    assert_eq!(
        param(&r, "__call__", "truncation"),
        Some(&Value::Bool(true))
    );
    assert!(r.plan.postprocessing.iter().any(|s| s.op == "softmax"));

    let (_d, r) = service(&[(
        "app.py",
        "from fastapi import FastAPI\nfrom sentence_transformers import SentenceTransformer\napp = FastAPI()\nmodel = SentenceTransformer('models/e5-small')\n\n@app.post('/embed')\nasync def embed(texts: list[str]):\n    return model.encode(texts, normalize_embeddings=True).tolist()\n",
    )]);
    assert_eq!(ops(&r), ["__call__"]);
    let post: Vec<&str> = r
        .plan
        .postprocessing
        .iter()
        .map(|s| s.op.as_str())
        .collect();
    assert_eq!(post, ["mean_pooling", "normalize"]);

    let (_d, r) = service(&[(
        "app.py",
        "from fastapi import FastAPI\nfrom transformers import AutoTokenizer, AutoModel\napp = FastAPI()\ntokenizer = AutoTokenizer.from_pretrained('models/bert', model_max_length=8192)\nmodel = AutoModel.from_pretrained('models/bert')\n\n@app.post('/embed')\nasync def embed(text: str):\n    enc = tokenizer(text, padding=True, truncation=True, return_tensors='pt')\n    return model(**enc).last_hidden_state.mean(1).tolist()\n",
    )]);
    assert_eq!(param(&r, "__call__", "max_length"), Some(&Value::Int(8192)));
}

#[test]
fn a_fitted_vectorizer_is_a_step_only_in_front_of_a_scikit_learn_model() {
    let sklearn = "import joblib\nfrom flask import Flask, request\napp = Flask(__name__)\nvectorizer = joblib.load('tfidf.pkl')\nclf = joblib.load('model.pkl')\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    x = vectorizer.transform([request.json['text']])\n    return {'label': int(clf.predict(x)[0])}\n";
    let (_d, r) = service(&[("app.py", sklearn)]);
    assert_eq!(ops(&r), ["transform"]);
    let neural = sklearn
        .replace(
            "vectorizer = joblib.load('tfidf.pkl')",
            "from sklearn.feature_extraction.text import TfidfVectorizer\nvectorizer = TfidfVectorizer().fit(['a b', 'b c'])",
        )
        .replace(
            "clf = joblib.load('model.pkl')",
            "import torch\nclf = torch.jit.load('model.pt')",
        );
    let (_d, r) = service(&[("app.py", neural.as_str())]);
    assert!(!ops(&r).contains(&"transform"), "{:?}", ops(&r));
}

#[test]
fn a_parameter_takes_the_value_every_caller_passes() {
    let (_d, r) = service(&[
        (
            "predictor.py",
            "import torch\nfrom torchvision import transforms\n\nclass Predictor:\n    def __init__(self, path, size):\n        self.model = torch.jit.load(path)\n        self.transform = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])\n\n    def predict(self, image):\n        return self.model(self.transform(image).unsqueeze(0))\n\ndef crop_for(image, side):\n    return transforms.CenterCrop(side)(image)\n",
        ),
        (
            "app.py",
            "import io\nfrom PIL import Image\nfrom flask import Flask, request\nfrom predictor import Predictor, crop_for\nSIZE = 456\napp = Flask(__name__)\npredictor = Predictor('model.pt', SIZE)\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    image = crop_for(Image.open(io.BytesIO(request.data)), side=480)\n    return {'y': predictor.predict(image).tolist()}\n",
        ),
        (
            "tools/other.py",
            "from predictor import crop_for\n\ndef thumbnail(img):\n    return crop_for(img, 128)\n\ndef any_crop(img, n):\n    return crop_for(img, n)\n",
        ),
    ]);
    assert_eq!(
        param(&r, "Resize", "size"),
        Some(&Value::List(vec![Value::Int(456), Value::Int(456)]))
    );
    // Another caller passes something else: the value depends on the caller. (`any_crop`
    // passes its own parameter on, which takes no side either way.)
    assert!(matches!(
        param(&r, "CenterCrop", "size"),
        Some(Value::Expr { .. })
    ));
}

fn post_ops(r: &Report) -> Vec<&str> {
    r.plan
        .postprocessing
        .iter()
        .map(|s| s.op.as_str())
        .collect()
}

#[test]
fn postprocessing_written_as_methods_formulas_or_own_functions_is_seen() {
    let (_d, r) = service(&[(
        "app.py",
        "import io, torch\nfrom PIL import Image\nfrom flask import Flask, request\nfrom torchvision import transforms\napp = Flask(__name__)\nmodel = torch.jit.load('m.pt')\ntf = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])\n\n@app.route('/predict', methods=['POST'])\ndef predict():\n    x = tf(Image.open(io.BytesIO(request.data))).unsqueeze(0)\n    outputs = model(x)\n    _, y_hat = outputs.max(1)\n    return {'class': int(y_hat)}\n",
    )]);
    assert_eq!(post_ops(&r), ["max"]);

    let (_d, r) = service(&[(
        "app.py",
        "import numpy as np, cv2\nimport onnxruntime as ort\nfrom fastapi import FastAPI, UploadFile\napp = FastAPI()\nsession = ort.InferenceSession('m.onnx')\n\ndef softmax(x):\n    e = np.exp(x - np.max(x))\n    return e / e.sum()\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    img = cv2.imdecode(np.frombuffer(await file.read(), np.uint8), cv2.IMREAD_COLOR)\n    x = (cv2.resize(img, (224, 224)).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]\n    logit = session.run(None, {'input': x})[0]\n    p = 1 / (1 + np.exp(-logit))\n    return {'p': softmax(logit).tolist(), 'sigmoid': p.tolist()}\n",
    )]);
    let post = post_ops(&r);
    assert!(
        post.contains(&"softmax") && post.contains(&"sigmoid"),
        "{post:?}"
    );
    // The formula is postprocessing, not a `divide` step of the model's input.
    let divides = ops(&r).iter().filter(|o| **o == "divide").count();
    assert_eq!(divides, 1, "{:?}", ops(&r));

    let (_d, r) = service(&[(
        "app.py",
        "import numpy as np\nfrom fastapi import FastAPI, UploadFile\nfrom tensorflow.keras.applications.mobilenet_v2 import MobileNetV2, preprocess_input, decode_predictions\nfrom tensorflow.keras.preprocessing import image\napp = FastAPI()\nmodel = MobileNetV2(weights='imagenet')\n\n@app.post('/predict')\nasync def predict(file: UploadFile):\n    img = image.load_img(file.file, target_size=(224, 224))\n    x = preprocess_input(np.expand_dims(image.img_to_array(img), 0))\n    return decode_predictions(model.predict(x), top=3)[0]\n",
    )]);
    assert_eq!(post_ops(&r), ["decode_predictions"]);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "download-keras-imagenet-labels")
    );
}

#[test]
fn a_gateway_in_front_of_a_model_server_is_the_entrypoint_and_the_model_is_the_servers() {
    let gateway = "import httpx, torch\nfrom fastapi import FastAPI\nfrom transformers import AutoTokenizer, AutoConfig\n\napp = FastAPI()\ntok = AutoTokenizer.from_pretrained('/app/tokenizer')\nconfig = AutoConfig.from_pretrained('/app/tokenizer')\n\n@app.post('/predict')\nasync def predict(text: str):\n    ids = tok(text, return_tensors='pt', truncation=True)['input_ids'].tolist()\n    async with httpx.AsyncClient() as c:\n        r = await c.post('http://predictor/predict', json={'input_ids': ids})\n    probs = torch.softmax(torch.tensor(r.json()['logits']), dim=1)\n    return {'label': config.id2label[int(probs.argmax())]}\n";
    let server = "import torch\nfrom fastapi import FastAPI\nfrom transformers import AutoTokenizer, AutoModelForSequenceClassification\n\napp = FastAPI()\ntok = AutoTokenizer.from_pretrained('/models/m')\nmodel = AutoModelForSequenceClassification.from_pretrained('/models/m')\n\n@app.post('/predict')\ndef predict(body: dict):\n    return {'logits': model(torch.tensor(body['input_ids'])).logits.tolist()}\n";
    for (first, second) in [("gateway.py", "main.py"), ("main.py", "gateway.py")] {
        let (_d, r) = service(&[
            (
                "Dockerfile.gateway",
                "FROM python\nCMD [\"uvicorn\", \"gateway:app\"]\n",
            ),
            (
                "Dockerfile.main",
                "FROM python\nCMD [\"uvicorn\", \"main:app\"]\n",
            ),
            (
                first,
                if first == "gateway.py" {
                    gateway
                } else {
                    server
                },
            ),
            (
                second,
                if second == "gateway.py" {
                    gateway
                } else {
                    server
                },
            ),
        ]);
        let entry = r.entrypoint.as_ref().expect("an entrypoint");
        assert_eq!(entry.file, "gateway.py", "{}", entry.evidence);
        assert_eq!(entry.model_server.as_deref(), Some("main.py"));
        assert_eq!(r.pipeline.models.len(), 1, "{:?}", r.pipeline.models);
        let model = r.plan.model.as_ref().expect("the server's model");
        assert!(
            model.loaded_at.starts_with("main.py:"),
            "{}",
            model.loaded_at
        );
        // The gateway's tokenizer; the server's unused one goes with its HTTP layer.
        assert_eq!(
            ops(&r),
            ["AutoTokenizer.from_pretrained", "__call__"],
            "{:?}",
            r.plan.preprocessing
        );
        assert!(
            r.pipeline
                .serving
                .iter()
                .all(|s| s.location.file == "gateway.py")
        );
    }
}

#[test]
fn model_variants_built_by_factories_give_one_chain_after_the_route_decodes() {
    // Each factory builds a model and a transform and returns a closure over both; the
    // routes decode, then call whichever variant they serve.
    let factory = |name: &str, size: u32| {
        format!(
            "def get_{name}():\n    model = torch.jit.load('{name}.pt')\n    t = transforms.Compose([transforms.Resize({size}), transforms.ToTensor()])\n    def run(image):\n        return model(t(image).unsqueeze(0)).softmax(1)\n    return run\n\n"
        )
    };
    let app = |second: u32| {
        format!(
            "import torch\nfrom PIL import Image\nfrom fastapi import FastAPI, UploadFile\nfrom torchvision import transforms\n\n{}{}prod = get_prod()\nstaging = get_staging()\napp = FastAPI()\n\ndef decode(f):\n    image = Image.open(f.file)\n    return image.convert('RGB')\n\n@app.post('/predict')\ndef predict(f: UploadFile):\n    return {{'p': prod(decode(f)).tolist()}}\n\n@app.post('/staging')\ndef predict_staging(f: UploadFile):\n    return {{'p': staging(decode(f)).tolist()}}\n",
            factory("prod", 224),
            factory("staging", second)
        )
    };
    let (_d, r) = service(&[("main.py", &app(224))]);
    assert_eq!(
        ops(&r),
        ["open", "convert", "Resize", "ToTensor", "unsqueeze"],
        "{:?}",
        r.plan.preprocessing
    );
    // Different chains are both kept: the plan does not pick one silently.
    let (_d, r) = service(&[("main.py", &app(256))]);
    assert_eq!(
        ops(&r).iter().filter(|op| **op == "Resize").count(),
        2,
        "{:?}",
        r.plan.preprocessing
    );
}

/// A hand-written aspect-keeping resize and center crop, each in one of its common spellings.
fn hand_geometry(sizes: &str, start: &str) -> Report {
    let source = format!(
        "import cv2\nimport numpy as np\nimport onnxruntime as ort\nfrom flask import Flask, request\n\n\
         S = 224\napp = Flask(__name__)\nsession = ort.InferenceSession('model.onnx')\n\n\
         def prep(data):\n    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)\n    h, w = img.shape[:2]\n{sizes}\
         \x20   img = cv2.resize(img, (new_w, new_h))\n    h, w = img.shape[:2]\n{start}\
         \x20   img = img[y:y + S, x:x + S]\n    x = (img.astype(np.float32) - 127.5) / 127.5\n    return x[None]\n\n\
         @app.post('/p')\ndef p():\n    return {{'y': session.run(None, {{'x': prep(request.data)}})[0].tolist()}}\n"
    );
    service(&[("app.py", source.as_str())]).1
}

#[test]
fn a_hand_written_aspect_resize_and_slicing_crop_become_their_rules() {
    let shorter = "    if h > w:\n        new_h, new_w = int(h * S / w), S\n    else:\n        new_h, new_w = S, int(w * S / h)\n";
    let longer = "    if w < h:\n        new_h, new_w = S, int(S * w / h)\n    else:\n        new_h, new_w = int(S * h / w), S\n";
    let half = "    y = max(0, h // 2 - S // 2)\n    x = max(0, w // 2 - S // 2)\n";
    let floor = "    y = (h - S) // 2\n    x = (w - S) // 2\n";
    let rounded = "    y = round((h - S) / 2)\n    x = round((w - S) / 2)\n";
    for (sizes, side) in [(shorter, "shorter_side"), (longer, "longer_side")] {
        for (start, offset) in [
            (half, "size // 2 - crop // 2"),
            (floor, "(size - crop) // 2"),
            (rounded, "round((size - crop) / 2)"),
        ] {
            let r = hand_geometry(sizes, start);
            let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
            // The geometry's own arithmetic (`h - S`, `w * S / h`) is not a step.
            assert_eq!(
                ops,
                [
                    "frombuffer",
                    "imdecode",
                    "resize",
                    "slice",
                    "astype",
                    "subtract",
                    "divide"
                ],
                "{sizes}{start}"
            );
            assert_eq!(param(&r, "resize", side), Some(&Value::Int(224)), "{sizes}");
            assert_eq!(param(&r, "resize", "keep_aspect"), Some(&Value::Bool(true)));
            assert_eq!(param(&r, "resize", "dsize"), None);
            assert_eq!(
                param(&r, "slice", "center_crop"),
                Some(&Value::List(vec![Value::Int(224), Value::Int(224)]))
            );
            assert_eq!(
                param(&r, "slice", "offset"),
                Some(&Value::Str(offset.into())),
                "{start}"
            );
        }
    }
    // A size computed some other way stays the expressions it is, named in the plan.
    let r = hand_geometry(
        "    new_w, new_h = w // 2, h // 2\n",
        "    y = h // 3\n    x = w // 3\n",
    );
    assert!(
        matches!(param(&r, "resize", "dsize"), Some(Value::List(v)) if matches!(v[0], Value::Expr { .. })),
        "{:?}",
        param(&r, "resize", "dsize")
    );
    assert!(r.plan.preprocessing.iter().all(|s| s.op != "slice"));
}

#[test]
fn a_hand_written_letterbox_is_a_fit_resize_and_a_centered_paste() {
    let (_d, r) = service(&[
        (
            "utils/image.py",
            "from PIL import Image\nimport numpy as np\n\n\
             def letterbox_image(image, size):\n    iw, ih = image.size\n    w, h = size\n    scale = min(w / iw, h / ih)\n    nw = int(iw * scale)\n    nh = int(ih * scale)\n    image = image.resize((nw, nh), Image.BICUBIC)\n    new_image = Image.new('RGB', size, (128, 128, 128))\n    new_image.paste(image, ((w - nw) // 2, (h - nh) // 2))\n    return new_image\n\n\
             def preprocess(image):\n    img = np.array(letterbox_image(image, (416, 320))).astype(np.float32) / 255.0\n    return img.transpose((2, 0, 1))[None]\n\n\
             def overlay(image, logo):\n    image.paste(logo, (10, 10))\n    return image\n",
        ),
        (
            "app.py",
            "import io\nimport onnxruntime as ort\nfrom PIL import Image\nfrom flask import Flask, request\nfrom utils.image import preprocess\n\n\
             app = Flask(__name__)\nsession = ort.InferenceSession('model.onnx')\n\n\
             @app.post('/detect')\ndef detect():\n    img = Image.open(io.BytesIO(request.data)).convert('RGB')\n    return {'y': session.run(None, {'images': preprocess(img)})[0].tolist()}\n",
        ),
    ]);
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    // The letterbox's own arithmetic (`iw * scale`, `w - nw`) is not a step; the overlay's
    // paste onto an image that is not a new canvas is not one either.
    assert_eq!(
        ops,
        [
            "open",
            "convert",
            "resize",
            "paste",
            "array",
            "astype",
            "divide",
            "transpose"
        ],
    );
    let ints = |v: &[i64]| Value::List(v.iter().map(|x| Value::Int(*x)).collect());
    // The box comes from the caller's literal through `w, h = size`.
    assert_eq!(param(&r, "resize", "fit"), Some(&ints(&[416, 320])));
    assert_eq!(param(&r, "resize", "size"), None);
    assert_eq!(param(&r, "paste", "canvas"), Some(&ints(&[416, 320])));
    assert_eq!(param(&r, "paste", "fill"), Some(&ints(&[128, 128, 128])));
    assert_eq!(param(&r, "paste", "mode"), Some(&Value::Str("RGB".into())));
}

#[test]
fn an_architecture_passed_to_a_loader_is_the_serving_callers_and_training_datasets_stay_out() {
    let (_d, r) = service(&[
        ("pkg/__init__.py", ""),
        (
            "pkg/data.py",
            "from PIL import Image\nimport numpy as np\nfrom torch.utils.data import Dataset\n\n\
             class Eyes(Dataset):\n    def __init__(self, paths, transform):\n        self.paths = paths\n        self.transform = transform\n\n    def __getitem__(self, i):\n        img = Image.open(self.paths[i]).convert('L')\n        return self.transform(np.array(img))\n",
        ),
        (
            "pkg/predict.py",
            "import timm\nimport torch\nfrom timm.data import resolve_data_config\nfrom timm.data.transforms_factory import create_transform\nfrom pkg.data import Eyes\n\n\
             def load_model(model_name, weights_path):\n    model = timm.create_model(model_name, num_classes=1)\n    model.load_state_dict(torch.load(weights_path))\n    return model\n\n\
             def predict_one(model, image):\n    transform = create_transform(**resolve_data_config(model.pretrained_cfg, model=model))\n    return torch.sigmoid(model(transform(image).unsqueeze(0))).item()\n\n\
             def evaluate(model_name, paths):\n    model = load_model(model_name, 'w.pt')\n    return [model(x) for x in Eyes(paths, None)]\n",
        ),
        (
            "main.py",
            "from io import BytesIO\nfrom PIL import Image\nfrom fastapi import FastAPI, UploadFile\nfrom pkg.predict import load_model, predict_one\n\n\
             app = FastAPI()\ntry:\n    model_name = 'resnet50'\n    model = load_model(model_name, f'results/{model_name}.pt')\nexcept Exception as e:\n    raise RuntimeError(e)\n\n\
             @app.post('/predict')\nasync def predict(file: UploadFile):\n    img = Image.open(BytesIO(await file.read()))\n    return {'p': predict_one(model, img)}\n",
        ),
    ]);
    // `evaluate` passes its own parameter on: it takes no side against the route's literal,
    // which is assigned inside a `try` at module level.
    let model = r
        .pipeline
        .models
        .iter()
        .find(|m| m.call == "timm.create_model")
        .expect("the timm model");
    assert_eq!(model.architecture.as_deref(), Some("resnet50"));
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    // The architecture's default config, written out; the Dataset's grayscale open is
    // training input the route never reaches.
    assert_eq!(
        ops,
        [
            "open",
            "Resize",
            "CenterCrop",
            "ToTensor",
            "Normalize",
            "unsqueeze"
        ]
    );
    assert!(r.findings.iter().all(|f| f.rule != "preprocessing-hidden"));
}

#[test]
fn a_hugging_face_image_processor_is_written_out_from_its_local_config() {
    let config = r#"{"image_processor_type": "ViTImageProcessor", "do_resize": true, "size": {"height": 224, "width": 224}, "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#;
    let app = "import io\nimport torch\nfrom PIL import Image\nfrom flask import Flask, request\nfrom transformers import AutoImageProcessor, AutoModelForImageClassification\n\n\
               MODEL_DIR = './model'\nprocessor = AutoImageProcessor.from_pretrained(MODEL_DIR)\nmodel = AutoModelForImageClassification.from_pretrained(MODEL_DIR)\napp = Flask(__name__)\n\n\
               @app.post('/classify')\ndef classify():\n    image = Image.open(io.BytesIO(request.data)).convert('RGB')\n    inputs = processor(images=image, return_tensors='pt')\n    return {'i': int(model(**inputs).logits.argmax(-1))}\n";
    let (_d, r) = service(&[("model/preprocessor_config.json", config), ("app.py", app)]);
    let ops: Vec<(&str, &str)> = r
        .plan
        .preprocessing
        .iter()
        .map(|s| (s.library.as_str(), s.op.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("transformers", "AutoImageProcessor.from_pretrained"),
            ("pil", "open"),
            ("pil", "convert"),
            ("transformers", "resize"),
            ("transformers", "rescale"),
            ("transformers", "normalize"),
        ]
    );
    assert_eq!(
        param(&r, "resize", "size"),
        Some(&Value::List(vec![Value::Int(224), Value::Int(224)]))
    );
    assert_eq!(
        param(&r, "resize", "resample"),
        Some(&Value::Symbol {
            symbol: "PIL.Image.BILINEAR".into()
        })
    );
    assert_eq!(
        param(&r, "normalize", "std"),
        Some(&FLOATS(&[0.5, 0.5, 0.5]))
    );
    assert!(r.findings.iter().all(|f| f.rule != "preprocessing-hidden"));
    assert_eq!(
        r.pipeline.input_kind,
        Some(wasm_migrate_analyzer::pipeline::InputKind::Image)
    );

    // The same service loading from the Hub: the processor's steps are hidden, and said so.
    let hub = app.replace("'./model'", "'google/vit-base-patch16-224'");
    let (_d, r) = service(&[("app.py", hub.as_str())]);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "preprocessing-hidden" && f.message.contains("image_processor"))
    );
}

#[test]
fn a_yolo_letterbox_written_by_hand_keeps_its_border_and_no_geometry_arithmetic() {
    let app = "import cv2\nimport numpy as np\nimport onnxruntime as ort\nfrom fastapi import FastAPI, UploadFile\n\n\
               app = FastAPI()\nsession = ort.InferenceSession('best.onnx')\n\n\
               def letterbox(im, new_shape=(640, 640), color=(114, 114, 114)):\n    shape = im.shape[:2]\n    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])\n    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))\n    dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]\n    dw /= 2\n    dh /= 2\n    im = cv2.resize(im, new_unpad, interpolation=cv2.INTER_LINEAR)\n    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))\n    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))\n    return cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)\n\n\
               @app.post('/detect')\nasync def detect(file: UploadFile):\n    img = cv2.imdecode(np.frombuffer(await file.read(), np.uint8), cv2.IMREAD_COLOR)\n    x = letterbox(img)[:, :, ::-1].transpose(2, 0, 1)\n    x = np.ascontiguousarray(x).astype(np.float32) / 255.0\n    return {'n': int(session.run(None, {'images': x[None]})[0].shape[1])}\n";
    let (_d, r) = service(&[("app.py", app)]);
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    // `dw /= 2` and `dh - 0.1` size the border; they are not pixel arithmetic.
    assert_eq!(
        ops,
        [
            "frombuffer",
            "imdecode",
            "resize",
            "copyMakeBorder",
            "reverse_channels",
            "transpose",
            "astype",
            "divide"
        ]
    );
    assert_eq!(
        param(&r, "copyMakeBorder", "value"),
        Some(&Value::List(vec![Value::Int(114); 3]))
    );
    // The rounded size is not the truncating `fit` rule the glue implements: it stays the
    // expression, named.
    assert!(matches!(
        param(&r, "resize", "dsize"),
        Some(Value::List(v)) if matches!(v[0], Value::Expr { .. })
    ));
}

#[test]
fn albumentations_compositions_are_steps_and_their_augmentations_are_not() {
    let app = "import cv2\nimport numpy as np\nimport torch\nimport albumentations as A\nfrom albumentations.pytorch import ToTensorV2\nfrom fastapi import FastAPI, UploadFile\n\n\
               app = FastAPI()\nmodel = torch.jit.load('model.pt')\n\
               train_tf = A.Compose([A.HorizontalFlip(), A.ShiftScaleRotate(), A.Resize(256, 256), A.Normalize(), ToTensorV2()])\n\
               infer_tf = A.Compose([A.HorizontalFlip(p=0.0), A.Resize(224, 224), A.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)), ToTensorV2()])\n\n\
               @app.post('/predict')\nasync def predict(file: UploadFile):\n    img = cv2.imdecode(np.frombuffer(await file.read(), np.uint8), cv2.IMREAD_COLOR)\n    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)\n    x = infer_tf(image=img)['image'].unsqueeze(0)\n    return {'y': int(model(x).argmax(1))}\n";
    let (_d, r) = service(&[("app.py", app)]);
    let ops: Vec<(&str, &str)> = r
        .plan
        .preprocessing
        .iter()
        .map(|s| (s.library.as_str(), s.op.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("numpy", "frombuffer"),
            ("opencv", "imdecode"),
            ("opencv", "cvtColor"),
            ("albumentations", "Resize"),
            ("albumentations", "Normalize"),
            ("albumentations", "ToTensorV2"),
            ("torch", "unsqueeze"),
        ]
    );
    assert_eq!(param(&r, "Resize", "height"), Some(&Value::Int(224)));
    assert_eq!(
        param(&r, "Normalize", "std"),
        Some(&FLOATS(&[0.5, 0.5, 0.5]))
    );
    assert_eq!(
        param(&r, "Normalize", "max_pixel_value"),
        Some(&Value::Float(255.0))
    );
}

#[test]
fn scikit_image_resampling_is_hidden_and_torchvision_decoders_are_steps() {
    let app = "import io\nimport numpy as np\nimport onnxruntime as ort\nimport torch\nimport torchvision.io as tio\nfrom PIL import Image\nfrom flask import Flask, request\nfrom skimage.transform import resize\n\n\
               app = Flask(__name__)\nsess = ort.InferenceSession('m.onnx')\n\n\
               @app.post('/a')\ndef a():\n    img = np.asarray(Image.open(io.BytesIO(request.data)).convert('RGB'))\n    x = resize(img, (224, 224), anti_aliasing=True).astype(np.float32)\n    return {'y': sess.run(None, {'x': x.transpose(2, 0, 1)[None]})[0].tolist()}\n\n\
               @app.post('/b')\ndef b():\n    img = tio.decode_image(torch.frombuffer(request.data, dtype=torch.uint8))\n    x = img.float().numpy()[None]\n    return {'y': sess.run(None, {'x': x})[0].tolist()}\n";
    let (_d, r) = service(&[("app.py", app)]);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "preprocessing-hidden" && f.message.contains("scikit-image")),
        "skimage's resize is not silently dropped"
    );
    assert!(
        r.pipeline
            .preprocessing
            .iter()
            .any(|s| s.op == "io.decode_image")
    );
    // Both routes call the model; the plan is the first one's, without the other's steps.
    let route = r.plan.service.entrypoint.as_ref().unwrap().route.clone();
    assert_eq!(route.as_deref(), Some("/a"));
    assert!(
        !r.plan
            .preprocessing
            .iter()
            .any(|s| s.op == "io.decode_image")
    );
}

#[test]
fn the_plan_is_the_route_that_calls_the_model_with_its_steps_alone() {
    // A login route, a health route and a thumbnail route (a PIL resize, no model) before
    // the route that runs the model: the plan is /predict's, and the thumbnail's resize is
    // not part of the model's input.
    let app = "import io\nimport numpy as np\nimport onnxruntime as ort\nfrom fastapi import FastAPI, UploadFile\nfrom PIL import Image\n\n\
               app = FastAPI()\nsession = ort.InferenceSession('model.onnx')\n\n\
               @app.post('/auth/login')\ndef login(user: str):\n    return {'token': user}\n\n\
               @app.post('/thumbnail')\nasync def thumbnail(file: UploadFile):\n    image = Image.open(io.BytesIO(await file.read())).convert('RGB').resize((64, 64))\n    return {'size': image.size}\n\n\
               @app.post('/predict')\nasync def predict(file: UploadFile):\n    image = Image.open(io.BytesIO(await file.read())).convert('RGB').resize((224, 224))\n    x = np.asarray(image).astype(np.float32)[None]\n    return {'y': session.run(None, {'x': x})[0].tolist()}\n";
    let (_d, r) = service(&[("app.py", app)]);
    let entry = r.plan.service.entrypoint.as_ref().unwrap();
    assert_eq!(entry.route.as_deref(), Some("/predict"));
    let sizes: Vec<String> = r
        .plan
        .preprocessing
        .iter()
        .filter(|s| s.op == "resize")
        .map(|s| format!("{:?}", s.params.get("size")))
        .collect();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    assert!(sizes[0].contains("224"), "{sizes:?}");
}

#[test]
fn routes_on_routers_and_blueprints_get_their_prefixes_and_config_classes_resolve() {
    // A FastAPI router with its own prefix, mounted under another by the app; a Flask
    // blueprint mounted with url_prefix in an application factory; constants read from a
    // config class.
    let (_d, fastapi) = service(&[
        ("api/__init__.py", ""),
        (
            "api/routes.py",
            "from fastapi import APIRouter, UploadFile\nrouter = APIRouter(prefix='/v1')\n\n@router.post('/classify')\nasync def classify(file: UploadFile):\n    return {}\n",
        ),
        (
            "api/main.py",
            "from fastapi import FastAPI\nfrom .routes import router\napp = FastAPI()\napp.include_router(router, prefix='/api')\n\n@app.get('/health')\ndef health():\n    return {}\n",
        ),
    ]);
    let paths: Vec<_> = fastapi
        .pipeline
        .serving
        .iter()
        .map(|e| e.path.clone().unwrap_or_default())
        .collect();
    assert!(paths.contains(&"/api/v1/classify".to_string()), "{paths:?}");
    assert!(paths.contains(&"/health".to_string()), "{paths:?}");

    let (_d, flask) = service(&[
        (
            "scorer/__init__.py",
            "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    from .views import bp\n    app.register_blueprint(bp, url_prefix='/api')\n    return app\n",
        ),
        (
            "scorer/config.py",
            "class Config:\n    SIZE = 112\n    MODEL = 'artifacts/m.onnx'\n\nSIZE = Config.SIZE\n",
        ),
        (
            "scorer/views.py",
            "import numpy as np\nimport onnxruntime as ort\nfrom flask import Blueprint, request\nfrom PIL import Image\nfrom .config import SIZE, Config\n\nbp = Blueprint('inference', __name__)\nsession = ort.InferenceSession(Config.MODEL)\n\n@bp.route('/predict', methods=['POST'])\ndef predict():\n    image = Image.open(request.files['image']).convert('RGB').resize((SIZE, SIZE))\n    x = np.asarray(image, dtype=np.float32)[None]\n    return {'y': session.run(None, {'x': x})[0].tolist()}\n",
        ),
    ]);
    let endpoint = &flask.pipeline.serving[0];
    assert_eq!(endpoint.path.as_deref(), Some("/api/predict"));
    assert_eq!(
        param(&flask, "resize", "size"),
        Some(&Value::List(vec![Value::Int(112), Value::Int(112)]))
    );
    let model = flask.plan.model.as_ref().expect("a model");
    assert_eq!(model.artifact.as_deref(), Some("artifacts/m.onnx"));
}

#[test]
fn routes_on_an_app_imported_from_the_package_are_the_entrypoint() {
    // The classic Flask package: `from webapp import app` in routes.py, `@app.route` there.
    let (_d, r) = service(&[
        ("Procfile", "web: gunicorn webapp:app\n"),
        (
            "webapp/__init__.py",
            "from flask import Flask\napp = Flask(__name__)\nfrom webapp import routes\n",
        ),
        (
            "webapp/routes.py",
            "import torch\nfrom flask import request\nfrom PIL import Image\nfrom webapp import app\nmodel = torch.jit.load('m.pt')\n\n@app.route('/classify', methods=['POST'])\ndef classify():\n    image = Image.open(request.files['photo']).convert('RGB')\n    return {'y': model(image).tolist()}\n",
        ),
    ]);
    let entry = r
        .plan
        .service
        .entrypoint
        .as_ref()
        .expect("a route entrypoint");
    assert_eq!(
        (entry.file.as_str(), entry.handler.as_str()),
        ("webapp/routes.py", "classify")
    );
    assert_eq!(entry.route.as_deref(), Some("/classify"));
}

#[test]
fn a_pretrained_network_from_an_unknown_package_is_a_torch_model() {
    // lite_vision is in no table: the model is what the route runs on the tensor.
    let app = "import torch\nfrom lite_vision import MobileViT\nfrom fastapi import FastAPI, UploadFile\nfrom PIL import Image\nfrom torchvision import transforms\n\n\
               app = FastAPI()\nmodel = MobileViT.from_pretrained('mobilevit-xs')\nmodel.eval()\n\
               tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])\n\n\
               @app.post('/predict')\nasync def predict(file: UploadFile):\n    x = tf(Image.open(file.file).convert('RGB')).unsqueeze(0)\n    with torch.no_grad():\n        return {'class': int(model(x).argmax())}\n";
    let (_d, r) = service(&[("app.py", app)]);
    let model = r.plan.model.as_ref().expect("a model");
    assert_eq!(
        model.framework,
        wasm_migrate_analyzer::pipeline::Framework::Pytorch
    );
    assert_eq!(model.architecture.as_deref(), Some("MobileViT"));
    assert_eq!(
        r.recommendation.path,
        MigrationPath::WasiNnGlue,
        "{}",
        r.recommendation.rationale
    );
}

#[test]
fn a_helper_the_routes_and_a_script_main_both_call_runs_where_the_routes_call_it() {
    // inference.py is also a training script: its main() builds a dataset (an expand_dims
    // at axis 3) and calls predict too. The plan is the route's chain alone.
    let inference = "import cv2\nimport numpy as np\nimport onnxruntime as ort\n\n\
                     def train():\n    x = np.load('x.npy')\n    x = np.expand_dims(x, axis=3)\n    return x\n\n\
                     def load(path):\n    return ort.InferenceSession(path)\n\n\
                     def predict(session, data):\n    pic = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)\n    pic = cv2.resize(pic, (28, 28))\n    pic = pic.reshape((1, 28, 28, 3)).astype(np.float32)\n    return int(np.argmax(session.run(None, {'x': pic})[0]))\n\n\
                     def main():\n    train()\n    print(predict(load('m.onnx'), open('a.png', 'rb').read()))\n\n\
                     if __name__ == '__main__':\n    main()\n";
    let app = "from flask import Flask, request\nimport inference\n\napp = Flask(__name__)\nsession = inference.load('m.onnx')\n\n\
               @app.route('/upload', methods=['POST'])\ndef upload():\n    return str(inference.predict(session, request.files['file'].read()))\n";
    let (_d, r) = service(&[("inference.py", inference), ("app.py", app)]);
    let ops: Vec<&str> = r.plan.preprocessing.iter().map(|s| s.op.as_str()).collect();
    assert!(!ops.contains(&"expand_dims"), "{ops:?}");
    assert!(
        ops.contains(&"imdecode") && ops.contains(&"resize"),
        "{ops:?}"
    );
}
