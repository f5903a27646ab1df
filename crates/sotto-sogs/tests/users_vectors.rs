//! Users: get-or-create, the system user, and the 05 → 15 hand-over (`sogs.md` §1.5, §2.5).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_crypto::X25519PublicKey;
use sotto_sogs::ids::AccountId;
use sotto_sogs::store::{InitMode, Store, SYSTEM_USER_ID};

/// `sogs.md` §2.5 (PySOGS `tests/test_blinding.py`): server key, a Session ID, and its
/// positive 15 ID on that server.
const SERVER: &str = "6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be";
const SESSION: &str = "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d";
const BLINDED_POS: &str = "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479";

fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.initialize(InitMode {
        create: None,
        upgrade: true,
    })
    .unwrap();
    s
}

fn server() -> X25519PublicKey {
    SERVER.parse().unwrap()
}

fn negative(id: &str) -> String {
    // Flip the sign bit: the top bit of the key's last byte (hex digits 64..66 of the ID).
    let mut bytes = hex::decode(id).unwrap();
    bytes[32] ^= 0x80;
    hex::encode(bytes)
}

#[test]
fn get_or_create_is_idempotent() {
    let mut s = store();
    let id: AccountId = SESSION.parse().unwrap();
    let a = s.get_or_create_user(&id).unwrap();
    let b = s.get_or_create_user(&id).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.session_id, SESSION);
    assert!(!a.moderator && !a.admin && !a.banned && !a.visible_mod);
    assert_eq!(s.user_by_session_id(SESSION).unwrap(), Some(a));
}

#[test]
fn system_user() {
    let mut s = store();
    let u = s.ensure_system_user(&server()).unwrap();
    assert_eq!(u.id, SYSTEM_USER_ID);
    assert_eq!(u.session_id, format!("ff{SERVER}"));
    assert!(u.admin && u.moderator && !u.visible_mod);
    // Refreshing is harmless and the system user is never listed.
    s.ensure_system_user(&server()).unwrap();
    assert!(s.global_moderators().unwrap().is_empty());
}

#[test]
fn unblinded_id_without_blinded_user_records_needs_blinding() {
    let mut s = store();
    let id: AccountId = SESSION.parse().unwrap();
    let u = s.resolve_account(&id, Some(&server())).unwrap();
    assert_eq!(u.session_id, SESSION);
    let (abs, user): (String, i64) = s
        .connection()
        .unwrap()
        .query_row(
            "SELECT blinded_abs, \"user\" FROM needs_blinding",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((abs.as_str(), user), (BLINDED_POS, u.id));
    // Twice is fine.
    s.resolve_account(&id, Some(&server())).unwrap();
}

#[test]
fn unblinded_id_maps_to_existing_blinded_user_of_either_sign() {
    for blinded in [BLINDED_POS.to_owned(), negative(BLINDED_POS)] {
        let mut s = store();
        let existing = s.get_or_create_user(&blinded.parse().unwrap()).unwrap();
        let u = s
            .resolve_account(&SESSION.parse().unwrap(), Some(&server()))
            .unwrap();
        assert_eq!(u.id, existing.id, "{blinded}");
        let rows: i64 = s
            .connection()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM needs_blinding", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
    }
}

#[test]
fn without_blinding_ids_are_used_as_given() {
    let mut s = store();
    let u = s.resolve_account(&SESSION.parse().unwrap(), None).unwrap();
    assert_eq!(u.session_id, SESSION);
    let rows: i64 = s
        .connection()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM needs_blinding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn startup_records_needs_blinding_for_privileged_unblinded_users() {
    let mut s = store();
    let u = s.resolve_account(&SESSION.parse().unwrap(), None).unwrap();
    s.set_global_moderator(u.id, false, false).unwrap();
    assert_eq!(s.record_needs_blinding(&server()).unwrap(), 1);
    assert_eq!(s.record_needs_blinding(&server()).unwrap(), 0);
    let mods = s.global_moderators().unwrap();
    assert_eq!(mods.hidden_mods, vec![SESSION.to_owned()]);
}
