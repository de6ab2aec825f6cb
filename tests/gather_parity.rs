//! gather_rows on the GPU against its CPU twin, bit for bit (it only copies), on odd shapes with
//! a poisoned output written from a nonzero offset; the clamp of an out-of-range index; and the
//! trainer's pattern of drawing indices with rng_index and gathering in the same pass.
mod common;
use common::*;
use shadergan::cpu;
use shadergan::kernels::gather::Gather;
use shadergan::kernels::rng::Rng;
use shadergan::ops::RngAddr;

const OUT_OFF: usize = 7;
const PAD: usize = 5;

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Gathers on the GPU into a poisoned buffer; checks the padding is untouched and the rows equal
/// the CPU twin's exactly.
fn check(gather: &Gather, rows: usize, cols: usize, data_rows: usize, idx: &[u32]) {
    let g = gpu();
    let data = inputs((rows * 31 + cols) as u64, data_rows * cols, -3.0, 3.0);
    let n = rows * cols;
    let db = g.buffer_from("data", &data).unwrap();
    let ib = g.buffer_from("idx", idx).unwrap();
    let ob = poisoned(g, "out", OUT_OFF + n + PAD);
    let d = gather
        .bind(g, false, &db, &ib, &ob, OUT_OFF, rows, cols, data_rows)
        .unwrap();
    g.run(&[d]).unwrap();
    let got: Vec<f32> = g.read(&ob).unwrap();
    let mut want = vec![f32::NAN; n];
    cpu::gather::gather_rows(rows, cols, data_rows, &data, idx, &mut want);
    let what = format!("gather_rows {rows}x{cols} from {data_rows} rows");
    assert!(
        want.iter().all(|v| !v.is_nan()),
        "{what}: CPU twin left a hole"
    );
    assert!(
        got[..OUT_OFF]
            .iter()
            .chain(&got[OUT_OFF + n..])
            .all(|v| v.is_nan()),
        "{what}: wrote outside out[{OUT_OFF}..{}]",
        OUT_OFF + n
    );
    let got = &got[OUT_OFF..OUT_OFF + n];
    let bad: Vec<usize> = (0..n)
        .filter(|&i| got[i].to_bits() != want[i].to_bits())
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} elements differ, first at {:?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
}

#[test]
fn gather_matches_cpu_on_odd_shapes() {
    let gather = Gather::new(gpu()).unwrap();
    let shapes = [
        (1, 1, 1),
        (3, 17, 5),
        (17, 3, 1031),
        (65, 257, 9),
        (257, 2, 300),
        (63, 1, 65),
    ];
    for (i, (rows, cols, data_rows)) in shapes.into_iter().enumerate() {
        let addr = RngAddr {
            seed: i as u64,
            stream: 0,
            ctr: 0,
            state_slot: 0,
        };
        let mut idx = vec![0u32; rows];
        cpu::rng::rng_index(addr, &[0, 0], data_rows as u32, &mut idx);
        check(&gather, rows, cols, data_rows, &idx);
    }
}

#[test]
fn out_of_range_index_reads_the_last_row() {
    let gather = Gather::new(gpu()).unwrap();
    let idx = [0u32, 4, 5, 1000, u32::MAX, 2];
    let (cols, data_rows) = (3, 5);
    check(&gather, idx.len(), cols, data_rows, &idx);
    let data = inputs((idx.len() * 31 + cols) as u64, data_rows * cols, -3.0, 3.0);
    let mut out = vec![0.0; idx.len() * cols];
    cpu::gather::gather_rows(idx.len(), cols, data_rows, &data, &idx, &mut out);
    let last = &data[(data_rows - 1) * cols..];
    for r in [1, 2, 3, 4] {
        assert_eq!(
            &out[r * cols..(r + 1) * cols],
            last,
            "row {r} (index {})",
            idx[r]
        );
    }
}

#[test]
fn indices_drawn_and_gathered_in_one_pass_match_cpu() {
    let g = gpu();
    let (rng, gather) = (Rng::new(g).unwrap(), Gather::new(g).unwrap());
    let (rows, cols, data_rows) = (33, 5, 1031);
    let addr = RngAddr {
        seed: 77,
        stream: 2,
        ctr: 0,
        state_slot: 1,
    };
    let state = [9u32, 0xffff_ffff, 0];
    let data = inputs(3, data_rows * cols, -1.0, 1.0);
    let (db, sb) = (
        g.buffer_from("data", &data).unwrap(),
        g.buffer_from("state", &state).unwrap(),
    );
    let ib = g.buffer_from("idx", &vec![u32::MAX; rows]).unwrap();
    let ob = poisoned(g, "out", rows * cols);
    let pass = [
        rng.tick(g, &sb, 1).unwrap(),
        rng.index(g, addr, &sb, &ib, 0, rows, data_rows as u32)
            .unwrap(),
        gather
            .bind(g, false, &db, &ib, &ob, 0, rows, cols, data_rows)
            .unwrap(),
    ];
    g.run(&pass).unwrap();
    let got: Vec<f32> = g.read(&ob).unwrap();

    let mut cpu_state = state;
    cpu::rng::tick(1, &mut cpu_state);
    let mut idx = vec![0u32; rows];
    cpu::rng::rng_index(addr, &cpu_state, data_rows as u32, &mut idx);
    let mut want = vec![0.0; rows * cols];
    cpu::gather::gather_rows(rows, cols, data_rows, &data, &idx, &mut want);
    assert_eq!(bits(&got), bits(&want));
}

#[test]
fn gather_rejects_bad_shapes() {
    let g = gpu();
    let gather = Gather::new(g).unwrap();
    let data = g.buffer("data", 12).unwrap();
    let idx = g.buffer("idx", 3).unwrap();
    let out = g.buffer("out", 12).unwrap();
    assert!(gather.bind(g, false, &data, &idx, &out, 0, 3, 4, 3).is_ok());
    assert!(
        gather
            .bind(g, false, &data, &idx, &out, 1, 3, 4, 3)
            .is_err(),
        "out too short"
    );
    assert!(
        gather
            .bind(g, false, &data, &idx, &out, 0, 4, 3, 4)
            .is_err(),
        "idx too short"
    );
    assert!(
        gather
            .bind(g, false, &data, &idx, &out, 0, 3, 4, 4)
            .is_err(),
        "data too short"
    );
    assert!(
        gather
            .bind(g, false, &data, &idx, &out, 0, 3, 4, 0)
            .is_err(),
        "no rows"
    );
}

/// gather_rows_u8: image bytes packed four to a word (rows of odd widths start mid-word), each
/// expanded to [-1, 1]; GPU against the CPU twin (one multiply and one subtract: atol 1e-6
/// allows a fused multiply-add), the padding untouched, 0 -> -1 and 255 -> 1.
#[test]
fn gather_u8_expands_packed_bytes_like_the_cpu_twin() {
    let g = gpu();
    let gather = Gather::new(g).unwrap();
    assert_eq!(cpu::gather::expand_u8(0), -1.0);
    assert!((cpu::gather::expand_u8(255) - 1.0).abs() <= 1.2e-7);
    for (rows, cols, data_rows) in [(1, 1, 1), (3, 17, 5), (17, 3, 1031), (65, 257, 9)] {
        let bytes: Vec<u8> = (0..data_rows * cols)
            .map(|i| match i % 7 {
                0 => 0,
                1 => 255,
                _ => ((i * 2654435761usize) >> 7) as u8,
            })
            .collect();
        let words = cpu::gather::pack_u8(&bytes);
        let idx: Vec<u32> = (0..rows as u32)
            .map(|r| (r * 7 + 3) % data_rows as u32)
            .collect();
        let n = rows * cols;
        let db = g.buffer_from("data", &words).unwrap();
        let ib = g.buffer_from("idx", &idx).unwrap();
        let ob = poisoned(g, "out", OUT_OFF + n + PAD);
        let d = gather
            .bind(g, true, &db, &ib, &ob, OUT_OFF, rows, cols, data_rows)
            .unwrap();
        g.run(&[d]).unwrap();
        let got: Vec<f32> = g.read(&ob).unwrap();
        assert!(got[..OUT_OFF]
            .iter()
            .chain(&got[OUT_OFF + n..])
            .all(|v| v.is_nan()));
        let mut want = vec![f32::NAN; n];
        cpu::gather::gather_rows_u8(rows, cols, data_rows, &words, &idx, &mut want);
        // The twin against the bytes themselves.
        for r in 0..rows {
            for c in 0..cols {
                let b = bytes[idx[r] as usize * cols + c];
                assert_eq!(want[r * cols + c], cpu::gather::expand_u8(b));
            }
        }
        assert_close(
            &format!("gather_rows_u8 {rows}x{cols}"),
            &got[OUT_OFF..OUT_OFF + n],
            &want,
            0.0,
            1e-6,
        );
    }
}

/// gather_rows_u32 (a minibatch's labels, picked by the images' indices): bit for bit against
/// the twin on odd shapes, written from an offset into a buffer of sentinels that must stay, with
/// an index past the data set reading its last row.
#[test]
fn gather_u32_matches_cpu_on_odd_shapes() {
    let g = gpu();
    let gather = Gather::new(g).unwrap();
    const SENTINEL: u32 = 0xdead_beef;
    for (rows, cols, data_rows) in [
        (1, 1, 1),
        (3, 1, 5),
        (17, 3, 1031),
        (65, 1, 9),
        (257, 2, 300),
    ] {
        let data: Vec<u32> = (0..(data_rows * cols) as u32)
            .map(|i| i.wrapping_mul(2654435761) % 1000)
            .collect();
        let mut idx: Vec<u32> = (0..rows as u32)
            .map(|r| (r * 7 + 3) % data_rows as u32)
            .collect();
        idx[rows / 2] = data_rows as u32 + 5;
        let n = rows * cols;
        let db = g.buffer_from("data", &data).unwrap();
        let ib = g.buffer_from("idx", &idx).unwrap();
        let ob = g
            .buffer_from("out", &vec![SENTINEL; OUT_OFF + n + PAD])
            .unwrap();
        let d = gather
            .bind_u32(g, &db, &ib, &ob, OUT_OFF, rows, cols, data_rows)
            .unwrap();
        g.run(&[d]).unwrap();
        let got: Vec<u32> = g.read(&ob).unwrap();
        assert!(got[..OUT_OFF]
            .iter()
            .chain(&got[OUT_OFF + n..])
            .all(|&v| v == SENTINEL));
        let mut want = vec![SENTINEL; n];
        cpu::gather::gather_rows_u32(rows, cols, data_rows, &data, &idx, &mut want);
        assert!(want.iter().all(|&v| v < 1000), "the twin left a hole");
        let last = &data[(data_rows - 1) * cols..];
        assert_eq!(&want[rows / 2 * cols..(rows / 2 + 1) * cols], last);
        assert_eq!(
            &got[OUT_OFF..OUT_OFF + n],
            &want[..],
            "{rows}x{cols} from {data_rows}"
        );
    }
}
