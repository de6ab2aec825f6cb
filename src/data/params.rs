//! The `key=value` parameters of a data set spec (`ring:n=8,radius=2`), each checked against the
//! keys its data set accepts and the ranges in `data`'s ceilings.

use anyhow::{bail, Result};

/// The `key=value` pairs of one spec, checked against the keys its data set accepts.
pub(super) struct Params<'a> {
    set: &'static str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Params<'a> {
    pub(super) fn parse(set: &'static str, rest: &'a str, accepted: &[&str]) -> Result<Self> {
        let keys = accepted.join(", ");
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                bail!("{set}: expected key=value, got {item:?}; accepted keys: {keys}");
            };
            let (key, value) = (key.trim(), value.trim());
            if !accepted.contains(&key) {
                bail!("{set}: unknown key {key:?}; accepted keys: {keys}");
            }
            if pairs.iter().any(|&(k, _)| k == key) {
                bail!("{set}: key {key:?} given twice");
            }
            pairs.push((key, value));
        }
        Ok(Self { set, pairs })
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|&&(k, _)| k == key).map(|&(_, v)| v)
    }

    pub(super) fn count(&self, key: &str, default: usize, max: usize) -> Result<usize> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.parse::<usize>() {
            Ok(n) if n > 0 && n <= max => Ok(n),
            _ => bail!(
                "{}: {key} must be a positive integer no larger than {max}, got {v:?}",
                self.set
            ),
        }
    }

    pub(super) fn number(&self, key: &str, v: &str) -> Result<f32> {
        match v.parse::<f32>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => bail!("{}: {key} must be a finite number, got {v:?}", self.set),
        }
    }

    pub(super) fn positive(&self, key: &str, default: f32, max: f32) -> Result<f32> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        let x = self.number(key, v)?;
        if x <= 0.0 || x > max {
            bail!(
                "{}: {key} must be positive and at most {max}, got {v:?}",
                self.set
            );
        }
        Ok(x)
    }

    pub(super) fn non_negative(&self, key: &str, default: f32, max: f32) -> Result<f32> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        let x = self.number(key, v)?;
        if !(0.0..=max).contains(&x) {
            bail!(
                "{}: {key} must be zero or positive and at most {max}, got {v:?}",
                self.set
            );
        }
        Ok(x)
    }

    /// Up to `max_len` numbers separated by `;`, each within `-max_abs..=max_abs`.
    pub(super) fn list(
        &self,
        key: &str,
        default: &[f32],
        max_len: usize,
        max_abs: f32,
    ) -> Result<Vec<f32>> {
        let Some(v) = self.get(key) else {
            return Ok(default.to_vec());
        };
        let items: Vec<&str> = v
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            bail!(
                "{}: {key} needs at least one number, separated by ';' (e.g. -2;2)",
                self.set
            );
        }
        if items.len() > max_len {
            bail!(
                "{}: {key} takes at most {max_len} numbers, got {}",
                self.set,
                items.len()
            );
        }
        items
            .iter()
            .map(|item| match self.number(key, item)? {
                x if x.abs() <= max_abs => Ok(x),
                _ => bail!(
                    "{}: each of {key} must be between -{max_abs} and {max_abs}, got {item:?}",
                    self.set
                ),
            })
            .collect()
    }
}
