//! Tensor facts every backend shares: the element types wasi-nn can carry, the shape a model
//! declares for an input, and the checks `set_input` makes before a backend sees the data.

use std::fmt;
use wasmtime_wasi_nn::wit::TensorType;

/// The element types of the wasi-nn core-module ABI (wasi-nn 0.6.0 / wasmtime 48 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    F16,
    F32,
    F64,
    U8,
    I32,
    I64,
}

impl ElementType {
    pub fn from_wasi(ty: TensorType) -> Option<Self> {
        Some(match ty {
            TensorType::Fp16 => Self::F16,
            TensorType::Fp32 => Self::F32,
            TensorType::Fp64 => Self::F64,
            TensorType::U8 => Self::U8,
            TensorType::I32 => Self::I32,
            TensorType::I64 => Self::I64,
            TensorType::Bf16 => return None,
        })
    }

    pub fn to_wasi(self) -> TensorType {
        match self {
            Self::F16 => TensorType::Fp16,
            Self::F32 => TensorType::Fp32,
            Self::F64 => TensorType::Fp64,
            Self::U8 => TensorType::U8,
            Self::I32 => TensorType::I32,
            Self::I64 => TensorType::I64,
        }
    }

    pub fn byte_size(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::F16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::F64 | Self::I64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F16 => "f16",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::U8 => "u8",
            Self::I32 => "i32",
            Self::I64 => "i64",
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a model declares for one input or output. `None` in `dims` is a dynamic dimension;
/// `element` is `None` when the model's type has no wasi-nn equivalent (bf16, strings, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub element: Option<ElementType>,
    /// The backend's own name for the element type, for messages about types wasi-nn lacks.
    pub element_name: String,
    pub dims: Option<Vec<Option<usize>>>,
}

impl TensorSpec {
    /// `backend_type` names the type in the backend's words, used when wasi-nn has no equivalent.
    pub fn new(
        name: String,
        element: Option<ElementType>,
        backend_type: &str,
        dims: Option<Vec<Option<usize>>>,
    ) -> Self {
        let element_name =
            element.map_or_else(|| backend_type.to_lowercase(), |e| e.name().to_string());
        Self {
            name,
            element,
            element_name,
            dims,
        }
    }

    pub fn describe(&self) -> String {
        let dims = match &self.dims {
            None => "any shape".to_string(),
            Some(dims) => {
                let parts: Vec<String> = dims
                    .iter()
                    .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
                    .collect();
                format!("[{}]", parts.join(", "))
            }
        };
        format!("{} {dims}", self.element_name)
    }
}

/// A tensor as the guest handed it over, with its element type decoded.
pub struct GuestTensor<'a> {
    pub element: ElementType,
    pub dims: Vec<usize>,
    pub data: &'a [u8],
}

/// Checks a guest tensor against the model's declared input `index` and decodes it. The
/// message names the input and says what was expected and what came, so a wrong shape, a wrong
/// type or a wrong enum number in the guest is caught here rather than deep in a backend.
pub fn check_input<'a>(
    specs: &[TensorSpec],
    index: usize,
    tensor: &'a wasmtime_wasi_nn::Tensor,
) -> Result<GuestTensor<'a>, String> {
    let spec = specs.get(index).ok_or_else(|| {
        format!(
            "set_input: input index {index} is out of range: the model has {} input(s)",
            specs.len()
        )
    })?;
    let dims: Vec<usize> = tensor.dimensions.iter().map(|&d| d as usize).collect();
    let Some(element) = ElementType::from_wasi(tensor.ty) else {
        return Err(format!(
            "set_input: input {index} ({}): tensor type {:?} is not supported",
            spec.name, tensor.ty
        ));
    };
    let got = format!("{element} {dims:?}");
    let expected = spec.describe();
    match spec.element {
        Some(want) if want != element => {
            return Err(format!(
                "set_input: input {index} ({}) expects {expected}, got {got}: the element type differs",
                spec.name
            ));
        }
        None => {
            return Err(format!(
                "set_input: input {index} ({}) has type {}, which wasi-nn cannot carry",
                spec.name, spec.element_name
            ));
        }
        Some(_) => {}
    }
    if let Some(want) = &spec.dims {
        let same = want.len() == dims.len()
            && want
                .iter()
                .zip(&dims)
                .all(|(w, d)| w.is_none_or(|w| w == *d));
        if !same {
            return Err(format!(
                "set_input: input {index} ({}) expects {expected}, got {got}: the shape differs",
                spec.name
            ));
        }
    }
    let elements: usize = dims.iter().product();
    let want_bytes = elements * element.byte_size();
    if tensor.data.len() != want_bytes {
        return Err(format!(
            "set_input: input {index} ({}): shape {dims:?} of {element} needs {want_bytes} bytes, the guest passed {}",
            spec.name,
            tensor.data.len()
        ));
    }
    Ok(GuestTensor {
        element,
        dims,
        data: &tensor.data,
    })
}

/// An output as a backend produced it, ready to hand to the guest.
pub fn wasi_tensor(
    element: ElementType,
    dims: &[usize],
    data: Vec<u8>,
) -> wasmtime_wasi_nn::Tensor {
    wasmtime_wasi_nn::Tensor::new(
        dims.iter().map(|&d| d as u32).collect(),
        element.to_wasi(),
        data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(element: ElementType, dims: &[Option<usize>]) -> Vec<TensorSpec> {
        vec![TensorSpec {
            name: "x".into(),
            element: Some(element),
            element_name: element.name().into(),
            dims: Some(dims.to_vec()),
        }]
    }

    fn tensor(ty: TensorType, dims: &[u32], bytes: usize) -> wasmtime_wasi_nn::Tensor {
        wasmtime_wasi_nn::Tensor::new(dims.to_vec(), ty, vec![0; bytes])
    }

    #[test]
    fn accepts_matching_and_dynamic_dims() {
        let specs = spec(ElementType::F32, &[None, Some(4)]);
        let t = tensor(TensorType::Fp32, &[3, 4], 48);
        let decoded = check_input(&specs, 0, &t).unwrap();
        assert_eq!(decoded.dims, vec![3, 4]);
    }

    #[test]
    fn names_what_differs() {
        let specs = spec(ElementType::F32, &[Some(1), Some(16)]);
        let err = check_input(&specs, 0, &tensor(TensorType::Fp32, &[1, 5], 20))
            .err()
            .unwrap();
        assert!(
            err.contains("expects f32 [1, 16], got f32 [1, 5]: the shape differs"),
            "{err}"
        );
        let err = check_input(&specs, 0, &tensor(TensorType::U8, &[1, 16], 16))
            .err()
            .unwrap();
        assert!(err.contains("the element type differs"), "{err}");
        let err = check_input(&specs, 0, &tensor(TensorType::Fp32, &[1, 16], 10))
            .err()
            .unwrap();
        assert!(err.contains("needs 64 bytes, the guest passed 10"), "{err}");
        let err = check_input(&specs, 2, &tensor(TensorType::Fp32, &[1, 16], 64))
            .err()
            .unwrap();
        assert!(err.contains("out of range"), "{err}");
    }
}
