use std::fmt;

/// How to get a Vulkan device on a machine without a GPU; part of every "no adapter" message.
pub const INSTALL_HINT: &str = "On a machine without a GPU, install Mesa's lavapipe, a Vulkan \
driver that runs on the CPU: `sudo apt-get install mesa-vulkan-drivers` (Debian/Ubuntu; \
`dnf install mesa-vulkan-drivers` on Fedora), then run `shadergan devices` to check.";

/// Why shadergan never runs on OpenGL on the CPU (Mesa's llvmpipe or softpipe).
pub const CPU_GL: &str = "OpenGL on the CPU (Mesa's llvmpipe or softpipe), whose GLSL compiler \
does not finish compiling shadergan's matmul shader, so the run would hang";

/// Errors a user can cause or meet on their machine; each says what to do about it.
#[derive(Debug)]
pub enum GpuError {
    /// No usable adapter matched the backend and name filters.
    NoAdapter {
        /// The backends asked for.
        tried: String,
        name_filter: Option<String>,
        /// Every adapter on the machine, of any backend.
        seen: Vec<String>,
        /// Adapters that matched but are OpenGL on the CPU, which shadergan refuses.
        refused_cpu_gl: Vec<String>,
        /// No adapter on the machine is usable: say how to get lavapipe.
        install_hint: bool,
    },
    /// The device could not be opened or stopped answering.
    Device(String),
    /// A buffer larger than the device allows for one storage binding.
    TooLarge {
        label: String,
        bytes: u64,
        max: u64,
        adapter: String,
    },
    /// wgpu rejected something (validation or out of memory).
    Wgpu { what: String, message: String },
    /// A kernel was called with buffers too small for the shape it was given.
    Shape(String),
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoAdapter {
                tried,
                name_filter,
                seen,
                refused_cpu_gl,
                install_hint,
            } => {
                write!(f, "no usable GPU adapter found (backends tried: {tried}")?;
                if let Some(n) = name_filter {
                    write!(f, "; adapter name filter: {n:?}")?;
                }
                write!(f, ")")?;
                if !refused_cpu_gl.is_empty() {
                    write!(f, ". Not using {}: {CPU_GL}", refused_cpu_gl.join(", "))?;
                }
                if seen.is_empty() {
                    write!(f, ". No adapter of any backend is present")?;
                } else {
                    write!(f, ". Adapters present: {}", seen.join(", "))?;
                }
                if *install_hint {
                    write!(f, ". {INSTALL_HINT}")
                } else {
                    write!(
                        f,
                        ". Choose a usable one with --backend and --adapter (`shadergan devices` \
                         lists them)"
                    )
                }
            }
            GpuError::Device(m) => write!(f, "GPU device error: {m}"),
            GpuError::TooLarge {
                label,
                bytes,
                max,
                adapter,
            } => write!(
                f,
                "buffer '{label}' needs {bytes} bytes ({:.1} MiB) but {adapter} allows at most \
                 {max} bytes ({:.1} MiB) in one storage buffer; use a smaller model, batch or \
                 data set",
                *bytes as f64 / 1048576.0,
                *max as f64 / 1048576.0
            ),
            GpuError::Wgpu { what, message } => write!(f, "wgpu rejected {what}: {message}"),
            GpuError::Shape(m) => write!(f, "kernel shape error: {m}"),
        }
    }
}

impl std::error::Error for GpuError {}
