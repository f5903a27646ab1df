//! Room files (`sogs.md` §1.4): upload, download, on-disk layout, attachment lifetime.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, nonce, now, sign, Server};
use serde_json::json;
use sotto_sogs::store::Permissions;

async fn upload(
    s: &Server,
    user: &common::TestUser,
    token: &str,
    bytes: &[u8],
    disposition: Option<&str>,
) -> common::Resp {
    let uri = format!("/room/{token}/file");
    let h = sign(user, &s.pubkey(), "POST", &uri, bytes, &nonce(), now());
    let extra: Vec<(&str, &str)> = disposition
        .map(|d| vec![("Content-Disposition", d)])
        .unwrap_or_default();
    s.raw("POST", &uri, Some(bytes.to_vec()), Some(&h), &extra)
        .await
}

#[tokio::test]
async fn upload_and_download() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let r = upload(
        &s,
        &u,
        "lobby",
        b"file bytes",
        Some("attachment; filename*=UTF-8''caf%C3%A9 menu.txt"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json(), json!({"id": id}));

    // PySOGS's on-disk layout, recorded in files.path.
    let (path, filename, uploaded, expiry): (String, String, f64, f64) = s
        .state
        .store()
        .sql_query_row(
            "SELECT path, filename, uploaded, expiry FROM files WHERE id = ?1",
            &[id.into()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let expected = s
        .dir
        .path()
        .join("uploads")
        .join("lobby")
        .join(format!("{id}_café_menu.txt"));
    assert_eq!(path, expected.to_string_lossy());
    assert_eq!(std::fs::read(&expected).unwrap(), b"file bytes");
    assert_eq!(filename, "café menu.txt");
    assert!((expiry - uploaded - 3600.0).abs() < 1.0);

    let r = s
        .req("GET", &format!("/room/lobby/file/{id}"), None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"file bytes");
    assert_eq!(r.content_type(), "application/octet-stream");
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename*=UTF-8''caf%C3%A9%20menu.txt"
    );
    assert_eq!(
        r.headers["date"].to_str().unwrap(),
        sotto_sogs::util::http_date(uploaded)
    );
    assert!(r.headers.contains_key("expires"));
    let r = s
        .req(
            "GET",
            &format!("/room/lobby/file/{id}/whatever.png"),
            None,
            None,
        )
        .await;
    assert_eq!(r.body, b"file bytes");

    // Unnamed uploads.
    let r = upload(&s, &u, "lobby", b"anon", None).await;
    let id2 = r.json()["id"].as_i64().unwrap();
    let r = s
        .req("GET", &format!("/room/lobby/file/{id2}"), None, None)
        .await;
    assert_eq!(r.headers["content-disposition"], "attachment");
    assert!(s
        .dir
        .path()
        .join(format!("uploads/lobby/{id2}_(unnamed)"))
        .exists());
}

#[tokio::test]
async fn path_traversal_names_stay_in_the_room_directory() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let r = upload(
        &s,
        &u,
        "lobby",
        b"x",
        Some("attachment; filename=\"../../etc/passwd\""),
    )
    .await;
    let id = r.json()["id"].as_i64().unwrap();
    assert!(s
        .dir
        .path()
        .join(format!("uploads/lobby/{id}_.._.._etc_passwd"))
        .exists());
    let name: String = s
        .state
        .store()
        .sql_query_row(
            "SELECT filename FROM files WHERE id = ?1",
            &[id.into()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "..\u{FFFD}..\u{FFFD}etc\u{FFFD}passwd");
}

#[tokio::test]
async fn upload_errors() {
    let s = Server::with(|c| c.file_max_size = 100);
    let room = s.add_room("lobby");
    let u = s.new_user();
    let r = s
        .req("POST", "/room/lobby/file", Some(b"x".to_vec()), None)
        .await;
    assert_eq!(r.status, 401);
    let r = upload(&s, &u, "nope", b"x", None).await;
    assert_eq!(r.status, 404);
    let r = upload(&s, &u, "lobby", &[0u8; 101], None).await;
    assert_eq!(r.status, 413);
    let uid = s.db_user(&u).id;
    s.state
        .store()
        .set_user_permissions(
            room.id,
            uid,
            &Permissions {
                upload: Some(Some(false)),
                ..Permissions::default()
            },
        )
        .unwrap();
    let r = upload(&s, &u, "lobby", b"x", None).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        s.req("GET", "/room/lobby/file/999", None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        s.req("GET", "/room/lobby/file/abc", None, None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn attached_files_live_longer_and_die_with_their_post() {
    let s = Server::new();
    s.add_room("lobby");
    s.add_room("other");
    let u = s.new_user();
    let id = upload(&s, &u, "lobby", b"pic", None).await.json()["id"]
        .as_i64()
        .unwrap();
    let other_room = upload(&s, &u, "other", b"pic", None).await.json()["id"]
        .as_i64()
        .unwrap();
    let body =
        json!({"data": b64(b"see pic"), "signature": b64(&[1u8; 64]), "files": [id, other_room]});
    let r = s.json("POST", "/room/lobby/message", &body, Some(&u)).await;
    assert_eq!(r.status, 201);
    let msg = r.json()["id"].as_i64().unwrap();
    let expiry = |fid: i64| -> (Option<i64>, f64) {
        s.state
            .store()
            .sql_query_row(
                "SELECT message, expiry - uploaded FROM files WHERE id = ?1",
                &[fid.into()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let (m, life) = expiry(id);
    assert_eq!(m, Some(msg));
    assert!((life - 15.0 * 86_400.0).abs() < 5.0, "{life}");
    assert_eq!(
        expiry(other_room).0,
        None,
        "files of other rooms are not attached"
    );

    let r = s
        .req(
            "DELETE",
            &format!("/room/lobby/message/{msg}"),
            None,
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.req("GET", &format!("/room/lobby/file/{id}"), None, None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn room_image() {
    let s = Server::new();
    s.add_room("lobby");
    let admin = s.new_user();
    s.make_mod(&admin, Some("lobby"), true);
    let id = upload(&s, &admin, "lobby", b"png", None).await.json()["id"]
        .as_i64()
        .unwrap();
    let r = s
        .json("PUT", "/room/lobby", &json!({"image": id}), Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let info = s.req("GET", "/room/lobby", None, None).await.json();
    assert_eq!(info["image_id"], json!(id));
    let r = s
        .req("GET", &format!("/room/lobby/file/{id}"), None, None)
        .await;
    assert!(
        !r.headers.contains_key("expires"),
        "room images never expire"
    );
}

#[tokio::test]
async fn uploads_larger_than_axums_default_limit() {
    let s = Server::new();
    s.add_room("lobby");
    let u = s.new_user();
    let big = vec![0x5a_u8; 5_000_000];
    let r = upload(&s, &u, "lobby", &big, None).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let r = s
        .req("GET", &format!("/room/lobby/file/{id}"), None, None)
        .await;
    assert_eq!(r.body.len(), big.len());
    // The default [files] max_size is 10 MB.
    let r = upload(&s, &u, "lobby", &vec![0u8; 10_000_001], None).await;
    assert_eq!(r.status, 413);
}
