//! Toy data sets for watching a GAN learn: 2-D mixtures (ring, grid), 2-D shapes (spiral, moons)
//! and a 1-D mixture, each parsed from a short spec such as `ring:n=8,radius=2,std=0.02`.
//!
//! Mixtures have modes (`centres()`, `std()`), so mode coverage (`crate::eval`) applies to them;
//! spiral and moons have none.
//!
//! Image data sets (`digits`, `idx:PATH`, `images:DIR`) are loaded whole with
//! [`Dataset::load_images`] into an [`ImageSet`]; the sampling methods do not apply to them.
//!
//! Every size a user controls has a ceiling checked before anything is allocated: the toy specs'
//! parameters have the ranges below, and image loaders take a byte limit (the device's largest
//! storage buffer) that bounds what they read, decompress and decode ([`limit`]).

pub mod folder;
pub mod idx;
pub mod images;
mod labeled;
pub mod limit;
pub mod mixture;
mod params;
pub mod stacked;
mod toy;

use params::Params;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, ensure, Result};

pub use folder::{load_folder, load_folder_labeled};
pub use idx::{load_idx, load_idx_labels, write_idx};
pub use images::{digits, digits_labeled, parse_digits_csv, ImageSet};
pub use labeled::LabeledImages;
pub use limit::format_bytes;
pub use mixture::Mixture;

/// The names `Dataset::parse` accepts.
pub const NAMES: &[&str] = &[
    "ring",
    "grid",
    "spiral",
    "moons",
    "gauss1d",
    "digits",
    "idx",
    "images",
    "stacked-digits",
    "stacked-idx",
];

/// Ceilings of the toy specs' parameters: far beyond any useful picture of a mixture, small
/// enough that centre lists stay tiny (mode coverage compares every sample with every centre)
/// and every coordinate, activation and loss stays finite in f32.
pub const MAX_MODES: usize = 1000;
/// `grid:n` (n x n centres).
pub const MAX_GRID_SIDE: usize = 100;
/// `radius`, `spacing` and `gauss1d` centres (absolute value).
pub const MAX_EXTENT: f32 = 1000.0;
/// `std` and `noise`.
pub const MAX_SPREAD: f32 = 100.0;
/// `spiral:turns`.
pub const MAX_TURNS: f32 = 100.0;

const FORMS: &str = "ring[:n=8,radius=2,std=0.02], grid[:n=5,spacing=2,std=0.05], \
     spiral[:turns=2,radius=2,noise=0.05], moons[:noise=0.05], gauss1d[:centres=-3;0;3,std=0.3], \
     digits (embedded 8x8 digits), idx:PATH[,labels=LABELS] (an MNIST-style \
     *-images-idx3-ubyte[.gz] file and optionally its labels file), images:DIR (a folder of \
     PNG/JPEG files, or of one subfolder of them per class), stacked-digits[:n=10000] (three \
     digits as three channels, 1,000 modes), stacked-idx:PATH[,labels=LABELS]";

#[derive(Clone, Debug, PartialEq)]
pub enum Dataset {
    /// `n` Gaussians on a circle of `radius`, centre `i` at angle `2 pi i / n`.
    Ring { n: usize, radius: f32, std: f32 },
    /// `n x n` Gaussians on a square lattice with `spacing`, centred on the origin.
    Grid { n: usize, spacing: f32, std: f32 },
    /// Archimedean spiral of `turns` turns out to `radius`, plus Gaussian `noise`; not a mixture.
    Spiral { turns: f32, radius: f32, noise: f32 },
    /// Two interleaving half circles (as scikit-learn's make_moons, centred); not a mixture.
    Moons { noise: f32 },
    /// Gaussians on the real line.
    Gauss1d { centres: Vec<f32>, std: f32 },
    /// The 1,797 embedded 8x8 grayscale handwritten digits.
    Digits,
    /// An IDX images file such as MNIST's `train-images-idx3-ubyte` (plain or gzipped), and
    /// optionally its labels file (needed to train the evaluation classifier).
    Idx {
        path: PathBuf,
        labels: Option<PathBuf>,
    },
    /// Every PNG/JPEG file directly in a folder, or in its subfolders, one per class (sorted
    /// names are classes 0, 1, ...).
    Images { dir: PathBuf },
    /// `n` images of three embedded digits stacked as channels (1,000 modes; see
    /// [`stacked`]).
    StackedDigits { n: usize },
    /// The same built from an IDX images file (and its labels, for the classifier).
    StackedIdx {
        path: PathBuf,
        labels: Option<PathBuf>,
    },
}

/// `PATH` or `PATH,labels=LABELS` (the paths taken verbatim otherwise).
fn idx_paths(rest: &str) -> (PathBuf, Option<PathBuf>) {
    match rest.rsplit_once(",labels=") {
        Some((images, labels)) => (images.into(), Some(labels.into())),
        None => (rest.into(), None),
    }
}

impl Default for Dataset {
    fn default() -> Self {
        Self::Ring {
            n: 8,
            radius: 2.0,
            std: 0.02,
        }
    }
}

impl Dataset {
    /// Parses `name` or `name:key=value,key=value`; missing keys take their defaults.
    /// `gauss1d` centres are separated by `;` (`gauss1d:centres=-2;2,std=0.3`).
    /// `idx:PATH` and `images:DIR` take everything after the first `:` verbatim as the path, so
    /// it may contain `:` and `,`.
    pub fn parse(spec: &str) -> Result<Self> {
        let spec = spec.trim();
        let (name, rest) = match spec.split_once(':') {
            Some((name, rest)) => (name.trim(), rest),
            None => (spec, ""),
        };
        match name {
            "ring" => {
                let p = Params::parse("ring", rest, &["n", "radius", "std"])?;
                Ok(Self::Ring {
                    n: p.count("n", 8, MAX_MODES)?,
                    radius: p.positive("radius", 2.0, MAX_EXTENT)?,
                    std: p.positive("std", 0.02, MAX_SPREAD)?,
                })
            }
            "grid" => {
                let p = Params::parse("grid", rest, &["n", "spacing", "std"])?;
                let n = p.count("n", 5, MAX_GRID_SIDE)?;
                let spacing = p.positive("spacing", 2.0, MAX_EXTENT)?;
                let half = (n - 1) as f32 * spacing / 2.0;
                ensure!(
                    half <= MAX_EXTENT,
                    "grid: n={n} with spacing={spacing} puts centres {half} from the origin; keep \
                     (n-1)*spacing/2 at most {MAX_EXTENT}"
                );
                Ok(Self::Grid {
                    n,
                    spacing,
                    std: p.positive("std", 0.05, MAX_SPREAD)?,
                })
            }
            "spiral" => {
                let p = Params::parse("spiral", rest, &["turns", "radius", "noise"])?;
                Ok(Self::Spiral {
                    turns: p.positive("turns", 2.0, MAX_TURNS)?,
                    radius: p.positive("radius", 2.0, MAX_EXTENT)?,
                    noise: p.non_negative("noise", 0.05, MAX_SPREAD)?,
                })
            }
            "moons" => {
                let p = Params::parse("moons", rest, &["noise"])?;
                Ok(Self::Moons {
                    noise: p.non_negative("noise", 0.05, MAX_SPREAD)?,
                })
            }
            "gauss1d" => {
                let p = Params::parse("gauss1d", rest, &["centres", "std"])?;
                Ok(Self::Gauss1d {
                    centres: p.list("centres", &[-3.0, 0.0, 3.0], MAX_MODES, MAX_EXTENT)?,
                    std: p.positive("std", 0.3, MAX_SPREAD)?,
                })
            }
            "digits" => {
                ensure!(
                    rest.trim().is_empty(),
                    "digits takes no parameters, got {rest:?}"
                );
                Ok(Self::Digits)
            }
            "idx" | "stacked-idx" => {
                ensure!(
                    !rest.is_empty(),
                    "{name} needs a file: {name}:PATH[,labels=LABELS] (e.g. \
                     {name}:train-images-idx3-ubyte.gz,labels=train-labels-idx1-ubyte.gz)"
                );
                let (path, labels) = idx_paths(rest);
                Ok(if name == "idx" {
                    Self::Idx { path, labels }
                } else {
                    Self::StackedIdx { path, labels }
                })
            }
            "stacked-digits" => {
                let p = Params::parse("stacked-digits", rest, &["n"])?;
                Ok(Self::StackedDigits {
                    n: p.count("n", stacked::STACKED_IMAGES, 1_000_000)?,
                })
            }
            "images" => {
                ensure!(
                    !rest.is_empty(),
                    "images needs a folder: images:DIR (a folder of PNG/JPEG files)"
                );
                Ok(Self::Images { dir: rest.into() })
            }
            _ => bail!("unknown data set {name:?}; accepted: {FORMS}"),
        }
    }

    /// True for `digits`, `idx`, `images` and the stacked sets, which are loaded with
    /// [`Self::load_images`] rather than sampled.
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            Self::Digits
                | Self::Idx { .. }
                | Self::Images { .. }
                | Self::StackedDigits { .. }
                | Self::StackedIdx { .. }
        )
    }

    /// Loads an image data set. `image_size` resizes every source to that many pixels square
    /// (folders while they are read, see [`load_folder`]; the others after loading);
    /// `channels` applies to `images:DIR`, and `digits` and `idx` need `channels == 1`.
    /// The set as f32 values must fit `max_bytes` (the device's largest storage buffer); the
    /// loaders check it before reading the pixels, so a huge file costs no more than the limit.
    pub fn load_images(
        &self,
        image_size: Option<u32>,
        channels: u32,
        max_bytes: u64,
    ) -> Result<ImageSet> {
        let grayscale_only = |what: &str| {
            ensure!(
                channels == 1,
                "{what} is grayscale: use 1 channel, not {channels}"
            );
            Ok(())
        };
        let resize = |set: ImageSet| match image_size {
            Some(side) => set.resized(side, max_bytes),
            None => Ok(set),
        };
        match self {
            Self::Digits => {
                grayscale_only("digits")?;
                let set = digits()?;
                let bytes = set.pixels.len() as u64 * 4;
                ensure!(
                    bytes <= max_bytes,
                    "digits: {} images of 8x8 = {} as f32 values, more than the {} limit for a \
                     data set",
                    set.len(),
                    format_bytes(bytes),
                    format_bytes(max_bytes)
                );
                resize(set)
            }
            Self::Idx { path, .. } => {
                grayscale_only(&format!("IDX file {}", path.display()))?;
                resize(load_idx(path, max_bytes)?)
            }
            Self::Images { dir } => load_folder(dir, image_size, channels, max_bytes),
            // Always three channels, whatever `channels` says: that is what they are.
            Self::StackedDigits { n } => resize(stacked::stack(&digits()?, *n).0),
            Self::StackedIdx { path, .. } => {
                resize(stacked::stack(&load_idx(path, max_bytes)?, stacked::STACKED_IMAGES).0)
            }
            _ => bail!(
                "{} is a toy data set, not images; image data sets: digits, idx:PATH, images:DIR",
                self.name()
            ),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Ring { .. } => "ring",
            Self::Grid { .. } => "grid",
            Self::Spiral { .. } => "spiral",
            Self::Moons { .. } => "moons",
            Self::Gauss1d { .. } => "gauss1d",
            Self::Digits => "digits",
            Self::Idx { .. } => "idx",
            Self::Images { .. } => "images",
            Self::StackedDigits { .. } => "stacked-digits",
            Self::StackedIdx { .. } => "stacked-idx",
        }
    }

    /// The full spec with every parameter spelled out; `parse(&d.spec()) == Ok(d)`.
    pub fn spec(&self) -> String {
        match self {
            Self::Ring { n, radius, std } => format!("ring:n={n},radius={radius},std={std}"),
            Self::Grid { n, spacing, std } => format!("grid:n={n},spacing={spacing},std={std}"),
            Self::Spiral {
                turns,
                radius,
                noise,
            } => {
                format!("spiral:turns={turns},radius={radius},noise={noise}")
            }
            Self::Moons { noise } => format!("moons:noise={noise}"),
            Self::Gauss1d { centres, std } => {
                let list: Vec<String> = centres.iter().map(f32::to_string).collect();
                format!("gauss1d:centres={},std={std}", list.join(";"))
            }
            Self::Digits => "digits".to_string(),
            Self::Idx { path, labels } | Self::StackedIdx { path, labels } => {
                let l = labels
                    .as_ref()
                    .map_or(String::new(), |l| format!(",labels={}", l.display()));
                format!("{}:{}{l}", self.name(), path.display())
            }
            Self::Images { dir } => format!("images:{}", dir.display()),
            Self::StackedDigits { n } => format!("stacked-digits:n={n}"),
        }
    }

    /// Values per sample: 1 or 2 for toy sets; 0 for image sets, whose size is known only once
    /// loaded (use `load_images(..)?.dim()`).
    pub fn dim(&self) -> usize {
        match self {
            Self::Gauss1d { .. } => 1,
            _ if self.is_image() => 0,
            _ => 2,
        }
    }
}

impl FromStr for Dataset {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}
