//! Criterion benchmarks of the hot functions: identity derivation, Ed25519, recovery phrase,
//! blinding, 1:1 sealing and onion layer ciphers.
//!
//! Run: `cargo bench -p sotto-crypto --bench crypto`. Numbers go to `docs/benchmarks.md`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand_core::OsRng;
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::layer::{x25519_public, EncType, LayerCipher};
use sotto_crypto::{mnemonic, seal, BlindingKind, Identity, Seed, X25519PublicKey};

const SEED: &str = "0123456789abcdef0123456789abcdef";
const SERVER: &str = "6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be";

fn identity(seed: &str) -> Identity {
    Identity::from_seed(&Seed::from_hex(seed).unwrap())
}

fn bench_identity(c: &mut Criterion) {
    let seed = Seed::from_hex(SEED).unwrap();
    c.bench_function("identity/derive", |b| {
        b.iter(|| Identity::from_seed(black_box(&seed)).session_id())
    });
}

fn bench_ed25519(c: &mut Criterion) {
    let id = identity(SEED);
    let msg = b"retrieve1700000000000";
    let sig = id.sign(msg);
    let public = id.ed25519_public();
    let mut group = c.benchmark_group("ed25519");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign", |b| b.iter(|| id.sign(black_box(msg))));
    group.bench_function("verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(msg), black_box(&sig), "bench")
                .unwrap()
        })
    });
    group.finish();
}

fn bench_mnemonic(c: &mut Criterion) {
    let seed = Seed::from_hex(SEED).unwrap();
    let phrase = mnemonic::seed_to_phrase(&seed);
    let mut group = c.benchmark_group("mnemonic");
    group.bench_function("encode", |b| {
        b.iter(|| mnemonic::seed_to_phrase(black_box(&seed)))
    });
    group.bench_function("decode", |b| {
        b.iter(|| mnemonic::phrase_to_seed(black_box(&phrase)).unwrap())
    });
    group.finish();
}

fn bench_blinding(c: &mut Criterion) {
    let id = identity(SEED);
    let server: X25519PublicKey = SERVER.parse().unwrap();
    let pair = BlindedKeyPair::new(&id, &server, BlindingKind::Blind15).unwrap();
    let msg = [7u8; 100];
    let mut group = c.benchmark_group("blinding");
    group.bench_function("keypair15", |b| {
        b.iter(|| BlindedKeyPair::new(&id, black_box(&server), BlindingKind::Blind15).unwrap())
    });
    group.bench_function("keypair25", |b| {
        b.iter(|| BlindedKeyPair::new(&id, black_box(&server), BlindingKind::Blind25).unwrap())
    });
    group.bench_function("sign15", |b| b.iter(|| pair.sign(black_box(&msg))));
    group.finish();
}

fn bench_seal(c: &mut Criterion) {
    let sender = identity(SEED);
    let recipient = identity("00112233445566778899aabbccddeeff");
    let message = vec![0x42u8; 1024];
    let sealed =
        seal::encrypt_for_recipient(&sender, &recipient.x25519_public(), &message, &mut OsRng);
    let mut group = c.benchmark_group("seal_1k");
    group.throughput(Throughput::Bytes(message.len() as u64));
    group.bench_function("encrypt", |b| {
        b.iter(|| {
            seal::encrypt_for_recipient(
                &sender,
                &recipient.x25519_public(),
                black_box(&message),
                &mut OsRng,
            )
        })
    });
    group.bench_function("decrypt", |b| {
        b.iter(|| seal::decrypt_incoming(&recipient, black_box(&sealed)).unwrap())
    });
    group.finish();
}

fn bench_layer(c: &mut Criterion) {
    let client = [0x11u8; 32];
    let server = [0x22u8; 32];
    let (client_pub, server_pub) = (x25519_public(&client), x25519_public(&server));
    let payload = vec![0x42u8; 1024];
    // The same function two ways, in one run: the Montgomery ladder (x25519-dalek) and the
    // Edwards form that `layer::x25519` uses.
    let mut group = c.benchmark_group("x25519");
    group.bench_function("ladder", |b| {
        b.iter(|| x25519_dalek::x25519(server, black_box(client_pub.0)))
    });
    group.bench_function("edwards", |b| {
        b.iter(|| sotto_crypto::layer::x25519(&server, black_box(&client_pub.0)))
    });
    group.bench_function("public_key", |b| {
        b.iter(|| x25519_public(black_box(&client)))
    });
    group.finish();
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let cipher = LayerCipher::client(enc, &client, &client_pub, &server_pub).unwrap();
        let blob = cipher.encrypt(&mut OsRng, &payload);
        // Key derivation (one X25519 and a hash) is part of every hop's work.
        c.bench_function(&format!("layer/{enc}/derive_key"), |b| {
            b.iter(|| {
                LayerCipher::server(enc, &server, &server_pub, black_box(&client_pub)).unwrap()
            })
        });
        let mut group = c.benchmark_group(format!("layer_1k/{enc}"));
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function("encrypt", |b| {
            b.iter(|| cipher.encrypt(&mut OsRng, black_box(&payload)))
        });
        group.bench_function("decrypt", |b| {
            b.iter(|| cipher.decrypt(black_box(&blob)).unwrap())
        });
        group.finish();
    }
}

fn bench_attachment(c: &mut Criterion) {
    use sotto_crypto::attachment::{
        decrypt_deterministic, decrypt_legacy, encrypt_deterministic, encrypt_legacy, Domain,
    };
    let file = vec![0x5au8; 1024 * 1024];
    let mut group = c.benchmark_group("attachment_1MiB");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.sample_size(20);
    let legacy = encrypt_legacy(&mut OsRng, &file).unwrap();
    group.bench_function("legacy/encrypt", |b| {
        b.iter(|| encrypt_legacy(&mut OsRng, black_box(&file)).unwrap())
    });
    group.bench_function("legacy/decrypt", |b| {
        b.iter(|| {
            decrypt_legacy(
                black_box(&legacy.blob),
                &*legacy.key,
                legacy.size,
                Some(&legacy.digest),
            )
            .unwrap()
        })
    });
    let (det, key) = encrypt_deterministic(&[7; 32], &file, Domain::Attachment).unwrap();
    group.bench_function("deterministic/encrypt", |b| {
        b.iter(|| encrypt_deterministic(&[7; 32], black_box(&file), Domain::Attachment).unwrap())
    });
    group.bench_function("deterministic/decrypt", |b| {
        b.iter(|| decrypt_deterministic(black_box(&det), &*key).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_attachment,
    bench_identity,
    bench_ed25519,
    bench_mnemonic,
    bench_blinding,
    bench_seal,
    bench_layer
);
criterion_main!(benches);
