//! Measures layer apply throughput on a generated ~300 MB layer, plain, gzip and zstd.
//!
//! `cargo run --release -p berth-snapshot --example apply_throughput [DATA_DIR]` (as root).
//! Throughput is uncompressed tar bytes per second of wall time, including the syncfs and
//! rename that commit the layer.

use std::io::Write;
use std::time::Instant;

use berth_snapshot::{Driver, LayerStore};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("berth-bench-{}", std::process::id()))
        });
    let tar = generate_layer();
    let mb = tar.len() as f64 / 1e6;
    println!("layer: {mb:.0} MB uncompressed tar");

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();

    for (name, bytes) in [("plain", &tar), ("gzip", &gz), ("zstd", &zst)] {
        // Decompression alone, to separate CPU cost from filesystem cost.
        let start = Instant::now();
        let (_, mut plain) = berth_snapshot::decompressed(&bytes[..]).unwrap();
        std::io::copy(&mut plain, &mut std::io::sink()).unwrap();
        let decode = start.elapsed().as_secs_f64();
        println!("{name:>5}: decode only {:.0} MB/s", mb / decode);
        // Unpack without the commit (no syncfs), to separate unpack cost from disk flush.
        // Every run gets fresh directories and nothing is deleted until the end: ext4's
        // inode allocator slows down sharply right after 20 000 deletions.
        let raw = dir.join(format!("raw-{name}"));
        std::fs::create_dir_all(&raw).unwrap();
        let start = Instant::now();
        berth_snapshot::apply_layer(&bytes[..], &raw, berth_snapshot::WhiteoutMode::Overlay)
            .unwrap();
        println!(
            "{name:>5}: unpack only (no syncfs) {:.0} MB/s",
            mb / start.elapsed().as_secs_f64()
        );
        let store = LayerStore::open_with_driver(&dir.join(name), Driver::Overlay2).unwrap();
        let start = Instant::now();
        let info = store.apply_layer(None, &bytes[..]).unwrap();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:>5}: {:>4.0} MB compressed, {secs:.2} s, {:.0} MB/s (diff id {})",
            bytes.len() as f64 / 1e6,
            mb / secs,
            info.diff_id
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// 200 files of 1 MiB plus 20 000 files of 5 KiB in 200 directories: big and small files.
fn generate_layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::with_capacity(320 << 20));
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut chunk = |len: usize| -> Vec<u8> {
        // Half pseudo-random, half repeated text: compresses about 2:1 like real layers.
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            v.extend_from_slice(&rng.to_le_bytes());
            v.extend_from_slice(b"usr/lib/x86");
        }
        v.truncate(len);
        v
    };
    for i in 0..200 {
        append(&mut b, &format!("big/{i}.bin"), &chunk(1 << 20));
    }
    for d in 0..200 {
        for f in 0..100 {
            append(&mut b, &format!("small/{d}/{f}.txt"), &chunk(5 << 10));
        }
    }
    b.into_inner().unwrap()
}

fn append(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    b.append_data(&mut h, name, data).unwrap();
}
