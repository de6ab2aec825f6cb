//! CPU twins of shaders/activation.wgsl (and of the activation helpers in common.wgsl that the
//! matmul kernels fuse). Derivatives are written in terms of the forward output y.

use crate::ops::Activation;

/// The CPU meaning of each activation (the shaders' `act_apply` and `act_grad` in common.wgsl).
impl Activation {
    /// f(x).
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Identity => x,
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a * x
                }
            }
            Activation::Tanh => tanh_stable(x),
            Activation::Sigmoid => sigmoid_stable(x),
        }
    }

    /// f'(x) written through y = f(x).
    pub fn grad_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(a) => {
                if y > 0.0 {
                    1.0
                } else {
                    a
                }
            }
            Activation::Tanh => 1.0 - y * y,
            Activation::Sigmoid => y * (1.0 - y),
        }
    }

    /// out = f(x), elementwise.
    pub fn forward(self, x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.apply(v);
        }
    }

    /// out = dy * f'(x), from the forward output y.
    pub fn backward(self, y: &[f32], dy: &[f32], out: &mut [f32]) {
        for ((o, &yv), &g) in out.iter_mut().zip(y).zip(dy) {
            *o = g * self.grad_from_output(yv);
        }
    }
}

/// The logistic function without overflow: exp is only taken of non-positive numbers.
pub fn sigmoid_stable(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// tanh, returning exactly +-1 beyond |x| = 10 as the shader does.
pub fn tanh_stable(x: f32) -> f32 {
    if x.abs() > 10.0 {
        x.signum()
    } else {
        x.tanh()
    }
}

pub fn relu_forward(x: &[f32], out: &mut [f32]) {
    Activation::Relu.forward(x, out)
}
pub fn relu_backward(y: &[f32], dy: &[f32], out: &mut [f32]) {
    Activation::Relu.backward(y, dy, out)
}
pub fn leaky_relu_forward(alpha: f32, x: &[f32], out: &mut [f32]) {
    Activation::LeakyRelu(alpha).forward(x, out)
}
pub fn leaky_relu_backward(alpha: f32, y: &[f32], dy: &[f32], out: &mut [f32]) {
    Activation::LeakyRelu(alpha).backward(y, dy, out)
}
pub fn tanh_forward(x: &[f32], out: &mut [f32]) {
    Activation::Tanh.forward(x, out)
}
pub fn tanh_backward(y: &[f32], dy: &[f32], out: &mut [f32]) {
    Activation::Tanh.backward(y, dy, out)
}
pub fn sigmoid_forward(x: &[f32], out: &mut [f32]) {
    Activation::Sigmoid.forward(x, out)
}
pub fn sigmoid_backward(y: &[f32], dy: &[f32], out: &mut [f32]) {
    Activation::Sigmoid.backward(y, dy, out)
}
