//! Decode + apply of one delta into the wall's mirror, against a bare serde_json decode
//! of the same frame, in the same run. Goal: at most 2x the bare decode.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use yiping::feed::Mirror;
use yiping::protocol::{ServerMsg, examples};

fn frame() -> (String, Mirror) {
    let (_, msg) = examples::server_messages()
        .into_iter()
        .find(|(n, _)| *n == "delta ticket_transitioned")
        .expect("example exists");
    let mut mirror = Mirror::default();
    if let ServerMsg::Delta { epoch, .. } = &msg {
        mirror.epoch = epoch.clone();
    }
    // A mirror of a realistic size: 100,000 live tickets.
    for i in 0..100_000u64 {
        let mut t = examples::ticket();
        t.id = i;
        mirror.tickets.insert(i, Box::new(t));
    }
    (serde_json::to_string(&msg).expect("serializes"), mirror)
}

fn bench(c: &mut Criterion) {
    let (text, mut mirror) = frame();
    let mut g = c.benchmark_group("delta");
    g.bench_function("decode only", |b| {
        b.iter(|| black_box(serde_json::from_str::<ServerMsg>(black_box(&text)).expect("decodes")))
    });
    g.bench_function("decode + apply to mirror", |b| {
        b.iter(|| {
            let msg: ServerMsg = serde_json::from_str(black_box(&text)).expect("decodes");
            mirror.seq = 0;
            black_box(mirror.apply(&msg))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
