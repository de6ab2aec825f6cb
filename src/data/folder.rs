//! A folder of PNG/JPEG files as an image data set.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use image::imageops::{self, FilterType};

use super::images::{scale_u8, ImageSet};

const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Loads every `*.png`, `*.jpg` and `*.jpeg` file directly in `dir` (extension case-insensitive,
/// subfolders not searched), in file-name order so runs are reproducible.
///
/// Each image becomes grayscale (`channels` 1, Rec. 709 luma) or RGB (`channels` 3); alpha is
/// dropped. With `image_size` every image is resized to `image_size x image_size` (aspect ratio
/// not kept; Lanczos3, which filters properly when shrinking); without it all images must have
/// the size of the first. Pixels are scaled as v/255*2-1.
pub fn load_folder(dir: &Path, image_size: Option<u32>, channels: u32) -> Result<ImageSet> {
    ensure!(
        channels == 1 || channels == 3,
        "channels must be 1 (grayscale) or 3 (RGB), got {channels}"
    );
    ensure!(
        image_size != Some(0),
        "image size must be at least 1 pixel, got 0"
    );
    let files = image_files(dir)?;
    let mut size: Option<(u32, u32, &Path)> = image_size.map(|s| (s, s, dir));
    let mut pixels = Vec::new();
    for file in &files {
        let name = file.display();
        let img = image::ImageReader::open(file)
            .with_context(|| format!("cannot open image {name}"))?
            .with_guessed_format()
            .with_context(|| format!("cannot read image {name}"))?
            .decode()
            .with_context(|| format!("cannot decode image {name} (corrupt or not a PNG/JPEG?)"))?;
        let (w, h) = (img.width(), img.height());
        let (tw, th, first) = *size.get_or_insert((w, h, file));
        if image_size.is_none() && (w, h) != (tw, th) {
            bail!(
                "{name} is {w}x{h} but {} is {tw}x{th}; images of different sizes need \
                 --image-size N to resize them all to NxN",
                first.display()
            );
        }
        // Resize after converting, so grayscale sets filter one channel, not three.
        if channels == 1 {
            let mut buf = img.to_luma8();
            if (w, h) != (tw, th) {
                buf = imageops::resize(&buf, tw, th, FilterType::Lanczos3);
            }
            pixels.extend(buf.into_raw().into_iter().map(scale_u8));
        } else {
            let mut buf = img.to_rgb8();
            if (w, h) != (tw, th) {
                buf = imageops::resize(&buf, tw, th, FilterType::Lanczos3);
            }
            pixels.extend(buf.into_raw().into_iter().map(scale_u8));
        }
    }
    let (width, height, _) = size.expect("image_files returns at least one file");
    Ok(ImageSet {
        width: width as usize,
        height: height as usize,
        channels: channels as usize,
        pixels,
        source: dir.display().to_string(),
    })
}

/// The PNG/JPEG files directly in `dir`, sorted by name; an error if there are none.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let shown = dir.display();
    ensure!(dir.exists(), "image folder {shown} does not exist");
    ensure!(
        dir.is_dir(),
        "{shown} is not a folder (expected a folder of PNG/JPEG files)"
    );
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list folder {shown}"))? {
        let path = entry
            .with_context(|| format!("cannot list folder {shown}"))?
            .path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            files.push(path);
        }
    }
    ensure!(
        !files.is_empty(),
        "no PNG or JPEG files in {shown} (looked for *.png, *.jpg, *.jpeg; subfolders are not \
         searched)"
    );
    files.sort();
    Ok(files)
}
