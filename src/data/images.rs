//! Image data sets in one in-memory form, [`ImageSet`], and the embedded 8x8 digits.
//!
//! Every loader (digits here, IDX in [`super::idx`], PNG/JPEG folders in [`super::folder`])
//! scales pixels to [-1, 1], the range of a generator that ends in tanh.

use anyhow::{bail, ensure, Context, Result};

use super::limit::{format_bytes, read_stream_limited};

/// The UCI handwritten digits (see data/README.md for the attribution), compiled into the binary
/// so `digits` works without a download.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
const DIGITS_NAME: &str = "digits.csv.gz (embedded)";
/// The embedded CSV is about 0.5 MiB uncompressed; anything past this would be a broken build.
const DIGITS_CSV_MAX: u64 = 8 << 20;

/// Side of a digits image, and the largest pixel value in the CSV.
const DIGITS_SIDE: usize = 8;
const DIGITS_MAX: f32 = 16.0;

/// Images of one size, all in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    pub width: usize,
    pub height: usize,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// `len() x dim()` values in [-1, 1]; each image row-major, RGB interleaved (HWC).
    pub pixels: Vec<f32>,
    /// Where the images came from (a file or folder name), for messages and run records.
    pub source: String,
}

impl ImageSet {
    /// Values per image: `width * height * channels`.
    pub fn dim(&self) -> usize {
        self.width * self.height * self.channels
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        match self.dim() {
            0 => 0,
            d => self.pixels.len() / d,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image `i`'s `dim()` values.
    pub fn image(&self, i: usize) -> &[f32] {
        assert!(
            i < self.len(),
            "image {i} out of range: {} has {} images",
            self.source,
            self.len()
        );
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }
}

impl ImageSet {
    /// Every image resized to `side x side` (Lanczos3, as image folders are; values clamped to
    /// [-1, 1]); refused before allocating when the result would exceed `max_bytes` as f32.
    pub fn resized(self, side: u32, max_bytes: u64) -> Result<ImageSet> {
        use image::{imageops, ImageBuffer, Luma, Rgb};
        let s = side as usize;
        if (s, s) == (self.width, self.height) {
            return Ok(self);
        }
        let bytes = (self.len() as u64)
            .saturating_mul((s * s * self.channels) as u64)
            .saturating_mul(4);
        ensure!(
            bytes <= max_bytes,
            "{}: {} images resized to {side}x{side} take {} as f32 values, more than the {} \
             limit for a data set",
            self.source,
            self.len(),
            format_bytes(bytes),
            format_bytes(max_bytes)
        );
        let (w, h) = (self.width as u32, self.height as u32);
        let filter = imageops::FilterType::Lanczos3;
        let mut pixels = Vec::with_capacity(self.len() * s * s * self.channels);
        for i in 0..self.len() {
            // The image crate's f32 pixels live in [0, 1] (it clamps to that range).
            let img: Vec<f32> = self.image(i).iter().map(|v| (v + 1.0) / 2.0).collect();
            let out: Vec<f32> = match self.channels {
                1 => {
                    let b = ImageBuffer::<Luma<f32>, _>::from_raw(w, h, img).expect("sized");
                    imageops::resize(&b, side, side, filter).into_raw()
                }
                3 => {
                    let b = ImageBuffer::<Rgb<f32>, _>::from_raw(w, h, img).expect("sized");
                    imageops::resize(&b, side, side, filter).into_raw()
                }
                c => anyhow::bail!("{}: cannot resize {c}-channel images", self.source),
            };
            pixels.extend(out.into_iter().map(|v| (2.0 * v - 1.0).clamp(-1.0, 1.0)));
        }
        Ok(ImageSet {
            width: s,
            height: s,
            pixels,
            ..self
        })
    }
}

/// Maps an 8-bit pixel to [-1, 1]: 0 -> -1, 255 -> 1.
pub(crate) fn scale_u8(v: u8) -> f32 {
    v as f32 / 255.0 * 2.0 - 1.0
}

/// `bytes` decompressed if they start with the gzip magic (1f 8b), else unchanged; `name` is
/// the file for the message. Decompression stops one byte past `max_bytes`: a stream that
/// expands beyond it is an error naming the limit, not a corrupt file.
pub(crate) fn gunzip_if_gzip(name: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    read_stream_limited(
        flate2::read::GzDecoder::new(bytes.as_slice()),
        name,
        "gzip data",
        max_bytes,
    )
}

/// The 1,797 embedded 8x8 digits, values v in 0..16 scaled to v/16*2-1.
pub fn digits() -> Result<ImageSet> {
    Ok(digits_labeled()?.0)
}

/// The embedded digits and their class labels (0..9).
pub fn digits_labeled() -> Result<(ImageSet, Vec<u32>)> {
    let bytes = gunzip_if_gzip(DIGITS_NAME, DIGITS_CSV_GZ.to_vec(), DIGITS_CSV_MAX)?;
    let text = String::from_utf8(bytes).with_context(|| format!("{DIGITS_NAME}: not UTF-8"))?;
    parse_digits_csv_labeled(DIGITS_NAME, &text)
}

/// Parses the digits CSV layout: per line 64 pixel values in 0..16 (row-major 8x8), then an
/// integer class label, which is checked but not kept. Blank lines are skipped. `name` names the
/// file in error messages, which also give the 1-based line number.
pub fn parse_digits_csv(name: &str, text: &str) -> Result<ImageSet> {
    Ok(parse_digits_csv_labeled(name, text)?.0)
}

/// [`parse_digits_csv`] keeping each image's label.
pub fn parse_digits_csv_labeled(name: &str, text: &str) -> Result<(ImageSet, Vec<u32>)> {
    let columns = DIGITS_SIDE * DIGITS_SIDE + 1;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("{name} line {}", i + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        ensure!(
            fields.len() == columns,
            "{}: expected {columns} comma-separated values (64 pixels then the label), found {}",
            at(),
            fields.len()
        );
        for (c, field) in fields[..columns - 1].iter().enumerate() {
            match field.parse::<f32>() {
                Ok(v) if (0.0..=DIGITS_MAX).contains(&v) => pixels.push(v / DIGITS_MAX * 2.0 - 1.0),
                // NaN fails `contains`, so it lands here with the out-of-range values.
                Ok(_) => bail!(
                    "{}, column {}: pixel {field:?} is not a number in 0..16",
                    at(),
                    c + 1
                ),
                Err(_) => bail!("{}, column {}: {field:?} is not a number", at(), c + 1),
            }
        }
        let label = fields[columns - 1];
        match label.parse::<u32>() {
            Ok(l) => labels.push(l),
            Err(_) => bail!("{}: label {label:?} is not a non-negative integer", at()),
        }
    }
    ensure!(!pixels.is_empty(), "{name}: no images (the file is empty)");
    let set = ImageSet {
        width: DIGITS_SIDE,
        height: DIGITS_SIDE,
        channels: 1,
        pixels,
        source: name.to_string(),
    };
    Ok((set, labels))
}
