//! Rooms (`sogs.md` §1.2): room info, pollInfo, settings, permissions and futures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::Server;
use serde_json::json;
use sotto_sogs::store::Permissions;

#[tokio::test]
async fn room_info_shape_and_types() {
    let s = Server::new();
    s.add_room("lobby");
    let r = s.req("GET", "/room/lobby", None, None).await;
    assert_eq!(r.status, 200);
    let info = r.json();
    assert_eq!(info["token"], json!("lobby"));
    assert_eq!(info["name"], json!("Room lobby"));
    assert_eq!(info["description"], json!("A room"));
    assert!(info["created"].is_f64(), "{info}");
    assert!(info["info_updates"].is_i64());
    assert_eq!(info["message_sequence"], json!(0));
    assert_eq!(info["active_users"], json!(0));
    assert_eq!(info["active_users_cutoff"], json!(604_800));
    assert_eq!(info["moderators"], json!([]));
    assert_eq!(info["admins"], json!([]));
    assert_eq!(info["read"], json!(true));
    assert_eq!(info["write"], json!(true));
    assert_eq!(info["upload"], json!(true));
    for absent in [
        "image_id",
        "pinned_messages",
        "hidden_moderators",
        "moderator",
        "admin",
    ] {
        assert!(info.get(absent).is_none(), "{absent} in {info}");
    }
}

#[tokio::test]
async fn unknown_or_inaccessible_room_is_404() {
    let s = Server::new();
    let room = s.add_room("secret");
    assert_eq!(s.req("GET", "/room/nope", None, None).await.status, 404);
    assert_eq!(
        s.req("GET", "/room/bad.token", None, None).await.status,
        404
    );
    s.state
        .store()
        .set_default_permissions(
            room.id,
            &Permissions {
                read: Some(Some(false)),
                accessible: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    assert_eq!(s.req("GET", "/room/secret", None, None).await.status, 404);
    let r = s.req("GET", "/rooms", None, None).await;
    assert_eq!(r.json(), json!([]));
    // A moderator still sees it, with the hidden details.
    let m = s.new_user();
    s.make_mod(&m, Some("secret"), false);
    let r = s.req("GET", "/room/secret", None, Some(&m)).await;
    assert_eq!(r.status, 200);
    let info = r.json();
    assert_eq!(info["moderator"], json!(true));
    assert_eq!(info["default_read"], json!(false));
    assert_eq!(info["moderators"], json!([m.id()]));
    // As in PySOGS, `/rooms` goes by the read/accessible flags, which room mods do not
    // override (global mods do).
    let r = s.req("GET", "/rooms", None, Some(&m)).await;
    assert_eq!(r.json(), json!([]));
    let g = s.new_user();
    s.make_mod(&g, None, false);
    let r = s.req("GET", "/rooms", None, Some(&g)).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn rooms_list_is_sorted_and_skips_banned() {
    let s = Server::new();
    for t in ["zeta", "alpha", "mid"] {
        s.add_room(t);
    }
    let u = s.new_user();
    let uid = s.db_user(&u).id;
    let mid = s.room("mid");
    s.state.store().ban_from_room(mid.id, uid, None).unwrap();
    let tokens = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["token"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = s.req("GET", "/rooms", None, None).await;
    assert_eq!(tokens(r.json()), ["alpha", "mid", "zeta"]);
    let r = s.req("GET", "/rooms", None, Some(&u)).await;
    assert_eq!(tokens(r.json()), ["alpha", "zeta"]);
    // Room-banned: the room is invisible (404), not forbidden.
    assert_eq!(s.req("GET", "/room/mid", None, Some(&u)).await.status, 404);
}

#[tokio::test]
async fn hidden_and_global_moderators() {
    let s = Server::new();
    s.add_room("lobby");
    let (a, g, plain) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&a, Some("lobby"), true);
    s.make_mod(&g, None, true);
    {
        let id = s.db_user(&g).id;
        s.state
            .store()
            .set_global_moderator(id, true, false)
            .unwrap();
    }
    let info = s.req("GET", "/room/lobby", None, Some(&plain)).await.json();
    assert_eq!(info["admins"], json!([a.id()]));
    assert!(info.get("hidden_admins").is_none());
    let info = s.req("GET", "/room/lobby", None, Some(&g)).await.json();
    assert_eq!(info["hidden_admins"], json!([g.id()]));
    assert_eq!(info["global_admin"], json!(true));
    assert_eq!(info["global_moderator"], json!(true));
    assert_eq!(info["admin"], json!(true));
}

#[tokio::test]
async fn poll_info_details_only_when_changed() {
    let s = Server::new();
    let room = s.add_room("lobby");
    let u = s.new_user();
    let r = s.req("GET", "/room/lobby/pollInfo/0", None, Some(&u)).await;
    assert_eq!(r.status, 200);
    let p = r.json();
    assert_eq!(p["token"], json!("lobby"));
    assert_eq!(p["read"], json!(true));
    let n = room.info_updates;
    if n != 0 {
        assert_eq!(p["details"]["token"], json!("lobby"));
    }
    let r = s
        .req("GET", &format!("/room/lobby/pollInfo/{n}"), None, Some(&u))
        .await;
    assert!(r.json().get("details").is_none());
    let r = s
        .req(
            "GET",
            &format!("/room/lobby/pollInfo/{}", n + 1),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.json()["details"]["info_updates"], json!(n));
    // Activity was recorded.
    let active: i64 = s
        .state
        .store()
        .sql_query_row("SELECT COUNT(*) FROM room_users", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(active, 1);
    assert_eq!(
        s.req("GET", "/room/lobby/pollInfo/x", None, Some(&u))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn poll_info_needs_read() {
    let s = Server::new();
    let room = s.add_room("lobby");
    s.state
        .store()
        .set_default_permissions(
            room.id,
            &Permissions {
                read: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = s.req("GET", "/room/lobby/pollInfo/0", None, None).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text(),
        "This endpoint requires room message 'read' permission"
    );
    // Still accessible: room info works.
    assert_eq!(s.req("GET", "/room/lobby", None, None).await.status, 200);
}

#[tokio::test]
async fn update_room_as_admin() {
    let s = Server::new();
    s.add_room("lobby");
    let (admin, m, u) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    s.make_mod(&m, Some("lobby"), false);
    let body =
        json!({"name": "New\u{1}Name", "description": "line\n\ttab\u{2}", "default_write": false});
    let r = s.json("PUT", "/room/lobby", &body, None).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, "X-SOGS-* request authentication required")
    );
    let r = s.json("PUT", "/room/lobby", &body, Some(&u)).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "This endpoint requires admin room permissions")
    );
    let r = s.json("PUT", "/room/lobby", &body, Some(&m)).await;
    assert_eq!(r.status, 403);
    let before = s.room("lobby").info_updates;
    let r = s.json("PUT", "/room/lobby", &body, Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"info_updates": before + 2}));
    let room = s.room("lobby");
    assert_eq!(room.name, "NewName");
    assert_eq!(room.description.as_deref(), Some("line\n\ttab"));
    assert!(!room.default_write);

    for bad in [
        json!({}),
        json!({"name": 5}),
        json!({"default_read": "yes"}),
        json!([1]),
    ] {
        let r = s.json("PUT", "/room/lobby", &bad, Some(&admin)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = s
        .req(
            "PUT",
            "/room/lobby",
            Some(b"{not json".to_vec()),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .json("PUT", "/room/lobby", &json!({"image": 999}), Some(&admin))
        .await;
    assert_eq!(r.status, 406);
    let r = s
        .json(
            "PUT",
            "/room/lobby",
            &json!({"description": ""}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.room("lobby").description, None);
}

#[tokio::test]
async fn permissions_and_future_permissions() {
    let s = Server::new();
    s.add_room("lobby");
    let (m, u, other) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    let path = format!("/room/lobby/permissions/{}", u.id());

    let r = s
        .json("POST", &path, &json!({"write": false}), Some(&other))
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "This endpoint requires moderator room permissions")
    );
    let r = s.req("GET", "/room/lobby/permissions", None, None).await;
    assert_eq!(r.status, 401);

    let r = s
        .json(
            "POST",
            &path,
            &json!({"write": false, "upload": true}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"write": false, "upload": true}));
    let r = s.req("GET", &path, None, Some(&m)).await;
    assert_eq!(r.json(), json!({"write": false, "upload": true}));
    let r = s
        .req("GET", "/room/lobby/permissions", None, Some(&m))
        .await;
    assert_eq!(
        r.json(),
        json!({ m.id(): {"moderator": true}, u.id(): {"write": false, "upload": true} })
    );
    // The user now cannot post.
    let info = s.req("GET", "/room/lobby", None, Some(&u)).await.json();
    assert_eq!(info["write"], json!(false));

    let r = s
        .json(
            "POST",
            &path,
            &json!({"write": true, "default_write": true}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .json(
            "POST",
            &path,
            &json!({"default_write": true, "default_upload": true}),
            Some(&m),
        )
        .await;
    assert_eq!(r.json(), json!({}));
    // Unknown users have no overrides; 05 IDs are not SessionIDs on a blinded server.
    let r = s
        .req(
            "GET",
            &format!("/room/lobby/permissions/{}", other.id()),
            None,
            Some(&m),
        )
        .await;
    assert_eq!(r.json(), json!({}));
    let r = s
        .req(
            "GET",
            &format!("/room/lobby/permissions/{}", u.session_id()),
            None,
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 404);

    // Futures.
    let fpath = format!("/room/lobby/futurePermissions/{}", u.id());
    let r = s
        .json("POST", &fpath, &json!({"read": false, "in": 60}), Some(&m))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["read"], json!(false));
    assert!(list[0]["at"].is_f64());
    assert!(list[0].get("session_id").is_none());
    let all = s
        .req("GET", "/room/lobby/futurePermissions", None, Some(&m))
        .await
        .json();
    assert_eq!(all[0]["session_id"], json!(u.id()));
    for bad in [
        json!({"in": 60}),
        json!({"read": true}),
        json!({"read": true, "in": 0}),
        json!({"read": true, "in": 1e9}),
        json!({"read": true, "in": "5"}),
    ] {
        let r = s.json("POST", &fpath, &bad, Some(&m)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    // Setting read now unschedules the read future.
    let r = s
        .json("POST", &path, &json!({"read": true}), Some(&m))
        .await;
    assert_eq!(r.status, 200);
    let r = s.req("GET", &fpath, None, Some(&m)).await;
    assert_eq!(r.json(), json!([]));
}
