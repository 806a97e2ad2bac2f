// Python bindings of the fastops CUDA kernels.
#include <torch/extension.h>

at::Tensor nms_cuda(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

// Greedy non-maximum suppression. boxes: [N, 4] (x1, y1, x2, y2), scores: [N].
// Returns the indices of the kept boxes, highest score first.
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  TORCH_CHECK(boxes.is_cuda() && scores.is_cuda(), "fastops.nms expects CUDA tensors");
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "boxes must have shape [N, 4]");
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "scores must have shape [N]");
  if (boxes.size(0) == 0) {
    return at::empty({0}, boxes.options().dtype(at::kLong));
  }
  return nms_cuda(boxes.contiguous(), scores.contiguous(), iou_threshold);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("nms", &nms, "Non-maximum suppression on the GPU (boxes in xyxy format)",
        py::arg("boxes"), py::arg("scores"), py::arg("iou_threshold"));
}
