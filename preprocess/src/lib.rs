//! Image preprocessing with the numerics of the Python libraries inference services use.
//!
//! Every function here reproduces one library's arithmetic, rounding included, because a
//! migrated service must feed its model the same tensor the Python one did:
//!
//! | module | reproduces |
//! |---|---|
//! | [`pil_resize`] | `PIL.Image.resize` (all resample filters; the antialiasing torchvision relies on) |
//! | [`cv_resize`] | `cv2.resize` with `INTER_LINEAR`, `INTER_NEAREST` and `INTER_AREA` on 8-bit images |
//! | [`tf_resize`] | `tf.image.resize` (bilinear, half-pixel centres, no antialiasing) |
//! | [`crop`] | torchvision `CenterCrop` (its rounding and zero padding) and `Resize` sizing |
//! | [`decode`] | `Image.open(f).convert("RGB")` on JPEG and PNG uploads (PIL's handling of alpha, palettes, 16-bit) |
//! | [`exif`] | `ImageOps.exif_transpose` (the orientation tag of JPEG and PNG files) |
//! | [`jpeg`] | PIL's JPEG decoding (libjpeg-turbo: accurate integer IDCT, fancy upsampling) and `convert("RGB")` |
//! | [`array`] | NumPy's reshape, new axes, casts and scalar arithmetic on a client's numbers (JSON or `.npy`) |
//! | [`tensor`] | `ToTensor`, `Normalize`, NumPy scale/offset, channel order, NCHW/NHWC, Keras `preprocess_input` |
//!
//! The crate depends only on `image` (PNG), as the glue does: `wasm-migrate generate` vendors these files into each
//! generated glue crate (as `src/ops/`), and the parity tests in `tests/tests/preprocess_parity.rs`
//! compare each function against the Python library itself.

pub mod array;
pub mod crop;
pub mod cv_resize;
pub mod decode;
pub mod exif;
pub mod image;
pub mod jpeg;
pub mod pil_resize;
pub mod tensor;
pub mod tf_resize;

pub use image::RgbImage;
