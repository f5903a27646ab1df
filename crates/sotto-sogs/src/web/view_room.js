// The room page's message list (sogs.md §5): fetch the room's recent messages from the public
// API as an anonymous caller, decode each one in the browser and show "displayName: body".
//
// A message's `data` is base64 of a Session `Content` protobuf followed by Session's padding
// (one 0x80 byte, then zeros). Only three fields are needed, so instead of a protobuf library
// this file carries a minimal reader for them (field numbers from /static/session.proto):
//   Content.dataMessage = 1, DataMessage.body = 1, DataMessage.profile = 101,
//   LokiProfile.displayName = 1.
"use strict";

(() => {
  const CONTENT_DATA_MESSAGE = 1;
  const DATA_MESSAGE_BODY = 1;
  const DATA_MESSAGE_PROFILE = 101;
  const PROFILE_DISPLAY_NAME = 1;
  // Protobuf wire types.
  const VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

  const list = document.getElementById("messages");
  if (!list) {
    return;
  }
  const url = list.dataset.pollUrl;
  const interval = Number(list.dataset.interval) || 5000;
  const utf8 = new TextDecoder("utf-8");

  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  // Session padding: the content, one 0x80, then any number of zeros.
  const unpad = (bytes) => {
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) {
      end--;
    }
    if (end > 0 && bytes[end - 1] === 0x80) {
      end--;
    }
    return bytes.subarray(0, end);
  };

  // The fields of one protobuf message as {number: [values]}, values being the raw bytes of
  // length-delimited fields (other wire types are skipped). Throws on malformed input.
  const fields = (bytes) => {
    let pos = 0;
    const varint = () => {
      let value = 0;
      for (let scale = 1, i = 0; i < 10; i++, scale *= 128) {
        if (pos >= bytes.length) {
          throw new Error("truncated varint");
        }
        const b = bytes[pos++];
        value += (b & 0x7f) * scale;
        if (b < 0x80) {
          return value;
        }
      }
      throw new Error("varint too long");
    };
    const skip = (n) => {
      if (n > bytes.length - pos) {
        throw new Error("truncated field");
      }
      pos += n;
    };
    const out = {};
    while (pos < bytes.length) {
      const key = varint();
      const number = Math.floor(key / 8);
      const wire = key % 8;
      if (wire === VARINT) {
        varint();
      } else if (wire === FIXED64) {
        skip(8);
      } else if (wire === FIXED32) {
        skip(4);
      } else if (wire === LENGTH_DELIMITED) {
        const len = varint();
        const start = pos;
        skip(len);
        (out[number] = out[number] || []).push(bytes.subarray(start, pos));
      } else {
        throw new Error(`unsupported wire type ${wire}`);
      }
    }
    return out;
  };

  // The last occurrence of a field (protobuf's rule for singular fields), or undefined.
  const last = (values) => (values ? values[values.length - 1] : undefined);

  // {name, body} of a padded Content, or null when it is not a text message.
  const decode = (data) => {
    const dataMessage = last(fields(unpad(fromBase64(data)))[CONTENT_DATA_MESSAGE]);
    if (!dataMessage) {
      return null;
    }
    const dm = fields(dataMessage);
    const body = last(dm[DATA_MESSAGE_BODY]);
    if (body === undefined) {
      return null;
    }
    const profile = last(dm[DATA_MESSAGE_PROFILE]);
    const name = profile && last(fields(profile)[PROFILE_DISPLAY_NAME]);
    return {
      name: name === undefined ? null : utf8.decode(name),
      body: utf8.decode(body),
    };
  };

  // Text only: nothing from a message ever becomes markup.
  const show = (items) => {
    list.replaceChildren(
      ...items.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }),
    );
  };

  const update = async () => {
    let messages;
    try {
      const resp = await fetch(url, { credentials: "omit" });
      if (resp.status !== 200) {
        show([`cannot load messages: HTTP ${resp.status}`]);
        return;
      }
      messages = await resp.json();
    } catch (e) {
      show([`cannot load messages: ${e}`]);
      return;
    }
    if (!Array.isArray(messages) || messages.length === 0) {
      show(["No messages yet."]);
      return;
    }
    const lines = [];
    // The API lists the newest first; read top to bottom.
    for (const msg of messages.slice().reverse()) {
      if (!msg || typeof msg.data !== "string") {
        continue;
      }
      try {
        const m = decode(msg.data);
        if (m) {
          const sender = m.name ?? `${String(msg.session_id).slice(0, 8)}…`;
          lines.push(`${sender}: ${m.body}`);
        }
      } catch (e) {
        console.log(`message ${msg.id}: ${e}`);
      }
    }
    show(lines.length ? lines : ["No text messages yet."]);
  };

  if (url) {
    update();
    setInterval(update, interval);
  } else {
    show(["no poll URL set"]);
  }
})();
