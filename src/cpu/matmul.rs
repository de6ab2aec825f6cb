//! CPU twins of shaders/matmul.wgsl. Row-major f32; each output is summed in k order in f32, then
//! the bias is added and the activation applied, as in the shader. The shader's element offsets
//! (a_off, b_off, c_off, bias_off) are subslices here: pass `&a[a_off..]` and so on. Slices may be
//! longer than the shape needs; only the first elements are used.

use crate::ops::{Activation, Variant};

/// C[m,n] = act(A[m,k] B[k,n] + bias).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    c: &mut [f32],
) {
    product(
        m,
        k,
        n,
        |i, p| a[i * k + p],
        |p, j| b[p * n + j],
        bias,
        act,
        c,
    )
}

/// C[m,n] = act(A^T B + bias), A stored [k,m].
#[allow(clippy::too_many_arguments)]
pub fn matmul_at_b(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    c: &mut [f32],
) {
    product(
        m,
        k,
        n,
        |i, p| a[p * m + i],
        |p, j| b[p * n + j],
        bias,
        act,
        c,
    )
}

/// C[m,n] = act(A B^T + bias), B stored [n,k].
#[allow(clippy::too_many_arguments)]
pub fn matmul_a_bt(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    c: &mut [f32],
) {
    product(
        m,
        k,
        n,
        |i, p| a[i * k + p],
        |p, j| b[j * k + p],
        bias,
        act,
        c,
    )
}

/// The naive kernel computes exactly what `matmul` does.
#[allow(clippy::too_many_arguments)]
pub fn matmul_naive(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    c: &mut [f32],
) {
    matmul(m, k, n, a, b, bias, act, c)
}

// The vec4-load kernels compute exactly what their scalar-load twins do, in the same order.
pub use self::matmul as matmul_vec4;
pub use self::matmul_a_bt as matmul_a_bt_vec4;
pub use self::matmul_at_b as matmul_at_b_vec4;

/// C[m,n] = op(A) op(B) * act'(Y), Y [m,n] the forward output of the layer below: the shaders'
/// `EPI_ACT_GRAD` epilogue, the product (with no bias or activation) and then
/// `Activation::backward`'s multiply, so it gives what those two ops give one after the other.
#[allow(clippy::too_many_arguments)]
pub fn matmul_act_grad(
    variant: Variant,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    y: &[f32],
    act: Activation,
    c: &mut [f32],
) {
    let f = match variant {
        Variant::AB => matmul,
        Variant::AtB => matmul_at_b,
        Variant::ABt => matmul_a_bt,
    };
    f(m, k, n, a, b, None, Activation::Identity, c);
    for (v, &yv) in c[..m * n].iter_mut().zip(&y[..m * n]) {
        *v *= act.grad_from_output(yv);
    }
}

/// db[j] = sum_i dz[i*n + j] over m rows, summed in row order.
pub fn bias_grad(m: usize, n: usize, dz: &[f32], db: &mut [f32]) {
    for (j, d) in db[..n].iter_mut().enumerate() {
        let mut s = 0.0f32;
        for i in 0..m {
            s += dz[i * n + j];
        }
        *d = s;
    }
}

/// c[i,j] = act(sum_p a(i,p) b(p,j) + bias[j]), the sum in p order.
#[allow(clippy::too_many_arguments)]
fn product(
    m: usize,
    k: usize,
    n: usize,
    a: impl Fn(usize, usize) -> f32,
    b: impl Fn(usize, usize) -> f32,
    bias: Option<&[f32]>,
    act: Activation,
    c: &mut [f32],
) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += a(i, p) * b(p, j);
            }
            if let Some(bias) = bias {
                s += bias[j];
            }
            c[i * n + j] = act.apply(s);
        }
    }
}
