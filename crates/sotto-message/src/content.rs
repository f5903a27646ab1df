//! Conveniences on the generated message types.

use crate::proto::{Content, DataMessage};

impl Content {
    /// A plain text message.
    pub fn text(body: impl Into<String>) -> Self {
        Content {
            data_message: Some(DataMessage {
                body: Some(body.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The text of a data message, if this is one with a body.
    pub fn body(&self) -> Option<&str> {
        self.data_message.as_ref()?.body.as_deref()
    }
}
