//! End-to-end tests of the `sotto` binary: known answers, round trips and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "0123456789abcdef0123456789abcdef";
const SESSION_ID: &str = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
const PHRASE: &str =
    "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept";
const OTHER_SEED: &str = "00112233445566778899aabbccddeeff";
const OTHER_ID: &str = "05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74";

fn sotto(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("sotto").unwrap();
    cmd.args(args);
    cmd
}

/// Run and parse the single JSON object printed on stdout.
fn json(args: &[&str]) -> Value {
    let out = sotto(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

/// Run, expect failure, and return the single stderr line.
fn fails(args: &[&str]) -> String {
    let out = sotto(args).assert().failure().get_output().clone();
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one stderr line: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn derive_gives_pinned_identity() {
    let v = json(&["id", "derive", "--seed", SEED]);
    assert_eq!(v["seed"], SEED);
    assert_eq!(v["session_id"], SESSION_ID);
    assert_eq!(
        v["ed25519_pubkey"],
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
    );
    assert_eq!(v["x25519_pubkey"], &SESSION_ID[2..]);
    assert_eq!(v["mnemonic"], PHRASE);
}

#[test]
fn derive_accepts_uppercase_and_prints_lowercase() {
    let v = json(&["id", "derive", "--seed", &SEED.to_uppercase()]);
    assert_eq!(v["seed"], SEED);
    assert_eq!(v["session_id"], SESSION_ID);
}

#[test]
fn restore_gives_the_same_identity() {
    let v = json(&["id", "restore", "--mnemonic", PHRASE]);
    assert_eq!(v["seed"], SEED);
    assert_eq!(v["session_id"], SESSION_ID);
    let loud = json(&["id", "restore", "--mnemonic", &PHRASE.to_uppercase()]);
    assert_eq!(loud["session_id"], SESSION_ID);
}

#[test]
fn new_identity_restores_from_its_phrase() {
    let v = json(&["id", "new"]);
    let phrase = v["mnemonic"].as_str().unwrap();
    assert_eq!(phrase.split(' ').count(), 13);
    assert_eq!(v["seed"].as_str().unwrap().len(), 32);
    let restored = json(&["id", "restore", "--mnemonic", phrase]);
    assert_eq!(restored["session_id"], v["session_id"]);
    assert_eq!(restored["seed"], v["seed"]);
    // Two fresh identities differ.
    assert_ne!(json(&["id", "new"])["seed"], v["seed"]);
}

#[test]
fn text_output_is_friendly() {
    let out = sotto(&["id", "derive", "--seed", SEED]).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("Session ID: 05d2ad01"), "{stdout}");
    assert!(stdout.contains("Recovery phrase: vexed enjoy"), "{stdout}");
}

#[test]
fn blind_gives_libsession_ids() {
    // sogs.md §2.4a: a 32-byte Ed25519 seed is a legacy seed.
    let server = "abcdef0123456789".repeat(4);
    let v = json(&[
        "id",
        "blind",
        "--seed",
        "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122",
        "--server-pubkey",
        &server,
    ]);
    assert_eq!(
        v["blinded15"],
        "15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844"
    );
    assert_eq!(
        v["blinded25"],
        "253b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac"
    );
    // A key whose Ed25519 sign bit is set: the real 15 ID carries the negative sign.
    let v = json(&[
        "id",
        "blind",
        "--seed",
        "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7",
        "--server-pubkey",
        &server,
    ]);
    assert_eq!(
        v["blinded15"],
        "1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d"
    );
    assert_eq!(
        v["blinded25"],
        "25a69cc6884530bf8498d22892e563716c4742f2845a7eb608de2aecbe7b6b5996"
    );
}

#[test]
fn blind_pysogs_vector() {
    // sogs.md §2.5.
    let v = json(&[
        "id",
        "blind",
        "--seed",
        "880adf5164a79bce71f7387fbc2cb2693c0bf0ab4cb42bf1edafddade7527a66",
        "--server-pubkey",
        "6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be",
    ]);
    assert_eq!(
        v["session_id"],
        "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d"
    );
    assert_eq!(
        v["blinded15"],
        "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479"
    );
}

/// `sotto msg encrypt` from SEED to OTHER_ID; returns the `data`.
fn encrypt(text: &str, timestamp: &str) -> String {
    let enc = json(&[
        "msg",
        "encrypt",
        "--seed",
        SEED,
        "--to",
        OTHER_ID,
        "--text",
        text,
        "--timestamp",
        timestamp,
    ]);
    enc["data"].as_str().unwrap().to_owned()
}

#[test]
fn message_round_trip() {
    let data = encrypt("hello, Sotto ✓", "1700000000123");
    let dec = json(&["msg", "decrypt", "--seed", OTHER_SEED, "--data", &data]);
    assert_eq!(dec["sender"], SESSION_ID);
    assert_eq!(dec["text"], "hello, Sotto ✓");
    assert_eq!(dec["timestamp"], 1700000000123u64);

    // The sender cannot open what it sealed to someone else.
    let err = fails(&["msg", "decrypt", "--seed", SEED, "--data", &data]);
    assert!(err.contains("cannot decrypt"), "{err}");
}

#[test]
fn tampered_message_is_refused() {
    let data = encrypt("hi", "1");
    // Flip a character well inside the ciphertext (base64 keeps its validity).
    let mut chars: Vec<char> = data.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let err = fails(&["msg", "decrypt", "--seed", OTHER_SEED, "--data", &tampered]);
    assert!(err.contains("cannot decrypt"), "{err}");
    let err = fails(&[
        "msg",
        "decrypt",
        "--seed",
        OTHER_SEED,
        "--data",
        "not base64!",
    ]);
    assert!(err.contains("cannot decrypt"), "{err}");
    fails(&["msg", "decrypt", "--seed", OTHER_SEED, "--data", ""]);
}

#[test]
fn bad_input_gives_one_clear_line() {
    let err = fails(&["id", "derive", "--seed", "xyz"]);
    assert!(err.contains("seed"), "{err}");
    let err = fails(&["id", "derive", "--seed", &"zz".repeat(16)]);
    assert!(err.contains("hex"), "{err}");
    let err = fails(&["id", "derive", "--seed", &"ab".repeat(20)]);
    assert!(err.contains("32 or 64"), "{err}");

    let twelve: Vec<&str> = PHRASE.split(' ').take(12).collect();
    let err = fails(&["id", "restore", "--mnemonic", &twelve.join(" ")]);
    assert!(err.contains("missing the checksum word"), "{err}");
    let err = fails(&["id", "restore", "--mnemonic", "vexed enjoy"]);
    assert!(err.contains("words"), "{err}");
    let unknown = PHRASE.replacen("pigment", "xylophonez", 1);
    let err = fails(&["id", "restore", "--mnemonic", &unknown]);
    assert!(err.contains("xylophonez") && err.contains('3'), "{err}");
    let wrong_checksum = format!("{} vexed", twelve.join(" "));
    let err = fails(&["id", "restore", "--mnemonic", &wrong_checksum]);
    assert!(err.contains("checksum"), "{err}");

    let err = fails(&["id", "blind", "--seed", SEED, "--server-pubkey", "00"]);
    assert!(err.contains("server-pubkey"), "{err}");

    let base = ["msg", "encrypt", "--seed", SEED, "--text", "x"];
    let err = fails(&[&base[..], &["--to", &OTHER_ID[..64], "--timestamp", "1"]].concat());
    assert!(err.contains("--to"), "{err}");
    let bad_prefix = OTHER_ID.replacen("05", "15", 1);
    let err = fails(&[&base[..], &["--to", &bad_prefix, "--timestamp", "1"]].concat());
    assert!(err.contains("05"), "{err}");
    let err = fails(&[&base[..], &["--to", OTHER_ID, "--timestamp", "soon"]].concat());
    assert!(err.contains("timestamp"), "{err}");
}

/// A message made by a real Session client (session-ios's test vector, client.md §3.5):
/// unpadded content, decrypted with the iOS test account's 32-byte Ed25519 seed.
#[test]
fn decrypts_a_session_ios_message() {
    let data = concat!(
        "CAESvwEKABIAGrYBCAYSACjQiOyP9yM4AUKmAfjX/WXVFs+QE5Eh54Esw9/N",
        "lYza3k8MOvcRAI7y8k0JzLsm/KpXxKP7Zx7+5YyII9sCRXzFK2U4/X9SSMN088YEr/5wKoDfL5q",
        "PQbN70aa59WS8YE+yWcniQO0KXfAzr6Acn40fsa9BMr9tnQLfvxY8vD7qBz9iEOV9jTxPzxUoD+",
        "JelIbsv2qlkOl9vs166NC/Y772NZmUAR5u1ewL4SYEWkqX5R4gAA==",
    );
    let seed = "c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9";
    let v = json(&["msg", "decrypt", "--seed", seed, "--data", data]);
    assert_eq!(
        v["sender"],
        "0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"
    );
    assert_eq!(v["text"], "TestMessage");
    assert_eq!(v["timestamp"], 1_234_567_890_000u64);
}

#[test]
fn attachment_encrypt_decrypt_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("photo.jpg");
    let blob = dir.path().join("photo.enc");
    let back = dir.path().join("photo.out");
    std::fs::write(&plain, b"not really a jpeg, but bytes all the same").unwrap();
    let out = Command::cargo_bin("sotto")
        .unwrap()
        .args(["attachment", "encrypt", "--json", "--in"])
        .arg(&plain)
        .arg("--out")
        .arg(&blob)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (key, digest) = (v["key"].as_str().unwrap(), v["digest"].as_str().unwrap());
    assert_eq!(
        (key.len(), digest.len(), v["size"].as_u64()),
        (128, 64, Some(41))
    );
    let decrypt = |key: &str, digest: &str| {
        Command::cargo_bin("sotto")
            .unwrap()
            .args([
                "attachment",
                "decrypt",
                "--key",
                key,
                "--size",
                "41",
                "--digest",
                digest,
                "--in",
            ])
            .arg(&blob)
            .arg("--out")
            .arg(&back)
            .output()
            .unwrap()
    };
    let ok = decrypt(key, digest);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&plain).unwrap()
    );
    // Change a byte of the MAC half (bytes 32..64): that is what the refusal rests on. A change
    // to the AES half alone is caught only by the padding check, which garbage passes 1 time in
    // ~256, so a test built on it would be flaky.
    let mut wrong = key.to_owned();
    wrong.replace_range(64..66, if &key[64..66] == "00" { "01" } else { "00" });
    let bad_key = decrypt(&wrong, digest);
    assert!(!bad_key.status.success());
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("wrong key or tampered"));
    let bad_digest = decrypt(key, &"00".repeat(32));
    assert!(String::from_utf8_lossy(&bad_digest.stderr).contains("digest mismatch"));
    // The deterministic scheme: same file and seed, same bytes; decrypts without a size.
    let det = |out: &std::path::Path| {
        let o = Command::cargo_bin("sotto")
            .unwrap()
            .args([
                "attachment",
                "encrypt",
                "--json",
                "--scheme",
                "deterministic",
            ])
            .args(["--seed", "0123456789abcdef0123456789abcdef", "--in"])
            .arg(&plain)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let (d1, d2) = (dir.path().join("d1"), dir.path().join("d2"));
    let (v1, v2) = (det(&d1), det(&d2));
    assert_eq!(v1, v2);
    assert_eq!(v1["scheme"], "deterministic");
    assert_eq!(std::fs::read(&d1).unwrap(), std::fs::read(&d2).unwrap());
    assert_eq!(std::fs::read(&d1).unwrap().len(), 4096);
    let o = Command::cargo_bin("sotto")
        .unwrap()
        .args([
            "attachment",
            "decrypt",
            "--key",
            v1["key"].as_str().unwrap(),
            "--in",
        ])
        .arg(&d1)
        .arg("--out")
        .arg(&back)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&plain).unwrap()
    );
}
