//! Content filters through the API: alphabet filters, silent and not, bot replies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{b64, unb64, Server};
use prost::Message as _;
use serde_json::json;
use sotto_message::proto::{Content, DataMessage};
use sotto_sogs::config::FilterSettings;

fn post_data(text: &str) -> Vec<u8> {
    let mut v = Content {
        data_message: Some(DataMessage {
            body: Some(text.to_owned()),
            ..DataMessage::default()
        }),
        ..Content::default()
    }
    .encode_to_vec();
    v.push(0x80);
    v.resize(v.len() + 7, 0);
    v
}

fn body(text: &str) -> serde_json::Value {
    json!({"data": b64(&post_data(text)), "signature": b64(&[1u8; 64])})
}

#[tokio::test]
async fn silent_alphabet_filter_with_whispered_reply() {
    let s = Server::with(|c| {
        c.alphabet_filters.insert("cyrillic".into());
        c.filters.insert(
            ("*".into(), "alphabet".into()),
            FilterSettings {
                reply: Some(vec![r"\p: not here".into()]),
                ..FilterSettings::default()
            },
        );
    });
    s.add_room("lobby");
    let (u, other, m) = (s.new_user(), s.new_user(), s.new_user());
    s.make_mod(&m, Some("lobby"), false);

    let r = s
        .json("POST", "/room/lobby/message", &body("привет"), Some(&u))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["filtered"], json!(true));
    // Never served; the poster sees the bot's whisper, others see nothing.
    let mine = s
        .req("GET", "/room/lobby/messages/recent", None, Some(&u))
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let reply = &mine[0];
    assert_eq!(reply["whisper_to"], json!(u.id()));
    assert!(reply["session_id"].as_str().unwrap().starts_with("15"));
    let data = unb64(reply["data"].as_str().unwrap());
    let content = Content::decode(&data[..data.len() - 2]).unwrap();
    let dm = content.data_message.unwrap();
    assert_eq!(dm.body.unwrap(), format!("{}: not here", u.id()));
    assert_eq!(dm.profile.unwrap().display_name.unwrap(), "SOGS");
    let theirs = s
        .req("GET", "/room/lobby/messages/recent", None, Some(&other))
        .await
        .json();
    assert_eq!(theirs, json!([]));

    // Latin text passes; moderators are not filtered.
    let r = s
        .json("POST", "/room/lobby/message", &body("hello"), Some(&u))
        .await;
    assert!(r.json().get("filtered").is_none());
    let r = s
        .json("POST", "/room/lobby/message", &body("привет"), Some(&m))
        .await;
    assert!(r.json().get("filtered").is_none());

    // A silently filtered edit is dropped.
    let id = s
        .json("POST", "/room/lobby/message", &body("hi"), Some(&other))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/room/lobby/message/{id}");
    let r = s.json("PUT", &path, &body("пока"), Some(&other)).await;
    assert_eq!(r.status, 200);
    let msg = s.req("GET", &path, None, None).await.json();
    assert_eq!(unb64(msg["data"].as_str().unwrap()), post_data("hi"));
}

#[tokio::test]
async fn loud_alphabet_filter_is_429() {
    let s = Server::with(|c| {
        c.alphabet_filters.insert("arabic".into());
        c.alphabet_silent = false;
    });
    s.add_room("lobby");
    let u = s.new_user();
    let r = s
        .json("POST", "/room/lobby/message", &body("مرحبا"), Some(&u))
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (429, "filtration rejected message (alphabet)")
    );
    let r = s
        .req("GET", "/room/lobby/messages/recent", None, Some(&u))
        .await;
    assert_eq!(r.json(), json!([]));
}

#[tokio::test]
async fn profanity_filter_loud_silent_and_custom_list() {
    // The default list, refusing.
    let s = Server::with(|c| {
        c.profanity_filter = true;
        c.profanity_silent = false;
    });
    s.add_room("lobby");
    let u = s.new_user();
    let r = s
        .json(
            "POST",
            "/room/lobby/message",
            &body("what a b*tch"),
            Some(&u),
        )
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (429, "filtration rejected message (profanity)")
    );
    let r = s
        .json(
            "POST",
            "/room/lobby/message",
            &body("what a class act"),
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 201);
    // An edit into profanity is refused too, and the post keeps its text.
    let id = r.json()["id"].as_i64().unwrap();
    let path = format!("/room/lobby/message/{id}");
    let r = s.json("PUT", &path, &body("bull shit"), Some(&u)).await;
    assert_eq!(r.status, 429);
    let msg = s.req("GET", &path, None, None).await.json();
    assert_eq!(
        unb64(msg["data"].as_str().unwrap()),
        post_data("what a class act")
    );

    // A custom list replaces the default; silent filtering stores but never serves.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("words.txt");
    std::fs::write(&list, "kumquat\n").unwrap();
    let s = Server::with(|c| {
        c.profanity_filter = true;
        c.profanity_custom = Some(list.clone());
    });
    s.add_room("lobby");
    let u = s.new_user();
    let r = s
        .json(
            "POST",
            "/room/lobby/message",
            &body("KUMQU@7 time"),
            Some(&u),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["filtered"], json!(true));
    let r = s
        .json(
            "POST",
            "/room/lobby/message",
            &body("fuck, a fig"),
            Some(&u),
        )
        .await;
    assert!(r.json().get("filtered").is_none());
    let seen = s
        .req("GET", "/room/lobby/messages/recent", None, None)
        .await
        .json();
    assert_eq!(seen.as_array().unwrap().len(), 1);
}
