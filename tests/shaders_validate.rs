//! Every shaders/*.wgsl parses and validates with naga (no GPU needed), is embedded in the binary,
//! and opens with its header comment.
use shadergan::kernels::{full_source, validate_wgsl, COMMON, SHADERS};
use std::fs;

#[test]
fn every_shader_file_validates_with_naga() {
    let mut files: Vec<String> = fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "expected the kernel families, found {files:?}"
    );
    validate_wgsl("common.wgsl", COMMON).unwrap();
    for f in &files {
        let path = format!("{}/shaders/{f}", env!("CARGO_MANIFEST_DIR"));
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("// {f}:")),
            "{f} must open with a header comment '// {f}: ...'"
        );
        if f == "common.wgsl" {
            continue;
        }
        let embedded = SHADERS
            .iter()
            .find(|(n, _)| n == f)
            .unwrap_or_else(|| panic!("{f} is not listed in kernels::SHADERS"));
        assert_eq!(embedded.1, text, "{f}: embedded copy differs from the file");
        let (module, _) = validate_wgsl(f, &full_source(&text)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !module.entry_points.is_empty(),
            "{f} has no compute entry point"
        );
    }
}

#[test]
fn broken_wgsl_is_rejected_with_the_file_name() {
    let err = validate_wgsl("bad.wgsl", "fn f() -> f32 { return 1u; }").unwrap_err();
    assert!(err.contains("bad.wgsl"), "{err}");
}
