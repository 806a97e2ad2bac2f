//! A client's numeric array (JSON numbers or a `.npy` file) through the NumPy steps a service
//! applies before its model: reshapes, new axes, casts and arithmetic with one number, with
//! NumPy's precision at each step. A JSON list becomes a float64 array (`np.array(values)`),
//! arithmetic happens in the array's current precision (a Python float does not widen a
//! float32 array), and a cast to float32 rounds once.

/// Arithmetic with one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Divide,
    Subtract,
    Multiply,
    Add,
}

/// One step, as the plan names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `reshape(newshape)`, with at most one `-1`.
    Reshape(&'static [i64]),
    /// `expand_dims(axis)` / `unsqueeze(dim)`.
    NewAxis(i64),
    ToFloat32,
    ToFloat64,
    Scalar(Scalar, f64),
}

/// An n-dimensional array of numbers, float64 or float32.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    /// The values, held as float64; float32 values are exactly representable.
    pub values: Vec<f64>,
    pub float32: bool,
}

impl Array {
    /// The array NumPy makes from a client's numbers: float64.
    pub fn from_numbers(shape: Vec<usize>, values: Vec<f64>) -> Result<Array, String> {
        let count: usize = shape.iter().product();
        if count != values.len() {
            return Err(format!(
                "{} values do not fill the shape {shape:?}",
                values.len()
            ));
        }
        Ok(Array {
            shape,
            values,
            float32: false,
        })
    }

    /// The steps, in order.
    pub fn apply(mut self, ops: &[Op]) -> Result<Array, String> {
        for op in ops {
            match *op {
                Op::Reshape(newshape) => self.shape = reshaped(&self.shape, newshape)?,
                Op::NewAxis(axis) => {
                    let rank = self.shape.len() as i64;
                    let at = if axis < 0 { axis + rank + 1 } else { axis };
                    if !(0..=rank).contains(&at) {
                        return Err(format!(
                            "a new axis at {axis} does not fit an array of {rank} dimensions"
                        ));
                    }
                    self.shape.insert(at as usize, 1);
                }
                Op::ToFloat32 => {
                    self.values.iter_mut().for_each(|v| *v = *v as f32 as f64);
                    self.float32 = true;
                }
                Op::ToFloat64 => self.float32 = false,
                Op::Scalar(scalar, operand) => {
                    let float32 = self.float32;
                    for v in &mut self.values {
                        *v = match float32 {
                            true => compute(scalar, *v as f32, operand as f32) as f64,
                            false => compute(scalar, *v, operand),
                        };
                    }
                }
            }
        }
        Ok(self)
    }

    /// The values as the float32 tensor the model takes.
    pub fn into_f32(self) -> (Vec<usize>, Vec<f32>) {
        let values = self.values.iter().map(|&v| v as f32).collect();
        (self.shape, values)
    }
}

/// One operation in the precision of `T` (f32 or f64), as NumPy computes it in the array's.
fn compute<T>(op: Scalar, a: T, b: T) -> T
where
    T: std::ops::Add<Output = T>
        + std::ops::Sub<Output = T>
        + std::ops::Mul<Output = T>
        + std::ops::Div<Output = T>,
{
    match op {
        Scalar::Divide => a / b,
        Scalar::Subtract => a - b,
        Scalar::Multiply => a * b,
        Scalar::Add => a + b,
    }
}

/// NumPy's reshape: the sizes must hold every value, and one `-1` takes what is left.
fn reshaped(shape: &[usize], newshape: &[i64]) -> Result<Vec<usize>, String> {
    let count: usize = shape.iter().product();
    let known: usize = newshape
        .iter()
        .filter(|&&d| d != -1)
        .map(|&d| d as usize)
        .product();
    let fits = |sizes: &[usize]| sizes.iter().product::<usize>() == count;
    let out: Vec<usize> = newshape
        .iter()
        .map(|&d| match d {
            -1 if known > 0 => count / known,
            d => d as usize,
        })
        .collect();
    match fits(&out) {
        true => Ok(out),
        false => Err(format!(
            "cannot reshape an array of {count} values (shape {shape:?}) into {newshape:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(shape: &[usize], values: &[f64]) -> Array {
        Array::from_numbers(shape.to_vec(), values.to_vec()).unwrap()
    }

    #[test]
    fn reshape_fills_one_unknown_size_and_refuses_what_does_not_fit() {
        let flat = array(&[6], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let out = flat.clone().apply(&[Op::Reshape(&[1, -1, 3])]).unwrap();
        assert_eq!(out.shape, [1, 2, 3]);
        assert_eq!(out.values, flat.values);
        let error = flat.apply(&[Op::Reshape(&[4, -1])]).unwrap_err();
        assert!(
            error.contains("cannot reshape an array of 6 values"),
            "{error}"
        );
    }

    #[test]
    fn new_axes_count_from_either_end() {
        let out = array(&[2, 3], &[0.0; 6])
            .apply(&[Op::NewAxis(0), Op::NewAxis(-1)])
            .unwrap();
        assert_eq!(out.shape, [1, 2, 3, 1]);
        assert!(array(&[2], &[0.0; 2]).apply(&[Op::NewAxis(3)]).is_err());
    }

    #[test]
    fn arithmetic_runs_in_float64_until_a_cast_to_float32() {
        // 0.3 / 255 in float64 and then rounded differs from the division done in float32.
        let divided_in_64 = array(&[1], &[0.3])
            .apply(&[Op::Scalar(Scalar::Divide, 255.0), Op::ToFloat32])
            .unwrap();
        let divided_in_32 = array(&[1], &[0.3])
            .apply(&[Op::ToFloat32, Op::Scalar(Scalar::Divide, 255.0)])
            .unwrap();
        assert_eq!(divided_in_64.into_f32().1, [(0.3f64 / 255.0) as f32]);
        assert_eq!(divided_in_32.into_f32().1, [0.3f32 / 255.0]);
        assert_ne!((0.3f64 / 255.0) as f32, 0.3f32 / 255.0);
    }

    #[test]
    fn too_few_numbers_for_the_shape_are_refused() {
        assert!(Array::from_numbers(vec![2, 2], vec![1.0; 3]).is_err());
    }
}
