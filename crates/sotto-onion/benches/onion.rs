//! The work of one hop: parse the body, X25519, decrypt, classify — per layer, per core.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::OsRng;
use serde_json::json;
use sotto_crypto::Ed25519PublicKey;
use sotto_onion::client::{build, Destination, Hop};
use sotto_onion::node::{peel, Layer, NodeKeys};
use sotto_onion::EncType;

fn bench_peel(c: &mut Criterion) {
    let keys: Vec<NodeKeys> = (1..=4u8).map(|i| NodeKeys::new([i; 32])).collect();
    let hop = |i: usize| Hop {
        ed25519: Ed25519PublicKey([i as u8; 32]),
        x25519: *keys[i].public(),
    };
    // A retrieve-sized request through a 3-hop path: the guard's layer is the biggest.
    let params = json!({"pubkey": format!("05{}", "ab".repeat(32)), "data": "x".repeat(1024)});
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let request = build(
            &mut OsRng,
            enc,
            &[hop(0), hop(1), hop(2)],
            &Destination::Node {
                node: hop(3),
                method: "store".into(),
                params: params.clone(),
            },
        )
        .unwrap();
        let mut group = c.benchmark_group(format!("peel/{enc}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("guard_layer", |b| {
            b.iter(|| {
                let layer = Layer::from_entry_body(black_box(&request.body)).unwrap();
                peel(&keys[0], &layer).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_peel);
criterion_main!(benches);
