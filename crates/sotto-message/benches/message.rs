//! Criterion benchmarks of the 1:1 message pipeline: encode (pad, seal, wrap, base64) and decode.
//!
//! Run: `cargo bench -p sotto-message --bench message`. Numbers go to `docs/benchmarks.md`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand_core::OsRng;
use sotto_crypto::{Identity, Seed};
use sotto_message::proto::Content;
use sotto_message::{decode_1to1, encode_1to1};

fn bench_1to1(c: &mut Criterion) {
    let alice = Identity::from_seed(&Seed::from_hex("0123456789abcdef0123456789abcdef").unwrap());
    let bob = Identity::from_seed(&Seed::from_hex("00112233445566778899aabbccddeeff").unwrap());
    let content = Content::text("x".repeat(200));
    let ts = 1_700_000_000_000;
    let data = encode_1to1(&alice, &bob.session_id(), &content, ts, &mut OsRng).unwrap();
    let mut group = c.benchmark_group("one_to_one_200b");
    group.bench_function("encode", |b| {
        b.iter(|| {
            encode_1to1(
                &alice,
                &bob.session_id(),
                black_box(&content),
                ts,
                &mut OsRng,
            )
            .unwrap()
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| decode_1to1(&bob, black_box(&data)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_1to1);
criterion_main!(benches);
