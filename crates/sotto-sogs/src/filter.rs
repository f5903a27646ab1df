//! Content filters (`sogs.md` §4, PySOGS `Room.should_filter`): posts whose text uses a
//! filtered alphabet are refused (429) or silently stored as `filtered` (never served), and may
//! be answered by a bot reply. With `profanity_filter`, the post's body and display name are
//! also checked against a word list ([`crate::profanity`]), after the alphabets.

use blake2::digest::consts::U32;
use blake2::digest::Mac;
use blake2::Blake2bMac;
use ed25519_dalek::{Signer as _, SigningKey};
use prost::Message as _;
use rand_core::{OsRng, RngCore};
use sotto_message::proto::{Content, DataMessage, LokiProfile};

use crate::config::Config;
use crate::profanity::WordList;

/// Key of the BLAKE2b hash that derives a reply bot's key (`sogsfiltering`).
const BOT_KEY_PERSONAL: &[u8] = b"sogsfiltering";
/// Protobuf tag of `Content.dataMessage` (field 1, length-delimited).
const CONTENT_DATA_MESSAGE_TAG: u8 = 0x0a;
/// Protobuf tag of `DataMessage.timestamp` (field 7, varint).
const DATA_MESSAGE_TIMESTAMP_TAG: u8 = 0x38;
/// Default bot display name (`filter_should_reply`).
const DEFAULT_PROFILE_NAME: &str = "SOGS";

/// Does `c` belong to the alphabet PySOGS's pattern for `lang` matches?
fn in_alphabet(lang: &str, c: char) -> bool {
    let u = u32::from(c);
    match lang {
        "persian" => matches!(u,
            0x0621..=0x0628 | 0x062a..=0x063a | 0x0641..=0x0642 | 0x0644..=0x0648
            | 0x064e..=0x0651 | 0x0655 | 0x067e | 0x0686 | 0x0698 | 0x06a9 | 0x06af | 0x06be
            | 0x06cc),
        "arabic" => matches!(u,
            0x0600..=0x06ff | 0x0750..=0x077f | 0x08a0..=0x08ff | 0xfb50..=0xfdff | 0xfe70..=0xfefe),
        "cyrillic" => matches!(u, 0x0400..=0x04ff),
        _ => false,
    }
}

/// The alphabets PySOGS checks, in its order.
const ALPHABETS: [&str; 3] = ["persian", "arabic", "cyrillic"];

/// A reply the bot posts about a filtered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotReply {
    /// The bot's session ID (`15` ‖ its Ed25519 key).
    pub session_id: String,
    /// The padded protobuf `Content` (ending `0x80 0x00`).
    pub data: Vec<u8>,
    /// The bot's signature over `data`.
    pub signature: [u8; 64],
    /// Whisper it to the poster (else public).
    pub whisper: bool,
}

/// What the filters decided about a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not filtered.
    Pass,
    /// Store it as `filtered` (never served); post the reply, if any, after it.
    Silent(Option<BotReply>),
    /// Refuse it with 429 `filtration rejected message (<type>)`; post the reply, if any.
    Reject(&'static str, Option<BotReply>),
}

/// Who posted, for the reply text.
#[derive(Debug, Clone, Copy)]
pub struct Poster<'a> {
    /// The poster's session ID.
    pub session_id: &'a str,
    /// The room's name.
    pub room_name: &'a str,
    /// The room's token.
    pub room_token: &'a str,
}

/// Apply the room's filters to a post's padded `data` (the caller skips moderators unless
/// `[messages] filter_mods`). `server_seed` is the key file's 32 bytes (the bots' key seed);
/// `words` is the profanity word list, loaded when a profanity filter is on anywhere.
pub fn check(
    config: &Config,
    server_seed: &[u8; 32],
    words: Option<&WordList>,
    poster: Poster<'_>,
    data: &[u8],
) -> Verdict {
    let room = config.room_overrides.get(poster.room_token);
    let alphabets = room
        .and_then(|o| o.alphabet_filters.as_ref())
        .unwrap_or(&config.alphabet_filters);
    let profanity = room
        .and_then(|o| o.profanity_filter)
        .unwrap_or(config.profanity_filter);
    if alphabets.is_empty() && !profanity {
        return Verdict::Pass;
    }
    let message = Content::decode(crate::util::remove_padding(data))
        .ok()
        .and_then(|c| c.data_message);
    let text = message
        .as_ref()
        .and_then(|m| m.body.as_deref())
        .unwrap_or("");
    let username = message
        .as_ref()
        .and_then(|m| m.profile.as_ref())
        .and_then(|p| p.display_name.as_deref());
    let (kind, lang, silent) = if let Some(lang) = ALPHABETS
        .into_iter()
        .filter(|l| alphabets.contains(*l))
        .find(|l| text.chars().any(|c| in_alphabet(l, c)))
    {
        ("alphabet", Some(lang), config.alphabet_silent)
    } else if profanity
        && words.is_some_and(|w| {
            // PySOGS checks the body, then the display name (`""` when unset).
            w.contains_profanity(text) || w.contains_profanity(username.unwrap_or(""))
        })
    {
        let silent = room
            .and_then(|o| o.profanity_silent)
            .unwrap_or(config.profanity_silent);
        ("profanity", None, silent)
    } else {
        return Verdict::Pass;
    };
    let reply = bot_reply(config, server_seed, poster, username, kind, lang);
    match (silent, kind) {
        (true, _) => Verdict::Silent(reply),
        (false, "alphabet") => Verdict::Reject("filtration rejected message (alphabet)", reply),
        (false, _) => Verdict::Reject("filtration rejected message (profanity)", reply),
    }
}

/// Is a profanity filter on for the server or any room? Then the word list must be loaded.
pub fn profanity_enabled(config: &Config) -> bool {
    config.profanity_filter
        || config
            .room_overrides
            .values()
            .any(|o| o.profanity_filter == Some(true))
}

/// The word list `[messages] profanity_custom` names, or the default one.
pub fn load_words(config: &Config) -> std::io::Result<WordList> {
    match &config.profanity_custom {
        Some(path) => WordList::from_file(path),
        None => Ok(WordList::default_list()),
    }
}

/// The reply settings (`filter_should_reply`): room `*` then the room, each with filter `*`,
/// then the filter type, then the language, later ones winning.
fn bot_reply(
    config: &Config,
    server_seed: &[u8; 32],
    poster: Poster<'_>,
    username: Option<&str>,
    kind: &str,
    lang: Option<&str>,
) -> Option<BotReply> {
    let mut replies: Option<&Vec<String>> = None;
    let mut profile_name = DEFAULT_PROFILE_NAME;
    let mut public = false;
    for room in ["*", poster.room_token] {
        for filter in ["*", kind].into_iter().chain(lang) {
            let Some(s) = config.filters.get(&(room.to_owned(), filter.to_owned())) else {
                continue;
            };
            if let Some(r) = &s.reply {
                replies = Some(r);
            }
            if let Some(p) = &s.profile_name {
                profile_name = p;
            }
            if let Some(p) = s.public {
                public = p;
            }
        }
    }
    let replies = replies.filter(|r| !r.is_empty())?;
    let pick = usize::try_from(OsRng.next_u32()).unwrap_or(0) % replies.len();
    let template = replies.get(pick)?;
    let body = expand(
        template,
        username.unwrap_or(poster.session_id),
        poster.session_id,
        poster.room_name,
        poster.room_token,
    );
    let key = bot_key(profile_name, server_seed);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // ms since 1970
    let timestamp = (crate::util::now() * 1000.0) as u64;
    let message = DataMessage {
        body: Some(body),
        profile: Some(LokiProfile {
            display_name: Some(profile_name.to_owned()),
            ..LokiProfile::default()
        }),
        ..DataMessage::default()
    };
    // `DataMessage.timestamp` (field 7, which PySOGS sets) is not in our schema: append it by
    // hand, then wrap the message as `Content.dataMessage` (field 1).
    let mut inner = message.encode_to_vec();
    inner.push(DATA_MESSAGE_TIMESTAMP_TAG);
    prost::encoding::encode_varint(timestamp, &mut inner);
    let mut data = vec![CONTENT_DATA_MESSAGE_TAG];
    prost::encoding::encode_varint(inner.len() as u64, &mut data);
    data.extend_from_slice(&inner);
    data.extend_from_slice(&[0x80, 0x00]);
    let signature = key.sign(&data).to_bytes();
    Some(BotReply {
        session_id: format!("15{}", hex::encode(key.verifying_key().as_bytes())),
        data,
        signature,
        whisper: !public,
    })
}

/// A bot's key: BLAKE2b-256(profile name ‖ server seed, key `sogsfiltering`) as an Ed25519
/// seed.
fn bot_key(profile_name: &str, server_seed: &[u8; 32]) -> SigningKey {
    let seed: [u8; 32] = match Blake2bMac::<U32>::new_from_slice(BOT_KEY_PERSONAL) {
        Ok(mut mac) => {
            mac.update(profile_name.as_bytes());
            mac.update(server_seed);
            mac.finalize().into_bytes().into()
        }
        // A 13-byte key is always accepted.
        Err(_) => [0u8; 32],
    };
    SigningKey::from_bytes(&seed)
}

/// Expand a reply template's escapes (`sogs/config.py` `reply_to_format`): `\@` the poster's
/// `@` ID, `\p` their name, `\r` the room name, `\t` the room token, `\n` a newline, `\\` a
/// backslash. (PySOGS turns `\t` into a format field it then fails to fill; we fill it.)
fn expand(template: &str, name: &str, session_id: &str, room_name: &str, token: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('@') => {
                out.push('@');
                out.push_str(session_id);
            }
            Some('p') => out.push_str(name),
            Some('r') => out.push_str(room_name),
            Some('t') => out.push_str(token),
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::config::FilterSettings;

    fn post(text: &str, name: Option<&str>) -> Vec<u8> {
        let c = Content {
            data_message: Some(DataMessage {
                body: Some(text.to_owned()),
                profile: name.map(|n| LokiProfile {
                    display_name: Some(n.to_owned()),
                    ..LokiProfile::default()
                }),
                ..DataMessage::default()
            }),
            ..Content::default()
        };
        let mut v = c.encode_to_vec();
        v.push(0x80);
        v
    }

    const POSTER: Poster<'static> = Poster {
        session_id: "15aa",
        room_name: "Lobby",
        room_token: "lobby",
    };

    #[test]
    fn alphabets() {
        let mut config = Config::default();
        assert_eq!(
            check(&config, &[0; 32], None, POSTER, &post("привет", None)),
            Verdict::Pass
        );
        config.alphabet_filters.insert("cyrillic".into());
        assert_eq!(
            check(&config, &[0; 32], None, POSTER, &post("привет", None)),
            Verdict::Silent(None)
        );
        assert_eq!(
            check(&config, &[0; 32], None, POSTER, &post("hello", None)),
            Verdict::Pass
        );
        assert_eq!(
            check(&config, &[0; 32], None, POSTER, b"not protobuf"),
            Verdict::Pass
        );
        config.alphabet_silent = false;
        assert!(matches!(
            check(&config, &[0; 32], None, POSTER, &post("привет", None)),
            Verdict::Reject("filtration rejected message (alphabet)", None)
        ));
        // Room overrides replace the global list.
        config.room_overrides.insert(
            "lobby".into(),
            crate::config::RoomOverrides {
                alphabet_filters: Some(["arabic".to_owned()].into()),
                ..Default::default()
            },
        );
        assert_eq!(
            check(&config, &[0; 32], None, POSTER, &post("привет", None)),
            Verdict::Pass
        );
        assert!(matches!(
            check(&config, &[0; 32], None, POSTER, &post("مرحبا", None)),
            Verdict::Reject(..)
        ));
    }

    #[test]
    fn profanity_after_alphabets_on_body_and_name() {
        let words = WordList::from_words(["kumquat"], 1);
        let w = Some(&words);
        let mut config = Config::default();
        assert!(!profanity_enabled(&config));
        assert_eq!(
            check(&config, &[0; 32], w, POSTER, &post("a kumquat!", None)),
            Verdict::Pass
        );
        config.profanity_filter = true;
        assert!(profanity_enabled(&config));
        assert_eq!(
            check(&config, &[0; 32], w, POSTER, &post("a kumqu@7!", None)),
            Verdict::Silent(None)
        );
        assert_eq!(
            check(
                &config,
                &[0; 32],
                w,
                POSTER,
                &post("hi", Some("Mr Kumquat"))
            ),
            Verdict::Silent(None)
        );
        assert_eq!(
            check(&config, &[0; 32], w, POSTER, &post("a kumquats", None)),
            Verdict::Pass
        );
        config.profanity_silent = false;
        assert!(matches!(
            check(&config, &[0; 32], w, POSTER, &post("kumquat pie", None)),
            Verdict::Reject("filtration rejected message (profanity)", None)
        ));
        // The alphabet filter is checked first and names itself.
        config.alphabet_filters.insert("cyrillic".into());
        config.alphabet_silent = false;
        assert!(matches!(
            check(&config, &[0; 32], w, POSTER, &post("kumquat привет", None)),
            Verdict::Reject("filtration rejected message (alphabet)", None)
        ));
        // A room override turns it off (or on) for one room.
        config.room_overrides.insert(
            "lobby".into(),
            crate::config::RoomOverrides {
                profanity_filter: Some(false),
                alphabet_filters: Some(Default::default()),
                ..Default::default()
            },
        );
        assert_eq!(
            check(&config, &[0; 32], w, POSTER, &post("kumquat pie", None)),
            Verdict::Pass
        );
        config.profanity_filter = false;
        config.room_overrides.insert(
            "lobby".into(),
            crate::config::RoomOverrides {
                profanity_filter: Some(true),
                profanity_silent: Some(true),
                ..Default::default()
            },
        );
        assert!(profanity_enabled(&config));
        assert_eq!(
            check(&config, &[0; 32], w, POSTER, &post("kumquat pie", None)),
            Verdict::Silent(None)
        );
    }

    #[test]
    fn replies() {
        let mut config = Config::default();
        config.alphabet_filters.insert("cyrillic".into());
        config.filters.insert(
            ("*".into(), "*".into()),
            FilterSettings {
                reply: Some(vec![r"Sorry \p (\@), no Cyrillic in \r [\t] \\o/".into()]),
                ..Default::default()
            },
        );
        config.filters.insert(
            ("lobby".into(), "cyrillic".into()),
            FilterSettings {
                profile_name: Some("Bot".into()),
                public: Some(true),
                ..Default::default()
            },
        );
        let Verdict::Silent(Some(reply)) = check(
            &config,
            &[7; 32],
            None,
            POSTER,
            &post("привет", Some("Ann")),
        ) else {
            panic!("expected a reply");
        };
        assert!(!reply.whisper);
        assert!(reply.data.ends_with(&[0x80, 0x00]));
        let c = Content::decode(&reply.data[..reply.data.len() - 2]).unwrap();
        let dm = c.data_message.unwrap();
        assert_eq!(
            dm.body.unwrap(),
            r"Sorry Ann (@15aa), no Cyrillic in Lobby [lobby] \o/"
        );
        assert_eq!(dm.profile.unwrap().display_name.unwrap(), "Bot");
        let key = bot_key("Bot", &[7; 32]);
        assert_eq!(
            reply.session_id,
            format!("15{}", hex::encode(key.verifying_key().as_bytes()))
        );
        key.verifying_key()
            .verify_strict(
                &reply.data,
                &ed25519_dalek::Signature::from_bytes(&reply.signature),
            )
            .unwrap();
    }
}
