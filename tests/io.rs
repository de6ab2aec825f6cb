//! File writing (src/io.rs): an atomic write leaves the old file or the new one and nothing
//! beside it, and the temporary files of killed writers are swept.

mod common;
use common::tmp_dir;

#[test]
fn atomic_write_leaves_nothing_behind_on_error() {
    let dir = tmp_dir("atomic");
    let path = dir.join("nested/deeper/file.txt");
    shadergan::io::atomic_write(&path, |w| Ok(w.write_all(b"first")?)).unwrap();
    let err = shadergan::io::atomic_write(&path, |w| {
        w.write_all(b"half")?;
        anyhow::bail!("simulated crash")
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("file.txt"), "{err:#}");
    assert_eq!(std::fs::read(&path).unwrap(), b"first", "old contents kept");
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left");
}

#[test]
fn stale_temporary_files_are_swept_and_nothing_else() {
    let dir = tmp_dir("sweep");
    std::fs::create_dir_all(&*dir).unwrap();
    let stale = [".metrics.csv.tmp", ".checkpoint.safetensors.tmp4242"];
    let kept = ["metrics.csv", ".hidden", "notes.tmp", ".x.tmpl", "a.tmp1"];
    for f in stale.iter().chain(&kept) {
        std::fs::write(dir.join(f), "x").unwrap();
    }
    assert_eq!(
        shadergan::io::remove_stale_temps(&dir).unwrap(),
        stale.len()
    );
    for f in stale {
        assert!(!dir.join(f).exists(), "{f} was not swept");
    }
    for f in kept {
        assert!(dir.join(f).exists(), "{f} was swept");
    }
    // A folder that does not exist has nothing to sweep.
    assert_eq!(
        shadergan::io::remove_stale_temps(&dir.join("none")).unwrap(),
        0
    );
}
