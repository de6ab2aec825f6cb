//! Launcher for shaders/conv.wgsl: Conv2d and ConvTranspose2d (forward, input gradient, weight
//! gradient) and per-channel sums for their bias gradients. Every operand is a buffer and an
//! element offset ([`At`]), so weights and biases can live inside a network's flat parameter
//! buffer.

use super::{check_u32, grid_1d, At, Dispatch, Kernel, ShaderFamily};
use crate::gpu::{Gpu, GpuError};
use crate::ops::ConvShape;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    in_ch: u32,
    out_ch: u32,
    h: u32,
    w: u32,
    out_h: u32,
    out_w: u32,
    k_h: u32,
    k_w: u32,
    stride: u32,
    pad: u32,
    has_bias: u32,
    a_off: u32,
    b_off: u32,
    bias_off: u32,
    out_off: u32,
}

/// Held against `Params` in conv.wgsl by tests/launcher_contracts.rs.
pub const PARAMS: super::ParamsLayout = params_layout!(
    "conv.wgsl",
    Params,
    batch,
    in_ch,
    out_ch,
    h,
    w,
    out_h,
    out_w,
    k_h,
    k_w,
    stride,
    pad,
    has_bias,
    a_off,
    b_off,
    bias_off,
    out_off
);

/// The pipelines of conv.wgsl, built once.
pub struct Conv {
    forward: Kernel,
    input_grad: Kernel,
    weight_grad: Kernel,
    channel_sum: Kernel,
    im2col: Kernel,
    col2im: Kernel,
    to_rows: Kernel,
    from_rows: Kernel,
}

impl Conv {
    pub fn new(gpu: &Gpu) -> Result<Self, GpuError> {
        let fam = ShaderFamily::new(gpu, "conv.wgsl", super::shader("conv.wgsl"))?;
        Ok(Conv {
            forward: fam.kernel(gpu, "conv2d_forward")?,
            input_grad: fam.kernel(gpu, "conv2d_input_grad")?,
            weight_grad: fam.kernel(gpu, "conv2d_weight_grad")?,
            channel_sum: fam.kernel(gpu, "channel_sum")?,
            im2col: fam.kernel(gpu, "im2col")?,
            col2im: fam.kernel(gpu, "col2im")?,
            to_rows: fam.kernel(gpu, "to_rows")?,
            from_rows: fam.kernel(gpu, "from_rows")?,
        })
    }

    /// Conv2d forward: y = conv(x, w) + bias; x [N,C,H,W], w [O,C,KH,KW], y [N,O,OH,OW].
    pub fn conv2d(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        x: At,
        w: At,
        bias: Option<At>,
        y: At,
    ) -> Result<Dispatch, GpuError> {
        let lens = [s.input_len(), s.weight_len(), s.out_ch, s.output_len()];
        self.bind(gpu, &self.forward, s, [x, w], bias, y, lens, s.output_len())
    }

    /// Conv2d input gradient dx from dy (plus `bias` per input channel: ConvTranspose2d).
    pub fn conv2d_input_grad(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        dy: At,
        w: At,
        bias: Option<At>,
        dx: At,
    ) -> Result<Dispatch, GpuError> {
        let lens = [s.output_len(), s.weight_len(), s.in_ch, s.input_len()];
        self.bind(
            gpu,
            &self.input_grad,
            s,
            [dy, w],
            bias,
            dx,
            lens,
            s.input_len(),
        )
    }

    /// Conv2d weight gradient dw from dy and x (overwrites dw).
    pub fn conv2d_weight_grad(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        dy: At,
        x: At,
        dw: At,
    ) -> Result<Dispatch, GpuError> {
        let lens = [s.output_len(), s.input_len(), 0, s.weight_len()];
        self.bind(
            gpu,
            &self.weight_grad,
            s,
            [dy, x],
            None,
            dw,
            lens,
            s.weight_len(),
        )
    }

    /// ConvTranspose2d forward, `s` being the Conv2d it is the adjoint of
    /// ([`ConvShape::transposed`]): x [N,O,OH,OW] -> y [N,C,H,W] in `s`'s names.
    pub fn conv_transpose2d(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        x: At,
        w: At,
        bias: Option<At>,
        y: At,
    ) -> Result<Dispatch, GpuError> {
        self.conv2d_input_grad(gpu, s, x, w, bias, y)
    }

    /// ConvTranspose2d input gradient: Conv2d's forward of `s` on dy, no bias.
    pub fn conv_transpose2d_input_grad(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        dy: At,
        w: At,
        dx: At,
    ) -> Result<Dispatch, GpuError> {
        self.conv2d(gpu, s, dy, w, None, dx)
    }

    /// ConvTranspose2d weight gradient: Conv2d's weight gradient of `s` with the activations
    /// swapped.
    pub fn conv_transpose2d_weight_grad(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        dy: At,
        x: At,
        dw: At,
    ) -> Result<Dispatch, GpuError> {
        self.conv2d_weight_grad(gpu, s, x, dy, dw)
    }

    /// The rows a convolution's matmul reads: cols [N OH OW, C KH KW] from x [N, C, H, W].
    pub fn im2col(&self, gpu: &Gpu, s: ConvShape, x: At, cols: At) -> Result<Dispatch, GpuError> {
        let n = s.cols_len();
        let lens = [s.input_len(), 0, 0, n];
        // One lane per output row and channel (conv.wgsl).
        let lanes = s.batch * s.out_h() * s.out_w() * s.in_ch;
        self.bind(gpu, &self.im2col, s, [x, x], None, cols, lens, lanes)
    }

    /// im2col's adjoint (plus `bias` per channel): x [N, C, H, W] from cols [N OH OW, C KH KW].
    pub fn col2im(
        &self,
        gpu: &Gpu,
        s: ConvShape,
        cols: At,
        bias: Option<At>,
        x: At,
    ) -> Result<Dispatch, GpuError> {
        let lens = [s.cols_len(), 0, s.in_ch, s.input_len()];
        // One lane per image row (conv.wgsl).
        let lanes = s.batch * s.in_ch * s.h;
        self.bind(gpu, &self.col2im, s, [cols, cols], bias, x, lens, lanes)
    }

    /// [batch, channels, hw] to [batch hw, channels] (`back`: the inverse).
    pub fn rows(
        &self,
        gpu: &Gpu,
        back: bool,
        [batch, channels, hw]: [usize; 3],
        a: At,
        out: At,
    ) -> Result<Dispatch, GpuError> {
        // A 1x1 convolution's shape carries the three sizes (hw as h x 1).
        let s = ConvShape {
            batch,
            in_ch: channels,
            out_ch: 1,
            h: hw,
            w: 1,
            k_h: 1,
            k_w: 1,
            stride: 1,
            pad: 0,
        };
        let n = batch * channels * hw;
        // One lane per pixel (to_rows) or per channel of an image (from_rows; conv.wgsl).
        let (k, lanes) = if back {
            (&self.from_rows, batch * channels)
        } else {
            (&self.to_rows, batch * hw)
        };
        self.bind(gpu, k, s, [a, a], None, out, [n, 0, 0, n], lanes)
    }

    /// out[c] = sum over n and the `hw` positions of v[n, c, :] (v is [batch, channels, hw]).
    pub fn channel_sum(
        &self,
        gpu: &Gpu,
        batch: usize,
        channels: usize,
        hw: usize,
        v: At,
        out: At,
    ) -> Result<Dispatch, GpuError> {
        let k = &self.channel_sum;
        let n = batch * channels * hw;
        check_u32(k.name, &[n, v.off + n, out.off + channels])?;
        if channels == 0 || channels > 65535 {
            return Err(GpuError::Shape(format!(
                "{}: {channels} channels; one workgroup each allows 1..=65535",
                k.name
            )));
        }
        gpu.expect_len(&format!("{} v", k.name), v.buf, v.off + n)?;
        gpu.expect_len(&format!("{} out", k.name), out.buf, out.off + channels)?;
        let p = Params {
            batch: batch as u32,
            in_ch: channels as u32,
            h: hw as u32,
            w: 1,
            a_off: v.off as u32,
            out_off: out.off as u32,
            ..bytemuck::Zeroable::zeroed()
        };
        let pb = gpu.uniform(k.name, &p);
        k.bind(
            gpu,
            &[("p", &pb), ("a", v.buf), ("out", out.buf)],
            [channels as u32, 1, 1],
        )
    }

    /// Checks every operand's length (`lens`: a, b, bias, out) and binds `kernel` over `items`
    /// outputs.
    #[allow(clippy::too_many_arguments)]
    fn bind(
        &self,
        gpu: &Gpu,
        kernel: &Kernel,
        s: ConvShape,
        [a, b]: [At; 2],
        bias: Option<At>,
        out: At,
        lens: [usize; 4],
        items: usize,
    ) -> Result<Dispatch, GpuError> {
        let name = kernel.name;
        if [s.batch, s.in_ch, s.out_ch, s.k_h, s.k_w, s.stride].contains(&0)
            || s.out_h() == 0
            || s.out_w() == 0
        {
            return Err(GpuError::Shape(format!(
                "{name}: every size must be at least 1 and the kernel must fit, got {s:?}"
            )));
        }
        for (what, at, len) in [("a", a, lens[0]), ("b", b, lens[1]), ("out", out, lens[3])] {
            check_u32(name, &[at.off + len])?;
            gpu.expect_len(&format!("{name} {what}"), at.buf, at.off + len)?;
        }
        if let Some(bias) = bias {
            check_u32(name, &[bias.off + lens[2]])?;
            gpu.expect_len(&format!("{name} bias"), bias.buf, bias.off + lens[2])?;
        }
        let u = |v: usize| v as u32;
        let p = Params {
            batch: u(s.batch),
            in_ch: u(s.in_ch),
            out_ch: u(s.out_ch),
            h: u(s.h),
            w: u(s.w),
            out_h: u(s.out_h()),
            out_w: u(s.out_w()),
            k_h: u(s.k_h),
            k_w: u(s.k_w),
            stride: u(s.stride),
            pad: u(s.pad),
            has_bias: bias.is_some() as u32,
            a_off: u(a.off),
            b_off: u(b.off),
            bias_off: u(bias.map_or(0, |v| v.off)),
            out_off: u(out.off),
        };
        let pb = gpu.uniform(name, &p);
        // Without a bias the shader never reads it, but the layout needs a read-only buffer
        // there: `b` serves (`out` would conflict with its read_write use).
        let bindings = [
            ("p", &pb),
            ("a", a.buf),
            ("b", b.buf),
            ("bias", bias.map_or(b.buf, |v| v.buf)),
            ("out", out.buf),
        ];
        kernel.bind(gpu, &bindings, grid_1d(items, 256))
    }
}
