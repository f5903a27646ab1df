//! The periodic cleanup (`sogs.md` §3 "Retention") through the API's effects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{nonce, now, sign, Server};
use serde_json::json;
use sotto_sogs::server::cleanup_once;

#[tokio::test]
async fn timed_bans_and_future_permissions_are_applied() {
    let s = Server::new();
    let room = s.add_room("lobby");
    let (m, u, g) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let uid = s.db_user(&u).id;
    let gid = s.db_user(&g).id;
    let t = now() as f64;
    {
        let mut store = s.state.store();
        store.ban_from_room(room.id, uid, Some(t - 1.0)).unwrap();
        store.ban_globally(gid, Some(t - 1.0)).unwrap();
        store
            .add_future_permission(room.id, uid, t - 1.0, None, Some(false), None)
            .unwrap();
        // Not yet due.
        store
            .add_future_permission(room.id, uid, t + 3600.0, None, None, Some(false))
            .unwrap();
    }
    assert_eq!(
        s.req("GET", "/room/lobby", None, Some(&u)).await.status,
        404
    );
    let report = cleanup_once(&s.state).unwrap();
    assert_eq!(report.permission_updates, 3);
    assert_eq!(
        s.req("GET", "/room/lobby", None, Some(&u)).await.status,
        200
    );
    assert_eq!(
        s.req("GET", "/capabilities", None, Some(&g)).await.status,
        200
    );
    let perms = s
        .req(
            "GET",
            &format!("/room/lobby/permissions/{}", u.id()),
            None,
            Some(&m),
        )
        .await
        .json();
    assert_eq!(perms, json!({"write": false}));
    let futures = s
        .req(
            "GET",
            &format!("/room/lobby/futurePermissions/{}", u.id()),
            None,
            Some(&m),
        )
        .await
        .json();
    assert_eq!(futures.as_array().unwrap().len(), 1);
    assert_eq!(futures[0]["upload"], json!(false));
}

#[tokio::test]
async fn expired_files_nonces_and_activity() {
    let s = Server::new();
    let room = s.add_room("lobby");
    let u = s.new_user();
    let uri = "/room/lobby/file";
    let h = sign(&u, &s.pubkey(), "POST", uri, b"bytes", &nonce(), now());
    let r = s
        .raw("POST", uri, Some(b"bytes".to_vec()), Some(&h), &[])
        .await;
    let id = r.json()["id"].as_i64().unwrap();
    let path: String = s
        .state
        .store()
        .sql_query_row("SELECT path FROM files WHERE id = ?1", &[id.into()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(std::path::Path::new(&path).exists());
    s.req("GET", "/room/lobby/pollInfo/0", None, Some(&u)).await;
    {
        let store = s.state.store();
        store
            .sql_execute("UPDATE files SET expiry = 1", &[])
            .unwrap();
        store
            .sql_execute("UPDATE user_request_nonces SET expiry = 1", &[])
            .unwrap();
    }
    let report = cleanup_once(&s.state).unwrap();
    assert_eq!(report.files, 1);
    assert!(report.nonces >= 2);
    assert!(!std::path::Path::new(&path).exists());
    assert_eq!(s.room("lobby").active_users, 1);
    assert_eq!(room.active_users, 0);
    // A second pass has nothing to do.
    let report = cleanup_once(&s.state).unwrap();
    assert_eq!(
        (report.files, report.nonces, report.permission_updates),
        (0, 0, 0)
    );
}
