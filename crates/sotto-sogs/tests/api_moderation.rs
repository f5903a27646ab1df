//! Moderators and bans (`sogs.md` §1.5), room and global, with timeouts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::Server;
use serde_json::json;

#[tokio::test]
async fn appoint_and_remove_room_moderators() {
    let s = Server::new();
    s.add_room("lobby");
    s.add_room("other");
    let (admin, u, m) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&admin, Some("lobby"), true);
    s.make_mod(&m, Some("lobby"), false);
    let path = format!("/user/{}/moderator", u.id());

    let body = json!({"rooms": ["lobby"], "moderator": true});
    assert_eq!(s.json("POST", &path, &body, None).await.status, 401);
    assert_eq!(
        s.json("POST", &path, &body, Some(&m)).await.status,
        403,
        "mods cannot appoint"
    );
    let r = s
        .json(
            "POST",
            &path,
            &json!({"rooms": ["other"], "moderator": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 403, "not admin there");
    let r = s
        .json(
            "POST",
            &path,
            &json!({"rooms": ["nope"], "moderator": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 403, "unknown rooms are 403");
    for bad in [
        json!({"rooms": ["lobby"]}),
        json!({"rooms": ["lobby"], "admin": true, "moderator": false}),
        json!({"moderator": true}),
        json!({"rooms": ["lobby"], "global": true, "moderator": true}),
        json!({"rooms": ["lobby", "*"], "moderator": true}),
        json!({"rooms": "lobby", "moderator": true}),
    ] {
        assert_eq!(
            s.json("POST", &path, &bad, Some(&admin)).await.status,
            400,
            "{bad}"
        );
    }

    let before = s.room("lobby").info_updates;
    let r = s.json("POST", &path, &body, Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"info_updates": {"lobby": before + 1}}));
    let info = s.req("GET", "/room/lobby", None, None).await.json();
    assert_eq!(info["moderators"].as_array().unwrap().len(), 2);

    // Hidden admin via "*".
    let r = s
        .json(
            "POST",
            &path,
            &json!({"rooms": ["*"], "admin": true, "visible": false}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200);
    let info = s.req("GET", "/room/lobby", None, Some(&admin)).await.json();
    assert_eq!(info["hidden_admins"], json!([u.id()]));
    // Demote to moderator, then remove.
    let r = s
        .json(
            "POST",
            &path,
            &json!({"rooms": ["lobby"], "admin": false, "moderator": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200);
    let info = s.req("GET", "/room/lobby", None, Some(&u)).await.json();
    assert_eq!(info["moderator"], json!(true));
    assert!(info.get("admin").is_none());
    let r = s
        .json(
            "POST",
            &path,
            &json!({"rooms": ["lobby"], "moderator": false}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200);
    let info = s.req("GET", "/room/lobby", None, Some(&u)).await.json();
    assert!(info.get("moderator").is_none());
}

#[tokio::test]
async fn global_moderators() {
    let s = Server::new();
    s.add_room("a");
    s.add_room("b");
    let (g, gm, u) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&g, None, true);
    s.make_mod(&gm, None, false);
    let path = format!("/user/{}/moderator", u.id());
    let body = json!({"global": true, "moderator": true});
    assert_eq!(s.json("POST", &path, &body, Some(&gm)).await.status, 403);
    let r = s.json("POST", &path, &body, Some(&g)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let updates = r.json()["info_updates"].clone();
    assert_eq!(updates.as_object().unwrap().len(), 2);
    let info = s.req("GET", "/room/a", None, Some(&u)).await.json();
    assert_eq!(info["global_moderator"], json!(true));
    assert_eq!(info["moderator"], json!(true));
    // Hidden by default for global mods.
    let info = s.req("GET", "/room/a", None, None).await.json();
    assert!(!info["moderators"]
        .as_array()
        .unwrap()
        .contains(&json!(u.id())));
    let info = s.req("GET", "/room/a", None, Some(&g)).await.json();
    assert_eq!(info["hidden_moderators"], json!([u.id()]));
    // Unblinded IDs are accepted here (AnySessionID) and map to the blinded account.
    let path05 = format!("/user/{}/moderator", u.session_id());
    let r = s
        .json(
            "POST",
            &path05,
            &json!({"global": true, "moderator": false}),
            Some(&g),
        )
        .await;
    assert_eq!(r.status, 200);
    let info = s.req("GET", "/room/a", None, Some(&u)).await.json();
    assert!(info.get("global_moderator").is_none(), "{info}");
}

#[tokio::test]
async fn room_bans_and_unbans() {
    let s = Server::new();
    s.add_room("lobby");
    let (m, u, other_mod, admin) = (s.new_user(), s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);
    s.make_mod(&other_mod, Some("lobby"), false);
    s.make_mod(&admin, Some("lobby"), true);
    let ban = format!("/user/{}/ban", u.id());
    let body = json!({"rooms": ["lobby"]});

    assert_eq!(s.json("POST", &ban, &body, None).await.status, 401);
    let outsider = s.new_user();
    assert_eq!(
        s.json("POST", &ban, &body, Some(&outsider)).await.status,
        403
    );
    let r = s
        .json("POST", &format!("/user/{}/ban", m.id()), &body, Some(&m))
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, "Permission denied"),
        "no self-ban"
    );
    let r = s
        .json(
            "POST",
            &format!("/user/{}/ban", other_mod.id()),
            &body,
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 403, "banning a mod needs admin");
    let r = s
        .json(
            "POST",
            &ban,
            &json!({"rooms": ["lobby"], "timeout": "1h"}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = s.json("POST", &ban, &body, Some(&m)).await;
    assert_eq!((r.status, r.json()), (200, json!({})));
    // Banned from the room: it is invisible and posting fails.
    assert_eq!(
        s.req("GET", "/room/lobby", None, Some(&u)).await.status,
        404
    );
    let post = json!({"data": common::b64(b"x"), "signature": common::b64(&[1u8; 64])});
    assert_eq!(
        s.json("POST", "/room/lobby/message", &post, Some(&u))
            .await
            .status,
        403
    );
    let r = s
        .req("GET", "/room/lobby/permissions", None, Some(&m))
        .await;
    assert_eq!(r.json()[u.id()], json!({"banned": true}));

    let unban = format!("/user/{}/unban", u.id());
    let r = s.json("POST", &unban, &body, Some(&m)).await;
    assert_eq!((r.status, r.json()), (200, json!({})));
    assert_eq!(
        s.req("GET", "/room/lobby", None, Some(&u)).await.status,
        200
    );

    // A timed ban schedules the unban; a new ban replaces the schedule.
    let r = s
        .json(
            "POST",
            &ban,
            &json!({"rooms": ["lobby"], "timeout": 3600}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 200);
    let f = s
        .req("GET", "/room/lobby/futurePermissions", None, Some(&m))
        .await
        .json();
    assert_eq!(f.as_array().unwrap().len(), 1);
    assert_eq!(f[0]["banned"], json!(false));
    assert_eq!(f[0]["session_id"], json!(u.id()));
    s.json("POST", &ban, &json!({"rooms": ["lobby"]}), Some(&m))
        .await;
    let f = s
        .req("GET", "/room/lobby/futurePermissions", None, Some(&m))
        .await
        .json();
    assert_eq!(f, json!([]));

    // Admins can ban mods, which strips their role.
    let r = s
        .json(
            "POST",
            &format!("/user/{}/ban", other_mod.id()),
            &body,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200);
    let info = s.req("GET", "/room/lobby", None, Some(&admin)).await.json();
    assert_eq!(info["moderators"], json!([m.id()]));
}

#[tokio::test]
async fn global_bans() {
    let s = Server::new();
    s.add_room("lobby");
    let (g, u, room_mod) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&g, None, false);
    s.make_mod(&room_mod, Some("lobby"), false);
    let body = json!({"global": true, "timeout": 60.5});
    let ban = format!("/user/{}/ban", u.id());
    assert_eq!(
        s.json("POST", &ban, &body, Some(&room_mod)).await.status,
        403
    );
    assert_eq!(
        s.json(
            "POST",
            &format!("/user/{}/ban", g.id()),
            &json!({"global": true}),
            Some(&g)
        )
        .await
        .status,
        403,
        "global mods cannot be banned"
    );
    assert_eq!(s.json("POST", &ban, &body, Some(&g)).await.status, 200);
    let r = s.req("GET", "/capabilities", None, Some(&u)).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Banned"));
    let at: f64 = s
        .state
        .store()
        .sql_query_row(
            "SELECT at FROM user_ban_futures WHERE room IS NULL",
            &[],
            |r| r.get(0),
        )
        .unwrap();
    assert!(at > common::now() as f64);
    let r = s
        .json(
            "POST",
            &format!("/user/{}/unban", u.id()),
            &json!({"global": true}),
            Some(&g),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.req("GET", "/capabilities", None, Some(&u)).await.status,
        200
    );
}
