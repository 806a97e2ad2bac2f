//! Tensors from `.npy` and `.npz` files, as float32 whatever their stored type, since every
//! comparison is done in float32 or wider.

use std::io::Read;
use std::path::Path;

use crate::error::VerifyError;

/// A tensor read from a file: its shape, its values as f32, and the type it was stored as.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
    pub dtype: String,
}

impl Tensor {
    pub fn view(&self) -> crate::diagnose::TensorRef<'_> {
        crate::diagnose::TensorRef {
            dtype: &self.dtype,
            shape: &self.shape,
            data: &self.data,
        }
    }
}

fn bad(path: &Path, what: impl std::fmt::Display) -> VerifyError {
    VerifyError::BadTensor {
        path: path.to_path_buf(),
        reason: what.to_string(),
    }
}

/// Reads one `.npy` payload; `path` names it in errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Tensor, VerifyError> {
    let npy = npyz::NpyFile::new(bytes).map_err(|e| bad(path, format!("not a .npy file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => return Err(bad(path, format!("unsupported dtype {other:?}"))),
    };
    let kind = dtype.trim_start_matches(['<', '>', '|', '=']);
    let data: Vec<f32> = match kind {
        "f4" => npy.into_vec::<f32>().map_err(|e| bad(path, e))?,
        "f8" => npy
            .into_vec::<f64>()
            .map_err(|e| bad(path, e))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "f2" => npy
            .into_vec::<u16>()
            .map_err(|e| bad(path, e))?
            .into_iter()
            .map(half_to_f32)
            .collect(),
        "u1" => npy
            .into_vec::<u8>()
            .map_err(|e| bad(path, e))?
            .into_iter()
            .map(f32::from)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .map_err(|e| bad(path, e))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "i8" => npy
            .into_vec::<i64>()
            .map_err(|e| bad(path, e))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        other => return Err(bad(path, format!("unsupported dtype `{other}`"))),
    };
    let name = match kind {
        "f4" => "float32",
        "f8" => "float64",
        "f2" => "float16",
        "u1" => "uint8",
        "i4" => "int32",
        _ => "int64",
    };
    Ok(Tensor {
        shape,
        data,
        dtype: name.to_string(),
    })
}

fn half_to_f32(bits: u16) -> f32 {
    let sign = ((bits >> 15) as u32) << 31;
    let exp = ((bits >> 10) & 0x1f) as u32;
    let mant = (bits & 0x3ff) as u32;
    let value = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise the mantissa.
            let shift = m.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | (((m << shift) & 0x3ff) << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(value)
}

pub fn read_npy(path: &Path) -> Result<Tensor, VerifyError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e))?;
    parse_npy(path, &bytes)
}

/// Every array in an `.npz` (np.savez or np.savez_compressed), by name without `.npy`.
pub fn read_npz(path: &Path) -> Result<Vec<(String, Tensor)>, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| bad(path, e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(path, format!("not an .npz file: {e}")))?;
    let mut tensors = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(path, e))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| bad(path, e))?;
        let inner = path.join(&name);
        tensors.push((name, parse_npy(&inner, &bytes)?));
    }
    tensors.sort_by_key(|(name, _)| natural_key(name));
    Ok(tensors)
}

/// `out_10` after `out_9`.
fn natural_key(name: &str) -> (String, usize) {
    match name.rsplit_once('_') {
        Some((stem, n)) if n.parse::<usize>().is_ok() => (stem.to_string(), n.parse().unwrap_or(0)),
        _ => (name.to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_convert() {
        assert_eq!(half_to_f32(0x3c00), 1.0);
        assert_eq!(half_to_f32(0xc000), -2.0);
        assert_eq!(half_to_f32(0x0001), 2f32.powi(-24));
        assert!(half_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn npz_names_sort_numerically() {
        let mut names = vec!["out_10", "out_2", "pre_0"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["out_2", "out_10", "pre_0"]);
    }
}
