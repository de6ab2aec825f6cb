//! Progress on stderr: a bar with rate, ETA and the latest losses on a terminal, one line per
//! logging interval otherwise (logs, CI).

use crate::gan::metrics::MetricsRow;
use std::io::IsTerminal;

pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub fn new(total: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} it  ETA {eta}  {msg}")
                .expect("valid template"),
        );
        Progress(Some(b))
    }

    pub fn update(&self, done: u64, m: &MetricsRow) {
        match &self.0 {
            Some(b) => {
                b.set_position(done);
                b.set_message(format!("{:.1} it/s  {}", m.iters_per_sec, m.summary()));
            }
            None => eprintln!(
                "iteration {:>7}  {}  ({:.1} it/s)",
                m.iteration,
                m.summary(),
                m.iters_per_sec
            ),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
