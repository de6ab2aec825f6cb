//! Pictures decode back with the sizes and colours they were drawn with. Set
//! SHADERGAN_VIZ_DEMO=/some/folder to keep every picture there for a look.
use shadergan::viz::{self, Heatmap};
use std::path::{Path, PathBuf};

/// A folder for one test's files; removed at the end unless the demo variable names one.
struct Out(PathBuf, bool);

impl Out {
    fn new(test: &str) -> Out {
        match std::env::var_os("SHADERGAN_VIZ_DEMO") {
            Some(d) => Out(PathBuf::from(d), true),
            None => {
                let d = std::env::temp_dir()
                    .join(format!("shadergan-viz-{test}-{}", std::process::id()));
                Out(d, false)
            }
        }
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn rgb(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8()
}

fn count(img: &image::RgbImage, c: image::Rgb<u8>) -> usize {
    img.pixels().filter(|p| **p == c).count()
}

/// Deterministic normal samples (LCG + Box-Muller): enough for pictures, no extra crate.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

#[test]
fn scatter_draws_points_heat_and_corners_in_their_colours() {
    let out = Out::new("scatter");
    let bounds = [-2.0, 2.0, -2.0, 2.0];
    let mut rng = Noise(1);
    let mut real: Vec<[f32; 2]> = (0..800)
        .map(|k| {
            let a = (k % 8) as f32 * std::f32::consts::TAU / 8.0;
            [
                1.2 * a.cos() + 0.06 * rng.normal(),
                1.2 * a.sin() + 0.06 * rng.normal(),
            ]
        })
        .collect();
    let mut fake: Vec<[f32; 2]> = (0..800)
        .map(|_| [0.5 * rng.normal() + 0.3, 0.5 * rng.normal()])
        .filter(|p| p[0] < 1.0 && p[1] > -1.0)
        .collect();
    let lone_real = [-1.7, 1.7];
    let lone_fake = [1.7, -1.7];
    real.push(lone_real);
    fake.push(lone_fake);
    let (nx, ny) = (60, 50);
    let pts = Heatmap::grid_points(nx, ny, bounds);
    assert_eq!(pts.len(), nx * ny);
    assert!(
        (pts[0][0] - (-2.0 + 2.0 / nx as f32)).abs() < 1e-6,
        "cell centres"
    );
    assert!(pts[nx][1] > pts[0][1], "rows run with y ascending");
    let values: Vec<f32> = pts
        .iter()
        .map(|p| 1.0 / (1.0 + (3.0 * (p[0] * p[0] + p[1] * p[1] - 1.44).abs() - 1.0).exp()))
        .collect();
    let heat = Heatmap {
        nx,
        ny,
        bounds,
        values,
    };
    let path = out.file("scatter.png");
    viz::scatter_2d(&path, &real, &fake, Some(&heat), "ring8  step 1200", bounds).unwrap();
    let img = rgb(&path);
    assert_eq!(img.dimensions(), (730, 574));

    let at = |p: [f32; 2]| {
        let (x, y) = viz::scatter_pixel(bounds, p).expect("inside the plot");
        *img.get_pixel(x, y)
    };
    assert_eq!(at(lone_real), viz::REAL, "real point");
    assert_eq!(at(lone_fake), viz::FAKE, "generated point");
    let v = &heat.values;
    assert_eq!(
        at([-2.0, 2.0]),
        viz::ramp(v[(ny - 1) * nx]),
        "top-left corner"
    );
    assert_eq!(
        at([2.0 - 1e-4, -2.0 + 1e-4]),
        viz::ramp(v[nx - 1]),
        "bottom-right corner"
    );
    assert_eq!(viz::scatter_pixel(bounds, [2.5, 0.0]), None);
    assert!(viz::ramp(0.0) != viz::ramp(1.0) && viz::ramp(0.0) != viz::REAL);

    // Without a heat map; and a heat map of the wrong size is an error naming the sizes.
    viz::scatter_2d(
        &out.file("scatter_plain.png"),
        &real,
        &fake,
        None,
        "no D",
        bounds,
    )
    .unwrap();
    let bad = Heatmap {
        nx: 3,
        ny: 3,
        bounds,
        values: vec![0.5; 8],
    };
    let err = viz::scatter_2d(&out.file("bad.png"), &real, &fake, Some(&bad), "", bounds);
    assert!(format!("{:#}", err.unwrap_err()).contains("8 values"));
    assert!(!out.file("bad.png").exists());
}

#[test]
fn density_1d_draws_both_densities_and_d() {
    let out = Out::new("density");
    let mut rng = Noise(2);
    let real: Vec<f32> = (0..5000).map(|_| 0.5 * rng.normal() - 1.0).collect();
    let fake: Vec<f32> = (0..5000).map(|_| 0.8 * rng.normal() + 0.7).collect();
    let curve: Vec<(f32, f32)> = (0..200)
        .map(|i| {
            let x = -4.0 + 8.0 * i as f32 / 199.0;
            (x, 1.0 / (1.0 + (2.0 * x).exp()))
        })
        .collect();
    let path = out.file("density.png");
    viz::density_1d(
        &path,
        &real,
        &fake,
        &curve,
        [-4.0, 4.0],
        "gauss1d  step 300",
    )
    .unwrap();
    let img = rgb(&path);
    assert_eq!(img.dimensions(), (874, 474));
    for c in [viz::REAL, viz::FAKE, viz::D_CURVE] {
        assert!(count(&img, c) > 100, "colour {c:?} drawn");
    }
    // Degenerate inputs draw empty axes rather than failing.
    viz::density_1d(
        &out.file("empty.png"),
        &[],
        &[f32::NAN],
        &[],
        [0.0, 1.0],
        "",
    )
    .unwrap();
    assert!(viz::density_1d(&out.file("x.png"), &[], &[], &[], [1.0, 1.0], "").is_err());
}

#[test]
fn loss_curves_survive_nan_inf_one_point_and_empty_series() {
    let out = Out::new("loss");
    let steps: Vec<u64> = (0..300).map(|i| i * 50).collect();
    let d: Vec<f32> = steps
        .iter()
        .map(|&s| 1.4 - 0.5 * (1.0 - (-(s as f32) / 4000.0).exp()))
        .collect();
    let mut g: Vec<f32> = steps
        .iter()
        .map(|&s| 0.7 + 0.3 * (s as f32 / 900.0).sin())
        .collect();
    g[100] = f32::NAN;
    g[101] = f32::INFINITY;
    g[200] = f32::NEG_INFINITY;
    let series = [
        ("D loss (-V)", d),
        ("G loss", g),
        ("D(x)", vec![0.5; 300]),
        ("empty", vec![]),
        ("JSD estimate", vec![f32::NAN; 300]),
    ];
    let path = out.file("loss.png");
    viz::loss_curves(&path, &steps, &series, "ring8 losses").unwrap();
    let img = rgb(&path);
    assert_eq!(img.height(), 474);
    for c in &viz::PALETTE[..3] {
        assert!(count(&img, *c) > 100, "series colour {c:?} drawn");
    }

    let one = out.file("loss_one.png");
    viz::loss_curves(&one, &[7], &[("D loss", vec![0.69])], "one point").unwrap();
    assert!(
        count(&rgb(&one), viz::PALETTE[0]) >= 25,
        "a lone point shows as a dot"
    );
    viz::loss_curves(&out.file("loss_none.png"), &[], &[], "nothing").unwrap();
    viz::loss_curves(
        &out.file("loss_nan.png"),
        &[1, 2],
        &[("x", vec![f32::NAN; 2])],
        "",
    )
    .unwrap();
}

/// Mapped the way the grid documents: -1 -> 0, 1 -> 255, clamped.
fn byte(v: f32) -> u8 {
    ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

#[test]
fn image_grid_tiles_hold_the_mapped_values() {
    let out = Out::new("grid");
    let (w, h, scale, cols) = (4u32, 3u32, 4u32, 2u32);
    let images: Vec<Vec<f32>> = (0..3)
        .map(|k| (0..w * h).map(|i| -1.0 + (i + k) as f32 * 0.25).collect())
        .collect();
    let path = out.file("grid.png");
    viz::image_grid(&path, &images, w, h, 1, cols, scale).unwrap();
    let img = rgb(&path);
    let gap = viz::GRID_GAP;
    assert_eq!(
        img.dimensions(),
        (gap + 2 * (w * scale + gap), gap + 2 * (h * scale + gap))
    );
    for (k, im) in images.iter().enumerate() {
        let (r, c) = (k as u32 / cols, k as u32 % cols);
        let (ox, oy) = (gap + c * (w * scale + gap), gap + r * (h * scale + gap));
        for y in 0..h * scale {
            for x in 0..w * scale {
                let want = byte(im[((y / scale) * w + x / scale) as usize]);
                assert_eq!(
                    img.get_pixel(ox + x, oy + y).0,
                    [want; 3],
                    "tile {k} ({x},{y})"
                );
            }
        }
    }
    assert_eq!(byte(-1.0), 0);
    assert_eq!(byte(1.0), 255);
    assert_eq!(
        img.get_pixel(gap, gap).0,
        [0; 3],
        "first pixel of tile 0 is -1 -> 0"
    );

    // Three channels interleaved; one image at its own size.
    let colour: Vec<f32> = [
        1.0, -1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 3.0, 0.0, -3.0,
    ]
    .to_vec();
    let path = out.file("grid_rgb.png");
    viz::image_grid(&path, std::slice::from_ref(&colour), 2, 2, 3, 8, 3).unwrap();
    let img = rgb(&path);
    assert_eq!(img.get_pixel(gap, gap).0, [255, 0, 0]);
    assert_eq!(img.get_pixel(gap + 1, gap + 4).0, [0, 0, 255]);
    assert_eq!(img.get_pixel(gap + 5, gap + 5).0, [255, 128, 0]);
    let one = out.file("one.png");
    viz::save_image(&one, &colour, 2, 2, 3).unwrap();
    let img = rgb(&one);
    assert_eq!(img.dimensions(), (2, 2));
    assert_eq!(img.get_pixel(1, 0).0, [0, 255, 0]);
    let gray = out.file("gray.png");
    viz::save_image(&gray, &images[0], w, h, 1).unwrap();
    let g = image::open(&gray).unwrap().to_luma8();
    assert_eq!(g.dimensions(), (w, h));
    assert_eq!(g.get_pixel(3, 2).0[0], byte(images[0][11]));

    // Digit-like 8x8 tiles (glyphs of the picture font) at scale 4, as the trainer draws them.
    let digits: Vec<Vec<f32>> = (0..10u8)
        .map(|d| {
            let rows = viz::font::glyph(char::from(b'0' + d));
            (0..64)
                .map(|i| {
                    let (x, y) = (i % 8, i / 8);
                    let on = (1..6).contains(&x) && y < 7 && rows[y] & (1 << (5 - x)) != 0;
                    if on {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect()
        })
        .collect();
    let path = out.file("grid_digits.png");
    viz::image_grid(&path, &digits, 8, 8, 1, 5, 4).unwrap();
    assert_eq!(
        rgb(&path).dimensions(),
        (gap + 5 * (32 + gap), gap + 2 * (32 + gap))
    );

    let err = viz::image_grid(&out.file("bad.png"), &[vec![0.0; 5]], w, h, 1, 1, 1).unwrap_err();
    assert!(format!("{err:#}").contains("image 0"), "{err:#}");
    assert!(viz::save_image(&out.file("bad.png"), &[0.0; 12], 2, 2, 2).is_err());
}

#[test]
fn gif_has_every_frame_and_loops() {
    use image::AnimationDecoder;
    let out = Out::new("gif");
    let mut frames = Vec::new();
    for k in 0..4 {
        let (w, h) = if k == 3 { (10, 6) } else { (20, 12) };
        let px: Vec<f32> = (0..w * h)
            .map(|i| ((i + k * 7) % 9) as f32 / 4.0 - 1.0)
            .collect();
        let f = out.file(&format!("frame_{k}.png"));
        viz::save_image(&f, &px, w, h, 1).unwrap();
        frames.push(f);
    }
    let path = out.file("anim.gif");
    viz::write_gif(&path, &frames, 150).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.windows(11).any(|w| w == b"NETSCAPE2.0"),
        "loop extension present"
    );
    let dec = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    let decoded = dec.into_frames().collect_frames().unwrap();
    assert_eq!(decoded.len(), 4);
    for f in &decoded {
        assert_eq!(
            f.buffer().dimensions(),
            (20, 12),
            "frames resized to the first"
        );
        assert_eq!(f.delay().numer_denom_ms(), (150, 1));
    }
    // Training pictures at full size, the generated cloud drifting onto the data.
    let bounds = [-2.0, 2.0, -2.0, 2.0];
    let mut rng = Noise(3);
    let real: Vec<[f32; 2]> = (0..400)
        .map(|_| [0.3 * rng.normal() + 1.0, 0.3 * rng.normal()])
        .collect();
    let mut scenes = Vec::new();
    for k in 0..5 {
        let shift = k as f32 * 0.25;
        let fake: Vec<[f32; 2]> = (0..400)
            .map(|_| [0.3 * rng.normal() + shift, 0.3 * rng.normal()])
            .collect();
        let f = out.file(&format!("scene_{k}.png"));
        viz::scatter_2d(&f, &real, &fake, None, &format!("step {}", k * 100), bounds).unwrap();
        scenes.push(f);
    }
    let path = out.file("scenes.gif");
    viz::write_gif(&path, &scenes, 300).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let dec = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    let decoded = dec.into_frames().collect_frames().unwrap();
    assert_eq!(decoded.len(), 5);
    if out.1 {
        // For a look at what quantisation did to a full-size picture.
        decoded[4]
            .buffer()
            .save(out.file("scenes_frame4.png"))
            .unwrap();
    }

    let missing = out.file("missing.png");
    let err = viz::write_gif(&out.file("x.gif"), &[missing], 100).unwrap_err();
    assert!(format!("{err:#}").contains("missing.png"), "{err:#}");
    assert!(viz::write_gif(&out.file("x.gif"), &[], 100).is_err());
}

#[test]
fn font_covers_printable_ascii_and_draws_in_place() {
    let mut img = image::RgbImage::new(100, 20);
    let white = image::Rgb([255, 255, 255]);
    viz::draw_text(&mut img, 2, 3, "1e-3", white, 2);
    let lit: Vec<(u32, u32)> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| **p == white)
        .map(|(x, y, _)| (x, y))
        .collect();
    assert!(!lit.is_empty());
    let w = viz::font::text_width("1e-3", 2);
    assert!(lit
        .iter()
        .all(|&(x, y)| (2..2 + w).contains(&x) && (3..3 + 14).contains(&y)));
    for c in (32u8..127).map(char::from).filter(|c| *c != ' ') {
        assert!(
            viz::font::glyph(c).iter().any(|r| *r != 0),
            "glyph {c:?} is blank"
        );
    }
    viz::draw_text(&mut img, -50, -50, "clipped ok é", white, 3);
}
