//! Labelled image sets, what the evaluation classifier (`crate::classifier`) learns: the
//! embedded digits with their classes, IDX images with their labels file, and, for stacked sets,
//! the grayscale set whose digits they stack.

use super::{digits_labeled, load_idx, load_idx_labels, Dataset, ImageSet};
use anyhow::{bail, ensure, Result};

/// An image data set with a class per image, for the evaluation classifier.
pub struct LabeledImages {
    pub images: ImageSet,
    pub labels: Vec<u32>,
    /// 1 + the largest label.
    pub classes: usize,
}

impl Dataset {
    /// For stacked sets, the grayscale set whose digits they stack; `None` otherwise.
    pub fn stacked_base(&self) -> Option<Dataset> {
        match self {
            Self::StackedDigits { .. } => Some(Self::Digits),
            Self::StackedIdx { path, labels } => Some(Self::Idx {
                path: path.clone(),
                labels: labels.clone(),
            }),
            _ => None,
        }
    }

    /// The labelled grayscale set an evaluation classifier for this data set learns: itself for
    /// digits and idx with labels, the stacked digits' base for stacked sets.
    pub fn load_labeled(&self, max_bytes: u64) -> Result<LabeledImages> {
        if let Some(base) = self.stacked_base() {
            return base.load_labeled(max_bytes);
        }
        let (images, labels) = match self {
            Self::Digits => digits_labeled()?,
            Self::Idx {
                path,
                labels: Some(l),
            } => (load_idx(path, max_bytes)?, load_idx_labels(l)?),
            Self::Idx { path, labels: None } => bail!(
                "{} has no labels; pass its labels file too: idx:{},labels=LABELS (e.g. \
                 train-labels-idx1-ubyte.gz)",
                path.display(),
                path.display()
            ),
            _ => bail!(
                "{} has no class labels; a classifier needs digits, stacked-digits or \
                 idx:IMAGES,labels=LABELS",
                self.name()
            ),
        };
        ensure!(
            labels.len() == images.len(),
            "{}: {} labels for {} images",
            images.source,
            labels.len(),
            images.len()
        );
        let classes = labels.iter().max().map_or(0, |&m| m as usize + 1).max(2);
        Ok(LabeledImages {
            images,
            labels,
            classes,
        })
    }
}

impl Dataset {
    /// The images of a conditional run, as [`Self::load_images`] gives them, with each image's
    /// class: digits and `idx:IMAGES,labels=LABELS` with their labels, `images:DIR` with one
    /// subfolder per class (sorted names are classes 0, 1, ...). Any other set is an error that
    /// says which sets have labels.
    pub fn load_conditional(
        &self,
        image_size: Option<u32>,
        channels: u32,
        max_bytes: u64,
    ) -> Result<LabeledImages> {
        const WHICH: &str = "conditional runs need a class per image: digits, \
             idx:IMAGES,labels=LABELS, or images:DIR with one subfolder of images per class";
        let (images, labels) = match self {
            Self::Digits
            | Self::Idx {
                labels: Some(_), ..
            } => {
                let l = self.load_labeled(max_bytes)?;
                let images = match image_size {
                    Some(side) => l.images.resized(side, max_bytes)?,
                    None => l.images,
                };
                ensure!(
                    channels == 1,
                    "{} is grayscale: use 1 channel, not {channels}",
                    self.name()
                );
                (images, l.labels)
            }
            Self::Idx { path, labels: None } => bail!(
                "{} has no labels; pass its labels file too: idx:{},labels=LABELS ({WHICH})",
                path.display(),
                path.display()
            ),
            Self::Images { dir } => {
                match super::folder::load_folder_labeled(dir, image_size, channels, max_bytes)? {
                    (images, Some(labels)) => (images, labels),
                    (_, None) => bail!(
                        "{} holds its images directly, so they have no classes; {WHICH}",
                        dir.display()
                    ),
                }
            }
            Self::StackedDigits { .. } | Self::StackedIdx { .. } => bail!(
                "{} stacks three digits per image, one per channel, so an image has no single \
                 class; {WHICH}",
                self.name()
            ),
            _ => bail!("{} is not a labelled image set; {WHICH}", self.name()),
        };
        ensure!(
            labels.len() == images.len(),
            "{}: {} labels for {} images",
            images.source,
            labels.len(),
            images.len()
        );
        let classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
        ensure!(
            (2..=super::folder::MAX_CLASSES).contains(&classes),
            "{}: a conditional run needs between 2 and {} classes, found {classes}",
            images.source,
            super::folder::MAX_CLASSES
        );
        Ok(LabeledImages {
            images,
            labels,
            classes,
        })
    }
}
