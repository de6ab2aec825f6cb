use std::fmt;

/// How to get a Vulkan device on a machine without a GPU; part of every "no adapter" message.
pub const INSTALL_HINT: &str = "On a machine without a GPU, install Mesa's lavapipe, a Vulkan \
driver that runs on the CPU: `sudo apt-get install mesa-vulkan-drivers` (Debian/Ubuntu; \
`dnf install mesa-vulkan-drivers` on Fedora), then run `shadergan devices` to check.";

/// Errors a user can cause or meet on their machine; each says what to do about it.
#[derive(Debug)]
pub enum GpuError {
    /// No adapter matched the backend and name filters.
    NoAdapter {
        tried: String,
        name_filter: Option<String>,
        seen: Vec<String>,
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
            } => {
                write!(f, "no GPU adapter found (backends tried: {tried}")?;
                if let Some(n) = name_filter {
                    write!(f, "; adapter name filter: {n:?}")?;
                }
                write!(f, ")")?;
                if !seen.is_empty() {
                    write!(f, ". Adapters present: {}", seen.join(", "))?;
                }
                write!(f, ". {INSTALL_HINT}")
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
