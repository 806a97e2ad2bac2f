// Bitmask NMS: one thread per box computes which boxes of a 64-box column
// block it suppresses; the greedy pass over the mask runs on the host.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <vector>

namespace {

constexpr int kBlockBoxes = 64;  // bits in one mask word

__device__ inline float box_iou(const float* a, const float* b) {
  const float w = fmaxf(fminf(a[2], b[2]) - fmaxf(a[0], b[0]), 0.f);
  const float h = fmaxf(fminf(a[3], b[3]) - fmaxf(a[1], b[1]), 0.f);
  const float inter = w * h;
  const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / fmaxf(area_a + area_b - inter, 1e-6f);
}

__global__ void nms_mask_kernel(int n, float threshold, const float* __restrict__ boxes,
                                unsigned long long* __restrict__ mask) {
  const int row = blockIdx.y;
  const int col = blockIdx.x;
  const int row_size = min(n - row * kBlockBoxes, kBlockBoxes);
  const int col_size = min(n - col * kBlockBoxes, kBlockBoxes);
  if (row_size <= 0 || col_size <= 0) return;

  __shared__ float col_boxes[kBlockBoxes * 4];
  if (threadIdx.x < col_size) {
    for (int k = 0; k < 4; ++k) {
      col_boxes[threadIdx.x * 4 + k] = boxes[(col * kBlockBoxes + threadIdx.x) * 4 + k];
    }
  }
  __syncthreads();

  if (threadIdx.x < row_size) {
    const int i = row * kBlockBoxes + threadIdx.x;
    const float* box = boxes + i * 4;
    unsigned long long bits = 0;
    const int start = (row == col) ? threadIdx.x + 1 : 0;
    for (int j = start; j < col_size; ++j) {
      if (box_iou(box, col_boxes + j * 4) > threshold) bits |= 1ULL << j;
    }
    const int col_blocks = (n + kBlockBoxes - 1) / kBlockBoxes;
    mask[i * col_blocks + col] = bits;
  }
}

}  // namespace

at::Tensor nms_cuda(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  const at::cuda::CUDAGuard guard(boxes.device());

  const at::Tensor order = scores.argsort(/*dim=*/0, /*descending=*/true);
  const at::Tensor sorted = boxes.index_select(0, order).to(at::kFloat).contiguous();
  const int n = static_cast<int>(sorted.size(0));
  const int col_blocks = (n + kBlockBoxes - 1) / kBlockBoxes;

  at::Tensor mask = at::empty({static_cast<int64_t>(n) * col_blocks}, boxes.options().dtype(at::kLong));
  const dim3 grid(col_blocks, col_blocks);
  const dim3 threads(kBlockBoxes);
  nms_mask_kernel<<<grid, threads, 0, at::cuda::getCurrentCUDAStream()>>>(
      n, static_cast<float>(iou_threshold), sorted.data_ptr<float>(),
      reinterpret_cast<unsigned long long*>(mask.data_ptr<int64_t>()));
  C10_CUDA_KERNEL_LAUNCH_CHECK();

  const at::Tensor mask_cpu = mask.cpu();
  const auto* mask_host = reinterpret_cast<const unsigned long long*>(mask_cpu.data_ptr<int64_t>());
  std::vector<unsigned long long> removed(col_blocks, 0);
  std::vector<int64_t> keep;
  keep.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int word = i / kBlockBoxes;
    const int bit = i % kBlockBoxes;
    if (removed[word] & (1ULL << bit)) continue;
    keep.push_back(i);
    const unsigned long long* row = mask_host + static_cast<int64_t>(i) * col_blocks;
    for (int j = word; j < col_blocks; ++j) removed[j] |= row[j];
  }

  const at::Tensor keep_idx = at::tensor(keep, at::TensorOptions().dtype(at::kLong)).to(boxes.device());
  return order.index_select(0, keep_idx);
}
