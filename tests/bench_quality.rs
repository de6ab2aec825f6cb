//! `shadergan bench quality --quick`: the table has two rows per mixture (G's samples, and those
//! discriminator rejection sampling keeps) and the published reference rows, and `--json` the same numbers; a few hundred iterations, so it checks that the
//! command runs, not the quality (that is tests/modes.rs and the README's table).
mod common;
use common::*;

#[test]
fn bench_quality_quick_prints_one_row_per_mixture_and_the_published_rows() {
    let out = shadergan(&["bench", "quality", "--quick"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench quality --quick failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("quality on "), "{stdout}");
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(header[..2], ["data", "method"], "{stdout}");
    let ours: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("shadergan: G"))
        .collect();
    assert_eq!(
        ours.len(),
        4,
        "rows for ring and grid, G alone and with DRS:\n{stdout}"
    );
    let want = [("ring", "8"), ("ring", "8"), ("grid", "25"), ("grid", "25")];
    for (k, (row, (ds, total))) in ours.iter().zip(want).enumerate() {
        let f: Vec<&str> = row.split_whitespace().collect();
        // data, method..., mean, "/", total, min, HQ mean, HQ min, kept%, wall s, it/s
        let n = f.len();
        assert_eq!((f[0], f[n - 8], f[n - 7]), (ds, "/", total), "{row}");
        let drs = k % 2 == 1;
        assert_eq!(row.contains("G + DRS p10"), drs, "{row}");
        // mean, min, HQ mean, HQ min, (kept%), wall s, it/s
        let mut cols = vec![n - 9, n - 6, n - 5, n - 4, n - 2, n - 1];
        if drs {
            cols.push(n - 3);
        } else {
            assert_eq!(f[n - 3], "-", "{row}");
        }
        let nums: Vec<f64> = cols
            .iter()
            .map(|&i| {
                f[i].parse()
                    .unwrap_or_else(|_| panic!("{row}: {} is no number", f[i]))
            })
            .collect();
        assert!(
            nums.iter().all(|&x| x >= 0.0) && f[n - 2].parse::<f64>().unwrap() > 0.0,
            "{row}"
        );
    }
    assert!(stdout.contains("PacGAN4 (Lin et al. 2018)"), "{stdout}");
    assert!(stdout.contains("PacGAN2 (Lin et al. 2018)"), "{stdout}");
}

#[test]
fn bench_quality_quick_json_has_both_mixtures() {
    let out = shadergan(&["bench", "quality", "--quick", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bench quality --json is not JSON ({e}):\n{stdout}"));
    assert_eq!(v["bench"], "quality");
    assert_eq!(v["results"]["seeds"], 1);
    let ds = v["results"]["datasets"].as_array().expect("datasets");
    let names: Vec<&str> = ds.iter().map(|d| d["dataset"].as_str().unwrap()).collect();
    assert_eq!(names, ["ring", "grid"]);
    for d in ds {
        assert_eq!(d["runs"].as_array().map(|r| r.len()), Some(1));
        assert!(d["config"].as_str().unwrap().contains("iterations = 200"));
    }
    assert_eq!(
        v["results"]["published"].as_array().map(|p| p.len()),
        Some(2)
    );
}

/// `--dataset` picks the mixtures (';' between specs, which hold commas), each with its own
/// defaults; a variation is printed under its full spec, without published rows (they are for
/// the default ring and grid), and image data sets are refused.
#[test]
fn bench_quality_dataset_picks_a_variation() {
    let out = shadergan(&[
        "bench",
        "quality",
        "--quick",
        "--dataset",
        "ring:n=4,radius=1,std=0.05",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ring:n=4,radius=1,std=0.05:"), "{stdout}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("shadergan: G"))
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "G, and G + DRS with the ring's recipe: {stdout}"
    );
    assert!(
        rows.iter().all(|r| r.contains(" / 4 ")),
        "four modes: {stdout}"
    );
    assert!(!stdout.contains("PacGAN"), "{stdout}");
    let out = shadergan(&["bench", "quality", "--quick", "--dataset", "digits"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("image data set"));
}

/// `bench quality --stacked --quick`: only the image row (a 200-iteration stacked-digits run,
/// 26,000 samples as in the published protocol), its modes of 1,000 and KL to uniform in the
/// JSON; a set that is not stacked is refused before anything trains.
#[test]
fn bench_quality_stacked_prints_the_image_row_and_pacgans_rows() {
    let out = shadergan(&["bench", "quality", "--stacked", "--quick", "--json"]);
    assert!(
        out.status.success(),
        "bench quality --stacked --quick --json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &v["results"]["stacked"][0];
    assert_eq!(row["dataset"], "stacked-digits", "{v}");
    assert_eq!(
        (row["modes_total"].as_u64(), row["samples"].as_u64()),
        (Some(1000), Some(26000))
    );
    let modes = row["modes"].as_u64().unwrap();
    // 200 iterations already reach a few hundred modes (253 measured); a collapsed G gets few.
    assert!((50..=1000).contains(&modes), "{modes} modes");
    assert!(row["kl_to_uniform"].as_f64().unwrap() > 0.0, "{v}");
    // The same classifier on 26,000 real stacked digits: nearly every mode, KL near the
    // sampling floor of 1,000 modes in 26,000 draws (about 999 / (2 * 26,000) = 0.02).
    assert!(row["real_modes"].as_u64().unwrap() >= 990, "{v}");
    let real_kl = row["real_kl_to_uniform"].as_f64().unwrap();
    assert!(real_kl > 0.0 && real_kl < 0.1, "{v}");
    assert!(
        v["results"]["datasets"].is_null(),
        "no mixtures without --dataset: {v}"
    );

    let out = shadergan(&["bench", "quality", "--stacked", "ring", "--quick"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("takes a stacked set"),
        "{stderr}"
    );
}
