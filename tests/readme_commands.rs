//! The guide cannot drift from the program: every `shadergan ...` command line written in a code
//! block of README.md or docs/*.md parses with the current command line (clap's
//! `try_parse_from`, which runs nothing), and every file the README links to or names exists.
//!
//! What counts as a command line, and how a written line becomes arguments:
//! - a line in a fenced code block that starts (after an optional `$ ` prompt and `VAR=value`
//!   assignments) with `shadergan ` or `cargo run --release -- `; a line ending in `\` continues
//!   on the next one;
//! - the command ends at a `#` comment or at a run of two or more spaces (the description column
//!   of the README's command table);
//! - words are split as a shell does, with single and double quotes;
//! - `[--flag VALUE]` is an optional part written out: its words are checked as if given;
//!   a bracketed word that is not a flag (`[flags]`) is a placeholder and dropped;
//! - `a|b|c` outside a quoted word lists alternatives: each is checked;
//! - a line with a bare `...` word stands for many commands and is not checked.
//! - a flag's value written as a name in capitals (`N`, `K`, `RUN_DIR`) is a placeholder and
//!   checked as `1`, which parses as a number or a path; other placeholders in values
//!   (`runs/digits-...`) parse as any value does.

use clap::Parser;
use shadergan::cli::Cli;
use std::path::{Path, PathBuf};

fn docs() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir("docs")
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    files.extend(more);
    files
}

/// (file, line number, the command as written) for every command line in a code block.
fn command_lines(path: &Path) -> Vec<(String, usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        if raw.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let (start, mut line) = match pending.take() {
            Some((start, acc)) => (start, format!("{acc} {}", raw.trim())),
            None => (i + 1, raw.trim().to_string()),
        };
        if line.ends_with('\\') {
            line.pop();
            pending = Some((start, line));
            continue;
        }
        if let Some(cmd) = command_of(&line) {
            out.push((path.display().to_string(), start, cmd));
        }
    }
    out
}

/// The command a code line holds, from `shadergan`'s arguments on, without comment or
/// description; None when the line is not a shadergan command.
fn command_of(line: &str) -> Option<String> {
    let mut rest = line.strip_prefix("$ ").unwrap_or(line).trim_start();
    // VAR=value assignments before the command.
    while let Some((word, after)) = rest.split_once(' ') {
        if word.contains('=') && word.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    let args = if let Some(a) = rest.strip_prefix("shadergan ") {
        a
    } else {
        rest.strip_prefix("cargo run --release -- ")?
    };
    let mut cmd = String::new();
    let mut quote = None;
    let mut prev_space = false;
    for c in args.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' => break,
            None if c == ' ' && prev_space => break,
            None => {}
        }
        prev_space = c == ' ' && quote.is_none();
        cmd.push(c);
    }
    Some(cmd.trim().to_string())
}

/// Shell-like words (single and double quotes), with whether each was quoted.
fn words(s: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut any) = (String::new(), false, false);
    let mut quote = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                quoted = true;
                any = true;
            }
            None if c.is_whitespace() => {
                if any {
                    out.push((std::mem::take(&mut cur), quoted));
                }
                (quoted, any) = (false, false);
            }
            None => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push((cur, quoted));
    }
    out
}

/// `N`, `K`, `RUN_DIR`: a value written as its name, which stands for a number or a path; `1`
/// parses as either.
fn is_placeholder(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_uppercase())
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The argument vectors a written command stands for (see the module's rules); empty for a
/// pattern with a bare `...`.
fn argvs(cmd: &str) -> Vec<Vec<String>> {
    let mut expanded: Vec<Vec<String>> = vec![vec!["shadergan".into()]];
    let mut in_optional = false;
    let mut optional_is_flag = false;
    for (word, quoted) in words(cmd) {
        if !quoted && word == "..." {
            return vec![];
        }
        let mut w = word.as_str();
        if !quoted && w.starts_with('[') {
            in_optional = true;
            w = &w[1..];
            optional_is_flag = w.starts_with('-');
        }
        let closes = in_optional && w.ends_with(']');
        if closes {
            w = &w[..w.len() - 1];
        }
        let keep = !in_optional || optional_is_flag;
        let follows_flag = expanded[0].last().is_some_and(|a| a.starts_with('-'));
        let w = if !quoted && follows_flag && is_placeholder(w) {
            "1"
        } else {
            w
        };
        if keep && !w.is_empty() {
            let alternatives: Vec<&str> = if quoted || !w.contains('|') {
                vec![w]
            } else {
                w.split('|').collect()
            };
            expanded = expanded
                .into_iter()
                .flat_map(|argv| {
                    alternatives.iter().map(move |alt| {
                        let mut a = argv.clone();
                        a.push(alt.to_string());
                        a
                    })
                })
                .collect();
        }
        if closes {
            in_optional = false;
        }
    }
    expanded
}

#[test]
fn every_command_in_the_guide_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in docs() {
        for (path, line, cmd) in command_lines(&file) {
            for argv in argvs(&cmd) {
                checked += 1;
                if let Err(e) = Cli::try_parse_from(&argv) {
                    let first = e.to_string().lines().next().unwrap_or("").to_string();
                    failures.push(format!("{path}:{line}: `{}`: {first}", argv.join(" ")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "command lines in the guide that the command line rejects:\n{}",
        failures.join("\n")
    );
    eprintln!("{checked} command lines parsed");
    // The README alone holds about 40; far fewer means the extraction broke.
    assert!(checked >= 30, "only {checked} command lines found");
}

#[test]
fn the_rules_reject_what_they_should() {
    // An unknown flag, a missing subcommand and a wrong value are all caught.
    for bad in ["train --no-such-flag", "bench", "train --arch unet"] {
        for argv in argvs(bad) {
            assert!(Cli::try_parse_from(&argv).is_err(), "{bad} parsed");
        }
    }
    assert_eq!(
        argvs("theory optimal-d|k").len(),
        2,
        "alternatives are each checked"
    );
    assert_eq!(
        argvs("sample --checkpoint P [--grid PNG] [flags]")[0],
        ["shadergan", "sample", "--checkpoint", "1", "--grid", "1"]
    );
    assert!(argvs("bench ... --json").is_empty());
    assert_eq!(
        command_of("$ SHADERGAN_MATMUL=tiled shadergan bench train --quick     (before: T)"),
        Some("bench train --quick".into())
    );
    assert_eq!(
        command_of("cargo run --release -- train   # pictures in runs/"),
        Some("train".into())
    );
    assert_eq!(
        command_of("shadergan bench quality --dataset 'a;b'  # two sets"),
        Some("bench quality --dataset 'a;b'".into())
    );
}

/// Relative links `](path)` and backticked repository paths (`src/...`, `docs/...`, ...) in the
/// README name files that exist (globs and placeholders aside).
#[test]
fn files_the_readme_names_exist() {
    let text = std::fs::read_to_string("README.md").unwrap();
    let mut named: Vec<String> = Vec::new();
    for part in text.split("](").skip(1) {
        if let Some(end) = part.find(')') {
            let target = &part[..end];
            if !target.contains("://") && !target.starts_with('#') {
                named.push(target.to_string());
            }
        }
    }
    for (i, part) in text.split('`').enumerate() {
        let roots = [
            "src/", "shaders/", "tests/", "docs/", "benches/", "data/", ".ci/",
        ];
        if i % 2 == 1
            && roots.iter().any(|r| part.starts_with(r))
            && !part.contains(['*', ' ', '<'])
            && !part.contains("...")
        {
            named.push(part.to_string());
        }
    }
    assert!(named.len() >= 20, "only {} paths found", named.len());
    let missing: Vec<&String> = named.iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "README names missing files: {missing:?}"
    );
}
