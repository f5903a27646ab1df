//! Messages as PySOGS's `get_messages_for` returns them, written straight into the response
//! body.
//!
//! A poll from seqno 0 lists 300 messages; building a `serde_json::Value` tree per message, then
//! escaping its base64 strings byte by byte, was a visible share of the server's time
//! (`docs/benchmarks.md`). Here each row is written once: base64 is encoded in place (its
//! alphabet never needs JSON escaping), padding goes through one reused buffer, and numbers
//! (floats: the shortest round-trip form, `null` if not finite) and free text still go through
//! `serde_json`, so they are formatted and escaped exactly as before.
//! Keys come in sorted order, the order of a `serde_json::Map` (no `preserve_order`), so the
//! bytes are the same as the `Value` path's; tests/pysogs_types.rs and tests/pysogs_fixture.rs
//! check the shape against PySOGS.

use std::io;

use base64::Engine as _;

use crate::store::{MessageRow, ReactionInfo};
use crate::util;

/// JSON bytes of a few fields per message besides data and signature (ids, seqno, session ID,
/// times, keys), used only to size the output buffer once.
const ROW_OVERHEAD: usize = 256;

/// Most bytes reserved up front: sizes come from the database, and a list bigger than this
/// (256 messages of the largest kind) grows as a `Vec` does rather than trusting them.
const PRESIZE_CAP: usize = 8 * 1024 * 1024;

/// Writes messages into one buffer.
#[derive(Debug)]
pub(super) struct MessageWriter {
    out: Vec<u8>,
    /// Padded data of the message being written.
    padded: Vec<u8>,
}

/// One message to write.
pub(super) struct Item<'a> {
    pub(super) row: &'a MessageRow,
    /// Only its reactions changed since the poller's seqno: id, seqno and reactions only.
    pub(super) reaction_only: bool,
    pub(super) reactions: Option<&'a [ReactionInfo]>,
}

impl MessageWriter {
    /// A writer sized for `rows`.
    pub(super) fn for_rows(rows: &[MessageRow]) -> Self {
        let size = rows.iter().fold(2usize, |total, r| {
            let data = usize::try_from(r.data_size.unwrap_or(0)).unwrap_or(0);
            // base64 grows 3 bytes to 4; signatures are 64 bytes (88 in base64).
            let row = data
                .div_ceil(3)
                .saturating_mul(4)
                .saturating_add(88 + ROW_OVERHEAD);
            total.saturating_add(row)
        });
        Self {
            out: Vec::with_capacity(size.min(PRESIZE_CAP)),
            padded: Vec::new(),
        }
    }

    /// The written bytes.
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// Messages as a JSON list.
    pub(super) fn list<'a>(&mut self, items: impl IntoIterator<Item = Item<'a>>) -> io::Result<()> {
        self.out.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.message(&item)?;
        }
        self.out.push(b']');
        Ok(())
    }

    /// One message object.
    pub(super) fn message(&mut self, item: &Item<'_>) -> io::Result<()> {
        let row = item.row;
        let mut obj = Object::new(&mut self.out);
        if item.reaction_only {
            obj.key("id");
            serde_json::to_writer(&mut *obj.out, &row.id)?;
            obj.key("reactions");
            reactions(obj.out, item.reactions)?;
            obj.key("seqno");
            serde_json::to_writer(&mut *obj.out, &row.seqno)?;
            obj.end();
            return Ok(());
        }
        obj.key("data");
        match &row.data {
            None => obj.out.extend_from_slice(b"null"),
            Some(data) => {
                let size = usize::try_from(row.data_size.unwrap_or(0)).unwrap_or(0);
                util::add_padding_into(data, size, &mut self.padded);
                base64(obj.out, &self.padded)?;
            }
        }
        if row.data.is_none() {
            obj.key("deleted");
            obj.out.extend_from_slice(b"true");
        }
        if let Some(edited) = &row.edited {
            obj.key("edited");
            serde_json::to_writer(&mut *obj.out, edited)?;
        }
        obj.key("id");
        serde_json::to_writer(&mut *obj.out, &row.id)?;
        obj.key("posted");
        serde_json::to_writer(&mut *obj.out, &row.posted)?;
        if row.data.is_some() {
            obj.key("reactions");
            reactions(obj.out, item.reactions)?;
        }
        obj.key("seqno");
        serde_json::to_writer(&mut *obj.out, &row.seqno)?;
        obj.key("session_id");
        serde_json::to_writer(&mut *obj.out, &row.session_id)?;
        if row.data.is_some() {
            obj.key("signature");
            base64(obj.out, row.signature.as_deref().unwrap_or_default())?;
        }
        if row.whisper_to.is_some() || row.whisper_mods {
            obj.key("whisper");
            obj.out.extend_from_slice(b"true");
            // PySOGS on SQLite serves the stored column as is: 0 or 1, not a JSON boolean
            // (tests/pysogs_fixture.rs compares it with PySOGS's answers).
            obj.key("whisper_mods");
            serde_json::to_writer(&mut *obj.out, &i64::from(row.whisper_mods))?;
            if let Some(to) = &row.whisper_to {
                obj.key("whisper_to");
                serde_json::to_writer(&mut *obj.out, to)?;
            }
        }
        obj.end();
        Ok(())
    }
}

/// A JSON object being written: `{`, then `,` between members, `}`.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// A member's key (callers pass ASCII literals that need no escaping) and the colon.
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// Standard base64 with padding, as a JSON string, encoded in place.
fn base64(out: &mut Vec<u8>, bytes: &[u8]) -> io::Result<()> {
    let engine = &base64::engine::general_purpose::STANDARD;
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true)
        .ok_or_else(|| io::Error::other("base64 length overflows"))?;
    out.resize(start + len, 0);
    let dst = out
        .get_mut(start..)
        .ok_or_else(|| io::Error::other("base64 buffer"))?;
    engine.encode_slice(bytes, dst).map_err(io::Error::other)?;
    out.push(b'"');
    Ok(())
}

/// A message's reactions: an object keyed by reaction, in key order like a `serde_json::Map`.
fn reactions(out: &mut Vec<u8>, list: Option<&[ReactionInfo]>) -> io::Result<()> {
    let mut sorted: Vec<&ReactionInfo> = list.into_iter().flatten().collect();
    sorted.sort_by(|a, b| a.reaction.cmp(&b.reaction));
    // A map keeps the last of equal keys; the store never returns two (one row per reaction).
    sorted.dedup_by(|later, earlier| {
        let same = later.reaction == earlier.reaction;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    out.push(b'{');
    for (i, r) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &r.reaction)?;
        out.push(b':');
        let mut obj = Object::new(out);
        obj.key("count");
        serde_json::to_writer(&mut *obj.out, &r.count)?;
        obj.key("index");
        serde_json::to_writer(&mut *obj.out, &r.index)?;
        if !r.reactors.is_empty() {
            obj.key("reactors");
            serde_json::to_writer(&mut *obj.out, &r.reactors)?;
        }
        if r.you {
            obj.key("you");
            obj.out.extend_from_slice(b"true");
        }
        obj.end();
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn row(data: Option<&[u8]>) -> MessageRow {
        MessageRow {
            id: 7,
            session_id: "15".to_owned() + &"ab".repeat(32),
            posted: 1_733_600_000.123_456,
            edited: None,
            seqno: 9,
            seqno_data: 9,
            seqno_reactions: 0,
            data: data.map(<[u8]>::to_vec),
            data_size: data.map(|d| i64::try_from(d.len()).unwrap_or(0) + 5),
            signature: data.map(|_| vec![3; 64]),
            whisper_to: None,
            whisper_mods: false,
        }
    }

    fn write(item: &Item<'_>) -> Vec<u8> {
        let mut w = MessageWriter::for_rows(std::slice::from_ref(item.row));
        w.message(item).ok();
        w.into_bytes()
    }

    fn reaction(text: &str, index: usize, you: bool, reactors: &[&str]) -> ReactionInfo {
        ReactionInfo {
            reaction: text.to_owned(),
            index,
            count: 2,
            you,
            reactors: reactors.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The bytes equal those of the `serde_json::Value` the old code built (sorted keys,
    /// compact): a live message with reactions that need escaping, and a whisper.
    #[test]
    fn same_bytes_as_a_value_tree() {
        let mut live = row(Some(b"hello \"world\""));
        live.edited = Some(1_733_600_001.5);
        live.whisper_to = Some("05".to_owned() + &"cd".repeat(32));
        let reacts = [
            reaction("😀", 1, true, &["05aa"]),
            reaction("\"q\"\n", 0, false, &[]),
        ];
        let got = write(&Item {
            row: &live,
            reaction_only: false,
            reactions: Some(&reacts),
        });
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let expected = json!({
            "id": 7, "seqno": 9, "session_id": live.session_id, "posted": live.posted,
            "data": b64(&util::add_padding(b"hello \"world\"", 18)),
            "signature": b64(&[3; 64]),
            "reactions": {
                "😀": {"index": 1, "count": 2, "you": true, "reactors": ["05aa"]},
                "\"q\"\n": {"index": 0, "count": 2},
            },
            "edited": 1_733_600_001.5,
            "whisper": true, "whisper_mods": 0, "whisper_to": live.whisper_to,
        });
        assert_eq!(
            String::from_utf8_lossy(&got),
            serde_json::to_string(&expected).unwrap_or_default()
        );
    }

    /// A deleted message: `data: null`, `deleted: true`, no signature or reactions.
    #[test]
    fn deleted_message() {
        let mut gone = row(None);
        gone.edited = Some(1_733_600_002.0);
        gone.whisper_mods = true;
        let got = write(&Item {
            row: &gone,
            reaction_only: false,
            reactions: None,
        });
        let value: Value = serde_json::from_slice(&got).unwrap_or_default();
        assert_eq!(
            value,
            json!({"id": 7, "seqno": 9, "session_id": gone.session_id, "posted": gone.posted,
                "data": null, "deleted": true, "edited": 1_733_600_002.0,
                "whisper": true, "whisper_mods": 1})
        );
        assert_eq!(
            String::from_utf8_lossy(&got),
            serde_json::to_string(&value).unwrap_or_default()
        );
    }

    /// A reaction-only update carries id, seqno and reactions, nothing else.
    #[test]
    fn reaction_only_update() {
        let live = row(Some(b"x"));
        let got = write(&Item {
            row: &live,
            reaction_only: true,
            reactions: None,
        });
        assert_eq!(got, br#"{"id":7,"reactions":{},"seqno":9}"#);
    }

    /// Non-finite times cannot come from SQLite REAL columns we write, but are `null` as
    /// `serde_json` writes them, not invalid JSON.
    #[test]
    fn non_finite_time_is_null() {
        let mut odd = row(Some(b""));
        odd.posted = f64::NAN;
        let got = write(&Item {
            row: &odd,
            reaction_only: false,
            reactions: None,
        });
        let value: Value = serde_json::from_slice(&got).unwrap_or_default();
        assert_eq!(value["posted"], Value::Null);
    }
}
