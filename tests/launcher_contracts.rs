//! The contract between each launcher and its shader, checked without a GPU: the Rust `Params`
//! every launcher uploads has the size and field offsets of the WGSL `Params` its family reads
//! (naga's reflection of the shader gives the WGSL side). A field added, removed or reordered on
//! one side only fails here, not as silently wrong numbers on the device.
use shadergan::kernels::{
    full_source, shader, validate_wgsl, ParamsLayout, PARAMS_LAYOUTS, SHADERS,
};

/// The uniform struct at binding 0 of `family`: (size, [(name, offset)]).
fn wgsl_params(family: &str) -> (usize, Vec<(String, usize)>) {
    let (module, _) = validate_wgsl(family, &full_source(shader(family))).unwrap();
    let (_, var) = module
        .global_variables
        .iter()
        .find(|(_, g)| g.space == naga::AddressSpace::Uniform)
        .unwrap_or_else(|| panic!("{family} declares no uniform"));
    assert_eq!(
        var.binding.as_ref().map(|b| (b.group, b.binding)),
        Some((0, 0)),
        "{family}: the uniform must be at group 0, binding 0"
    );
    match &module.types[var.ty].inner {
        naga::TypeInner::Struct { members, span } => (
            *span as usize,
            members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize))
                .collect(),
        ),
        other => panic!("{family}: the uniform is not a struct: {other:?}"),
    }
}

fn named(fields: impl IntoIterator<Item = (String, usize)>) -> Vec<(String, usize)> {
    fields
        .into_iter()
        .filter(|(n, _)| !n.starts_with('_'))
        .collect()
}

#[test]
fn every_family_has_one_params_layout() {
    let mut families: Vec<&str> = PARAMS_LAYOUTS.iter().map(|l| l.family).collect();
    families.sort_unstable();
    let mut shaders: Vec<&str> = SHADERS.iter().map(|(n, _)| *n).collect();
    shaders.sort_unstable();
    assert_eq!(
        families, shaders,
        "kernels::PARAMS_LAYOUTS must list every family once"
    );
}

#[test]
fn rust_params_match_the_wgsl_params_field_for_field() {
    for ParamsLayout {
        family,
        size,
        fields,
    } in PARAMS_LAYOUTS
    {
        let (wgsl_size, wgsl_fields) = wgsl_params(family);
        assert_eq!(
            *size, wgsl_size,
            "{family}: Rust Params is {size} bytes, WGSL Params {wgsl_size}"
        );
        assert_eq!(
            size % 16,
            0,
            "{family}: a uniform's size must be a multiple of 16"
        );
        let rust = named(fields.iter().map(|(n, o)| (n.to_string(), *o)));
        assert_eq!(
            rust,
            named(wgsl_fields),
            "{family}: (field, byte offset) differ between the Rust and WGSL Params"
        );
    }
}

/// The check above can fail: a layout with one field out of place is caught.
#[test]
fn a_misplaced_field_is_caught() {
    let layout = PARAMS_LAYOUTS
        .iter()
        .find(|l| l.family == "matmul.wgsl")
        .unwrap();
    let (_, wgsl_fields) = wgsl_params("matmul.wgsl");
    let mut swapped: Vec<(String, usize)> =
        named(layout.fields.iter().map(|(n, o)| (n.to_string(), *o)));
    swapped.swap(0, 1);
    assert_ne!(swapped, named(wgsl_fields));
}
