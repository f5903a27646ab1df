//! Padding: both schemes' lengths and round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use sotto_message::padding::{pad, pad_legacy, unpad, PADDING_BLOCK};

proptest! {
    #[test]
    fn libsession_padding_round_trips(content in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let padded = pad(&content);
        prop_assert_eq!(padded.len() % PADDING_BLOCK, 0);
        prop_assert!(padded.len() > content.len() + 1);
        prop_assert!(padded.len() <= content.len() + 1 + PADDING_BLOCK);
        prop_assert_eq!(unpad(&padded), content.as_slice());
    }

    #[test]
    fn legacy_padding_round_trips(content in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let padded = pad_legacy(&content);
        prop_assert_eq!((padded.len() + 1) % PADDING_BLOCK, 0);
        prop_assert!(padded.len() > content.len());
        prop_assert_eq!(unpad(&padded), content.as_slice());
    }

    #[test]
    fn unpadded_protobuf_passes_through(mut content in proptest::collection::vec(any::<u8>(), 1..500), last in 1u8..0x80) {
        // Content whose last byte is neither zero nor the marker is left whole.
        *content.last_mut().unwrap() = last;
        prop_assert_eq!(unpad(&content), content.as_slice());
    }
}
