//! `[moderation]`: daily quotas for posts, reactions and uploads, DM limits, and DMs from
//! banned users; moderators exempt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, Server, TestUser};
use serde_json::json;
use sotto_sogs::config::Config;

async fn post(server: &Server, user: &TestUser) -> u16 {
    server
        .json(
            "POST",
            "/room/lobby/message",
            &json!({"data": b64(b"hello\x80\0\0"), "signature": b64(&[7u8; 64])}),
            Some(user),
        )
        .await
        .status
}

#[tokio::test]
async fn daily_post_quota() {
    let server = Server::with(|c| {
        c.testing = true; // no 5-per-16s rate limit in the way
        c.moderation.daily_post_quota = 2;
    });
    server.add_room("lobby");
    let user = server.new_user();
    assert_eq!(post(&server, &user).await, 201);
    assert_eq!(post(&server, &user).await, 201);
    let third = server
        .json(
            "POST",
            "/room/lobby/message",
            &json!({"data": b64(b"x"), "signature": b64(&[7u8; 64])}),
            Some(&user),
        )
        .await;
    assert_eq!(third.status, 429);
    assert!(
        third.text().contains("Daily post quota"),
        "{}",
        third.text()
    );
    // Deleting a post does not give the quota back.
    let mine = server
        .req("GET", "/room/lobby/messages/recent", None, Some(&user))
        .await
        .json();
    let id = mine[0]["id"].as_i64().unwrap();
    let del = server
        .req(
            "DELETE",
            &format!("/room/lobby/message/{id}"),
            None,
            Some(&user),
        )
        .await;
    assert_eq!(del.status, 200);
    assert_eq!(post(&server, &user).await, 429);
    // Others are counted apart; moderators are exempt.
    let other = server.new_user();
    assert_eq!(post(&server, &other).await, 201);
    let moderator = server.new_user();
    server.make_mod(&moderator, Some("lobby"), false);
    for _ in 0..3 {
        assert_eq!(post(&server, &moderator).await, 201);
    }
}

#[tokio::test]
async fn daily_reaction_and_upload_quotas() {
    let server = Server::with(|c| {
        c.testing = true;
        c.moderation.daily_reaction_quota = 1;
        c.moderation.daily_upload_quota = 1;
    });
    server.add_room("lobby");
    let author = server.new_user();
    assert_eq!(post(&server, &author).await, 201);
    let id = server
        .req("GET", "/room/lobby/messages/recent", None, Some(&author))
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let user = server.new_user();
    let react = |r: &'static str| format!("/room/lobby/reaction/{id}/{r}");
    assert_eq!(
        server
            .req("PUT", &react("a"), None, Some(&user))
            .await
            .status,
        200
    );
    let second = server.req("PUT", &react("b"), None, Some(&user)).await;
    assert_eq!(second.status, 429);
    assert!(second.text().contains("reaction quota"));

    assert_eq!(upload(&server, &user).await.status, 201);
    let refused = upload(&server, &user).await;
    assert_eq!(refused.status, 429);
    assert!(refused.text().contains("upload quota"));
    let admin = server.new_user();
    server.make_mod(&admin, None, true);
    assert_eq!(upload(&server, &admin).await.status, 201);
    assert_eq!(upload(&server, &admin).await.status, 201);
}

async fn upload(server: &Server, u: &TestUser) -> common::Resp {
    server
        .req("POST", "/room/lobby/file", Some(b"data".to_vec()), Some(u))
        .await
}

async fn dm(server: &Server, from: &TestUser, to: &TestUser) -> (u16, String) {
    let resp = server
        .json(
            "POST",
            &format!("/inbox/{}", to.id()),
            &json!({"message": b64(b"hi there")}),
            Some(from),
        )
        .await;
    (resp.status, resp.text())
}

#[tokio::test]
async fn dm_minimum_posts() {
    let server = Server::with(|c| {
        c.testing = true;
        c.moderation.dm_min_posts = 1;
    });
    server.add_room("lobby");
    let (alice, bob) = (server.new_user(), server.new_user());
    server.db_user(&bob);
    let (status, text) = dm(&server, &alice, &bob).await;
    assert_eq!(status, 403);
    assert!(text.contains("too few posts"), "{text}");
    assert_eq!(post(&server, &alice).await, 201);
    assert_eq!(dm(&server, &alice, &bob).await.0, 201);
}

#[tokio::test]
async fn dm_minimum_age_and_moderators_exempt() {
    let server = Server::with(|c| c.moderation.dm_min_age = 86_400.0);
    let (alice, bob, moderator) = (server.new_user(), server.new_user(), server.new_user());
    server.db_user(&bob);
    let (status, text) = dm(&server, &alice, &bob).await;
    assert_eq!(status, 403);
    assert!(text.contains("too new"), "{text}");
    // An account known for two days may.
    let id = server.db_user(&alice).id;
    server
        .state
        .store()
        .sql_execute(
            "UPDATE users SET created = created - 172800 WHERE id = ?1",
            &[id.into()],
        )
        .unwrap();
    assert_eq!(dm(&server, &alice, &bob).await.0, 201);
    server.make_mod(&moderator, None, false);
    assert_eq!(dm(&server, &moderator, &bob).await.0, 201);
}

#[tokio::test]
async fn banned_users_cannot_send_dms() {
    let server = Server::new();
    let (alice, bob) = (server.new_user(), server.new_user());
    server.db_user(&bob);
    assert_eq!(dm(&server, &alice, &bob).await.0, 201);
    let id = server.db_user(&alice).id;
    server.state.store().ban_globally(id, None).unwrap();
    let (status, text) = dm(&server, &alice, &bob).await;
    assert_eq!(status, 403, "{text}");
    // Nothing was delivered.
    let inbox = server.req("GET", "/inbox", None, Some(&bob)).await.json();
    assert_eq!(inbox.as_array().unwrap().len(), 1);
}

#[test]
fn moderation_config_keys() {
    let c = Config::from_ini_str(
        "[moderation]\ndaily_post_quota = 50\ndaily_reaction_quota = 200\n\
         daily_upload_quota = 5\ndm_min_posts = 3\ndm_min_age_days = 1.5\n",
    )
    .unwrap();
    assert_eq!(c.moderation.daily_post_quota, 50);
    assert_eq!(c.moderation.daily_reaction_quota, 200);
    assert_eq!(c.moderation.daily_upload_quota, 5);
    assert_eq!(c.moderation.dm_min_posts, 3);
    assert!((c.moderation.dm_min_age - 1.5 * 86_400.0).abs() < 1e-6);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(Config::default().moderation.daily_post_quota, 0);
    for bad in [
        "daily_post_quota = -1",
        "daily_reaction_quota = lots",
        "daily_upload_quota = 1.5",
        "dm_min_posts = ",
        "dm_min_age_days = -2",
    ] {
        let err = Config::from_ini_str(&format!("[moderation]\n{bad}\n")).unwrap_err();
        assert!(err.to_string().contains("[moderation]"), "{bad}: {err}");
    }
    let unknown = Config::from_ini_str("[moderation]\nquota = 1\n").unwrap();
    assert_eq!(unknown.warnings.len(), 1);
}
