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
