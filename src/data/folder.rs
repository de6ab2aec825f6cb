//! A folder of PNG/JPEG files as an image data set, or a folder of class folders (one subfolder
//! of PNG/JPEG files per class, as torchvision's ImageFolder reads them) as a labelled one.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};

use super::images::{scale_u8, ImageSet};
use super::limit::{format_bytes, read_limited};

const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];
/// Files an image folder may hold (listing them is the one cost not bounded by the byte limit).
const MAX_FILES: usize = 1 << 20;
/// Class folders a labelled folder may hold (the classes of a conditional run).
pub const MAX_CLASSES: usize = 1000;

/// Loads every `*.png`, `*.jpg` and `*.jpeg` file directly in `dir` (extension case-insensitive),
/// in file-name order so runs are reproducible; a folder with no such file but subfolders that
/// hold them is a labelled set, read as [`load_folder_labeled`] does, labels dropped.
///
/// Each image becomes grayscale (`channels` 1, Rec. 709 luma) or RGB (`channels` 3); alpha is
/// dropped. With `image_size` every image is resized to `image_size x image_size` (aspect ratio
/// not kept; Lanczos3, which filters properly when shrinking); without it all images must have
/// the size of the first. Pixels are scaled as v/255*2-1.
///
/// `max_bytes` (the device's largest storage buffer) bounds the memory taken: the whole set as
/// f32 values must fit it, checked from the file count and the target size before decoding; each
/// file must be no larger; and each image's size is read from its header and must decode (as
/// 8-bit RGBA, 4 bytes a pixel) within it before any pixel is decoded.
pub fn load_folder(
    dir: &Path,
    image_size: Option<u32>,
    channels: u32,
    max_bytes: u64,
) -> Result<ImageSet> {
    Ok(load_folder_labeled(dir, image_size, channels, max_bytes)?.0)
}

/// [`load_folder`], and for a folder of class folders each image's class: the subfolders
/// (those not starting with `.`) sorted by name are classes 0, 1, ..., each image in its own
/// folder's file-name order (torchvision's ImageFolder labels them the same way). The labels are
/// `None` for a folder that holds images directly.
pub fn load_folder_labeled(
    dir: &Path,
    image_size: Option<u32>,
    channels: u32,
    max_bytes: u64,
) -> Result<(ImageSet, Option<Vec<u32>>)> {
    ensure!(
        channels == 1 || channels == 3,
        "channels must be 1 (grayscale) or 3 (RGB), got {channels}"
    );
    ensure!(
        image_size != Some(0),
        "image size must be at least 1 pixel, got 0"
    );
    let (files, labels) = match image_files(dir)? {
        files if !files.is_empty() => (files, None),
        _ => {
            let (files, labels) = class_files(dir)?;
            (files, Some(labels))
        }
    };
    // The whole set as f32, from the number of files and one image's size.
    let fits = |w: u32, h: u32| -> Result<()> {
        let bytes = files.len() as u128 * w as u128 * h as u128 * channels as u128 * 4;
        if bytes > max_bytes as u128 {
            bail!(
                "{}: {} images of {w}x{h}x{channels} = {} as f32 values, more than the {} limit \
                 for a data set (one storage buffer on this device); use fewer images or a \
                 smaller --image-size",
                dir.display(),
                files.len(),
                format_bytes(bytes.min(u64::MAX as u128) as u64),
                format_bytes(max_bytes)
            );
        }
        Ok(())
    };
    if let Some(s) = image_size {
        fits(s, s)?;
    }
    let mut size: Option<(u32, u32, &Path)> = image_size.map(|s| (s, s, dir));
    let mut pixels = Vec::new();
    for file in &files {
        let name = file.display();
        let img = decode_bounded(file, max_bytes)?;
        let (w, h) = (img.width(), img.height());
        if size.is_none() {
            fits(w, h)?;
        }
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
            drop(img);
            if (w, h) != (tw, th) {
                buf = imageops::resize(&buf, tw, th, FilterType::Lanczos3);
            }
            pixels.extend(buf.into_raw().into_iter().map(scale_u8));
        } else {
            let mut buf = img.to_rgb8();
            drop(img);
            if (w, h) != (tw, th) {
                buf = imageops::resize(&buf, tw, th, FilterType::Lanczos3);
            }
            pixels.extend(buf.into_raw().into_iter().map(scale_u8));
        }
    }
    let (width, height, _) = size.expect("at least one file, or an error above");
    let set = ImageSet {
        width: width as usize,
        height: height as usize,
        channels: channels as usize,
        pixels,
        source: dir.display().to_string(),
    };
    Ok((set, labels))
}

/// Decodes `file` if it, its declared size (from the header, read first) and the decoder's
/// allocations stay within `max_bytes`.
fn decode_bounded(file: &Path, max_bytes: u64) -> Result<DynamicImage> {
    let name = file.display();
    let bytes = read_limited(file, "image", max_bytes)?;
    // The decoder may allocate at most the limit; the size it declares is checked first.
    let reader = |limits: Limits| -> Result<ImageReader<Cursor<&[u8]>>> {
        let mut r = ImageReader::new(Cursor::new(bytes.as_slice()));
        if let Ok(format) = ImageFormat::from_path(file) {
            r.set_format(format);
        }
        let mut r = r
            .with_guessed_format()
            .with_context(|| format!("cannot read image {name}"))?;
        r.limits(limits);
        Ok(r)
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_bytes);
    let corrupt = || format!("cannot decode image {name} (corrupt or not a PNG/JPEG?)");
    let (w, h) = reader(limits.clone())?
        .into_dimensions()
        .with_context(corrupt)?;
    let decoded = w as u64 * h as u64 * 4;
    if decoded > max_bytes {
        bail!(
            "image {name} is {w}x{h} pixels: {} to decode as 8-bit RGBA, more than the {} limit \
             (one storage buffer on this device); shrink the image file",
            format_bytes(decoded),
            format_bytes(max_bytes)
        );
    }
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    let r = reader(limits)?;
    match r.decode() {
        Ok(img) => Ok(img),
        Err(ImageError::Limits(e)) => bail!(
            "image {name} ({w}x{h}) needs more memory to decode than the {} limit ({e}); shrink \
             the image file or save it with 8 bits per channel",
            format_bytes(max_bytes)
        ),
        Err(e) => Err(anyhow::Error::new(e).context(corrupt())),
    }
}

/// The PNG/JPEG files directly in `dir`, sorted by name (possibly none).
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
            ensure!(
                files.len() < MAX_FILES,
                "{shown} holds more than {MAX_FILES} PNG/JPEG files, the most an image folder may \
                 have; use a subset"
            );
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The files of a folder of class folders and each one's class (the subfolders sorted by name);
/// an error if there are no subfolders, or one holds no PNG/JPEG file.
fn class_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<u32>)> {
    let shown = dir.display();
    let mut classes = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list folder {shown}"))? {
        let path = entry
            .with_context(|| format!("cannot list folder {shown}"))?
            .path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_dir() && !hidden {
            classes.push(path);
        }
    }
    ensure!(
        !classes.is_empty(),
        "no PNG or JPEG files in {shown} (looked for *.png, *.jpg, *.jpeg), and no class \
         subfolders holding them"
    );
    ensure!(
        classes.len() <= MAX_CLASSES,
        "{shown} has {} class folders; at most {MAX_CLASSES} are accepted",
        classes.len()
    );
    classes.sort();
    let (mut files, mut labels) = (Vec::new(), Vec::new());
    for (k, class) in classes.iter().enumerate() {
        let in_class = image_files(class)?;
        ensure!(
            !in_class.is_empty(),
            "class folder {} holds no PNG or JPEG files (each subfolder of {shown} is a class; \
             remove it or add its images)",
            class.display()
        );
        ensure!(
            files.len() + in_class.len() <= MAX_FILES,
            "{shown} holds more than {MAX_FILES} PNG/JPEG files, the most an image folder may \
             have; use a subset"
        );
        labels.extend(std::iter::repeat_n(k as u32, in_class.len()));
        files.extend(in_class);
    }
    Ok((files, labels))
}
