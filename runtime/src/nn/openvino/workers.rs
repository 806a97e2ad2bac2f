//! OpenVINO's inference on threads of its own. Every execution context of a graph hands its
//! inputs to the graph's workers and waits for the outputs, so OpenVINO only ever runs, and
//! allocates, on those threads: an instance's thread holds no infer request and none of the
//! per-thread memory OpenVINO keeps for a thread that runs a model (about 3 MiB measured per
//! thread on resnet18), and a host with N instances holds the device's number of requests,
//! not N.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use openvino::{CompiledModel, ElementType as OvType, InferRequest, Shape};

use super::{element_of, wasi_tensor};

/// One input as the guest set it.
pub(super) struct Input {
    pub index: usize,
    pub element: OvType,
    pub dims: Vec<i64>,
    /// Shared with the job, so a compute does not copy the guest's tensor again.
    pub data: Arc<[u8]>,
}

/// Each output of a compute, or why wasi-nn cannot carry it.
pub(super) type Outputs = Vec<Result<wasmtime_wasi_nn::Tensor, String>>;

struct Job {
    inputs: Vec<Input>,
    answer: mpsc::SyncSender<Result<Outputs, String>>,
}

pub(super) struct Workers {
    jobs: mpsc::Sender<Job>,
    made: Arc<AtomicUsize>,
    most: usize,
}

/// What a worker thread owns. OpenVINO allows its objects to move between threads.
struct Worker {
    compiled: Arc<Mutex<CompiledModel>>,
    request: Option<InferRequest>,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    made: Arc<AtomicUsize>,
    outputs: usize,
}

// SAFETY: OpenVINO's compiled models and infer requests may be used from any thread; each is
// used by one thread at a time (the compiled model behind its mutex).
unsafe impl Send for Worker {}

impl Workers {
    /// `most` threads, the first with `first` (the request made at load), the others making
    /// theirs when they first take a job. They end when the last handle to the graph drops.
    pub fn start(
        compiled: CompiledModel,
        first: InferRequest,
        most: usize,
        outputs: usize,
    ) -> Result<Workers, String> {
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let compiled = Arc::new(Mutex::new(compiled));
        let made = Arc::new(AtomicUsize::new(1));
        let mut first = Some(first);
        for n in 0..most {
            let worker = Worker {
                compiled: compiled.clone(),
                request: first.take(),
                jobs: queue.clone(),
                made: made.clone(),
                outputs,
            };
            std::thread::Builder::new()
                .name(format!("openvino-infer-{n}"))
                .spawn(move || worker.run())
                .map_err(|e| format!("cannot start an inference thread: {e}"))?;
        }
        Ok(Workers { jobs, made, most })
    }

    /// Runs the model on `inputs` on a worker and waits for the outputs.
    pub fn infer(&self, inputs: &[Input]) -> Result<Outputs, String> {
        let (answer, answered) = mpsc::sync_channel(1);
        let inputs = inputs
            .iter()
            .map(|i| Input {
                index: i.index,
                element: i.element,
                dims: i.dims.clone(),
                data: Arc::clone(&i.data),
            })
            .collect();
        self.jobs
            .send(Job { inputs, answer })
            .map_err(|_| "the inference threads have ended".to_string())?;
        answered
            .recv()
            .map_err(|_| "the inference thread ended during the compute".to_string())?
    }

    /// The infer requests made so far, and the most there will be.
    pub fn requests(&self) -> (usize, usize) {
        (self.made.load(Ordering::SeqCst), self.most)
    }
}

impl Worker {
    fn run(mut self) {
        loop {
            // The lock is held only to take a job, not while computing it.
            let job = match self.jobs.lock() {
                Ok(queue) => queue.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else { return };
            let outputs = self.compute(&job.inputs);
            // A context that stopped waiting (its instance ended) is no error here.
            let _ = job.answer.send(outputs);
        }
    }

    fn compute(&mut self, inputs: &[Input]) -> Result<Outputs, String> {
        if self.request.is_none() {
            let request = self
                .compiled
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .create_infer_request()
                .map_err(|e| e.to_string())?;
            self.made.fetch_add(1, Ordering::SeqCst);
            self.request = Some(request);
        }
        let request = self.request.as_mut().expect("made above");
        for input in inputs {
            let shape = Shape::new(&input.dims).map_err(|e| e.to_string())?;
            let mut value = openvino::Tensor::new(input.element, &shape)
                .map_err(|e| format!("input {}: {e}", input.index))?;
            value
                .get_raw_data_mut()
                .map_err(|e| e.to_string())?
                .copy_from_slice(&input.data);
            request
                .set_input_tensor_by_index(input.index, &value)
                .map_err(|e| format!("input {}: {e}", input.index))?;
        }
        request.infer().map_err(|e| e.to_string())?;
        (0..self.outputs)
            .map(|index| {
                let tensor = request
                    .get_output_tensor_by_index(index)
                    .map_err(|e| format!("output {index}: {e}"))?;
                Ok(output_of(&tensor))
            })
            .collect()
    }
}

fn output_of(tensor: &openvino::Tensor) -> Result<wasmtime_wasi_nn::Tensor, String> {
    let ty = tensor.get_element_type().map_err(|e| e.to_string())?;
    let Some(element) = element_of(ty) else {
        return Err(format!("it has type {ty:?}, which wasi-nn cannot carry"));
    };
    let shape = tensor.get_shape().map_err(|e| e.to_string())?;
    let dims: Vec<usize> = shape.get_dimensions().iter().map(|&d| d as usize).collect();
    let data = tensor.get_raw_data().map_err(|e| e.to_string())?.to_vec();
    Ok(wasi_tensor(element, &dims, data))
}
