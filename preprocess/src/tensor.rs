//! From pixels to the float tensor a model takes: the per-element arithmetic of torchvision
//! (`ToTensor`, `Normalize`), NumPy (`astype`, `/`, `-`), Keras `preprocess_input`, and the
//! final layout. Everything is computed in f32, one operation at a time, in the order the
//! Python code does it, so every intermediate rounds the way PyTorch's and NumPy's float32
//! kernels round.

use super::image::RgbImage;

/// An image-shaped float tensor, channels last (`height x width x channels`), as a NumPy
/// array made from a PIL or OpenCV image is.
#[derive(Debug, Clone, PartialEq)]
pub struct HwcTensor {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

/// Memory order of the tensor given to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `1 x C x H x W` (PyTorch, ONNX exports of it, OpenVINO IR of it).
    Nchw,
    /// `1 x H x W x C` (Keras / TensorFlow).
    Nhwc,
}

/// Keras `preprocess_input` modes (`keras.applications.imagenet_utils`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KerasMode {
    /// Scale to [-1, 1]: `x / 127.5 - 1` (MobileNet, Inception, Xception, EfficientNetV2 off).
    Tf,
    /// `x / 255`, then ImageNet mean and std per channel (DenseNet).
    Torch,
    /// RGB to BGR, then subtract the ImageNet BGR means (VGG, ResNet50).
    Caffe,
}

/// NumPy arithmetic that promotes 8-bit pixels to float64 (`x / 255`, `x - 127.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Float64Op {
    Add,
    Subtract,
    /// `value - x`: `255 - x` inverts the pixels.
    SubtractFrom,
    Multiply,
    Divide,
}

impl HwcTensor {
    /// NumPy arithmetic on 8-bit pixels, which computes in float64, then
    /// `astype(np.float32)`: each step in f64 in the Python code's order (a list of values is
    /// one per channel), rounded to f32 once at the end. A pixel's result depends on its byte
    /// and channel alone, so it is a table of 256 values per channel.
    pub fn from_float64(image: &RgbImage, ops: &[(Float64Op, &[f64])]) -> Self {
        let table: Vec<[f32; 256]> = (0..3)
            .map(|channel| {
                std::array::from_fn(|byte| {
                    let mut x = byte as f64;
                    for (op, values) in ops {
                        let v = values[channel % values.len().max(1)];
                        x = match op {
                            Float64Op::Add => x + v,
                            Float64Op::Subtract => x - v,
                            Float64Op::SubtractFrom => v - x,
                            Float64Op::Multiply => x * v,
                            Float64Op::Divide => x / v,
                        };
                    }
                    x as f32
                })
            })
            .collect();
        HwcTensor {
            height: image.height,
            width: image.width,
            channels: 3,
            data: image
                .data
                .iter()
                .enumerate()
                .map(|(i, &byte)| table[i % 3][usize::from(byte)])
                .collect(),
        }
    }

    /// `np.asarray(image).astype(np.float32)`: pixel values 0..255 as floats.
    pub fn from_image(image: &RgbImage) -> Self {
        HwcTensor {
            height: image.height,
            width: image.width,
            channels: 3,
            data: image.data.iter().map(|&v| f32::from(v)).collect(),
        }
    }

    /// torchvision `ToTensor` on an 8-bit image: `x / 255` (the layout is applied at the end).
    pub fn to_tensor(image: &RgbImage) -> Self {
        let mut t = Self::from_image(image);
        t.divide(255.0);
        t
    }

    /// The first channel alone: a grayscale image held as three equal channels becomes the
    /// one-channel tensor NumPy and torchvision make of an "L" image.
    pub fn single_channel(self) -> Self {
        let data = self.data.iter().step_by(self.channels).copied().collect();
        HwcTensor {
            channels: 1,
            data,
            ..self
        }
    }

    /// The tensor of the upload in the mode PIL opened it (no `convert` in the service): a
    /// grayscale file's one channel; a mode the glue does not hold (RGBA, a palette, 16-bit)
    /// is refused, naming it, where the service would hand the model its raw samples.
    pub fn in_opened_mode(self, mode: super::decode::OpenedMode) -> Result<Self, String> {
        use super::decode::OpenedMode;
        match mode {
            OpenedMode::Gray if self.channels == 3 => Ok(self.single_channel()),
            OpenedMode::Gray | OpenedMode::Rgb => Ok(self),
            OpenedMode::Other(mode) => Err(format!(
                "the service opens this upload as PIL mode {mode} and converts nothing, so the \
                 model would get its raw samples; the migrated module takes grayscale and RGB \
                 files"
            )),
        }
    }

    pub fn multiply(&mut self, factor: f32) {
        self.data.iter_mut().for_each(|v| *v *= factor);
    }

    pub fn divide(&mut self, divisor: f32) {
        self.data.iter_mut().for_each(|v| *v /= divisor);
    }

    pub fn add(&mut self, offset: f32) {
        self.data.iter_mut().for_each(|v| *v += offset);
    }

    pub fn subtract(&mut self, offset: f32) {
        self.data.iter_mut().for_each(|v| *v -= offset);
    }

    /// `value - x` (`255 - x`: the pixels inverted).
    pub fn subtract_from(&mut self, value: f32) {
        self.data.iter_mut().for_each(|v| *v = value - *v);
    }

    /// `x - values` broadcast over the channel axis (NumPy's `x - MEAN` on an HWC array).
    pub fn subtract_per_channel(&mut self, values: &[f32]) {
        self.per_channel(values, |x, m| x - m);
    }

    /// `x / values` broadcast over the channel axis.
    pub fn divide_per_channel(&mut self, values: &[f32]) {
        self.per_channel(values, |x, s| x / s);
    }

    /// torchvision `Normalize(mean, std)`: `(x - mean) / std` per channel, two roundings.
    pub fn normalize(&mut self, mean: &[f32], std: &[f32]) {
        self.subtract_per_channel(mean);
        self.divide_per_channel(std);
    }

    /// Reverses the channel order (RGB <-> BGR).
    pub fn reverse_channels(&mut self) {
        let c = self.channels;
        for pixel in self.data.chunks_exact_mut(c) {
            pixel.reverse();
        }
    }

    /// Keras `preprocess_input(x, mode=...)` on an RGB float tensor holding 0..255.
    pub fn keras_preprocess_input(&mut self, mode: KerasMode) {
        match mode {
            KerasMode::Tf => {
                self.divide(127.5);
                self.subtract(1.0);
            }
            KerasMode::Torch => {
                self.divide(255.0);
                self.normalize(&[0.485, 0.456, 0.406], &[0.229, 0.224, 0.225]);
            }
            KerasMode::Caffe => {
                self.reverse_channels();
                self.subtract_per_channel(&[103.939, 116.779, 123.68]);
            }
        }
    }

    fn per_channel(&mut self, values: &[f32], op: impl Fn(f32, f32) -> f32) {
        let c = self.channels;
        if values.len() == 1 {
            self.data.iter_mut().for_each(|v| *v = op(*v, values[0]));
            return;
        }
        for pixel in self.data.chunks_exact_mut(c) {
            for (v, &m) in pixel.iter_mut().zip(values) {
                *v = op(*v, m);
            }
        }
    }

    /// The data in `layout` with a batch of one, and its shape.
    pub fn into_layout(self, layout: Layout) -> (Vec<usize>, Vec<f32>) {
        match layout {
            Layout::Nhwc => (vec![1, self.height, self.width, self.channels], self.data),
            Layout::Nchw => {
                let plane = self.height * self.width;
                let mut out = vec![0f32; self.data.len()];
                for (i, pixel) in self.data.chunks_exact(self.channels).enumerate() {
                    for (c, &v) in pixel.iter().enumerate() {
                        out[c * plane + i] = v;
                    }
                }
                (vec![1, self.channels, self.height, self.width], out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_pixels() -> RgbImage {
        RgbImage::from_raw(2, 1, vec![0, 51, 255, 255, 102, 0]).unwrap()
    }

    #[test]
    fn to_tensor_and_normalize() {
        let mut t = HwcTensor::to_tensor(&two_pixels());
        assert_eq!(t.data[1], 51.0 / 255.0);
        t.normalize(&[0.5, 0.5, 0.5], &[0.5, 0.5, 0.5]);
        assert_eq!(t.data[0], -1.0);
        assert_eq!(t.data[2], 1.0);
    }

    #[test]
    fn nchw_puts_each_channel_in_its_own_plane() {
        let (shape, data) = HwcTensor::from_image(&two_pixels()).into_layout(Layout::Nchw);
        assert_eq!(shape, vec![1, 3, 1, 2]);
        assert_eq!(data, vec![0.0, 255.0, 51.0, 102.0, 255.0, 0.0]);
    }

    #[test]
    fn keras_caffe_mode_is_bgr_minus_means() {
        let mut t = HwcTensor::from_image(&two_pixels());
        t.keras_preprocess_input(KerasMode::Caffe);
        assert_eq!(t.data[0], 255.0 - 103.939);
        assert_eq!(t.data[2], 0.0 - 123.68);
    }

    #[test]
    fn keras_tf_mode_scales_to_minus_one_one() {
        let mut t = HwcTensor::from_image(&two_pixels());
        t.keras_preprocess_input(KerasMode::Tf);
        assert_eq!(t.data[0], -1.0);
        assert_eq!(t.data[2], 1.0);
    }

    #[test]
    fn float64_arithmetic_rounds_once_to_f32() {
        let image = RgbImage::from_raw(1, 1, vec![1, 128, 255]).unwrap();
        let t = HwcTensor::from_float64(
            &image,
            &[(Float64Op::Divide, &[127.5]), (Float64Op::Subtract, &[1.0])],
        );
        let expected: Vec<f32> = [1.0f64, 128.0, 255.0]
            .iter()
            .map(|&x| (x / 127.5 - 1.0) as f32)
            .collect();
        assert_eq!(t.data, expected);
        // In f32, step by step, some bytes land on another float.
        let all: Vec<u8> = (0..=255).flat_map(|b| [b, b, b]).collect();
        let all = RgbImage::from_raw(256, 1, all).unwrap();
        let t = HwcTensor::from_float64(
            &all,
            &[(Float64Op::Divide, &[127.5]), (Float64Op::Subtract, &[1.0])],
        );
        assert!((0..=255u8).any(|b| t.data[usize::from(b) * 3] != f32::from(b) / 127.5 - 1.0));
        // Per-channel values follow the channel.
        let t = HwcTensor::from_float64(&image, &[(Float64Op::Subtract, &[1.0, 2.0, 3.0])]);
        assert_eq!(t.data, [0.0, 126.0, 252.0]);
    }
}
