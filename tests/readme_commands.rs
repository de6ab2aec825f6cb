//! The README and docs/*.md stay true to the program: every `shadergan ...` command line written
//! in their code blocks parses with the current command line (clap's `try_parse_from`, nothing
//! runs), and every relative link and repository path they name exists. No GPU needed.
//!
//! Which lines count: inside fenced code blocks (```), after joining lines that end in `\`,
//! dropping a leading `$ ` prompt, a trailing `# comment` and leading `NAME=value` environment
//! assignments, a line whose first word is `shadergan` (or ends in `/shadergan`) or that starts
//! with `cargo run --release --` (replaced by `shadergan`). Output lines in those blocks start
//! with other words and are not read.
//!
//! Placeholders: a word `...` is dropped (it stands for "more flags"); `[` and `]` around words
//! are removed (an optional part is checked as if given). Any other placeholder must be
//! something the parser accepts: write real numbers where a flag takes a number, and names such
//! as `RUN_DIR` only where it takes a path or text.

use clap::Parser;
use shadergan::cli::Cli;
use std::path::{Path, PathBuf};

/// The README and docs hold about 50 command lines; fewer than this means the scan broke.
const MIN_COMMAND_LINES: usize = 30;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, then docs/*.md in name order.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, repo().join("README.md"));
    docs
}

/// The lines inside fenced code blocks, with `\` continuations joined, each with its 1-based
/// line number.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        joined.push_str(line);
        if let Some(stripped) = joined.strip_suffix('\\') {
            pending = Some((start, format!("{stripped} ")));
        } else {
            out.push((start, joined));
        }
    }
    out.extend(pending);
    out
}

/// Splits a line into words as a POSIX shell would for plain words and '...' or "..." quotes,
/// stopping at an unquoted `#` that starts a word.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None if c == '#' && !in_word => break,
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{line}`"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The arguments of a `shadergan` command line (program name first), or None for other lines.
fn shadergan_args(line: &str) -> Result<Option<Vec<String>>, String> {
    let line = line.trim_start();
    let line = line.strip_prefix("$ ").unwrap_or(line);
    // Only a line that starts (after environment assignments) as a command is split as shell
    // words, so prose and output in code blocks may hold lone quotes.
    let mut plain = line
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'));
    let first = plain.next().unwrap_or("");
    if !(first == "shadergan" || first.ends_with("/shadergan") || first == "cargo") {
        return Ok(None);
    }
    let mut words = shell_words(line)?;
    let env_assignments = words
        .iter()
        .take_while(|w| w.contains('=') && !w.starts_with('-'))
        .count();
    words.drain(..env_assignments);
    let rest = if words
        .first()
        .is_some_and(|w| w == "shadergan" || w.ends_with("/shadergan"))
    {
        words.split_off(1)
    } else if words.len() >= 4 && words[..4] == ["cargo", "run", "--release", "--"] {
        words.split_off(4)
    } else {
        return Ok(None);
    };
    let mut args = vec!["shadergan".to_string()];
    for w in rest {
        let w = w.trim_start_matches('[').trim_end_matches(']');
        if w != "..." && !w.is_empty() {
            args.push(w.to_string());
        }
    }
    Ok(Some(args))
}

/// Every command line of every document: (file, line number, arguments).
fn command_lines() -> Vec<(PathBuf, usize, Vec<String>)> {
    let mut found = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("document reads");
        for (line_no, line) in code_lines(&text) {
            match shadergan_args(&line) {
                Ok(Some(args)) => found.push((doc.clone(), line_no, args)),
                Ok(None) => {}
                Err(e) => panic!("{}:{line_no}: {e}", doc.display()),
            }
        }
    }
    found
}

#[test]
fn every_documented_command_line_parses() {
    let lines = command_lines();
    let mut failures = Vec::new();
    for (doc, line_no, args) in &lines {
        if let Err(e) = Cli::try_parse_from(args) {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            failures.push(format!(
                "{}:{line_no}: `{}`: {first}",
                doc.display(),
                args.join(" ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documented command lines do not parse:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
    assert!(
        lines.len() >= MIN_COMMAND_LINES,
        "found only {} command lines (at least {MIN_COMMAND_LINES} expected): the scan is broken",
        lines.len()
    );
    let readme = lines
        .iter()
        .filter(|(d, ..)| d.ends_with("README.md"))
        .count();
    assert!(readme >= 20, "only {readme} command lines in README.md");
}

/// The scan itself: a bad flag fails, continuations, prompts, comments and environment
/// assignments are handled, and other lines are not commands.
#[test]
fn the_scan_reads_what_the_rules_say() {
    let args = |l: &str| shadergan_args(l).unwrap();
    assert_eq!(
        args("$ SHADERGAN_MATMUL=tiled shadergan bench peak   # note").unwrap(),
        ["shadergan", "bench", "peak"]
    );
    assert_eq!(
        args("cargo run --release -- train --seed 3").unwrap(),
        ["shadergan", "train", "--seed", "3"]
    );
    assert_eq!(
        args("shadergan bench quality [--seeds 2] ... --dataset 'ring;grid'").unwrap(),
        [
            "shadergan",
            "bench",
            "quality",
            "--seeds",
            "2",
            "--dataset",
            "ring;grid"
        ]
    );
    assert!(args("cargo test --release").is_none());
    assert!(args("ring   shadergan: G   8.0 / 8").is_none());
    let joined = code_lines("```sh\nshadergan train \\\n  --seed 3\n```\nshadergan nope\n");
    assert_eq!(joined, [(2, "shadergan train    --seed 3".to_string())]);
    let bad = args("shadergan train --no-such-flag 1").unwrap();
    assert!(
        Cli::try_parse_from(bad).is_err(),
        "an unknown flag must fail"
    );
    let bad_value = args("shadergan train --iterations many").unwrap();
    assert!(
        Cli::try_parse_from(bad_value).is_err(),
        "a bad number must fail"
    );
}

/// A word that names a file or folder of this repository: it starts with one of its top-level
/// folders and holds no placeholder.
fn repository_path(word: &str) -> Option<&str> {
    const ROOTS: &[&str] = &[
        "shaders/",
        "src/",
        "tests/",
        "docs/",
        "benches/",
        "data/",
        ".ci/",
        "examples/",
    ];
    let path = word
        .split("::")
        .next()?
        .trim_end_matches([',', '.', ':', ';', ')']);
    let placeholder = ["*", "<", "...", "X."].iter().any(|p| path.contains(p));
    (ROOTS.iter().any(|r| path.starts_with(r)) && !placeholder).then_some(path)
}

/// A document's fenced code lines, and the rest of its text with those blocks removed.
fn split_code_blocks(text: &str) -> (Vec<&str>, String) {
    let (mut blocks, mut prose, mut in_block) = (Vec::new(), String::new(), false);
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            blocks.push(line);
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    (blocks, prose)
}

#[test]
fn every_documented_path_and_link_exists() {
    let mut checked = 0;
    let mut missing = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("document reads");
        let dir = doc.parent().expect("a folder");
        // Relative Markdown links and pictures, `](target)`, resolve from the document's folder.
        for piece in text.split("](").skip(1) {
            let target = piece.split(')').next().unwrap_or("");
            let target = target.split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") {
                continue;
            }
            checked += 1;
            if !dir.join(target).exists() {
                missing.push(format!("{}: link {target}", doc.display()));
            }
        }
        // Repository paths resolve from the repository root: words in code blocks, and words
        // inside `backticks` in the prose around them.
        let (blocks, prose) = split_code_blocks(&text);
        let block_words = blocks.iter().flat_map(|l| l.split_whitespace());
        let prose_words = prose
            .split('`')
            .skip(1)
            .step_by(2)
            .flat_map(str::split_whitespace);
        for word in block_words.chain(prose_words) {
            let Some(path) = repository_path(word) else {
                continue;
            };
            checked += 1;
            if !repo().join(path).exists() {
                missing.push(format!("{}: path {path}", doc.display()));
            }
        }
    }
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
    assert!(
        checked >= 40,
        "only {checked} links and paths found: the scan is broken"
    );
    assert!(Path::new(&repo().join("README.md")).exists());
}
